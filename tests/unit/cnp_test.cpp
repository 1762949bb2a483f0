// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Tier 1 specifics: W^X (no writable+executable mapping while JIT code exists), the code
// pool's limits, the MissingStencil fallback, and interpreter -> tier 1 tier-up with OSR.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "bytecode/text.hpp"
#include "runtime/code_pool.hpp"
#include "vm/vm.hpp"

namespace tierjit {
namespace {

const char* kLoop = R"(
.func count 1 3
  ldi r1, 0
top:
  addi r1, r1, 1
  blt r1, r0, top
  ret r1
.end
.func main 1 2
  call r1, count, r0, 1
  ret r1
.end
)";

bytecode::Module assemble(const char* text) {
  auto m = bytecode::assemble(text, "test.tjasm");
  EXPECT_TRUE(m.ok()) << m.error().to_string();
  return m.value();
}

TEST(Cnp, NoMappingIsWritableAndExecutable) {
  bytecode::Module m = assemble(kLoop);
  vm::VmConfig cfg;
  cfg.tier = vm::Tier::kCnp;
  auto v = vm::Vm::create(m, bytecode::HostRegistry::standard(), cfg);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)->call(1, {1000}).value, 1000u);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  int exec = 0;
  while (std::getline(maps, line)) {
    std::string perms = line.substr(line.find(' ') + 1, 4);
    EXPECT_FALSE(perms[1] == 'w' && perms[2] == 'x') << "W+X mapping: " << line;
    if (line.find("tierjit-code") != std::string::npos && perms[2] == 'x') ++exec;
  }
  EXPECT_GT(exec, 0) << "no executable code mapping found";
}

TEST(Cnp, PoolLimitsAreClearErrors) {
  runtime::CodePoolConfig cfg;
  cfg.max_regions = 1;
  cfg.buffers_per_region = 2;
  cfg.max_function_bytes = 1 << 16;
  runtime::CodePool pool(cfg);
  auto a = pool.acquire(100), b = pool.acquire(100), c = pool.acquire(100);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("BufferAllocationFailed"), std::string::npos);
  pool.release(*a);
  EXPECT_TRUE(pool.acquire(100).ok()) << "released buffer is reusable";
  auto big = pool.acquire(1 << 20);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("ProgramTooLarge"), std::string::npos);
}

TEST(Cnp, MissingStencilFallsBackToTheInterpreter) {
  bytecode::Module m = assemble(kLoop);
  vm::VmConfig cfg;
  cfg.tier = vm::Tier::kCnp;
  cfg.disabled_stencils.set(static_cast<size_t>(bytecode::Op::ADDI));
  auto v = vm::Vm::create(m, bytecode::HostRegistry::standard(), cfg);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)->call(1, {500}).value, 500u);
  EXPECT_TRUE((*v)->function_stats()[0].missing_stencil);
  EXPECT_EQ((*v)->function_stats()[0].tier, 0);
  EXPECT_EQ((*v)->function_stats()[1].tier, 1);
  EXPECT_NE((*v)->stats_text().find("MissingStencil"), std::string::npos);
  EXPECT_EQ((*v)->fallbacks().missing_stencil, 1u);
  EXPECT_NE((*v)->stats_text().find("fallbacks: 1 (missing stencil 1,"), std::string::npos)
      << (*v)->stats_text();
}

// A tier-1 compile that fails at run time (here: the code pool is full after the entry shim and
// the interpreter thunks) leaves the function interpreted, and says so in the stats instead of
// dropping the error.
TEST(Cnp, FailedTierUpIsCountedNotSilent) {
  bytecode::Module m = assemble(kLoop);
  vm::VmConfig cfg;
  cfg.tier = vm::Tier::kAuto;
  cfg.eager_cnp_instructions = 1000;  // everything starts interpreted
  cfg.cnp_threshold = 100;
  cfg.llvm_threshold = 0;
  cfg.pool.buffers_per_region = 2;
  cfg.pool.max_regions = 1;
  auto v = vm::Vm::create(m, bytecode::HostRegistry::standard(), cfg);
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ((*v)->call(1, {100000}).value, 100000u);
  EXPECT_EQ((*v)->function_stats()[0].tier, 0);
  EXPECT_TRUE((*v)->function_stats()[0].cnp_failed);
  EXPECT_EQ((*v)->fallbacks().cnp_failed, 1u);
  EXPECT_NE((*v)->stats_text().find("tier-1 compile failed 1"), std::string::npos)
      << (*v)->stats_text();
}

TEST(Cnp, HotLoopTiersUpThroughOsr) {
  bytecode::Module m = assemble(kLoop);
  vm::VmConfig cfg;
  cfg.tier = vm::Tier::kAuto;
  cfg.eager_cnp_instructions = 1000;  // everything starts interpreted
  cfg.cnp_threshold = 100;
  cfg.llvm_threshold = 0;
  auto v = vm::Vm::create(m, bytecode::HostRegistry::standard(), cfg);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)->function_stats()[0].tier, 0);
  EXPECT_EQ((*v)->call(1, {100000}).value, 100000u);
  EXPECT_EQ((*v)->function_stats()[0].tier, 1);
  EXPECT_TRUE((*v)->function_stats()[0].osr) << "the running loop should have moved to tier 1";
}

TEST(Cnp, HotFunctionReachesLlvmInTheBackground) {
  bytecode::Module m = assemble(kLoop);
  vm::VmConfig cfg;
  cfg.tier = vm::Tier::kAuto;
  cfg.llvm_threshold = 5000;
  auto v = vm::Vm::create(m, bytecode::HostRegistry::standard(), cfg);
  ASSERT_TRUE(v.ok());
  void* before = (*v)->instance().cells()[0];
  EXPECT_EQ((*v)->call(1, {100000}).value, 100000u);
  (*v)->wait_idle();
  EXPECT_EQ((*v)->function_stats()[0].tier, 2);
  EXPECT_NE((*v)->instance().cells()[0], before) << "entry cell swapped";
  EXPECT_EQ((*v)->call(1, {77}).value, 77u) << "LLVM code gives the same result";
}

}  // namespace
}  // namespace tierjit
