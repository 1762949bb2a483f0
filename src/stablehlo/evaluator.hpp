// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The StableHLO reference evaluator (the interpreted path and the oracle for the compiled
// path): executes a parsed module op by op, exactly per the StableHLO
// specification's semantics for each op it implements; any other op is a kUnsupported
// error naming it. Check ops (`check.expect_*` and `custom_call @check.expect_*`, the
// StableHLO test suite's conventions) are evaluated and their outcomes collected; what the
// evaluator shares with the compiled path is in semantics.hpp.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "stablehlo/ast.hpp"
#include "stablehlo/semantics.hpp"
#include "stablehlo/tensor.hpp"

namespace tierjit::shlo {

struct EvalLimits {
  int64_t max_elements = int64_t(1) << 28;  ///< per result tensor (kUnsupported past it)
  int64_t max_ops = int64_t(1) << 40;       ///< operations evaluated per Evaluator
};

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
