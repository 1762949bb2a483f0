// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The engine's guest tools: `tierjit guest-cflags` (the clang-22 flags that compile C to riscv64
// IR for tierjit) and `tierjit addr2line ELF PC...` (guest pc -> function and source line, with
// LLVM's symbolizer), and the source positions of the engine's `sandbox` fault messages.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.hpp"
#include "cli/sandbox.hpp"
#include "guest/guest_sysroot.hpp"
#include "sandbox/source_map.hpp"
#include "support/file.hpp"

namespace tierjit::cli {

std::string guest_position(const std::string& elf, uint64_t pc) {
  return sandbox::source_position(elf, pc).to_string();
}

void register_sandbox(CLI::App& app) {
  register_sandbox_run(app);
  CLI::App* flags =
      app.add_subcommand("guest-cflags", "print clang-22 flags for riscv64 guest C code");
  flags->callback([] {
    auto root = guest::guest_sysroot();
    if (!root.ok()) return set_exit_code(report(root.error()));
    std::string line;
    for (const std::string& f : guest::guest_cflags(root.value()))
      line += (line.empty() ? "" : " ") + f;
    std::printf("%s\n", line.c_str());
    set_exit_code(0);
  });

  auto elf = std::make_shared<std::string>();
  auto pcs = std::make_shared<std::vector<std::string>>();
  CLI::App* a2l = app.add_subcommand("addr2line", "map guest pcs to function and source line");
  a2l->add_option("elf", *elf, "a riscv64 executable (-g for source lines)")->required();
  a2l->add_option("pc", *pcs, "addresses (hex with 0x, or decimal)")->required();
  a2l->callback([elf, pcs] {
    if (!read_file(*elf).ok()) return set_exit_code(report(read_file(*elf).error()));
    int rc = 0;
    for (const std::string& p : *pcs) {
      char* end = nullptr;
      unsigned long long v = std::strtoull(p.c_str(), &end, 0);
      if (p.empty() || *end) {
        rc = report(make_error(ErrorCode::kUsage, "not an address: " + p));
        continue;
      }
      std::printf("0x%llx: %s\n", v, sandbox::source_position(*elf, v).to_string().c_str());
    }
    set_exit_code(rc);
  });
}

}  // namespace tierjit::cli
