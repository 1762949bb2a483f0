// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The non-GEMM kernels (elementwise, reductions, softmax, layer norm) as "row kernels": one
// generated function per OpKey sweeps `rows` rows whose length and strides are compile-time
// constants. The engine reduces every call to such rows (binary broadcasting collapses to at
// most one row loop inside the kernel plus an outer odometer in C++).
//
// Calling convention of every row kernel (System V):
//   fn(x, x2, y, rows, p0, p1)
//   unary       x: input                         y: output (row = len elements)
//   binary      x: a, x2: b                      y: output; a/b advance a_row/b_row per row,
//                                                y advances len; a_bcast/b_bcast: stride 0
//   reduce_rows x: rows x len (contiguous)       y: one value per row
//   reduce_cols x: rows x len x inner            y: rows x inner
//   softmax     x, y: rows x len
//   layer_norm  x, y: rows x len, x2: gamma (or null), p0: beta (or null), p1: &eps
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tierjit/kernels.hpp"

namespace tierjit::kernels {

enum class OpKind : uint8_t { kUnary, kBinary, kReduceRows, kReduceCols, kSoftmax, kLayerNorm };

struct OpKey {
  OpKind kind = OpKind::kUnary;
  uint8_t op = 0;  ///< UnaryOp, BinaryOp or ReduceOp by kind
  Isa isa = Isa::kScalar;
  bool a_bcast = false, b_bcast = false;  ///< binary: operand is one scalar per row
  bool gamma = false, beta = false;       ///< layer_norm: affine parameters present
  int64_t len = 0;                        ///< row length (elements)
  int64_t inner = 0;                      ///< reduce_cols: elements after the reduced axis
  int64_t a_row = 0, b_row = 0;           ///< binary: row strides of a and b (elements)
  bool operator==(const OpKey&) const = default;
  std::string name() const;  ///< "exp", "add", "reduce_sum", "softmax", "layer_norm"
  std::string to_string() const;
};

struct OpKeyHash {
  size_t operator()(const OpKey& k) const;
};

using OpFn = void (*)(const float* x, const float* x2, float* y, int64_t rows, const float* p0,
                      const float* p1);

/// Emits the row kernel for `key` (key.isa is kAvx2 or kAvx512). Errors: kCompileFailed.
Status generate_op(const OpKey& key, std::vector<uint8_t>& out);

/// The portable implementation of the same contract (the scalar level, and every call below
/// the compile threshold). Uses the C library's expf/tanhf/erfcf.
void run_op_generic(const OpKey& key, const float* x, const float* x2, float* y, int64_t rows,
                    const float* p0, const float* p1);

}  // namespace tierjit::kernels
