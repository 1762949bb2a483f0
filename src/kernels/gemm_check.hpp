// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// sgemm argument checking and the column-major to row-major transposition.
#pragma once

#include "kernels/gemm_ops.hpp"
#include "tierjit/kernels.hpp"

namespace tierjit::kernels {

/// Dimensions and leading dimensions only (no buffers). Errors: kInvalidInput.
Status check_gemm_shape(const GemmDesc& desc);
/// Everything, then fills `out` (alpha/beta left to the caller). Errors: kInvalidInput.
Status check_gemm(const GemmDesc& desc, const float* a, const float* b, const float* c,
                  RowMajorGemm& out);
/// The row-major form of a checked call (column-major calls swap A and B and M and N).
RowMajorGemm row_major_form(const GemmDesc& desc, const float* a, const float* b, const float* c);

}  // namespace tierjit::kernels
