// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Disk object cache implementation.
#include "runtime/object_cache.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "runtime/remote_storage.hpp"
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
  set_remote(RemoteStorage::process());
}

ObjectCache::~ObjectCache() { save_stats(); }

void ObjectCache::set_remote(RemoteStorage* remote) { remote_ = remote; }

std::string ObjectCache::entry_path(const Hash128& key) const {
  std::string hex = key.hex();
  return dir_ + "/v1/" + hex.substr(0, 2) + "/" + hex + ".obj";
}

bool ObjectCache::contains_local(const Hash128& key) const {
  return ::access(entry_path(key).c_str(), F_OK) == 0;
}

namespace {
// The payload of entry file bytes `b` for `key` (in place), or why it is refused.
Status decode_entry(const Hash128& key, std::string& b) {
  auto corrupt = [](const char* why) { return make_error(ErrorCode::kCacheCorrupt, why); };
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
  return {};
}

std::string encode_entry(const Hash128& key, std::string_view payload) {
  std::string b(kHeader, '\0');
  std::memcpy(b.data(), kMagic, 4);
  std::memcpy(b.data() + 4, &kFormat, 4);
  std::memcpy(b.data() + 8, &key, 16);
  uint64_t size = payload.size();
  std::memcpy(b.data() + 24, &size, 8);
  Hash128 h = hash_bytes(payload);
  std::memcpy(b.data() + 32, &h, 16);
  b.append(payload);
  return b;
}

Status write_entry_file(const std::string& path, std::string_view bytes) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec)
    return make_error(ErrorCode::kIo, "cannot create cache directory: " + ec.message(),
                      {fs::path(path).parent_path().string()});
  return write_file_atomic(path, bytes);
}
}  // namespace

std::optional<std::string> ObjectCache::load(const Hash128& key) {
  std::string path = entry_path(key);
  auto bytes = read_file(path);
  if (!bytes.ok()) {
    misses_++;
    TJ_LOG(Channel::kCache, "miss {}", key.hex());
    return fetch_remote(key);
  }
  std::string& b = bytes.value();
  if (Status s = decode_entry(key, b); !s.ok()) {
    corrupt_++;
    misses_++;
    warn_("corrupt cache entry " + path + " (" + s.error().message + "); discarded, rebuilding");
    ::unlink(path.c_str());
    return fetch_remote(key);
  }
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // LRU: touch on hit
  hits_++;
  TJ_LOG(Channel::kCache, "hit {} ({} bytes)", key.hex(), b.size());
  return std::move(b);
}

// The one path from the remote into this cache: every entry verified as a local one is, written
// locally, counted as a remote hit; the payloads, in order (nullopt where the remote had none).
std::vector<std::optional<std::string>> ObjectCache::fetch_into_local(
    const std::vector<Hash128>& keys, size_t essential) {
  std::vector<std::string> names;
  for (const Hash128& k : keys) names.push_back(k.hex());
  std::vector<std::optional<std::string>> payloads(keys.size());
  auto got = remote_->get(
      names,
      [&](size_t i, std::string& entry) -> Status {
        std::string payload = entry;
        TJ_TRY(decode_entry(keys[i], payload));
        payloads[i] = std::move(payload);
        return {};
      },
      essential);
  for (size_t i = 0; i < got.size(); ++i) {
    if (!got[i]) {
      payloads[i].reset();  // verified, then refused by a later check: not a hit
      continue;
    }
    remote_hits_++;
    if (Status s = write_entry_file(entry_path(keys[i]), got[i]->entry); !s.ok())
      warn_("cannot write cache entry: " + s.error().to_string());
  }
  return payloads;
}

std::optional<std::string> ObjectCache::fetch_remote(const Hash128& key) {
  if (!remote_) return std::nullopt;
  {
    std::lock_guard<std::mutex> lock(asked_mu_);
    if (asked_.count(key.lo)) return std::nullopt;
  }
  std::optional<std::string> payload = std::move(fetch_into_local({key})[0]);
  if (payload) TJ_LOG(Channel::kCache, "remote hit {} ({} bytes)", key.hex(), payload->size());
  return payload;
}

void ObjectCache::prefetch(const std::vector<Hash128>& keys, size_t essential) {
  if (!remote_) return;
  {
    std::lock_guard<std::mutex> lock(asked_mu_);
    for (const Hash128& k : keys) asked_.insert(k.lo);
  }
  std::vector<Hash128> wanted;
  size_t wanted_essential = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (contains_local(keys[i])) continue;
    wanted.push_back(keys[i]);
    if (i < essential) wanted_essential = wanted.size();
  }
  if (!wanted.empty()) fetch_into_local(wanted, wanted_essential);
}

void ObjectCache::store(const Hash128& key, std::string_view payload) {
  std::string b = encode_entry(key, payload);
  if (Status s = write_entry_file(entry_path(key), b); !s.ok()) {
    warn_("cannot write cache entry: " + s.error().to_string());
    return;
  }
  stores_++;
  if (remote_) remote_->put(key.hex(), b);
  TJ_LOG(Channel::kCache, "store {} ({} bytes)", key.hex(), payload.size());
}

Status ObjectCache::store_sidecar(const Hash128& key, std::string_view bytes) {
  TJ_TRY(write_entry_file(entry_path(key) + ".so", bytes));
  if (remote_) remote_->put(key.hex() + ".so", bytes);
  return {};
}

bool ObjectCache::fetch_sidecar(const Hash128& key) {
  std::string path = entry_path(key) + ".so";
  if (::access(path.c_str(), F_OK) == 0) return true;
  if (!remote_) return false;
  auto got = remote_->get({key.hex() + ".so"}, [](size_t, std::string&) { return Status(); });
  if (!got[0]) return false;
  if (Status s = write_entry_file(path, got[0]->entry); !s.ok()) {
    warn_("cannot write cache entry: " + s.error().to_string());
    return false;
  }
  return true;
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

void ObjectCache::finish() {
  trim();
  if (remote_) remote_->flush();
  save_stats();
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

namespace {
using Totals = std::vector<std::pair<std::string, uint64_t>>;

// "SCOPE FIELD VALUE" lines; SCOPE is "local" or "remote URL".
Totals parse_totals(std::string_view text) {
  Totals out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t sp = line.rfind(' ');
    if (sp == std::string_view::npos) continue;
    std::string value(line.substr(sp + 1));
    char* end = nullptr;
    uint64_t v = std::strtoull(value.c_str(), &end, 10);
    if (value.empty() || *end) continue;
    out.emplace_back(std::string(line.substr(0, sp)), v);
  }
  return out;
}

void add_total(Totals& t, const std::string& name, uint64_t v) {
  if (v == 0) return;
  for (auto& [n, total] : t)
    if (n == name) {
      total += v;
      return;
    }
  t.emplace_back(name, v);
}
}  // namespace

std::vector<std::pair<std::string, uint64_t>> ObjectCache::read_totals(const std::string& dir) {
  auto text = read_file(dir + "/stats");
  return text.ok() ? parse_totals(*text) : Totals{};
}

void ObjectCache::save_stats() {
  std::lock_guard<std::mutex> saved_lock(saved_mu_);
  ObjectCacheStats now = stats();
  Totals add;
  add_total(add, "local hits", now.hits - saved_.hits);
  add_total(add, "local misses", now.misses - saved_.misses);
  add_total(add, "local stores", now.stores - saved_.stores);
  add_total(add, "local corrupt", now.corrupt - saved_.corrupt);
  add_total(add, "local evictions", now.evictions - saved_.evictions);
  saved_ = now;
  if (remote_) {
    std::vector<RemoteCounters> rc = remote_->take_unsaved();
    for (size_t i = 0; i < rc.size(); ++i) {
      std::string scope = "remote " + remote_->specs()[i].url + " ";
      const RemoteCounters& c = rc[i];
      for (auto [field, v] : {std::pair<const char*, uint64_t>{"hits", c.hits},
                              {"misses", c.misses},
                              {"errors", c.errors},
                              {"corrupt", c.corrupt},
                              {"rejected", c.rejected},
                              {"skipped", c.skipped},
                              {"uploads", c.uploads},
                              {"upload-errors", c.upload_errors},
                              {"upload-dropped", c.upload_dropped},
                              {"requests", c.requests},
                              {"latency-us", c.latency_us}})
        add_total(add, scope + field, v);
    }
  }
  if (add.empty()) return;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  std::string path = dir_ + "/stats";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;  // a read-only cache keeps no totals
  if (::flock(fd, LOCK_EX) == 0) {
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, size_t(n));
    Totals t = parse_totals(text);
    for (auto& [name, v] : add) add_total(t, name, v);
    std::string out;
    for (auto& [name, v] : t) out += name + " " + std::to_string(v) + "\n";
    if (::ftruncate(fd, 0) == 0 && ::pwrite(fd, out.data(), out.size(), 0) < 0) {
      // the totals are advisory: a full disk loses them, nothing else
    }
  }
  ::close(fd);
}

Status ObjectCache::zero_totals(const std::string& dir) {
  if (::unlink((dir + "/stats").c_str()) != 0 && errno != ENOENT)
    return make_error(ErrorCode::kIo, std::string("cannot zero: ") + std::strerror(errno),
                      {dir + "/stats"});
  return {};
}

Expected<ObjectCache::Transfer> ObjectCache::push(
    const std::function<void(uint64_t, uint64_t)>& progress) {
  if (!remote_) return make_error(ErrorCode::kUsage, "no remote storage is configured");
  std::vector<Entry> entries = list_entries(dir_);
  Transfer t;
  std::vector<std::pair<std::string, std::string>> batch;
  size_t batch_bytes = 0;
  auto send = [&]() -> Status {
    if (batch.empty()) return {};
    TJ_TRY(remote_->put_now(batch));
    batch.clear();
    batch_bytes = 0;
    return {};
  };
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string hex = entries[i].path.stem().string();
    Hash128 key;
    auto bytes = read_file(entries[i].path.string());
    if (!Hash128::from_hex(hex, &key) || !bytes.ok()) {
      t.skipped++;
      continue;
    }
    std::string payload = *bytes;
    if (!decode_entry(key, payload).ok()) {
      t.skipped++;
      continue;
    }
    t.entries++;
    t.bytes += bytes->size();
    batch_bytes += bytes->size();
    batch.emplace_back(hex, std::move(bytes).value());
    if (auto so = read_file(entries[i].path.string() + ".so"); so.ok()) {
      t.bytes += so->size();
      batch_bytes += so->size();
      batch.emplace_back(hex + ".so", std::move(so).value());
    }
    if (batch.size() >= 64 || batch_bytes >= (8u << 20)) TJ_TRY(send());
    if (progress) progress(i + 1, entries.size());
  }
  TJ_TRY(send());
  return t;
}

Expected<ObjectCache::Transfer> ObjectCache::pull(
    const std::function<void(uint64_t, uint64_t)>& progress) {
  if (!remote_) return make_error(ErrorCode::kUsage, "no remote storage is configured");
  TJ_ASSIGN_OR_RETURN(std::vector<std::string> names, remote_->list());
  std::vector<Hash128> keys;
  std::vector<std::string> sidecars;
  Transfer t;
  for (const std::string& n : names) {
    Hash128 key;
    bool sidecar = n.size() == 35 && n.compare(32, 3, ".so") == 0;
    if (!Hash128::from_hex(n.substr(0, 32), &key) || (n.size() != 32 && !sidecar)) continue;
    if (sidecar) {
      sidecars.push_back(n);
    } else if (contains_local(key)) {
      t.skipped++;
    } else {
      keys.push_back(key);
    }
  }
  for (size_t at = 0; at < keys.size(); at += 64) {
    std::vector<Hash128> chunk(keys.begin() + long(at),
                               keys.begin() + long(std::min(keys.size(), at + 64)));
    for (const std::optional<std::string>& payload : fetch_into_local(chunk)) {
      if (!payload) {
        t.skipped++;
        continue;
      }
      t.entries++;
      t.bytes += payload->size();
    }
    if (progress) progress(std::min(keys.size(), at + 64), keys.size());
  }
  for (const std::string& n : sidecars) {  // beside entries that are now local
    Hash128 key;
    if (!Hash128::from_hex(n.substr(0, 32), &key) || !contains_local(key)) continue;
    fetch_sidecar(key);
  }
  return t;
}

ObjectCacheStats ObjectCache::stats() const {
  return {hits_.load(),    misses_.load(),    stores_.load(),
          corrupt_.load(), evictions_.load(), remote_hits_.load()};
}

}  // namespace tierjit
