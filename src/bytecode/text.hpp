// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The .tjasm text form: assembler (text -> Module) and disassembler (Module -> canonical text).
// Syntax: docs/ISA.md "Assembly". disassemble(assemble(t)) == t for canonical text (golden
// files), and assemble(disassemble(m)) == m for every verified module.
#pragma once
#include <string>
#include <string_view>

#include "bytecode/isa.hpp"
#include "support/error.hpp"

namespace tierjit::bytecode {

/// Assembles .tjasm text; the result has passed verify(). Errors (kInvalidInput) name
/// file:line:col and what was expected.
Expected<Module> assemble(std::string_view text, const std::string& file);

/// Canonical text for a verified module: labels are `L<byte pc>`, data as `.ascii` lines.
std::string disassemble(const Module& m);

/// True when `text` looks like .tjasm: its first directive (after comments) is one of
/// .func .data .memory .entry .import.
bool looks_like_tjasm(std::string_view text);

}  // namespace tierjit::bytecode
