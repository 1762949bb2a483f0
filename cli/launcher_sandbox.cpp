// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// `tierjit sandbox` served by the launcher: the guest runs in this process, which maps no LLVM
// (the sandbox needs none), so a guest starts in a few milliseconds instead of the engine's
// start-up. The one thing the engine is still asked for is a fault message's source position
// (LLVM's symbolizer): `tierjit-engine addr2line ELF PC`, run only when a guest stops.
#include "cli/launcher_sandbox.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/sandbox.hpp"

extern char** environ;

namespace tierjit::cli {
namespace {
std::string g_engine;
}

std::string guest_position(const std::string& elf, uint64_t pc) {
  int fds[2];
  if (g_engine.empty() || ::pipe(fds) != 0) return "??";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::string pc_text = std::to_string(pc);
  char* argv[] = {g_engine.data(), const_cast<char*>("addr2line"), const_cast<char*>(elf.c_str()),
                  pc_text.data(), nullptr};
  pid_t child;
  int rc = posix_spawn(&child, g_engine.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; rc == 0 && (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
  ::close(fds[0]);
  if (rc == 0) ::waitpid(child, nullptr, 0);
  // "0x<pc>: <position>\n"
  size_t colon = out.find(": ");
  if (colon == std::string::npos) return "??";
  std::string pos = out.substr(colon + 2);
  while (!pos.empty() && pos.back() == '\n') pos.pop_back();
  return pos.empty() ? "??" : pos;
}

int launcher_sandbox(int argc, char** argv, std::string engine) {
  g_engine = std::move(engine);
  CLI::App app{"tierjit: a tiered JIT and AOT compiler engine"};
  app.require_subcommand(1);
  register_sandbox_run(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : exit_status(ErrorCode::kUsage);
  }
  return exit_code();
}

}  // namespace tierjit::cli
