// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Differential tests: random valid programs give identical results, traps, output and memory
// in the interpreter (the oracle), the copy-and-patch tier and the LLVM tier.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "bytecode/module_io.hpp"
#include "bytecode/text.hpp"
#include "tests/unit/bytecode_gen.hpp"
#include "vm/vm.hpp"

namespace tierjit {
namespace {

struct Result {
  bytecode::Outcome outcome;
  std::string output;
  std::string memory;
};

Result run(const bytecode::Module& m, vm::Tier tier) {
  vm::VmConfig cfg;
  cfg.tier = tier;
  cfg.instance.fuel = 3000;
  cfg.instance.max_call_depth = 40;
  cfg.background = false;
  auto v = vm::Vm::create(m, bytecode::HostRegistry::standard(), cfg);
  EXPECT_TRUE(v.ok()) << v.error().to_string();
  // The tier under test really runs every function: no function was left in a lower tier
  // (a missing stencil or a failed compile would otherwise compare the interpreter with itself).
  int want_tier = tier == vm::Tier::kInterp ? 0 : tier == vm::Tier::kCnp ? 1 : 2;
  const auto& stats = (*v)->function_stats();
  for (size_t i = 0; i < stats.size(); ++i)
    EXPECT_EQ(stats[i].tier, want_tier)
        << m.functions[i].name << " under " << vm::tier_name(tier) << ": " << stats[i].fallback;
  Result r;
  r.outcome = (*v)->call(m.entry, {0x1234, 0xfff0});
  r.output = (*v)->instance().output();
  r.memory.assign(reinterpret_cast<const char*>((*v)->instance().memory()),
                  (*v)->instance().memory_size());
  return r;
}

uint64_t scaled(const char* env, uint64_t dflt) {
  const char* s = std::getenv(env);
  return s ? std::strtoull(s, nullptr, 10) : dflt;
}

void expect_same(const bytecode::Module& m, const Result& want, const Result& got, const char* tier,
                 uint64_t seed) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " tier " << tier << "\n"
                                    << bytecode::disassemble(m));
  EXPECT_EQ(want.outcome.status, got.outcome.status);
  EXPECT_EQ(want.outcome.value, got.outcome.value);
  EXPECT_EQ(want.outcome.trap_fn, got.outcome.trap_fn);
  EXPECT_EQ(want.outcome.trap_pc, got.outcome.trap_pc);
  EXPECT_EQ(want.output, got.output);
  EXPECT_TRUE(want.memory == got.memory) << "memory differs";
}

TEST(BytecodeDiff, GeneratedProgramsAreValid) {
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    bytecode::Module m = testing::generate_module(seed);
    Status s = bytecode::verify(m, "gen");
    ASSERT_TRUE(s.ok()) << seed << ": " << s.error().to_string();
  }
}

// TJ_DIFF_PROGRAMS overrides the count (the 100,000 is the default).
TEST(BytecodeDiff, InterpreterVsCopyAndPatch) {
  uint64_t n = scaled("TJ_DIFF_PROGRAMS", 100000);
  std::map<uint64_t, int> statuses;
  for (uint64_t seed = 1; seed <= n; ++seed) {
    bytecode::Module m = testing::generate_module(seed);
    Result a = run(m, vm::Tier::kInterp);
    Result b = run(m, vm::Tier::kCnp);
    statuses[a.outcome.status]++;
    expect_same(m, a, b, "cnp", seed);
    if (::testing::Test::HasFailure()) return;
  }
  // The corpus must exercise normal returns and every trap kind that random code can reach.
  for (uint64_t s : {TJ_RUNNING, TJ_HALTED, TJ_TRAP_OUT_OF_BOUNDS, TJ_TRAP_DIV_BY_ZERO,
                     TJ_TRAP_BUDGET, TJ_TRAP_USER})
    if (n >= 1000) EXPECT_GT(statuses[s], 0) << "no program ended with status " << s;
}

TEST(BytecodeDiff, InterpreterVsLlvm) {
  uint64_t n = scaled("TJ_DIFF_LLVM_PROGRAMS", 300);
  for (uint64_t seed = 1; seed <= n; ++seed) {
    bytecode::Module m = testing::generate_module(seed * 7919);
    Result a = run(m, vm::Tier::kInterp);
    Result c = run(m, vm::Tier::kLlvm);
    expect_same(m, a, c, "llvm", seed * 7919);
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace tierjit
