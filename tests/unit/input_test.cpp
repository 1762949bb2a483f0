// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The front door: every input kind is recognized from its content, once.
#include "driver/input.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tierjit::driver {
namespace {

using namespace std::string_literals;

TEST(Input, ClassifiesEveryKindByContent) {
  EXPECT_EQ(classify_input("a", "; ModuleID = 'x'\ndefine i32 @main() {\n"),
            InputKind::kLlvmIrText);
  EXPECT_EQ(classify_input("a", "BC\xc0\xde\x35\x14"), InputKind::kLlvmBitcode);
  EXPECT_EQ(classify_input("a", "\xde\xc0\x17\x0b\x00\x00"s), InputKind::kLlvmBitcode);
  EXPECT_EQ(classify_input("a", "LLBC\x01\x00\x00\x00"s), InputKind::kLlbc);
  EXPECT_EQ(classify_input("a", "TJBC\x01\x00\x00\x00"s), InputKind::kTjbc);
  EXPECT_EQ(classify_input("a", "; c\n.func main 0 1\n  ret r0\n.end\n"), InputKind::kTjasm);
  EXPECT_EQ(classify_input("a", "// c\n\nmodule @m {\n}\n"), InputKind::kStableHlo);
  EXPECT_EQ(classify_input("a", "func.func @main() {\n}\n"), InputKind::kStableHlo);
  EXPECT_EQ(classify_input("x.mlir", "anything"), InputKind::kStableHlo);
  // ELF64, little-endian, e_machine 243 (EM_RISCV) at offset 18; 62 (x86-64) is refused.
  std::string elf =
      "\x7f"
      "ELF\x02\x01\x01"s +
      std::string(11, '\0') + "\xf3\x00"s;
  EXPECT_EQ(classify_input("a", elf), InputKind::kRiscvElf);
  elf[18] = 62;
  EXPECT_EQ(classify_input("a", elf), InputKind::kOtherElf);
  EXPECT_EQ(classify_input("a",
                           "\x7f"
                           "ELF\x02\x01"s),
            InputKind::kOtherElf);  // truncated
}

TEST(Input, ReadErrorsAreLocated) {
  auto in = read_input("/nonexistent/prog.bc");
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.error().to_string().find("/nonexistent/prog.bc"), std::string::npos);
}

}  // namespace
}  // namespace tierjit::driver
