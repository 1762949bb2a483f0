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
// With remote storage configured (runtime/remote_storage.hpp) the remote is a second level: a
// local miss asks it, a verified remote entry is written locally and used, and every store is
// also uploaded in the background. Remote entries are verified exactly as local ones are.
// Totals (local and remote hits, misses, errors) accumulate in DIR/stats across processes.
// An entry may have a sidecar file beside it, ENTRY.so (a warm image's shared object, whose
// size and hash its entry holds: src/image); it is counted and evicted with its entry.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "support/error.hpp"
#include "support/hash.hpp"

namespace tierjit {

struct ObjectCacheStats {
  uint64_t hits = 0, misses = 0, stores = 0, corrupt = 0, evictions = 0;
  uint64_t remote_hits = 0;  ///< entries fetched from remote storage (by load or prefetch)
};

class RemoteStorage;

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
  /// Adds this object's counters to DIR/stats (see save_stats).
  ~ObjectCache();
  ObjectCache(const ObjectCache&) = delete;
  ObjectCache& operator=(const ObjectCache&) = delete;

  /// The verified payload for `key`, or nullopt (miss, or corrupt entry: reported + removed).
  std::optional<std::string> load(const Hash128& key);
  /// Stores `payload` under `key`. Failures (read-only dir, full disk) are reported as
  /// warnings and otherwise ignored: the cache is an accelerator, never a requirement.
  void store(const Hash128& key, std::string_view payload);
  /// Fetches from remote storage, in one batch, the entries of `keys` not held locally
  /// (a program's first run on a machine asks for several at once). No-op without a remote.
  /// Later load()s of these keys do not ask the remote again: what it lacked now, it is
  /// taken to lack for the rest of this object's life.
  /// Keys from index `essential` on are speculative (remote_storage.hpp: RemoteStorage::get).
  void prefetch(const std::vector<Hash128>& keys, size_t essential = SIZE_MAX);
  /// True when the entry is on local disk (no remote lookup, no verification).
  bool contains_local(const Hash128& key) const;
  /// The sidecar ENTRY.so of `key`'s entry: written locally, then uploaded. Its integrity is
  /// the owner's to check (the entry holds its hash). Errors: kIo.
  Status store_sidecar(const Hash128& key, std::string_view bytes);
  /// Makes sure `key`'s sidecar is on local disk, fetching it from remote storage if need
  /// be; false when it is in neither.
  bool fetch_sidecar(const Hash128& key);
  /// The remote level in use (the process's, from RemoteStorage::process()), or nullptr.
  RemoteStorage* remote() const { return remote_; }
  /// Replaces the remote level (nullptr: local only). Not owned: it must outlive this cache.
  void set_remote(RemoteStorage* remote);
  /// Adds the counters since the last call, local and remote, to DIR/stats (under a lock, so
  /// concurrent processes add up). Does nothing when nothing was counted.
  void save_stats();
  /// What push() or pull() moved.
  struct Transfer {
    uint64_t entries = 0, bytes = 0, skipped = 0;  ///< skipped: corrupt, or already there
  };
  /// Uploads every local entry (and sidecar) to the writable back ends, in batches; a corrupt
  /// local entry is skipped. Errors: kUsage without a remote; the first transport failure.
  Expected<Transfer> push(const std::function<void(uint64_t done, uint64_t total)>& progress = {});
  /// Fetches every remote entry this cache lacks (the back end must list: redis, file).
  /// Entries are verified like any remote entry. Errors: kUsage, kUnsupported, transport.
  Expected<Transfer> pull(const std::function<void(uint64_t done, uint64_t total)>& progress = {});
  /// The totals saved in `dir`: ("local hits", n), ("remote URL errors", n)... in file order.
  static std::vector<std::pair<std::string, uint64_t>> read_totals(const std::string& dir);
  /// Forgets the totals saved in `dir`. Errors: kIo.
  static Status zero_totals(const std::string& dir);
  /// The end of a run: trim(), then wait (bounded) for remote uploads, then save_stats().
  void finish();
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
  RemoteStorage* remote_ = nullptr;
  std::optional<std::string> fetch_remote(const Hash128& key);
  std::vector<std::optional<std::string>> fetch_into_local(const std::vector<Hash128>& keys,
                                                           size_t essential = SIZE_MAX);
  std::atomic<uint64_t> hits_{0}, misses_{0}, stores_{0}, corrupt_{0}, evictions_{0};
  std::atomic<uint64_t> remote_hits_{0};
  std::mutex asked_mu_;
  std::unordered_set<uint64_t> asked_;  // keys (lo words) prefetch() asked the remote for
  std::mutex saved_mu_;                 // save_stats() from two threads must not count twice
  ObjectCacheStats saved_;
};

}  // namespace tierjit
