// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The process-wide JIT session: one ORC LLJIT (no ORC runtime platform: static initializers
// are each client's business) shared by every client that links objects into the process,
// each in JITDylibs of its own. Clients hand it finished ELF objects (compile_to_object); the
// session never compiles IR itself, so no client shares a TargetMachine with another.
//
// Memory: every linked object lives in DualMappedMemoryManager memory (jit_memory.hpp), never
// writable and executable at once and never made executable after the fact, so the session
// works under PR_SET_MDWE. Unwind tables are registered with the unwinder, so C++ exceptions
// cross JIT code.
//
// Thread safety: every method may be called from any thread (ORC's ExecutionSession is
// thread-safe); a JITDylib's owner removes it once no code of it can run.
// Link failures: ORC reports some of them through the session's error reporter rather than
// the failing lookup. Inside lookup() the session keeps the report and folds it into the
// returned error, so nothing is printed behind the caller's back; a failure anywhere else (a
// lazy compile on a program's own thread, a background link) is printed to stderr as
// "tierjit: error: MESSAGE", since no caller is there to receive it.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backend/codegen.hpp"
#include "backend/jit_memory.hpp"
#include "support/error.hpp"

namespace llvm::orc {
class JITDylib;
class LLJIT;
}  // namespace llvm::orc

namespace tierjit::backend {

class JitSession {
 public:
  /// The session, created on first use (host target); it lives until the process ends.
  /// Errors: kCompileFailed when LLVM cannot build a JIT for the host.
  static Expected<JitSession*> get();

  /// A new JITDylib whose symbol lookups search itself, then `also` in order, then the
  /// process's exported symbols (libc, libm, the host program). `name` is made unique.
  Expected<llvm::orc::JITDylib*> create_dylib(std::string_view name,
                                              const std::vector<llvm::orc::JITDylib*>& also = {});
  /// Frees every object linked into `jd` and `jd` itself. Null is a no-op.
  void remove(llvm::orc::JITDylib* jd);

  /// Defines absolute symbols (host functions and data) in `jd`. Errors: kCompileFailed
  /// (e.g. a duplicate definition).
  Status define_absolute(llvm::orc::JITDylib& jd,
                         const std::vector<std::pair<std::string, void*>>& symbols);
  /// Adds an ELF relocatable object to `jd`; it is linked on the first lookup of one of its
  /// symbols. `name` names the buffer in LLVM's messages. Errors: kCompileFailed.
  Status add_object(llvm::orc::JITDylib& jd, std::string_view object, const std::string& name);
  /// The address of `symbol` (an unmangled ELF name) in `jd`, linking pending objects.
  /// Errors: kCompileFailed with LLVM's message (an undefined reference names the symbol).
  Expected<void*> lookup(llvm::orc::JITDylib& jd, std::string_view symbol);

  /// Writes /tmp/perf-PID.map lines ("ADDR SIZE NAME", perf's JIT map format) for every
  /// function linked from now on, by any client. Idempotent.
  void enable_perf_map();
  /// Registers linked code with GDB (the GDB JIT interface) from now on. Idempotent.
  /// Errors: kUnsupported when LLVM cannot (e.g. no debug object support for the target).
  Status enable_debugger_support();

  /// The host target every object for this session is compiled for.
  const TargetConfig& target() const { return target_; }
  llvm::orc::LLJIT& jit() { return *jit_; }
  /// The memory every linked object lives in.
  const DualMappedMemoryManager& memory() const { return *memory_; }

  ~JitSession();

 private:
  JitSession() = default;
  std::unique_ptr<DualMappedMemoryManager> memory_;  // outlives jit_ (declared first)
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  TargetConfig target_;
  std::once_flag perf_map_once_, debugger_once_;
  Status debugger_status_;
};

}  // namespace tierjit::backend
