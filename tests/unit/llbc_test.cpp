// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// LLBC container: layout, round trip, and every malformed-input class.
#include "llvmir/llbc.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>

using namespace tierjit;
using namespace tierjit::llvmir;

namespace {
const std::string kBitcode = std::string("BC\xC0\xDE", 4) + std::string(60, 'x');

std::string wrapped() {
  LlbcHeader h;
  h.module_name = "fib";
  h.entry_name = "module_fibonacci";
  h.opt_level = 3;
  return write_llbc(h, kBitcode).value();
}
}  // namespace

TEST(Llbc, HeaderIsExactly128BytesWithDocumentedOffsets) {
  std::string f = wrapped();
  ASSERT_EQ(f.size(), 128 + kBitcode.size());
  EXPECT_EQ(f.substr(0, 4), "LLBC");
  EXPECT_EQ(std::string(f.c_str() + 4), "fib");
  EXPECT_EQ(std::string(f.c_str() + 36), "module_fibonacci");
  uint32_t size, version, opt;
  std::memcpy(&size, f.data() + 100, 4);
  std::memcpy(&version, f.data() + 104, 4);
  std::memcpy(&opt, f.data() + 108, 4);
  EXPECT_EQ(size, kBitcode.size());
  EXPECT_EQ(version, 1u);
  EXPECT_EQ(opt, 3u);
  EXPECT_EQ(f.substr(128), kBitcode);
}

TEST(Llbc, RoundTrip) {
  std::string f = wrapped();
  std::string_view payload;
  auto h = parse_llbc(f, "x.llbc", &payload);
  ASSERT_TRUE(h.ok()) << h.error().to_string();
  EXPECT_EQ(h.value().module_name, "fib");
  EXPECT_EQ(h.value().entry_name, "module_fibonacci");
  EXPECT_EQ(h.value().opt_level, 3u);
  EXPECT_EQ(payload, kBitcode);
}

struct BadCase {
  const char* what;
  std::function<void(std::string&)> corrupt;
  const char* message;
  int64_t offset;
};

TEST(Llbc, RejectsEveryMalformedClassWithOffset) {
  std::vector<BadCase> cases = {
      {"truncated header", [](std::string& f) { f.resize(60); }, "truncated header", 60},
      {"bad magic", [](std::string& f) { f[0] = 'X'; }, "bad magic", 0},
      {"bad version", [](std::string& f) { f[104] = 9; }, "unsupported version", 104},
      {"bad opt", [](std::string& f) { f[108] = 7; }, "opt level", 108},
      {"reserved", [](std::string& f) { f[120] = 1; }, "reserved", 120},
      {"truncated payload", [](std::string& f) { f.resize(f.size() - 5); }, "truncated payload",
       100},
      {"oversized", [](std::string& f) { f += "junk"; }, "trailing bytes", -2},
      {"not bitcode", [](std::string& f) { f[128] = 'Z'; }, "not LLVM bitcode", 128},
      {"hash", [](std::string& f) { f[140] ^= 1; }, "hash mismatch", 112},
  };
  for (const BadCase& c : cases) {
    std::string f = wrapped();
    c.corrupt(f);
    auto h = parse_llbc(f, "bad.llbc", nullptr);
    ASSERT_FALSE(h.ok()) << c.what;
    EXPECT_EQ(h.error().code, ErrorCode::kInvalidInput) << c.what;
    EXPECT_NE(h.error().message.find(c.message), std::string::npos)
        << c.what << ": " << h.error().message;
    if (c.offset >= 0) EXPECT_EQ(h.error().where.byte_offset, c.offset) << c.what;
    EXPECT_NE(h.error().to_string().find("bad.llbc"), std::string::npos);
  }
}

TEST(Llbc, WriterRejectsLongNames) {
  LlbcHeader h;
  h.module_name = std::string(32, 'm');
  EXPECT_FALSE(write_llbc(h, kBitcode).ok());
  h.module_name = "ok";
  h.entry_name = std::string(64, 'e');
  EXPECT_FALSE(write_llbc(h, kBitcode).ok());
}
