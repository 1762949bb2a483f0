// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Distribution ops of StableHLO programs run by `interpreter.run_parallel` (the StableHLO
// interpreter's grid of replicas x partitions), shared by the evaluator and the lowering.
//
// Programs run in lockstep, not on threads: each program executes its ops in order until it
// reaches a synchronizing op — a collective (all_gather, all_reduce, all_to_all,
// collective_broadcast, collective_permute, collective_reduce, reduce_scatter) or a recv
// whose channel holds no message — and a collective runs once every process of its process
// group stands at one (spec "Collective ops": a barrier within each process group). Because
// the schedule is fixed by the program text, the lowering runs the same scheduler at compile
// time and emits the programs interleaved into one function; the evaluator runs it at run
// time. A collective must be an op of the program's function body itself (not inside a
// region or a called function); the engines report anything else as unsupported.
//
// What each process receives is described by a CollectivePlan, built from the op's
// attributes and the operand shapes (spec sections all_gather, all_reduce, all_to_all,
// collective_broadcast, collective_permute, reduce_scatter; collective_reduce follows the
// StableHLO interpreter tests: the group's first process receives the reduction, the others
// zeros), so the engines only copy blocks and fold elements.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "stablehlo/ast.hpp"
#include "stablehlo/tensor.hpp"
#include "tierjit/error.hpp"

namespace tierjit::shlo {

/// The process grid: process (replica, partition) has the flat id replica * partitions +
/// partition. run_parallel's `programs` has one row per replica, one column per partition.
struct Grid {
  int64_t replicas = 1, partitions = 1;
  int64_t processes() const { return replicas * partitions; }
};

/// Whether `code` is a collective op (ops.def family kCollective).
bool is_collective(OpCode code);

/// The channel id of a distribution op: channel_handle's `handle` (or channel_id); 0 when
/// absent.
int64_t channel_id(const Op& op);

/// The processes of `self`'s process group for collective `op`, as flat ids in group order,
/// per the op's grouping strategy (spec: cross_replica, cross_partition,
/// cross_replica_and_partition, flattened_ids). A process in no group gets just itself.
/// collective_permute's "group" is every process it can exchange with (its replica's or its
/// partition's line of the grid). Errors: kInvalidInput for ids outside the grid, located at
/// `op` in `file`.
Expected<std::vector<int64_t>> process_group(const Op& op, const Grid& grid, int64_t self,
                                             const std::string& file);

/// A box of elements copied from an operand of a group member into a result.
struct BlockCopy {
  size_t member = 0;   ///< index in the process group
  size_t operand = 0;  ///< which operand of that member's op
  std::vector<int64_t> src_start, dst_start, shape;
};

/// What one process receives for each result of a collective op.
struct CollectivePlan {
  enum class Kind : uint8_t {
    kCopy,         ///< zeros, then `parts` copied in
    kReduce,       ///< body(acc, x) folded over `parts` in order (each a result-shaped box)
    kDynamicRoot,  ///< operand `parts[m].operand` of member root[k] (root: the last operand)
  };
  struct Result {
    Kind kind = Kind::kCopy;
    std::vector<BlockCopy> parts;
  };
  std::vector<Result> results;
};

/// The type of an operand value as a collective sees it.
struct OperandType {
  bool tensor = true;  ///< false for tokens and tuples
  ElemType type = ElemType::kF32;
  std::vector<int64_t> shape;
};

/// The plan for process `me` (index in `group`) of collective `op`; `operands[m]` are the
/// types of member m's operands (all members must pass the same), `result_shapes` the
/// declared result shapes, which are checked against the op's rules. Errors: kInvalidInput
/// naming the attribute, operand or shape at fault, located.
Expected<CollectivePlan> plan_collective(const Op& op, const std::vector<int64_t>& group, size_t me,
                                         const Grid& grid,
                                         const std::vector<std::vector<OperandType>>& operands,
                                         const std::vector<std::vector<int64_t>>& result_shapes,
                                         const std::string& file);

/// One program of run_parallel while the scheduler runs it.
struct ParallelProgram {
  const Func* func = nullptr;
  int64_t replica = 0, partition = 0;
  size_t pc = 0;  ///< index of the next op of the body's block
  bool done = false;
};

/// run_parallel's attributes resolved: `programs = [[@f, ...] per replica]` (columns are
/// partitions) with each program's operands (a range of the op's operands, handed out in
/// order) and `infeed = [@g, ...]`, the functions whose results infeed ops take in turn.
struct ParallelSetup {
  Grid grid;
  std::vector<ParallelProgram> programs;
  std::vector<std::pair<size_t, size_t>> operands;  ///< [first, last) per program
  std::vector<std::string> infeed;
};
/// Errors: kInvalidInput for a malformed programs attribute, an unknown function or too
/// few operands, located at `op`.
Expected<ParallelSetup> parallel_setup(const Op& op, const Module& m, size_t operands,
                                       const std::string& file);

/// The messages of one run_parallel: send/recv channels and the infeed queue, holding the
/// engine's values (the evaluator's tensors, the lowering's compile-time values).
template <class V>
struct Mailbox {
  std::map<int64_t, std::deque<std::vector<V>>> channels;
  std::vector<std::string> infeed;  ///< function names, taken in turn
  size_t infeed_next = 0;

  void reset(std::vector<std::string> queue) {
    channels.clear();
    infeed = std::move(queue);
    infeed_next = 0;
  }
  /// The oldest message on recv `op`'s channel. Errors: kInvalidInput when there is none.
  Expected<std::vector<V>> recv(const Op& op, const std::string& file) {
    auto& q = channels[channel_id(op)];
    if (q.empty())
      return make_error(ErrorCode::kInvalidInput,
                        op.name + ": no message on channel " + std::to_string(channel_id(op)),
                        SourceLoc{file, op.loc.line, op.loc.col});
    std::vector<V> msg = std::move(q.front());
    q.pop_front();
    return msg;
  }
  /// The function whose results infeed `op` receives. Errors: kInvalidInput when the queue
  /// is empty.
  Expected<std::string> next_infeed(const Op& op, const std::string& file) {
    if (infeed_next >= infeed.size())
      return make_error(ErrorCode::kInvalidInput,
                        op.name + ": the infeed queue is empty (run_parallel's infeed = [@f])",
                        SourceLoc{file, op.loc.line, op.loc.col});
    return infeed[infeed_next++];
  }
};

/// What the engine does for the scheduler.
struct ParallelHooks {
  /// Executes an ordinary op (also send, recv, infeed, outfeed) of program `p`.
  std::function<Status(size_t p, const Op& op)> step;
  /// Executes the return op of program `p` (its results leave the program).
  std::function<Status(size_t p, const Op& ret)> finish;
  /// Executes a collective: `members` are program indices in group order, `ops` their ops.
  std::function<Status(const std::vector<size_t>& members, const std::vector<const Op*>& ops)>
      collective;
};

/// Runs `programs` in lockstep (see the file comment). Errors: the hooks' errors; a deadlock
/// (every unfinished program waits: a collective whose group never assembles, a recv with no
/// send) as kInvalidInput located at a waiting op.
Status run_lockstep(const Op& site, std::vector<ParallelProgram>& programs, const Grid& grid,
                    const std::string& file, ParallelHooks& hooks);

}  // namespace tierjit::shlo
