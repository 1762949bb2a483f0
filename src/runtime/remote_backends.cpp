// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Remote storage transports: Redis (hiredis), HTTP (libcurl, loaded on first use) and a
// shared directory. Each moves opaque named blobs; signing and verification are the caller's.
#include <curl/curl.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <cstring>
#include <filesystem>
#include <mutex>

#include "runtime/remote_storage.hpp"
#include "support/file.hpp"

namespace tierjit {
namespace {

timeval to_timeval(int ms) { return timeval{ms / 1000, (ms % 1000) * 1000}; }

// A transport failure (kIo: the circuit breaker opens) or a server's refusal of one request
// (kUnsupported: counted, the back end stays in use), as RemoteStorage tells them apart.
Error transport(const std::string& why) { return make_error(ErrorCode::kIo, why); }
Error refusal(const std::string& why) { return make_error(ErrorCode::kUnsupported, why); }

// The largest blob a back end will hand over (a hostile server must not exhaust memory).
constexpr size_t kMaxBlobBytes = size_t(1) << 30;

// hiredis writes with write(2): a connection the server closed would raise SIGPIPE, whose
// default action ends the process. SIGPIPE is blocked on this thread while a request runs, and
// one it raised is consumed before the mask is restored.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
  }
  ~SigpipeGuard() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    if (!was_pending_) {
      timespec zero{0, 0};
      while (sigtimedwait(&pipe, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

// ---- Redis -------------------------------------------------------------------------------
// GET many = MGET in chunks; PUT many = pipelined SETs; list = SCAN MATCH. A failed request
// drops the connection: the next one reconnects (after the breaker lets it).
class RedisBackend final : public RemoteBackend {
 public:
  explicit RedisBackend(RemoteSpec spec) : spec_(std::move(spec)) {
    key_prefix_ = "tierjit:" + (spec_.prefix.empty() ? std::string() : spec_.prefix + ":");
  }
  ~RedisBackend() override { drop(); }

  Expected<std::vector<std::optional<std::string>>> get(
      const std::vector<std::string>& names) override {
    SigpipeGuard guard;
    TJ_TRY(connect());
    // MGETs of at most kChunk keys, pipelined: one round trip for the whole batch.
    constexpr size_t kChunk = 256;
    size_t chunks = 0;
    for (size_t at = 0; at < names.size(); at += kChunk, ++chunks) {
      std::vector<std::string> keys;
      for (size_t i = at; i < std::min(names.size(), at + kChunk); ++i)
        keys.push_back(key_prefix_ + names[i]);
      std::vector<const char*> argv = {"MGET"};
      std::vector<size_t> len = {4};
      for (const std::string& k : keys) {
        argv.push_back(k.data());
        len.push_back(k.size());
      }
      if (redisAppendCommandArgv(ctx_, int(argv.size()), argv.data(), len.data()) != REDIS_OK)
        return fail().take_error();
    }
    std::vector<std::optional<std::string>> out;
    for (size_t c = 0; c < chunks; ++c) {
      void* reply = nullptr;
      if (redisGetReply(ctx_, &reply) != REDIS_OK) return fail().take_error();
      auto* r = static_cast<redisReply*>(reply);
      size_t want = std::min(kChunk, names.size() - c * kChunk);
      if (r->type != REDIS_REPLY_ARRAY || r->elements != want) {
        freeReplyObject(r);
        drop();
        return transport("unexpected reply to MGET");
      }
      for (size_t i = 0; i < r->elements; ++i) {
        redisReply* e = r->element[i];
        if (e->type == REDIS_REPLY_STRING) {
          out.emplace_back(std::string(e->str, e->len));
        } else {
          out.emplace_back(std::nullopt);
        }
      }
      freeReplyObject(r);
    }
    return out;
  }

  Status put(const std::vector<std::pair<std::string, std::string>>& blobs) override {
    SigpipeGuard guard;
    TJ_TRY(connect());
    for (const auto& [name, bytes] : blobs) {
      std::string key = key_prefix_ + name;
      const char* argv[3] = {"SET", key.data(), bytes.data()};
      size_t len[3] = {3, key.size(), bytes.size()};
      if (redisAppendCommandArgv(ctx_, 3, argv, len) != REDIS_OK) return fail();
    }
    Status result;
    for (size_t i = 0; i < blobs.size(); ++i) {
      void* reply = nullptr;
      if (redisGetReply(ctx_, &reply) != REDIS_OK) return fail();
      auto* r = static_cast<redisReply*>(reply);
      if (r->type == REDIS_REPLY_ERROR && result.ok())  // e.g. OOM, READONLY
        result = refusal("SET refused: " + std::string(r->str, r->len));
      freeReplyObject(r);
    }
    return result;
  }

  Expected<std::vector<std::string>> list() override {
    SigpipeGuard guard;
    TJ_TRY(connect());
    std::vector<std::string> names;
    std::string cursor = "0";
    do {
      TJ_ASSIGN_OR_RETURN(redisReply * r,
                          command({"SCAN", cursor, "MATCH", key_prefix_ + "*", "COUNT", "1000"}));
      if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
          r->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        drop();
        return transport("unexpected reply to SCAN");
      }
      if (!r->element[0]->str) {
        freeReplyObject(r);
        drop();
        return transport("unexpected reply to SCAN");
      }
      cursor.assign(r->element[0]->str, r->element[0]->len);
      for (size_t i = 0; i < r->element[1]->elements; ++i) {
        redisReply* e = r->element[1]->element[i];
        if (!e->str || e->len < key_prefix_.size()) continue;
        std::string key(e->str, e->len);
        std::string name = key.substr(key_prefix_.size());
        if (name.find(':') == std::string::npos) names.push_back(std::move(name));
      }
      freeReplyObject(r);
    } while (cursor != "0");
    return names;
  }

  Status ping() override {
    SigpipeGuard guard;
    TJ_TRY(connect());
    TJ_ASSIGN_OR_RETURN(redisReply * r, command({"PING"}));
    freeReplyObject(r);
    return {};
  }

 private:
  Status connect() {
    if (ctx_) return {};
    ctx_ = redisConnectWithTimeout(spec_.host.c_str(), spec_.port,
                                   to_timeval(spec_.connect_timeout_ms));
    if (!ctx_ || ctx_->err) {
      std::string why = ctx_ ? ctx_->errstr : "out of memory";
      drop();
      return transport("cannot connect: " + why);
    }
    redisSetTimeout(ctx_, to_timeval(spec_.operation_timeout_ms));
    ::fcntl(ctx_->fd, F_SETFD, FD_CLOEXEC);  // not inherited by the programs tierjit starts
    // A connection that failed AUTH or SELECT is never kept: it would use the wrong database.
    auto setup = [&](const std::vector<std::string>& args) -> Status {
      auto r = command(args);
      if (!r.ok()) {
        drop();
        return transport("cannot connect: " + r.error().message);
      }
      freeReplyObject(*r);
      return {};
    };
    if (!spec_.password.empty()) {
      std::vector<std::string> auth = {"AUTH"};
      if (!spec_.user.empty()) auth.push_back(spec_.user);
      auth.push_back(spec_.password);
      TJ_TRY(setup(auth));
    }
    if (spec_.db != 0) TJ_TRY(setup({"SELECT", std::to_string(spec_.db)}));
    return {};
  }

  // One command; an error reply is a failure (the connection is kept).
  Expected<redisReply*> command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> len;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      len.push_back(a.size());
    }
    auto* r =
        static_cast<redisReply*>(redisCommandArgv(ctx_, int(argv.size()), argv.data(), len.data()));
    if (!r) return fail().take_error();
    if (r->type == REDIS_REPLY_ERROR) {
      std::string why(r->str, r->len);
      freeReplyObject(r);
      return refusal(args[0] + " refused: " + why);
    }
    return r;
  }

  Status fail() {
    std::string why = ctx_ && ctx_->err ? ctx_->errstr : "connection lost";
    if (ctx_ && ctx_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
      why = "timed out";
    drop();
    return transport(why);
  }

  void drop() {
    if (ctx_) redisFree(ctx_);
    ctx_ = nullptr;
  }

  RemoteSpec spec_;
  std::string key_prefix_;
  redisContext* ctx_ = nullptr;
};

// ---- libcurl, loaded on first use --------------------------------------------------------
struct Curl {
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  void (*easy_reset)(CURL*);
  void (*easy_cleanup)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

Expected<const Curl*> curl() {
  static Curl api;
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
    void* h = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      error = "http remote storage needs libcurl (Debian: libcurl4): " + std::string(::dlerror());
      return;
    }
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(h, name));
      if (!fn && error.empty()) error = std::string("libcurl lacks ") + name;
    };
    sym(api.global_init, "curl_global_init");
    sym(api.easy_init, "curl_easy_init");
    sym(api.easy_setopt, "curl_easy_setopt");
    sym(api.easy_perform, "curl_easy_perform");
    sym(api.easy_getinfo, "curl_easy_getinfo");
    sym(api.easy_reset, "curl_easy_reset");
    sym(api.easy_cleanup, "curl_easy_cleanup");
    sym(api.easy_strerror, "curl_easy_strerror");
    sym(api.slist_append, "curl_slist_append");
    sym(api.slist_free_all, "curl_slist_free_all");
    if (error.empty()) api.global_init(CURL_GLOBAL_DEFAULT);
  });
  if (!error.empty()) return make_error(ErrorCode::kUnsupported, error);
  return &api;
}

// No exception may cross libcurl's C frames: a body past the cap (or memory running out)
// ends the transfer instead (curl then reports a write error).
size_t append_body(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * n > kMaxBlobBytes) return 0;
  try {
    body->append(data, size * n);
  } catch (...) {
    return 0;
  }
  return size * n;
}

// ---- HTTP --------------------------------------------------------------------------------
// GET URL/[PREFIX/]NAME: 200 is a hit, 404 a miss, anything else an error. PUT stores.
// One easy handle, so requests reuse the connection (HTTP keep-alive).
class HttpBackend final : public RemoteBackend {
 public:
  explicit HttpBackend(RemoteSpec spec) : spec_(std::move(spec)) {}
  ~HttpBackend() override {
    if (handle_) api_->easy_cleanup(handle_);
  }

  Expected<std::vector<std::optional<std::string>>> get(
      const std::vector<std::string>& names) override {
    std::vector<std::optional<std::string>> out;
    for (const std::string& name : names) {
      std::string body;
      TJ_ASSIGN_OR_RETURN(long code, request("GET", name, {}, &body));
      if (code == 200) {
        out.emplace_back(std::move(body));
      } else if (code == 404) {
        out.emplace_back(std::nullopt);
      } else if (code >= 500 || code == 0) {
        return transport("GET " + name + ": HTTP " + std::to_string(code));
      } else {  // 401, 403...: this request refused, the server is there
        return refusal("GET " + name + ": HTTP " + std::to_string(code));
      }
    }
    return out;
  }

  Status put(const std::vector<std::pair<std::string, std::string>>& blobs) override {
    for (const auto& [name, bytes] : blobs) {
      TJ_ASSIGN_OR_RETURN(long code, request("PUT", name, bytes, nullptr));
      if (code >= 500 || code == 0)
        return transport("PUT " + name + ": HTTP " + std::to_string(code));
      if (code != 200 && code != 201 && code != 204)  // 403, 405, 413...
        return refusal("PUT " + name + ": HTTP " + std::to_string(code));
    }
    return {};
  }

  Expected<std::vector<std::string>> list() override {
    return make_error(ErrorCode::kUnsupported, "an http remote cannot list its entries");
  }

  bool cheap_batches() const override { return false; }

  Status ping() override {
    TJ_ASSIGN_OR_RETURN(long code, request("HEAD", "", {}, nullptr));
    (void)code;  // any answer proves the server is there
    return {};
  }

 private:
  std::string url(const std::string& name) const {
    std::string u = spec_.host + "/";
    if (!spec_.prefix.empty()) u += spec_.prefix + "/";
    if (spec_.subdirs && name.size() > 2) u += name.substr(0, 2) + "/";
    return u + name;
  }

  Expected<long> request(const char* method, const std::string& name, std::string_view body,
                         std::string* response) {
    if (!api_) {
      TJ_ASSIGN_OR_RETURN(api_, curl());
    }
    if (!handle_) handle_ = api_->easy_init();
    if (!handle_) return transport("curl_easy_init failed");
    api_->easy_reset(handle_);  // keeps the connection cache
    std::string target = url(name);
    std::string sink;
    api_->easy_setopt(handle_, CURLOPT_URL, target.c_str());
    api_->easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
    api_->easy_setopt(handle_, CURLOPT_CONNECTTIMEOUT_MS, long(spec_.connect_timeout_ms));
    api_->easy_setopt(handle_, CURLOPT_TIMEOUT_MS, long(spec_.operation_timeout_ms));
    api_->easy_setopt(handle_, CURLOPT_WRITEFUNCTION, append_body);
    api_->easy_setopt(handle_, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(kMaxBlobBytes));
    api_->easy_setopt(handle_, CURLOPT_WRITEDATA, response ? response : &sink);
    curl_slist* headers = nullptr;
    if (std::strcmp(method, "PUT") == 0) {
      api_->easy_setopt(handle_, CURLOPT_CUSTOMREQUEST, "PUT");
      api_->easy_setopt(handle_, CURLOPT_POSTFIELDS, body.data());
      api_->easy_setopt(handle_, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
      headers = api_->slist_append(nullptr, "Expect:");  // no 100-continue round trip
      headers = api_->slist_append(headers, "Content-Type: application/octet-stream");
      api_->easy_setopt(handle_, CURLOPT_HTTPHEADER, headers);
    } else if (std::strcmp(method, "HEAD") == 0) {
      api_->easy_setopt(handle_, CURLOPT_NOBODY, 1L);
    }
    CURLcode rc = api_->easy_perform(handle_);
    long code = 0;
    api_->easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &code);
    api_->easy_setopt(handle_, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
    if (headers) api_->slist_free_all(headers);
    if (rc != CURLE_OK) return transport(std::string(method) + ": " + api_->easy_strerror(rc));
    return code;
  }

  RemoteSpec spec_;
  const Curl* api_ = nullptr;
  CURL* handle_ = nullptr;
};

// ---- A shared directory --------------------------------------------------------------------
class FileBackend final : public RemoteBackend {
 public:
  explicit FileBackend(RemoteSpec spec) : spec_(std::move(spec)) {
    root_ = spec_.host + (spec_.prefix.empty() ? "" : "/" + spec_.prefix);
  }

  Expected<std::vector<std::optional<std::string>>> get(
      const std::vector<std::string>& names) override {
    std::vector<std::optional<std::string>> out;  // no directory yet: all misses
    for (const std::string& name : names) {
      std::error_code ec;
      if (std::filesystem::file_size(path(name), ec) > kMaxBlobBytes && !ec) {
        out.emplace_back(std::nullopt);
        continue;
      }
      auto bytes = read_file(path(name));
      if (bytes.ok()) {
        out.emplace_back(std::move(bytes).value());
      } else {
        out.emplace_back(std::nullopt);
      }
    }
    return out;
  }

  Status put(const std::vector<std::pair<std::string, std::string>>& blobs) override {
    for (const auto& [name, bytes] : blobs) {
      std::string p = path(name);
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(p).parent_path(), ec);
      if (ec) return transport("cannot create " + p + ": " + ec.message());
      TJ_TRY(write_file_atomic(p, bytes));
    }
    return {};
  }

  Expected<std::vector<std::string>> list() override {
    std::vector<std::string> names;
    std::error_code ec;
    if (!std::filesystem::is_directory(root_, ec)) return names;
    for (auto it = std::filesystem::recursive_directory_iterator(root_, ec);
         !ec && it != std::filesystem::end(it); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (it->is_regular_file(ec) && name.size() >= 32 && name.find(".tmp") == std::string::npos)
        names.push_back(name);
    }
    return names;
  }

  Status ping() override {
    std::error_code ec;
    if (!std::filesystem::is_directory(spec_.host, ec))
      return transport("no directory " + spec_.host);
    return {};
  }

 private:
  std::string path(const std::string& name) const {
    return root_ + "/" + (spec_.subdirs && name.size() > 2 ? name.substr(0, 2) + "/" : "") + name;
  }
  RemoteSpec spec_;
  std::string root_;
};

}  // namespace

std::unique_ptr<RemoteBackend> make_remote_backend(const RemoteSpec& spec) {
  switch (spec.kind) {
    case RemoteSpec::Kind::kRedis:
      return std::make_unique<RedisBackend>(spec);
    case RemoteSpec::Kind::kHttp:
      return std::make_unique<HttpBackend>(spec);
    case RemoteSpec::Kind::kFile:
      break;
  }
  return std::make_unique<FileBackend>(spec);
}

}  // namespace tierjit
