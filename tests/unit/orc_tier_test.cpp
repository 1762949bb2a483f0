// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The LLVM tier: lazy compilation, tier-up observed through the entry cell, stats.
#include "llvmir/orc_tier.hpp"

#include <gtest/gtest.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backend/jit_session.hpp"
#include "llvmir/ir_loader.hpp"
#include "llvmir/program.hpp"
#include "support/file.hpp"

using namespace tierjit;
using namespace tierjit::llvmir;

namespace {

std::unique_ptr<OrcEngine> make_engine(const std::string& path, OrcOptions o) {
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto ir = load_ir_file(path, *ctx, true);
  EXPECT_TRUE(ir.ok()) << (ir.ok() ? "" : ir.error().to_string());
  auto prog = IrProgram::prepare(std::move(ir).value(), std::move(ctx), path);
  EXPECT_TRUE(prog.ok()) << (prog.ok() ? "" : prog.error().to_string());
  auto e = OrcEngine::create(std::move(prog).value(), std::move(o));
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().to_string());
  return std::move(e).value();
}

FunctionStats stats_of(const std::vector<FunctionStats>& all, const std::string& name) {
  for (const auto& s : all)
    if (s.name == name) return s;
  return {};
}

long ref_spin(long n) {
  long acc = 0;
  for (long i = 0; i < n; i++) acc = (acc * 31 + (i ^ (acc >> 7))) & 0xffffffffffffL;
  return acc;
}

}  // namespace

TEST(OrcTier, LazyCompilationCompilesOnlyWhatRuns) {
  auto e = make_engine(TIERJIT_TEST_DATA "/tierup.bc", {});
  auto sq = e->lookup("square");
  ASSERT_TRUE(sq.ok());
  EXPECT_EQ(stats_of(e->function_stats(), "square").opt_level, -1) << "compiled before a call";
  EXPECT_EQ(reinterpret_cast<long (*)(long)>(sq.value())(7), 49);
  EXPECT_EQ(stats_of(e->function_stats(), "square").opt_level, 0);
  EXPECT_EQ(stats_of(e->function_stats(), "spin").opt_level, -1) << "spin never ran";
}

TEST(OrcTier, TierUpSwapsTheEntryCellAndKeepsResults) {
  OrcOptions o;
  o.policy.thresholds = {100};
  o.policy.levels = {2};
  auto e = make_engine(TIERJIT_TEST_DATA "/tierup.bc", o);
  auto fn = reinterpret_cast<long (*)(long)>(e->lookup("square").value());
  EXPECT_EQ(fn(3), 9);
  uint64_t base_code = e->entry_target("square");
  for (long i = 0; i < 150; i++) ASSERT_EQ(fn(i), i * i);
  e->drain_tier_ups();
  uint64_t tiered_code = e->entry_target("square");
  EXPECT_NE(base_code, tiered_code) << "the entry cell was not swapped";
  FunctionStats s = stats_of(e->function_stats(), "square");
  EXPECT_EQ(s.opt_level, 2);
  EXPECT_EQ(s.tier_ups, 1u);
  uint64_t profiled = stats_of(e->function_stats(), "square").calls;
  EXPECT_GE(profiled, 100u) << "the base tier counts calls";
  EXPECT_EQ(fn(12), 144);
  EXPECT_EQ(stats_of(e->function_stats(), "square").calls, profiled) << "the top tier does not";
}

TEST(OrcTier, CallInFlightFinishesOnOldCodeWhileLoopHeatTiersUp) {
  OrcOptions o;
  auto e = make_engine(TIERJIT_TEST_DATA "/tierup.bc", o);
  auto spin = reinterpret_cast<long (*)(long)>(e->lookup("spin").value());
  // One call: 3M back-edges cross the threshold inside this activation.
  EXPECT_EQ(spin(3000000), ref_spin(3000000));
  e->drain_tier_ups();
  FunctionStats s = stats_of(e->function_stats(), "spin");
  EXPECT_EQ(s.calls, 1u);  // counted by the base tier, which the call ran on
  EXPECT_EQ(s.opt_level, 2) << "back-edge heat did not tier up a function called once";
  EXPECT_EQ(spin(1000), ref_spin(1000));
}

TEST(OrcTier, SupersededCodeIsFreedOnlyWhenReclaimed) {
  auto e = make_engine(TIERJIT_TEST_DATA "/tierup.bc", {});
  auto fn = reinterpret_cast<long (*)(long)>(e->lookup("square").value());
  EXPECT_EQ(fn(2), 4);
  uint64_t base_code = e->entry_target("square");
  const auto* old_bytes = reinterpret_cast<const uint8_t*>(base_code);
  const uint8_t zeros[16] = {};
  for (long i = 0; i < 200; i++) ASSERT_EQ(fn(i), i * i);
  e->drain_tier_ups();
  ASSERT_NE(e->entry_target("square"), base_code);
  EXPECT_NE(std::memcmp(old_bytes, zeros, sizeof zeros), 0) << "old code freed before reclaim";
  const auto& memory = tierjit::backend::JitSession::get().value()->memory();
  size_t code_before = memory.code_bytes();
  EXPECT_EQ(e->reclaim_retired_code(), 1u);
  // Freed code pages go back to the system (the address range stays reserved and reads zero).
  EXPECT_EQ(std::memcmp(old_bytes, zeros, sizeof zeros), 0) << "old code still present";
  EXPECT_LT(memory.code_bytes(), code_before);
  EXPECT_EQ(fn(9), 81) << "the current tier survives reclamation";
  EXPECT_EQ(e->reclaim_retired_code(), 0u);
}

TEST(OrcTier, MultiLevelThresholds) {
  auto p = TierPolicy::parse_thresholds("10,100,1000");
  ASSERT_TRUE(p.ok());
  OrcOptions o;
  o.policy = p.value();
  auto e = make_engine(TIERJIT_TEST_DATA "/tierup.bc", o);
  auto fn = reinterpret_cast<long (*)(long)>(e->lookup("sum_squares").value());
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 1200; i++) ASSERT_EQ(fn(10), 285);
    e->drain_tier_ups();
  }
  FunctionStats s = stats_of(e->function_stats(), "sum_squares");
  EXPECT_EQ(s.opt_level, 3);
  EXPECT_EQ(s.tier_ups, 3u);
}

TEST(OrcTier, ThresholdListIsValidated) {
  EXPECT_FALSE(TierPolicy::parse_thresholds("").ok());
  EXPECT_FALSE(TierPolicy::parse_thresholds("100,10").ok());
  EXPECT_FALSE(TierPolicy::parse_thresholds("0").ok());
  EXPECT_FALSE(TierPolicy::parse_thresholds("1,2,3,4").ok());
  EXPECT_FALSE(TierPolicy::parse_thresholds("abc").ok());
  auto p = TierPolicy::parse_thresholds("100,1000");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value().levels, (std::vector<int>{1, 2}));
}

TEST(OrcTier, FixedLevelNeverTiersUp) {
  OrcOptions o;
  o.policy.fixed_opt = 1;
  auto e = make_engine(TIERJIT_TEST_DATA "/tierup.bc", o);
  auto fn = reinterpret_cast<long (*)(long)>(e->lookup("square").value());
  for (long i = 0; i < 1000; i++) ASSERT_EQ(fn(i), i * i);
  e->drain_tier_ups();
  EXPECT_EQ(stats_of(e->function_stats(), "square").opt_level, 1);
  EXPECT_EQ(stats_of(e->function_stats(), "square").tier_ups, 0u);
}
