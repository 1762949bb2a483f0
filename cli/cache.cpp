// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// `tierjit cache stats|clear|push|pull|image`: inspect or empty the persistent object cache,
// move it to and from remote storage, or build a program's warm image into it.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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
#include "runtime/remote_storage.hpp"
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

// Saved totals, grouped by scope ("local", "remote URL"), then a live probe of each remote.
int print_stats(const std::string& dir, bool zero) {
  ObjectCache cache(dir);
  cache.save_stats();
  DiskUsage u = cache.usage();
  fmt::print("cache {}\nentries {}\nbytes {}\n", cache.dir(), u.entries, u.bytes);
  ObjectCacheStats local;
  std::vector<std::pair<std::string, RemoteCounters>> remotes;  // by URL, in file order
  for (const auto& [name, v] : ObjectCache::read_totals(cache.dir())) {
    size_t sp = name.rfind(' ');
    std::string scope = name.substr(0, sp), field = name.substr(sp + 1);
    if (scope == "local") {
      uint64_t* f = field == "hits"        ? &local.hits
                    : field == "misses"    ? &local.misses
                    : field == "stores"    ? &local.stores
                    : field == "corrupt"   ? &local.corrupt
                    : field == "evictions" ? &local.evictions
                                           : nullptr;
      if (f) *f = v;
      continue;
    }
    if (scope.rfind("remote ", 0) != 0) continue;
    std::string url = scope.substr(7);
    auto it =
        std::find_if(remotes.begin(), remotes.end(), [&](const auto& r) { return r.first == url; });
    if (it == remotes.end()) it = remotes.insert(remotes.end(), {url, RemoteCounters{}});
    RemoteCounters& c = it->second;
    for (auto [n, p] : {std::pair<const char*, uint64_t*>{"hits", &c.hits},
                        {"misses", &c.misses},
                        {"errors", &c.errors},
                        {"corrupt", &c.corrupt},
                        {"rejected", &c.rejected},
                        {"skipped", &c.skipped},
                        {"uploads", &c.uploads},
                        {"upload-errors", &c.upload_errors},
                        {"upload-dropped", &c.upload_dropped},
                        {"requests", &c.requests},
                        {"latency-us", &c.latency_us}})
      if (field == n) *p = v;
  }
  fmt::print("local: hits {}, misses {}, stores {}, corrupt {}, evictions {}\n", local.hits,
             local.misses, local.stores, local.corrupt, local.evictions);
  for (const auto& [url, c] : remotes)
    fmt::print("remote {}: {}\n", url, format_remote_counters(c));
  if (RemoteStorage* rs = cache.remote()) {
    for (auto& [url, ms] : rs->ping()) {
      if (ms.ok()) {
        fmt::print("remote {}: reachable, round trip {:.2f} ms{}\n", url, *ms,
                   rs->signing() ? ", entries signed" : "");
      } else {
        fmt::print("remote {}: unreachable ({})\n", url, ms.error().message);
      }
    }
  }
  if (zero) {
    if (Status s = ObjectCache::zero_totals(cache.dir()); !s.ok()) return report(s.error());
    cache.set_remote(nullptr);  // the probe above is not a total to keep
  }
  return 0;
}

int transfer(const std::string& dir, bool push) {
  ObjectCache cache(dir);
  std::optional<Progress> bar;
  auto progress = [&](uint64_t done, uint64_t total) {
    if (!bar) bar.emplace(push ? "pushing" : "pulling", total);
    bar->update(done);
  };
  auto t = push ? cache.push(progress) : cache.pull(progress);
  bar.reset();
  if (!t.ok()) return report(t.error());
  fmt::print("{} {} entries ({} bytes){}, {} skipped\n", push ? "pushed" : "pulled", t->entries,
             t->bytes, push ? " with their sidecars" : "", t->skipped);
  return 0;
}

}  // namespace

void register_cache(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("cache", "inspect or clear the object cache");
  sub->add_option("--cache-dir", *dir,
                  "cache directory (default: TIERJIT_CACHE_DIR, XDG, ~/.cache)");
  sub->require_subcommand(1);
  add_remote_storage_option(sub);
  auto zero = std::make_shared<bool>(false);
  CLI::App* st = sub->add_subcommand(
      "stats",
      "entries and bytes, hits and misses (local and remote) since the totals were "
      "zeroed, and each remote's round-trip time");
  st->add_flag("--zero", *zero, "forget the saved totals after printing them");
  st->callback([dir, zero] { set_exit_code(print_stats(*dir, *zero)); });
  sub->add_subcommand("push", "upload every local entry to the remote storage")->callback([dir] {
    set_exit_code(transfer(*dir, true));
  });
  sub->add_subcommand("pull", "download every remote entry this cache lacks (redis, file:)")
      ->callback([dir] { set_exit_code(transfer(*dir, false)); });
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
