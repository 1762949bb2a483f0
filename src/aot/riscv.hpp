// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Ahead-of-time RISC-V 64 executables for the tierjit sandbox, in process: LLVM's RISC-V
// backend (RV64GC, LP64D, medany) emits the object, lld (as a library) links it with the
// guest sysroot (src/guest/runtime: start-up, system calls, picolibc, libgcc) under tierjit's
// linker script (text at 0x100000, --gc-sections). No llc/ld subprocesses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "support/error.hpp"

namespace llvm {
class Module;
}
namespace tierjit::bytecode {
struct Module;
}

namespace tierjit::aot {

/// What the ELF cache did for one compile (`tierjit compile --stats` prints it).
enum class ElfCacheOutcome {
  kOff,     ///< use_cache was false
  kHit,     ///< the ELF was written from a cached entry; nothing was compiled or linked
  kStored,  ///< compiled and linked, then stored
};

struct RiscvOptions {
  int opt_level = 2;      ///< 0..3
  bool debug = false;     ///< keep DWARF (-g); otherwise --strip-debug
  std::string output;     ///< the ELF file to write
  bool use_cache = true;  ///< reuse a linked ELF with the same content hash
  /// When not null, set to what the cache did (left untouched when the compile fails).
  ElfCacheOutcome* cache_outcome = nullptr;
};

/// Compiles LLVM IR made for riscv64 (`tierjit guest-cflags`) to a static ELF executable.
/// Errors: kInvalidInput when the IR targets another architecture (retargeting is not
/// sound: data layout, ABI and inline assembly are baked in), those of loading and
/// verifying, kCompileFailed (codegen or lld's message), kFileNotFound (no guest sysroot).
Status compile_riscv_file(const std::string& input, const RiscvOptions& opts);
/// The same for the file's content, already read (`name` names it in errors).
Status compile_riscv_ir(std::string_view bytes, const std::string& name, const RiscvOptions& opts);

/// The same for a module already in memory. `extra_libs` are sysroot libraries linked before
/// the C library (e.g. "libtjbcrun.a", the bytecode runner's main).
Status compile_riscv_module(llvm::Module& m, const std::string& name, const RiscvOptions& opts,
                            const std::vector<std::string>& extra_libs = {});

/// A bytecode module (`source` = its file bytes, for the cache key) as a riscv64 ELF: the
/// bytecode's LLVM IR translation for riscv64 plus the guest runner (src/guest/runtime/bcrun.c),
/// which behaves like `tierjit run prog.tjasm -- ARGS` (same output, exit statuses, traps).
Status compile_riscv_bytecode(const bytecode::Module& m, std::string_view source,
                              const std::string& name, const RiscvOptions& opts);

}  // namespace tierjit::aot
