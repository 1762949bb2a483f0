// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Tier 2: the in-process LLVM ORC tier with lazy per-function compilation and tier-up.
//
//   load ─► IrProgram::prepare ─► data object (globals) + one stub, entry cell and lazy
//   trampoline per function ─► first call: extract F, compile at the base level, swap the
//   cell ─► F's heat counter crosses a threshold: background thread recompiles F at the next
//   level (O2 by default) and swaps the cell atomically. Callers always go through the stub.
//
// Requires: a prepared IrProgram. Produces: callable native code; never maps memory W+X
// (JITLink writes RW then protects RX; stubs and trampolines likewise).
// Thread-safety: lookup/run/stats may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "llvmir/program.hpp"
#include "support/error.hpp"
#include "tierup/function_stats.hpp"

namespace tierjit::trace {
class Recorder;
}

namespace tierjit {
class ObjectCache;
}

namespace tierjit::llvmir {

struct TierPolicy {
  /// >= 0: compile every function once at this level (no counters, no tier-up).
  int fixed_opt = -1;
  /// Base level for tiered mode (0: FastISel, no optimizer).
  int base_opt = 0;
  /// The first tier is the baseline compiler (src/baseline) for every function it covers;
  /// the others start at base_opt (tiered) or fixed_opt (fixed), each counted with its reason.
  bool baseline = false;
  /// Tiered with the baseline tier: its loop back-edges check for OSR continuations, which
  /// are built when a tier-up finds a function whose invocations run long loops.
  bool osr = true;
  /// A request waits until the queue has compiled it (RunConfig::sync_tier_up).
  bool sync = false;
  /// Cumulative heat thresholds, in calls (a back-edge counts 1/kCallHeat of a call). The
  /// i-th crossing recompiles at levels[i].
  std::vector<uint32_t> thresholds = {100};
  std::vector<int> levels = {2};

  /// "100" → O2 at 100; "100,1000,10000" → O1, O2, O3. Errors: kUsage.
  static Expected<TierPolicy> parse_thresholds(const std::string& list);
};

struct OrcOptions {
  TierPolicy policy;
  ObjectCache* cache = nullptr;  ///< not owned; nullptr disables the disk cache
  bool lazy = true;              ///< false: compile every function before running
  bool perf_map = false;         ///< append JIT symbols to /tmp/perf-PID.map
  bool debug_info = false;       ///< register JIT objects with GDB (ORC debugger support)
  /// Not owned; if set, compiles, cache loads, tier-ups and OSR are recorded as trace events
  /// (category "compile": one per body with args function, tier "baseline"|"O0".."O3",
  /// source "compiled"|"cache"; "tier-up": requests (instant) and installs (complete);
  /// "osr": continuations built (complete) and entered (instant)).
  trace::Recorder* trace = nullptr;
};

/// Per function: tier = index of the installed tier (0 base), opt_level its LLVM level (-1:
/// never called), calls seen by profiled tiers, compile time of every tier in compile_ns[0].
using FunctionStats = tierup::FunctionStats;

struct EngineStats {
  double load_ms = 0;  ///< parse + prepare
  double data_ms = 0;  ///< globals object (compile or cache)
  uint64_t functions = 0, compiled = 0, cache_hits = 0, tier_ups = 0;
  uint64_t tier_up_failures = 0;  ///< tier-ups that failed: those functions kept their code
  uint64_t bundled = 0;           ///< bodies that came in the code bundle
  /// Functions compiled once with the data and never tiered up: their block addresses are
  /// used outside their own body (IrProgram, FunctionInfo::pinned).
  uint64_t pinned = 0;
  double compile_ms = 0;  ///< sum over all compiles, all threads
  /// The baseline tier: functions it compiled (their IR instructions, code bytes, time) and
  /// the functions it could not compile, by reason ("vector type" -> 3), which went to LLVM.
  uint64_t baseline = 0, baseline_instructions = 0, baseline_code_bytes = 0;
  double baseline_ms = 0;          ///< reading the bodies (lazy bitcode) and compiling them
  double baseline_compile_ms = 0;  ///< compiling alone
  uint64_t baseline_fallbacks = 0;
  uint64_t baseline_loaded = 0;    ///< baseline bodies loaded from the cache (saved images)
  uint64_t baseline_rejected = 0;  ///< saved images not usable (malformed, unresolved): compiled
  std::vector<std::pair<std::string, uint64_t>> baseline_fallback_reasons;
  /// On-stack replacement: continuations built (a baseline frame running a hot loop can
  /// enter optimized code at the loop header), their compile time, how many times running
  /// frames entered one, and why a continuation was not built, by reason.
  uint64_t osr_built = 0, osr_entered = 0;
  double osr_ms = 0;
  std::vector<std::pair<std::string, uint64_t>> osr_not_built;
};

class OrcEngine {
 public:
  /// Builds the JIT for `program`. Errors: kUnresolvedSymbol (names the first missing
  /// symbols), kCompileFailed, kInvalidInput.
  static Expected<std::unique_ptr<OrcEngine>> create(std::unique_ptr<IrProgram> program,
                                                     OrcOptions options);
  ~OrcEngine();

  /// Address of a symbol in the program (functions resolve to their stubs).
  Expected<void*> lookup(const std::string& name);
  /// Runs llvm.global_ctors in priority order. Errors from lazy compilation propagate.
  Status run_constructors();
  /// Runs llvm.global_dtors (reverse priority order). Idempotent.
  void run_destructors();
  /// Calls `entry` as main(argc, argv, envp) or entry(). Errors: kMissingEntry.
  Expected<int> run_main(const std::string& entry, const std::vector<std::string>& args);

  /// Makes this engine own process exit: the program's exit(), atexit() and __cxa_atexit()
  /// are served by the engine, and exit_process() runs them, then destructors, then `hook`.
  void set_exit_hook(std::function<void(int)> hook);
  /// Ends the process like the program's exit(status) would natively: the program's exit
  /// handlers (LIFO), llvm.global_dtors, the exit hook, then std::exit(status).
  [[noreturn]] void exit_process(int status);

  /// Blocks until queued tier-ups are compiled and installed (tests, benchmarks).
  void drain_tier_ups();
  /// Writes the code bundle (every installed body, merged into one object) to the cache if
  /// this run compiled or installed anything; exit_process does this itself.
  void save_bundle();
  /// Stops the background compiler (pending requests are dropped). Idempotent.
  void stop_background();

  /// Frees the code of every function body superseded by tier-up (it stays mapped until
  /// then: a frame may still be executing it). Precondition — a quiescent point: no thread is
  /// running, or about to enter, this engine's JIT code (e.g. between embedder calls).
  /// Bodies from a code bundle are freed with the bundle only. Returns bodies freed.
  size_t reclaim_retired_code();

  /// Where `function`'s entry cell points now (its current code), or 0 if unknown.
  uint64_t entry_target(const std::string& function) const;

  std::vector<FunctionStats> function_stats() const;
  EngineStats stats() const;
  IrProgram& program();
  /// "fixed O2" or "tiered O0 -> O2 at 100 calls".
  std::string describe_policy() const;

  class Impl;

 private:
  explicit OrcEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierjit::llvmir
