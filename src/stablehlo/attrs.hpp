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
/// Whether `op` (without prefix) is an elementwise binary op of StableHLO or CHLO: operands
/// and result share one shape and element type (add, subtract, ..., shift_*, next_after).
bool is_elementwise_binary(const std::string& op);
/// Integer list from an attribute: [1, 2], array<i64: 1, 2>, dense<[1, 2]> : tensor<2xi64>.
std::vector<int64_t> ints_of(const Attr& a);
/// The integers of field `key = [...]` or `key = N` in a structured attribute's text
/// (#stablehlo.scatter<...>, #stablehlo.dot<...>); empty when absent.
std::vector<int64_t> field_ints(const Attr& a, const std::string& key, bool* present = nullptr);

}  // namespace tierjit::shlo
