// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The tierjit sandbox: runs untrusted RISC-V 64 (RV64IMAFDC + Zicsr/Zifencei, Zba, Zbb) ELF
// executables inside the host process.
//
// Model: the host embeds a sandbox that runs RISC-V guests (compiled from C, bytecode or
// StableHLO to riscv64 ELFs); libriscv is the published reference point. The guest sees one flat
// address space of `Limits::max_memory` bytes:
//
//   0 .. 64 KiB            never mapped: null-pointer accesses fault
//   ELF PT_LOAD segments   text (read + execute), read-only data, data + bss (read + write)
//   heap                   from the end of the image up, grown by brk (syscall 214)
//   ...                    free; anonymous mmap()s are taken from its top down (once the
//                          guest maps memory, the whole area is accessible to it)
//   guard                  >= 64 KiB unmapped below the stack
//   stack                  the top `Limits::stack_size` bytes; argc/argv/envp/auxv on it as
//                          Linux lays them out, so the same ELF runs under qemu-riscv64
//
// Every guest access is checked against that map; text is never writable, and only text is
// executable. Its boundaries fall on 4 KiB pages as Linux maps them (the heap ends at brk
// rounded up to a page; writable data starts at its segment's page unless a read-only segment
// shares that page). Signals: on x86-64 Linux the translation tier enforces the map with page
// protections and installs a SIGSEGV handler once per process (sigaction, SA_SIGINFO); faults
// that are not a guest's go to the handler installed before it. An embedder that installs
// its own SIGSEGV handler later must pass faults it does not own to the previous handler. A fault
// (illegal instruction, access outside the map, jump into data, stack overflow, a syscall outside
// the allowlist, a bad pointer handed to a host call) stops the guest with a RunResult naming the
// kind, the pc and the address; the host is unaffected.
//
// System calls use the Linux riscv64 numbers (ecall with the number in a7, arguments in
// a0..a5, result in a0; negative errno on failure), with Linux semantics for what a static
// single-threaded program (glibc's or picolibc's start-up, stdio, malloc) needs: read (63, fd
// 0 only when Limits::allow_stdin), readv (65), write (64, fds 1 and 2), writev (66), close
// (57), dup/dup3 (23/24: of granted files and of the standard streams, so freopen() of stdout
// works), lseek (62, -ESPIPE on fds 0-2), fstat (80: the standard streams are pipes),
// newfstatat (79), exit (93), exit_group (94), brk (214), mmap/munmap of anonymous private
// memory (222/215), mprotect (226, accepted), clock_gettime (113, clocks 0-7), clock_getres
// (114), gettimeofday (169), set_tid_address (96), set_robust_list (99), rseq (293, -ENOSYS),
// futex (98, single-threaded), rt_sigaction/rt_sigprocmask (134/135, no handlers run), ioctl
// (29, -ENOTTY: no terminal), uname (160), prlimit64 (261, read-only), getrandom (278,
// deterministic like AT_RANDOM), getpid/gettid/getppid/getuid... openat (56), and
// read/lseek/close/fstat/getdents64 on the descriptors it returns, newfstatat (79) and
// faccessat (48), only for files the embedder granted with allow_read() or beneath a
// directory granted with allow_dir() (-EACCES for a path that would resolve out of its
// directory, and for writing unless the directory was granted writable: then also write,
// ftruncate, mkdirat (34), unlinkat (35), fsync; another path gets -ENOENT, it does not exist
// for the guest). Host
// functions registered by the embedder use numbers 500..599 (kHostCallFirst.. kHostCallLast): the
// guest library's `print` and `vcall` live there; an unregistered one stops the guest. Any other
// call returns -ENOSYS, or with Limits::strict stops the guest with FaultKind::kSyscallDenied
// naming the number.
//
// Execution (Limits::tier): guest code is translated block by block to x86-64 on first
// execution (copy-and-patch: stencils compiled by clang at build time, one per operation form),
// with the interpreter for what the translator leaves to it (ecall, CSRs, atomics, rounding
// modes other than RNE) and for the last instructions of a budget. Both tiers give the same
// results, fault messages and pcs, and stop a budget at the same instruction; translations live
// as long as the Sandbox (text is never writable, so they never go stale), in W^X memory.
//
// Thread safety: one Sandbox runs on one thread at a time; distinct Sandboxes are independent.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tierjit/error.hpp"

namespace tierjit::sandbox {

inline constexpr int kHostCallFirst = 500;
inline constexpr int kHostCallLast = 599;

/// How guest code runs: the interpreter only, or translated to host code (x86-64 hosts) with
/// the interpreter for what the translator leaves to it. Both give the same results, faults
/// and instruction counts; translation is faster on all but the shortest runs.
enum class ExecTier : uint8_t { kInterpret, kTranslate };

struct Limits {
  uint64_t max_memory = 64ull << 20;  ///< bytes of guest address space (image + heap + stack)
  uint64_t stack_size = 1ull << 20;   ///< bytes at the top of the address space
  /// Instructions per run() / vmcall() before the guest is stopped (kBudget). The default
  /// stops a runaway guest after about ten seconds on the reference machine
  /// (docs/BENCHMARKS.md, "Sandbox": measured interpreter speed).
  uint64_t max_instructions = 4'000'000'000ull;
  bool allow_stdin = false;     ///< read(0, ...) reads the host's stdin; otherwise -EBADF
  bool trace_syscalls = false;  ///< print every system call and its result to stderr
  /// A Linux system call the sandbox does not implement stops the guest (kSyscallDenied);
  /// without it the call returns -ENOSYS, as Linux answers a call it lacks.
  bool strict = false;
  /// The execution tier (kTranslate falls back to the interpreter on hosts it does not support).
  ExecTier tier = ExecTier::kTranslate;
};

/// The translation tier's counters for one sandbox, cumulative over its runs and vmcalls.
struct TranslationStats {
  uint64_t blocks = 0;        ///< blocks translated
  uint64_t instructions = 0;  ///< guest instructions translated
  uint64_t code_bytes = 0;    ///< host code emitted
  uint64_t links = 0;         ///< direct jumps patched to point at their target block
  uint64_t interpreted = 0;   ///< instructions the interpreter ran while translation was on
  uint64_t translate_ns = 0;  ///< time spent translating
  uint64_t failures = 0;      ///< blocks left to the interpreter (code memory exhausted)
  /// Whether loads and stores leave the memory map to guard pages (the host's page protections
  /// mirror it; only the address space's end is checked in code). False when a boundary of the
  /// map is not page-aligned (a read-only segment sharing a page with writable data, a stack
  /// size that is not a multiple of 4 KiB) or the host refused a protection: every access is
  /// then checked against the map in code, slower.
  bool guard_pages = false;
  /// Why not, when the map was page-aligned: the host refused a page protection or the
  /// SIGSEGV handler (checks in code from then on).
  bool guard_refused = false;
  uint64_t guard_faults = 0;  ///< accesses stopped by a guard page (then run by the interpreter)
  /// Runs and vmcalls interpreted although Limits::tier asked for translation (a host the
  /// translator does not support: it needs x86-64 Linux).
  uint64_t unsupported_host_runs = 0;
};

enum class StopReason : uint8_t {
  kExited,    ///< the guest called exit/exit_group (exit_code)
  kReturned,  ///< a vmcall returned (value, fvalue)
  kFault,     ///< the guest did something the sandbox refuses (fault, message)
  kBudget,    ///< max_instructions ran out
};

enum class FaultKind : uint8_t {
  kNone,
  kIllegalInstruction,  ///< unknown/reserved encoding, or an unimplemented CSR
  kLoadFault,           ///< read outside the guest's readable memory
  kStoreFault,          ///< write outside writable memory (including into text)
  kFetchFault,          ///< jump/branch to a non-executable address ("jump into data")
  kMisaligned,          ///< misaligned atomic access or jump target
  kStackOverflow,       ///< access in the guard area just below the stack
  kBreakpoint,          ///< ebreak
  kSyscallDenied,       ///< a system call outside the allowlist
  kHostCallFault,       ///< a host function rejected its arguments (e.g. a bad pointer)
};
const char* fault_name(FaultKind kind);

struct RunResult {
  StopReason reason = StopReason::kFault;
  int exit_code = 0;          ///< kExited
  uint64_t value = 0;         ///< kReturned: a0
  double fvalue = 0;          ///< kReturned: fa0 as a double
  uint64_t instructions = 0;  ///< instructions retired by this run
  /// System calls the sandbox does not implement, answered -ENOSYS (without Limits::strict).
  uint64_t unimplemented_syscalls = 0;
  FaultKind fault = FaultKind::kNone;
  uint64_t pc = 0;      ///< guest pc where the guest stopped (faults, budget)
  uint64_t addr = 0;    ///< faulting data address / jump target / syscall number
  std::string message;  ///< one line, e.g. "store to 0x0000000000000008 outside guest memory"
};

/// An argument of a vmcall: integers and pointers go to a0..a7, floating point to fa0..fa7
/// (the LP64D calling convention; doubles as doubles, floats NaN-boxed).
struct Arg {
  enum Kind : uint8_t { kInt, kFloat, kDouble } kind = kInt;
  uint64_t i = 0;
  double d = 0;
  static Arg integer(uint64_t v) { return {kInt, v, 0}; }
  static Arg f32(float v) { return {kFloat, 0, v}; }
  static Arg f64(double v) { return {kDouble, 0, v}; }
};

class Sandbox;

/// What a host function sees: the guest's argument registers and checked memory access.
class HostCall {
 public:
  explicit HostCall(Sandbox& s) : s_(s) {}
  uint64_t arg(int i) const;  ///< a0..a5
  double farg(int i) const;   ///< fa0..fa7 as doubles
  void set_result(uint64_t v);
  /// Copies guest memory [addr, addr+n) out; false (and the call faults) when any byte is
  /// outside the guest's readable memory.
  bool read(uint64_t addr, void* out, uint64_t n);
  bool write(uint64_t addr, const void* in, uint64_t n);
  /// Reads a NUL-terminated string of at most `max` bytes; false when unterminated or outside.
  bool read_string(uint64_t addr, std::string& out, uint64_t max = 4096);
  /// Marks the call failed: when the host function returns, the guest stops with
  /// kHostCallFault and this message instead of resuming (read/write call it themselves).
  void fail(std::string message);
  Sandbox& sandbox() { return s_; }

 private:
  Sandbox& s_;
};
using HostFunction = std::function<void(HostCall&)>;

class Sandbox {
 public:
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  /// Loads an ELF64 RISC-V executable (ET_EXEC, little-endian). `name` is used in errors.
  /// Errors: kInvalidInput naming the file and the offending header/segment.
  static Expected<std::unique_ptr<Sandbox>> load(std::string_view elf, std::string name,
                                                 Limits limits = {});

  /// Runs from the ELF entry point with argv (argv[0] first) until exit, fault or budget.
  RunResult run(const std::vector<std::string>& argv);
  /// Calls the guest function at `address` with `args` (LP64D) on the guest's stack until it
  /// returns (kReturned with a0/fa0). Usually after run() so that the C library is set up.
  RunResult vmcall(uint64_t address, std::span<const Arg> args);
  /// The address of a function or object symbol in the ELF symbol table, or 0.
  uint64_t symbol(std::string_view name) const;

  /// Checked copies between host and guest memory (false: outside writable/readable memory).
  bool copy_to_guest(uint64_t addr, const void* data, uint64_t n);
  bool copy_from_guest(uint64_t addr, void* out, uint64_t n) const;
  /// Allocates `n` bytes of guest memory by growing the heap (0 when memory is exhausted).
  uint64_t guest_alloc(uint64_t n);

  /// Registers host function `number` (kHostCallFirst..kHostCallLast); the guest reaches it
  /// with ecall (a7 = number). Errors: kUsage when the number is outside the range.
  Status register_host_function(int number, HostFunction fn);
  /// Lets the guest open the host file `path` read-only, by exactly that path string (no other
  /// file becomes visible). Errors: kFileNotFound when the host cannot open it.
  Status allow_read(const std::string& path);
  /// Lets the guest open files beneath the host directory `host_dir`, read-only, as the guest
  /// directory `guest_dir` (absolute; default: the same path), the convention of wasmtime's
  /// --dir. Resolution stays beneath it: ".." past it, symbolic links that lead out and /proc
  /// magic links are refused (openat2 with RESOLVE_BENEATH, Linux 5.6). Directories can be
  /// listed (getdents64). Errors: kFileNotFound when `host_dir` is not a directory; kUsage
  /// for a relative `guest_dir`.
  /// With `writable`, the guest may also create, write, truncate and remove files and
  /// directories beneath it (still never outside).
  Status allow_dir(const std::string& host_dir, const std::string& guest_dir = "",
                   bool writable = false);
  /// The guest's environment, KEY=VALUE strings (default: empty; nothing is inherited).
  void set_environment(std::vector<std::string> env);
  /// Where the guest's stdout/stderr bytes go (default: the host's fds 1 and 2).
  void set_output(std::function<void(int fd, std::string_view bytes)> sink);

  /// Restores memory, registers and the heap to their state right after load().
  void reset();

  const Limits& limits() const;
  /// Counters of the translation tier (all zero when it never ran).
  TranslationStats translation_stats() const;
  uint64_t entry() const;
  /// Executable range [lo, hi) of the image.
  std::pair<uint64_t, uint64_t> text_range() const;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  explicit Sandbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// One line for a RunResult: "exited with status 3", "fault: store-fault at pc 0x... (...)".
std::string describe(const RunResult& r);

}  // namespace tierjit::sandbox
