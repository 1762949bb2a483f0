// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Remote storage: the object cache's second level, shared by every machine of a fleet.
//
// Configuration follows ccache's remote storage: a list of URLs separated by spaces, tried in
// order for reads and all written (unless read-only), each with `|attribute[=value]`s:
//   redis://[[USER:]PASSWORD@]HOST[:PORT][/DB]    (hiredis; default port 6379, db 0)
//   http://HOST[:PORT]/PATH, https://...           (GET/PUT, as nginx WebDAV, bazel-remote or
//                                                   any server that stores PUT bodies serve it)
//   file:///DIR or file:DIR                         (a shared directory, e.g. over NFS)
// Attributes: read-only; prefix=NAME (a tenant's key prefix); connect-timeout=MS (default
// 100); operation-timeout=MS (default 1000); layout=flat|subdirs (http, file: DIR/NAME or
// DIR/XX/NAME). Eviction is the server's: Redis `maxmemory` with `allkeys-lru`, a web server's
// own policy.
// Where it comes from: TIERJIT_REMOTE_STORAGE (or configure(), which `--remote-storage` calls).
//
// Keys: redis "tierjit:[PREFIX:]NAME", http/file "URL/[PREFIX/]NAME", NAME being the cache
// key's 32 hex digits (".so" appended for an entry's sidecar).
// Blobs: "TJR1", u8 flags (bit 0: signed), [32-byte HMAC-SHA-256 over NAME, a zero byte and
// the entry], the entry (the local cache's entry format, whose header carries the key and the
// payload's hash).
//
// Trust model: the remote is trusted for availability, never for integrity. Every entry
// fetched is verified like a local one (key, size, payload hash) and one that fails is a
// miss, counted and reported, never executed. Hashes only catch damage, not forgery: anyone
// who can write to an unsigned remote can make readers run code of their choosing. With
// TIERJIT_REMOTE_KEY set, entries are signed with HMAC-SHA-256 (libsodium) under that key and
// a reader accepts only entries whose signature checks; so only holders of the key can
// produce code that runs.
//
// Never slower than no remote: connect and per-request timeouts; after a transport failure (not
// a server's refusal of one request, such as HTTP 403 or Redis OOM) a back end is skipped
// (circuit breaker) for 30 s, in this process and, through a marker file
// in TIERJIT_REMOTE_STATE_DIR (default $XDG_RUNTIME_DIR/tierjit-remote, else
// /tmp/tierjit-remote-UID), in every process of the machine; uploads run on a background
// thread and are flushed at exit for at most TIERJIT_REMOTE_FLUSH_MS (default 2000) ms plus
// the request in flight; reads of many entries go as one batch (Redis MGET). A forked child
// (a JIT'd program's fork()) neither reads nor writes: the connections are its parent's.
// Stats, warnings and marker files show URLs without their password.
//
// HTTP uses libcurl, loaded with dlopen() the first time an http URL is used: linking it costs
// every process ~8 ms of dynamic loading, remote or not.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/error.hpp"

namespace tierjit {

/// One configured back end: a URL and its attributes.
struct RemoteSpec {
  enum class Kind { kRedis, kHttp, kFile };
  Kind kind = Kind::kFile;
  std::string url;             ///< as written, without attributes: the name stats and errors use
  std::string host;            ///< redis: host name; http: the base URL; file: the directory
  int port = 6379;             ///< redis only
  int db = 0;                  ///< redis only
  std::string user, password;  ///< redis AUTH, if given
  std::string prefix;          ///< tenant prefix ("" = none)
  bool read_only = false;
  bool subdirs = false;  ///< http/file layout: NAME's first two hex digits as a directory
  int connect_timeout_ms = 100;
  int operation_timeout_ms = 1000;
};

/// Parses a configuration string (see above). Errors: kUsage, naming the bad URL or attribute.
Expected<std::vector<RemoteSpec>> parse_remote_storage(std::string_view config);

/// Counters of one back end (cumulative for the process, or as saved in a cache directory).
struct RemoteCounters {
  uint64_t hits = 0, misses = 0;
  uint64_t errors = 0;    ///< transport failures (timeouts, refused connections, bad replies)
  uint64_t corrupt = 0;   ///< entries that failed verification (damaged, wrong key)
  uint64_t rejected = 0;  ///< entries without a valid signature while a key is set
  uint64_t skipped = 0;   ///< requests not sent because the circuit breaker was open
  uint64_t uploads = 0, upload_errors = 0, upload_dropped = 0;
  uint64_t requests = 0;    ///< round trips, for the mean latency
  uint64_t latency_us = 0;  ///< total time of those round trips
};

/// "hits H, misses M, errors E, ..., mean latency X ms": one line's worth, for --stats and
/// `tierjit cache stats`.
std::string format_remote_counters(const RemoteCounters& c);

/// One back end's transport: named blobs in, named blobs out. Errors are transport failures.
class RemoteBackend {
 public:
  virtual ~RemoteBackend() = default;
  /// The blobs for `names`, in order (nullopt where absent).
  virtual Expected<std::vector<std::optional<std::string>>> get(
      const std::vector<std::string>& names) = 0;
  /// Stores blobs (name, bytes); one round trip where the protocol allows.
  virtual Status put(const std::vector<std::pair<std::string, std::string>>& blobs) = 0;
  /// Every name stored under this back end's prefix. Errors: kUnsupported (http).
  virtual Expected<std::vector<std::string>> list() = 0;
  /// One round trip that proves the server answers.
  virtual Status ping() = 0;
  /// Whether get() of many names costs about one round trip (Redis MGET, a local
  /// directory), or one per name (HTTP).
  virtual bool cheap_batches() const { return true; }
};

/// Makes the transport for `spec` (connects lazily).
std::unique_ptr<RemoteBackend> make_remote_backend(const RemoteSpec& spec);

/// The remote level for a process: the configured back ends, signing, the circuit breaker,
/// the upload thread and the counters.
class RemoteStorage {
 public:
  /// The process's remote storage: configured by configure() or else TIERJIT_REMOTE_STORAGE
  /// (read once); nullptr when neither names one. A configuration that does not parse is
  /// reported once on stderr and leaves the process without a remote.
  static RemoteStorage* process();
  /// Sets the process's configuration (before the first process() call has any effect).
  /// Errors: kUsage for a configuration that does not parse.
  static Status configure(std::string_view config);

  explicit RemoteStorage(std::vector<RemoteSpec> specs);
  ~RemoteStorage();
  RemoteStorage(const RemoteStorage&) = delete;
  RemoteStorage& operator=(const RemoteStorage&) = delete;

  /// An entry as fetched: the unwrapped bytes and the back end (index) that served them.
  struct Fetched {
    std::string entry;
    size_t source = 0;
  };
  /// Checks (and may rewrite) the entry fetched for names[index]; an error makes it a miss,
  /// counted as corrupt and warned about, and the next back end is asked.
  using Verify = std::function<Status(size_t index, std::string& entry)>;
  /// Entries for `names`, in order, or nullopt (absent everywhere, a transport failure, a
  /// blob whose signature fails or an entry `verify` refuses: counted and warned about).
  /// Names from index `essential` on are speculative: asked only of back ends with cheap
  /// batches, since a request per name would cost more than the hits save.
  std::vector<std::optional<Fetched>> get(const std::vector<std::string>& names,
                                          const Verify& verify, size_t essential = SIZE_MAX);
  /// Queues `entry` under `name` for every writable back end; returns at once.
  void put(const std::string& name, std::string_view entry);
  /// Stores synchronously (for `tierjit cache push`). Errors: the first transport failure.
  Status put_now(const std::vector<std::pair<std::string, std::string>>& entries);
  /// Waits up to `timeout_ms` (-1: TIERJIT_REMOTE_FLUSH_MS, default 2000) for queued uploads;
  /// what is left is dropped and counted. Later put()s are dropped: call once, at the end.
  void flush(int timeout_ms = -1);
  /// Names stored in the first back end that can list them. Errors: kUnsupported, transport.
  Expected<std::vector<std::string>> list();
  /// Round-trip time to each back end in ms, or the error.
  std::vector<std::pair<std::string, Expected<double>>> ping();

  const std::vector<RemoteSpec>& specs() const;
  bool signing() const;
  /// Cumulative counters per back end, in configuration order.
  std::vector<RemoteCounters> counters() const;
  /// Counters since the last call (for saving into a cache directory's totals).
  std::vector<RemoteCounters> take_unsaved();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierjit
