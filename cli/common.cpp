// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Shared CLI helpers: error reporting and the chosen exit status.
#include <cstdio>
#include <cstdlib>

#include "cli/commands.hpp"
#include "runtime/remote_storage.hpp"

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

void add_remote_storage_option(CLI::App* sub) {
  sub->add_option_function<std::string>(
         "--remote-storage",
         [](const std::string& config) {
           // Through the environment, so that processes this one starts (the engine, a warm
           // image build) use the same remote.
           ::setenv("TIERJIT_REMOTE_STORAGE", config.c_str(), 1);
         },
         "remote cache level: 'redis://HOST[:PORT][/DB] http://HOST/PATH file:///DIR', each "
         "with |read-only |prefix=NAME |connect-timeout=MS |operation-timeout=MS "
         "(default: TIERJIT_REMOTE_STORAGE; docs/guides/fleet-cache.md)")
      ->check([](const std::string& config) {
        auto specs = parse_remote_storage(config);
        return specs.ok() ? std::string() : specs.error().message;
      });
}

}  // namespace tierjit::cli
