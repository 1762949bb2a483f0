// Ahead-of-time RISC-V 64 executables for the tierjit sandbox, in process: LLVM's RISC-V
// backend (RV64GC, LP64D, medany) emits the object, lld (as a library) links it with the
// guest sysroot (src/sandbox/guest: start-up, system calls, picolibc, libgcc) under tierjit's
// linker script (text at 0x100000, --gc-sections; seed 004). No llc/ld subprocesses.
#pragma once

#include <string>

#include "support/error.hpp"

namespace llvm {
class Module;
}

namespace tierjit::aot {

struct RiscvOptions {
  int opt_level = 2;      ///< 0..3
  bool debug = false;     ///< keep DWARF (-g); otherwise --strip-debug
  std::string output;     ///< the ELF file to write
  bool use_cache = true;  ///< reuse a linked ELF with the same content hash
};

/// Compiles LLVM IR made for riscv64 (`tierjit guest-cflags`) to a static ELF executable.
/// Errors: kInvalidInput when the IR targets another architecture (retargeting is not
/// sound: data layout, ABI and inline assembly are baked in), those of loading and
/// verifying, kCompileFailed (codegen or lld's message), kFileNotFound (no guest sysroot).
Status compile_riscv_file(const std::string& input, const RiscvOptions& opts);

/// The same for a module already in memory (e.g. translated bytecode).
Status compile_riscv_module(llvm::Module& m, const std::string& name, const RiscvOptions& opts);

}  // namespace tierjit::aot
