// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Running a riscv64 guest from the command line (`tierjit sandbox`, and `tierjit run` of an ELF).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace tierjit::cli {

struct SandboxArgs {
  std::string elf;
  uint64_t max_instructions = 0;
  uint64_t max_memory = 0;
  uint64_t stack = 0;
  bool stats = false;
  bool allow_stdin = false;
  bool trace = false;
  bool strict = false;        // --strict: unimplemented system calls fault
  bool perf_jitdump = false;  // --perf-jitdump: translated blocks in perf's jitdump format
  std::string tier = "jit";   // --tier interp|jit
  std::vector<std::string> readable;
  std::vector<std::string> dirs;     // --dir HOST[::GUEST]
  std::vector<std::string> rw_dirs;  // --dir-rw HOST[::GUEST]
  std::vector<std::string> env;      // --env KEY=VALUE
  std::vector<std::string> args;
};

/// Runs the guest whose ELF bytes were read by the caller; returns the exit status (the
/// guest's own, 124 budget exhausted, 125 guest fault, or the load error's status).
int run_sandbox(const SandboxArgs& a, std::string_view elf_bytes);
/// Registers the `sandbox` subcommand (run a guest) on `app`.
void register_sandbox_run(CLI::App& app);
/// "function at file:line:col" of guest pc `pc` in `elf`, or "??": the engine asks LLVM's
/// symbolizer (sandbox_tools.cpp), the launcher asks the engine (launcher_sandbox.cpp).
std::string guest_position(const std::string& elf, uint64_t pc);

}  // namespace tierjit::cli
