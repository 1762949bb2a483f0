// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The sandbox's machine state, shared by its parts: guest memory map, RV64 registers, the
// decoded-instruction cache, open files and host functions, and the entry points of the
// interpreter (rv_interp.cpp), the ELF loader (elf_loader.cpp), the system calls
// (syscalls.cpp), host calls (host_calls.cpp) and the machine set-up (machine.cpp). Internal
// to src/sandbox; the public face is include/tierjit/sandbox.hpp (sandbox.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sandbox/decode.hpp"
#include "sandbox/jit/translator.hpp"
#include "tierjit/sandbox.hpp"

namespace tierjit::sandbox {

/// Lowest address any segment may occupy: accesses below fault (null pointers).
inline constexpr uint64_t kNullGuard = 0x10000;
/// Gap kept unmapped between the heap's maximum and the stack.
inline constexpr uint64_t kStackGuard = 0x10000;
/// Return address planted by vmcall: jumping here ends the call (it is never executable).
inline constexpr uint64_t kVmcallReturn = 0x1000;

/// The guest's page size (AT_PAGESZ): the map's boundaries fall on pages, as Linux maps them.
inline constexpr uint64_t kPage = 4096;

inline uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/// One decoded-cache entry: a direct-threaded handler plus operands. Entries cover every
/// 2-byte position of the executable range; they are decoded lazily on first execution. Text
/// is never writable, so an entry stays valid for the sandbox's lifetime (fence.i is a no-op).
/// A later copy-and-patch translator can key its blocks by the same index.
struct Insn {
  int32_t handler = 0;  ///< handler address minus the run loop's base label (16-byte entries)
  int32_t imm = 0;      ///< immediate; for branches/JAL: target offset in entries
  uint8_t rd = 0, rs1 = 0, rs2 = 0, rs3 = 0;
  uint8_t step = 0;  ///< entries to the next instruction (1 = compressed, 2 = 32-bit)
  uint8_t rm = 0;
  Op op = Op::ILLEGAL;
};

struct Sandbox::Impl {
  std::string name;
  Limits limits;

  // Memory map (see sandbox.hpp): readable [ro_lo, heap_hi) and [stack_lo, mem_size); writable
  // [rw_lo, heap_hi) and [stack_lo, mem_size); executable [exec_lo, exec_hi). The heap grows
  // up from brk_lo; mmap() of anonymous memory takes pages down from map_top (mmap_lo is the
  // lowest mapping; brk may not cross it). heap_hi is brk rounded up to a page until the guest
  // maps memory, then map_top: the whole area between is guest memory the guest may use. As
  // Linux maps whole pages, ro_lo, brk_lo and heap_hi are page-aligned, and rw_lo is unless
  // a read-only segment shares its page.
  uint8_t* mem = nullptr;
  uint64_t mem_size = 0;
  uint64_t ro_lo = 0, rw_lo = 0;
  uint64_t brk_lo = 0, brk = 0, brk_max = 0, brk_high = 0;
  uint64_t heap_hi = 0, map_top = 0, mmap_lo = 0;
  // For the auxiliary vector: where the program headers are in guest memory (0: not loaded).
  uint64_t phdr = 0, phnum = 0, phent = 0;
  uint64_t random_state = 0;  // getrandom's generator (deterministic per run)
  uint64_t stack_lo = 0;
  uint64_t exec_lo = 0, exec_hi = 0;
  uint64_t entry = 0;

  struct Segment {
    uint64_t vaddr = 0;
    std::string bytes;  ///< file contents; the rest up to memsz is zero
    uint64_t memsz = 0;
  };
  std::vector<Segment> segments;
  std::unordered_map<std::string, uint64_t> symbols;

  // Hart state. x[32] is the sink that writes to x0 are redirected to at decode time.
  uint64_t x[33] = {};
  uint64_t f[32] = {};
  uint64_t pc = 0;
  uint32_t fflags = 0;           ///< accrued exception flags (NX=1 UF=2 OF=4 DZ=8 NV=16)
  uint8_t frm = 0;               ///< dynamic rounding mode
  uint64_t reservation = ~0ull;  ///< LR/SC reservation address
  uint64_t retired_total = 0;    ///< instret across runs

  /// The decoded cache, one entry per 2-byte text position plus a sentinel. calloc'd: pages
  /// the guest never executes are never touched (an all-zero entry is "not decoded yet").
  struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<Insn[], FreeDeleter> cache;
  size_t cache_size = 0;
  bool cache_ready = false;

  std::array<HostFunction, kHostCallLast - kHostCallFirst + 1> host{};
  std::vector<std::string> readable;  ///< paths granted by allow_read()
  struct DirGrant {
    std::string guest;      ///< normalized absolute guest path ("/data")
    int fd = -1;            ///< the host directory, O_PATH
    bool writable = false;  ///< allow_dir(..., writable): create, write, remove beneath it
  };
  std::vector<DirGrant> dirs;    ///< directories granted by allow_dir()
  std::vector<std::string> env;  ///< the guest's environment (KEY=VALUE)
  /// Opens guest path `path` (absolute, or relative to "/") with `flags` (and `mode` for
  /// O_CREAT) on the host if a grant covers it: a host fd, or -errno (ENOENT: not granted;
  /// EACCES: resolution would leave the granted directory, or a write under a read-only one).
  int open_granted(const std::string& path, int flags, unsigned mode = 0);
  /// For unlink/mkdir: the host directory (O_PATH) that holds `path`'s last component, which
  /// goes to `name`; only beneath a writable grant. -errno as open_granted.
  int open_granted_parent(const std::string& path, std::string* name);
  /// The grant whose guest directory holds `path`, and the path beneath it; nullptr if none.
  const DirGrant* resolve_granted(const std::string& path, std::string* rel) const;
  std::unordered_map<int64_t, int> open_files;  ///< guest fd (>= 3) -> host fd
  void close_files();
  std::function<void(int, std::string_view)> output;

  Sandbox* owner = nullptr;  ///< the public object (host functions receive it)

  // Set by syscalls and host calls to stop the run loop.
  bool stop = false;
  RunResult result;

  /// Page protections mirror the map (set by the translator when page_aligned_map()): an
  /// access the map refuses faults in the host MMU, so translated code checks only the
  /// address space's end (translator.cpp, "Guard pages").
  bool guard_pages = false;
  bool guard_refused = false;  ///< the host refused a protection once: never again
  /// Whether every boundary of the map falls on a page (rw_lo and stack_lo may not).
  bool page_aligned_map() const {
    return ((ro_lo | rw_lo | stack_lo | mem_size | heap_hi) & (kPage - 1)) == 0;
  }
  /// Moves the heap's end to `hi` rounded up to a page, changing the protection of the pages
  /// in between when guard_pages. False (and nothing changed) if the host refuses.
  bool set_heap_hi(uint64_t hi);
  /// Protects every page of guest memory as the map says. False if the host refuses.
  bool protect_map();
  /// After a refused protection (or SIGSEGV handler): every page open again, guard_pages off
  /// for good (the translator then starts over with checks in code; TranslationStats says so).
  void drop_guard_pages();

  ~Impl();
  /// Maps memory and loads the ELF. Errors name `name` and the header or segment.
  Status load(std::string_view elf);
  /// Reserves the guest memory for the loaded layout, sizes the decoded cache and resets.
  Status map_memory();
  /// Puts memory and registers back to the post-load state.
  void reset();
  /// Builds the initial stack (argc, argv, envp, auxv as Linux does) and sets sp.
  bool setup_stack(const std::vector<std::string>& argv);

  bool can_read(uint64_t a, uint64_t n) const {
    return (a >= stack_lo && n <= mem_size && a <= mem_size - n) ||
           (a >= ro_lo && n <= heap_hi && a <= heap_hi - n);
  }
  bool can_write(uint64_t a, uint64_t n) const {
    return (a >= stack_lo && n <= mem_size && a <= mem_size - n) ||
           (a >= rw_lo && n <= heap_hi && a <= heap_hi - n);
  }

  /// Runs the guest from `pc` for at most `budget` instructions in the tier limits.tier
  /// names; fills `result`.
  void execute(uint64_t budget);
  /// Runs the interpreter from `pc` for at most `budget` instructions; fills `result`.
  void interpret(uint64_t budget);
  std::unique_ptr<Translator> translator;  ///< created on the first translated run
  uint64_t unsupported_host_runs = 0;      ///< translation asked for, host unsupported
  /// Handles ecall (a7 = number). Returns false when the guest must stop (result is set).
  bool syscall();
  /// Whether system-call number `n` is a host call with a registered function.
  bool has_host_function(uint64_t n) const {
    return n >= kHostCallFirst && n <= kHostCallLast && host[n - kHostCallFirst];
  }
  /// Runs registered host function `n`. Returns false when the guest must stop.
  bool host_call(uint64_t n);
  /// Stops with a fault.
  void fault(FaultKind kind, uint64_t at_pc, uint64_t addr, std::string message);
};

/// Name of a Linux riscv64 syscall number for messages ("openat"), or "" when unknown.
const char* syscall_name(uint64_t number);
/// The default output sink: writes guest stdout/stderr to the host's file descriptor.
void default_output(int fd, std::string_view bytes);

}  // namespace tierjit::sandbox
