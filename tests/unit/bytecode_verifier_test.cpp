// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Every rejection of the .tjbc reader and verifier, each with its byte offset, and the
// assembler's located errors. A module that passes must round-trip asm -> bin -> asm.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "bytecode/module_io.hpp"
#include "bytecode/text.hpp"

namespace tierjit {
namespace {

using bytecode::Module;

const char* kGood = R"(
.memory 65536
.data 0x10
  .ascii "hi"
.func callee 1 2
  ret r0
.end
.func main 0 4
  ldi r1, 5
  call r2, callee, r1, 1
  hcall r3, print_i64, r2, 1
loop:
  addi r1, r1, -1
  bnz r1, loop
  ret r2
.end
)";

std::string good_binary() {
  auto m = bytecode::assemble(kGood, "good.tjasm");
  EXPECT_TRUE(m.ok()) << m.error().to_string();
  return bytecode::write_module(m.value());
}

// Offset of main's first code word in good_binary() (found by searching for its encoding).
size_t main_code_offset(const std::string& bin) {
  Module m = bytecode::read_module(bin, "x").value();
  uint32_t first = m.functions[1].code[0];
  size_t at = bin.rfind(std::string(reinterpret_cast<const char*>(&first), 4));
  EXPECT_NE(at, std::string::npos);
  return at;
}

void expect_reject(const std::string& bin, const std::string& what, int64_t offset = -2) {
  auto m = bytecode::read_module(bin, "bad.tjbc");
  ASSERT_FALSE(m.ok()) << "accepted; expected: " << what;
  EXPECT_EQ(m.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(m.error().message.find(what), std::string::npos) << m.error().to_string();
  EXPECT_EQ(m.error().where.file, "bad.tjbc");
  if (offset != -2) EXPECT_EQ(m.error().where.byte_offset, offset) << m.error().to_string();
}

void set_word(std::string& bin, size_t at, uint32_t w) { std::memcpy(&bin[at], &w, 4); }

TEST(BytecodeVerifier, AcceptsAndRoundTrips) {
  std::string bin = good_binary();
  auto m = bytecode::read_module(bin, "good.tjbc");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  auto again = bytecode::assemble(bytecode::disassemble(m.value()), "dis");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(bytecode::write_module(again.value()), bin);
}

TEST(BytecodeVerifier, RejectsEveryMalformedHeaderAndSection) {
  std::string bin = good_binary();
  for (size_t n :
       {size_t{0}, size_t{3}, size_t{10}, size_t{15}, size_t{20}, size_t{40}, bin.size() - 1})
    expect_reject(bin.substr(0, n), "truncated");
  std::string b = bin;
  b[0] = 'X';
  expect_reject(b, "bad magic", 0);
  b = bin;
  b[4] = 9;
  expect_reject(b, "unsupported version", 4);
  b = bin;
  b[6] = 1;
  expect_reject(b, "unknown header flags", 6);
  b = bin;
  set_word(b, 16, 7);  // first section id
  expect_reject(b, "section id 7", 16);
  b = bin;
  set_word(b, 20, 9);  // memory section claims 9 bytes
  expect_reject(b, "does not match", 16);
  expect_reject(bin + "x", "trailing bytes", static_cast<int64_t>(bin.size()));
  b = bin;
  set_word(b, 8, 99);  // entry function
  expect_reject(b, "entry function #99");
  // Names must be assembler identifiers, or disassembly would not assemble back (fuzzer find).
  for (const char* bad : {"1allee", "ca le", "c\x01llee"}) {
    b = bin;
    size_t at = b.find("callee");
    ASSERT_NE(at, std::string::npos);
    b.replace(at, 6, bad);
    expect_reject(b, "invalid function name", static_cast<int64_t>(at) - 2);
  }
  b = bin;
  b[b.find("print_i64")] = '9';
  expect_reject(b, "invalid import name");
}

TEST(BytecodeVerifier, RejectsEveryMalformedInstruction) {
  const std::string bin = good_binary();
  const size_t code = main_code_offset(bin);  // ldi r1, 5 (2 words)
  auto with_word = [&](size_t word, uint32_t value) {
    std::string b = bin;
    set_word(b, code + word * 4, value);
    return b;
  };
  const uint32_t ldi = bytecode::word0({bytecode::Op::LDI, 1, 0, 0, 0});
  expect_reject(with_word(0, 0xff), "unknown opcode 0xff", static_cast<int64_t>(code));
  expect_reject(with_word(0, 0), "unknown opcode 0x00", static_cast<int64_t>(code));
  expect_reject(with_word(0, ldi | 7u << 16), "non-zero unused operand",
                static_cast<int64_t>(code));
  expect_reject(with_word(0, bytecode::word0({bytecode::Op::LDI, 9, 0, 0, 0})),
                "register r9 outside the frame of 4", static_cast<int64_t>(code));
  // call r2, callee, r1, 1 at words 2-3: callee index and argument count.
  expect_reject(with_word(3, 5), "call to missing function #5");
  expect_reject(with_word(2, bytecode::word0({bytecode::Op::CALL, 2, 1, 2, 0})),
                "call passes 2 arguments, 'callee' takes 1");
  expect_reject(with_word(2, bytecode::word0({bytecode::Op::CALL, 2, 3, 2, 0})),
                "exceed the frame");
  // hcall at words 4-5: import index.
  expect_reject(with_word(5, 3), "missing import #3");
  // bnz r1, loop at words 8-9: branch targets.
  expect_reject(with_word(9, static_cast<uint32_t>(-400)), "outside the function");
  expect_reject(with_word(9, static_cast<uint32_t>(-8 + 4)), "not an instruction boundary");
  expect_reject(with_word(9, 2), "not a multiple of 4");
  // ret r2 (word 10) replaced by a non-terminator: falls off the end.
  expect_reject(with_word(10, bytecode::word0({bytecode::Op::MOV, 1, 2, 0, 0})),
                "falls through off the end");
  // An 8-byte instruction cut by the end of the function.
  expect_reject(with_word(10, ldi), "truncated instruction 'ldi'");
}

TEST(BytecodeVerifier, RejectsModuleLevelErrors) {
  Module m = bytecode::assemble(kGood, "good.tjasm").value();
  Module bad = m;
  bad.memory_size = 100;
  EXPECT_FALSE(bytecode::verify(bad, "m").ok());
  bad = m;
  bad.data[0].addr = m.memory_size - 1;
  EXPECT_NE(bytecode::verify(bad, "m").error().message.find("outside memory"), std::string::npos);
  bad = m;
  bad.functions[0].name = "main";
  EXPECT_NE(bytecode::verify(bad, "m").error().message.find("duplicate function"),
            std::string::npos);
  bad = m;
  bad.functions[0].nregs = 0;
  EXPECT_NE(bytecode::verify(bad, "m").error().message.find("register count 0"), std::string::npos);
  bad = m;
  bad.functions[0].code.clear();
  EXPECT_NE(bytecode::verify(bad, "m").error().message.find("no instructions"), std::string::npos);
}

TEST(BytecodeAssembler, ErrorsNameLineAndColumn) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {".func f 0 2\n  add r0, r1\n.end\n", "t.tjasm:2:13: expected ',', got end of line"},
      {".func f 0 2\n  addi r0, r1, 99999999999\n.end\n", "t.tjasm:2:16: an immediate"},
      {".func f 0 2\n  ret r0\n", "missing .end"},
      {".func f 0 2\n  call r0, g, r0, 0\n  ret r0\n.end\n", "undefined function 'g'"},
      {".func f 0 2\n  ld64 r0, r1\n.end\n", "t.tjasm:2:12: expected '['"},
      {".data 0\n  .ascii \"abc\n", "t.tjasm:2:10: unterminated string"},
      {".func f 0 2\nx:\nx:\n  ret r0\n.end\n", "t.tjasm:3:1: label 'x' defined twice"},
      {".entry nope\n.func f 0 2\n  ret r0\n.end\n", ".entry names undefined function"},
      {"  ret r0\n", "t.tjasm:1:3: instruction outside .func"},
  };
  for (const Case& c : cases) {
    auto m = bytecode::assemble(c.text, "t.tjasm");
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_NE(m.error().to_string().find(c.want), std::string::npos)
        << "got: " << m.error().to_string() << "\nwant: " << c.want;
  }
}

}  // namespace
}  // namespace tierjit
