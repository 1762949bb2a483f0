// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Tier 0: the bytecode interpreter, the reference semantics every other tier is tested against.
// Requires: a verified module bound to an Instance. Dispatch: computed goto over the encoded
// words (no pre-decoding); interpreted calls use an explicit frame stack, not the C stack.
#pragma once
#include <cstdint>
#include <vector>

#include "bytecode/abi.h"
#include "bytecode/instance.hpp"

namespace tierjit::interp {

/// How the interpreter meets compiled code. All optional: an empty NativeHooks interprets
/// everything (cells must then all be nullptr).
struct NativeHooks {
  TjEnterFn enter = nullptr;             ///< C ABI -> TjFn shim (a stencil)
  void* const* interp_thunks = nullptr;  ///< per function: the cell value meaning
                                         ///< "interpreted" (its interpreter thunk)
  /// On-stack replacement: native address of `pc` in fn's compiled code, or nullptr.
  void* (*osr_entry)(void* vm, uint32_t fn, uint32_t pc) = nullptr;
  void* vm = nullptr;
};

/// The interpreter for one Instance. Re-entrant (native code may call back into it), not
/// thread-safe (one executing thread per Instance).
class Interpreter {
 public:
  Interpreter(bytecode::Instance& inst, NativeHooks hooks);

  /// Runs function `fn` with frame `r` (its arguments in r[0..nargs)) until it returns.
  /// On a trap or halt returns 0 with the instance's ctx()->status set.
  uint64_t run(uint32_t fn, uint64_t* r);

 private:
  struct FnInfo {
    const uint32_t* code;
    uint32_t nregs, nargs;
  };
  struct Frame {
    const uint32_t* ret_pc;
    const uint32_t* code;
    uint64_t* r;
    uint32_t fn;
    uint8_t dst;
  };
  bytecode::Instance& inst_;
  NativeHooks hooks_;
  std::vector<FnInfo> info_;
  std::vector<Frame> frames_;
};

}  // namespace tierjit::interp
