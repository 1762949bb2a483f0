// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Target machines, the new-pass-manager optimization pipeline and object emission, in process.
// Requires: a verified module. Produces: optimized IR (optimize_module) or ELF object bytes.
#pragma once

#include <memory>
#include <string>

#include "support/error.hpp"

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace tierjit::llvmtier {

/// Everything about the target that changes the machine code; part of every cache key.
struct TargetConfig {
  std::string triple;
  std::string cpu;
  std::string features;
  bool pic = true;                 ///< PIC + small code model: JITLink can place objects anywhere
  bool emulated_tls = true;        ///< thread-locals through __emutls_get_address (JIT objects)
  std::string abi;                 ///< target ABI name ("lp64d" for riscv64 guests); "" = default
  bool medium_code_model = false;  ///< CodeModel::Medium (riscv64 medany) instead of Small

  /// The host: triple, CPU name and feature string detected from the running machine.
  static TargetConfig host();
  /// The portable x86-64 baseline (what `clang -O2` targets by default): for AOT outputs.
  static TargetConfig generic(const std::string& triple);
  /// One line naming every field (used in cache keys).
  std::string key() const;
};

/// Initializes LLVM's native target, asm printer and parser once per process.
void initialize_llvm_targets();
/// Also initializes the RISC-V target (guests for the sandbox) once per process.
void initialize_riscv_target();

/// A TargetMachine for `cfg` generating code at `opt_level` (0..3; 0 = FastISel, no optimizer).
Expected<std::unique_ptr<llvm::TargetMachine>> make_target_machine(const TargetConfig& cfg,
                                                                   int opt_level);

/// Runs the default per-module pipeline (PassBuilder::buildPerModuleDefaultPipeline) at
/// `opt_level` 1..3; 0 does nothing. The same pipeline clang -O{N} runs.
void optimize_module(llvm::Module& m, llvm::TargetMachine& tm, int opt_level);
/// Runs a textual new-pass-manager pipeline (`opt -passes=` syntax) with `tm`'s cost model.
/// Errors: kInternal naming the pipeline when it does not parse.
Status optimize_module(llvm::Module& m, llvm::TargetMachine& tm, const std::string& pipeline);

/// Emits an ELF relocatable object for `m`. kCompileFailed when the target cannot emit.
Expected<std::string> emit_object(llvm::Module& m, llvm::TargetMachine& tm);

/// The name of the pass pipeline used at `opt_level` (for cache keys and --stats).
std::string pipeline_name(int opt_level);

}  // namespace tierjit::llvmtier
