// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The reference evaluator (see evaluator.hpp): functions, blocks and the dispatch of each op
// by its family (ops.def) to the files implementing it. Semantics follow the StableHLO
// specification (docs/spec.md of openxla/stablehlo, section "Ops"); integer arithmetic
// wraps, float results are computed in double and rounded once to the element type.
// Integer division by zero and INT_MIN / -1 follow XLA (x / 0 = -1, x % 0 = x,
// INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0); float-to-integer conversion truncates and
// saturates, NaN converts to 0.
#include "stablehlo/evaluator.hpp"

#include <stdexcept>

#include "stablehlo/evaluator_impl.hpp"

namespace tierjit::shlo {

using eval_impl::Scope;
using eval_impl::Values;

Expected<Values> Evaluator::Impl::eval(const Op& op, Scope& scope) {
  current = &op;
  if (--ops_left < 0) return err(op, ErrorCode::kInvalidInput, "evaluation budget exhausted");
  for (const auto& t : op.result_types) {
    if (t.kind == Type::Kind::kTensor) {  // quantized, complex, f8...: named before the op
      auto et = parse_elem_type(t.elem);
      if (!et.ok()) return err(op, et.error().code, et.error().message);
    }
    int64_t elems = 1;
    for (int64_t d : t.dims) {
      if (d < 0 || __builtin_mul_overflow(elems, d, &elems) || elems > max_elements) {
        return err(op, ErrorCode::kUnsupported,
                   "result " + t.text + " is larger than the evaluator's limit");
      }
    }
  }
  Values in;
  // Operands (regions' uses of outer values are looked up when they run).
  for (const auto& v : op.operands) {
    TJ_ASSIGN_OR_RETURN(Tensor t, get(op, scope, v));
    in.push_back(std::move(t));
  }
  return dispatch(op, op.code, std::move(in), scope);
}

Expected<Values> Evaluator::Impl::dispatch(const Op& op, OpCode code, Values in, Scope& scope) {
  switch (op_family(code)) {
    case OpFamily::kUnary:
    case OpFamily::kUnaryOther:
      return eval_unary(op, in);
    case OpFamily::kBinary:
      return eval_binary(op, in);
    case OpFamily::kElementwise:
      return eval_elementwise(op, in);
    case OpFamily::kData:
      return eval_data(op, code, in);
    case OpFamily::kDynamic:
      return eval_dynamic(op, std::move(in), scope);
    case OpFamily::kReduction:
      return eval_reduction(op, in, scope);
    case OpFamily::kLinalg:
      return eval_linalg(op, in);
    case OpFamily::kControl:
      return eval_control(op, in, scope);
    case OpFamily::kDistribution:
    case OpFamily::kCollective:
      return eval_distribution(op, std::move(in));
    case OpFamily::kCheck:
      return eval_check(op, op.name, in);
    case OpFamily::kInterpreter:
      if (code == OpCode::kRunParallel) return eval_run_parallel(op, std::move(in));
      return eval_probe(op, in);
    case OpFamily::kUnknown:
      break;
  }
  // A check the table does not list: run_check reports the kinds it does not implement.
  if (is_check_name(op.name)) return eval_check(op, op.name, in);
  return unsupported(op);
}

// Dynamic-shape forms with static result types: the shape operand must agree with the result
// type, then the op is its static counterpart (spec: dynamic_iota C1, dynamic_reshape C3,
// dynamic_broadcast_in_dim C7). dynamic_pad / dynamic_gather / dynamic_conv: the operands that
// carry padding amounts or slice sizes become the attributes of the static op (spec:
// dynamic_pad, dynamic_gather, dynamic_conv).
Expected<Values> Evaluator::Impl::eval_dynamic(const Op& op, Values in, Scope& scope) {
  if (op.code == OpCode::kDynamicPad || op.code == OpCode::kDynamicGather ||
      op.code == OpCode::kDynamicConv) {
    std::vector<const Tensor*> known;
    for (const Tensor& t : in) known.push_back(&t);
    TJ_ASSIGN_OR_RETURN(Op stat, dynamic_static_form(op, known, file));
    CurrentOpGuard guard{current, &op};  // `stat` dies here, also when an error unwinds
    return eval(stat, scope);
  }
  size_t at = op.code == OpCode::kDynamicIota ? 0 : 1;
  if (in.size() <= at) return err(op, ErrorCode::kInvalidInput, "missing the output shape operand");
  if (op.result_types.size() != 1)
    return err(op, ErrorCode::kInvalidInput, "needs one result type");
  const Tensor& shape = in.at(at);
  const std::vector<int64_t>& want = op.result_types.at(0).dims;
  if (shape.floating() || shape.i != want)
    return err(op, ErrorCode::kInvalidInput,
               "output shape operand does not match the result type " + op.result_types.at(0).text);
  in.erase(in.begin() + static_cast<std::ptrdiff_t>(at));
  OpCode stat = op.code == OpCode::kDynamicIota      ? OpCode::kIota
                : op.code == OpCode::kDynamicReshape ? OpCode::kReshape
                                                     : OpCode::kBroadcastInDim;
  return dispatch(op, stat, std::move(in), scope);
}

Evaluator::Evaluator(const Module& module, std::string file, const EvalLimits& limits)
    : impl_(std::make_unique<Impl>(
          Impl{module, std::move(file), {}, 0, nullptr, limits.max_elements, limits.max_ops})) {}
Evaluator::~Evaluator() = default;

Expected<std::vector<Tensor>> Evaluator::call(const std::string& name, std::vector<Tensor> args) {
  // Every element and attribute access is bounds-checked (.at()); an access a malformed
  // program pushes out of range ends the call with a located error, never a host fault.
  try {
    return impl_->call(name, std::move(args), nullptr);
  } catch (const std::out_of_range&) {
    const Op* op = impl_->current;
    std::string what = op ? op->name + ": " : "";
    return make_error(
        ErrorCode::kInvalidInput,
        what + "an index, dimension or attribute is out of range for its operands",
        op ? SourceLoc{impl_->file, op->loc.line, op->loc.col} : SourceLoc{impl_->file});
  } catch (const std::length_error&) {
    return make_error(ErrorCode::kInvalidInput, "a tensor is too large", SourceLoc{impl_->file});
  }
}

const CheckOutcome& Evaluator::checks() const { return impl_->checks; }

}  // namespace tierjit::shlo
