// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The snippet API, "LLVM IR JIT with cache": compile a snippet of LLVM IR to native code in
// process and keep it in an LRU cache keyed by id.
//
//   tierjit::JitCompiler jit;                            // the defaults below
//   auto f = jit.compile_llvm_ir(ir_text, "add-pattern");
//   if (f.ok()) { auto add = f.value()->as<int(int, int)>(); add(2, 3); }
//
// Design choices, each against a weakness of the classic subprocess pipeline:
//  - no subprocesses (llvm-as/opt/llc/as/ld): ORC + the new pass manager in process;
//  - the cache never returns stale code: an id whose IR changed is recompiled, and the disk
//    cache is keyed by a hash of (IR, pipeline, opt level, target, CPU, versions);
//  - evicted code stays mapped while any CompiledFunction handle to it is alive.
// Thread-safety: every method may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tierjit/error.hpp"

namespace tierjit {

struct JitConfig {
  /// Where plain ELF objects of compiled functions are written (native_code_path).
  std::string work_dir = "/tmp/tierjit";
  /// In-memory LRU (by id) and the persistent object cache (by content hash).
  bool cache_enabled = true;
  /// 0..3, the pipelines of clang -O0..-O3. Values above 3 are an error at compile time.
  int optimization_level = 2;
  /// Kept for API compatibility; native compilation of valid IR does not fail on x86-64, so
  /// tierjit reports compile errors instead of interpreting.
  bool fallback_to_interpretation = true;
  /// LRU capacity of the in-memory cache (entries). 0 = unbounded.
  size_t max_cached_functions = 1000;
  /// Persistent cache directory; "" = TIERJIT_CACHE_DIR / XDG / ~/.cache/tierjit.
  std::string cache_dir;
};

struct CodeHandle;  // keeps one compiled module mapped

struct CompiledFunction {
  std::string name;     ///< the entry: first externally visible defined function
  std::string id;       ///< the caller's id
  std::string llvm_ir;  ///< the IR it was compiled from
  std::chrono::system_clock::time_point compiled_at;
  double compilation_time_ms = 0;    ///< wall time of this compile (0.0x ms for a cache hit)
  std::string native_code_path;      ///< ELF object in work_dir ("" when caching is off)
  void* function_pointer = nullptr;  ///< address of `name`
  bool from_disk_cache = false;      ///< object came from the persistent cache
  std::shared_ptr<CodeHandle> code;  ///< owner of the machine code

  template <class Sig>
  Sig* as() const {
    return reinterpret_cast<Sig*>(function_pointer);
  }
  /// Address of another function or global defined by the same IR; nullptr if absent.
  void* lookup(const std::string& symbol) const;
};

struct CompilationStats {
  uint64_t total_compilations = 0;
  uint64_t successful_compilations = 0;
  uint64_t failed_compilations = 0;
  double total_compilation_time_ms = 0;
  uint64_t cache_hits = 0;  ///< in-memory hits by id with unchanged IR
  uint64_t cache_misses = 0;
};

struct CacheStatistics {
  size_t cache_size = 0;
  size_t max_cache_size = 0;
  uint64_t total_compilations = 0;
  uint64_t successful_compilations = 0;
  uint64_t failed_compilations = 0;
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
  double hit_rate = 0;     ///< hits / (hits + misses), 0 when nothing was asked
  uint64_t disk_hits = 0;  ///< compiles answered by the persistent object cache
};

class JitCompiler {
 public:
  explicit JitCompiler(JitConfig config = {});
  ~JitCompiler();
  JitCompiler(const JitCompiler&) = delete;
  JitCompiler& operator=(const JitCompiler&) = delete;

  /// Compiles `llvm_ir` (text or bitcode bytes) and caches it under `id`. A cached id with
  /// identical IR returns the cached function. Errors: kInvalidInput (with line:col),
  /// kMissingEntry (no defined function), kUnresolvedSymbol, kCompileFailed, kUsage (bad level).
  Expected<std::shared_ptr<const CompiledFunction>> compile_llvm_ir(std::string_view llvm_ir,
                                                                    const std::string& id);
  CompilationStats get_stats() const;
  CacheStatistics get_cache_stats() const;
  /// The cached function for `id` (marks it most recently used), or nullptr.
  std::shared_ptr<const CompiledFunction> get_cached_function(const std::string& id) const;
  /// Cached ids, most recently used first.
  std::vector<std::string> list_cached_functions() const;
  /// Drops every in-memory entry (code stays mapped while handles are alive).
  void clear_cache();
  const JitConfig& config() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierjit
