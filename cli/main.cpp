// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The `tierjit` command: subcommands run, compile, llbc, cache. Maps errors to exit codes.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.hpp"
#include "support/log.hpp"
#include "tierjit/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"tierjit: a tiered JIT and AOT compiler engine"};
  app.set_version_flag("--version", std::string("tierjit ") + tierjit::kVersion + " (LLVM " +
                                        tierjit::kLlvmVersion + ")");
  app.require_subcommand(1);
  std::string debug;
  app.add_option("--debug", debug, "log channels: tier,cache,lazy,link,all");
  tierjit::cli::register_run(app);
  tierjit::cli::register_compile(app);
  tierjit::cli::register_llbc(app);
  tierjit::cli::register_cache(app);
  tierjit::cli::register_bytecode(app);
  tierjit::cli::register_kernel(app);
  tierjit::cli::register_stablehlo(app);
  tierjit::cli::register_sandbox(app);
  app.parse_complete_callback([&] {
    if (!debug.empty()) tierjit::enable_log_channels(debug);
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : tierjit::exit_status(tierjit::ErrorCode::kUsage);
  }
  return tierjit::cli::exit_code();
}
