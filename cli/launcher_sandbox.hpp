// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The launcher's own `tierjit sandbox` (launcher_sandbox.cpp).
#pragma once

#include <string>

namespace tierjit::cli {

/// Parses and runs `tierjit sandbox ...` in this process; returns the exit status. `engine` is
/// the engine executable, asked for source positions when a guest stops at a fault.
int launcher_sandbox(int argc, char** argv, std::string engine);

}  // namespace tierjit::cli
