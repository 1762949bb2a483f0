// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The guest machine's state outside the interpreter: reserving the guest memory, putting
// memory and registers back to the post-load state, the Linux initial stack (argc, argv, envp,
// auxv: the System V ABI's process stack as the Linux riscv64 loader lays it out) and faults.
#include "sandbox/machine.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>

namespace tierjit::sandbox {

Sandbox::Impl::~Impl() {
  close_files();
  for (DirGrant& d : dirs) ::close(d.fd);
  if (mem) ::munmap(mem, mem_size);
}

const Sandbox::Impl::DirGrant* Sandbox::Impl::resolve_granted(const std::string& path,
                                                              std::string* rel) const {
  // Lexical normalization, as the kernel treats "." and ".." of an absolute path ("/.." is
  // "/"); then the longest granted directory that contains it.
  std::vector<std::string> parts;
  for (size_t i = 0; i <= path.size();) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string c = path.substr(i, j - i);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    i = j + 1;
  }
  std::string norm;
  for (const std::string& c : parts) {
    norm.push_back('/');
    norm.append(c);
  }
  if (norm.empty()) norm.push_back('/');
  const DirGrant* best = nullptr;
  for (const DirGrant& d : dirs) {
    bool inside = d.guest == "/" || norm == d.guest ||
                  (norm.size() > d.guest.size() && norm.compare(0, d.guest.size(), d.guest) == 0 &&
                   norm[d.guest.size()] == '/');
    if (inside && (!best || d.guest.size() > best->guest.size())) best = &d;
  }
  if (!best) return nullptr;
  rel->clear();  // beneath the granted directory
  if (norm == best->guest)
    rel->push_back('.');
  else
    *rel = norm.substr(best->guest == "/" ? 1 : best->guest.size() + 1);
  return best;
}

namespace {
// Opens `rel` beneath the directory `dirfd` only: a symbolic link or ".." that would leave it
// fails (EXDEV, reported as EACCES), and /proc magic links are refused.
int open_beneath(int dirfd, const std::string& rel, int flags, unsigned mode) {
  struct open_how how {};
  how.flags = uint64_t(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? (mode & 0777) : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, dirfd, rel.c_str(), &how, sizeof how);
  if (fd >= 0) return int(fd);
  return errno == EXDEV || errno == ELOOP ? -EACCES : -errno;
}

bool writes(int flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)); }
}  // namespace

int Sandbox::Impl::open_granted(const std::string& path, int flags, unsigned mode) {
  if (std::find(readable.begin(), readable.end(), path) != readable.end()) {
    if (writes(flags)) return -EACCES;  // file grants are read-only
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
  }
  std::string rel;
  const DirGrant* g = resolve_granted(path, &rel);
  if (!g) return -ENOENT;
  if (writes(flags) && !g->writable) {
    int probe = open_beneath(g->fd, rel, O_PATH, 0);
    if (probe < 0) return probe;
    ::close(probe);
    return -EACCES;
  }
  return open_beneath(g->fd, rel, flags, mode);
}

int Sandbox::Impl::open_granted_parent(const std::string& path, std::string* name) {
  std::string rel;
  const DirGrant* g = resolve_granted(path, &rel);
  if (!g) return -ENOENT;
  if (!g->writable) return -EACCES;
  size_t slash = rel.rfind('/');
  *name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  if (*name == "." || name->empty()) return -EBUSY;  // the granted directory itself
  std::string parent = slash == std::string::npos ? std::string(1, '.') : rel.substr(0, slash);
  return open_beneath(g->fd, parent, O_PATH | O_DIRECTORY, 0);
}

void Sandbox::Impl::close_files() {
  for (auto& [guest_fd, host_fd] : open_files)
    if (host_fd >= 0) ::close(host_fd);  // negative: a duplicate of a standard stream
  open_files.clear();
}

void Sandbox::Impl::fault(FaultKind kind, uint64_t at_pc, uint64_t addr, std::string message) {
  stop = true;
  pc = at_pc;
  result.reason = StopReason::kFault;
  result.fault = kind;
  result.pc = at_pc;
  result.addr = addr;
  result.message = std::move(message);
}

Status Sandbox::Impl::map_memory() {
  void* p = ::mmap(nullptr, mem_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot reserve {} bytes of guest memory", mem_size));
  mem = static_cast<uint8_t*>(p);
  static_assert(std::is_trivially_copyable_v<Insn>);
  cache_size = (exec_hi - exec_lo) / 2 + 1;
  cache.reset(static_cast<Insn*>(std::calloc(cache_size, sizeof(Insn))));
  if (!cache)
    return make_error(ErrorCode::kIo, fmt::format("cannot allocate the decoded cache for {} bytes "
                                                  "of text",
                                                  exec_hi - exec_lo));
  output = default_output;
  reset();
  return {};
}

bool Sandbox::Impl::set_heap_hi(uint64_t hi) {
  hi = align_up(hi, kPage);
  if (guard_pages && hi != heap_hi) {
    uint64_t lo = std::min(hi, heap_hi), top = std::max(hi, heap_hi);
    if (::mprotect(mem + lo, top - lo, hi > heap_hi ? PROT_READ | PROT_WRITE : PROT_NONE) != 0)
      return false;
  }
  heap_hi = hi;
  return true;
}

void Sandbox::Impl::drop_guard_pages() {
  ::mprotect(mem, mem_size, PROT_READ | PROT_WRITE);
  guard_pages = false;
  guard_refused = true;
}

bool Sandbox::Impl::protect_map() {
  auto protect = [&](uint64_t lo, uint64_t hi, int prot) {
    return lo >= hi || ::mprotect(mem + lo, hi - lo, prot) == 0;
  };
  return protect(0, ro_lo, PROT_NONE) && protect(ro_lo, rw_lo, PROT_READ) &&
         protect(rw_lo, heap_hi, PROT_READ | PROT_WRITE) && protect(heap_hi, stack_lo, PROT_NONE) &&
         protect(stack_lo, mem_size, PROT_READ | PROT_WRITE);
}

void Sandbox::Impl::reset() {
  close_files();
  if (guard_pages) ::mprotect(mem, mem_size, PROT_READ | PROT_WRITE);  // for the image's copy
  ::madvise(mem, mem_size, MADV_DONTNEED);  // private anonymous memory reads back as zeros
  for (const Segment& s : segments) std::memcpy(mem + s.vaddr, s.bytes.data(), s.bytes.size());
  brk = brk_lo;
  brk_high = brk_lo;
  heap_hi = align_up(brk, kPage);
  if (guard_pages && !protect_map()) drop_guard_pages();
  mmap_lo = brk_max = map_top;
  random_state = 0x5a5a5a5a5a5a5a5aull;
  std::memset(x, 0, sizeof x);
  std::memset(f, 0, sizeof f);
  fflags = 0;
  frm = 0;
  reservation = ~0ull;
  pc = entry;
  x[2] = mem_size - 64;
}

bool Sandbox::Impl::setup_stack(const std::vector<std::string>& argv) {
  uint64_t sp = mem_size;
  std::vector<uint64_t> ptrs, envp;
  for (const std::string& a : argv) {
    if (a.size() + 1 > sp - stack_lo - 4096) return false;
    sp -= a.size() + 1;
    std::memcpy(mem + sp, a.c_str(), a.size() + 1);
    ptrs.push_back(sp);
  }
  for (const std::string& e : env) {
    if (e.size() + 1 > sp - stack_lo - 4096) return false;
    sp -= e.size() + 1;
    std::memcpy(mem + sp, e.c_str(), e.size() + 1);
    envp.push_back(sp);
  }
  sp -= 16;  // AT_RANDOM bytes (fixed: the sandbox is deterministic)
  uint64_t random_at = sp;
  for (int i = 0; i < 16; ++i) mem[sp + i] = static_cast<uint8_t>(0x5a ^ i);
  sp &= ~uint64_t{15};
  // argc, argv..., 0, envp: 0, then the auxiliary vector as Linux lays it out (elf.h AT_*
  // numbers): what glibc's and picolibc's start-up code read.
  std::vector<uint64_t> words;
  words.push_back(argv.size());
  for (uint64_t p : ptrs) words.push_back(p);
  words.push_back(0);
  for (uint64_t p : envp) words.push_back(p);
  words.push_back(0);
  const uint64_t auxv[][2] = {
      {3, phdr},        // AT_PHDR
      {4, phent},       // AT_PHENT
      {5, phnum},       // AT_PHNUM
      {6, 4096},        // AT_PAGESZ
      {9, entry},       // AT_ENTRY
      {11, 1000},       // AT_UID
      {12, 1000},       // AT_EUID
      {13, 1000},       // AT_GID
      {14, 1000},       // AT_EGID
      {16, 0x112d},     // AT_HWCAP: the I, M, A, F, D and C extensions (bit = letter - 'a')
      {17, 100},        // AT_CLKTCK
      {23, 0},          // AT_SECURE
      {25, random_at},  // AT_RANDOM
      {31, ptrs.empty() ? 0 : ptrs[0]},  // AT_EXECFN
  };
  for (const auto& kv : auxv)
    if (kv[0] != 3 || phdr != 0) words.insert(words.end(), {kv[0], kv[1]});
  words.insert(words.end(), {0, 0});  // AT_NULL
  uint64_t bytes = words.size() * 8;
  if (bytes > sp - stack_lo - 4096) return false;
  sp = (sp - bytes) & ~uint64_t{15};
  std::memcpy(mem + sp, words.data(), bytes);
  x[2] = sp;
  return true;
}

}  // namespace tierjit::sandbox
