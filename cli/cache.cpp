// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// `tierjit cache stats|clear|image`: inspect or empty the persistent object cache, or build a
// program's warm image into it.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <sstream>
#include <unordered_set>

#include "aot/aot.hpp"
#include "cli/commands.hpp"
#include "cli/warm_image_policy.hpp"
#include "image/warm_image.hpp"
#include "runtime/object_cache.hpp"
#include "support/file.hpp"
#include "support/progress.hpp"

namespace tierjit::cli {
namespace {

struct ImageArgs {
  std::string file, profile;
  bool background = false;
};

// Builds FILE's warm image into the cache. --background (the run that starts it) lowers the
// priority, says nothing on success, and gives way to a build of the same image already
// running (the lock file beside the entry).
int build_image(const std::string& dir, const ImageArgs& a) {
  auto t0 = std::chrono::steady_clock::now();
  if (a.background) ::setpriority(PRIO_PROCESS, 0, 19);
  // The profile of a background build was written for it alone: removed on every path.
  struct RemoveProfile {
    const ImageArgs& a;
    ~RemoveProfile() {
      if (a.background && !a.profile.empty()) ::unlink(a.profile.c_str());
    }
  } remove_profile{a};
  auto read = read_file(a.file);
  if (!read.ok()) return report(read.error());
  std::string bytes = std::move(*read);
  ObjectCache cache(dir);
  Hash128 key = image::image_key(bytes);
  ImageLock lock(cache, key);
  if (!lock.acquired()) {
    if (!a.background) fmt::print(stderr, "tierjit: a build of this warm image is running\n");
    return 0;
  }
  std::unordered_set<std::string> profile;
  if (!a.profile.empty()) {
    auto text = read_file(a.profile);
    if (!text.ok()) return report(text.error());
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) profile.insert(line);
  }
  auto img =
      aot::build_warm_image(std::move(bytes), a.file, a.profile.empty() ? nullptr : &profile);
  if (!img.ok()) return a.background ? 1 : report(img.error());
  if (Status s = image::store_image(cache, key, {img->hot_functions, img->cold_functions},
                                    img->shared_object);
      !s.ok())
    return a.background ? 1 : report(s.error());
  if (!a.background) {
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("warm image for {}: {} functions at O2, {} at optnone, {} bytes, {:.0f} ms\n",
               a.file, img->hot_functions, img->cold_functions, img->shared_object.size(), ms);
  }
  return 0;
}

}  // namespace

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
    std::optional<Progress> bar;
    Status s = cache.clear([&](uint64_t done, uint64_t total) {
      if (!bar) bar.emplace("clearing the cache", total);
      bar->update(done);
    });
    bar.reset();
    if (!s.ok()) return set_exit_code(report(s.error()));
    fmt::print("cleared {}\n", cache.dir());
  });
  auto ia = std::make_shared<ImageArgs>();
  CLI::App* img = sub->add_subcommand(
      "image", "build a program's warm image: later `tierjit run` maps it without LLVM");
  img->add_option("file", ia->file, "the program (.ll, .bc, .llbc)")->required();
  img->add_option("--profile", ia->profile,
                  "functions to optimize, one name per line (default: all); the others get "
                  "optnone");
  img->add_flag("--background", ia->background,
                "low priority, quiet; nothing if the same build is already running");
  img->callback([dir, ia] { set_exit_code(build_image(*dir, *ia)); });
}

}  // namespace tierjit::cli
