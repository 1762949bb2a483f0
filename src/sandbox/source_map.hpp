// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Guest pc -> source position, from the ELF's DWARF (`-g` builds) or else its symbol table
// (LLVM's symbolizer library): source positions for guest faults and addr2line.
#pragma once

#include <cstdint>
#include <string>

namespace tierjit::sandbox {

struct SourcePosition {
  std::string function;  ///< "" when unknown
  std::string file;      ///< "" without DWARF
  uint32_t line = 0, column = 0;
  /// "func at file:line:col", "func", or "??".
  std::string to_string() const;
};

/// Looks `pc` up in the ELF at `elf_path`. Never fails: unknown parts stay empty.
SourcePosition source_position(const std::string& elf_path, uint64_t pc);

}  // namespace tierjit::sandbox
