// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// `tierjit cache stats|clear`: inspect or empty the persistent object cache.
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "runtime/object_cache.hpp"

namespace tierjit::cli {

void register_cache(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("cache", "inspect or clear the object cache");
  sub->add_option("--cache-dir", *dir,
                  "cache directory (default: TIERJIT_CACHE_DIR, XDG, ~/.cache)");
  sub->require_subcommand(1);
  sub->add_subcommand("stats", "entries and bytes in the cache")->callback([dir] {
    ObjectCache cache(*dir);
    DiskUsage u = cache.usage();
    fmt::print("cache {}\nentries {}\nbytes {}\n", cache.dir(), u.entries, u.bytes);
  });
  sub->add_subcommand("clear", "remove every entry")->callback([dir] {
    ObjectCache cache(*dir);
    if (Status s = cache.clear(); !s.ok()) return set_exit_code(report(s.error()));
    fmt::print("cleared {}\n", cache.dir());
  });
}

}  // namespace tierjit::cli
