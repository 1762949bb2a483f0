// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Convolution with NHWC activations and HWIO weights (KernelEngine::conv2d_nhwc).
//
// 3x3 stride-1 filters run Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", CVPR 2016, section 4). With the interpolation
// points 0, 1, -1, 2, -2 and infinity, a 4x4 output tile is
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
// over the tile's 6x6 input patch d and the 3x3 filter g; summed over the input channels, the
// elementwise product (.) becomes 36 independent GEMMs, one per point p of the 6x6 transform:
//   M[p] (tiles x K) = U[p] (tiles x C) * V[p] (C x K).
// That is 36 multiplies per tile and channel pair where direct convolution needs 16 x 9 = 144.
// Tiles go through in blocks of `tiles_per_block`, so U and M stay in cache between the input
// transform, the GEMMs and the output transform. Channels are the innermost dimension
// everywhere, so every transform is a loop over channel vectors, compiled once per ISA level.
//
// Other shapes run im2col + sgemm, a few output rows at a time: HWIO weights are already the
// (R*S*C) x K matrix, and each im2col row is the R x S x C patch of one output pixel.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/engine_impl.hpp"

namespace tierjit::kernels {

namespace {

constexpr int64_t kPoints = 36;  // the 6x6 transform domain of F(4x4, 3x3)
// im2col block: a few output rows of columns, small enough to stay in L2 for the sgemm
// that reads them right after they are written.
constexpr int64_t kIm2colBytes = int64_t(1) << 19;

#define TJ_WINO_INLINE [[gnu::always_inline]] inline

// The 1-D transforms, each applied to `n` channels at once: element i of the input is the
// channel vector at s + i * ss, element j of the output the one at t + j * ts.
// B^T (6x6): the input transform.
TJ_WINO_INLINE void bt6(const float* __restrict s, int64_t ss, float* __restrict t, int64_t ts,
                        int64_t n) {
  for (int64_t c = 0; c < n; ++c) {
    float d0 = s[c], d1 = s[c + ss], d2 = s[c + 2 * ss], d3 = s[c + 3 * ss], d4 = s[c + 4 * ss],
          d5 = s[c + 5 * ss];
    t[c] = 4.0f * d0 - 5.0f * d2 + d4;
    t[c + ts] = d3 + d4 - 4.0f * (d1 + d2);
    t[c + 2 * ts] = 4.0f * (d1 - d2) + d4 - d3;
    t[c + 3 * ts] = 2.0f * (d3 - d1) + d4 - d2;
    t[c + 4 * ts] = 2.0f * (d1 - d3) + d4 - d2;
    t[c + 5 * ts] = 4.0f * d1 - 5.0f * d3 + d5;
  }
}

// G (6x3): the filter transform.
TJ_WINO_INLINE void g6(const float* __restrict s, int64_t ss, float* __restrict t, int64_t ts,
                       int64_t n) {
  for (int64_t c = 0; c < n; ++c) {
    float g0 = s[c], g1 = s[c + ss], g2 = s[c + 2 * ss];
    float even = g0 + g2;
    t[c] = 0.25f * g0;
    t[c + ts] = -(even + g1) * (1.0f / 6.0f);
    t[c + 2 * ts] = -(even - g1) * (1.0f / 6.0f);
    float q = g0 * (1.0f / 24.0f) + g2 * (1.0f / 6.0f);
    t[c + 3 * ts] = q + g1 * (1.0f / 12.0f);
    t[c + 4 * ts] = q - g1 * (1.0f / 12.0f);
    t[c + 5 * ts] = g2;
  }
}

// A^T (4x6): the output transform.
TJ_WINO_INLINE void at4(const float* __restrict s, int64_t ss, float* __restrict t, int64_t ts,
                        int64_t n) {
  for (int64_t c = 0; c < n; ++c) {
    float m0 = s[c], m1 = s[c + ss], m2 = s[c + 2 * ss], m3 = s[c + 3 * ss], m4 = s[c + 4 * ss],
          m5 = s[c + 5 * ss];
    float a = m1 + m2, b = m1 - m2, p = m3 + m4, q = m3 - m4;
    t[c] = m0 + a + p;
    t[c + ts] = b + 2.0f * q;
    t[c + 2 * ts] = a + 4.0f * p;
    t[c + 3 * ts] = b + 8.0f * q + m5;
  }
}

struct WinogradShape {
  int64_t n, h, w, c, k, pad_h, pad_w, oh, ow, tiles_h, tiles_w;
};

// V[p][c][k] = (G g G^T)[p] for every input channel c and output channel k; w is HWIO.
TJ_WINO_INLINE void transform_filter(const WinogradShape& d, const float* w, float* v, float* tmp) {
  int64_t C = d.c, K = d.k;
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t s = 0; s < 3; ++s) g6(w + (s * C + c) * K, 3 * C * K, tmp + s * K, 3 * K, K);
    for (int64_t i = 0; i < 6; ++i) g6(tmp + i * 3 * K, K, v + (i * 6 * C + c) * K, C * K, K);
  }
}

// U[p][slot][c] for the tile with index `tile` (image, tile row, tile column), where U's
// point stride is `ps` elements. patch and tmp hold 36 channel vectors each.
TJ_WINO_INLINE void transform_tile_input(const WinogradShape& d, const float* x, int64_t tile,
                                         float* u, int64_t ps, float* patch, float* tmp) {
  int64_t C = d.c;
  int64_t tx = tile % d.tiles_w, ty = (tile / d.tiles_w) % d.tiles_h,
          img = tile / (d.tiles_w * d.tiles_h);
  int64_t ih0 = ty * 4 - d.pad_h, iw0 = tx * 4 - d.pad_w;
  const float* base = x + img * d.h * d.w * C;
  for (int64_t r = 0; r < 6; ++r) {
    float* row = patch + r * 6 * C;
    int64_t ih = ih0 + r;
    if (ih < 0 || ih >= d.h) {
      std::memset(row, 0, size_t(6 * C) * 4);
      continue;
    }
    int64_t j0 = std::max<int64_t>(0, -iw0), j1 = std::min<int64_t>(6, d.w - iw0);
    if (j1 < j0) j1 = j0;
    if (j0 > 0) std::memset(row, 0, size_t(j0 * C) * 4);
    if (j1 > j0)
      std::memcpy(row + j0 * C, base + (ih * d.w + iw0 + j0) * C, size_t((j1 - j0) * C) * 4);
    if (j1 < 6) std::memset(row + j1 * C, 0, size_t((6 - j1) * C) * 4);
  }
  for (int64_t j = 0; j < 6; ++j) bt6(patch + j * C, 6 * C, tmp + j * C, 6 * C, C);
  for (int64_t i = 0; i < 6; ++i) bt6(tmp + i * 6 * C, C, u + i * 6 * ps, ps, C);
}

// Y's 4x4 tile from M[p][slot][k] (point stride ps), plus the bias, clipped to the image.
TJ_WINO_INLINE void transform_tile_output(const WinogradShape& d, const float* m, int64_t ps,
                                          const float* bias, int64_t tile, float* y, float* tmp,
                                          float* out) {
  int64_t K = d.k;
  for (int64_t i = 0; i < 6; ++i) at4(m + i * 6 * ps, ps, tmp + i * 4 * K, K, K);
  for (int64_t j = 0; j < 4; ++j) at4(tmp + j * K, 4 * K, out + j * K, 4 * K, K);
  int64_t tx = tile % d.tiles_w, ty = (tile / d.tiles_w) % d.tiles_h,
          img = tile / (d.tiles_w * d.tiles_h);
  int64_t rows = std::min<int64_t>(4, d.oh - ty * 4), cols = std::min<int64_t>(4, d.ow - tx * 4);
  for (int64_t i = 0; i < rows; ++i) {
    float* dst = y + ((img * d.oh + ty * 4 + i) * d.ow + tx * 4) * K;
    const float* src = out + i * 4 * K;
    if (bias == nullptr) {
      std::memcpy(dst, src, size_t(cols * K) * 4);
      continue;
    }
    for (int64_t j = 0; j < cols; ++j)
      for (int64_t k = 0; k < K; ++k) dst[j * K + k] = src[j * K + k] + bias[k];
  }
}

// One ISA level's transforms: each entry point below is compiled with its target's vectors.
#define TJ_WINO_TRANSFORMS(SUFFIX, ATTR)                                                           \
  ATTR void filter_##SUFFIX(const WinogradShape& d, const float* w, float* v, float* tmp) {        \
    transform_filter(d, w, v, tmp);                                                                \
  }                                                                                                \
  ATTR void input_##SUFFIX(const WinogradShape& d, const float* x, int64_t t0, int64_t nt,         \
                           float* u, float* patch, float* tmp) {                                   \
    for (int64_t t = 0; t < nt; ++t)                                                               \
      transform_tile_input(d, x, t0 + t, u + t * d.c, nt * d.c, patch, tmp);                       \
  }                                                                                                \
  ATTR void output_##SUFFIX(const WinogradShape& d, const float* m, const float* bias, int64_t t0, \
                            int64_t nt, float* y, float* tmp, float* out) {                        \
    for (int64_t t = 0; t < nt; ++t)                                                               \
      transform_tile_output(d, m + t * d.k, nt * d.k, bias, t0 + t, y, tmp, out);                  \
  }

TJ_WINO_TRANSFORMS(avx512, [[gnu::target("avx512f,avx512dq,avx512vl,avx512bw,fma,"
                                         "prefer-vector-width=512")]])
TJ_WINO_TRANSFORMS(avx2, [[gnu::target("avx2,fma")]])
TJ_WINO_TRANSFORMS(generic, )

struct Transforms {
  void (*filter)(const WinogradShape&, const float*, float*, float*);
  void (*input)(const WinogradShape&, const float*, int64_t, int64_t, float*, float*, float*);
  void (*output)(const WinogradShape&, const float*, const float*, int64_t, int64_t, float*, float*,
                 float*);
};

Transforms transforms_for(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return {filter_avx512, input_avx512, output_avx512};
    case Isa::kAvx2:
      return {filter_avx2, input_avx2, output_avx2};
    case Isa::kScalar:
      break;
  }
  return {filter_generic, input_generic, output_generic};
}

// Tiles per block: U and M (36 x tiles x channels each) within about 1.5 MB, 16 to 128 tiles.
// Longer GEMMs beat L2 residency here (ResNet block, 56x56x64: 28 tiles 1.65 ms, 80-96 tiles
// 1.37-1.42 ms, 256 tiles 1.59 ms).
int64_t tiles_per_block(const WinogradShape& d) {
  int64_t per_tile = kPoints * (d.c + d.k) * 4;
  return std::clamp<int64_t>((int64_t(3) << 19) / per_tile, 16, 128);
}

WinogradShape winograd_shape(const Conv2dDesc& d) {
  WinogradShape s{d.n, d.h, d.w, d.c, d.k, d.pad_h, d.pad_w, d.out_h(), d.out_w(), 0, 0};
  s.tiles_h = (s.oh + 3) / 4;
  s.tiles_w = (s.ow + 3) / 4;
  return s;
}

// Output rows per im2col block: about kIm2colBytes of columns, at least one row.
int64_t im2col_rows(const Conv2dDesc& d) {
  int64_t row_bytes = d.out_w() * d.r * d.s * d.c * 4;
  return std::clamp<int64_t>(kIm2colBytes / std::max<int64_t>(1, row_bytes), 1, d.out_h());
}

// n floats, 16 at a time through fixed-size copies the compiler inlines (a memcpy call per
// pixel costs more than the copy at these sizes).
inline void copy_channels(float* __restrict dst, const float* __restrict src, int64_t n) {
  int64_t c = 0;
  for (; c + 16 <= n; c += 16) std::memcpy(dst + c, src + c, 64);
  for (; c < n; ++c) dst[c] = src[c];
}

// Columns for output rows [p0, p0 + np) of image `img`: the row of output pixel (p, q) is its
// R x S x C patch. Walks each filter tap (r, s) along an output row, where the valid pixels
// are one run (zeros on both sides): a strided copy of C channels per pixel.
void im2col_nhwc(const Conv2dDesc& d, const float* x, int64_t img, int64_t p0, int64_t np,
                 float* col) {
  int64_t OW = d.out_w(), C = d.c, patch = d.r * d.s * C;
  const float* base = x + img * d.h * d.w * C;
  for (int64_t i = 0; i < np; ++i) {
    int64_t p = p0 + i;
    float* rows = col + i * OW * patch;
    for (int64_t r = 0; r < d.r; ++r) {
      int64_t ih = p * d.stride_h - d.pad_h + r * d.dilation_h;
      for (int64_t s = 0; s < d.s; ++s) {
        float* dst = rows + (r * d.s + s) * C;
        int64_t off = s * d.dilation_w - d.pad_w;  // iw = q * stride_w + off
        int64_t q0 = 0, q1 = 0;
        if (ih >= 0 && ih < d.h) {
          q0 = off >= 0 ? 0 : std::min(OW, (-off + d.stride_w - 1) / d.stride_w);
          q1 = off >= d.w ? q0 : std::min(OW, (d.w - off + d.stride_w - 1) / d.stride_w);
          q1 = std::max(q0, q1);
        }
        for (int64_t q = 0; q < q0; ++q) std::memset(dst + q * patch, 0, size_t(C) * 4);
        const float* src = q1 > q0 ? base + (ih * d.w + off) * C : nullptr;
        if (C == 1) {
          for (int64_t q = q0; q < q1; ++q) dst[q * patch] = src[q * d.stride_w];
        } else {
          for (int64_t q = q0; q < q1; ++q)
            copy_channels(dst + q * patch, src + q * d.stride_w * C, C);
        }
        for (int64_t q = q1; q < OW; ++q) std::memset(dst + q * patch, 0, size_t(C) * 4);
      }
    }
  }
}

}  // namespace

bool winograd_eligible(const Conv2dDesc& d) {
  return d.r == 3 && d.s == 3 && d.stride_h == 1 && d.stride_w == 1 && d.dilation_h == 1 &&
         d.dilation_w == 1 && d.c >= kWinogradMinChannels && d.k >= kWinogradMinChannels &&
         d.out_h() >= 4 && d.out_w() >= 4;
}

// The GEMMs conv2d_nhwc runs for `d` (one or two shapes: full blocks and the last one).
std::vector<GemmDesc> conv2d_nhwc_gemms(const Conv2dDesc& d) {
  std::vector<GemmDesc> out;
  auto add = [&](int64_t m, int64_t n, int64_t k) {
    if (std::none_of(out.begin(), out.end(), [&](const GemmDesc& o) { return o.m == m; }))
      out.push_back(GemmDesc::row_major(m, n, k));
  };
  if (winograd_eligible(d)) {
    WinogradShape s = winograd_shape(d);
    int64_t total = s.n * s.tiles_h * s.tiles_w, tb = tiles_per_block(s);
    add(std::min(tb, total), d.k, d.c);
    if (total > tb && total % tb != 0) add(total % tb, d.k, d.c);
    return out;
  }
  int64_t pixels = d.out_h() * d.out_w(), patch = d.r * d.s * d.c;
  bool direct = pointwise(d);
  if (direct) {
    add(d.n * pixels, d.k, d.c);
    return out;
  }
  int64_t rows = im2col_rows(d), oh = d.out_h();
  add(rows * d.out_w(), d.k, patch);
  if (oh % rows != 0) add(oh % rows * d.out_w(), d.k, patch);
  return out;
}

Status KernelEngine::conv2d_nhwc(const Conv2dDesc& d, const float* x, const float* w,
                                 const float* bias, float* y) {
  TJ_ASSIGN_OR_RETURN(ConvSizes sz, conv2d_sizes("conv2d_nhwc", d));
  TJ_TRY(check_conv2d_buffers("conv2d_nhwc", d, sz, x, w, bias, y));
  if (sz.y == 0) return {};
  Impl& im = *impl_;
  int64_t K = d.k, C = d.c;
  if (winograd_eligible(d)) {
    im.winograd_convs.fetch_add(1, std::memory_order_relaxed);
    WinogradShape s = winograd_shape(d);
    Transforms tf = transforms_for(im.isa);
    int64_t total = s.n * s.tiles_h * s.tiles_w, tb = std::min(tiles_per_block(s), total);
    thread_local std::vector<float> v, u, m, scratch;
    v.resize(size_t(kPoints * C * K));
    u.resize(size_t(kPoints * tb * C));
    m.resize(size_t(kPoints * tb * K));
    int64_t vec = std::max(C, K);
    scratch.resize(size_t(3 * kPoints * vec));
    float *patch = scratch.data(), *tmp = patch + kPoints * vec, *out = tmp + kPoints * vec;
    tf.filter(s, w, v.data(), tmp);
    for (int64_t t0 = 0; t0 < total; t0 += tb) {
      int64_t nt = std::min(tb, total - t0);
      tf.input(s, x, t0, nt, u.data(), patch, tmp);
      GemmDesc g = GemmDesc::row_major(nt, K, C);
      for (int64_t p = 0; p < kPoints; ++p)
        TJ_TRY(sgemm(g, 1.0f, u.data() + p * nt * C, v.data() + p * C * K, 0.0f,
                     m.data() + p * nt * K));
      tf.output(s, m.data(), bias, t0, nt, y, tmp, out);
    }
    return {};
  }
  im.im2col_convs.fetch_add(1, std::memory_order_relaxed);
  int64_t pixels = d.out_h() * d.out_w(), patch = d.r * d.s * C;
  bool direct = pointwise(d);
  if (direct) {
    TJ_TRY(sgemm(GemmDesc::row_major(d.n * pixels, K, C), 1.0f, x, w, 0.0f, y));
  } else {
    int64_t rows = im2col_rows(d), oh = d.out_h(), ow = d.out_w();
    thread_local std::vector<float> col;
    col.resize(size_t(rows * ow * patch));
    for (int64_t img = 0; img < d.n; ++img)
      for (int64_t p0 = 0; p0 < oh; p0 += rows) {
        int64_t np = std::min(rows, oh - p0);
        im2col_nhwc(d, x, img, p0, np, col.data());
        TJ_TRY(sgemm(GemmDesc::row_major(np * ow, K, patch), 1.0f, col.data(), w, 0.0f,
                     y + (img * pixels + p0 * ow) * K));
      }
  }
  if (bias != nullptr)
    for (int64_t i = 0; i < d.n * pixels; ++i)
      for (int64_t k = 0; k < K; ++k) y[i * K + k] += bias[k];
  return {};
}

Status KernelEngine::prepare_conv2d_nhwc(const Conv2dDesc& d) {
  TJ_TRY(conv2d_sizes("conv2d_nhwc", d));
  for (const GemmDesc& g : conv2d_nhwc_gemms(d)) TJ_TRY(prepare_sgemm(g, 1.0f, 0.0f));
  return {};
}

}  // namespace tierjit::kernels
