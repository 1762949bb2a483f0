// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The guest's system calls: an allowlist over the Linux riscv64 system-call ABI (ecall with the
// number in a7, arguments in a0-a5, the result or -errno in a0; numbers from the kernel's
// generic unistd.h), so the same ELF runs under qemu-riscv64. Reads of stdin only when
// allowed, writes to stdout/stderr through the embedder's sink, files the embedder granted
// (read-only), brk, the clocks and exit. Anything else is a host call (500..599, host_calls.cpp)
// or stops the guest with a fault that names it.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>

#include "sandbox/machine.hpp"

namespace tierjit::sandbox {
namespace {

using Impl = Sandbox::Impl;

// Linux errno values (asm-generic/errno-base.h, errno.h).
constexpr int64_t kEPERM = 1, kENOENT = 2, kEBADF = 9, kEAGAIN = 11, kENOMEM = 12, kEACCES = 13,
                  kEFAULT = 14, kEINVAL = 22, kEMFILE = 24, kENOTTY = 25, kESPIPE = 29,
                  kENOSYS = 38;

// A guest descriptor made by dup/dup3 of a standard stream k maps to kStreamMarker - k instead
// of a host descriptor; fds 0-2 that were never replaced are the streams themselves.
constexpr int kStreamMarker = -1000;

// The standard stream (0-2) guest fd `fd` refers to, or -1 (a file, or not open).
int stream_of(const Impl& m, int64_t fd) {
  auto it = m.open_files.find(fd);
  if (it == m.open_files.end()) return fd >= 0 && fd <= 2 ? static_cast<int>(fd) : -1;
  return it->second <= kStreamMarker ? kStreamMarker - it->second : -1;
}
// The host descriptor of an open guest file, or -1.
int host_file(const Impl& m, int64_t fd) {
  auto it = m.open_files.find(fd);
  return it == m.open_files.end() || it->second < 0 ? -1 : it->second;
}
// The lowest free guest descriptor from 3 up (Linux hands out the lowest).
int64_t free_fd(const Impl& m) {
  int64_t fd = 3;
  while (m.open_files.count(fd)) ++fd;
  return fd;
}

int64_t sys_read(Impl& m, const uint64_t* a) {
  int host_fd = host_file(m, static_cast<int64_t>(a[0]));
  if (stream_of(m, static_cast<int64_t>(a[0])) == 0 && m.limits.allow_stdin) host_fd = 0;
  if (host_fd < 0) return -kEBADF;
  if (!m.can_write(a[1], a[2])) return -kEFAULT;
  ssize_t got = ::read(host_fd, m.mem + a[1], a[2]);
  return got < 0 ? -kEFAULT : got;
}

// Reads a NUL-terminated guest string of at most 4095 bytes; false when it leaves memory.
bool guest_string(Impl& m, uint64_t at, std::string* out) {
  for (uint64_t i = 0; i < 4096; ++i) {
    if (!m.can_read(at + i, 1)) return false;
    char c = static_cast<char>(m.mem[at + i]);
    if (c == 0) return true;
    out->push_back(c);
  }
  return false;
}

// Granted files only, read-only, by exact path; any other path does not exist for the guest
// (ENOENT); a granted file opened for writing is EACCES.
std::optional<int64_t> sys_openat(Impl& m, const uint64_t* a) {
  std::string path;
  if (!guest_string(m, a[1], &path)) return -kEFAULT;
  if (m.open_files.size() >= 64) return -kEMFILE;
  // The access mode and the flags that mean something for a plain file (the asm-generic
  // values, the same as x86-64's); everything else the guest asked is dropped.
  int flags = int(a[2]) & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_DIRECTORY);
  int host_fd = m.open_granted(path, flags, unsigned(a[3]));
  if (host_fd < 0) return host_fd;
  int64_t fd = free_fd(m);
  m.open_files[fd] = host_fd;
  return fd;
}

// dup (23) and dup3 (24): of a granted file (a host dup) or of a standard stream (a marker),
// so that freopen() of stdout onto a file, and the saving and restoring of stdout around it,
// work as on Linux.
int64_t sys_dup(Impl& m, const uint64_t* a, bool to_target) {
  int64_t old = static_cast<int64_t>(a[0]);
  int value;
  if (int s = stream_of(m, old); s >= 0) {
    value = kStreamMarker - s;
  } else if (int h = host_file(m, old); h >= 0) {
    value = -1;  // duplicated below, once the target is known to be valid
  } else {
    return -kEBADF;
  }
  int64_t target = to_target ? static_cast<int64_t>(a[1]) : free_fd(m);
  if (to_target && target == old) return -kEINVAL;
  if (target < 0 || target >= 1024) return -kEBADF;
  if (!m.open_files.count(target) && m.open_files.size() >= 64) return -kEMFILE;
  if (value == -1) {
    value = ::fcntl(host_file(m, old), F_DUPFD_CLOEXEC, 0);
    if (value < 0) return -kEMFILE;
  }
  if (int h = host_file(m, target); h >= 0) ::close(h);
  m.open_files[target] = value;
  return target;
}

// Writes [at, at+n) of guest memory to guest fd `fd`: a granted file under a writable grant, or
// stdout/stderr (the output sink).
int64_t write_fd(Impl& m, int64_t fd, uint64_t at, uint64_t n) {
  if (!m.can_read(at, n)) return -kEFAULT;
  if (int h = host_file(m, fd); h >= 0) {
    ssize_t w = ::write(h, m.mem + at, n);
    return w < 0 ? -errno : w;
  }
  int s = stream_of(m, fd);
  if (s != 1 && s != 2) return -kEBADF;
  m.output(s, std::string_view(reinterpret_cast<char*>(m.mem + at), n));
  return static_cast<int64_t>(n);
}

int64_t sys_write(Impl& m, const uint64_t* a) {
  return write_fd(m, static_cast<int64_t>(a[0]), a[1], a[2]);
}

int64_t sys_writev(Impl& m, const uint64_t* a) {
  if (a[2] > 1024 || !m.can_read(a[1], a[2] * 16)) return -kEFAULT;
  int64_t total = 0;
  for (uint64_t i = 0; i < a[2]; ++i) {
    uint64_t iov[2];
    std::memcpy(iov, m.mem + a[1] + i * 16, 16);
    int64_t r = write_fd(m, static_cast<int64_t>(a[0]), iov[0], iov[1]);
    if (r < 0) return total > 0 ? total : r;
    total += r;
  }
  return total;
}

int64_t sys_close(Impl& m, const uint64_t* a) {
  auto it = m.open_files.find(static_cast<int64_t>(a[0]));
  if (it == m.open_files.end()) return a[0] <= 2 ? 0 : -kEBADF;
  if (it->second >= 0) ::close(it->second);
  m.open_files.erase(it);
  return 0;
}

int64_t sys_lseek(Impl& m, const uint64_t* a) {
  auto it = m.open_files.find(static_cast<int64_t>(a[0]));
  if (stream_of(m, static_cast<int64_t>(a[0])) >= 0) return -kESPIPE;
  if (it == m.open_files.end()) return -kEBADF;
  if (a[2] > 2) return -kEINVAL;
  off_t r = ::lseek(it->second, static_cast<off_t>(a[1]), static_cast<int>(a[2]));
  return r < 0 ? -kEINVAL : r;
}

// Returns the new break, or the old one when the request is refused.
int64_t sys_brk(Impl& m, const uint64_t* a) {
  uint64_t want = a[0];
  if (want >= m.brk_lo && want <= m.brk_max) {
    if (m.mmap_lo == m.map_top && !m.set_heap_hi(want)) return static_cast<int64_t>(m.brk);
    if (want > m.brk_high)
      m.brk_high = want;
    else if (want > m.brk)
      std::memset(m.mem + m.brk, 0, want - m.brk);  // regrown memory is zero
    m.brk = want;
  }
  return static_cast<int64_t>(m.brk);
}

// Anonymous private mappings only, taken downward from the top of the heap area; a hint is
// ignored (no MAP_FIXED). munmap returns the lowest mapping's pages for reuse, others stay.
int64_t sys_mmap(Impl& m, const uint64_t* a) {
  constexpr uint64_t kMapPrivate = 0x02, kMapFixed = 0x10, kMapAnonymous = 0x20;
  uint64_t len = (a[1] + 4095) & ~uint64_t{4095};
  if (a[1] == 0 || len < a[1]) return -kEINVAL;
  if (!(a[3] & kMapAnonymous) || !(a[3] & kMapPrivate)) return -19;  // ENODEV: no file mappings
  if (a[3] & kMapFixed) return -kENOMEM;
  uint64_t floor = (m.brk_high + 4095) & ~uint64_t{4095};
  if (len > m.mmap_lo || m.mmap_lo - len < floor) return -kENOMEM;
  uint64_t at = m.mmap_lo - len;
  if (!m.set_heap_hi(m.map_top)) return -kENOMEM;
  std::memset(m.mem + at, 0, len);
  m.mmap_lo = m.brk_max = at;
  return static_cast<int64_t>(at);
}

int64_t sys_munmap(Impl& m, const uint64_t* a) {
  uint64_t len = (a[1] + 4095) & ~uint64_t{4095};
  if ((a[0] & 4095) != 0 || a[1] == 0) return -kEINVAL;
  if (a[0] == m.mmap_lo && len <= m.map_top - m.mmap_lo) m.mmap_lo = m.brk_max = a[0] + len;
  return 0;
}

// struct utsname: six fields of 65 bytes.
int64_t sys_uname(Impl& m, const uint64_t* a) {
  if (!m.can_write(a[0], 6 * 65)) return -kEFAULT;
  const char* fields[6] = {"Linux", "tierjit", "6.1.0", "#1 tierjit sandbox", "riscv64", ""};
  std::memset(m.mem + a[0], 0, 6 * 65);
  for (int i = 0; i < 6; ++i) std::memcpy(m.mem + a[0] + 65 * i, fields[i], std::strlen(fields[i]));
  return 0;
}

// prlimit64(pid, resource, new, old): the old limits of the guest's own process; new ones
// cannot be set.
int64_t sys_prlimit64(Impl& m, const uint64_t* a) {
  if (a[0] != 0 && a[0] != 1) return -kEPERM;
  if (a[2] != 0) return -kEPERM;
  if (a[3] != 0) {
    if (!m.can_write(a[3], 16)) return -kEFAULT;
    uint64_t lim[2] = {~uint64_t{0}, ~uint64_t{0}};            // RLIM_INFINITY
    if (a[1] == 3) lim[0] = lim[1] = m.mem_size - m.stack_lo;  // RLIMIT_STACK
    if (a[1] == 9) lim[0] = lim[1] = m.mem_size;               // RLIMIT_AS
    if (a[1] == 7) lim[0] = lim[1] = 64;                       // RLIMIT_NOFILE
    std::memcpy(m.mem + a[3], lim, 16);
  }
  return 0;
}

int64_t sys_getrandom(Impl& m, const uint64_t* a) {
  if (a[1] > (1u << 25) || !m.can_write(a[0], a[1])) return -kEFAULT;
  // Deterministic, as AT_RANDOM is: the same run gives the same bytes (splitmix64).
  for (uint64_t i = 0; i < a[1]; ++i) {
    uint64_t z = (m.random_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    m.mem[a[0] + i] = static_cast<uint8_t>(z ^ (z >> 31));
  }
  return static_cast<int64_t>(a[1]);
}

// struct stat of asm-generic (riscv64), 128 bytes, for a host stat result.
void put_stat(Impl& m, uint64_t at, const struct stat& st) {
  uint8_t b[128] = {};
  auto put = [&](size_t off, uint64_t v, size_t n) { std::memcpy(b + off, &v, n); };
  put(0, st.st_dev, 8);
  put(8, st.st_ino, 8);
  put(16, st.st_mode, 4);
  put(20, st.st_nlink, 4);
  put(24, 1000, 4);  // uid
  put(28, 1000, 4);  // gid
  put(32, st.st_rdev, 8);
  put(48, uint64_t(st.st_size), 8);
  put(56, uint64_t(st.st_blksize), 4);
  put(64, uint64_t(st.st_blocks), 8);
  put(72, uint64_t(st.st_atim.tv_sec), 8);
  put(80, uint64_t(st.st_atim.tv_nsec), 8);
  put(88, uint64_t(st.st_mtim.tv_sec), 8);
  put(96, uint64_t(st.st_mtim.tv_nsec), 8);
  put(104, uint64_t(st.st_ctim.tv_sec), 8);
  put(112, uint64_t(st.st_ctim.tv_nsec), 8);
  std::memcpy(m.mem + at, b, sizeof b);
}

// fstat: the standard streams are pipes to the guest (not terminals); granted files are
// the host's.
int64_t sys_fstat(Impl& m, int64_t fd, uint64_t at) {
  if (!m.can_write(at, 128)) return -kEFAULT;
  struct stat st {};
  if (stream_of(m, fd) >= 0) {
    st.st_mode = S_IFIFO | 0600;
    st.st_blksize = 4096;
    st.st_nlink = 1;
  } else if (auto it = m.open_files.find(fd); it != m.open_files.end()) {
    if (::fstat(it->second, &st) != 0) return -kEBADF;
  } else {
    return -kEBADF;
  }
  put_stat(m, at, st);
  return 0;
}

// newfstatat(dirfd, path, buf, flags): AT_EMPTY_PATH on a descriptor, or a granted path.
int64_t sys_newfstatat(Impl& m, const uint64_t* a) {
  std::string path;
  if (!guest_string(m, a[1], &path)) return -kEFAULT;
  if (path.empty() && (a[3] & 0x1000)) return sys_fstat(m, static_cast<int64_t>(a[0]), a[2]);
  if (!m.can_write(a[2], 128)) return -kEFAULT;
  int fd = m.open_granted(path, O_PATH);
  if (fd < 0) return fd;
  struct stat st {};
  int rc = ::fstat(fd, &st);
  ::close(fd);
  if (rc != 0) return -kENOENT;
  put_stat(m, a[2], st);
  return 0;
}

int64_t sys_readv(Impl& m, const uint64_t* a) {
  if (a[2] > 1024 || !m.can_read(a[1], a[2] * 16)) return -kEFAULT;
  int64_t total = 0;
  for (uint64_t i = 0; i < a[2]; ++i) {
    uint64_t iov[2];
    std::memcpy(iov, m.mem + a[1] + i * 16, 16);
    uint64_t one[3] = {a[0], iov[0], iov[1]};
    int64_t got = sys_read(m, one);
    if (got < 0) return total ? total : got;
    total += got;
    if (uint64_t(got) < iov[1]) break;
  }
  return total;
}

int64_t sys_rt_sigaction(Impl& m, const uint64_t* a) {
  if (a[2] != 0) {  // the old action: none installed
    if (!m.can_write(a[2], 32)) return -kEFAULT;
    std::memset(m.mem + a[2], 0, 32);
  }
  return 0;
}

int64_t sys_rt_sigprocmask(Impl& m, const uint64_t* a) {
  if (a[2] != 0) {
    if (!m.can_write(a[2], 8)) return -kEFAULT;
    std::memset(m.mem + a[2], 0, 8);
  }
  return 0;
}

// futex for a single-threaded guest: nothing ever waits on another thread.
int64_t sys_futex(Impl&, const uint64_t* a) {
  int op = static_cast<int>(a[1] & 0x7f);   // without FUTEX_PRIVATE_FLAG
  if (op == 0 || op == 9) return -kEAGAIN;  // FUTEX_WAIT(_BITSET): the value already changed
  return 0;                                 // wakes: nobody to wake
}

int64_t sys_clock_gettime(Impl& m, const uint64_t* a) {
  // REALTIME, MONOTONIC, PROCESS/THREAD_CPUTIME, MONOTONIC_RAW, *_COARSE, BOOTTIME: the
  // host's clock of the same number (the guest's CPU time is the host process's).
  if (a[0] > 7) return -kEINVAL;
  if (!m.can_write(a[1], 16)) return -kEFAULT;
  timespec ts{};
  ::clock_gettime(static_cast<clockid_t>(a[0]), &ts);
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

// Runs `op(parent directory fd, last component)` for the guest path at `at` beneath a
// writable grant; 0 or -errno.
template <typename Op>
int64_t at_parent(Impl& m, uint64_t at, Op op) {
  std::string path, name;
  if (!guest_string(m, at, &path)) return -kEFAULT;
  int dir = m.open_granted_parent(path, &name);
  if (dir < 0) return dir;
  int rc = op(dir, name.c_str());
  int e = errno;
  ::close(dir);
  return rc == 0 ? 0 : -e;
}

// The result of Linux system call `n`, or nothing when the sandbox does not serve it.
// Numbers: the kernel's asm-generic/unistd.h (riscv64).
std::optional<int64_t> linux_syscall(Impl& m, uint64_t n, const uint64_t* a) {
  switch (n) {
    case 96:   // set_tid_address: the guest is thread 1 of process 1
    case 172:  // getpid
    case 178:  // gettid
      return 1;
    case 173:  // getppid
      return 0;
    case 174:  // getuid
    case 175:  // geteuid
    case 176:  // getgid
    case 177:  // getegid
      return 1000;
    case 99:   // set_robust_list
    case 124:  // sched_yield
    case 226:  // mprotect: guest memory has one protection per area
      return 0;
    case 293:  // rseq: glibc runs without it
      return -kENOSYS;
    case 222:
      return sys_mmap(m, a);
    case 215:
      return sys_munmap(m, a);
    case 160:
      return sys_uname(m, a);
    case 261:
      return sys_prlimit64(m, a);
    case 278:
      return sys_getrandom(m, a);
    case 80:
      return sys_fstat(m, static_cast<int64_t>(a[0]), a[1]);
    case 79:
      return sys_newfstatat(m, a);
    case 65:
      return sys_readv(m, a);
    case 134:
      return sys_rt_sigaction(m, a);
    case 135:
      return sys_rt_sigprocmask(m, a);
    case 98:
      return sys_futex(m, a);
    case 29:  // ioctl: no descriptor is a terminal (TCGETS and the rest)
      return -kENOTTY;
    case 179: {  // sysinfo (struct sysinfo, 112 bytes): the guest's memory, one process
      if (!m.can_write(a[0], 112)) return -kEFAULT;
      uint8_t b[112] = {};
      timespec ts{};
      ::clock_gettime(CLOCK_MONOTONIC, &ts);
      uint64_t uptime = uint64_t(ts.tv_sec), total = m.mem_size, free = m.mmap_lo - m.brk;
      uint16_t procs = 1;
      uint32_t unit = 1;
      std::memcpy(b, &uptime, 8);
      std::memcpy(b + 32, &total, 8);
      std::memcpy(b + 40, &free, 8);
      std::memcpy(b + 80, &procs, 2);
      std::memcpy(b + 104, &unit, 4);
      std::memcpy(m.mem + a[0], b, sizeof b);
      return 0;
    }
    case 35:  // unlinkat(dirfd, path, flags): beneath a writable grant
      return at_parent(m, a[1], [&](int dir, const char* name) {
        return ::unlinkat(dir, name, int(a[2]) & AT_REMOVEDIR);
      });
    case 34:  // mkdirat(dirfd, path, mode): beneath a writable grant
      return at_parent(m, a[1], [&](int dir, const char* name) {
        return ::mkdirat(dir, name, mode_t(a[2] & 0777));
      });
    case 46: {  // ftruncate
      auto it = m.open_files.find(static_cast<int64_t>(a[0]));
      if (it == m.open_files.end()) return -kEBADF;
      return ::ftruncate(it->second, off_t(a[1])) == 0 ? 0 : -errno;
    }
    case 82:  // fsync
    case 83:  // fdatasync
      return m.open_files.count(static_cast<int64_t>(a[0])) || a[0] <= 2 ? 0 : -kEBADF;
    case 216:  // mremap: mappings do not move (glibc's realloc then copies)
      return -kENOMEM;
    case 78:  // readlinkat: there is no /proc and no symbolic link in the guest's view
      return -kENOENT;
    case 48: {  // faccessat: granted files are readable, nothing else exists
      std::string path;
      if (!guest_string(m, a[1], &path)) return -kEFAULT;
      int fd = m.open_granted(path, O_PATH);
      if (fd < 0) return fd;
      ::close(fd);
      return (a[2] & 2) ? -kEACCES : 0;  // W_OK
    }
    case 61: {  // getdents64: struct linux_dirent64 is the same on riscv64 and x86-64
      auto it = m.open_files.find(static_cast<int64_t>(a[0]));
      if (it == m.open_files.end()) return -kEBADF;
      if (a[2] > (1u << 20) || !m.can_write(a[1], a[2])) return -kEFAULT;
      long got = ::syscall(SYS_getdents64, it->second, m.mem + a[1], a[2]);
      return got < 0 ? -errno : got;
    }
    case 17:                     // getcwd: "/"
      if (a[1] < 2) return -34;  // ERANGE
      if (!m.can_write(a[0], 2)) return -kEFAULT;
      std::memcpy(m.mem + a[0], "/", 2);
      return 2;
    case 114:  // clock_getres: 1 ns
      if (a[1] != 0) {
        if (!m.can_write(a[1], 16)) return -kEFAULT;
        int64_t v[2] = {0, 1};
        std::memcpy(m.mem + a[1], v, 16);
      }
      return 0;
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
    case 23:
      return sys_dup(m, a, false);
    case 24:
      return sys_dup(m, a, true);
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
  // asm-generic/unistd.h numbers of the calls a guest is likely to make.
  static constexpr struct {
    uint16_t n;
    const char* name;
  } kNames[] = {{17, "getcwd"},
                {23, "dup"},
                {24, "dup3"},
                {25, "fcntl"},
                {29, "ioctl"},
                {35, "unlinkat"},
                {48, "faccessat"},
                {56, "openat"},
                {57, "close"},
                {62, "lseek"},
                {63, "read"},
                {64, "write"},
                {65, "readv"},
                {66, "writev"},
                {67, "pread64"},
                {78, "readlinkat"},
                {79, "fstatat"},
                {80, "fstat"},
                {93, "exit"},
                {94, "exit_group"},
                {96, "set_tid_address"},
                {98, "futex"},
                {99, "set_robust_list"},
                {101, "nanosleep"},
                {113, "clock_gettime"},
                {114, "clock_getres"},
                {124, "sched_yield"},
                {129, "kill"},
                {131, "tgkill"},
                {134, "rt_sigaction"},
                {135, "rt_sigprocmask"},
                {160, "uname"},
                {169, "gettimeofday"},
                {172, "getpid"},
                {173, "getppid"},
                {174, "getuid"},
                {175, "geteuid"},
                {176, "getgid"},
                {177, "getegid"},
                {178, "gettid"},
                {179, "sysinfo"},
                {198, "socket"},
                {203, "connect"},
                {214, "brk"},
                {215, "munmap"},
                {216, "mremap"},
                {220, "clone"},
                {221, "execve"},
                {222, "mmap"},
                {226, "mprotect"},
                {261, "prlimit64"},
                {278, "getrandom"},
                {291, "statx"},
                {293, "rseq"}};
  for (const auto& e : kNames)
    if (e.n == n) return e.name;
  return "";
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
  if (!limits.strict && (n < 500 || n > 599)) {  // Linux's answer for a call it lacks
    result.unimplemented_syscalls++;
    x[10] = static_cast<uint64_t>(-kENOSYS);
    if (limits.trace_syscalls) trace(*this, n, args, -kENOSYS);
    return true;
  }
  const char* nm = syscall_name(n);
  fault(FaultKind::kSyscallDenied, pc, n,
        fmt::format("system call {}{}{}{} is not allowed", n, *nm ? " (" : "", nm, *nm ? ")" : ""));
  return false;
}

}  // namespace tierjit::sandbox
