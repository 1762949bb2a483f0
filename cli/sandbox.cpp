// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// `tierjit sandbox ELF [--max-instructions N] [--max-memory BYTES] [--allow-read FILE]...
//  [--tier interp|jit] [--stats] [-- ARGS...]`:
// runs a riscv64 guest in the tierjit sandbox. Exit status: the guest's own, 124 when the
// instruction budget ran out, 125 on a guest fault (message with pc and, with DWARF, the
// source line).
// Served by the `tierjit` launcher itself (no LLVM in the process) and by the engine; the guest
// tools (guest-cflags, addr2line) are in sandbox_tools.cpp, engine only.
#include "tierjit/sandbox.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/sandbox.hpp"
#include "support/file.hpp"
#include "support/jitdump.hpp"

namespace tierjit::cli {

int run_sandbox(const SandboxArgs& a, std::string_view elf_bytes) {
  if (a.perf_jitdump) {
    auto dump = JitDump::enable();
    if (!dump.ok()) {
      std::fprintf(stderr, "tierjit: %s\n", dump.error().to_string().c_str());
      return exit_status(dump.error().code);
    }
  }
  sandbox::Limits limits;
  if (a.max_instructions) limits.max_instructions = a.max_instructions;
  if (a.max_memory) limits.max_memory = a.max_memory;
  if (a.stack) limits.stack_size = a.stack;
  limits.allow_stdin = a.allow_stdin;
  limits.trace_syscalls = a.trace;
  limits.strict = a.strict;
  limits.tier = a.tier == "interp" ? sandbox::ExecTier::kInterpret : sandbox::ExecTier::kTranslate;
  auto t0 = std::chrono::steady_clock::now();
  auto box = sandbox::Sandbox::load(elf_bytes, a.elf, limits);
  if (!box.ok()) return report(box.error());
  for (const std::string& f : a.readable)
    if (Status s = box.value()->allow_read(f); !s.ok()) return report(s.error());
  for (const auto* list : {&a.dirs, &a.rw_dirs})
    for (const std::string& d : *list) {
      size_t sep = d.find("::");
      std::string host = d.substr(0, sep);
      std::string guest = sep == std::string::npos ? "" : d.substr(sep + 2);
      Status s = box.value()->allow_dir(host, guest, list == &a.rw_dirs);
      if (!s.ok()) return report(s.error());
    }
  for (const std::string& e : a.env)
    if (e.find('=') == std::string::npos)
      return report(make_error(ErrorCode::kUsage, "--env takes KEY=VALUE, not '" + e + "'"));
  box.value()->set_environment(a.env);
  std::vector<std::string> argv = {a.elf};
  argv.insert(argv.end(), a.args.begin(), a.args.end());
  auto t1 = std::chrono::steady_clock::now();
  sandbox::RunResult r = box.value()->run(argv);
  auto t2 = std::chrono::steady_clock::now();
  std::fflush(stdout);
  if (a.stats) {
    double run_s = std::chrono::duration<double>(t2 - t1).count();
    std::fprintf(stderr, "tierjit: sandbox: %llu instructions in %.3f s (%.0f M/s), load %.3f ms\n",
                 static_cast<unsigned long long>(r.instructions), run_s,
                 run_s > 0 ? static_cast<double>(r.instructions) / run_s / 1e6 : 0.0,
                 std::chrono::duration<double, std::milli>(t1 - t0).count());
    std::fprintf(stderr,
                 "tierjit: sandbox: %llu unimplemented system calls answered -ENOSYS "
                 "(--trace-syscalls names them, --strict stops at them)\n",
                 static_cast<unsigned long long>(r.unimplemented_syscalls));
    sandbox::TranslationStats ts = box.value()->translation_stats();
    if (limits.tier == sandbox::ExecTier::kInterpret)
      std::fprintf(stderr, "tierjit: sandbox: tier interp (translation off)\n");
    else if (ts.unsupported_host_runs > 0)
      std::fprintf(stderr,
                   "tierjit: sandbox: tier jit unavailable on this host (x86-64 Linux only): "
                   "%llu runs interpreted\n",
                   static_cast<unsigned long long>(ts.unsupported_host_runs));
    else
      std::fprintf(stderr,
                   "tierjit: sandbox: tier jit: %llu blocks (%llu instructions, %llu bytes) "
                   "translated in %.3f ms, %llu links, %llu instructions interpreted, %llu "
                   "blocks left to the interpreter; memory checks: %s, %llu guard faults\n",
                   static_cast<unsigned long long>(ts.blocks),
                   static_cast<unsigned long long>(ts.instructions),
                   static_cast<unsigned long long>(ts.code_bytes), ts.translate_ns / 1e6,
                   static_cast<unsigned long long>(ts.links),
                   static_cast<unsigned long long>(ts.interpreted),
                   static_cast<unsigned long long>(ts.failures),
                   ts.guard_pages     ? "guard pages"
                   : ts.guard_refused ? "in code (the host refused a page protection)"
                                      : "in code (the map is not page-aligned)",
                   static_cast<unsigned long long>(ts.guard_faults));
  }
  switch (r.reason) {
    case sandbox::StopReason::kExited:
      return r.exit_code;
    case sandbox::StopReason::kReturned:
      return 0;
    case sandbox::StopReason::kBudget:
      std::fprintf(stderr, "tierjit: %s: guest stopped at pc 0x%llx (%s): %s\n", a.elf.c_str(),
                   static_cast<unsigned long long>(r.pc), guest_position(a.elf, r.pc).c_str(),
                   r.message.c_str());
      return 124;
    case sandbox::StopReason::kFault:
      std::fprintf(stderr, "tierjit: %s: guest fault: %s at pc 0x%llx (%s): %s\n", a.elf.c_str(),
                   sandbox::fault_name(r.fault), static_cast<unsigned long long>(r.pc),
                   guest_position(a.elf, r.pc).c_str(), r.message.c_str());
      return 125;
  }
  return 125;
}

void register_sandbox_run(CLI::App& app) {
  auto a = std::make_shared<SandboxArgs>();
  CLI::App* sub = app.add_subcommand("sandbox", "run a riscv64 ELF in the tierjit sandbox");
  sub->add_option("elf", a->elf, "a riscv64 executable (tierjit compile --target riscv64)")
      ->required();
  sub->add_option("--max-instructions", a->max_instructions,
                  "instruction budget (default 4e9, about ten seconds)");
  sub->add_option("--max-memory", a->max_memory, "guest memory in bytes (default 64 MiB)");
  sub->add_option("--stack", a->stack, "guest stack in bytes (default 1 MiB)");
  sub->add_flag("--stdin", a->allow_stdin, "let the guest read the host's stdin");
  sub->add_flag("--perf-jitdump", a->perf_jitdump,
                "write translated blocks to $JITDUMPDIR (else ~/.debug/jit)/jit-PID.dump for "
                "perf record -k 1 + perf inject --jit");
  sub->add_option("--allow-read", a->readable, "let the guest open this host file read-only")
      ->allow_extra_args(false);
  sub->add_option("--dir", a->dirs,
                  "HOST[::GUEST]: let the guest read files beneath this host directory, seen as "
                  "GUEST (default: the same path); no escape by .. or symbolic links")
      ->allow_extra_args(false);
  sub->add_option("--dir-rw", a->rw_dirs,
                  "HOST[::GUEST]: as --dir, and the guest may create, write and remove files "
                  "beneath it")
      ->allow_extra_args(false);
  sub->add_option("--env", a->env, "KEY=VALUE for the guest's environment (nothing is inherited)")
      ->allow_extra_args(false);
  sub->add_flag("--trace-syscalls", a->trace, "print each system call and its result (stderr)");
  sub->add_flag("--strict", a->strict,
                "stop the guest at a system call the sandbox does not implement (default: "
                "-ENOSYS)");
  sub->add_flag("--stats", a->stats, "print instructions retired and speed to stderr");
  sub->add_option("--tier", a->tier,
                  "interp: interpret only; jit (default): translate guest code to host code "
                  "on first execution, the interpreter running what is not translated")
      ->check(CLI::IsMember({"interp", "jit"}));
  sub->add_option("args", a->args, "arguments for the guest (after --)");
  sub->callback([a] {
    auto bytes = read_file(a->elf);
    set_exit_code(bytes.ok() ? run_sandbox(*a, bytes.value()) : report(bytes.error()));
  });
}

}  // namespace tierjit::cli
