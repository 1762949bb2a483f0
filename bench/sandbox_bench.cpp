// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// vmcall round trip and interpreter speed of the sandbox (Google Benchmark):
//   build/bench/bench_sandbox GUEST.elf
// GUEST.elf is tests/sandbox/guests/api_guest.c compiled for riscv64 as in
// tests/unit/sandbox_test.cpp: clang-22 -O2 -march=rv64gc_zbb with `tierjit guest-cflags`
// (less its -march) -S -emit-llvm, then `tierjit compile --target riscv64`.
// BM_vmcall_add4: one Sandbox::vmcall of a guest function with four integer arguments that
// computes a + 2b + 3c + 4d (8 guest instructions); BM_vmcall_take4_ret: the same call to a
// function that is one `ret` (the round trip alone; libriscv publishes 3-6 ns for its
// equivalent). BM_vmcall_spin_1M: 1,000,000 guest instructions of a spin
// loop per call (items/s = guest instructions per second). Each in both tiers: /jit:0 the
// interpreter, /jit:1 the translation tier (Limits::tier).
#include <benchmark/benchmark.h>

#include <cstdio>

#include "support/file.hpp"
#include "tierjit/sandbox.hpp"

namespace {

std::string g_elf;

// state.range(0): 0 the interpreter, 1 the translation tier.
std::unique_ptr<tierjit::sandbox::Sandbox> load(uint64_t budget, const benchmark::State& state) {
  auto bytes = tierjit::read_file(g_elf);
  if (!bytes.ok()) return nullptr;
  tierjit::sandbox::Limits l;
  l.max_instructions = budget;
  l.tier = state.range(0) ? tierjit::sandbox::ExecTier::kTranslate
                          : tierjit::sandbox::ExecTier::kInterpret;
  auto s = tierjit::sandbox::Sandbox::load(bytes.value(), g_elf, l);
  return s.ok() ? std::move(s.value()) : nullptr;
}

void BM_vmcall_add4(benchmark::State& state) {
  auto box = load(1'000'000, state);
  if (!box) return state.SkipWithError("cannot load the guest");
  uint64_t fn = box->symbol("add4");
  tierjit::sandbox::Arg args[] = {
      tierjit::sandbox::Arg::integer(1), tierjit::sandbox::Arg::integer(2),
      tierjit::sandbox::Arg::integer(3), tierjit::sandbox::Arg::integer(4)};
  uint64_t sum = 0;
  bool ok = true;
  for (auto _ : state) {
    auto r = box->vmcall(fn, args);
    ok &= r.reason == tierjit::sandbox::StopReason::kReturned;
    sum += r.value;
  }
  if (!ok) return state.SkipWithError("a vmcall did not return (fault or budget)");
  if (sum != 30 * state.iterations()) state.SkipWithError("wrong result");
}
BENCHMARK(BM_vmcall_add4)->ArgName("jit")->Arg(0)->Arg(1);

// The round trip alone: four integer arguments to a guest function that is a single `ret`.
void BM_vmcall_take4_ret(benchmark::State& state) {
  auto box = load(1'000'000, state);
  if (!box) return state.SkipWithError("cannot load the guest");
  uint64_t fn = box->symbol("take4");
  tierjit::sandbox::Arg args[] = {
      tierjit::sandbox::Arg::integer(1), tierjit::sandbox::Arg::integer(2),
      tierjit::sandbox::Arg::integer(3), tierjit::sandbox::Arg::integer(4)};
  bool ok = true;
  for (auto _ : state)
    ok &= box->vmcall(fn, args).reason == tierjit::sandbox::StopReason::kReturned;
  if (!ok) state.SkipWithError("a vmcall did not return (fault or budget)");
}
BENCHMARK(BM_vmcall_take4_ret)->ArgName("jit")->Arg(0)->Arg(1);

void BM_vmcall_spin_1M(benchmark::State& state) {
  auto box = load(1'000'000, state);
  if (!box) return state.SkipWithError("cannot load the guest");
  uint64_t fn = box->symbol("spin");
  bool ok = true;
  for (auto _ : state) {
    auto r = box->vmcall(fn, {});
    // spin never returns: each call must run its whole budget and stop there.
    ok &= r.reason == tierjit::sandbox::StopReason::kBudget && r.instructions == 1'000'000;
    benchmark::DoNotOptimize(r.instructions);
  }
  if (!ok) state.SkipWithError("spin did not run its budget (fault): no speed to report");
  state.SetItemsProcessed(state.iterations() * 1'000'000);
}
BENCHMARK(BM_vmcall_spin_1M)->ArgName("jit")->Arg(0)->Arg(1);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_sandbox GUEST.elf [benchmark flags]\n");
    return 64;
  }
  g_elf = argv[1];
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
