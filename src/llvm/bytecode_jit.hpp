// Tier 2 for bytecode: translation of bytecode functions to LLVM IR with the TjFn ABI
// (preserve_none; registers become allocas that mem2reg promotes), the per-opcode semantics
// linked in from embedded bitcode and inlined, then the new-PM pipeline and ORC LLJIT.
// Requires: a verified module. Produces: native code (JITLink memory: never RWX).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "bytecode/isa.hpp"
#include "support/error.hpp"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace tierjit::llvmtier {

/// Translates function `fn` of `m` into a new LLVM module (function `tj_bc_<fn>`).
Expected<std::unique_ptr<llvm::Module>> translate_bytecode(const bytecode::Module& m, uint32_t fn,
                                                           llvm::LLVMContext& ctx);

/// Translates every function into one module with a C-ABI wrapper per function, for AOT
/// objects: `uint64_t NAME(TjCtx* ctx, uint64_t* frame)` (frame holds the arguments).
Expected<std::unique_ptr<llvm::Module>> translate_bytecode_module(const bytecode::Module& m,
                                                                  llvm::LLVMContext& ctx);

/// An ORC LLJIT that compiles bytecode functions. Thread-safe: compile() may run on a
/// background thread while code it produced earlier executes.
class BytecodeJit {
 public:
  static Expected<std::unique_ptr<BytecodeJit>> create(int opt_level);
  ~BytecodeJit();
  /// Compiles function `fn`; returns its TjFn entry address.
  Expected<void*> compile(const bytecode::Module& m, uint32_t fn);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierjit::llvmtier
