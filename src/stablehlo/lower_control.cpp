// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The lowering's calls, control flow, checks and distribution ops (ops.def families kControl,
// kCheck, kInterpreter, kDistribution and kCollective): calls inlined, while/if/case as
// branches and loops, checks and probes handing values to the runtime, and run_parallel's
// programs scheduled at compile time (collectives.hpp).
#include <algorithm>
#include <string>

#include "stablehlo/lower_impl.hpp"

namespace tierjit::shlo::lower_impl {

Expected<std::vector<TVal>> Lowerer::lower_control(const Op& op, TVals& in, Scope& scope) {
  switch (op.code) {
    case OpCode::kCall:
    case OpCode::kComposite: {
      std::string callee;
      if (!op.args.empty() && op.args[0].kind == Attr::Kind::kSymbol) callee = op.args[0].text;
      if (const Attr* a = op.attr(op.code == OpCode::kCall ? "callee" : "decomposition"))
        callee = a->text;
      if (callee.size() < 2) return err(op, ErrorCode::kInvalidInput, "call without a callee");
      return inline_call(op, callee.substr(1), std::move(in));
    }
    case OpCode::kOptimizationBarrier:
      return in;
    case OpCode::kWhile:
      return lower_while(op, std::move(in), scope);
    case OpCode::kIf:
    case OpCode::kCase: {
      TJ_TRY(need(op, in, 1));
      if (in[0].size() != 1 || is_float(in[0].type) ||
          (op.code == OpCode::kIf) != (in[0].type == ElemType::kBool))
        return err(op, ErrorCode::kInvalidInput, "if needs an i1 predicate, case an integer index");
      return lower_branches(op, scalarize(in[0]), scope);
    }
    case OpCode::kCustomCall:
      return lower_custom_call(op, in);
    default:  // a return outside a block's end
      return not_lowered(op, "this operation");
  }
}

Expected<std::vector<TVal>> Lowerer::lower_custom_call(const Op& op, TVals& in) {
  std::string target = op.args.empty() ? "" : op.args[0].text;
  if (const Attr* a = op.attr("call_target_name")) target = "@" + a->text;
  if (target.rfind("@check.", 0) == 0) {
    TJ_TRY(lower_check(op, target.substr(1), std::move(in)));
    return std::vector<TVal>{};
  }
  return err(op, ErrorCode::kUnsupported, "custom_call " + target + " is not supported");
}

// interpreter.probe hands the value to the runtime each time it runs.
Expected<std::vector<TVal>> Lowerer::lower_probe(const Op& op, TVals& in) {
  std::string key;
  if (std::string why = probe_key(op, in.size(), !in.empty() && in[0].is_tuple, key); !why.empty())
    return err(op, ErrorCode::kInvalidInput, why);
  TVal x = materialize(in[0]);
  touch(x.buf);
  entry_->probe_points.push_back({key, TensorShape{x.type, x.shape}});
  if (op.code == OpCode::kPrint) {
    call("tj_shlo_probe", b.getVoidTy(),
         {ctx_, b.getInt32(int32_t(entry_->probe_points.size() - 1)), x.ptr});
    return std::vector<TVal>{};
  }
  call("tj_shlo_probe", b.getVoidTy(),
       {ctx_, b.getInt32(int32_t(entry_->probe_points.size() - 1)), x.ptr});
  return one(std::move(x));
}

Expected<std::vector<TVal>> Lowerer::lower_process_id(const Op& op) {
  TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
  if (is_float(r.type) || r.size() != 1)
    return err(op, ErrorCode::kInvalidInput, "result must be an integer scalar");
  r.scalar = iconst(r.type, op.code == OpCode::kReplicaId ? replica_ : partition_);
  return one(std::move(r));
}

// ---- checks ----

Status Lowerer::lower_check(const Op& op, const std::string& name, std::vector<TVal> in) {
  if (control_ > 0) return not_lowered(op, "a check inside a loop, branch or body");
  LoweredEntry::Probe p;
  p.op = &op;
  p.name = name;
  for (TVal& v : in) {
    size_t slot = own_results_ + entry_->probe_shapes.size();
    entry_->probe_shapes.push_back(TensorShape{v.type, v.shape});
    Value* ptr =
        b.CreateLoad(b.getPtrTy(), b.CreateConstInBoundsGEP1_64(b.getPtrTy(), results_, slot));
    TVal dst;
    dst.type = v.type;
    dst.shape = v.shape;
    dst.ptr = ptr;
    store_into(dst, v);
    p.slots.push_back(slot);
  }
  entry_->probes.push_back(std::move(p));
  return {};
}

Expected<std::vector<TVal>> Lowerer::inline_call(const Op& site, const std::string& name,
                                                 std::vector<TVal> args) {
  const Func* f = nullptr;
  for (const Func& g : mod_.funcs)
    if (g.name == name) f = &g;
  if (f == nullptr) return err(site, ErrorCode::kInvalidInput, "call to unknown function @" + name);
  if (args.size() != f->args.size())
    return err(site, ErrorCode::kInvalidInput,
               "@" + name + " takes " + std::to_string(f->args.size()) + " arguments");
  if (inline_depth_ >= 32)
    return err(site, ErrorCode::kUnsupported, "calls nested over 32 deep (recursion?)");
  auto [it, fresh] = use_maps_.try_emplace(f);
  if (fresh) count_uses(f->body, it->second);
  const auto* saved = uses_;
  uses_ = &it->second;
  ++inline_depth_;
  Scope scope;
  for (size_t k = 0; k < args.size(); ++k) scope.vals[f->args[k].first] = {args[k]};
  auto r = f->body.blocks.empty() ? Expected<std::vector<TVal>>(std::vector<TVal>{})
                                  : lower_block(f->body.blocks[0], scope);
  --inline_depth_;
  uses_ = saved;
  if (!r.ok()) return r;
  // Lazy results may read the callee's values: those are all in `scope`, gone after this
  // return, but generators capture what they read by value, so they stay valid.
  return r;
}

// ---- control flow ----

Expected<std::vector<TVal>> Lowerer::lower_while(const Op& op, std::vector<TVal> in,
                                                 const Scope& scope) {
  if (op.regions.size() != 2)
    return err(op, ErrorCode::kInvalidInput, "while needs cond and body regions");
  std::vector<TVal> state;
  for (const TVal& v : in) {
    TVal s = new_buffer(v.type, v.shape);
    store_into(s, v);
    state.push_back(s);
  }
  loops_.push_back(LoopMark{seq_, {}});
  ++control_;
  auto* cond_bb = llvm::BasicBlock::Create(C, "while.cond", fn_);
  auto* body_bb = llvm::BasicBlock::Create(C, "while.body", fn_);
  auto* exit_bb = llvm::BasicBlock::Create(C, "while.end", fn_);
  b.CreateBr(cond_bb);
  b.SetInsertPoint(cond_bb);
  Status status;
  auto c = lower_region(op.regions[0], state, scope, op.bound_names);
  if (!c.ok()) status = c.take_error();
  if (status.ok() && (c->size() != 1 || (*c)[0].type != ElemType::kBool))
    status = err(op, ErrorCode::kInvalidInput, "while condition must return tensor<i1>");
  if (status.ok()) {
    b.CreateCondBr(at((*c)[0], {}), body_bb, exit_bb);
    b.SetInsertPoint(body_bb);
    auto r = lower_region(op.regions[1], state, scope, op.bound_names);
    if (!r.ok()) status = r.take_error();
    if (status.ok() && r->size() != state.size())
      status = err(op, ErrorCode::kInvalidInput, "while body returns the wrong number of values");
    if (status.ok()) {
      // New values first (they may read the old state), then the state update.
      std::vector<TVal> next;
      for (size_t k = 0; k < state.size(); ++k) {
        const TVal& v = (*r)[k];
        bool other_state = false;
        for (size_t j = 0; j < state.size(); ++j) other_state |= j != k && v.ptr == state[j].ptr;
        if (v.ptr == state[k].ptr) {
          next.push_back(v);
        } else if (other_state) {  // (a, b) -> (b, a): copy before either is overwritten
          TVal tmp = new_buffer(v.type, v.shape);
          store_into(tmp, v);
          next.push_back(tmp);
        } else {
          next.push_back(stable(v));
        }
      }
      for (size_t k = 0; k < state.size(); ++k)
        if (next[k].ptr != state[k].ptr) store_into(state[k], next[k]);
      b.CreateBr(cond_bb);
    }
  }
  if (!status.ok()) {
    // Leave the function well formed for the error path.
    if (!b.GetInsertBlock()->getTerminator()) b.CreateBr(exit_bb);
  }
  b.SetInsertPoint(exit_bb);
  --control_;
  ++seq_;
  LoopMark mark = std::move(loops_.back());
  loops_.pop_back();
  for (int buf : mark.touched) {
    Buf& x = bufs_.at(size_t(buf));
    if (x.first <= mark.start) x.last = std::max(x.last, seq_);
  }
  TJ_TRY(status);
  return state;
}

Expected<std::vector<TVal>> Lowerer::lower_branches(const Op& op, const TVal& sel,
                                                    const Scope& scope) {
  bool is_if = op.code == OpCode::kIf;
  if (op.regions.empty() || (is_if && op.regions.size() != 2))
    return err(op, ErrorCode::kInvalidInput, "if needs two regions, case at least one");
  std::vector<TVal> outs;
  for (size_t k = 0; k < op.result_types.size(); ++k) {
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, k));
    outs.push_back(new_buffer(r.type, r.shape));
  }
  auto* done = llvm::BasicBlock::Create(C, "branch.end", fn_);
  std::vector<llvm::BasicBlock*> arms;
  for (size_t k = 0; k < op.regions.size(); ++k)
    arms.push_back(llvm::BasicBlock::Create(C, "branch", fn_));
  Value* s = sel.scalar;
  if (is_if) {
    b.CreateCondBr(s, arms[0], arms[1]);
  } else {  // out-of-range indices select the last region (spec "case")
    auto* sw = b.CreateSwitch(to_i64(sel.type, s), arms.back(), unsigned(arms.size()));
    for (size_t k = 0; k + 1 < arms.size(); ++k) sw->addCase(b.getInt64(int64_t(k)), arms[k]);
  }
  ++control_;
  Status status;
  for (size_t k = 0; k < arms.size(); ++k) {
    b.SetInsertPoint(arms[k]);
    auto r = lower_region(op.regions[k], {}, scope);
    if (!r.ok()) {
      status = r.take_error();
    } else if (r->size() != outs.size()) {
      status = err(op, ErrorCode::kInvalidInput, "a branch returns the wrong number of values");
    } else {
      for (size_t j = 0; j < outs.size(); ++j) store_into(outs[j], (*r)[j]);
    }
    b.CreateBr(done);
    if (!status.ok()) break;
  }
  --control_;
  for (llvm::BasicBlock* bb : arms)
    if (!bb->getTerminator()) {
      b.SetInsertPoint(bb);
      b.CreateBr(done);
    }
  b.SetInsertPoint(done);
  TJ_TRY(status);
  return outs;
}

// ---- entries ----

// run_parallel as the evaluator runs it (collectives.hpp), at compile time: the scheduler
// decides the order, and the programs' ops are emitted in that order into the one function,
// each under its own replica and partition ids.
Expected<std::vector<TVal>> Lowerer::lower_run_parallel(const Op& op, std::vector<TVal> in) {
  if (in_parallel_) return not_lowered(op, "run_parallel inside run_parallel");
  TJ_ASSIGN_OR_RETURN(ParallelSetup ps, parallel_setup(op, mod_, in.size(), file_));
  std::vector<ParallelProgram>& programs = ps.programs;
  std::vector<Scope> scopes(programs.size());
  for (size_t p = 0; p < programs.size(); ++p) {
    const Func* f = programs[p].func;
    for (size_t k = ps.operands[p].first; k < ps.operands[p].second; ++k)
      scopes[p].vals[f->args.at(k - ps.operands[p].first).first] = {in.at(k)};
    auto [it, fresh] = use_maps_.try_emplace(f);
    if (fresh) count_uses(f->body, it->second);
  }
  std::vector<std::vector<TVal>> results(programs.size());
  const auto* saved_uses = uses_;
  auto enter = [&](size_t p) {
    replica_ = programs[p].replica, partition_ = programs[p].partition;
    uses_ = &use_maps_.at(programs[p].func);
  };
  ParallelHooks hooks;
  hooks.step = [&](size_t p, const Op& o) -> Status {
    enter(p);
    return lower_one(o, scopes[p]);
  };
  hooks.finish = [&](size_t p, const Op& ret) -> Status {
    enter(p);
    TJ_ASSIGN_OR_RETURN(std::vector<TVal> vals, operands_of(ret, scopes[p]));
    for (const TVal& x : vals)
      results[p].push_back(x.is_tuple ? x : stable(x));  // computed under the program's ids
    return {};
  };
  hooks.collective = [&](const std::vector<size_t>& members,
                         const std::vector<const Op*>& ops) -> Status {
    std::vector<std::vector<TVal>> operands(members.size());
    std::vector<int64_t> group;
    for (size_t j = 0; j < members.size(); ++j) {
      group.push_back(int64_t(members[j]));
      TJ_ASSIGN_OR_RETURN(operands[j], operands_of(*ops[j], scopes[members[j]]));
    }
    ++seq_;
    TJ_ASSIGN_OR_RETURN(auto res, lower_collective(group, ops, operands, scopes[members[0]]));
    for (size_t j = 0; j < members.size(); ++j) {
      enter(members[j]);
      bind(*ops[j], scopes[members[j]], std::move(res[j]));
    }
    return {};
  };
  grid_ = ps.grid, in_parallel_ = true;
  mail_.reset(std::move(ps.infeed));
  Status st = run_lockstep(op, programs, ps.grid, file_, hooks);
  grid_ = Grid{}, in_parallel_ = false;
  mail_.reset({});
  replica_ = partition_ = 0;
  uses_ = saved_uses;
  current_ = &op;
  TJ_TRY(st);
  std::vector<TVal> out;
  for (auto& r : results)
    for (auto& v : r) out.push_back(std::move(v));
  return out;
}

// Tokens and data in and out of programs, as the evaluator defines them: messages and infeed
// values are known at compile time (the schedule is), so they are plain values here.
Expected<std::vector<TVal>> Lowerer::lower_distribution(const Op& op, std::vector<TVal> in,
                                                        const Scope& scope) {
  const OpCode code = op.code;
  if (code == OpCode::kAfterAll || code == OpCode::kCreateToken || code == OpCode::kOutfeed)
    return std::vector<TVal>{token()};
  if (code == OpCode::kSend) {
    if (!in.empty() && in.back().is_tuple) in.pop_back();
    for (TVal& v : in) {
      if (v.is_tuple) return not_lowered(op, "a tuple message");
      v = stable(v);
    }
    mail_.channels[channel_id(op)].push_back(std::move(in));
    return std::vector<TVal>{token()};
  }
  if (code == OpCode::kRecv || code == OpCode::kInfeed) {
    std::vector<TVal> got;
    if (code == OpCode::kRecv) {
      TJ_ASSIGN_OR_RETURN(got, mail_.recv(op, file_));
    } else {
      TJ_ASSIGN_OR_RETURN(std::string fn, mail_.next_infeed(op, file_));
      TJ_ASSIGN_OR_RETURN(got, inline_call(op, fn, {}));
      current_ = &op;
    }
    std::vector<Type> want = op.result_types;
    if (!want.empty() && want.back().kind == Type::Kind::kOther) want.pop_back();
    if (got.size() != want.size())
      return err(op, ErrorCode::kInvalidInput,
                 "receives " + std::to_string(got.size()) + " values, declares " +
                     std::to_string(want.size()));
    for (size_t k = 0; k < want.size(); ++k) {
      TJ_ASSIGN_OR_RETURN(TVal t, result_shape(op, k));
      if (got[k].is_tuple || t.type != got[k].type || t.shape != got[k].shape)
        return err(op, ErrorCode::kInvalidInput,
                   "received a value of another type than result type " + want[k].text);
    }
    got.push_back(token());
    return got;
  }
  if (in_parallel_)
    return not_lowered(op,
                       "a collective inside a region or a called function of a "
                       "run_parallel program (only in the program's body)");
  TJ_ASSIGN_OR_RETURN(auto res, lower_collective({0}, {&op}, {std::move(in)}, scope));
  return std::move(res.at(0));
}

Expected<std::vector<std::vector<TVal>>> Lowerer::lower_collective(
    const std::vector<int64_t>& group, const std::vector<const Op*>& ops,
    const std::vector<std::vector<TVal>>& operands, const Scope& scope) {
  std::vector<std::vector<TVal>> out(group.size());
  for (size_t me = 0; me < group.size(); ++me) {
    const Op& op = *ops[me];
    current_ = &op;
    std::vector<std::vector<int64_t>> result_shapes;
    std::vector<TVal> results;
    for (size_t k = 0; k < op.result_types.size(); ++k) {
      TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, k));
      result_shapes.push_back(r.shape);
      results.push_back(std::move(r));
    }
    std::vector<std::vector<OperandType>> types(operands.size());
    for (size_t m = 0; m < operands.size(); ++m)
      for (const TVal& t : operands[m]) types[m].push_back({!t.is_tuple, t.type, t.shape});
    TJ_ASSIGN_OR_RETURN(CollectivePlan plan,
                        plan_collective(op, group, me, grid_, types, result_shapes, file_));
    for (size_t k = 0; k < plan.results.size(); ++k) {
      const CollectivePlan::Result& pr = plan.results[k];
      const TVal& want = results.at(k);
      if (want.type != operands[me].at(k).type)
        return err(op, ErrorCode::kInvalidInput, "result and operand element types differ");
      auto src_idx = [&](const BlockCopy& c, const Idx& idx) {
        Idx src(idx.size());
        for (size_t a = 0; a < idx.size(); ++a)
          src[a] = c.src_start[a] == 0 ? idx[a] : b.CreateAdd(idx[a], b.getInt64(c.src_start[a]));
        return src;
      };
      if (pr.kind == CollectivePlan::Kind::kDynamicRoot) {  // select by the root at run time
        TVal root = operands[me].back();
        std::vector<TVal> cands;
        for (const BlockCopy& c : pr.parts) cands.push_back(operands.at(c.member).at(k));
        TVal r = want;
        int64_t which = int64_t(k);
        r.gen = [this, root, cands, which](const Idx& idx) {
          Value* m = b.CreateSExtOrTrunc(at(root, {b.getInt64(which)}), i64());
          Value* v = at(cands.back(), idx);
          for (size_t c = cands.size() - 1; c-- > 0;)
            v = b.CreateSelect(b.CreateICmpEQ(m, b.getInt64(int64_t(c))), at(cands[c], idx), v);
          return v;
        };
        out[me].push_back(std::move(r));
        continue;
      }
      auto at_origin = [&](const std::vector<int64_t>& start) {  // all zeros, one per axis
        return start.size() == want.shape.size() &&
               std::all_of(start.begin(), start.end(), [](int64_t v) { return v == 0; });
      };
      if (pr.kind == CollectivePlan::Kind::kCopy && pr.parts.size() == 1 &&
          pr.parts[0].shape == want.shape && at_origin(pr.parts[0].src_start)) {
        out[me].push_back(operands.at(pr.parts[0].member).at(pr.parts[0].operand));
        continue;  // the whole operand of one member (permute, broadcast)
      }
      TVal r = new_buffer(want.type, want.shape);
      Status status;
      ++control_;
      if (pr.kind == CollectivePlan::Kind::kCopy) {
        int64_t covered = 0;
        for (const BlockCopy& c : pr.parts) {
          int64_t e = 1;
          for (int64_t d : c.shape) e *= d;
          covered += e;
        }
        if (covered != r.size())  // zeros where no block lands
          loop_nest(r.shape, [&](const Idx& idx) {
            store_at(r, linear(r.shape, idx), llvm::Constant::getNullValue(val_ty(r.type)));
          });
        for (const BlockCopy& c : pr.parts) {
          const TVal& x = operands.at(c.member).at(c.operand);
          loop_nest(c.shape, [&](const Idx& idx) {
            Idx dst(idx.size());
            for (size_t a = 0; a < idx.size(); ++a)
              dst[a] =
                  c.dst_start[a] == 0 ? idx[a] : b.CreateAdd(idx[a], b.getInt64(c.dst_start[a]));
            store_at(r, linear(r.shape, dst), at(x, src_idx(c, idx)));
          });
        }
      } else {  // fold body(acc, x) over the members in group order, like the evaluator
        loop_nest(r.shape, [&](const Idx& idx) {
          const BlockCopy& c0 = pr.parts.at(0);
          Value* acc = at(operands.at(c0.member).at(c0.operand), src_idx(c0, idx));
          for (size_t m = 1; m < pr.parts.size() && status.ok(); ++m) {
            const BlockCopy& c = pr.parts[m];
            Value* x = at(operands.at(c.member).at(c.operand), src_idx(c, idx));
            auto v = body(op, "", scope, {r.type, r.type}, {acc, x});
            if (!v.ok()) {
              status = v.take_error();
              return;
            }
            if (v->size() != 1) {
              status = err(op, ErrorCode::kInvalidInput, "the body must return one value");
              return;
            }
            acc = v->at(0);
          }
          store_at(r, linear(r.shape, idx), acc);
        });
      }
      --control_;
      TJ_TRY(status);
      out[me].push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace tierjit::shlo::lower_impl
