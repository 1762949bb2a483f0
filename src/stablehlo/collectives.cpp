// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "stablehlo/collectives.hpp"

#include <algorithm>
#include <map>

#include "stablehlo/attrs.hpp"

namespace tierjit::shlo {

namespace {

Error located(const Op& op, const std::string& file, const std::string& msg) {
  return make_error(ErrorCode::kInvalidInput, op.name + ": " + msg,
                    SourceLoc{file, op.loc.line, op.loc.col});
}

// A 2-D integer attribute (replica_groups, source_target_pairs) as rows; -1 entries (the
// padding of uneven groups) are dropped. A 1-D or untyped value is one row.
std::vector<std::vector<int64_t>> rows_of(const Attr* a) {
  std::vector<std::vector<int64_t>> rows;
  if (a == nullptr) return rows;
  std::vector<int64_t> flat = ints_of(*a);
  size_t width = flat.size();
  if (!a->type.empty() && a->type[0].dims.size() == 2 && a->type[0].dims[1] > 0)
    width = size_t(a->type[0].dims[1]);
  for (size_t at = 0; width > 0 && at < flat.size(); at += width) {
    std::vector<int64_t> row;
    for (size_t k = at; k < at + width && k < flat.size(); ++k)
      if (flat[k] >= 0) row.push_back(flat[k]);
    rows.push_back(std::move(row));
  }
  return rows;
}

bool flag(const Op& op, const char* key) {
  const Attr* a = op.attr(key);
  return a != nullptr && (a->kind == Attr::Kind::kUnit || (a->kind == Attr::Kind::kBool && a->b));
}

std::string dims_text(const std::vector<int64_t>& v) {
  std::string t = "[";
  for (size_t k = 0; k < v.size(); ++k) {
    if (k) t += 'x';
    t += std::to_string(v[k]);
  }
  return t + "]";
}

int64_t attr_int(const Op& op, const char* key, int64_t fallback) {
  std::vector<int64_t> v = op_ints(op, key);
  return v.empty() ? fallback : v[0];
}

}  // namespace

bool is_collective(OpCode code) { return op_family(code) == OpFamily::kCollective; }

int64_t channel_id(const Op& op) {
  if (const Attr* a = op.attr("channel_handle")) {
    std::vector<int64_t> h = field_ints(*a, "handle");
    if (!h.empty()) return h[0];
  }
  return attr_int(op, "channel_id", 0);
}

Expected<std::vector<int64_t>> process_group(const Op& op, const Grid& grid, int64_t self,
                                             const std::string& file) {
  const OpCode code = op.code;
  const int64_t R = grid.replicas, P = grid.partitions;
  const int64_t r = self / P, p = self % P;
  const bool channel = channel_id(op) > 0;
  std::vector<int64_t> group;
  auto check = [&](int64_t id, int64_t limit, const char* what) -> Status {
    if (id < 0 || id >= limit)
      return located(op, file,
                     std::string(what) + " id " + std::to_string(id) + " is outside the grid (" +
                         std::to_string(R) + " replicas x " + std::to_string(P) + " partitions)");
    return {};
  };
  if (code == OpCode::kCollectivePermute) {  // the line of the grid the pairs index
    for (const auto& pair : rows_of(op.attr("source_target_pairs"))) {
      if (pair.size() != 2) return located(op, file, "source_target_pairs must be [N, 2]");
      for (int64_t id : pair) TJ_TRY(check(id, channel ? P : R, channel ? "partition" : "replica"));
    }
    if (channel) {
      for (int64_t q = 0; q < P; ++q) group.push_back(r * P + q);
    } else {
      for (int64_t x = 0; x < R; ++x) group.push_back(x * P + p);
    }
    return group;
  }
  const auto groups = rows_of(op.attr("replica_groups"));
  const bool by_partition =
      (code == OpCode::kAllToAll || code == OpCode::kCollectiveBroadcast) && channel;
  const bool flattened = channel && flag(op, "use_global_device_ids") && !by_partition;
  const bool both = channel && !flattened && !by_partition;
  {
    std::vector<int64_t> seen;
    for (const auto& g : groups) seen.insert(seen.end(), g.begin(), g.end());
    std::sort(seen.begin(), seen.end());
    if (std::adjacent_find(seen.begin(), seen.end()) != seen.end())
      return located(op, file, "replica_groups must not repeat an id (C2)");
  }
  for (const auto& g : groups) {
    const int64_t key = flattened ? self : by_partition ? p : r;
    if (std::find(g.begin(), g.end(), key) == g.end()) continue;
    if (flattened) {
      for (int64_t id : g) TJ_TRY(check(id, R * P, "process"));
      return g;
    }
    if (by_partition) {
      for (int64_t q : g) {
        TJ_TRY(check(q, P, "partition"));
        group.push_back(r * P + q);
      }
      return group;
    }
    for (int64_t x : g) TJ_TRY(check(x, R, "replica"));
    if (both) {
      for (int64_t q = 0; q < P; ++q)
        for (int64_t x : g) group.push_back(x * P + q);
    } else {
      for (int64_t x : g) group.push_back(x * P + p);
    }
    return group;
  }
  return std::vector<int64_t>{self};  // in no group: the process alone
}

namespace {

// The shapes of member `me`'s operands, which every member of the group must pass alike.
Expected<std::vector<std::vector<int64_t>>> operand_shapes(
    const Op& op, const std::vector<std::vector<OperandType>>& operands, size_t me,
    const std::string& file) {
  std::vector<std::vector<int64_t>> shapes;
  for (const OperandType& t : operands.at(me)) {
    if (!t.tensor) return located(op, file, "operands must be tensors");
    shapes.push_back(t.shape);
  }
  for (const auto& other : operands) {
    bool same = other.size() == shapes.size();
    for (size_t k = 0; same && k < other.size(); ++k)
      same =
          other[k].tensor && other[k].shape == shapes[k] && other[k].type == operands[me][k].type;
    if (!same)
      return located(op, file, "the processes of a group pass operands of different types");
  }
  return shapes;
}

}  // namespace

Expected<CollectivePlan> plan_collective(const Op& op, const std::vector<int64_t>& group, size_t me,
                                         const Grid& grid,
                                         const std::vector<std::vector<OperandType>>& operands,
                                         const std::vector<std::vector<int64_t>>& result_shapes,
                                         const std::string& file) {
  const OpCode code = op.code;
  TJ_ASSIGN_OR_RETURN(std::vector<std::vector<int64_t>> shapes,
                      operand_shapes(op, operands, me, file));
  const size_t G = group.size();
  CollectivePlan plan;
  auto want = [&](size_t k, const std::vector<int64_t>& shape) -> Status {
    if (k >= result_shapes.size()) return located(op, file, "missing result type");
    if (result_shapes[k] != shape)
      return located(op, file,
                     "result " + std::to_string(k) + " has shape " + dims_text(result_shapes[k]) +
                         ", expected " + dims_text(shape));
    return {};
  };
  auto dim_of = [&](const char* key, size_t rank) -> Expected<size_t> {
    int64_t d = attr_int(op, key, -1);
    if (d < 0 || size_t(d) >= rank)
      return located(op, file, std::string(key) + " must be in [0, " + std::to_string(rank) + ")");
    return size_t(d);
  };
  auto whole = [](size_t m, size_t k, const std::vector<int64_t>& shape) {
    return BlockCopy{m, k, std::vector<int64_t>(shape.size(), 0),
                     std::vector<int64_t>(shape.size(), 0), shape};
  };
  const int64_t me_id = group.at(me);
  if (code == OpCode::kCollectivePermute) {  // members are the line; ids are positions in it
    int64_t source = -1;
    for (const auto& pair : rows_of(op.attr("source_target_pairs")))
      if (pair.size() == 2 && pair[1] == int64_t(me)) {
        if (source >= 0) return located(op, file, "two sources send to one target");
        source = pair[0];
      }
    for (size_t k = 0; k < shapes.size(); ++k) {
      TJ_TRY(want(k, shapes[k]));
      CollectivePlan::Result res;
      if (source >= 0 && size_t(source) < G)
        res.parts.push_back(whole(size_t(source), k, shapes[k]));
      plan.results.push_back(std::move(res));
    }
    return plan;
  }
  if (code == OpCode::kAllGather) {
    for (size_t k = 0; k < shapes.size(); ++k) {
      TJ_ASSIGN_OR_RETURN(size_t d, dim_of("all_gather_dim", shapes[k].size()));
      std::vector<int64_t> out = shapes[k];
      out[d] *= int64_t(G);
      TJ_TRY(want(k, out));
      CollectivePlan::Result res;
      for (size_t m = 0; m < G; ++m) {
        BlockCopy c = whole(m, k, shapes[k]);
        c.dst_start[d] = int64_t(m) * shapes[k][d];
        res.parts.push_back(std::move(c));
      }
      plan.results.push_back(std::move(res));
    }
    return plan;
  }
  if (code == OpCode::kAllReduce || code == OpCode::kCollectiveReduce ||
      code == OpCode::kReduceScatter) {
    if (op.regions.empty()) return located(op, file, "needs a reduction body");
    for (size_t k = 0; k < shapes.size(); ++k) {
      std::vector<int64_t> out = shapes[k];
      std::vector<int64_t> start(out.size(), 0);
      if (code == OpCode::kReduceScatter) {
        TJ_ASSIGN_OR_RETURN(size_t d, dim_of("scatter_dimension", out.size()));
        if (out[d] % int64_t(G) != 0)
          return located(op, file,
                         "scatter dimension " + std::to_string(out[d]) + " does not split into " +
                             std::to_string(G) + " parts");
        out[d] /= int64_t(G);
        start[d] = int64_t(me) * out[d];
      }
      TJ_TRY(want(k, out));
      CollectivePlan::Result res;
      if (code == OpCode::kCollectiveReduce && me != 0) {  // only the root receives the reduction
        plan.results.push_back(std::move(res));
        continue;
      }
      res.kind = CollectivePlan::Kind::kReduce;
      for (size_t m = 0; m < G; ++m)
        res.parts.push_back(BlockCopy{m, k, start, std::vector<int64_t>(out.size(), 0), out});
      plan.results.push_back(std::move(res));
    }
    return plan;
  }
  if (code == OpCode::kAllToAll) {
    if (attr_int(op, "split_count", -1) != int64_t(G))
      return located(op, file,
                     "split_count must equal the process group's size " + std::to_string(G));
    for (size_t k = 0; k < shapes.size(); ++k) {
      TJ_ASSIGN_OR_RETURN(size_t sd, dim_of("split_dimension", shapes[k].size()));
      TJ_ASSIGN_OR_RETURN(size_t cd, dim_of("concat_dimension", shapes[k].size()));
      if (shapes[k][sd] % int64_t(G) != 0)
        return located(op, file, "split dimension does not split into split_count parts");
      std::vector<int64_t> block = shapes[k];
      block[sd] /= int64_t(G);
      std::vector<int64_t> out = block;
      out[cd] *= int64_t(G);
      TJ_TRY(want(k, out));
      CollectivePlan::Result res;
      for (size_t m = 0; m < G; ++m) {  // member m's block `me`, placed m-th along cd
        BlockCopy c = whole(m, k, block);
        c.src_start[sd] = int64_t(me) * block[sd];
        c.dst_start[cd] = int64_t(m) * block[cd];
        res.parts.push_back(std::move(c));
      }
      plan.results.push_back(std::move(res));
    }
    return plan;
  }
  if (code == OpCode::kCollectiveBroadcast) {
    const bool dynamic = flag(op, "has_dynamic_root");
    size_t data = dynamic ? shapes.size() - 1 : shapes.size();
    if (dynamic && (shapes.empty() || shapes.back() != std::vector<int64_t>{int64_t(data)}))
      return located(op, file, "has_dynamic_root needs a last operand of one root per operand");
    bool grouped = false;
    for (const auto& g : rows_of(op.attr("replica_groups")))
      for (int64_t id : g)
        grouped = grouped ||
                  id == (channel_id(op) > 0 ? me_id % grid.partitions : me_id / grid.partitions);
    for (size_t k = 0; k < data; ++k) {
      TJ_TRY(want(k, shapes[k]));
      CollectivePlan::Result res;
      if (grouped) {
        if (dynamic) {
          res.kind = CollectivePlan::Kind::kDynamicRoot;
          for (size_t m = 0; m < G; ++m) res.parts.push_back(whole(m, k, shapes[k]));
        } else {
          res.parts.push_back(whole(0, k, shapes[k]));
        }
      }
      plan.results.push_back(std::move(res));
    }
    return plan;
  }
  return make_error(ErrorCode::kUnsupported, op.name + ": not a collective op",
                    SourceLoc{file, op.loc.line, op.loc.col});
}

Expected<ParallelSetup> parallel_setup(const Op& op, const Module& m, size_t operands,
                                       const std::string& file) {
  const Attr* progs = op.attr("programs");
  if (!progs || progs->kind != Attr::Kind::kArray || progs->items.empty())
    return located(op, file, "run_parallel needs programs = [[@f, ...], ...]");
  ParallelSetup ps;
  ps.grid = Grid{int64_t(progs->items.size()), int64_t(progs->items[0].items.size())};
  auto name_of = [](const Attr& sym) { return sym.text.substr(sym.text.rfind('@', 0) == 0); };
  size_t next = 0;
  for (size_t r = 0; r < progs->items.size(); ++r) {
    const Attr& row = progs->items[r];
    if (int64_t(row.items.size()) != ps.grid.partitions || row.items.empty())
      return located(op, file, "programs rows must have one length");
    for (size_t q = 0; q < row.items.size(); ++q) {
      const Attr& sym = row.items[q];
      if (sym.kind != Attr::Kind::kSymbol) return located(op, file, "programs must be symbols");
      const Func* f = nullptr;
      for (const Func& g : m.funcs)
        if (g.name == name_of(sym)) f = &g;
      if (!f) return located(op, file, "run_parallel: unknown function @" + name_of(sym));
      if (next + f->args.size() > operands)
        return located(op, file, "run_parallel: not enough operands for the programs");
      ps.programs.push_back(ParallelProgram{f, int64_t(r), int64_t(q)});
      ps.operands.emplace_back(next, next + f->args.size());
      next += f->args.size();
    }
  }
  if (const Attr* a = op.attr("infeed"))
    for (const Attr& sym : a->items) ps.infeed.push_back(name_of(sym));
  return ps;
}

Status run_lockstep(const Op& site, std::vector<ParallelProgram>& programs, const Grid& grid,
                    const std::string& file, ParallelHooks& hooks) {
  if (int64_t(programs.size()) != grid.processes())
    return located(site, file, "programs must form a full replicas x partitions grid");
  std::map<int64_t, int64_t> pending;  // messages sent and not yet received, per channel
  auto op_at = [](const ParallelProgram& p) -> const Op* {
    const auto& ops = p.func->body.blocks.at(0).ops;
    return p.pc < ops.size() ? &ops[p.pc] : nullptr;
  };
  for (auto& p : programs)
    if (p.func->body.blocks.empty()) p.done = true;
  for (;;) {
    bool progress = false;
    // Run every program up to its next synchronizing op.
    for (size_t k = 0; k < programs.size(); ++k) {
      ParallelProgram& p = programs[k];
      while (!p.done) {
        const Op* op = op_at(p);
        if (op == nullptr) {  // a body without return
          p.done = true;
          break;
        }
        const OpCode code = op->code;
        if (is_return(code)) {
          TJ_TRY(hooks.finish(k, *op));
          p.done = progress = true;
          break;
        }
        if (is_collective(code)) break;
        if (code == OpCode::kRecv) {
          int64_t& waiting = pending[channel_id(*op)];
          if (waiting == 0) break;
          --waiting;
        }
        TJ_TRY(hooks.step(k, *op));
        if (code == OpCode::kSend) ++pending[channel_id(*op)];
        ++p.pc;
        progress = true;
      }
    }
    bool all_done = std::all_of(programs.begin(), programs.end(),
                                [](const ParallelProgram& p) { return p.done; });
    if (all_done) return {};
    // Run each collective whose whole process group has reached it.
    for (size_t k = 0; k < programs.size(); ++k) {
      const ParallelProgram& p = programs[k];
      const Op* op = p.done ? nullptr : op_at(p);
      if (op == nullptr || !is_collective(op->code)) continue;
      TJ_ASSIGN_OR_RETURN(std::vector<int64_t> group, process_group(*op, grid, int64_t(k), file));
      std::vector<size_t> members;
      std::vector<const Op*> ops;
      bool ready = true;
      for (int64_t id : group) {
        const ParallelProgram& q = programs.at(size_t(id));
        const Op* qop = q.done ? nullptr : op_at(q);
        if (qop == nullptr || qop->code != op->code) {
          ready = false;
          break;
        }
        auto qgroup = process_group(*qop, grid, id, file);
        if (!qgroup.ok()) return qgroup.take_error();
        if (*qgroup != group) {
          ready = false;
          break;
        }
        members.push_back(size_t(id));
        ops.push_back(qop);
      }
      if (!ready) continue;
      TJ_TRY(hooks.collective(members, ops));
      for (size_t m : members) ++programs[m].pc;
      progress = true;
    }
    if (!progress) {
      for (const auto& p : programs)
        if (!p.done)
          return located(*op_at(p), file,
                         "the programs of run_parallel wait on each other (replica " +
                             std::to_string(p.replica) + ", partition " +
                             std::to_string(p.partition) +
                             " waits here for a process group or a message that never comes)");
    }
  }
}

}  // namespace tierjit::shlo
