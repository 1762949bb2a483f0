// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The front door: reads an input file once and says what it is, so that each front end gets
// the bytes instead of reading (and sniffing) the file again. Detection is by content; the
// one exception is MLIR, which is text like LLVM IR and is also recognized by its `.mlir`
// extension.
#pragma once

#include <string>
#include <string_view>

#include "support/error.hpp"

namespace tierjit::driver {

enum class InputKind {
  kLlvmIrText,   ///< LLVM IR assembly (.ll); also anything textual no other rule claims
  kLlvmBitcode,  ///< raw bitcode (0x42 0x43 0xC0 0xDE) or the bitcode wrapper
  kLlbc,         ///< tierjit's LLBC container (bitcode with a name, entry and opt level)
  kTjbc,         ///< tierjit bytecode, binary (docs/ISA.md)
  kTjasm,        ///< tierjit bytecode, assembly text
  kStableHlo,    ///< StableHLO / MLIR text (a `module`, `func.func` or `.mlir` file)
  kRiscvElf,     ///< a 64-bit little-endian RISC-V ELF executable (for the sandbox)
  kOtherElf,     ///< an ELF for another machine: refused with a clear error
};

/// "LLVM IR text", "LLVM bitcode", "LLBC", "tjbc", "tjasm", "StableHLO", "riscv64 ELF", "ELF".
const char* input_kind_name(InputKind kind);

/// Classifies `bytes` (the whole file or its first bytes; `path` only for the .mlir rule).
InputKind classify_input(std::string_view path, std::string_view bytes);

/// A file read once: its bytes and what they are. Owned by the caller; front ends take
/// the bytes by move.
struct InputFile {
  std::string path;
  std::string bytes;
  InputKind kind = InputKind::kLlvmIrText;
};

/// Reads `path` and classifies it. Errors: kFileNotFound / kIo from reading.
Expected<InputFile> read_input(const std::string& path);

}  // namespace tierjit::driver
