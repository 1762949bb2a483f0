// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Host functions: the indexed table of C functions a bytecode module imports by name (`hcall`).
// The embedder registers its own next to tierjit's standard set (print_i64, write, ...).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "bytecode/abi.h"

namespace tierjit::bytecode {

class Instance;

/// A host function. `args` has `nargs` entries (the hcall's argument registers). Return the
/// result register value; to trap, call Instance::host_trap() and return 0.
using HostFn = uint64_t (*)(Instance& inst, const uint64_t* args, uint64_t nargs, void* user);

struct HostFunction {
  std::string name;
  uint32_t nargs = 0;  ///< checked against every hcall at load time
  HostFn fn = nullptr;
  void* user = nullptr;
};

/// Name -> host function. Copyable; lookups at load time only.
class HostRegistry {
 public:
  void add(HostFunction f);
  const HostFunction* find(const std::string& name) const;
  /// print_i64(v), print_u64(v), print_f64(bits), print_f32(bits) print a value and a newline;
  /// putchar(c); write(addr, len) writes guest bytes (bounds-checked: traps out_of_bounds).
  static HostRegistry standard();

 private:
  std::vector<HostFunction> fns_;
};

}  // namespace tierjit::bytecode
