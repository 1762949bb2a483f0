// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// An Instance is one execution of a bytecode module: its linear memory, register stack,
// entry cells, heat counters, bound host imports and output. Every tier runs against it.
// Not thread-safe: one thread executes an Instance at a time (tier-up compiles elsewhere and
// only publishes entry cells with release stores).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bytecode/abi.h"
#include "bytecode/host.hpp"
#include "bytecode/isa.hpp"
#include "support/error.hpp"

namespace tierjit::bytecode {

struct InstanceConfig {
  uint64_t memory_size = 0;         ///< bytes; 0 = the module's .memory
  uint64_t max_call_depth = 10000;  ///< deeper calls trap stack_overflow
  uint64_t fuel = UINT64_MAX;       ///< ticks (entries + backward branches); max = unlimited
};

/// How a run ended.
struct Outcome {
  uint64_t status = TJ_RUNNING;  ///< TjStatus: TJ_RUNNING means the entry returned normally
  uint64_t value = 0;            ///< entry's return value, or halt's exit status / trap code
  uint32_t trap_fn = 0, trap_pc = 0;
  /// "returned 3", "halt 1", or "trap: out_of_bounds at main+12".
  std::string describe(const Module& m) const;
  /// Process exit status: the returned/halted value's low 8 bits; a trap exits 100 + its
  /// TjStatus (102 out_of_bounds ... 109 host), docs/ISA.md "Exit status".
  int exit_status() const;
};

const char* trap_name(uint64_t status);

class Instance {
 public:
  /// Binds imports against `hosts` (kUnresolvedSymbol naming the import when missing or when
  /// an hcall passes a different argument count) and maps memory and the register stack.
  static Expected<std::unique_ptr<Instance>> create(const Module& m, const HostRegistry& hosts,
                                                    const InstanceConfig& cfg);
  ~Instance();

  const Module& module() const { return m_; }
  TjCtx* ctx() { return &ctx_; }
  uint8_t* memory() const { return mem_; }
  uint64_t memory_size() const { return mem_size_; }
  uint64_t* reg_base() const { return regs_; }
  std::string& output() { return out_; }
  /// When streaming, host output is written to stdout whenever 64 KiB accumulate.
  void set_stream_output(bool on) { stream_ = on; }
  void flush_output();
  void maybe_flush() {
    if (stream_ && out_.size() >= (64u << 10)) flush_output();
  }

  /// Restores memory to the data segments, clears heat/status/depth, refills fuel.
  void reset();
  /// Traps from inside a host function (the hcall site's location is recorded by the tier).
  void host_trap(uint64_t status) { ctx_.status = status; }

  /// The entry cell array (one TjFn per function; nullptr = interpreted, no native code).
  void** cells() { return cells_.data(); }

 private:
  Instance(const Module& m) : m_(m) {}
  static uint64_t host_call(TjCtx* ctx, uint64_t import, uint64_t* args, uint64_t nargs);
  static uint64_t refuel(TjCtx* ctx, uint64_t fn);
  /// Ticks per fuel window: how often compiled code calls refuel (and samples heat).
  static constexpr uint64_t kFuelWindow = 1024;

  const Module& m_;
  TjCtx ctx_{};
  uint8_t* mem_ = nullptr;
  uint64_t mem_size_ = 0, mem_map_ = 0;
  uint64_t* regs_ = nullptr;
  uint64_t regs_map_ = 0;
  uint64_t fuel_ = UINT64_MAX;
  std::vector<void*> cells_;
  std::vector<uint64_t> heat_;
  std::vector<uint32_t> nargs_;
  std::vector<HostFunction> imports_;  // bound copies (by import index)
  std::string out_;
  bool stream_ = false;
};

}  // namespace tierjit::bytecode
