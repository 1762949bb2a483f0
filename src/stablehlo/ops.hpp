// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// StableHLO op codes: the op table (ops.def) as `enum class OpCode`, each op's full name and
// family, and the one name -> code resolution the parser applies to every op (Op::code), so the
// verifier, the evaluator and the lowering dispatch on an enum instead of comparing names.
#pragma once

#include <cstdint>
#include <string_view>

namespace tierjit::shlo {

enum class OpCode : uint16_t {
  kUnknown,  ///< a name not in the table: evaluating or lowering it is a kUnsupported error
#define TJ_OP(ENUM, NAME, FAMILY) k##ENUM,
#include "stablehlo/ops.def"
#undef TJ_OP
};

/// The families of ops.def (see its header comment).
enum class OpFamily : uint8_t {
  kUnknown,
  kUnary,
  kUnaryOther,
  kBinary,
  kElementwise,
  kData,
  kDynamic,
  kReduction,
  kLinalg,
  kControl,
  kDistribution,
  kCollective,
  kCheck,
  kInterpreter,
};

/// The code of op name `name` ("stablehlo.add", "chlo.erf", "add", "check.expect_eq"), by the
/// resolution rule of ops.def; OpCode::kUnknown for a name not in the table.
OpCode op_code(std::string_view name);
/// The dialect of an op of the table (the prefix of its full name).
enum class OpDialect : uint8_t { kNone, kStablehlo, kChlo, kFunc, kCheck, kInterpreter };

/// The full name of `code` ("stablehlo.add"); "" for kUnknown.
std::string_view op_name(OpCode code);
/// The name without its dialect prefix ("add", "erf_inv", "call"; "check.expect_eq" as is): the
/// form the front end's messages use.
std::string_view op_short_name(OpCode code);
OpFamily op_family(OpCode code);
OpDialect op_dialect(OpCode code);

/// func.return or stablehlo.return: a block's terminator.
inline bool is_return(OpCode c) { return c == OpCode::kFuncReturn || c == OpCode::kReturn; }
/// A check.* name (the check dialect is open-ended: run_check reports the kinds it lacks).
inline bool is_check_name(std::string_view name) { return name.substr(0, 6) == "check."; }

}  // namespace tierjit::shlo
