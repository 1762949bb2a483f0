// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The LLVM back end every tier and output shares: target machines per target (host, riscv64),
// the pass pipelines (O0-O3 and textual ones), and the one path from IR to an ELF object
// (compile_to_object). Requires: a verified module. Produces: optimized IR or object bytes.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "backend/vector_math.hpp"
#include "support/error.hpp"

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace tierjit::backend {

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
/// `vector_math` (may be null) tells the loop vectorizer which C library calls have vector
/// variants (vector_math.hpp); the pipeline must run inject-tli-mappings before
/// loop-vectorize for it to use them. Errors: kInternal naming the pipeline when it does not
/// parse.
Status optimize_module(llvm::Module& m, llvm::TargetMachine& tm, const std::string& pipeline,
                       const std::vector<VectorFunction>* vector_math = nullptr);

/// Emits an ELF relocatable object for `m`. kCompileFailed when the target cannot emit.
Expected<std::string> emit_object(llvm::Module& m, llvm::TargetMachine& tm);

/// The one IR-to-object path: runs the default pipeline at `opt_level` (0: none), calls
/// `after_optimize` (if set; e.g. to print the IR), emits. Requires: `m`'s data layout is the
/// one `tm` generates for, or empty (then it is set from `tm`). Errors: those of emit_object.
Expected<std::string> compile_to_object(
    llvm::Module& m, llvm::TargetMachine& tm, int opt_level,
    const std::function<void(llvm::Module&)>& after_optimize = {});
/// The same with a textual pipeline ("" = none). Errors: a pipeline that does not parse
/// (kInternal), those of emit_object.
Expected<std::string> compile_to_object(llvm::Module& m, llvm::TargetMachine& tm,
                                        const std::string& pipeline);

/// This thread's TargetMachine for (cfg, opt_level), built on first use. Target machines are
/// costly to build (register and lowering tables) and not thread-safe, so compiles on one
/// thread reuse one and threads never share one. Valid until the thread ends; `cfg` must be
/// the same for every call on a thread with the same `opt_level` (the host, in practice).
Expected<llvm::TargetMachine*> thread_target_machine(const TargetConfig& cfg, int opt_level);

/// The name of the pass pipeline used at `opt_level` (for cache keys and --stats).
std::string pipeline_name(int opt_level);

/// The pipeline for generated loop nests (the StableHLO lowering: loops over known shapes,
/// scalars in allocas, no calls to inline), as `opt -passes=` text. O1 and O3 are LLVM's
/// defaults. O2 is the part of default<O2> such code needs: SROA, instcombine and CFG cleanup,
/// loop rotation with LICM and induction-variable simplification prepare the loops; small
/// loops (pooling windows, short reductions) are fully unrolled; the loop vectorizer (which
/// also interleaves) and the SLP vectorizer (for what unrolling exposed) follow, then a
/// cleanup. Against default<O2> on the StableHLO benchmark models (docs/BENCHMARKS.md):
/// compile time about 0.8x, run time the same for the MLPs and up to 10% longer for the CNNs.
/// TIERJIT_STABLEHLO_PIPELINE overrides it (opt -passes= syntax) for experiments.
std::string loop_nest_pipeline(int opt_level);

}  // namespace tierjit::backend
