// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// OSR continuations: optimized code that a running baseline frame enters at a loop header.
//
// The baseline tier keeps every SSA value that lives across instructions in a frame slot, and
// at each counted back-edge it checks its function's OSR table (baseline/compiler.hpp,
// Profile::osr_table). A continuation is built from the function's IR in the manner of
// D'Elia & Demetrescu, "On-Stack Replacement, Distilled" (PLDI 2018): a new function
//   i64 continuation(ptr frame, i32 header)
// whose entry switches on `header` (the header's block index); each case loads the values
// live at that header's entry from their slots (static allocas become frame addresses: the
// baseline frame stays alive below the call), adds them as the header phis' incoming values,
// and branches into a copy of the function's body, where SSA form is repaired (SSAUpdater)
// for values also defined again inside the loop. The old entry becomes unreachable and is
// deleted, so the optimizer sees only the code from the loop on. Returns become `ret i64` of
// the value's bits, as the baseline body returns them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/error.hpp"

namespace llvm {
class Function;
}  // namespace llvm

namespace tierjit::llvmir {

/// Called by a continuation on every entry, with the function id and the loop header's
/// block index (tracing only: it costs a call per entry).
struct OsrEntryHook {
  void (*fn)(void* cookie, uint32_t function, uint32_t header) = nullptr;
  void* cookie = nullptr;
  uint32_t function = 0;
};

/// Adds the continuation `name` of `f` to f's module. `slots` is the baseline compile's
/// Compiled::osr_slots for the same body (arguments, then instructions in order). Headers
/// whose live values are not all in slots (or are of a type without a slot layout) get no
/// entry; `headers` receives the block indices that have one. `entered`, if not null, is
/// incremented (atomically) on each entry, and `hook`, if not null, called. Errors: kUnsupported
/// with the reason (variadic, exception handling, block addresses, return type, a body that does
/// not match `slots`, no header with an entry).
Expected<llvm::Function*> build_osr_continuation(llvm::Function& f, const std::string& name,
                                                 const std::vector<uint32_t>& slots,
                                                 std::vector<uint32_t>* headers, uint64_t* entered,
                                                 const OsrEntryHook* hook = nullptr);

}  // namespace tierjit::llvmir
