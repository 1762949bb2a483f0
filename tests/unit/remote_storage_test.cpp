// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Remote storage: configuration parsing, and the object cache's second level over a shared
// directory (the Redis and HTTP back ends run against real servers in cli.remote_cache).
#include "runtime/remote_storage.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "runtime/object_cache.hpp"
#include "support/file.hpp"

using namespace tierjit;

namespace {
std::string temp_dir(const std::string& name) {
  std::string d =
      std::string(::testing::TempDir()) + "/tj-remote-" + name + "-" + std::to_string(::getpid());
  std::filesystem::remove_all(d);
  return d;
}
Hash128 key(uint64_t n) { return Hash128{n, n * 13 + 5}; }

// A remote over DIR, with TIERJIT_REMOTE_KEY as given ("" = unsigned) while it is made.
std::unique_ptr<RemoteStorage> remote(const std::string& dir, const char* key = "",
                                      const std::string& attrs = "") {
  if (*key) {
    ::setenv("TIERJIT_REMOTE_KEY", key, 1);
  } else {
    ::unsetenv("TIERJIT_REMOTE_KEY");
  }
  ::setenv("TIERJIT_REMOTE_STATE_DIR", (dir + "-state").c_str(), 1);
  auto specs = parse_remote_storage("file://" + dir + attrs);
  EXPECT_TRUE(specs.ok());
  auto r = std::make_unique<RemoteStorage>(std::move(specs).value());
  ::unsetenv("TIERJIT_REMOTE_KEY");
  return r;
}
}  // namespace

TEST(RemoteStorageConfig, ParsesEveryBackEndAndAttribute) {
  auto s = parse_remote_storage(
      "  redis://user:pw@cache.local:7000/3|read-only|prefix=team-a|connect-timeout=50 "
      "http://h:8080/cas/|layout=subdirs|operation-timeout=2500\tfile:///srv/tj ");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->size(), 3u);
  const RemoteSpec& r = (*s)[0];
  EXPECT_EQ(r.kind, RemoteSpec::Kind::kRedis);
  EXPECT_EQ(r.url, "redis://cache.local:7000/3");  // shown without the password
  EXPECT_EQ(r.host, "cache.local");
  EXPECT_EQ(r.port, 7000);
  EXPECT_EQ(r.db, 3);
  EXPECT_EQ(r.user, "user");
  EXPECT_EQ(r.password, "pw");
  EXPECT_TRUE(r.read_only);
  EXPECT_EQ(r.prefix, "team-a");
  EXPECT_EQ(r.connect_timeout_ms, 50);
  EXPECT_EQ(r.operation_timeout_ms, 1000);
  const RemoteSpec& h = (*s)[1];
  EXPECT_EQ(h.kind, RemoteSpec::Kind::kHttp);
  EXPECT_EQ(h.host, "http://h:8080/cas");
  EXPECT_TRUE(h.subdirs);
  EXPECT_FALSE(h.read_only);
  EXPECT_EQ(h.operation_timeout_ms, 2500);
  auto basic = parse_remote_storage("https://me:secret@cas.example/tj");
  ASSERT_TRUE(basic.ok());
  EXPECT_EQ((*basic)[0].url, "https://cas.example/tj");
  EXPECT_EQ((*basic)[0].host, "https://me:secret@cas.example/tj");  // what curl is given
  EXPECT_EQ((*s)[2].kind, RemoteSpec::Kind::kFile);
  EXPECT_EQ((*s)[2].host, "/srv/tj");
  auto plain = parse_remote_storage("redis://localhost");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)[0].port, 6379);
  EXPECT_EQ((*plain)[0].db, 0);
  EXPECT_TRUE(parse_remote_storage("").ok());
  EXPECT_TRUE(parse_remote_storage("").value().empty());
}

TEST(RemoteStorageConfig, RejectsBadInputWithTheReason) {
  struct Case {
    const char* config;
    const char* why;
  } cases[] = {
      {"ftp://x", "unknown scheme"},
      {"redis://", "no host"},
      {"redis://h:0", "bad port"},
      {"redis://h:99999", "bad port"},
      {"redis://h:12ab", "bad port"},
      {"redis://h/x", "bad database number"},
      {"http://", "no host"},
      {"file:relative/dir", "absolute directory"},
      {"redis://h|fast", "unknown attribute 'fast'"},
      {"redis://h|read-only=yes", "unknown attribute"},
      {"redis://h|prefix=", "prefix must be non-empty"},
      {"redis://h|prefix=a:b", "prefix must be non-empty"},
      {"redis://h|prefix=..", "prefix must be non-empty"},
      {"http://h/x|prefix=a/b", "prefix must be non-empty"},
      {"redis://h|connect-timeout=0", "milliseconds"},
      {"redis://h|operation-timeout=soon", "milliseconds"},
      {"http://h/x|layout=deep", "unknown attribute"},
  };
  for (const Case& c : cases) {
    auto s = parse_remote_storage(c.config);
    ASSERT_FALSE(s.ok()) << c.config;
    EXPECT_EQ(s.error().code, ErrorCode::kUsage);
    EXPECT_NE(s.error().message.find(c.why), std::string::npos)
        << c.config << ": " << s.error().message;
  }
}

TEST(RemoteStorage, HashHexRoundTrips) {
  Hash128 h{0x0123456789abcdefull, 0xfedcba9876543210ull}, back;
  ASSERT_TRUE(Hash128::from_hex(h.hex(), &back));
  EXPECT_EQ(back, h);
  EXPECT_FALSE(Hash128::from_hex("0123", &back));
  EXPECT_FALSE(Hash128::from_hex(std::string(31, '0') + "G", &back));
  EXPECT_FALSE(Hash128::from_hex(std::string(32, 'A'), &back));  // lowercase only
}

TEST(RemoteStorage, ASecondMachineLoadsWhatTheFirstStored) {
  std::string shared = temp_dir("shared");
  auto rs = remote(shared);
  ObjectCache a(temp_dir("a")), b(temp_dir("b"));
  a.set_remote(rs.get());
  b.set_remote(rs.get());
  a.store(key(1), "object one");
  a.store(key(2), std::string(100000, 'x'));
  rs->flush(10000);
  auto got = b.load(key(1));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, "object one");
  EXPECT_EQ(b.stats().remote_hits, 1u);
  EXPECT_TRUE(b.contains_local(key(1)));  // written through
  b.prefetch({key(2), key(3)});
  EXPECT_TRUE(b.contains_local(key(2)));
  EXPECT_FALSE(b.contains_local(key(3)));
  EXPECT_EQ(b.stats().remote_hits, 2u);
  auto c = rs->counters();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].uploads, 2u);
  EXPECT_EQ(c[0].hits, 2u);
  EXPECT_EQ(c[0].misses, 1u);                // key 3
  EXPECT_FALSE(b.load(key(3)).has_value());  // asked in the batch: not asked again
  EXPECT_EQ(rs->counters()[0].misses, 1u);
}

TEST(RemoteStorage, DamagedRemoteEntriesAreMissesNeverReturned) {
  std::string shared = temp_dir("damaged");
  auto rs = remote(shared);
  ObjectCache a(temp_dir("da")), b(temp_dir("db"));
  a.set_remote(rs.get());
  b.set_remote(rs.get());
  a.store(key(7), "trusted code");
  rs->flush(10000);
  std::string blob = shared + "/" + key(7).hex();
  auto bytes = read_file(blob);
  ASSERT_TRUE(bytes.ok());
  std::string evil = *bytes;
  evil.replace(evil.size() - 7, 7, "evil!!!");
  ASSERT_TRUE(write_file_atomic(blob, evil).ok());
  EXPECT_FALSE(b.load(key(7)).has_value());
  EXPECT_EQ(rs->counters()[0].corrupt, 1u);
  EXPECT_FALSE(b.contains_local(key(7)));
  ASSERT_TRUE(write_file_atomic(blob, bytes->substr(0, bytes->size() / 2)).ok());  // truncated
  EXPECT_FALSE(b.load(key(7)).has_value());
  EXPECT_EQ(rs->counters()[0].corrupt, 2u);
  ASSERT_TRUE(write_file_atomic(blob, "TJR").ok());
  EXPECT_FALSE(b.load(key(7)).has_value());
  EXPECT_EQ(rs->counters()[0].rejected, 1u);
}

TEST(RemoteStorage, SignedEntriesNeedTheKey) {
  std::string shared = temp_dir("signed");
  auto signer = remote(shared, "k1");
  auto same = remote(shared, "k1"), other = remote(shared, "k2"), none = remote(shared);
  ObjectCache a(temp_dir("sa"));
  a.set_remote(signer.get());
  a.store(key(9), "signed code");
  signer->flush(10000);
  EXPECT_TRUE(signer->signing());
  for (auto [rs, ok] : {std::pair{same.get(), true}, {other.get(), false}, {none.get(), true}}) {
    ObjectCache b(temp_dir("sb"));
    b.set_remote(rs);
    auto got = b.load(key(9));
    EXPECT_EQ(got.has_value(), ok);
    if (got) EXPECT_EQ(*got, "signed code");
  }
  EXPECT_EQ(other->counters()[0].rejected, 1u);
  // Unsigned entries are refused by a reader with a key.
  ObjectCache u(temp_dir("su"));
  u.set_remote(none.get());
  u.store(key(10), "unsigned code");
  none->flush(10000);
  ObjectCache r(temp_dir("sr"));
  r.set_remote(same.get());
  EXPECT_FALSE(r.load(key(10)).has_value());
  EXPECT_EQ(same->counters()[0].rejected, 1u);
}

TEST(RemoteStorage, ReadOnlyNeverWritesAndPushPullMoveEverything) {
  std::string shared = temp_dir("rw");
  auto ro = remote(shared, "", "|read-only");
  auto rw = remote(shared);  // both outlive the caches that use them
  ObjectCache a(temp_dir("ra"));
  a.set_remote(ro.get());
  a.store(key(11), "local only");
  ro->flush(10000);
  EXPECT_FALSE(std::filesystem::exists(shared + "/" + key(11).hex()));
  a.set_remote(rw.get());
  auto pushed = a.push();
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  EXPECT_EQ(pushed->entries, 1u);
  ObjectCache b(temp_dir("rb"));
  b.set_remote(rw.get());
  auto pulled = b.pull();
  ASSERT_TRUE(pulled.ok()) << pulled.error().message;
  EXPECT_EQ(pulled->entries, 1u);
  EXPECT_TRUE(b.contains_local(key(11)));
  ObjectCache none(temp_dir("rn"));
  none.set_remote(nullptr);
  EXPECT_EQ(none.push().error().code, ErrorCode::kUsage);
}

TEST(RemoteStorage, TheBreakerSkipsADeadBackEndAcrossProcesses) {
  std::string state = temp_dir("breaker-state");
  ::setenv("TIERJIT_REMOTE_STATE_DIR", state.c_str(), 1);
  auto specs = parse_remote_storage("redis://127.0.0.1:1|connect-timeout=50");
  ASSERT_TRUE(specs.ok());
  RemoteStorage first(*specs);
  auto got = first.get({key(1).hex()}, [](size_t, std::string&) { return Status(); });
  EXPECT_FALSE(got[0].has_value());
  EXPECT_EQ(first.counters()[0].errors, 1u);
  first.get({key(2).hex()}, [](size_t, std::string&) { return Status(); });
  EXPECT_EQ(first.counters()[0].errors, 1u);
  EXPECT_EQ(first.counters()[0].skipped, 1u);
  RemoteStorage second(*specs);  // another process: the marker file keeps it closed
  second.get({key(3).hex()}, [](size_t, std::string&) { return Status(); });
  EXPECT_EQ(second.counters()[0].errors, 0u);
  EXPECT_EQ(second.counters()[0].skipped, 1u);
  ::unsetenv("TIERJIT_REMOTE_STATE_DIR");
}
