// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Compile latency of one small function: in-process ORC (O0, O2), cache hits (memory, disk),
// and the seed's subprocess pipeline (llvm-as → opt → llc → as → ld -shared), in one run.
// Prints Google Benchmark's table, then the ratios the foundation issue sets targets for.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "tierjit/jit_compiler.hpp"

namespace {

std::string small_function(int salt) {
  return "define i64 @poly(i64 %x) {\n"
         "entry:\n"
         "  br label %loop\n"
         "loop:\n"
         "  %i = phi i64 [ 0, %entry ], [ %i1, %loop ]\n"
         "  %acc = phi i64 [ " +
         std::to_string(salt) +
         ", %entry ], [ %acc1, %loop ]\n"
         "  %m = mul i64 %acc, %x\n"
         "  %acc1 = add i64 %m, %i\n"
         "  %i1 = add i64 %i, 1\n"
         "  %c = icmp ult i64 %i1, 16\n"
         "  br i1 %c, label %loop, label %done\n"
         "done:\n"
         "  ret i64 %acc1\n"
         "}\n";
}

std::string scratch() {
  static std::string dir = [] {
    std::string d = "/tmp/tierjit-bench-" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

void compile_fresh(benchmark::State& state, int level) {
  tierjit::JitConfig cfg;
  cfg.cache_enabled = false;
  cfg.optimization_level = level;
  tierjit::JitCompiler jit(cfg);
  int salt = 0;
  for (auto _ : state) {
    auto f = jit.compile_llvm_ir(small_function(salt++), "poly");
    if (!f.ok()) state.SkipWithError(f.error().to_string().c_str());
    benchmark::DoNotOptimize(f.value()->function_pointer);
  }
}

void BM_OrcCompileO0(benchmark::State& state) { compile_fresh(state, 0); }
void BM_OrcCompileO2(benchmark::State& state) { compile_fresh(state, 2); }

void BM_MemoryCacheHit(benchmark::State& state) {
  tierjit::JitConfig cfg;
  cfg.cache_dir = scratch() + "/cache-mem";
  cfg.work_dir = scratch() + "/work";
  tierjit::JitCompiler jit(cfg);
  std::string ir = small_function(7);
  if (auto first = jit.compile_llvm_ir(ir, "poly"); !first.ok())
    return state.SkipWithError(first.error().to_string().c_str());
  uint64_t hits_before = jit.get_stats().cache_hits;
  for (auto _ : state) {
    auto f = jit.compile_llvm_ir(ir, "poly");
    if (!f.ok()) return state.SkipWithError(f.error().to_string().c_str());
    benchmark::DoNotOptimize(f.value()->function_pointer);
  }
  // Every timed call must have been an in-memory hit, or the figure measures something else.
  if (jit.get_stats().cache_hits - hits_before != uint64_t(state.iterations()))
    state.SkipWithError("some calls missed the in-memory cache");
}

void BM_DiskCacheHit(benchmark::State& state) {
  tierjit::JitConfig cfg;
  cfg.cache_dir = scratch() + "/cache-disk";
  cfg.work_dir = scratch() + "/work";
  cfg.max_cached_functions = 16;
  tierjit::JitCompiler jit(cfg);
  std::string ir = small_function(9);
  if (auto first = jit.compile_llvm_ir(ir, "warm"); !first.ok())
    return state.SkipWithError(first.error().to_string().c_str());
  int n = 0;
  for (auto _ : state) {  // a new id each time: misses in memory, hits on disk, links anew
    auto f = jit.compile_llvm_ir(ir, "id" + std::to_string(n++));
    if (!f.ok()) return state.SkipWithError(f.error().to_string().c_str());
    if (!f.value()->from_disk_cache) return state.SkipWithError("not served by the disk cache");
    benchmark::DoNotOptimize(f.value()->function_pointer);
  }
}

void BM_SubprocessPipeline(benchmark::State& state) {
  std::string d = scratch();
  int salt = 0;
  for (auto _ : state) {
    std::string ll = d + "/f.ll";
    FILE* f = std::fopen(ll.c_str(), "w");
    std::fputs(small_function(salt++).c_str(), f);
    std::fclose(f);
    std::string cmd = "cd " + d +
                      " && llvm-as-22 f.ll -o f.bc && opt-22 -O2 f.bc -o f.opt.bc"
                      " && llc-22 -O2 -relocation-model=pic f.opt.bc -o f.s"
                      " && as f.s -o f.o && ld -shared f.o -o f.so";
    if (std::system(cmd.c_str()) != 0) state.SkipWithError("subprocess pipeline failed");
  }
}

BENCHMARK(BM_OrcCompileO0)->Unit(benchmark::kMicrosecond)->MinTime(0.5);
BENCHMARK(BM_OrcCompileO2)->Unit(benchmark::kMicrosecond)->MinTime(0.5);
BENCHMARK(BM_MemoryCacheHit)->Unit(benchmark::kMicrosecond)->MinTime(0.3);
BENCHMARK(BM_DiskCacheHit)->Unit(benchmark::kMicrosecond)->MinTime(0.3);
BENCHMARK(BM_SubprocessPipeline)->Unit(benchmark::kMillisecond)->Iterations(10);

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> ns;  // benchmarks that ran to the end without an error
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs)
      if (!r.error_occurred)
        ns[r.benchmark_name()] =
            r.GetAdjustedRealTime() * (r.time_unit == benchmark::kMillisecond   ? 1e6
                                       : r.time_unit == benchmark::kMicrosecond ? 1e3
                                                                                : 1);
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  auto get = [&](const char* n) { return rep.ns.count(n) ? rep.ns[n] : 0.0; };
  // A figure whose benchmark failed is reported as failed, never as a number.
  auto us_or_failed = [&](const char* n, const char* fmt) {
    return rep.ns.count(n) ? fmt::format(fmt::runtime(fmt), rep.ns[n] / 1e3)
                           : std::string("FAILED (see the error above)");
  };
  double sub = get("BM_SubprocessPipeline/iterations:10");
  std::printf("\nratios (same run):\n");
  if (sub > 0 && get("BM_OrcCompileO0/min_time:0.500") > 0)
    std::printf("  subprocess pipeline / in-process O0 = %.0fx\n",
                sub / get("BM_OrcCompileO0/min_time:0.500"));
  if (sub > 0 && get("BM_OrcCompileO2/min_time:0.500") > 0)
    std::printf("  subprocess pipeline / in-process O2 = %.0fx   (target >= 50x)\n",
                sub / get("BM_OrcCompileO2/min_time:0.500"));
  std::printf("  in-memory cache hit = %s   (target < 10 us)\n",
              us_or_failed("BM_MemoryCacheHit/min_time:0.300", "{:.2f} us").c_str());
  std::printf("  disk cache hit + link = %s\n",
              us_or_failed("BM_DiskCacheHit/min_time:0.300", "{:.1f} us").c_str());
  if (sub <= 0 || get("BM_OrcCompileO0/min_time:0.500") <= 0 ||
      get("BM_OrcCompileO2/min_time:0.500") <= 0)
    std::printf("  compile ratios: FAILED (a benchmark above reported an error)\n");
  std::filesystem::remove_all(scratch());
  return 0;
}
