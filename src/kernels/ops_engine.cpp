// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// KernelEngine's non-GEMM kernels: argument checks, the reduction of every call to row
// kernels (ops.hpp), profile-guided dispatch to generated or generic code, and conv2d by
// im2col + sgemm.
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/engine_impl.hpp"
#include "support/hash.hpp"
#include "support/jitdump.hpp"

namespace tierjit::kernels {

const char* op_name(UnaryOp op) {
  static const char* kNames[] = {"relu", "exp", "tanh", "sigmoid", "gelu"};
  return kNames[int(op)];
}
const char* op_name(BinaryOp op) {
  static const char* kNames[] = {"add", "sub", "mul", "div", "max", "min"};
  return kNames[int(op)];
}
const char* op_name(ReduceOp op) {
  static const char* kNames[] = {"reduce_sum", "reduce_max", "reduce_mean"};
  return kNames[int(op)];
}

std::string OpKey::name() const {
  switch (kind) {
    case OpKind::kUnary:
      return op_name(UnaryOp(op));
    case OpKind::kBinary:
      return op_name(BinaryOp(op));
    case OpKind::kReduceRows:
    case OpKind::kReduceCols:
      return op_name(ReduceOp(op));
    case OpKind::kSoftmax:
      return "softmax";
    case OpKind::kLayerNorm:
      return "layer_norm";
  }
  return "?";
}

std::string OpKey::to_string() const {
  char buf[160];
  switch (kind) {
    case OpKind::kBinary:
      std::snprintf(buf, sizeof buf, "len=%lld a%s row=%lld b%s row=%lld %s", (long long)len,
                    a_bcast ? "[0]" : "[i]", (long long)a_row, b_bcast ? "[0]" : "[i]",
                    (long long)b_row, isa_name(isa));
      break;
    case OpKind::kReduceCols:
      std::snprintf(buf, sizeof buf, "axis=%lld inner=%lld %s", (long long)len, (long long)inner,
                    isa_name(isa));
      break;
    case OpKind::kLayerNorm:
      std::snprintf(buf, sizeof buf, "len=%lld%s%s %s", (long long)len, gamma ? " gamma" : "",
                    beta ? " beta" : "", isa_name(isa));
      break;
    default:
      std::snprintf(buf, sizeof buf, "len=%lld %s", (long long)len, isa_name(isa));
      break;
  }
  return buf;
}

size_t OpKeyHash::operator()(const OpKey& k) const {
  int64_t fields[] = {int64_t(k.kind), k.op,  int64_t(k.isa), k.a_bcast, k.b_bcast, k.gamma,
                      k.beta,          k.len, k.inner,        k.a_row,   k.b_row};
  return size_t(hash64(std::string_view(reinterpret_cast<const char*>(fields), sizeof fields)));
}

int64_t Conv2dDesc::out_h() const {
  if (stride_h <= 0) return 0;
  return (h + 2 * pad_h - dilation_h * (r - 1) - 1) / stride_h + 1;
}
int64_t Conv2dDesc::out_w() const {
  if (stride_w <= 0) return 0;
  return (w + 2 * pad_w - dilation_w * (s - 1) - 1) / stride_w + 1;
}

namespace {

constexpr int kMaxRank = 8;

std::string shape_text(std::span<const int64_t> s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i != 0) t += ',';
    t += std::to_string(s[i]);
  }
  return t + "]";
}

Expected<int64_t> numel2(const char* op, const char* what, int64_t rows, int64_t cols) {
  int64_t dims[] = {rows, cols};
  return numel(op, what, dims);
}

uint64_t now_ns() {
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count());
}

// Outer dimensions of a binary call beyond the kernel's row loop (an odometer).
struct Outer {
  int n = 0;
  int64_t dim[kMaxRank] = {}, sa[kMaxRank] = {}, sb[kMaxRank] = {}, sy[kMaxRank] = {};
};

}  // namespace

Error bad(const char* op, const std::string& msg) {
  return make_error(ErrorCode::kInvalidInput, std::string(op) + ": " + msg);
}

Expected<int64_t> numel(const char* op, const char* what, std::span<const int64_t> shape) {
  if (shape.size() > size_t(kMaxRank)) {
    return bad(op,
               std::string(what) + " has rank " + std::to_string(shape.size()) + " (at most 8)");
  }
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return bad(op, std::string(what) + " shape " + shape_text(shape) + " is negative");
    if (__builtin_mul_overflow(n, d, &n) || n > (int64_t(1) << 58)) {
      return bad(op, std::string(what) + " shape " + shape_text(shape) + " is too large");
    }
  }
  return n;
}

Status need(const char* op, const char* what, const void* p, int64_t n) {
  if (n > 0 && p == nullptr) {
    return bad(op,
               std::string("null buffer for ") + what + " (" + std::to_string(n) + " elements)");
  }
  return {};
}

Status no_overlap(const char* op, const char* what, const float* y, int64_t ny, const float* x,
                  int64_t nx, bool in_place_ok) {
  if (ny == 0 || nx == 0) return {};
  auto y0 = reinterpret_cast<uintptr_t>(y), x0 = reinterpret_cast<uintptr_t>(x);
  if (y0 >= x0 + uintptr_t(nx) * 4 || x0 >= y0 + uintptr_t(ny) * 4) return {};
  if (in_place_ok && y == x && ny == nx) return {};
  return bad(op, std::string("the output overlaps ") + what);
}

std::shared_ptr<OpKernel> KernelEngine::Impl::op_dispatch(const OpKey& key, OpProfile*& prof) {
  uint64_t tick = clock.load(std::memory_order_relaxed) + 1;
  clock.store(tick, std::memory_order_relaxed);
  prof = nullptr;
  OpProfile* p = nullptr;
  {
    std::shared_lock lock(mu);
    auto it = op_profiles.find(key);
    if (it != op_profiles.end()) p = it->second.get();
  }
  if (p == nullptr) {
    std::unique_lock lock(mu);
    auto it = op_profiles.find(key);
    if (it != op_profiles.end()) {
      p = it->second.get();
    } else if (op_profiles.size() < kMaxProfiles) {
      auto np = std::make_unique<OpProfile>();
      np->key = key;
      p = op_profiles.emplace(key, std::move(np)).first->second.get();
    }
  }
  if (p == nullptr) {
    unprofiled_calls.fetch_add(1, std::memory_order_relaxed);
    unprofiled_generic.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  prof = p;
  uint64_t n = p->calls.fetch_add(1, std::memory_order_relaxed) + 1;
  p->last_use.store(tick, std::memory_order_relaxed);
  std::shared_ptr<OpKernel> k;
  if (isa != Isa::kScalar) {
    {
      std::shared_lock lock(mu);
      k = p->kernel;
    }
    if (!k && n >= cfg.compile_threshold) {
      std::lock_guard guard(compile_mu);
      {
        std::shared_lock lock(mu);
        k = p->kernel;
      }
      if (!k && !p->failed) {
        uint64_t t0 = now_ns();
        thread_local std::vector<uint8_t> code;
        auto block = Expected<runtime::CodeBlock>(make_error(ErrorCode::kCompileFailed, ""));
        if (generate_op(key, code).ok()) block = pool->acquire(code.size());
        if (block.ok()) {
          std::memcpy(block->rw, code.data(), code.size());
          if (JitDump* dump = JitDump::get())
            dump->code_load("op kernel", uint64_t(block->rx), code.data(), code.size());
          k = std::make_shared<OpKernel>();
          k->fn = reinterpret_cast<OpFn>(block->rx);
          k->code = *block;
          k->pool = pool;
          k->compile_ns = now_ns() - t0;
          compiles.fetch_add(1, std::memory_order_relaxed);
          compile_ns.fetch_add(k->compile_ns, std::memory_order_relaxed);
          std::unique_lock lock(mu);
          code_bytes += k->code.size;
          p->kernel = k;
          evict_locked(p);
        } else {
          p->failed = true;  // not encodable or pool exhausted: this shape stays generic
          compile_failures.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
  }
  if (!k) p->generic.fetch_add(1, std::memory_order_relaxed);
  return k;
}

void KernelEngine::Impl::run_op(const OpKey& key, const float* x, const float* x2, float* y,
                                int64_t rows, const float* p0, const float* p1) {
  OpProfile* p = nullptr;
  auto k = op_dispatch(key, p);
  uint64_t t0 = __rdtsc();
  if (k) {
    k->fn(x, x2, y, rows, p0, p1);
  } else {
    run_op_generic(key, x, x2, y, rows, p0, p1);
  }
  if (p != nullptr) p->cycles.fetch_add(__rdtsc() - t0, std::memory_order_relaxed);
}

Status KernelEngine::unary(UnaryOp op, int64_t n, const float* x, float* y) {
  TJ_ASSIGN_OR_RETURN(int64_t count, numel(op_name(op), "x", std::span(&n, 1)));
  TJ_TRY(need(op_name(op), "x", x, count));
  TJ_TRY(need(op_name(op), "y", y, count));
  TJ_TRY(no_overlap(op_name(op), "x", y, count, x, count, true));
  if (count == 0) return {};
  OpKey key;
  key.kind = OpKind::kUnary, key.op = uint8_t(op), key.isa = impl_->isa, key.len = count;
  impl_->run_op(key, x, nullptr, y, 1);
  return {};
}

Status KernelEngine::binary(BinaryOp op, std::span<const int64_t> a_shape, const float* a,
                            std::span<const int64_t> b_shape, const float* b, float* y) {
  const char* name = op_name(op);
  TJ_ASSIGN_OR_RETURN(int64_t na, numel(name, "a", a_shape));
  TJ_ASSIGN_OR_RETURN(int64_t nb, numel(name, "b", b_shape));
  int rank = int(std::max(a_shape.size(), b_shape.size()));
  int64_t out[kMaxRank], da[kMaxRank], db[kMaxRank];
  for (int i = 0; i < rank; ++i) {
    int ia = i - (rank - int(a_shape.size())), ib = i - (rank - int(b_shape.size()));
    da[i] = ia >= 0 ? a_shape[ia] : 1;
    db[i] = ib >= 0 ? b_shape[ib] : 1;
    if (da[i] != db[i] && da[i] != 1 && db[i] != 1) {
      return bad(name, "shapes " + shape_text(a_shape) + " and " + shape_text(b_shape) +
                           " do not broadcast (dimension " + std::to_string(i) + ")");
    }
    out[i] = da[i] == 1 ? db[i] : da[i];
  }
  TJ_ASSIGN_OR_RETURN(int64_t ny, numel(name, "y", std::span<const int64_t>(out, rank)));
  TJ_TRY(need(name, "a", a, na));
  TJ_TRY(need(name, "b", b, nb));
  TJ_TRY(need(name, "y", y, ny));
  TJ_TRY(no_overlap(name, "a", y, ny, a, na, true));
  TJ_TRY(no_overlap(name, "b", y, ny, b, nb, true));
  if (ny == 0) return {};

  // Dimensions with per-operand element strides (0 where broadcast), size-1 dims dropped,
  // neighbours merged when both operands (and y) are contiguous across them.
  int64_t dim[kMaxRank], sa[kMaxRank], sb[kMaxRank];
  int nd = 0;
  int64_t ca = 1, cb = 1;
  int64_t ra[kMaxRank], rb[kMaxRank];  // contiguous strides of a and b in their own shapes
  for (int i = rank - 1; i >= 0; --i) {
    ra[i] = ca, rb[i] = cb;
    ca *= da[i], cb *= db[i];
  }
  for (int i = 0; i < rank; ++i) {
    if (out[i] == 1) continue;
    dim[nd] = out[i];
    sa[nd] = da[i] == 1 ? 0 : ra[i];
    sb[nd] = db[i] == 1 ? 0 : rb[i];
    ++nd;
  }
  int m = 0;
  for (int i = 0; i < nd; ++i) {
    if (m > 0 && sa[m - 1] == sa[i] * dim[i] && sb[m - 1] == sb[i] * dim[i]) {
      dim[m - 1] *= dim[i];
      sa[m - 1] = sa[i], sb[m - 1] = sb[i];
    } else {
      dim[m] = dim[i], sa[m] = sa[i], sb[m] = sb[i];
      ++m;
    }
  }
  if (m == 0) dim[0] = 1, sa[0] = 0, sb[0] = 0, m = 1;
  OpKey key;
  key.kind = OpKind::kBinary, key.op = uint8_t(op), key.isa = impl_->isa;
  key.len = dim[m - 1];
  key.a_bcast = sa[m - 1] == 0, key.b_bcast = sb[m - 1] == 0;
  int64_t rows = 1;
  if (m >= 2) rows = dim[m - 2], key.a_row = sa[m - 2], key.b_row = sb[m - 2];
  Outer o;
  o.n = std::max(0, m - 2);
  int64_t ystride = key.len * rows;
  for (int i = o.n - 1; i >= 0; --i) {
    o.dim[i] = dim[i], o.sa[i] = sa[i], o.sb[i] = sb[i], o.sy[i] = ystride;
    ystride *= dim[i];
  }
  OpProfile* p = nullptr;
  auto k = impl_->op_dispatch(key, p);
  uint64_t t0 = __rdtsc();
  int64_t idx[kMaxRank] = {};
  const float *pa = a, *pb = b;
  float* py = y;
  for (;;) {
    if (k) {
      k->fn(pa, pb, py, rows, nullptr, nullptr);
    } else {
      run_op_generic(key, pa, pb, py, rows, nullptr, nullptr);
    }
    int d = o.n - 1;
    for (; d >= 0; --d) {  // odometer step over the outer dimensions
      pa += o.sa[d], pb += o.sb[d], py += o.sy[d];
      if (++idx[d] < o.dim[d]) break;
      pa -= o.sa[d] * o.dim[d], pb -= o.sb[d] * o.dim[d], py -= o.sy[d] * o.dim[d];
      idx[d] = 0;
    }
    if (d < 0) break;
  }
  if (p != nullptr) p->cycles.fetch_add(__rdtsc() - t0, std::memory_order_relaxed);
  return {};
}

Status KernelEngine::reduce(ReduceOp op, std::span<const int64_t> shape, int axis, const float* x,
                            float* y) {
  const char* name = op_name(op);
  TJ_ASSIGN_OR_RETURN(int64_t nx, numel(name, "x", shape));
  int rank = int(shape.size());
  if (axis < -rank || axis >= rank) {
    return bad(name,
               "axis " + std::to_string(axis) + " is out of range for shape " + shape_text(shape));
  }
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1, len = shape[axis];
  for (int i = 0; i < axis; ++i) outer *= shape[i];
  for (int i = axis + 1; i < rank; ++i) inner *= shape[i];
  int64_t ny = outer * inner;
  TJ_TRY(need(name, "x", x, nx));
  TJ_TRY(need(name, "y", y, ny));
  TJ_TRY(no_overlap(name, "x", y, ny, x, nx, false));
  if (ny == 0) return {};
  if (len == 0) {
    float v = op == ReduceOp::kSum    ? 0.0f
              : op == ReduceOp::kMean ? std::numeric_limits<float>::quiet_NaN()
                                      : -std::numeric_limits<float>::infinity();
    std::fill(y, y + ny, v);
    return {};
  }
  OpKey key;
  key.op = uint8_t(op), key.isa = impl_->isa, key.len = len;
  if (inner == 1) {
    key.kind = OpKind::kReduceRows;
  } else {
    key.kind = OpKind::kReduceCols, key.inner = inner;
  }
  impl_->run_op(key, x, nullptr, y, outer);
  return {};
}

Status KernelEngine::softmax(int64_t rows, int64_t cols, const float* x, float* y) {
  TJ_ASSIGN_OR_RETURN(int64_t n, numel2("softmax", "x", rows, cols));
  TJ_TRY(need("softmax", "x", x, n));
  TJ_TRY(need("softmax", "y", y, n));
  TJ_TRY(no_overlap("softmax", "x", y, n, x, n, true));
  if (n == 0) return {};
  OpKey key;
  key.kind = OpKind::kSoftmax, key.isa = impl_->isa, key.len = cols;
  impl_->run_op(key, x, nullptr, y, rows);
  return {};
}

Status KernelEngine::layer_norm(int64_t rows, int64_t cols, const float* x, const float* gamma,
                                const float* beta, float eps, float* y) {
  TJ_ASSIGN_OR_RETURN(int64_t n, numel2("layer_norm", "x", rows, cols));
  if (!(eps >= 0.0f) || std::isinf(eps)) {
    return bad("layer_norm", "eps must be finite and >= 0, got " + std::to_string(eps));
  }
  TJ_TRY(need("layer_norm", "x", x, n));
  TJ_TRY(need("layer_norm", "y", y, n));
  TJ_TRY(no_overlap("layer_norm", "x", y, n, x, n, true));
  if (gamma != nullptr) TJ_TRY(no_overlap("layer_norm", "gamma", y, n, gamma, cols, false));
  if (beta != nullptr) TJ_TRY(no_overlap("layer_norm", "beta", y, n, beta, cols, false));
  if (n == 0) return {};
  OpKey key;
  key.kind = OpKind::kLayerNorm, key.isa = impl_->isa, key.len = cols;
  key.gamma = gamma != nullptr, key.beta = beta != nullptr;
  impl_->run_op(key, x, gamma, y, rows, beta, &eps);
  return {};
}

namespace {

// Lowers one image (C x H x W) to the im2col matrix (C*R*S) x (P*Q).
void im2col(const Conv2dDesc& d, const float* x, float* col) {
  int64_t P = d.out_h(), Q = d.out_w();
  for (int64_t c = 0; c < d.c; ++c) {
    for (int64_t r = 0; r < d.r; ++r) {
      for (int64_t s = 0; s < d.s; ++s) {
        float* row = col + ((c * d.r + r) * d.s + s) * P * Q;
        for (int64_t p = 0; p < P; ++p) {
          float* out = row + p * Q;
          int64_t ih = p * d.stride_h - d.pad_h + r * d.dilation_h;
          if (ih < 0 || ih >= d.h) {
            std::fill(out, out + Q, 0.0f);
            continue;
          }
          const float* in = x + (c * d.h + ih) * d.w;
          int64_t off = s * d.dilation_w - d.pad_w;  // iw = q * stride_w + off
          // Valid q: 0 <= q * stride_w + off < w; zeros on both sides.
          int64_t q0 = off >= 0 ? 0 : std::min(Q, (-off + d.stride_w - 1) / d.stride_w);
          int64_t q1 = off >= d.w ? q0 : std::min(Q, (d.w - off + d.stride_w - 1) / d.stride_w);
          q1 = std::max(q0, q1);
          std::fill(out, out + q0, 0.0f);
          if (d.stride_w == 1) {
            std::memcpy(out + q0, in + q0 + off, size_t(q1 - q0) * 4);
          } else {
            for (int64_t q = q0; q < q1; ++q) out[q] = in[q * d.stride_w + off];
          }
          std::fill(out + q1, out + Q, 0.0f);
        }
      }
    }
  }
}

}  // namespace

Expected<ConvSizes> conv2d_sizes(const char* name, const Conv2dDesc& d) {
  if (d.stride_h < 1 || d.stride_w < 1 || d.dilation_h < 1 || d.dilation_w < 1) {
    return bad(name, "stride and dilation must be >= 1");
  }
  if (d.pad_h < 0 || d.pad_w < 0) return bad(name, "padding must be >= 0");
  if (d.c < 1 || d.k < 1 || d.r < 1 || d.s < 1 || d.n < 0 || d.h < 1 || d.w < 1) {
    return bad(name, "dimensions must be >= 1 (batch >= 0)");
  }
  int64_t xs[] = {d.n, d.c, d.h, d.w}, ws[] = {d.k, d.c, d.r, d.s};
  ConvSizes sz;
  TJ_ASSIGN_OR_RETURN(sz.x, numel(name, "x", xs));
  TJ_ASSIGN_OR_RETURN(sz.w, numel(name, "w", ws));
  int64_t P = d.out_h(), Q = d.out_w();
  if (P < 1 || Q < 1) {
    return bad(name, "the filter does not fit the padded input (output " + std::to_string(P) +
                         " x " + std::to_string(Q) + ")");
  }
  int64_t ys[] = {d.n, d.k, P, Q}, cs[] = {d.c * d.r * d.s, P * Q};
  TJ_ASSIGN_OR_RETURN(sz.y, numel(name, "y", ys));
  TJ_TRY(numel(name, "im2col", cs));
  return sz;
}

Status check_conv2d_buffers(const char* name, const Conv2dDesc& d, const ConvSizes& sz,
                            const float* x, const float* w, const float* bias, const float* y) {
  TJ_TRY(need(name, "x", x, sz.x));
  TJ_TRY(need(name, "w", w, sz.w));
  TJ_TRY(need(name, "y", y, sz.y));
  TJ_TRY(no_overlap(name, "x", y, sz.y, x, sz.x, false));
  TJ_TRY(no_overlap(name, "w", y, sz.y, w, sz.w, false));
  if (bias != nullptr) TJ_TRY(no_overlap(name, "bias", y, sz.y, bias, d.k, false));
  return {};
}

Status KernelEngine::conv2d(const Conv2dDesc& d, const float* x, const float* w, const float* bias,
                            float* y) {
  const char* name = "conv2d";
  TJ_ASSIGN_OR_RETURN(ConvSizes sz, conv2d_sizes(name, d));
  TJ_TRY(check_conv2d_buffers(name, d, sz, x, w, bias, y));
  if (sz.y == 0) return {};
  int64_t P = d.out_h(), Q = d.out_w();
  bool direct = pointwise(d);
  int64_t crs = d.c * d.r * d.s, pq = P * Q;
  thread_local std::vector<float> col;
  if (!direct && col.size() < size_t(crs * pq)) col.resize(size_t(crs * pq));
  GemmDesc g = GemmDesc::row_major(d.k, pq, crs);
  for (int64_t i = 0; i < d.n; ++i) {
    const float* img = x + i * d.c * d.h * d.w;
    float* out = y + i * d.k * pq;
    if (bias != nullptr) {
      for (int64_t k = 0; k < d.k; ++k) std::fill(out + k * pq, out + (k + 1) * pq, bias[k]);
    }
    const float* b = img;
    if (!direct) {
      im2col(d, img, col.data());
      b = col.data();
    }
    TJ_TRY(sgemm(g, 1.0f, w, b, bias != nullptr ? 1.0f : 0.0f, out));
  }
  return {};
}

}  // namespace tierjit::kernels
