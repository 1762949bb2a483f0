// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Disk object cache implementation.
#include "runtime/object_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "support/file.hpp"
#include "support/log.hpp"

namespace tierjit {
namespace fs = std::filesystem;

namespace {
constexpr char kMagic[4] = {'T', 'J', 'C', 'E'};
constexpr uint32_t kFormat = 1;
constexpr size_t kHeader = 4 + 4 + 16 + 8 + 16;
}  // namespace

std::string ObjectCache::default_dir() {
  if (const char* d = std::getenv("TIERJIT_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/tierjit";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/tierjit";
  return "/tmp/tierjit-cache";
}

ObjectCache::ObjectCache(std::string dir, uint64_t max_bytes)
    : dir_(dir.empty() ? default_dir() : std::move(dir)), max_bytes_(max_bytes) {
  warn_ = [](const std::string& m) { std::fprintf(stderr, "tierjit: warning: %s\n", m.c_str()); };
}

std::string ObjectCache::entry_path(const Hash128& key) const {
  std::string hex = key.hex();
  return dir_ + "/v1/" + hex.substr(0, 2) + "/" + hex + ".obj";
}

std::optional<std::string> ObjectCache::load(const Hash128& key) {
  std::string path = entry_path(key);
  auto bytes = read_file(path);
  if (!bytes.ok()) {
    misses_++;
    TJ_LOG(Channel::kCache, "miss {}", key.hex());
    return std::nullopt;
  }
  std::string& b = bytes.value();
  auto corrupt = [&](const char* why) -> std::optional<std::string> {
    corrupt_++;
    misses_++;
    warn_("corrupt cache entry " + path + " (" + why + "); discarded, rebuilding");
    ::unlink(path.c_str());
    return std::nullopt;
  };
  if (b.size() < kHeader) return corrupt("truncated header");
  if (std::memcmp(b.data(), kMagic, 4) != 0) return corrupt("bad magic");
  uint32_t fmt;
  std::memcpy(&fmt, b.data() + 4, 4);
  if (fmt != kFormat) return corrupt("unknown format version");
  Hash128 stored_key, stored_hash;
  std::memcpy(&stored_key, b.data() + 8, 16);
  uint64_t size;
  std::memcpy(&size, b.data() + 24, 8);
  std::memcpy(&stored_hash, b.data() + 32, 16);
  if (!(stored_key == key)) return corrupt("key mismatch");
  if (size != b.size() - kHeader) return corrupt("size mismatch");
  if (!(hash_bytes(std::string_view(b).substr(kHeader)) == stored_hash))
    return corrupt("payload hash mismatch");
  b.erase(0, kHeader);  // in place: entries are megabytes, a copy costs page faults
  std::string& payload = b;
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // LRU: touch on hit
  hits_++;
  TJ_LOG(Channel::kCache, "hit {} ({} bytes)", key.hex(), payload.size());
  return std::move(payload);
}

void ObjectCache::store(const Hash128& key, std::string_view payload) {
  std::string path = entry_path(key);
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) {
    warn_("cannot create cache directory " + fs::path(path).parent_path().string() + ": " +
          ec.message());
    return;
  }
  std::string b(kHeader, '\0');
  std::memcpy(b.data(), kMagic, 4);
  std::memcpy(b.data() + 4, &kFormat, 4);
  std::memcpy(b.data() + 8, &key, 16);
  uint64_t size = payload.size();
  std::memcpy(b.data() + 24, &size, 8);
  Hash128 h = hash_bytes(payload);
  std::memcpy(b.data() + 32, &h, 16);
  b.append(payload);
  if (Status s = write_file_atomic(path, b); !s.ok()) {
    warn_("cannot write cache entry: " + s.error().to_string());
    return;
  }
  stores_++;
  TJ_LOG(Channel::kCache, "store {} ({} bytes)", key.hex(), payload.size());
}

namespace {
struct Entry {
  fs::path path;
  uint64_t size;
  struct timespec atime;
};
std::vector<Entry> list_entries(const std::string& dir) {
  std::vector<Entry> out;
  std::error_code ec;
  fs::path root = fs::path(dir) / "v1";
  if (!fs::exists(root, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().extension() != ".obj") continue;
    struct stat st;
    if (::stat(it->path().c_str(), &st) != 0) continue;
    out.push_back({it->path(), uint64_t(st.st_size), st.st_atim});
    if (::stat((it->path().string() + ".so").c_str(), &st) == 0) out.back().size += st.st_size;
  }
  return out;
}
}  // namespace

DiskUsage ObjectCache::usage() const {
  DiskUsage u;
  for (const Entry& e : list_entries(dir_)) {
    u.entries++;
    u.bytes += e.size;
  }
  return u;
}

void ObjectCache::trim() {
  // Listing the directory costs ~1k syscalls: only a process that added entries can have
  // pushed the cache over its bound.
  if (max_bytes_ == 0 || stores_.load() == 0) return;
  std::vector<Entry> entries = list_entries(dir_);
  uint64_t total = 0;
  for (const Entry& e : entries) total += e.size;
  if (total <= max_bytes_) return;
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.atime.tv_sec != b.atime.tv_sec ? a.atime.tv_sec < b.atime.tv_sec
                                            : a.atime.tv_nsec < b.atime.tv_nsec;
  });
  for (const Entry& e : entries) {
    if (total <= max_bytes_) break;
    if (::unlink(e.path.c_str()) == 0) {
      ::unlink((e.path.string() + ".so").c_str());
      total -= e.size;
      evictions_++;
    }
  }
}

Status ObjectCache::clear(const std::function<void(uint64_t, uint64_t)>& progress) {
  std::error_code ec;
  if (progress) {  // entry by entry, so that a large cache shows how far it got
    std::vector<Entry> entries = list_entries(dir_);
    for (size_t i = 0; i < entries.size(); ++i) {
      fs::remove(entries[i].path, ec);
      fs::remove(entries[i].path.string() + ".so", ec);
      progress(i + 1, entries.size());
    }
  }
  fs::remove_all(fs::path(dir_) / "v1", ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot clear cache: " + ec.message(), {dir_});
  return {};
}

ObjectCacheStats ObjectCache::stats() const {
  return {hits_.load(), misses_.load(), stores_.load(), corrupt_.load(), evictions_.load()};
}

}  // namespace tierjit
