// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Tier-1 (copy-and-patch) compile latency: ns per instruction and per 32-instruction program,
// with the seed's breakdown (buffer acquire, decode+lookup layout, copy+patch). The peer
// figure is the seed's stated 4 us per 32-instruction program (../shared/seeds/000-*.md).
#include <benchmark/benchmark.h>

#include "cnp/compiler.hpp"
#include "tests/unit/bytecode_gen.hpp"

namespace {

using namespace tierjit;

void BM_CnpCompile(benchmark::State& state) {
  testing::GenOptions opt;
  opt.words_exact = static_cast<uint32_t>(state.range(0));
  bytecode::Module m = testing::generate_module(12345, opt);
  size_t insns = 0;
  for (size_t w = 0; w < m.functions[0].code.size();
       w += bytecode::decode(m.functions[0].code.data(), w).size() / 4)
    ++insns;
  runtime::CodePool pool;
  cnp::Compiler compiler(pool);
  cnp::CompileProfile prof;
  uint64_t n = 0;
  for (auto _ : state) {
    cnp::CompileOptions opts;
    opts.pin_registers = state.range(2) != 0;
    opts.osr_entries = false;
    auto code = compiler.compile(m, 0, opts, state.range(1) ? &prof : nullptr);
    if (!code.ok()) state.SkipWithError(code.error().message.c_str());
    benchmark::DoNotOptimize(code->entry);
    pool.release(code->block);
    ++n;
  }
  state.counters["insns"] = static_cast<double>(insns);
  // Reported as seconds per instruction (kInvert of a rate): Google Benchmark prints it in ns.
  state.counters["per_insn"] =
      benchmark::Counter(static_cast<double>(insns), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
  if (state.range(1)) {
    state.counters["acquire_ns"] = static_cast<double>(prof.acquire_ns) / n;
    state.counters["decode_ns"] = static_cast<double>(prof.decode_ns) / n;
    state.counters["layout_ns"] = static_cast<double>(prof.layout_ns) / n;
    state.counters["copy_patch_ns"] = static_cast<double>(prof.copy_patch_ns) / n;
  }
}
// range(0) = instructions, range(1) = 1 for the (clock-read-inflated) phase breakdown,
// range(2) = 1 to pin registers (the default tier-1 mode), 0 for the frame-only fast mode.
BENCHMARK(BM_CnpCompile)
    ->ArgNames({"insns", "profile", "pin"})
    ->Args({32, 0, 1})
    ->Args({32, 1, 1})
    ->Args({32, 0, 0})
    ->Args({32, 1, 0})
    ->Args({1000, 0, 1})
    ->Args({1000, 0, 0})
    ->Args({100000, 0, 1});

}  // namespace

BENCHMARK_MAIN();
