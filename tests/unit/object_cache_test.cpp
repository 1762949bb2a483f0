// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Object cache: hits and misses, corruption is detected and never returned, LRU trimming,
// concurrent writers.
#include "runtime/object_cache.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/file.hpp"

using namespace tierjit;

namespace {
std::string temp_dir(const char* name) {
  std::string d =
      std::string(::testing::TempDir()) + "/tj-cache-" + name + "-" + std::to_string(::getpid());
  std::filesystem::remove_all(d);
  return d;
}
Hash128 key(uint64_t n) { return Hash128{n, n * 7 + 1}; }
}  // namespace

TEST(ObjectCache, StoreThenLoad) {
  ObjectCache c(temp_dir("basic"));
  EXPECT_FALSE(c.load(key(1)).has_value());
  c.store(key(1), "object bytes");
  auto got = c.load(key(1));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, "object bytes");
  EXPECT_EQ(c.stats().hits, 1u);
  EXPECT_EQ(c.stats().misses, 1u);
}

TEST(ObjectCache, CorruptEntriesAreReportedDiscardedNeverReturned) {
  std::string dir = temp_dir("corrupt");
  ObjectCache c(dir);
  std::vector<std::string> warnings;
  c.set_warning_handler([&](const std::string& w) { warnings.push_back(w); });
  const std::vector<std::function<void(std::string&)>> corruptions = {
      [](std::string& b) { b[b.size() - 1] ^= 0x40; },  // payload bit flip
      [](std::string& b) { b.resize(20); },             // truncated header
      [](std::string& b) { b[0] = 'X'; },               // bad magic
      [](std::string& b) { b.resize(b.size() - 3); },   // truncated payload
      [](std::string& b) { b[10] ^= 1; },               // wrong key (renamed entry)
  };
  for (size_t i = 0; i < corruptions.size(); ++i) {
    c.store(key(100 + i), "payload that must not be executed if damaged");
    std::string path = c.entry_path(key(100 + i));
    std::string bytes = read_file(path).value();
    corruptions[i](bytes);
    ASSERT_TRUE(write_file_atomic(path, bytes).ok());
    EXPECT_FALSE(c.load(key(100 + i)).has_value()) << "corruption " << i;
    EXPECT_FALSE(std::filesystem::exists(path)) << "corrupt entry not discarded";
  }
  EXPECT_EQ(c.stats().corrupt, corruptions.size());
  ASSERT_EQ(warnings.size(), corruptions.size());
  EXPECT_NE(warnings[0].find("corrupt cache entry"), std::string::npos);
}

TEST(ObjectCache, TrimEvictsLeastRecentlyUsed) {
  std::string dir = temp_dir("lru");
  ObjectCache c(dir, 3 * 1100);
  std::string blob(1000, 'z');
  for (uint64_t i = 0; i < 3; ++i) c.store(key(i), blob);
  // Make entry 0 the most recently used, 1 the least.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(c.load(key(2)).has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(c.load(key(0)).has_value());
  c.store(key(3), blob);
  c.trim();
  EXPECT_FALSE(c.load(key(1)).has_value()) << "LRU entry survived";
  EXPECT_TRUE(c.load(key(0)).has_value());
  EXPECT_TRUE(c.load(key(3)).has_value());
  EXPECT_LE(c.usage().bytes, 3u * 1100);
}

TEST(ObjectCache, ConcurrentWritersNeverTearEntries) {
  std::string dir = temp_dir("concurrent");
  auto blob = [](int k) { return std::string(5000 + k, char('a' + k)); };
  std::atomic<int> cross_hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      ObjectCache c(dir);
      for (int i = 0; i < 200; ++i) {
        c.store(key(i % 10), blob(i % 10));
        // Entries are never removed here, so the key just stored must load, whole.
        auto own = c.load(key(i % 10));
        ASSERT_TRUE(own.has_value()) << "thread " << t << " lost its own store " << i;
        ASSERT_EQ(*own, blob(i % 10));
        // Another key, possibly being written by another thread right now: a miss is fine
        // before its first store, a torn or foreign entry never is.
        int k = (i + t) % 10;
        if (auto got = c.load(key(k))) {
          ASSERT_EQ(*got, blob(k));
          cross_hits.fetch_add(1);
        }
      }
      EXPECT_EQ(c.stats().corrupt, 0u);
    });
  for (auto& th : threads) th.join();
  // Every key is stored within a thread's first ten steps, so nearly every later cross load
  // hits; a cache that misses everything fails here.
  EXPECT_GT(cross_hits.load(), 4 * 150);
}

TEST(ObjectCache, ClearRemovesEverything) {
  ObjectCache c(temp_dir("clear"));
  c.store(key(1), "a");
  c.store(key(2), "b");
  EXPECT_EQ(c.usage().entries, 2u);
  ASSERT_TRUE(c.clear().ok());
  EXPECT_EQ(c.usage().entries, 0u);
}

TEST(ObjectCache, DefaultDirectoryPrecedence) {
  std::string saved_cache = getenv("TIERJIT_CACHE_DIR") ? getenv("TIERJIT_CACHE_DIR") : "";
  std::string saved_xdg = getenv("XDG_CACHE_HOME") ? getenv("XDG_CACHE_HOME") : "";
  std::string saved_home = getenv("HOME") ? getenv("HOME") : "";
  setenv("TIERJIT_CACHE_DIR", "/a/tj", 1);
  setenv("XDG_CACHE_HOME", "/b/xdg", 1);
  setenv("HOME", "/c/home", 1);
  EXPECT_EQ(ObjectCache::default_dir(), "/a/tj");
  unsetenv("TIERJIT_CACHE_DIR");
  EXPECT_EQ(ObjectCache::default_dir(), "/b/xdg/tierjit");
  unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(ObjectCache::default_dir(), "/c/home/.cache/tierjit");
  auto restore = [](const char* name, const std::string& v) {
    if (v.empty())
      unsetenv(name);
    else
      setenv(name, v.c_str(), 1);
  };
  restore("TIERJIT_CACHE_DIR", saved_cache);
  restore("XDG_CACHE_HOME", saved_xdg);
  restore("HOME", saved_home);
}
