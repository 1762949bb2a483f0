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
  bool stats = false, cache = true;
  std::string cache_dir;  ///< "" = the default
  uint64_t fuel = 0, memory = 0;
  std::vector<std::string> args;
};

/// A module from .tjbc or .tjasm bytes (by content; `path` names it in errors).
Expected<bytecode::Module> parse_bytecode(std::string_view bytes, const std::string& path);
/// Reads `path`, then parse_bytecode.
Expected<bytecode::Module> load_bytecode(const std::string& path);
/// Runs the entry of the module in `bytes` (read once by the front door); returns the
/// process exit status (docs/ISA.md "Exit status").
int run_bytecode(const BytecodeRunArgs& a, std::string_view bytes);

}  // namespace tierjit::cli
