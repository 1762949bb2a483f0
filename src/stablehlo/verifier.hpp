// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Static checks of a parsed StableHLO module against the specification's constraints
// (openxla/stablehlo docs/spec.md, the "Constraints" paragraph of each op), before anything
// runs: every value used is defined (in an enclosing scope), calls name a function with the
// right argument count, `return` matches the function's results, and the shape/type rules of
// the ops the StableHLO test corpus uses most: elementwise ops (C1: same shapes, element types),
// compare (i1 result, direction), select, clamp, convert, broadcast_in_dim (C1-C6), reshape
// (C1: element count), transpose (C1-C4), concatenate (C1-C6), slice (C1-C4), pad (C1-C4),
// iota (C1), dot_general (C1-C12 on dimension numbers and sizes), reverse (C1-C3).
//
// Types the parser could not attach (pretty forms that print one type for several values)
// are unknown and their checks are skipped: the verifier never rejects a module for what it
// cannot see. Errors are kInvalidInput located at the op: "FILE:LINE:COL: stablehlo.add:
// operand 1 is tensor<3xf32>, expected tensor<2xf32> (C1)".
#pragma once

#include <string>

#include "stablehlo/ast.hpp"

namespace tierjit::shlo {

/// Checks every function of `m`; the first violation is returned.
Status verify_module(const Module& m, const std::string& file);

}  // namespace tierjit::shlo
