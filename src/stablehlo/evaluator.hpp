// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The StableHLO reference evaluator (the seed's "fallback" path and the oracle for the
// compiled path): executes a parsed module op by op, exactly per the StableHLO
// specification's semantics for each op it implements; any other op is a kUnsupported
// error naming it. Check ops (`check.expect_*` and `custom_call @check.expect_*`, the
// StableHLO test suite's conventions) are evaluated and their outcomes collected.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "stablehlo/ast.hpp"
#include "stablehlo/tensor.hpp"

namespace tierjit::shlo {

struct CheckOutcome {
  int checks = 0;                     ///< check ops evaluated
  std::vector<std::string> failures;  ///< one message per failed check, located
  /// The values `interpreter.probe` recorded, per probe_id, one per execution (the StableHLO
  /// interpreter serializes them to files; check.expect_serialized_eq reads them back).
  std::map<std::string, std::vector<Tensor>> probes;
};

struct EvalLimits {
  int64_t max_elements = int64_t(1) << 28;  ///< per result tensor (kUnsupported past it)
  int64_t max_ops = int64_t(1) << 40;       ///< operations evaluated per Evaluator
};

/// Evaluates one check op (`check.expect_eq`, `expect_eq_const`, `expect_almost_eq[_const]`,
/// `expect_close[_const]`, `expect_serialized_eq` (operand vs. the `iter`-th value probe
/// `probe_id` recorded in `checks.probes`) and their custom_call @check.* forms; `name` is
/// "check.KIND") on its operand values `in`, adding to `checks`. Errors: kInvalidInput (malformed
/// check), kUnsupported (a kind not implemented), located in `file`. Shared by the evaluator and
/// the compiled path, which runs the checks on the values its code produced.
Status run_check(const Op& op, const std::string& name, const std::vector<Tensor>& in,
                 const std::string& file, CheckOutcome& checks);

/// The static op a dynamic_pad, dynamic_gather or dynamic_conv stands for: the operands that
/// carry padding amounts or slice sizes (in[k], null when not known) become the static op's
/// attributes and its operands are the first two (spec: dynamic_pad, dynamic_gather,
/// dynamic_conv). Errors: kInvalidInput (not 1-d integers), kUnsupported (an unknown one).
Expected<Op> dynamic_static_form(const Op& op, const std::vector<const Tensor*>& in,
                                 const std::string& file);

/// digamma (A&S 6.3.18 series with 6.3.7 reflection) and the inverse error function
/// (Newton on erf) in double precision: the evaluator's definitions, also called by
/// compiled code so both paths agree bit for bit.
double digamma(double x);
double erf_inv(double y);
/// chlo.bessel_i1e, exp(-|x|) I1(x).
double bessel_i1e(double x);
/// The next value of float type t after x toward y (chlo.next_after).
double next_after(ElemType t, double x, double y);
/// base^e wrapped to integer type t (negative exponents: 0 unless |base| = 1).
int64_t int_pow(ElemType t, int64_t base, int64_t e);
/// x rounded to `eb` exponent and `mb` mantissa bits (spec "reduce_precision"), then to t.
double reduce_precision(ElemType t, double x, int64_t eb, int64_t mb);

class Evaluator {
 public:
  Evaluator(const Module& module, std::string file, const EvalLimits& limits = {});
  ~Evaluator();
  /// Runs function `name` on `args`; returns its results. Errors: kUnsupported (an op or
  /// element type the evaluator does not implement), kInvalidInput (malformed program:
  /// unknown value, wrong operand count, shapes that do not agree), each located.
  Expected<std::vector<Tensor>> call(const std::string& name, std::vector<Tensor> args);
  const CheckOutcome& checks() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierjit::shlo
