// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// What a tiering engine reports per function (`--stats`): the one record the bytecode VM and
// the LLVM IR engine fill in, so tools and tests read tiers, compile times and fallbacks the
// same way whichever engine ran the code.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace tierjit::tierup {

struct FunctionStats {
  std::string name;
  /// Tier of the code the entry cell points at, in the engine's numbering: the bytecode VM
  /// 0 interpreter, 1 copy-and-patch, 2 LLVM; the LLVM IR engine 0 base tier, k = k-th
  /// tier-up. -1: never compiled (LLVM IR engine: never called).
  int tier = -1;
  int opt_level = -1;  ///< LLVM optimization level of that code; -1 when it is not LLVM code
  uint64_t calls = 0;  ///< calls seen while the function ran profiled code
  uint32_t tier_ups = 0;
  /// Compile time spent per tier, in nanoseconds (index = tier; the LLVM IR engine adds every
  /// tier's time into index 0 when it does not keep them apart).
  std::array<uint64_t, 4> compile_ns{};
  uint64_t code_bytes = 0;  ///< size of the tier-1 code, when the engine knows it
  bool from_cache = false;  ///< the current code came from the persistent object cache
  bool osr = false;         ///< entered compiled code through on-stack replacement
  bool baseline = false;    ///< the code is the LLVM IR baseline tier's (src/baseline)

  // Fallbacks: the function runs below the tier that was asked for, and why.
  bool missing_stencil = false;  ///< an opcode has no copy-and-patch stencil: interpreted
  bool cnp_failed = false;       ///< the tier-1 compile failed (e.g. code pool full)
  bool llvm_failed = false;      ///< the LLVM compile failed: stays at the tier below
  std::string fallback;          ///< the error that caused the fallback, if any

  double compile_ms() const {
    uint64_t ns = 0;
    for (uint64_t t : compile_ns) ns += t;
    return double(ns) / 1e6;
  }
};

}  // namespace tierjit::tierup
