// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Portable GEMM pieces shared by the driver: the generic kernel (runs before a shape is
// compiled, and is the whole of the scalar ISA level), C scaling, and operand packing.
#pragma once

#include <cstdint>

namespace tierjit::kernels {

/// A validated row-major problem (column-major calls are transposed into this form).
struct RowMajorGemm {
  int64_t m = 0, n = 0, k = 0;
  bool ta = false, tb = false;
  int64_t lda = 0, ldb = 0, ldc = 0;
  const float* a = nullptr;
  const float* b = nullptr;
  float* c = nullptr;
  float alpha = 1, beta = 0;

  float a_at(int64_t i, int64_t p) const { return ta ? a[p * lda + i] : a[i * lda + p]; }
  float b_at(int64_t p, int64_t j) const { return tb ? b[j * ldb + p] : b[p * ldb + j]; }
};

/// C = beta * C for the whole M x N (beta == 0 stores zeros without reading C).
void scale_c(const RowMajorGemm& g);
/// The generic kernel: any shape, cache-blocked loops the compiler vectorizes for baseline
/// x86-64. Requires k > 0 and alpha != 0.
void gemm_generic(const RowMajorGemm& g);
/// Packs op(A)[i0 .. i0+mb, p0 .. p0+kb] into slivers of mr rows: element (i, p) at
/// (i / mr) * mr * kb + p * mr + i % mr.
void pack_a(const RowMajorGemm& g, int64_t i0, int64_t p0, int64_t mb, int64_t kb, int mr,
            float* dst);
/// Packs op(B)[p0 .. p0+kb, j0 .. j0+nb] into slivers of nr columns: element (p, j) at
/// (j / nr) * nr * kb + p * nr + j % nr.
void pack_b(const RowMajorGemm& g, int64_t p0, int64_t j0, int64_t kb, int64_t nb, int nr,
            float* dst);

}  // namespace tierjit::kernels
