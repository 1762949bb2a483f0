// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The bytecode half of the CLI (run, asm, disasm; compile lives in compile.cpp).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "bytecode/isa.hpp"
#include "support/error.hpp"

namespace tierjit::cli {

struct BytecodeRunArgs {
  std::string path, tier = "auto", entry;
  bool stats = false;
  uint64_t fuel = 0, memory = 0;
  std::vector<std::string> args;
};

/// True for .tjbc (magic) or .tjasm (first directive) content.
bool is_bytecode(std::string_view bytes);
/// Reads .tjbc or .tjasm (by content).
Expected<bytecode::Module> load_bytecode(const std::string& path);
/// Runs the entry; returns the process exit status (docs/ISA.md "Exit status").
int run_bytecode(const BytecodeRunArgs& a);

}  // namespace tierjit::cli
