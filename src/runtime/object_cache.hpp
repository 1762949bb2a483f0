// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Content-addressed, size-bounded disk cache of compiled objects, safe to share between
// concurrent processes.
//
// Layout: DIR/v1/XX/<32 hex digits>.obj, one file per entry:
//   magic "TJCE" | u32 format version | 16-byte key | u64 payload size | 16-byte XXH3-128 of
//   payload | payload.  (48-byte header, little-endian.)
// Writes go to a unique temp file renamed into place, so readers never see a torn entry.
// Every load verifies magic, key, size and payload hash: a corrupt entry is reported through
// the warning callback, deleted and counted, and the caller rebuilds; it is never executed.
// LRU eviction by access time (touched on each hit) keeps the directory under max_bytes.
// An entry may have a sidecar file beside it, ENTRY.so (a warm image's shared object, whose
// size and hash its entry holds: src/image); it is counted and evicted with its entry.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "support/error.hpp"
#include "support/hash.hpp"

namespace tierjit {

struct ObjectCacheStats {
  uint64_t hits = 0, misses = 0, stores = 0, corrupt = 0, evictions = 0;
};

struct DiskUsage {
  uint64_t entries = 0, bytes = 0;
};

class ObjectCache {
 public:
  /// TIERJIT_CACHE_DIR, else $XDG_CACHE_HOME/tierjit, else $HOME/.cache/tierjit.
  static std::string default_dir();

  /// `dir` is created on first store; "" means default_dir(), the one place that rule lives.
  /// max_bytes = 0 means unbounded.
  explicit ObjectCache(std::string dir = {}, uint64_t max_bytes = 1ull << 30);

  /// The verified payload for `key`, or nullopt (miss, or corrupt entry: reported + removed).
  std::optional<std::string> load(const Hash128& key);
  /// Stores `payload` under `key`. Failures (read-only dir, full disk) are reported as
  /// warnings and otherwise ignored: the cache is an accelerator, never a requirement.
  void store(const Hash128& key, std::string_view payload);
  /// Evicts least-recently-used entries until the directory holds at most max_bytes. Does
  /// nothing in a process that stored no entry.
  void trim();
  /// Removes every entry. Errors: kIo.
  /// Removes every entry; `progress(done, total)` is called as entries go, if given.
  Status clear(const std::function<void(uint64_t done, uint64_t total)>& progress = {});
  DiskUsage usage() const;
  ObjectCacheStats stats() const;
  const std::string& dir() const { return dir_; }
  std::string entry_path(const Hash128& key) const;

  /// Receives one-line warnings (default: stderr "tierjit: warning: ...").
  void set_warning_handler(std::function<void(const std::string&)> fn) { warn_ = std::move(fn); }

 private:
  std::string dir_;
  uint64_t max_bytes_;
  std::function<void(const std::string&)> warn_;
  std::atomic<uint64_t> hits_{0}, misses_{0}, stores_{0}, corrupt_{0}, evictions_{0};
};

}  // namespace tierjit
