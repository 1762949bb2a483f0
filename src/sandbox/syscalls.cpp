// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The guest's system calls: an allowlist over the Linux riscv64 system-call ABI (ecall with the
// number in a7, arguments in a0-a5, the result or -errno in a0; numbers from the kernel's
// generic unistd.h), so the same ELF runs under qemu-riscv64. Reads of stdin only when
// allowed, writes to stdout/stderr through the embedder's sink, files the embedder granted
// (read-only), brk, the clocks and exit. Anything else is a host call (500..599, host_calls.cpp)
// or stops the guest with a fault that names it.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>

#include "sandbox/machine.hpp"

namespace tierjit::sandbox {
namespace {

using Impl = Sandbox::Impl;

constexpr int64_t kEBADF = 9, kEACCES = 13, kEFAULT = 14, kEINVAL = 22, kEMFILE = 24, kESPIPE = 29;

int64_t sys_read(Impl& m, const uint64_t* a) {
  int host_fd = -1;
  if (a[0] == 0 && m.limits.allow_stdin) host_fd = 0;
  if (auto it = m.open_files.find(static_cast<int64_t>(a[0])); it != m.open_files.end())
    host_fd = it->second;
  if (host_fd < 0) return -kEBADF;
  if (!m.can_write(a[1], a[2])) return -kEFAULT;
  ssize_t got = ::read(host_fd, m.mem + a[1], a[2]);
  return got < 0 ? -kEFAULT : got;
}

// Granted files only, read-only, by exact path. Not served at all when nothing is granted.
std::optional<int64_t> sys_openat(Impl& m, const uint64_t* a) {
  if (m.readable.empty()) return std::nullopt;
  std::string path;
  for (uint64_t i = 0;; ++i) {
    if (i >= 4096 || !m.can_read(a[1] + i, 1)) return -kEFAULT;
    char c = static_cast<char>(m.mem[a[1] + i]);
    if (c == 0) break;
    path.push_back(c);
  }
  bool granted = std::find(m.readable.begin(), m.readable.end(), path) != m.readable.end();
  if (!granted || (a[2] & 3) != 0 /* O_ACCMODE != O_RDONLY */) return -kEACCES;
  if (m.open_files.size() >= 64) return -kEMFILE;
  int host_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (host_fd < 0) return -kEACCES;
  m.open_files[m.next_fd] = host_fd;
  return m.next_fd++;
}

int64_t sys_write(Impl& m, const uint64_t* a) {
  if (a[0] != 1 && a[0] != 2) return -kEBADF;
  if (!m.can_read(a[1], a[2])) return -kEFAULT;
  m.output(static_cast<int>(a[0]), std::string_view(reinterpret_cast<char*>(m.mem + a[1]), a[2]));
  return static_cast<int64_t>(a[2]);
}

int64_t sys_writev(Impl& m, const uint64_t* a) {
  if (a[0] != 1 && a[0] != 2) return -kEBADF;
  if (a[2] > 1024 || !m.can_read(a[1], a[2] * 16)) return -kEFAULT;
  int64_t total = 0;
  for (uint64_t i = 0; i < a[2]; ++i) {
    uint64_t iov[2];
    std::memcpy(iov, m.mem + a[1] + i * 16, 16);
    if (!m.can_read(iov[0], iov[1])) return -kEFAULT;
    m.output(static_cast<int>(a[0]),
             std::string_view(reinterpret_cast<char*>(m.mem + iov[0]), iov[1]));
    total += static_cast<int64_t>(iov[1]);
  }
  return total;
}

int64_t sys_close(Impl& m, const uint64_t* a) {
  if (a[0] <= 2) return 0;
  auto it = m.open_files.find(static_cast<int64_t>(a[0]));
  if (it == m.open_files.end()) return -kEBADF;
  ::close(it->second);
  m.open_files.erase(it);
  return 0;
}

int64_t sys_lseek(Impl& m, const uint64_t* a) {
  auto it = m.open_files.find(static_cast<int64_t>(a[0]));
  if (it == m.open_files.end()) return a[0] <= 2 ? -kESPIPE : -kEBADF;
  if (a[2] > 2) return -kEINVAL;
  off_t r = ::lseek(it->second, static_cast<off_t>(a[1]), static_cast<int>(a[2]));
  return r < 0 ? -kEINVAL : r;
}

// Returns the new break, or the old one when the request is refused.
int64_t sys_brk(Impl& m, const uint64_t* a) {
  uint64_t want = a[0];
  if (want >= m.brk_lo && want <= m.brk_max) {
    if (want > m.brk_high)
      m.brk_high = want;
    else if (want > m.brk)
      std::memset(m.mem + m.brk, 0, want - m.brk);  // regrown memory is zero
    m.brk = want;
  }
  return static_cast<int64_t>(m.brk);
}

int64_t sys_clock_gettime(Impl& m, const uint64_t* a) {
  if (a[0] > 1) return -kEINVAL;
  if (!m.can_write(a[1], 16)) return -kEFAULT;
  timespec ts{};
  ::clock_gettime(a[0] == 0 ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
  int64_t v[2] = {ts.tv_sec, ts.tv_nsec};
  std::memcpy(m.mem + a[1], v, 16);
  return 0;
}

int64_t sys_gettimeofday(Impl& m, const uint64_t* a) {
  if (a[0] != 0) {
    if (!m.can_write(a[0], 16)) return -kEFAULT;
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    int64_t v[2] = {ts.tv_sec, ts.tv_nsec / 1000};
    std::memcpy(m.mem + a[0], v, 16);
  }
  return 0;
}

// The result of Linux system call `n`, or nothing when the sandbox does not serve it.
std::optional<int64_t> linux_syscall(Impl& m, uint64_t n, const uint64_t* a) {
  switch (n) {
    case 63:
      return sys_read(m, a);
    case 56:
      return sys_openat(m, a);
    case 64:
      return sys_write(m, a);
    case 66:
      return sys_writev(m, a);
    case 57:
      return sys_close(m, a);
    case 62:
      return sys_lseek(m, a);
    case 214:
      return sys_brk(m, a);
    case 113:
      return sys_clock_gettime(m, a);
    case 169:
      return sys_gettimeofday(m, a);
    default:
      return std::nullopt;
  }
}

// --trace-syscalls: one line per served call, with its first three arguments.
void trace(const Impl& m, uint64_t n, const uint64_t (&args)[3], int64_t v) {
  const char* nm = syscall_name(n);
  std::fprintf(stderr, "tierjit: sandbox: pc 0x%llx: %s%s%llu(0x%llx, 0x%llx, 0x%llx) = %lld\n",
               static_cast<unsigned long long>(m.pc), nm, *nm ? "/" : "",
               static_cast<unsigned long long>(n), static_cast<unsigned long long>(args[0]),
               static_cast<unsigned long long>(args[1]), static_cast<unsigned long long>(args[2]),
               static_cast<long long>(v));
}

}  // namespace

void default_output(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

const char* syscall_name(uint64_t n) {
  switch (n) {
    case 17:
      return "getcwd";
    case 25:
      return "fcntl";
    case 29:
      return "ioctl";
    case 35:
      return "unlinkat";
    case 48:
      return "faccessat";
    case 56:
      return "openat";
    case 57:
      return "close";
    case 62:
      return "lseek";
    case 63:
      return "read";
    case 64:
      return "write";
    case 66:
      return "writev";
    case 78:
      return "readlinkat";
    case 79:
      return "fstatat";
    case 80:
      return "fstat";
    case 93:
      return "exit";
    case 94:
      return "exit_group";
    case 96:
      return "set_tid_address";
    case 113:
      return "clock_gettime";
    case 129:
      return "kill";
    case 134:
      return "rt_sigaction";
    case 135:
      return "rt_sigprocmask";
    case 160:
      return "uname";
    case 169:
      return "gettimeofday";
    case 172:
      return "getpid";
    case 198:
      return "socket";
    case 203:
      return "connect";
    case 214:
      return "brk";
    case 215:
      return "munmap";
    case 220:
      return "clone";
    case 221:
      return "execve";
    case 222:
      return "mmap";
    case 226:
      return "mprotect";
    case 261:
      return "prlimit64";
    case 278:
      return "getrandom";
    default:
      return "";
  }
}

bool Sandbox::Impl::syscall() {
  uint64_t n = x[17];
  const uint64_t* a = x + 10;
  if (n == 93 || n == 94) {  // exit, exit_group
    stop = true;
    result.reason = StopReason::kExited;
    result.exit_code = static_cast<int>(a[0] & 0xff);
    result.pc = pc;
    return false;
  }
  uint64_t args[3] = {a[0], a[1], a[2]};
  if (std::optional<int64_t> ret = linux_syscall(*this, n, a)) {
    x[10] = static_cast<uint64_t>(*ret);
    if (limits.trace_syscalls) trace(*this, n, args, *ret);
    return true;
  }
  if (has_host_function(n)) return host_call(n);
  const char* nm = syscall_name(n);
  fault(FaultKind::kSyscallDenied, pc, n,
        fmt::format("system call {}{}{}{} is not allowed", n, *nm ? " (" : "", nm, *nm ? ")" : ""));
  return false;
}

}  // namespace tierjit::sandbox
