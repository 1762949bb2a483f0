// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Subcommand registration for the `tierjit` command.
#pragma once

#include <CLI/CLI.hpp>

#include "support/error.hpp"

namespace tierjit::cli {

void register_run(CLI::App& app);
void register_compile(CLI::App& app);
void register_llbc(CLI::App& app);
void register_cache(CLI::App& app);
void register_bytecode(CLI::App& app);
void register_kernel(CLI::App& app);
void register_stablehlo(CLI::App& app);
void register_sandbox(CLI::App& app);

/// Adds `--remote-storage CONFIG` (runtime/remote_storage.hpp), which sets
/// TIERJIT_REMOTE_STORAGE for this process and those it starts.
void add_remote_storage_option(CLI::App* sub);

/// The exit status chosen by the subcommand that ran.
int exit_code();
void set_exit_code(int code);

/// Prints "tierjit: LOC: message" to stderr and returns the error's exit status.
int report(const Error& e);

}  // namespace tierjit::cli
