// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Sandbox set-up and the guest boundary: ELF loading (LLVM's Object library parses the
// headers; every address is checked here), the memory map, the initial stack, system calls
// and host calls, and the public Sandbox API.
#include "sandbox/machine.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <llvm/Object/ELF.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace tierjit::sandbox {
namespace {

constexpr int64_t kEBADF = 9, kEACCES = 13, kEFAULT = 14, kEINVAL = 22, kEMFILE = 24, kESPIPE = 29;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

void default_output(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

const char* fault_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone:
      return "none";
    case FaultKind::kIllegalInstruction:
      return "illegal-instruction";
    case FaultKind::kLoadFault:
      return "load-fault";
    case FaultKind::kStoreFault:
      return "store-fault";
    case FaultKind::kFetchFault:
      return "fetch-fault";
    case FaultKind::kMisaligned:
      return "misaligned";
    case FaultKind::kStackOverflow:
      return "stack-overflow";
    case FaultKind::kBreakpoint:
      return "breakpoint";
    case FaultKind::kSyscallDenied:
      return "syscall-denied";
    case FaultKind::kHostCallFault:
      return "host-call-fault";
  }
  return "?";
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

std::string describe(const RunResult& r) {
  switch (r.reason) {
    case StopReason::kExited:
      return fmt::format("exited with status {}", r.exit_code);
    case StopReason::kReturned:
      return fmt::format("returned 0x{:x}", r.value);
    case StopReason::kBudget:
      return fmt::format("stopped at pc 0x{:x}: {}", r.pc, r.message);
    case StopReason::kFault:
      return fmt::format("{} at pc 0x{:x}: {}", fault_name(r.fault), r.pc, r.message);
  }
  return "?";
}

Sandbox::Impl::~Impl() {
  close_files();
  if (mem) ::munmap(mem, mem_size);
}

void Sandbox::Impl::close_files() {
  for (auto& [guest_fd, host_fd] : open_files) ::close(host_fd);
  open_files.clear();
  next_fd = 3;
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

Status Sandbox::Impl::load(std::string_view elf) {
  auto bad = [&](std::string what, int64_t offset = -1) {
    SourceLoc loc{name};
    loc.byte_offset = offset;
    return make_error(ErrorCode::kInvalidInput, "not a tierjit guest: " + what, loc);
  };
  if (elf.size() < 64 || std::memcmp(elf.data(),
                                     "\x7f"
                                     "ELF",
                                     4) != 0)
    return bad("no ELF magic", 0);
  if (elf[4] != 2) return bad("not a 64-bit ELF (EI_CLASS)", 4);
  if (elf[5] != 1) return bad("not little-endian (EI_DATA)", 5);
  auto file = llvm::object::ELF64LEFile::create(llvm::StringRef(elf.data(), elf.size()));
  if (!file) return bad(llvm::toString(file.takeError()));
  const auto& hdr = file->getHeader();
  if (hdr.e_machine != llvm::ELF::EM_RISCV) return bad("e_machine is not RISC-V", 18);
  if (hdr.e_type != llvm::ELF::ET_EXEC)
    return bad("not an executable (ET_EXEC); link it statically", 16);
  if (hdr.e_flags & llvm::ELF::EF_RISCV_RVE) return bad("RV64E guests are not supported", 48);
  if (limits.max_memory < (1u << 20) || limits.max_memory > (64ull << 30))
    return make_error(ErrorCode::kUsage, "guest memory limit must be between 1 MiB and 64 GiB");
  if (limits.stack_size < 4096 || limits.stack_size > limits.max_memory / 2)
    return make_error(ErrorCode::kUsage,
                      "guest stack size must be between 4 KiB and half the memory");

  mem_size = align_up(limits.max_memory, 4096);
  stack_lo = mem_size - align_up(limits.stack_size, 16);
  uint64_t image_max = stack_lo - kStackGuard;

  auto phdrs = file->program_headers();
  if (!phdrs) return bad(llvm::toString(phdrs.takeError()), 32);
  uint64_t lo_ro = UINT64_MAX, lo_rw = UINT64_MAX, hi = 0;
  exec_lo = UINT64_MAX;
  exec_hi = 0;
  int index = 0;
  for (const auto& ph : *phdrs) {
    int64_t at = static_cast<int64_t>(hdr.e_phoff + index * hdr.e_phentsize);
    ++index;
    if (ph.p_type == llvm::ELF::PT_INTERP || ph.p_type == llvm::ELF::PT_DYNAMIC)
      return bad(
          fmt::format("program header {} asks for dynamic linking; link statically", index - 1),
          at);
    if (ph.p_type != llvm::ELF::PT_LOAD || ph.p_memsz == 0) continue;
    uint64_t v = ph.p_vaddr, n = ph.p_memsz;
    if (ph.p_filesz > n) return bad(fmt::format("segment {}: p_filesz > p_memsz", index - 1), at);
    if (ph.p_offset > elf.size() || ph.p_filesz > elf.size() - ph.p_offset)
      return bad(fmt::format("segment {}: file range beyond the end of the file", index - 1), at);
    if (v < kNullGuard || v > image_max || n > image_max - v)
      return bad(
          fmt::format("segment {} at 0x{:x}+0x{:x} does not fit the guest memory below the stack "
                      "(0x{:x}..0x{:x}); raise --max-memory",
                      index - 1, v, n, kNullGuard, image_max),
          at);
    bool w = ph.p_flags & llvm::ELF::PF_W, x = ph.p_flags & llvm::ELF::PF_X;
    if (w && x) return bad(fmt::format("segment {} is writable and executable", index - 1), at);
    if (x) {
      if (exec_hi != 0) return bad("more than one executable segment", at);
      exec_lo = v;
      exec_hi = v + n;
    }
    if (w) lo_rw = std::min(lo_rw, v);
    lo_ro = std::min(lo_ro, v);
    hi = std::max(hi, v + n);
    Segment s;
    s.vaddr = v;
    s.memsz = n;
    s.bytes.assign(elf.substr(ph.p_offset, ph.p_filesz));
    segments.push_back(std::move(s));
  }
  if (exec_hi == 0) return bad("no executable segment");
  exec_hi &= ~uint64_t{1};
  for (const Segment& s : segments)
    if (lo_rw != UINT64_MAX && s.vaddr < lo_rw && s.vaddr + s.memsz > lo_rw)
      return bad(fmt::format("read-only segment at 0x{:x} overlaps the writable area", s.vaddr));
  if (lo_rw != UINT64_MAX && exec_hi > lo_rw) return bad("text lies above writable data");
  if (hdr.e_entry < exec_lo || hdr.e_entry >= exec_hi)
    return bad(fmt::format("entry point 0x{:x} is outside the executable segment", hdr.e_entry),
               24);
  entry = hdr.e_entry;
  ro_lo = lo_ro;
  brk_lo = align_up(hi, 16);
  rw_lo = lo_rw == UINT64_MAX ? brk_lo : lo_rw;
  brk_max = image_max;

  // Symbols, for vmcall by name and for messages.
  if (auto sections = file->sections()) {
    for (const auto& sec : *sections) {
      if (sec.sh_type != llvm::ELF::SHT_SYMTAB) continue;
      auto syms = file->symbols(&sec);
      auto strtab = file->getStringTableForSymtab(sec);
      if (!syms || !strtab) {
        if (!syms) llvm::consumeError(syms.takeError());
        if (!strtab) llvm::consumeError(strtab.takeError());
        break;
      }
      for (const auto& sym : *syms) {
        if (sym.st_shndx == llvm::ELF::SHN_UNDEF || sym.st_name == 0) continue;
        auto nm = sym.getName(*strtab);
        if (!nm) {
          llvm::consumeError(nm.takeError());
          continue;
        }
        symbols.emplace(nm->str(), sym.st_value);
      }
    }
  } else {
    llvm::consumeError(sections.takeError());
  }

  void* p = ::mmap(nullptr, mem_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot reserve {} bytes of guest memory", mem_size));
  mem = static_cast<uint8_t*>(p);
  cache.assign((exec_hi - exec_lo) / 2 + 1, Insn{});
  output = default_output;
  reset();
  return {};
}

void Sandbox::Impl::reset() {
  close_files();
  ::madvise(mem, mem_size, MADV_DONTNEED);  // private anonymous memory reads back as zeros
  for (const Segment& s : segments) std::memcpy(mem + s.vaddr, s.bytes.data(), s.bytes.size());
  brk = brk_lo;
  brk_high = brk_lo;
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
  std::vector<uint64_t> ptrs;
  for (const std::string& a : argv) {
    if (a.size() + 1 > sp - stack_lo - 4096) return false;
    sp -= a.size() + 1;
    std::memcpy(mem + sp, a.c_str(), a.size() + 1);
    ptrs.push_back(sp);
  }
  sp -= 16;  // AT_RANDOM bytes (fixed: the sandbox is deterministic)
  uint64_t random_at = sp;
  for (int i = 0; i < 16; ++i) mem[sp + i] = static_cast<uint8_t>(0x5a ^ i);
  sp &= ~uint64_t{15};
  // argc, argv..., 0, envp: 0, auxv: AT_PAGESZ, AT_RANDOM, AT_NULL
  std::vector<uint64_t> words;
  words.push_back(argv.size());
  for (uint64_t p : ptrs) words.push_back(p);
  words.push_back(0);
  words.push_back(0);
  for (uint64_t w :
       {uint64_t{6}, uint64_t{4096}, uint64_t{25}, random_at, uint64_t{0}, uint64_t{0}})
    words.push_back(w);
  uint64_t bytes = words.size() * 8;
  if (bytes > sp - stack_lo - 4096) return false;
  sp = (sp - bytes) & ~uint64_t{15};
  std::memcpy(mem + sp, words.data(), bytes);
  x[2] = sp;
  return true;
}

bool Sandbox::Impl::syscall() {
  uint64_t n = x[17];
  uint64_t* a = x + 10;
  uint64_t args[3] = {a[0], a[1], a[2]};
  auto ret = [&](int64_t v) {
    x[10] = static_cast<uint64_t>(v);
    if (limits.trace_syscalls) {
      const char* nm = syscall_name(n);
      std::fprintf(stderr, "tierjit: sandbox: pc 0x%llx: %s%s%llu(0x%llx, 0x%llx, 0x%llx) = %lld\n",
                   static_cast<unsigned long long>(pc), nm, *nm ? "/" : "",
                   static_cast<unsigned long long>(n), static_cast<unsigned long long>(args[0]),
                   static_cast<unsigned long long>(args[1]),
                   static_cast<unsigned long long>(args[2]), static_cast<long long>(v));
    }
    return true;
  };
  switch (n) {
    case 63: {  // read
      int host_fd = -1;
      if (a[0] == 0 && limits.allow_stdin) host_fd = 0;
      if (auto it = open_files.find(static_cast<int64_t>(a[0])); it != open_files.end())
        host_fd = it->second;
      if (host_fd < 0) return ret(-kEBADF);
      if (!can_write(a[1], a[2])) return ret(-kEFAULT);
      ssize_t got = ::read(host_fd, mem + a[1], a[2]);
      return ret(got < 0 ? -kEFAULT : got);
    }
    case 56: {  // openat: granted files only, read-only
      if (readable.empty()) break;
      std::string path;
      for (uint64_t i = 0;; ++i) {
        if (i >= 4096 || !can_read(a[1] + i, 1)) return ret(-kEFAULT);
        char c = static_cast<char>(mem[a[1] + i]);
        if (c == 0) break;
        path.push_back(c);
      }
      bool granted = std::find(readable.begin(), readable.end(), path) != readable.end();
      if (!granted || (a[2] & 3) != 0 /* O_ACCMODE != O_RDONLY */) return ret(-kEACCES);
      if (open_files.size() >= 64) return ret(-kEMFILE);
      int host_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (host_fd < 0) return ret(-kEACCES);
      open_files[next_fd] = host_fd;
      return ret(next_fd++);
    }
    case 64: {  // write
      if (a[0] != 1 && a[0] != 2) return ret(-kEBADF);
      if (!can_read(a[1], a[2])) return ret(-kEFAULT);
      output(static_cast<int>(a[0]), std::string_view(reinterpret_cast<char*>(mem + a[1]), a[2]));
      return ret(static_cast<int64_t>(a[2]));
    }
    case 66: {  // writev
      if (a[0] != 1 && a[0] != 2) return ret(-kEBADF);
      if (a[2] > 1024 || !can_read(a[1], a[2] * 16)) return ret(-kEFAULT);
      int64_t total = 0;
      for (uint64_t i = 0; i < a[2]; ++i) {
        uint64_t iov[2];
        std::memcpy(iov, mem + a[1] + i * 16, 16);
        if (!can_read(iov[0], iov[1])) return ret(-kEFAULT);
        output(static_cast<int>(a[0]),
               std::string_view(reinterpret_cast<char*>(mem + iov[0]), iov[1]));
        total += static_cast<int64_t>(iov[1]);
      }
      return ret(total);
    }
    case 57: {  // close
      if (a[0] <= 2) return ret(0);
      auto it = open_files.find(static_cast<int64_t>(a[0]));
      if (it == open_files.end()) return ret(-kEBADF);
      ::close(it->second);
      open_files.erase(it);
      return ret(0);
    }
    case 62: {  // lseek
      auto it = open_files.find(static_cast<int64_t>(a[0]));
      if (it == open_files.end()) return ret(a[0] <= 2 ? -kESPIPE : -kEBADF);
      if (a[2] > 2) return ret(-kEINVAL);
      off_t r = ::lseek(it->second, static_cast<off_t>(a[1]), static_cast<int>(a[2]));
      return ret(r < 0 ? -kEINVAL : r);
    }
    case 93:
    case 94:
      stop = true;
      result.reason = StopReason::kExited;
      result.exit_code = static_cast<int>(a[0] & 0xff);
      result.pc = pc;
      return false;
    case 214: {  // brk: returns the new break, or the old one when the request is refused
      uint64_t want = a[0];
      if (want >= brk_lo && want <= brk_max) {
        if (want > brk_high)
          brk_high = want;
        else if (want > brk)
          std::memset(mem + brk, 0, want - brk);  // regrown memory is zero
        brk = want;
      }
      return ret(static_cast<int64_t>(brk));
    }
    case 113: {  // clock_gettime
      if (a[0] > 1) return ret(-kEINVAL);
      if (!can_write(a[1], 16)) return ret(-kEFAULT);
      timespec ts{};
      ::clock_gettime(a[0] == 0 ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
      int64_t v[2] = {ts.tv_sec, ts.tv_nsec};
      std::memcpy(mem + a[1], v, 16);
      return ret(0);
    }
    case 169: {  // gettimeofday
      if (a[0] != 0) {
        if (!can_write(a[0], 16)) return ret(-kEFAULT);
        timespec ts{};
        ::clock_gettime(CLOCK_REALTIME, &ts);
        int64_t v[2] = {ts.tv_sec, ts.tv_nsec / 1000};
        std::memcpy(mem + a[0], v, 16);
      }
      return ret(0);
    }
    default:
      break;
  }
  if (n >= kHostCallFirst && n <= kHostCallLast && host[n - kHostCallFirst]) {
    HostCall call(*owner);
    host[n - kHostCallFirst](call);
    return !stop;
  }
  const char* nm = syscall_name(n);
  fault(FaultKind::kSyscallDenied, pc, n,
        fmt::format("system call {}{}{}{} is not allowed", n, *nm ? " (" : "", nm, *nm ? ")" : ""));
  return false;
}

// ---- HostCall ----
uint64_t HostCall::arg(int i) const { return s_.impl().x[10 + i]; }
double HostCall::farg(int i) const {
  uint64_t v = s_.impl().f[10 + i];
  double d;
  std::memcpy(&d, &v, 8);
  return d;
}
void HostCall::set_result(uint64_t v) { s_.impl().x[10] = v; }
bool HostCall::read(uint64_t addr, void* out, uint64_t n) {
  if (!s_.copy_from_guest(addr, out, n)) {
    fail(fmt::format("host call read {} bytes at 0x{:x} outside guest memory", n, addr));
    return false;
  }
  return true;
}
bool HostCall::write(uint64_t addr, const void* in, uint64_t n) {
  if (!s_.copy_to_guest(addr, in, n)) {
    fail(fmt::format("host call wrote {} bytes at 0x{:x} outside writable guest memory", n, addr));
    return false;
  }
  return true;
}
bool HostCall::read_string(uint64_t addr, std::string& out, uint64_t max) {
  Sandbox::Impl& m = s_.impl();
  out.clear();
  for (uint64_t i = 0; i < max; ++i) {
    if (!m.can_read(addr + i, 1)) {
      fail(fmt::format("host call string at 0x{:x} runs outside guest memory", addr));
      return false;
    }
    char c = static_cast<char>(m.mem[addr + i]);
    if (c == 0) return true;
    out.push_back(c);
  }
  fail(fmt::format("host call string at 0x{:x} is longer than {} bytes", addr, max));
  return false;
}
void HostCall::fail(std::string message) {
  Sandbox::Impl& m = s_.impl();
  if (!m.stop) m.fault(FaultKind::kHostCallFault, m.pc, m.x[17], std::move(message));
}

// ---- Sandbox ----
Sandbox::Sandbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sandbox::~Sandbox() = default;

Expected<std::unique_ptr<Sandbox>> Sandbox::load(std::string_view elf, std::string name,
                                                 Limits limits) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(name);
  impl->limits = limits;
  TJ_TRY(impl->load(elf));
  std::unique_ptr<Sandbox> s(new Sandbox(std::move(impl)));
  s->impl_->owner = s.get();
  return s;
}

RunResult Sandbox::run(const std::vector<std::string>& argv) {
  Impl& m = *impl_;
  std::memset(m.x, 0, sizeof m.x);
  if (!m.setup_stack(argv)) {
    RunResult r;
    r.reason = StopReason::kFault;
    r.fault = FaultKind::kStackOverflow;
    r.message = "arguments do not fit the guest stack";
    return r;
  }
  m.pc = m.entry;
  m.execute(m.limits.max_instructions);
  return std::move(m.result);
}

RunResult Sandbox::vmcall(uint64_t address, std::span<const Arg> args) {
  Impl& m = *impl_;
  int ni = 0, nf = 0;
  for (const Arg& a : args) {
    if (a.kind == Arg::kInt) {
      if (ni < 8) m.x[10 + ni++] = a.i;
    } else if (nf < 8) {
      uint64_t v;
      if (a.kind == Arg::kDouble) {
        std::memcpy(&v, &a.d, 8);
      } else {
        float fl = static_cast<float>(a.d);
        uint32_t b;
        std::memcpy(&b, &fl, 4);
        v = 0xffffffff00000000ull | b;
      }
      m.f[10 + nf++] = v;
    }
  }
  m.x[1] = kVmcallReturn;
  m.x[2] = m.mem_size - 64;
  m.pc = address;
  m.execute(m.limits.max_instructions);
  return std::move(m.result);
}

uint64_t Sandbox::symbol(std::string_view name) const {
  auto it = impl_->symbols.find(std::string(name));
  return it == impl_->symbols.end() ? 0 : it->second;
}

bool Sandbox::copy_to_guest(uint64_t addr, const void* data, uint64_t n) {
  if (n == 0) return true;
  if (!impl_->can_write(addr, n)) return false;
  std::memcpy(impl_->mem + addr, data, n);
  return true;
}

bool Sandbox::copy_from_guest(uint64_t addr, void* out, uint64_t n) const {
  if (n == 0) return true;
  if (!impl_->can_read(addr, n)) return false;
  std::memcpy(out, impl_->mem + addr, n);
  return true;
}

uint64_t Sandbox::guest_alloc(uint64_t n) {
  Impl& m = *impl_;
  uint64_t at = align_up(m.brk, 16);
  if (n > m.brk_max || at > m.brk_max - n) return 0;
  if (at + n > m.brk_high)
    m.brk_high = at + n;
  else
    std::memset(m.mem + m.brk, 0, at + n - m.brk);
  m.brk = at + n;
  return at;
}

Status Sandbox::register_host_function(int number, HostFunction fn) {
  if (number < kHostCallFirst || number > kHostCallLast)
    return make_error(ErrorCode::kUsage, fmt::format("host function numbers are {}..{}, not {}",
                                                     kHostCallFirst, kHostCallLast, number));
  impl_->host[number - kHostCallFirst] = std::move(fn);
  return {};
}

Status Sandbox::allow_read(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::kFileNotFound, "cannot open for the guest", {path});
  ::close(fd);
  impl_->readable.push_back(path);
  return {};
}

void Sandbox::set_output(std::function<void(int, std::string_view)> sink) {
  impl_->output = sink ? std::move(sink) : default_output;
}

void Sandbox::reset() { impl_->reset(); }
const Limits& Sandbox::limits() const { return impl_->limits; }
uint64_t Sandbox::entry() const { return impl_->entry; }
std::pair<uint64_t, uint64_t> Sandbox::text_range() const {
  return {impl_->exec_lo, impl_->exec_hi};
}

}  // namespace tierjit::sandbox
