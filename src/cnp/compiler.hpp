// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Tier 1: the copy-and-patch compiler. One function at a time, two passes over its bytecode:
// layout (decode, O(1) stencil lookup, sizes and native offsets), then copy and patch into a
// CodePool block through its RW alias. Stencils come from the generated table.
// Requires: a verified module. Produces: RX code whose entry is a TjFn; never writes RX pages.
#pragma once
#include <bitset>
#include <cstdint>
#include <vector>

#include "bytecode/abi.h"
#include "bytecode/isa.hpp"
#include "runtime/code_pool.hpp"
#include "support/error.hpp"

namespace tierjit::cnp {

using runtime::CodeBlock;
using runtime::CodePool;

struct CompiledCode {
  CodeBlock block;
  TjFn entry = nullptr;
  size_t code_bytes = 0;  ///< bytes written (hot + cold)
  /// On-stack replacement entries (loop header word index -> code offset of its OSR_ENTRY
  /// stub, which loads the pinned registers from the frame), sorted by word index.
  std::vector<std::pair<uint32_t, uint32_t>> osr;
};

/// Latency/quality knobs of one compile.
struct CompileOptions {
  /// Keep the function's four hottest registers in machine registers (operand-shape stencil
  /// variants). Off: every operand lives in the frame; compiles faster, runs slower.
  bool pin_registers = true;
  /// Emit OSR entry stubs at loop headers (needed only when the interpreter may transfer a
  /// running activation of this function into the compiled code).
  bool osr_entries = true;
};

/// Optional timing breakdown of one compile, phase by phase, in nanoseconds.
struct CompileProfile {
  uint64_t decode_ns = 0;      ///< decoding the instructions
  uint64_t layout_ns = 0;      ///< register choice, stencil lookup, sizes, offsets
  uint64_t acquire_ns = 0;     ///< buffer from the pool
  uint64_t copy_patch_ns = 0;  ///< copy, patch, cold stubs
};

class Compiler {
 public:
  explicit Compiler(CodePool& pool);

  /// Compiles function `fn`. Errors (kUnsupported) "MissingStencil: ..." when an opcode has no
  /// stencil (or is in `disabled`, a testing knob): the caller keeps the function in the
  /// interpreter. Pool errors pass through (BufferAllocationFailed, ProgramTooLarge).
  Expected<CompiledCode> compile(const bytecode::Module& m, uint32_t fn,
                                 const CompileOptions& opts = {},
                                 CompileProfile* profile = nullptr);

  /// One interpreter thunk per function (entry cells of interpreted functions), in one block.
  Expected<std::vector<void*>> make_interp_thunks(size_t nfunctions);

  /// The C-ABI shim that calls a TjFn.
  TjEnterFn enter_shim() const { return enter_; }

  std::bitset<256> disabled;  ///< opcodes treated as having no stencil (tests)

 private:
  CodePool& pool_;
  TjEnterFn enter_ = nullptr;
  std::vector<CodeBlock> owned_;
};

/// Stencil table statistics, for `tierjit run --stats` and docs.
size_t stencil_count();
size_t stencil_bytes();

}  // namespace tierjit::cnp
