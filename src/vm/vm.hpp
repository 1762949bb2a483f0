// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The bytecode VM: one Instance run across the tiers (interpreter, copy-and-patch, LLVM) with
// profile-driven tier-up through atomically swapped entry cells and interpreter->tier-1 OSR.
//
//   call ─► entry cell ─► interpreter thunk ─► Interpreter        (tier 0)
//                     └─► stencil code (CodePool, RX alias)        (tier 1, nanoseconds)
//                     └─► LLVM ORC code (bytecode -> IR, O2)       (tier 2, background thread)
#pragma once
#include <bitset>
#include <memory>
#include <string>
#include <vector>

#include "bytecode/instance.hpp"
#include "runtime/code_pool.hpp"
#include "tierup/function_stats.hpp"

namespace tierjit {
class ObjectCache;
}

namespace tierjit::vm {

enum class Tier { kInterp, kCnp, kLlvm, kAuto };

/// Parses "interp", "cnp", "llvm", "auto".
Expected<Tier> parse_tier(const std::string& s);
const char* tier_name(Tier t);

struct VmConfig {
  Tier tier = Tier::kAuto;
  bytecode::InstanceConfig instance;
  /// Auto: functions with at least this many instructions start in tier 1 (compiled before
  /// their first call); smaller ones start in the interpreter (an "interpreter for
  /// < 10 instructions" rule).
  uint32_t eager_cnp_instructions = 10;
  uint64_t cnp_threshold = 50;      ///< auto: heat (calls + back-edges) for interp -> tier 1
  uint64_t llvm_threshold = 20000;  ///< auto: heat for tier 1 -> LLVM (0 = never)
  int llvm_opt = 2;
  bool background = true;  ///< auto: LLVM compiles on a background thread
  runtime::CodePoolConfig pool;
  std::bitset<256> disabled_stencils;  ///< testing: opcodes without a stencil
  ObjectCache* cache = nullptr;        ///< not owned; LLVM-tier objects (null: compile every time)
};

using FunctionStats = tierup::FunctionStats;  // tier: 0 interpreter, 1 copy-and-patch, 2 LLVM

/// Totals over a Vm's functions: how often a tier was asked for and not delivered.
struct VmFallbacks {
  uint64_t missing_stencil = 0;  ///< functions interpreted because an opcode has no stencil
  uint64_t cnp_failed = 0;       ///< functions interpreted because tier 1 failed to compile
  uint64_t llvm_failed = 0;      ///< functions left at tier 1 because LLVM failed
  uint64_t total() const { return missing_stencil + cnp_failed + llvm_failed; }
};

class Vm {
 public:
  /// `m` must outlive the Vm (code is executed and compiled in place); `hosts` is copied.
  static Expected<std::unique_ptr<Vm>> create(const bytecode::Module& m,
                                              const bytecode::HostRegistry& hosts,
                                              const VmConfig& cfg);
  ~Vm();

  /// Calls function `fn` with `args` (at most its nargs are used). The Outcome says whether it
  /// returned, halted or trapped; the instance keeps memory between calls (reset() clears).
  bytecode::Outcome call(uint32_t fn, const std::vector<uint64_t>& args);
  bytecode::Instance& instance() { return *inst_; }
  /// Blocks until queued background compiles are installed.
  void wait_idle();
  /// Per function; tier and fallback fields written by a background compile are complete
  /// after wait_idle().
  const std::vector<FunctionStats>& function_stats() const { return stats_; }
  VmFallbacks fallbacks() const;
  /// The --stats table, then one "fallbacks:" line (always printed, zeros included).
  std::string stats_text() const;

 private:
  class Impl;
  Vm() = default;
  std::unique_ptr<bytecode::Instance> inst_;
  std::vector<FunctionStats> stats_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierjit::vm
