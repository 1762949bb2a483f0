// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The `tierjit` command's front: a small executable without LLVM. `tierjit sandbox` runs here
// (launcher_sandbox.cpp: the sandbox needs no LLVM). `tierjit run FILE` of a
// program that has a warm image in the cache (src/image) runs right here: the image is
// verified, mapped and its `main` called, and the process never maps LLVM code. Every other
// command line (and a run without an image, or whose image the loader refuses) is handed to
// the engine executable, `tierjit-engine` beside this one, by execv() with the same
// arguments; a refused image is reported to it in TIERJIT_WARM_IMAGE_REJECTED so that its
// --stats shows the fallback.
//
// A corrupt image is reported, deleted, and rebuilt by the engine's run. With remote storage
// configured, an image this machine lacks is fetched from it (runtime/remote_storage.hpp).
// Environment: TIERJIT_WARM_IMAGE=off never maps images (the engine then builds none
// either); TIERJIT_ENGINE names another engine executable.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "cli/launcher_sandbox.hpp"
#include "image/warm_image.hpp"
#include "runtime/object_cache.hpp"

extern char** environ;

namespace {

struct FastRun {
  std::string file, cache_dir;
  bool stats = false;
  std::vector<char*> argv;  // the program's argv: FILE, then its arguments
};

// The one command line served here:
// `run FILE [--stats] [--cache-dir D] [--remote-storage CONFIG] [[--] ARGS...]`
// (the options before or after FILE).
// Anything else, including options the engine would read, goes to the engine.
bool parse_fast_run(int argc, char** argv, FastRun* r) {
  if (argc < 3 || std::string_view(argv[1]) != "run") return false;
  r->argv.push_back(nullptr);  // FILE, once known
  for (int i = 2; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) r->argv.push_back(argv[i]);
      break;
    }
    if (a == "--stats") {
      r->stats = true;
    } else if (a == "--cache-dir" && i + 1 < argc) {
      r->cache_dir = argv[++i];
    } else if (a.substr(0, 12) == "--cache-dir=") {
      r->cache_dir = std::string(a.substr(12));
    } else if (a == "--remote-storage" && i + 1 < argc) {  // checked by the engine if used
      ::setenv("TIERJIT_REMOTE_STORAGE", argv[++i], 1);
    } else if (a.substr(0, 17) == "--remote-storage=") {
      ::setenv("TIERJIT_REMOTE_STORAGE", std::string(a.substr(17)).c_str(), 1);
    } else if (!a.empty() && a[0] == '-') {
      return false;
    } else if (r->file.empty()) {
      r->file = argv[i];
      r->argv[0] = argv[i];
    } else {
      r->argv.push_back(argv[i]);
    }
  }
  r->argv.push_back(nullptr);
  return !r->file.empty();
}

std::string engine_path() {
  if (const char* e = std::getenv("TIERJIT_ENGINE"); e && *e) return e;
  std::string self(4096, '\0');
  ssize_t n = ::readlink("/proc/self/exe", self.data(), self.size());
  self.resize(n > 0 ? static_cast<size_t>(n) : 0);
  size_t slash = self.rfind('/');
  return (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) +
         "/tierjit-engine";
}

[[noreturn]] void exec_engine(char** argv) {
  std::string engine = engine_path();
  ::execv(engine.c_str(), argv);
  std::fprintf(stderr, "tierjit: error: cannot start the engine %s: %s\n", engine.c_str(),
               std::strerror(errno));
  std::exit(tierjit::exit_status(tierjit::ErrorCode::kInternal));
}

tierjit::image::LoadedImage g_image;
std::string g_file;
bool g_image_from_remote = false;

void print_stats() {
  if (!g_image.main) return;  // the engine runs the program (execv): no table from here
  std::fflush(stdout);
  std::fprintf(stderr,
               "tierjit stats: %s (warm image), LLVM not loaded\n"
               "  warm image: %u functions at O2, %u at optnone; mapped in %.2f ms; 0 compiles\n",
               g_file.c_str(), g_image.header.hot_functions, g_image.header.cold_functions,
               g_image.load_ms);
  if (g_image_from_remote) std::fprintf(stderr, "  warm image: fetched from remote storage\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "sandbox")
    return tierjit::cli::launcher_sandbox(argc, argv, engine_path());
  FastRun run;
  if (!tierjit::image::images_enabled() || !parse_fast_run(argc, argv, &run)) exec_engine(argv);
  auto key = tierjit::image::image_key_of_file(run.file);
  if (!key.ok()) exec_engine(argv);  // the engine reports the error
  g_file = run.file;
  // Registered before the image's constructors run: atexit handlers run last-in first-out, so
  // the table prints after the program's own handlers and destructors, as the engine's does.
  if (run.stats) std::atexit(print_stats);
  tierjit::ObjectCache cache(run.cache_dir);
  auto image = tierjit::image::load_image(cache, *key, run.file);
  if (!image.ok()) {
    const tierjit::Error& e = image.error();
    if (e.code == tierjit::ErrorCode::kCacheCorrupt) {  // the engine's run rebuilds it
      std::fprintf(stderr, "tierjit: warning: %s\n", e.message.c_str());
    } else if (e.code != tierjit::ErrorCode::kFileNotFound) {
      ::setenv("TIERJIT_WARM_IMAGE_REJECTED", e.to_string().c_str(), 1);
    }
    exec_engine(argv);
  }
  g_image = *image;
  g_image_from_remote = cache.stats().remote_hits > 0;
  cache.save_stats();  // main() may never return
  std::exit(g_image.main(static_cast<int>(run.argv.size() - 1), run.argv.data(), environ));
}
