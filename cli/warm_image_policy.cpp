// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Warm image builds started by `tierjit run`.
#include "cli/warm_image_policy.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "support/file.hpp"

extern char** environ;

namespace tierjit::cli {

ImageLock::ImageLock(const ObjectCache& cache, const Hash128& key)
    : path_(cache.entry_path(key) + ".building") {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  for (int attempt = 0; attempt < 2; ++attempt) {
    fd_ = ::open(path_.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd_ >= 0 || errno != EEXIST) return;
    struct stat st;
    if (::stat(path_.c_str(), &st) != 0 || std::time(nullptr) - st.st_mtime < 30 * 60) return;
    ::unlink(path_.c_str());  // stale: its build died
  }
}

ImageLock::~ImageLock() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(path_.c_str());
}

std::string start_image_build(const std::string& file, const std::string& cache_dir,
                              const Hash128& key, const std::vector<FunctionReport>& reports) {
  if (const char* why = std::getenv("TIERJIT_WARM_IMAGE_REJECTED"))
    return std::string("warm image: refused, the engine ran the program (") + why + ")";
  std::string profile;
  for (const FunctionReport& r : reports)
    if (r.opt_level >= 0 || r.baseline) profile += r.name + "\n";
  ObjectCache cache(cache_dir);
  std::string entry = cache.entry_path(key);
  if (::access(entry.c_str(), F_OK) == 0) return "warm image: ready, the next run maps it";
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(entry).parent_path(), ec);
  // The first run leaves a marker; the second starts the build.
  std::string seen = entry + ".seen";
  if (::access(seen.c_str(), F_OK) != 0) {
    if (!write_file_atomic(seen, "").ok()) return "warm image: not built (read-only cache)";
    return "warm image: none yet (built from a program's second run)";
  }
  if (::access((entry + ".building").c_str(), F_OK) == 0)
    return "warm image: being built by another process";
  std::string profile_path = entry + "." + std::to_string(::getpid()) + ".profile";
  if (!write_file_atomic(profile_path, profile).ok())
    return "warm image: not built (cannot write its profile into the cache)";

  std::string self = "/proc/self/exe";
  std::vector<std::string> args = {"tierjit-engine", "cache",      "--cache-dir",
                                   cache.dir(),      "image",      file,
                                   "--profile",      profile_path, "--background"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  posix_spawn_file_actions_init(&fa);
  for (int fd = 0; fd < 3; ++fd)
    posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, self.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    ::unlink(profile_path.c_str());
    ::unlink(seen.c_str());
    return std::string("warm image: not built (cannot start the build: ") + std::strerror(rc) + ")";
  }
  return "warm image: building in the background (pid " + std::to_string(pid) + ")";
}

}  // namespace tierjit::cli
