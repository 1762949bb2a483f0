// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Remote storage: configuration, signed blobs, the circuit breaker, the upload thread and the
// counters. The transports are in remote_backends.cpp.
#include "runtime/remote_storage.hpp"

#include <pthread.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "support/file.hpp"
#include "support/hash.hpp"
#include "support/log.hpp"

namespace tierjit {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kBlobMagic[4] = {'T', 'J', 'R', '1'};
constexpr size_t kMacBytes = crypto_auth_hmacsha256_BYTES;
constexpr int kBreakerSeconds = 30;
constexpr size_t kUploadBatch = 64;
constexpr size_t kUploadBatchBytes = 8u << 20;
constexpr size_t kUploadQueueBytes = 256u << 20;  // beyond this, uploads are dropped

// A decimal integer in [lo, hi], or nullopt.
std::optional<int> parse_int(const std::string& text, long lo, long hi) {
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end || v < lo || v > hi) return std::nullopt;
  return int(v);
}

Error bad_spec(std::string_view url, const std::string& why) {
  return make_error(ErrorCode::kUsage, "remote storage '" + std::string(url) + "': " + why);
}

Status parse_attribute(std::string_view url, std::string_view attr, RemoteSpec& s) {
  size_t eq = attr.find('=');
  std::string name(attr.substr(0, eq));
  std::string value = eq == std::string_view::npos ? "" : std::string(attr.substr(eq + 1));
  auto millis = [&](int* out) -> Status {
    std::optional<int> v = parse_int(value, 1, 600000);
    if (!v) return bad_spec(url, name + " wants milliseconds (1..600000), got '" + value + "'");
    *out = *v;
    return {};
  };
  if (name == "read-only" && eq == std::string_view::npos) {
    s.read_only = true;
  } else if (name == "prefix") {
    if (value.empty() || value[0] == '.' ||
        value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789._-") != std::string::npos)
      return bad_spec(url,
                      "prefix must be non-empty letters, digits, '.', '_' or '-' (not "
                      "starting with '.')");
    s.prefix = value;
  } else if (name == "connect-timeout") {
    TJ_TRY(millis(&s.connect_timeout_ms));
  } else if (name == "operation-timeout") {
    TJ_TRY(millis(&s.operation_timeout_ms));
  } else if (name == "layout" && (value == "flat" || value == "subdirs")) {
    s.subdirs = value == "subdirs";
  } else {
    return bad_spec(url, "unknown attribute '" + std::string(attr) + "'");
  }
  return {};
}

// redis://[[USER:]PASSWORD@]HOST[:PORT][/DB]
Status parse_redis(std::string_view rest, RemoteSpec& s) {
  s.kind = RemoteSpec::Kind::kRedis;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    size_t colon = cred.find(':');
    if (colon == std::string_view::npos) {
      s.password = std::string(cred);
    } else {
      s.user = std::string(cred.substr(0, colon));
      s.password = std::string(cred.substr(colon + 1));
    }
  }
  std::string_view hostport = rest.substr(0, rest.find('/'));
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    std::optional<int> db = parse_int(std::string(rest.substr(slash + 1)), 0, 1000000);
    if (!db) return bad_spec(s.url, "bad database number");
    s.db = *db;
  }
  size_t colon = hostport.rfind(':');
  s.host = std::string(hostport.substr(0, colon));
  if (colon != std::string_view::npos) {
    std::optional<int> port = parse_int(std::string(hostport.substr(colon + 1)), 1, 65535);
    if (!port) return bad_spec(s.url, "bad port");
    s.port = *port;
  }
  if (s.host.empty()) return bad_spec(s.url, "no host");
  return {};
}

// The URL as stats, warnings and marker files show it: without a password ("user:pass@").
std::string display_url(std::string_view url) {
  size_t start = url.find("://");
  if (start == std::string_view::npos) return std::string(url);
  start += 3;
  size_t at = url.find('@', start), slash = url.find('/', start);
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at))
    return std::string(url);
  return std::string(url.substr(0, start)) + std::string(url.substr(at + 1));
}

Expected<RemoteSpec> parse_one(std::string_view word) {
  RemoteSpec s;
  size_t bar = word.find('|');
  std::string_view url = word.substr(0, bar);
  s.url = display_url(url);
  if (url.rfind("redis://", 0) == 0) {
    TJ_TRY(parse_redis(url.substr(8), s));
  } else if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
    s.kind = RemoteSpec::Kind::kHttp;
    s.host = std::string(url);
    while (!s.host.empty() && s.host.back() == '/') s.host.pop_back();
    size_t host = url.find("//") + 2;
    if (host >= url.size() || url[host] == '/') return bad_spec(url, "no host");
  } else if (url.rfind("file:", 0) == 0) {
    s.kind = RemoteSpec::Kind::kFile;
    std::string_view path = url.substr(5);
    if (path.rfind("//", 0) == 0) path.remove_prefix(2);  // file:///DIR
    if (path.empty() || path[0] != '/') return bad_spec(url, "file: wants an absolute directory");
    s.host = std::string(path);
  } else {
    return bad_spec(url, "unknown scheme (redis://, http://, https://, file:)");
  }
  while (bar != std::string_view::npos) {
    size_t next = word.find('|', bar + 1);
    TJ_TRY(parse_attribute(url, word.substr(bar + 1, next - bar - 1), s));
    bar = next;
  }
  return s;
}

}  // namespace

Expected<std::vector<RemoteSpec>> parse_remote_storage(std::string_view config) {
  std::vector<RemoteSpec> out;
  size_t i = 0;
  while (i < config.size()) {
    size_t start = config.find_first_not_of(" \t\n", i);
    if (start == std::string_view::npos) break;
    size_t end = config.find_first_of(" \t\n", start);
    TJ_ASSIGN_OR_RETURN(RemoteSpec s, parse_one(config.substr(start, end - start)));
    out.push_back(std::move(s));
    i = end;
  }
  return out;
}

std::string format_remote_counters(const RemoteCounters& c) {
  std::string out = "hits " + std::to_string(c.hits);
  out += ", misses " + std::to_string(c.misses);
  out += ", errors " + std::to_string(c.errors);
  out += ", corrupt " + std::to_string(c.corrupt);
  out += ", rejected " + std::to_string(c.rejected);
  out += ", skipped " + std::to_string(c.skipped);
  out += ", uploads " + std::to_string(c.uploads);
  out += " (errors " + std::to_string(c.upload_errors);
  out += ", dropped " + std::to_string(c.upload_dropped) + ")";
  char mean[32];
  std::snprintf(mean, sizeof mean, "%.2f",
                c.requests ? double(c.latency_us) / double(c.requests) / 1000.0 : 0.0);
  out += ", mean latency ";
  out += mean;
  out += " ms over " + std::to_string(c.requests) + " requests";
  return out;
}

struct RemoteStorage::Impl {
  struct Backend {
    RemoteSpec spec;
    std::unique_ptr<RemoteBackend> reader, writer;  // separate connections: uploads never
    std::mutex read_mu;                             // hold up a read
    std::mutex write_mu;                            // the uploader vs put_now
    std::atomic<int64_t> down_until{0};             // steady-clock ns; breaker open until then
    std::mutex counters_mu;
    RemoteCounters total, saved;
  };
  std::vector<std::unique_ptr<Backend>> backends;
  std::vector<RemoteSpec> specs;
  std::string key;           // HMAC key ("" = unsigned)
  std::string state_dir;     // the breaker's marker files ("" = this process only)
  pid_t owner = ::getpid();  // a forked child shares our sockets and lacks our thread
  bool forked() const { return ::getpid() != owner; }

  std::mutex queue_mu;
  std::condition_variable queue_cv, idle_cv;
  std::deque<std::pair<std::string, std::string>> queue;
  size_t queue_bytes = 0;
  bool busy = false;
  bool fork_hold = false;  // a fork() is under way: the uploader starts no batch
  bool uploader_running = false;
  std::atomic<bool> stopping{false};
  std::thread uploader;

  // fork(): before it, the uploader finishes the batch in flight (for at most kForkWaitMs)
  // and then starts none until the fork is done, so no thread of ours is inside the
  // allocator or a client library when the child is made. glibc's malloc is fork-safe
  // anyway; a sanitizer's allocator (GCC 12's libasan) is not, and the child's leak check
  // would wait forever on a lock the uploader held. The hold is released in the parent;
  // the child has no uploader (forked()).
  static constexpr int kForkWaitMs = 2000;
  static std::mutex& live_mu() {
    static std::mutex m;
    return m;
  }
  static std::vector<Impl*>& live() {
    static auto* v = new std::vector<Impl*>;  // never destroyed: used by fork handlers
    return *v;
  }
  static void fork_prepare() {
    live_mu().lock();
    for (Impl* m : live()) {
      std::unique_lock<std::mutex> lock(m->queue_mu);
      m->fork_hold = true;
      m->idle_cv.wait_for(lock, std::chrono::milliseconds(kForkWaitMs), [m] { return !m->busy; });
    }
  }
  static void fork_parent() {
    for (Impl* m : live()) {
      {
        std::lock_guard<std::mutex> lock(m->queue_mu);
        m->fork_hold = false;
      }
      m->queue_cv.notify_all();
    }
    live_mu().unlock();
  }
  static void fork_child() {
    for (Impl* m : live()) m->fork_hold = false;
    live_mu().unlock();
  }
  void register_for_fork() {
    static std::once_flag once;
    std::call_once(once, [] { pthread_atfork(&fork_prepare, &fork_parent, &fork_child); });
    std::lock_guard<std::mutex> lock(live_mu());
    live().push_back(this);
  }
  void unregister_for_fork() {
    std::lock_guard<std::mutex> lock(live_mu());
    auto& v = live();
    v.erase(std::remove(v.begin(), v.end(), this), v.end());
  }

  template <class F>
  void count(Backend& b, F&& f) {
    std::lock_guard<std::mutex> lock(b.counters_mu);
    f(b.total);
  }

  // Stores `blobs` on b's writer, timed and counted: one request where batches are cheap,
  // else one per blob, stopping early (the rest dropped) once flush() gives up waiting.
  Status upload(Backend& b, const std::vector<std::pair<std::string, std::string>>& blobs) {
    std::lock_guard<std::mutex> lock(b.write_mu);
    if (b.writer->cheap_batches()) return upload_now(b, blobs);
    for (size_t i = 0; i < blobs.size(); ++i) {
      if (stopping.load(std::memory_order_relaxed)) {
        count(b, [&](RemoteCounters& c) { c.upload_dropped += blobs.size() - i; });
        return {};
      }
      TJ_TRY(upload_now(b, {blobs[i]}));
    }
    return {};
  }
  Status upload_now(Backend& b, const std::vector<std::pair<std::string, std::string>>& blobs) {
    auto t0 = Clock::now();
    Status s = b.writer->put(blobs);
    record(b, t0);
    count(b, [&](RemoteCounters& c) { (s.ok() ? c.uploads : c.upload_errors) += blobs.size(); });
    return s;
  }

  void record(Backend& b, Clock::time_point t0) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
    count(b, [&](RemoteCounters& c) {
      c.requests++;
      c.latency_us += uint64_t(us);
    });
  }

  std::string marker(const Backend& b) const {  // only when state_dir is set
    return state_dir + "/down-" + hash_bytes(b.spec.url).hex().substr(0, 16);
  }

  bool open(Backend& b) {
    int64_t now = Clock::now().time_since_epoch().count();
    if (b.down_until.load(std::memory_order_relaxed) > now) return true;
    std::string m = marker(b);
    struct stat st;
    if (!state_dir.empty() && ::stat(m.c_str(), &st) == 0) {
      auto age = std::chrono::system_clock::now().time_since_epoch() -
                 std::chrono::seconds(st.st_mtim.tv_sec);
      // A marker from the future (a clock set back) is ignored, not trusted for ever.
      if (age >= std::chrono::seconds(0) && age < std::chrono::seconds(kBreakerSeconds)) {
        b.down_until =
            now + std::chrono::nanoseconds(std::chrono::seconds(kBreakerSeconds) - age).count();
        return true;
      }
    }
    return false;
  }

  // A transport failure opens the breaker; a server's refusal of one request (kUnsupported:
  // HTTP 403 on a PUT, Redis OOM) is only counted and warned about.
  void trip(Backend& b, const Error& e) {
    count(b, [](RemoteCounters& c) { c.errors++; });
    if (e.code != ErrorCode::kIo) {
      std::fprintf(stderr, "tierjit: warning: remote storage %s: %s\n", b.spec.url.c_str(),
                   e.message.c_str());
      return;
    }
    b.down_until =
        (Clock::now() + std::chrono::seconds(kBreakerSeconds)).time_since_epoch().count();
    std::fprintf(stderr, "tierjit: warning: remote storage %s: %s; not used for %d s\n",
                 b.spec.url.c_str(), e.message.c_str(), kBreakerSeconds);
    if (!state_dir.empty()) (void)write_file_atomic(marker(b), b.spec.url);
  }

  void mac(const std::string& name, std::string_view entry, unsigned char* out) const {
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()),
                                key.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(name.data()),
                                  name.size());
    const unsigned char zero = 0;
    crypto_auth_hmacsha256_update(&st, &zero, 1);
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(entry.data()),
                                  entry.size());
    crypto_auth_hmacsha256_final(&st, out);
  }

  std::string wrap(const std::string& name, std::string_view entry) const {
    std::string blob(kBlobMagic, 4);
    blob += char(key.empty() ? 0 : 1);
    if (!key.empty()) {
      unsigned char m[kMacBytes];
      mac(name, entry, m);
      blob.append(reinterpret_cast<const char*>(m), kMacBytes);
    }
    blob.append(entry);
    return blob;
  }

  // The entry inside `blob`, or the reason it is refused.
  Expected<std::string> unwrap(const std::string& name, std::string blob) const {
    if (blob.size() < 5 || std::memcmp(blob.data(), kBlobMagic, 4) != 0)
      return make_error(ErrorCode::kCacheCorrupt, "not a tierjit remote entry");
    bool is_signed = blob[4] == 1;
    if (blob[4] != 0 && !is_signed)
      return make_error(ErrorCode::kCacheCorrupt, "unknown remote entry flags");
    size_t head = 5 + (is_signed ? kMacBytes : 0);
    if (blob.size() < head) return make_error(ErrorCode::kCacheCorrupt, "truncated signature");
    if (!key.empty()) {
      if (!is_signed) return make_error(ErrorCode::kCacheCorrupt, "unsigned entry");
      unsigned char m[kMacBytes];
      mac(name, std::string_view(blob).substr(head), m);
      if (crypto_verify_32(m, reinterpret_cast<const unsigned char*>(blob.data() + 5)) != 0)
        return make_error(ErrorCode::kCacheCorrupt, "signature does not match");
    }
    blob.erase(0, head);
    return blob;
  }

  void upload_loop();
};

namespace {
std::mutex g_process_mu;
std::string* g_config = nullptr;  // set by configure()
RemoteStorage* g_process = nullptr;
bool g_process_made = false;

void flush_at_exit() {
  if (g_process) g_process->flush();
}
}  // namespace

Status RemoteStorage::configure(std::string_view config) {
  TJ_TRY(parse_remote_storage(config));
  std::lock_guard<std::mutex> lock(g_process_mu);
  delete g_config;
  g_config = new std::string(config);
  return {};
}

RemoteStorage* RemoteStorage::process() {
  std::lock_guard<std::mutex> lock(g_process_mu);
  if (g_process_made) return g_process;
  g_process_made = true;
  std::string config;
  if (g_config) {
    config = *g_config;
  } else if (const char* e = std::getenv("TIERJIT_REMOTE_STORAGE")) {
    config = e;
  }
  auto specs = parse_remote_storage(config);
  if (!specs.ok()) {
    std::fprintf(stderr, "tierjit: warning: TIERJIT_REMOTE_STORAGE: %s; no remote storage\n",
                 specs.error().message.c_str());
    return nullptr;
  }
  if (specs->empty()) return nullptr;
  // Never destroyed: the upload thread may outlive main's statics; flushed by atexit.
  g_process = new RemoteStorage(std::move(specs).value());
  std::atexit(flush_at_exit);
  return g_process;
}

RemoteStorage::RemoteStorage(std::vector<RemoteSpec> specs) : impl_(std::make_unique<Impl>()) {
  if (sodium_init() < 0) std::fprintf(stderr, "tierjit: warning: libsodium failed to start\n");
  if (const char* k = std::getenv("TIERJIT_REMOTE_KEY"); k && *k) impl_->key = k;
  if (const char* d = std::getenv("TIERJIT_REMOTE_STATE_DIR"); d && *d) {
    impl_->state_dir = d;
  } else if (const char* r = std::getenv("XDG_RUNTIME_DIR"); r && *r) {
    impl_->state_dir = std::string(r) + "/tierjit-remote";
  } else {
    impl_->state_dir = "/tmp/tierjit-remote-" + std::to_string(::getuid());
  }
  // Ours alone: created 0700, and not used if another user made it (or a link in its place).
  ::mkdir(impl_->state_dir.c_str(), 0700);
  struct stat st;
  if (::lstat(impl_->state_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
      st.st_uid != ::getuid()) {
    std::fprintf(stderr,
                 "tierjit: warning: remote storage state directory %s is not this user's; "
                 "the circuit breaker stays within each process\n",
                 impl_->state_dir.c_str());
    impl_->state_dir.clear();
  }
  for (RemoteSpec& s : specs) {
    auto b = std::make_unique<Impl::Backend>();
    b->reader = make_remote_backend(s);
    if (!s.read_only) b->writer = make_remote_backend(s);
    b->spec = s;
    impl_->specs.push_back(std::move(s));
    impl_->backends.push_back(std::move(b));
  }
  impl_->register_for_fork();
}

RemoteStorage::~RemoteStorage() {
  flush(0);
  if (impl_->uploader.joinable() && !impl_->forked()) impl_->uploader.join();
  impl_->unregister_for_fork();
}

std::vector<std::optional<RemoteStorage::Fetched>> RemoteStorage::get(
    const std::vector<std::string>& names, const Verify& verify, size_t essential) {
  std::vector<std::optional<Fetched>> out(names.size());
  if (impl_->forked()) return out;
  std::vector<size_t> wanted(names.size());
  for (size_t i = 0; i < names.size(); ++i) wanted[i] = i;
  for (size_t bi = 0; bi < impl_->backends.size() && !wanted.empty(); ++bi) {
    Impl::Backend& b = *impl_->backends[bi];
    if (impl_->open(b)) {
      impl_->count(b, [&](RemoteCounters& c) { c.skipped += wanted.size(); });
      continue;
    }
    std::vector<size_t> later;  // speculative names this back end is not asked for
    if (!b.reader->cheap_batches()) {
      std::vector<size_t> now;
      for (size_t i : wanted) (i < essential ? now : later).push_back(i);
      wanted = std::move(now);
      if (wanted.empty()) {
        wanted = std::move(later);
        continue;
      }
    }
    std::vector<std::string> ask;
    for (size_t i : wanted) ask.push_back(names[i]);
    auto t0 = Clock::now();
    Expected<std::vector<std::optional<std::string>>> got = [&] {
      std::lock_guard<std::mutex> lock(b.read_mu);
      return b.reader->get(ask);
    }();
    impl_->record(b, t0);
    if (!got.ok()) {
      impl_->trip(b, got.error());
      wanted.insert(wanted.end(), later.begin(), later.end());
      continue;
    }
    std::vector<size_t> still = std::move(later);
    for (size_t k = 0; k < wanted.size(); ++k) {
      size_t i = wanted[k];
      std::optional<std::string>& blob = (*got)[k];
      if (!blob) {
        impl_->count(b, [](RemoteCounters& c) { c.misses++; });
        still.push_back(i);
        continue;
      }
      auto entry = impl_->unwrap(names[i], std::move(*blob));
      if (!entry.ok()) {
        impl_->count(b, [](RemoteCounters& c) { c.rejected++; });
        std::fprintf(stderr, "tierjit: warning: remote storage %s: entry %s refused (%s)\n",
                     b.spec.url.c_str(), names[i].c_str(), entry.error().message.c_str());
        still.push_back(i);
        continue;
      }
      if (Status v = verify(i, entry.value()); !v.ok()) {
        impl_->count(b, [](RemoteCounters& c) { c.corrupt++; });
        std::fprintf(stderr,
                     "tierjit: warning: remote storage %s: entry %s is corrupt (%s); "
                     "not used\n",
                     b.spec.url.c_str(), names[i].c_str(), v.error().message.c_str());
        still.push_back(i);
        continue;
      }
      impl_->count(b, [](RemoteCounters& c) { c.hits++; });
      out[i] = Fetched{std::move(entry).value(), bi};
    }
    wanted = std::move(still);
  }
  return out;
}

void RemoteStorage::put(const std::string& name, std::string_view entry) {
  if (impl_->forked()) return;
  bool writable = false;
  for (auto& b : impl_->backends) {
    if (!b->writer) continue;
    if (impl_->open(*b)) {  // breaker open: not even copied
      impl_->count(*b, [](RemoteCounters& c) { c.upload_dropped++; });
    } else {
      writable = true;
    }
  }
  if (!writable) return;
  std::string blob = impl_->wrap(name, entry);
  std::unique_lock<std::mutex> lock(impl_->queue_mu);
  if (impl_->stopping || impl_->queue_bytes + blob.size() > kUploadQueueBytes) {
    for (auto& b : impl_->backends)
      if (b->writer) impl_->count(*b, [](RemoteCounters& c) { c.upload_dropped++; });
    return;
  }
  if (!impl_->uploader.joinable()) {
    try {
      impl_->uploader = std::thread([this] { impl_->upload_loop(); });
      // Once it runs our code, a fork() never finds it in the C runtime's thread start-up.
      impl_->idle_cv.wait(lock, [&] { return impl_->uploader_running; });
    } catch (const std::system_error&) {  // no thread to be had: no upload
      for (auto& b : impl_->backends)
        if (b->writer) impl_->count(*b, [](RemoteCounters& c) { c.upload_dropped++; });
      return;
    }
  }
  impl_->queue_bytes += blob.size();
  impl_->queue.emplace_back(name, std::move(blob));
  impl_->queue_cv.notify_one();
}

void RemoteStorage::Impl::upload_loop() {
  std::unique_lock<std::mutex> lock(queue_mu);
  uploader_running = true;
  idle_cv.notify_all();
  for (;;) {
    queue_cv.wait(lock, [&] { return stopping || (!queue.empty() && !fork_hold); });
    if (queue.empty() || fork_hold) return;  // stopping
    std::vector<std::pair<std::string, std::string>> batch;
    size_t bytes = 0;
    while (!queue.empty() && batch.size() < kUploadBatch && bytes < kUploadBatchBytes) {
      bytes += queue.front().second.size();
      batch.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    queue_bytes -= bytes;
    busy = true;
    lock.unlock();
    for (auto& b : backends) {
      if (!b->writer) continue;
      if (open(*b)) {
        count(*b, [&](RemoteCounters& c) { c.upload_dropped += batch.size(); });
        continue;
      }
      Status s = upload(*b, batch);
      if (!s.ok()) trip(*b, s.error());
    }
    lock.lock();
    busy = false;
    idle_cv.notify_all();
  }
}

void RemoteStorage::flush(int timeout_ms) {
  if (impl_->forked()) return;  // the uploader is the parent's
  if (timeout_ms < 0) {
    const char* env = std::getenv("TIERJIT_REMOTE_FLUSH_MS");
    timeout_ms = env && *env ? std::atoi(env) : 2000;
  }
  std::unique_lock<std::mutex> lock(impl_->queue_mu);
  if (!impl_->uploader.joinable()) {
    impl_->stopping = true;  // a later put() starts no thread nobody would join
    return;
  }
  impl_->idle_cv.wait_for(lock, std::chrono::milliseconds(std::max(timeout_ms, 0)),
                          [&] { return impl_->queue.empty() && !impl_->busy; });
  size_t left = impl_->queue.size();
  if (left || impl_->busy) {
    for (auto& b : impl_->backends)
      if (b->writer) impl_->count(*b, [&](RemoteCounters& c) { c.upload_dropped += left; });
    std::fprintf(stderr,
                 "tierjit: warning: remote storage: uploads not finished in %d ms; %zu "
                 "dropped\n",
                 timeout_ms, left);
  }
  impl_->queue.clear();
  impl_->queue_bytes = 0;
  impl_->stopping = true;
  impl_->queue_cv.notify_all();
  lock.unlock();
  // The request in flight, if any, ends within its back end's operation timeout (one blob at a
  // time where requests are per blob): always joined, never left running past exit.
  impl_->uploader.join();
}

Status RemoteStorage::put_now(const std::vector<std::pair<std::string, std::string>>& entries) {
  if (impl_->forked()) return make_error(ErrorCode::kUsage, "remote storage: forked process");
  std::vector<std::pair<std::string, std::string>> blobs;
  for (const auto& [name, entry] : entries) blobs.emplace_back(name, impl_->wrap(name, entry));
  for (auto& b : impl_->backends) {
    if (!b->writer) continue;
    Status s = impl_->upload(*b, blobs);
    if (!s.ok()) return make_error(s.error().code, b->spec.url + ": " + s.error().message);
  }
  return {};
}

Expected<std::vector<std::string>> RemoteStorage::list() {
  Error last = make_error(ErrorCode::kUnsupported, "no remote storage can list its entries");
  for (auto& b : impl_->backends) {
    std::lock_guard<std::mutex> lock(b->read_mu);
    auto names = b->reader->list();
    if (names.ok()) return names;
    last = make_error(names.error().code, b->spec.url + ": " + names.error().message);
  }
  return last;
}

std::vector<std::pair<std::string, Expected<double>>> RemoteStorage::ping() {
  std::vector<std::pair<std::string, Expected<double>>> out;
  for (auto& b : impl_->backends) {
    std::lock_guard<std::mutex> lock(b->read_mu);
    auto t0 = Clock::now();
    Status s = b->reader->ping();
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (s.ok()) {
      out.emplace_back(b->spec.url, ms);
    } else {
      out.emplace_back(b->spec.url, s.take_error());
    }
  }
  return out;
}

const std::vector<RemoteSpec>& RemoteStorage::specs() const { return impl_->specs; }

bool RemoteStorage::signing() const { return !impl_->key.empty(); }

std::vector<RemoteCounters> RemoteStorage::counters() const {
  std::vector<RemoteCounters> out;
  for (auto& b : impl_->backends) {
    std::lock_guard<std::mutex> lock(b->counters_mu);
    out.push_back(b->total);
  }
  return out;
}

std::vector<RemoteCounters> RemoteStorage::take_unsaved() {
  std::vector<RemoteCounters> out;
  for (auto& b : impl_->backends) {
    std::lock_guard<std::mutex> lock(b->counters_mu);
    const RemoteCounters &t = b->total, &s = b->saved;
    out.push_back({t.hits - s.hits, t.misses - s.misses, t.errors - s.errors, t.corrupt - s.corrupt,
                   t.rejected - s.rejected, t.skipped - s.skipped, t.uploads - s.uploads,
                   t.upload_errors - s.upload_errors, t.upload_dropped - s.upload_dropped,
                   t.requests - s.requests, t.latency_us - s.latency_us});
    b->saved = b->total;
  }
  return out;
}

}  // namespace tierjit
