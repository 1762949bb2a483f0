// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Shared CLI helpers: error reporting and the chosen exit status.
#include <cstdio>

#include "cli/commands.hpp"

namespace tierjit::cli {
namespace {
int g_exit_code = 0;
}

int exit_code() { return g_exit_code; }
void set_exit_code(int code) { g_exit_code = code; }

int report(const Error& e) {
  std::fflush(stdout);
  std::fprintf(stderr, "tierjit: %s\n", e.to_string().c_str());
  return exit_status(e.code);
}

}  // namespace tierjit::cli
