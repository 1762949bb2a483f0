// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// tierjit's engine for whole programs: load LLVM IR (.ll, .bc, LLBC), compile it lazily in
// process with tier-up, and run its entry point.
//
//   auto e = tierjit::Engine::load(cfg);          // parse + prepare + build the JIT
//   if (!e.ok()) { report(e.error()); }
//   int status = e.value()->run({"prog", "arg"}).value();
//
// Thread-safety: one Engine may be used from one thread at a time; the program it runs may
// start threads of its own (compilation is serialized internally).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tierjit/error_code.hpp"

namespace tierjit {

struct Error;

/// What to run and how. Defaults are those of `tierjit run FILE`.
struct RunConfig {
  std::string path;                     ///< .ll, .bc or .llbc (format detected from content)
  int opt_level = -1;                   ///< 0..3: fixed level, no tier-up; -1: tiered (or LLBC's)
  std::string tier_thresholds = "100";  ///< tiered mode: "100" (→O2) or "100,1000,10000" (O1/O2/O3)
  std::string entry;                    ///< "" = LLBC entry name, else "main"
  bool cache = true;                    ///< persistent object cache
  std::string cache_dir;                ///< "" = ObjectCache::default_dir()
  uint64_t cache_max_bytes = 1ull << 30;
  /// First tier: the baseline compiler (src/baseline) for every function it covers, the
  /// others LLVM at O0 (tiered) or at opt_level (fixed); false: LLVM only. Ignored with
  /// debug_info (baseline code has no debug info yet).
  bool baseline = true;
  /// Tiered with the baseline tier: a long-running loop of a baseline body enters optimized
  /// code at its header (on-stack replacement) once the function tiers up.
  bool osr = true;
  /// Tiered: the thread whose call or loop crosses a threshold waits until that tier-up is
  /// compiled and installed, so the tiers a run reaches do not depend on timing (for tests
  /// and debugging; the compile still runs on the tier-up thread, as V8's
  /// --no-concurrent-recompilation).
  bool sync_tier_up = false;
  bool lazy = true;         ///< compile functions on first call
  bool perf_map = false;    ///< write /tmp/perf-PID.map
  bool debug_info = false;  ///< register JIT code with GDB
  /// If set, a Chrome trace-event JSON file (chrome://tracing, Perfetto) written when the
  /// program ends: spans for load, JIT setup and the run; per body compiled or loaded
  /// (category "compile", args function/tier/source); tier-up requests and installs
  /// ("tier-up"); OSR continuations built and entered ("osr"); bundle and cache loads
  /// ("cache"). Times in microseconds from load. A path that cannot be written fails load()
  /// with kIo. Format: src/support/trace.hpp.
  std::string trace_path;
};

struct FunctionReport {
  std::string name;
  uint64_t calls = 0;  ///< calls seen while running profiled (non-top-tier) code
  int opt_level = -1;  ///< LLVM level of the current code; -1: not LLVM code (or never ran)
  double compile_ms = 0;
  uint32_t tier_ups = 0;
  bool from_cache = false;
  bool baseline = false;  ///< the current code is the baseline tier's
};

class Engine {
 public:
  /// Loads and prepares cfg.path. Errors carry a code (see error_code.hpp) and location.
  static std::unique_ptr<Engine> load(const RunConfig& cfg, Error* error);
  /// The same for a file the caller has already read: `bytes` is its content (.ll, .bc or
  /// LLBC, detected from the bytes); cfg.path only names it in errors and statistics.
  static std::unique_ptr<Engine> load(const RunConfig& cfg, std::string bytes, Error* error);
  ~Engine();

  /// Runs constructors, then the entry with `args` (args[0] is the program name).
  /// Returns the entry's int result. Destructors run in finish() (or at exit()).
  int run(const std::vector<std::string>& args, Error* error);
  /// Runs destructors once, stops background compilation, trims the cache.
  void finish();
  /// Called once when the process ends through exit_process() or the program's own exit().
  void set_exit_hook(std::function<void()> hook);
  /// Ends the process as the program's own exit(status) would natively: its atexit
  /// handlers (LIFO), destructors, the exit hook, then std::exit(status).
  [[noreturn]] void exit_process(int status);
  /// Waits for queued tier-ups to be installed.
  void drain_tier_ups();

  /// Frees function bodies superseded by tier-up. Call only at a quiescent point: no thread
  /// is running or entering the program's code (e.g. between run() calls of an embedder).
  /// Returns the number of bodies freed.
  size_t reclaim_retired_code();

  std::vector<FunctionReport> function_reports() const;
  /// Human-readable statistics (the `--stats` table), top `max_rows` functions by calls.
  std::string stats_text(size_t max_rows = 25) const;
  /// The same statistics as one JSON object (`--stats=json`), every function included.
  /// Schema (version 1; times in milliseconds, counts as integers):
  ///   {"schema": "tierjit-stats", "version": 1, "program": path, "format": the input format in
  ///    words (as in the text form, e.g. "LLVM IR text"),
  ///    "load_ms", "setup_ms", "data_ms", "mode": the tiering policy in words,
  ///    "functions", "compiled", "compiles", "compile_ms", "cache_hits", "bundled", "tier_ups",
  ///    "fallbacks": {"tier_up_failures", "pinned", "functions": [{"name", "reason"}]},
  ///    "baseline": {"functions", "instructions", "code_bytes", "ms", "compile_ms", "loaded",
  ///                 "rejected", "fallbacks", "fallback_reasons": {reason: count}},
  ///    "osr": {"built", "ms", "entered", "not_built": {reason: count}},
  ///    "object_cache": null | {"dir", "hits", "misses", "stores", "corrupt", "remote_hits",
  ///                            and with remote storage "signed" (bool) and "remote": one
  ///                            {"url", "hits", "misses", "errors", "corrupt", "rejected",
  ///                             "skipped", "uploads", "upload_errors", "upload_dropped",
  ///                             "requests", "latency_us"} per back end, in order},
  ///    "function_reports": [{"name", "calls", "tier": "base"|"O0".."O3"|null (never ran),
  ///                          "compile_ms", "tier_ups", "source": "cache"|"jit"}]}
  /// "compiled" counts functions that ran compiled code; "compiles" every compilation.
  std::string stats_json() const;
  /// The entry name that run() will call.
  const std::string& entry() const;

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierjit
