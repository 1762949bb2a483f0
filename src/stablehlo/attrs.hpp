// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Attribute helpers shared by the evaluator and the verifier: op names without their dialect
// prefix and integer lists from the several spellings StableHLO text uses for them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "stablehlo/ast.hpp"

namespace tierjit::shlo {

/// "stablehlo.add" -> "add" (also "func." and "chlo." prefixes).
std::string strip(const std::string& name);
/// Integer list from an attribute: [1, 2], array<i64: 1, 2>, dense<[1, 2]> : tensor<2xi64>.
std::vector<int64_t> ints_of(const Attr& a);
/// The integers of field `key = [...]` or `key = N` in a structured attribute's text
/// (#stablehlo.scatter<...>, #stablehlo.dot<...>); empty when absent.
std::vector<int64_t> field_ints(const Attr& a, const std::string& key, bool* present = nullptr);

/// Points `cur` (an engine's "op being run", where an out-of-range exception is reported)
/// back at `op` when a temporary op's evaluation or lowering ends, by return or by unwinding.
struct CurrentOpGuard {
  const Op*& cur;
  const Op* op;
  ~CurrentOpGuard() { cur = op; }
};

/// Hands an op's results to the names they are bound to: fn(name, values) once for `%r =`
/// or `%r:2 =` (all results) and once per name for `%a, %b = ...` (its share, in order).
template <class V, class Fn>
void for_each_result(const Op& op, std::vector<V> res, Fn&& fn) {
  if (op.result_names.size() <= 1) {
    if (!op.result.empty()) fn(op.result, std::move(res));
    return;
  }
  size_t at = 0;
  for (const auto& [name, count] : op.result_names) {
    std::vector<V> part;
    for (int c = 0; c < count && at < res.size(); ++c) part.push_back(std::move(res[at++]));
    fn(name, std::move(part));
  }
}

/// reduce_precision's exponent and mantissa bits (`format = e5m10` or exponent_bits /
/// mantissa_bits; default f32's 8 and 23). False outside 1..11 and 0..52 (spec C2, C3).
bool reduce_precision_bits(const Op& op, int64_t& exponent_bits, int64_t& mantissa_bits);

/// Row-major strides (in elements) of `shape`.
std::vector<int64_t> strides_of(const std::vector<int64_t>& shape);
bool contains(const std::vector<int64_t>& v, int64_t x);
/// Axes 0..rank-1 that are in neither list, in order.
std::vector<int64_t> axes_except(size_t rank, const std::vector<int64_t>& a,
                                 const std::vector<int64_t>& b = {});

/// The first of the attributes `a`, `b` present on `op` as integers (empty when neither is).
std::vector<int64_t> op_ints(const Op& op, const char* a, const char* b = nullptr);

/// dot_general's dimension numbers from any of its spellings (pretty `batching_dims = [0] x
/// [0], contracting_dims = [1] x [0]`, generic #stablehlo.dot<...>); `dot` contracts the lhs's
/// last dimension with the rhs's first (spec "dot_general"; "dot" is its legacy form).
struct DotDims {
  std::vector<int64_t> lb, rb, lc, rc;  ///< lhs/rhs batching, lhs/rhs contracting
};
DotDims dot_dims(const Op& op, size_t lhs_rank);

/// slice's start indices and strides for an operand of rank `rank`, from the pretty
/// "[a:b:s, ...]" spec or the start_indices/strides attributes. False when they are
/// missing or do not have `rank` entries.
bool slice_spec(const Op& op, size_t rank, std::vector<int64_t>& start,
                std::vector<int64_t>& stride);

/// compare's direction word (EQ, NE, LT, LE, GT, GE; empty when missing) and whether the
/// comparison type is TOTALORDER (spec "compare").
std::string compare_direction(const Op& op, bool* total_order);

/// The window of reduce_window and select_and_scatter for an operand of rank `rank`: absent
/// lists default to 1 (dimensions, strides, dilations) and 0 (padding); padding is (lo, hi)
/// per dimension, where a splat (JAX: dense<0> : tensor<Nx2xi64>) or per-dimension zeros
/// mean none. False when a list does not have `rank` entries (2 x rank for padding).
struct WindowAttrs {
  std::vector<int64_t> dims, strides, base_dil, win_dil, pad;
};
bool window_attrs(const Op& op, size_t rank, WindowAttrs& out);

/// gather's dimension_numbers (spec "gather"); false when the attribute is missing.
struct GatherDims {
  std::vector<int64_t> offset_dims, collapsed, operand_batching, indices_batching, start_map;
  int64_t index_vector_dim = 0;
};
bool gather_dims(const Op& op, GatherDims& out);

/// scatter's scatter_dimension_numbers (spec "scatter"); false when the attribute is missing.
struct ScatterDims {
  std::vector<int64_t> update_window, inserted_window, input_batching, indices_batching, to_operand;
  int64_t index_vector_dim = 0;
};
bool scatter_dims(const Op& op, ScatterDims& out);

/// A scatter's shape of operands (spec "scatter": N inputs, the scatter indices, N updates,
/// and a body) and its dimension numbers. Both the evaluator and the lowering start here.
struct ScatterForm {
  size_t n = 0;  ///< inputs (= updates = results)
  ScatterDims dims;
};
/// "" when `op` with `operands` operands is a well-formed scatter, else what is wrong.
std::string scatter_form(const Op& op, size_t operands, ScatterForm& out);

/// convolution's dimension numbers and window (spec "convolution"): the layouts of input,
/// kernel and output (pretty "[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]" or
/// #stablehlo.conv<...>; for the kernel, batch = i and feature = o), strides, padding
/// (lo, hi per spatial dim), dilations, window reversal and group counts.
struct ConvDims {
  struct Layout {
    int64_t batch = -1, feature = -1;
    std::vector<int64_t> spatial;
  };
  Layout lay[3];  ///< input, kernel, output
  std::vector<int64_t> stride, lhs_dil, rhs_dil, pad, rev;
  int64_t fgc = 1, bgc = 1;
};
/// Fills `out` for an input of rank `rank`; returns "" or what is malformed.
std::string conv_dims(const Op& op, size_t rank, ConvDims& out);

}  // namespace tierjit::shlo
