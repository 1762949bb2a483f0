// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The generic GEMM kernel and the packing routines (see gemm_ops.hpp). Compiled for baseline
// x86-64: these run on every ISA level, including TIERJIT_ISA=scalar.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/gemm_ops.hpp"

namespace tierjit::kernels {

void scale_c(const RowMajorGemm& g) {
  for (int64_t i = 0; i < g.m; ++i) {
    float* row = g.c + i * g.ldc;
    if (g.beta == 0.0f) {
      std::fill(row, row + g.n, 0.0f);
    } else if (g.beta != 1.0f) {
      for (int64_t j = 0; j < g.n; ++j) row[j] *= g.beta;
    }
  }
}

namespace {

constexpr int64_t kGenericKc = 128;  // K block: a 128 x 256 B block is 128 KiB (L2)
constexpr int64_t kGenericNc = 256;

// c[0..n) += sum_p a[p] * b[p*ldb .. +n) for kb values of p, four rows of B at a time.
void axpy_rows(float* c, const float* a, const float* b, int64_t ldb, int64_t kb, int64_t n) {
  int64_t p = 0;
  for (; p + 4 <= kb; p += 4) {
    const float *b0 = b + p * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
    float a0 = a[p], a1 = a[p + 1], a2 = a[p + 2], a3 = a[p + 3];
    for (int64_t j = 0; j < n; ++j) c[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
  }
  for (; p < kb; ++p) {
    const float* b0 = b + p * ldb;
    float a0 = a[p];
    for (int64_t j = 0; j < n; ++j) c[j] += a0 * b0[j];
  }
}

}  // namespace

void gemm_generic(const RowMajorGemm& g) {
  scale_c(g);
  int64_t nc = std::min(g.n, kGenericNc), kc = std::min(g.k, kGenericKc);
  std::vector<float> bpack(static_cast<size_t>(kc * nc));  // op(B) block, dense kb x nb
  std::vector<float> arow(static_cast<size_t>(kc));        // alpha * op(A) row slice
  for (int64_t j0 = 0; j0 < g.n; j0 += nc) {
    int64_t nb = std::min(nc, g.n - j0);
    for (int64_t p0 = 0; p0 < g.k; p0 += kc) {
      int64_t kb = std::min(kc, g.k - p0);
      pack_b(g, p0, j0, kb, nb, int(nb), bpack.data());
      for (int64_t i = 0; i < g.m; ++i) {
        for (int64_t p = 0; p < kb; ++p) arow[size_t(p)] = g.alpha * g.a_at(i, p0 + p);
        axpy_rows(g.c + i * g.ldc + j0, arow.data(), bpack.data(), nb, kb, nb);
      }
    }
  }
}

namespace {

// rows x kb of row-major A (row stride lda) into a sliver with k stride mr: four rows at a
// time through SSE 4x4 transposes (16-byte stores along the sliver), the rest scalar.
void pack_rows(const float* src, int64_t lda, int64_t rows, int64_t kb, int mr, float* sliver) {
  int64_t i = 0;
  for (; i + 4 <= rows; i += 4) {
    const float *r0 = src + i * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda;
    int64_t p = 0;
    for (; p + 4 <= kb; p += 4) {
      __m128 x0 = _mm_loadu_ps(r0 + p), x1 = _mm_loadu_ps(r1 + p);
      __m128 x2 = _mm_loadu_ps(r2 + p), x3 = _mm_loadu_ps(r3 + p);
      _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
      _mm_storeu_ps(sliver + (p + 0) * mr + i, x0);
      _mm_storeu_ps(sliver + (p + 1) * mr + i, x1);
      _mm_storeu_ps(sliver + (p + 2) * mr + i, x2);
      _mm_storeu_ps(sliver + (p + 3) * mr + i, x3);
    }
    for (; p < kb; ++p) {
      float* d = sliver + p * mr + i;
      d[0] = r0[p], d[1] = r1[p], d[2] = r2[p], d[3] = r3[p];
    }
  }
  for (; i < rows; ++i) {
    const float* r = src + i * lda;
    for (int64_t p = 0; p < kb; ++p) sliver[p * mr + i] = r[p];
  }
}

}  // namespace

void pack_a(const RowMajorGemm& g, int64_t i0, int64_t p0, int64_t mb, int64_t kb, int mr,
            float* dst) {
  for (int64_t s = 0; s < mb; s += mr) {
    int64_t rows = std::min<int64_t>(mr, mb - s);
    float* sliver = dst + s * kb;
    if (!g.ta) {
      pack_rows(g.a + (i0 + s) * g.lda + p0, g.lda, rows, kb, mr, sliver);
    } else {
      for (int64_t p = 0; p < kb; ++p) {
        std::memcpy(sliver + p * mr, g.a + (p0 + p) * g.lda + i0 + s, size_t(rows) * 4);
      }
    }
  }
}

void pack_b(const RowMajorGemm& g, int64_t p0, int64_t j0, int64_t kb, int64_t nb, int nr,
            float* dst) {
  if (!g.tb) {
    // Row by row: each source row is read once, sequentially. (Walking a sliver down its
    // column instead strides by ldb, and a row pitch that is a multiple of 4 KiB maps every
    // row to the same L1 set: 16x3072x768 spent 42% of its time here.)
    for (int64_t p = 0; p < kb; ++p) {
      const float* src = g.b + (p0 + p) * g.ldb + j0;
      for (int64_t t = 0; t < nb; t += nr) {
        int64_t cols = std::min<int64_t>(nr, nb - t);
        float* d = dst + t * kb + p * nr;
        for (int64_t j = 0; j < cols; ++j) d[j] = src[t + j];  // vectorized; no call per row
      }
    }
    return;
  }
  for (int64_t t = 0; t < nb; t += nr) {
    int64_t cols = std::min<int64_t>(nr, nb - t);
    pack_rows(g.b + (j0 + t) * g.ldb + p0, g.ldb, cols, kb, nr, dst + t * kb);  // B^T rows
  }
}

}  // namespace tierjit::kernels
