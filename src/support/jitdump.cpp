// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "support/jitdump.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tierjit {

namespace {

constexpr uint32_t kMagic = 0x4A695444;  // 'JiTD'
constexpr uint32_t kVersion = 1;
enum RecordId : uint32_t { kCodeLoad = 0, kDebugInfo = 2 };

struct FileHeader {
  uint32_t magic, version, total_size, elf_mach, pad1, pid;
  uint64_t timestamp, flags;
};
struct RecordHeader {
  uint32_t id, total_size;
  uint64_t timestamp;
};
struct CodeLoad {
  uint32_t pid, tid;
  uint64_t vma, code_addr, code_size, code_index;
};
struct DebugInfo {
  uint64_t code_addr, nr_entry;
};
struct DebugEntry {
  uint64_t addr;
  uint32_t line, discriminator;
};

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

std::atomic<JitDump*> g_dump{nullptr};
std::mutex g_enable_mu;

// mkdir -p.
bool make_dirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i)
    if (i == dir.size() || dir[i] == '/') {
      std::string prefix = dir.substr(0, i);
      if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return false;
    }
  return true;
}

}  // namespace

Expected<JitDump*> JitDump::enable(const std::string& dir) {
  std::lock_guard<std::mutex> lock(g_enable_mu);
  if (JitDump* d = g_dump.load(std::memory_order_acquire)) return d;
  auto* d = new JitDump();  // lives as long as the process: code may be loaded until exit
  if (Status s = d->open(dir); !s.ok()) {
    delete d;
    return s.take_error();
  }
  g_dump.store(d, std::memory_order_release);
  return d;
}

JitDump* JitDump::get() {
  static const bool from_env = [] {
    const char* v = std::getenv("TIERJIT_PERF_JITDUMP");
    if (v && *v && std::strcmp(v, "0") != 0) {
      auto d = enable(std::strcmp(v, "1") == 0 ? "" : v);
      if (!d.ok())
        std::fprintf(stderr, "tierjit: warning: TIERJIT_PERF_JITDUMP: %s\n",
                     d.error().to_string().c_str());
    }
    return true;
  }();
  (void)from_env;
  return g_dump.load(std::memory_order_acquire);
}

Status JitDump::open(const std::string& given) {
  std::string dir = given;
  if (dir.empty()) {
    const char* env = std::getenv("JITDUMPDIR");
    const char* home = std::getenv("HOME");
    dir = env && *env ? env : std::string(home && *home ? home : "/tmp") + "/.debug/jit";
  }
  if (!make_dirs(dir))
    return make_error(ErrorCode::kIo,
                      "jitdump: cannot create '" + dir + "': " + std::strerror(errno));
  path_ = dir + "/jit-" + std::to_string(::getpid()) + ".dump";
  int fd = ::open(path_.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(ErrorCode::kIo,
                      "jitdump: cannot write '" + path_ + "': " + std::strerror(errno));
  // The marker perf record looks for: one executable, never writable, mapping of the file.
  long page = ::sysconf(_SC_PAGESIZE);
  void* marker = ::mmap(nullptr, size_t(page), PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
  if (marker == MAP_FAILED) {
    int err = errno;
    ::close(fd);
    return make_error(ErrorCode::kIo, "jitdump: cannot map '" + path_ + "': " + std::strerror(err));
  }
  file_ = ::fdopen(fd, "wb");
  if (!file_) {
    ::close(fd);
    return make_error(ErrorCode::kIo, "jitdump: cannot open '" + path_ + "'");
  }
  FileHeader h{kMagic,   kVersion, sizeof(FileHeader), EM_X86_64, 0, uint32_t(::getpid()),
               now_ns(), 0};
  write(&h, sizeof h);
  std::fflush(file_);
  return {};
}

void JitDump::write(const void* data, size_t n) { std::fwrite(data, 1, n, file_); }

uint64_t JitDump::loads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return index_;
}

void JitDump::code_load(std::string_view name, uint64_t address, const void* code, uint64_t size,
                        const std::vector<Line>& lines) {
  uint32_t tid = uint32_t(::syscall(SYS_gettid));
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t ts = now_ns();
  if (!lines.empty()) {
    size_t total = sizeof(RecordHeader) + sizeof(DebugInfo);
    for (const Line& l : lines) total += sizeof(DebugEntry) + l.file.size() + 1;
    RecordHeader rh{kDebugInfo, uint32_t(total), ts};
    DebugInfo di{address, lines.size()};
    write(&rh, sizeof rh);
    write(&di, sizeof di);
    for (const Line& l : lines) {
      DebugEntry e{l.address, l.line, l.discriminator};
      write(&e, sizeof e);
      write(l.file.c_str(), l.file.size() + 1);
    }
  }
  RecordHeader rh{kCodeLoad,
                  uint32_t(sizeof(RecordHeader) + sizeof(CodeLoad) + name.size() + 1 + size), ts};
  CodeLoad cl{uint32_t(::getpid()), tid, address, address, size, index_++};
  write(&rh, sizeof rh);
  write(&cl, sizeof cl);
  write(name.data(), name.size());
  write("", 1);
  write(code, size);
  std::fflush(file_);  // a crash must not lose the code already running
}

}  // namespace tierjit
