// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "driver/input.hpp"

#include <cstring>

#include "bytecode/module_io.hpp"
#include "bytecode/text.hpp"
#include "llvmir/llbc.hpp"
#include "stablehlo/ast.hpp"
#include "support/file.hpp"

namespace tierjit::driver {

namespace {

// ELF identification and e_machine (System V ABI, "ELF Header"; EM_RISCV = 243).
constexpr unsigned char kElfMagic[4] = {0x7f, 'E', 'L', 'F'};
constexpr uint16_t kEmRiscv = 243;

bool is_elf(std::string_view b) {
  return b.size() >= 4 && std::memcmp(b.data(), kElfMagic, 4) == 0;
}

bool is_riscv64_elf(std::string_view b) {
  if (b.size() < 20 || b[4] != 2 /* ELFCLASS64 */ || b[5] != 1 /* ELFDATA2LSB */) return false;
  uint16_t machine = uint16_t(uint8_t(b[18])) | uint16_t(uint8_t(b[19])) << 8;
  return machine == kEmRiscv;
}

}  // namespace

const char* input_kind_name(InputKind kind) {
  switch (kind) {
    case InputKind::kLlvmIrText:
      return "LLVM IR text";
    case InputKind::kLlvmBitcode:
      return "LLVM bitcode";
    case InputKind::kLlbc:
      return "LLBC";
    case InputKind::kTjbc:
      return "tjbc";
    case InputKind::kTjasm:
      return "tjasm";
    case InputKind::kStableHlo:
      return "StableHLO";
    case InputKind::kRiscvElf:
      return "riscv64 ELF";
    case InputKind::kOtherElf:
      return "ELF";
  }
  return "?";
}

InputKind classify_input(std::string_view path, std::string_view bytes) {
  if (llvmir::is_llbc(bytes)) return InputKind::kLlbc;
  if (llvmir::is_bitcode(bytes)) return InputKind::kLlvmBitcode;
  if (bytecode::is_tjbc(bytes)) return InputKind::kTjbc;
  if (is_elf(bytes)) return is_riscv64_elf(bytes) ? InputKind::kRiscvElf : InputKind::kOtherElf;
  if (shlo::looks_like_mlir(path, bytes)) return InputKind::kStableHlo;
  if (bytecode::looks_like_tjasm(bytes)) return InputKind::kTjasm;
  return InputKind::kLlvmIrText;
}

Expected<InputFile> read_input(const std::string& path) {
  InputFile in;
  in.path = path;
  TJ_ASSIGN_OR_RETURN(in.bytes, read_file(path));
  in.kind = classify_input(path, in.bytes);
  return in;
}

}  // namespace tierjit::driver
