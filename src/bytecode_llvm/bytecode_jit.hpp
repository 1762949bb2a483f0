// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Tier 2 for bytecode: translation of bytecode functions to LLVM IR with the TjFn ABI
// (preserve_none; registers become allocas that mem2reg promotes), the per-opcode semantics
// linked in from embedded bitcode and inlined, then the new-PM pipeline and ORC LLJIT.
// Requires: a verified module. Produces: native code (JITLink memory: never RWX).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/codegen.hpp"
#include "bytecode/isa.hpp"
#include "support/error.hpp"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace tierjit {
class ObjectCache;
}

namespace tierjit::bytecode_llvm {

/// Translates function `fn` of `m` into a new LLVM module (function `tj_bc_<fn>`).
Expected<std::unique_ptr<llvm::Module>> translate_bytecode(const bytecode::Module& m, uint32_t fn,
                                                           llvm::LLVMContext& ctx);

/// Translates every function into one module for AOT objects, with C-ABI entry points
/// (include/tierjit/bytecode_aot.h): `uint64_t tj_<NAME>(TjCtx* ctx, uint64_t* frame)` (the
/// frame holds the arguments; the call installs the module's cell table in ctx) and
/// `void tj_init_memory(uint8_t* mem)` (copies the data segments). `target` (default: the
/// host) sets the triple, data layout and semantics bitcode; for riscv64 the functions use the
/// C calling convention (LLVM has no preserve_none there).
Expected<std::unique_ptr<llvm::Module>> translate_bytecode_module(
    const bytecode::Module& m, llvm::LLVMContext& ctx,
    const backend::TargetConfig* target = nullptr);

/// An ELF relocatable object for the whole module (translate_bytecode_module, the O<level>
/// pipeline, portable x86-64 unless `native_cpu`).
Expected<std::string> compile_bytecode_object(const bytecode::Module& m, int opt_level,
                                              bool native_cpu);

/// An ORC LLJIT that compiles bytecode functions. Thread-safe: compile() may run on a
/// background thread while code it produced earlier executes.
class BytecodeJit {
 public:
  /// `cache` (not owned, may be null) keeps objects keyed by a hash of the translated LLVM
  /// module, the level and the target: a later run, or another machine through the cache's
  /// remote storage, links them without compiling.
  static Expected<std::unique_ptr<BytecodeJit>> create(int opt_level, ObjectCache* cache = nullptr);
  /// Objects that came from the cache, and objects compiled and stored.
  uint64_t cache_hits() const;
  uint64_t cache_stores() const;
  ~BytecodeJit();
  /// Compiles function `fn`; returns its TjFn entry address.
  Expected<void*> compile(const bytecode::Module& m, uint32_t fn);
  /// Compiles every function in one LLVM module (direct calls, cross-function inlining);
  /// returns the TjFn entries by function index. For `--tier llvm`.
  Expected<std::vector<void*>> compile_all(const bytecode::Module& m);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierjit::bytecode_llvm
