// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Compile-speed measurement of the first tier: every function of a program compiled by the
// baseline tier and by LLVM at -O0 (extract, verify, FastISel, object emission — the work the
// ORC base tier does before linking), in this process, one after the other, on the same
// materialized bodies. `tierjit compile --tier baseline --time FILE` prints it.
//
// Addresses the baseline code would refer to are made up (the code is never run), so the
// measurement needs no JIT session. Thread-safety: none needed (one call, one thread).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "llvmir/program.hpp"
#include "support/error.hpp"

namespace tierjit::llvmir {

struct FunctionTiming {
  std::string name;
  uint32_t instructions = 0;  ///< IR instructions in the body
  double baseline_us = 0;     ///< baseline compile (0 when it fell back)
  std::string fallback;       ///< why the baseline tier did not compile it ("" = it did)
  double llvm_o0_us = 0;      ///< LLVM -O0: extract + verify + codegen to an object
};

struct CompileTiming {
  std::vector<FunctionTiming> functions;  ///< every defined function, in module order
  double read_ms = 0;                     ///< materializing every body (lazy bitcode)
};

/// Times both compilers over every defined function of `program` (pinned ones excluded).
/// Errors: kInvalidInput (bad bitcode), kCompileFailed (no target machine).
Expected<CompileTiming> time_first_tier(IrProgram& program);
/// The same for an input file's bytes (LLVM IR text, bitcode or LLBC), loaded lazily.
/// Errors: those of loading and preparing the IR, then of time_first_tier.
Expected<CompileTiming> time_first_tier(std::string bytes, const std::string& path);

}  // namespace tierjit::llvmir
