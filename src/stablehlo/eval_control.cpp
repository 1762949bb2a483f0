// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The evaluator's calls, control flow, checks and distribution ops (ops.def families kControl,
// kCheck, kInterpreter, kDistribution and kCollective): call, composite, while, if, case,
// optimization_barrier, custom_call @check.*, the check ops, interpreter.probe and
// interpreter.run_parallel, tokens, feeds, send/recv, process ids and collectives
// (collectives.hpp).
#include <string>

#include "stablehlo/evaluator_impl.hpp"

namespace tierjit::shlo {

using eval_impl::copy_elem;
using eval_impl::for_each_index;
using eval_impl::Scope;
using eval_impl::Values;

Expected<Values> Evaluator::Impl::eval_control(const Op& op, Values& in, Scope& scope) {
  switch (op.code) {
    case OpCode::kCall: {
      if (op.args.empty() || op.args.at(0).kind != Attr::Kind::kSymbol) {
        const Attr* callee = op.attr("callee");
        if (callee == nullptr) return err(op, ErrorCode::kInvalidInput, "call without a callee");
        return call(callee->text.substr(1), std::move(in), &op);
      }
      return call(op.args.at(0).text.substr(1), std::move(in), &op);
    }
    case OpCode::kComposite: {
      const Attr* d = op.attr("decomposition");
      if (d == nullptr || d->kind != Attr::Kind::kSymbol)
        return err(op, ErrorCode::kInvalidInput, "composite without a decomposition");
      return call(d->text.substr(1), std::move(in), &op);
    }
    case OpCode::kWhile:
      return eval_while(op, in, scope);
    case OpCode::kIf: {
      TJ_TRY(need(op, in, 1));
      if (op.regions.size() != 2) return err(op, ErrorCode::kInvalidInput, "if needs two regions");
      return run_region(op.regions.at(in.at(0).i.at(0) ? 0 : 1), {}, scope);
    }
    case OpCode::kCase: {
      TJ_TRY(need(op, in, 1));
      if (op.regions.empty()) return err(op, ErrorCode::kInvalidInput, "case needs regions");
      int64_t idx = in.at(0).i.at(0);
      if (idx < 0 || idx >= int64_t(op.regions.size())) idx = int64_t(op.regions.size()) - 1;
      return run_region(op.regions.at(size_t(idx)), {}, scope);
    }
    case OpCode::kOptimizationBarrier:
      return in;
    case OpCode::kCustomCall:
      return eval_custom_call(op, in);
    default:  // a return outside a block's end
      return unsupported(op);
  }
}

Expected<Values> Evaluator::Impl::eval_custom_call(const Op& op, const Values& in) {
  std::string target = op.args.empty() ? "" : op.args.at(0).text;
  if (const Attr* a = op.attr("call_target_name")) target = "@" + a->text;
  if (target.rfind("@check.", 0) == 0) return eval_check(op, target.substr(1), in);
  return err(op, ErrorCode::kUnsupported, "custom_call " + target + " is not supported");
}

Expected<Values> Evaluator::Impl::eval_while(const Op& op, Values& in, Scope& scope) {
  if (op.regions.size() != 2)
    return err(op, ErrorCode::kInvalidInput, "while needs cond and body regions");
  Values state = std::move(in);
  for (int64_t iter = 0;; ++iter) {
    if (iter > (int64_t(1) << 26))
      return err(op, ErrorCode::kInvalidInput, "while ran over 2^26 iterations");
    TJ_ASSIGN_OR_RETURN(Values c, run_region(op.regions.at(0), state, scope, op.bound_names));
    if (c.size() != 1 || c.at(0).i.empty())
      return err(op, ErrorCode::kInvalidInput, "while condition must return tensor<i1>");
    if (c.at(0).i.at(0) == 0) break;
    TJ_ASSIGN_OR_RETURN(state, run_region(op.regions.at(1), state, scope, op.bound_names));
  }
  return state;
}

Expected<Values> Evaluator::Impl::eval_check(const Op& op, const std::string& name,
                                             const Values& in) {
  TJ_TRY(run_check(op, name, in, file, checks));
  return Values{};
}

// interpreter.probe records its operand's value and returns it.
Expected<Values> Evaluator::Impl::eval_probe(const Op& op, Values& in) {
  std::string key;
  if (std::string why = probe_key(op, in.size(), !in.empty() && in[0].is_tuple, key); !why.empty())
    return err(op, ErrorCode::kInvalidInput, why);
  checks.probes[key].push_back(in[0]);
  if (op.code == OpCode::kPrint) return Values{};
  return in;
}

// The StableHLO interpreter's run_parallel: programs = [[@f, ...] per replica] (columns are
// partitions); operands are handed out to the programs in order and results collected in
// order; `infeed = [@g, ...]` lists the functions whose results infeed ops receive, in turn.
// The programs run in lockstep (collectives.hpp), so collectives, send and recv work.
Expected<Values> Evaluator::Impl::eval_run_parallel(const Op& op, Values in) {
  if (in_parallel) return err(op, ErrorCode::kUnsupported, "run_parallel inside run_parallel");
  TJ_ASSIGN_OR_RETURN(ParallelSetup ps, parallel_setup(op, module, in.size(), file));
  std::vector<ParallelProgram>& programs = ps.programs;
  std::vector<Scope> scopes(programs.size());
  for (size_t p = 0; p < programs.size(); ++p)
    for (size_t k = ps.operands[p].first; k < ps.operands[p].second; ++k)
      scopes[p].vals[programs[p].func->args.at(k - ps.operands[p].first).first] = {in.at(k)};
  std::vector<Values> results(programs.size());
  ParallelHooks hooks;
  hooks.step = [&](size_t p, const Op& o) -> Status {
    replica = programs[p].replica, partition = programs[p].partition;
    TJ_ASSIGN_OR_RETURN(Values res, eval(o, scopes[p]));
    bind(o, scopes[p], std::move(res));
    return {};
  };
  hooks.finish = [&](size_t p, const Op& ret) -> Status {
    for (const auto& v : ret.operands) {
      TJ_ASSIGN_OR_RETURN(Tensor t, get(ret, scopes[p], v));
      results[p].push_back(std::move(t));
    }
    return {};
  };
  hooks.collective = [&](const std::vector<size_t>& members,
                         const std::vector<const Op*>& ops) -> Status {
    std::vector<Values> operands(members.size());
    std::vector<int64_t> group;
    for (size_t j = 0; j < members.size(); ++j) {
      group.push_back(int64_t(members[j]));
      for (const auto& v : ops[j]->operands) {
        TJ_ASSIGN_OR_RETURN(Tensor t, get(*ops[j], scopes[members[j]], v));
        operands[j].push_back(std::move(t));
      }
    }
    TJ_ASSIGN_OR_RETURN(std::vector<Values> res,
                        eval_collective(group, ops, operands, scopes[members[0]]));
    for (size_t j = 0; j < members.size(); ++j)
      bind(*ops[j], scopes[members[j]], std::move(res[j]));
    return {};
  };
  grid = ps.grid, in_parallel = true;
  mail.reset(std::move(ps.infeed));
  Status st = run_lockstep(op, programs, ps.grid, file, hooks);
  grid = Grid{}, in_parallel = false;
  mail.reset({});
  replica = partition = 0;
  current = &op;
  if (!st.ok()) return st.take_error();
  Values out;
  for (auto& r : results)
    for (auto& t : r) out.push_back(std::move(t));
  return out;
}

// Tokens (spec: after_all, create_token) and the ops that pass data in and out of a program:
// infeed takes the next infeed function's results, outfeed drops its operands, send queues
// its operands on the channel, recv takes the oldest message (the lockstep scheduler only
// runs a recv once a message is there). A collective outside run_parallel is a group of one.
Expected<Values> Evaluator::Impl::eval_distribution(const Op& op, Values in) {
  auto data_types = [&]() {  // the declared results but the trailing token
    std::vector<Type> t = op.result_types;
    if (!t.empty() && t.back().kind == Type::Kind::kOther) t.pop_back();
    return t;
  };
  const OpCode code = op.code;
  if (code == OpCode::kReplicaId || code == OpCode::kPartitionId) return eval_process_id(op);
  if (code == OpCode::kAfterAll || code == OpCode::kCreateToken || code == OpCode::kOutfeed)
    return Values{token()};
  if (code == OpCode::kSend) {
    if (!in.empty() && in.back().is_tuple) in.pop_back();
    mail.channels[channel_id(op)].push_back(std::move(in));
    return Values{token()};
  }
  if (code == OpCode::kRecv || code == OpCode::kInfeed) {
    Values got;
    if (code == OpCode::kRecv) {
      TJ_ASSIGN_OR_RETURN(got, mail.recv(op, file));
    } else {
      TJ_ASSIGN_OR_RETURN(std::string fn, mail.next_infeed(op, file));
      TJ_ASSIGN_OR_RETURN(got, call(fn, {}, &op));
      current = &op;
    }
    std::vector<Type> want = data_types();
    if (got.size() != want.size())
      return err(op, ErrorCode::kInvalidInput,
                 "receives " + std::to_string(got.size()) + " values, declares " +
                     std::to_string(want.size()));
    for (size_t k = 0; k < want.size(); ++k) {
      TJ_ASSIGN_OR_RETURN(Tensor t, tensor_type(want[k]));
      if (got[k].is_tuple || t.type != got[k].type || t.shape != got[k].shape)
        return err(op, ErrorCode::kInvalidInput,
                   "received " + got[k].type_text() + " for result type " + want[k].text);
    }
    got.push_back(token());
    return got;
  }
  // A collective.
  if (in_parallel)
    return err(op, ErrorCode::kUnsupported,
               "a collective inside a region or a called function of a run_parallel program is "
               "not supported (only in the program's body)");
  const Scope none;
  TJ_ASSIGN_OR_RETURN(std::vector<Values> res,
                      eval_collective({0}, {&op}, std::vector<Values>{std::move(in)}, none));
  return std::move(res.at(0));
}

Expected<std::vector<Values>> Evaluator::Impl::eval_collective(const std::vector<int64_t>& group,
                                                               const std::vector<const Op*>& ops,
                                                               const std::vector<Values>& operands,
                                                               const Scope& scope) {
  std::vector<Values> out(group.size());
  for (size_t me = 0; me < group.size(); ++me) {
    const Op& op = *ops[me];
    current = &op;
    std::vector<std::vector<int64_t>> result_shapes;
    for (size_t k = 0; k < op.result_types.size(); ++k) {
      TJ_ASSIGN_OR_RETURN(Tensor t, result_tensor(op, k));
      result_shapes.push_back(t.shape);
    }
    std::vector<std::vector<OperandType>> types(operands.size());
    for (size_t m = 0; m < operands.size(); ++m)
      for (const Tensor& t : operands[m]) types[m].push_back({!t.is_tuple, t.type, t.shape});
    TJ_ASSIGN_OR_RETURN(CollectivePlan plan,
                        plan_collective(op, group, me, grid, types, result_shapes, file));
    for (size_t k = 0; k < plan.results.size(); ++k) {
      const CollectivePlan::Result& pr = plan.results[k];
      TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op, k));
      if (r.type != operands[me].at(k).type)
        return err(op, ErrorCode::kInvalidInput, "result and operand element types differ");
      if (pr.kind == CollectivePlan::Kind::kDynamicRoot) {
        const Tensor& root = operands[me].back();
        int64_t m = root.floating() ? -1 : root.i.at(k);
        if (m < 0 || m >= int64_t(pr.parts.size()))
          return err(op, ErrorCode::kInvalidInput,
                     "root " + std::to_string(m) + " is not a process of the group");
        r = operands.at(pr.parts.at(size_t(m)).member).at(k);
        out[me].push_back(std::move(r));
        continue;
      }
      const auto rs = strides_of(r.shape);
      auto block = [&](const BlockCopy& c, Tensor& dst) {  // copy c's box of its operand
        const Tensor& src = operands.at(c.member).at(c.operand);
        const auto ss = strides_of(src.shape);
        for_each_index(c.shape, [&](const std::vector<int64_t>& idx, int64_t) {
          int64_t s = 0, d = 0;
          for (size_t a = 0; a < idx.size(); ++a) {
            s += (c.src_start[a] + idx[a]) * ss[a];
            d += (c.dst_start[a] + idx[a]) * rs[a];
          }
          copy_elem(dst, d, src, s);
        });
      };
      if (pr.kind == CollectivePlan::Kind::kCopy) {
        for (const BlockCopy& c : pr.parts) block(c, r);
      } else {  // fold body(acc, x) over the members in group order
        block(pr.parts.at(0), r);
        Values acc{std::move(r)};
        for (size_t m = 1; m < pr.parts.size(); ++m) {
          Values x{acc[0]};
          block(pr.parts[m], x[0]);
          for (int64_t e = 0; e < acc[0].size(); ++e)
            TJ_TRY(fold_into(op, nullptr, acc, e, x, 0, e, scope));
        }
        r = std::move(acc[0]);
      }
      out[me].push_back(std::move(r));
    }
  }
  return out;
}

Expected<Values> Evaluator::Impl::eval_process_id(const Op& op) {
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  if (r.floating() || r.size() != 1)
    return err(op, ErrorCode::kInvalidInput, "result must be an integer scalar");
  r.i.at(0) = op.code == OpCode::kReplicaId ? replica : partition;
  return Values{std::move(r)};
}

}  // namespace tierjit::shlo
