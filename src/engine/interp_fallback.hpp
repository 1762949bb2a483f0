// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Fallback execution under LLVM's IR interpreter, for programs the native tier cannot take
// (e.g. thread-local variables). LLVM's interpreter crashes on large programs such as SQLite,
// so it runs in a forked child: a crash there is reported, never taken down with the host.
#pragma once

#include <string>
#include <vector>

#include "tierjit/error.hpp"

namespace tierjit {

/// Runs `entry` of `path` as main(argc, argv, envp) in LLVM's interpreter in a child process.
/// Returns the child's exit status. Errors: those of loading the IR, kMissingEntry, and
/// kCompileFailed when the interpreter dies on a signal (named in the message).
Expected<int> run_interpreted(const std::string& path, const std::string& entry,
                              const std::vector<std::string>& args);

}  // namespace tierjit
