// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The seed API: compile, call, LRU by id, staleness, statistics, errors, thread safety.
#include "tierjit/jit_compiler.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

using namespace tierjit;

namespace {
const char* kAdd = R"(
define i32 @add(i32 %a, i32 %b) {
  %s = add i32 %a, %b
  ret i32 %s
}
)";
const char* kMul = R"(
define i32 @add(i32 %a, i32 %b) {
  %s = mul i32 %a, %b
  ret i32 %s
}
)";

JitConfig config(const char* name) {
  JitConfig c;
  c.cache_dir =
      std::string(::testing::TempDir()) + "/tj-jc-" + name + "-" + std::to_string(::getpid());
  c.work_dir = c.cache_dir + "/work";
  std::filesystem::remove_all(c.cache_dir);
  return c;
}
}  // namespace

TEST(JitCompiler, CompilesAndCalls) {
  JitCompiler jit(config("basic"));
  auto f = jit.compile_llvm_ir(kAdd, "add");
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f.value()->name, "add");
  EXPECT_EQ(f.value()->id, "add");
  EXPECT_EQ(f.value()->as<int(int, int)>()(20, 22), 42);
  EXPECT_TRUE(std::filesystem::exists(f.value()->native_code_path));
  EXPECT_GT(f.value()->compilation_time_ms, 0.0);
}

TEST(JitCompiler, CacheHitByIdAndNeverStale) {
  JitCompiler jit(config("stale"));
  auto a = jit.compile_llvm_ir(kAdd, "op").value();
  auto b = jit.compile_llvm_ir(kAdd, "op").value();
  EXPECT_EQ(a.get(), b.get()) << "second compile of same id+IR is a cache hit";
  auto c = jit.compile_llvm_ir(kMul, "op").value();  // same id, new IR: the seed returned stale
  EXPECT_EQ(c->as<int(int, int)>()(6, 7), 42);
  EXPECT_EQ(a->as<int(int, int)>()(6, 7), 13) << "old handle keeps its code alive";
  CacheStatistics s = jit.get_cache_stats();
  EXPECT_EQ(s.cache_hits, 1u);
  EXPECT_EQ(s.cache_misses, 2u);
  EXPECT_NEAR(s.hit_rate, 1.0 / 3.0, 1e-9);
  EXPECT_EQ(s.cache_size, 1u);
}

TEST(JitCompiler, LruEvictionAtMaxCachedFunctions) {
  JitConfig cfg = config("lru");
  cfg.max_cached_functions = 2;
  JitCompiler jit(cfg);
  ASSERT_TRUE(jit.compile_llvm_ir(kAdd, "a").ok());
  ASSERT_TRUE(jit.compile_llvm_ir(kAdd, "b").ok());
  ASSERT_NE(jit.get_cached_function("a"), nullptr);  // a becomes most recent
  ASSERT_TRUE(jit.compile_llvm_ir(kAdd, "c").ok());  // evicts b
  EXPECT_EQ(jit.get_cached_function("b"), nullptr);
  EXPECT_EQ(jit.list_cached_functions(), (std::vector<std::string>{"c", "a"}));
  jit.clear_cache();
  EXPECT_TRUE(jit.list_cached_functions().empty());
}

TEST(JitCompiler, DiskCacheSurvivesANewCompiler) {
  JitConfig cfg = config("disk");
  {
    JitCompiler first(cfg);
    ASSERT_TRUE(first.compile_llvm_ir(kAdd, "x").ok());
  }
  JitCompiler second(cfg);
  auto f = second.compile_llvm_ir(kAdd, "x");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f.value()->from_disk_cache);
  EXPECT_EQ(f.value()->as<int(int, int)>()(1, 2), 3);
  EXPECT_EQ(second.get_cache_stats().disk_hits, 1u);
}

TEST(JitCompiler, ErrorsAreReportedAndCounted) {
  JitCompiler jit(config("errors"));
  auto bad = jit.compile_llvm_ir("define i32 @f( {", "bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(bad.error().where.line, 1u);
  auto none = jit.compile_llvm_ir("declare i32 @g()", "none");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kMissingEntry);
  auto unresolved = jit.compile_llvm_ir(
      "declare i32 @tj_no_such_symbol()\ndefine i32 @f() {\n %r = call i32 @tj_no_such_symbol()\n"
      " ret i32 %r\n}\n",
      "unresolved");
  ASSERT_FALSE(unresolved.ok());
  EXPECT_NE(unresolved.error().message.find("tj_no_such_symbol"), std::string::npos)
      << unresolved.error().message;
  EXPECT_EQ(jit.get_stats().failed_compilations, 3u);
}

TEST(JitCompiler, ThreadSafe) {
  JitCompiler jit(config("threads"));
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto f = jit.compile_llvm_ir(i % 2 ? kAdd : kMul, "id" + std::to_string((t + i) % 5));
        ASSERT_TRUE(f.ok());
        int r = f.value()->as<int(int, int)>()(3, 4);
        ASSERT_TRUE(r == 7 || r == 12);
      }
    });
  for (auto& th : ts) th.join();
  EXPECT_EQ(jit.get_stats().successful_compilations, 80u);
}
