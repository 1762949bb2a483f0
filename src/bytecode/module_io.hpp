// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The binary .tjbc format (reader, writer) and the verifier. Layout: docs/ISA.md "Binary format".
// Requires: nothing. Produces: a Module that passed verify(), or an Error with the byte offset.
#pragma once
#include <string>
#include <string_view>

#include "bytecode/isa.hpp"
#include "support/error.hpp"

namespace tierjit::bytecode {

inline constexpr char kMagic[4] = {'T', 'J', 'B', 'C'};
inline constexpr uint16_t kFormatVersion = 1;

/// True when `bytes` starts with the .tjbc magic.
bool is_tjbc(std::string_view bytes);

/// Parses and verifies a .tjbc image. Errors (kInvalidInput) name `file` and the byte offset:
/// truncation, bad magic/version, malformed sections, and every verify() rejection.
Expected<Module> read_module(std::string_view bytes, const std::string& file);

/// Serializes a module (which should have passed verify()).
std::string write_module(const Module& m);

/// Checks every structural rule of docs/ISA.md "Verification": opcodes, unused fields, register
/// numbers against the frame, branch targets on instruction boundaries inside the function,
/// calls to existing functions with matching argument counts, imports, no fall-through off
/// the end, data inside memory. `code_offsets[f]`, when given, is the byte offset of function
/// f's code in the file, so errors carry file offsets; otherwise they name function+pc.
Status verify(const Module& m, const std::string& file,
              const std::vector<uint64_t>* code_offsets = nullptr);

}  // namespace tierjit::bytecode
