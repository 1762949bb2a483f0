// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The baseline tier for LLVM IR: compiles one function straight from its parsed body, in one
// pass over its instructions, by copying and patching stencils (src/baseline/stencils.c) —
// no per-function module, no verifier, no optimizer, no JITLink graph.
//
// Code shape: a psABI entry (allocates the frame, stores the parameters to their slots)
// calls the body; every SSA value that is used beyond the next instruction has an 8-byte
// frame slot; each integer operation leaves its result in an accumulator register, so a
// value used only by the next instruction (the usual expression tree) never touches memory;
// a compare feeding the branch right after it becomes one compare-and-branch. Calls go to
// the callee's stub (its entry cell), globals to their addresses in the data object.
//
// What it does not compile (vectors, i128, x87 long double, aggregates other than the
// overflow intrinsics' results, invoke and landing pads, variadic definitions, byval, inline
// asm, ...) comes back as kUnsupported with a short reason; the caller compiles that one
// function with LLVM instead and counts the reason.
//
// Thread-safety: a Compiler is used by one thread at a time (the engine compiles first-tier
// bodies under its program mutex). Compiled code lives until the Compiler is destroyed.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/error.hpp"

namespace llvm {
class Function;
class GlobalValue;
}  // namespace llvm

namespace tierjit::baseline {

/// What an absolute address in compiled code refers to, so that the code can be saved and
/// loaded into another process (relocations of a code image).
enum class SymbolKind : uint8_t {
  kStub,      ///< a program function's stub, by name
  kData,      ///< a symbol of the program's data object, by name
  kHost,      ///< a host symbol (libc, libm, tierjit's shims), by name
  kCounters,  ///< this function's profile counters
  kHook,      ///< the engine's tier-up hook
  kSelf,      ///< the code image itself (jump tables), at `addend`
  kOsr,       ///< this function's OSR table (Profile::osr_table), at `addend`
};

/// The address of a global and what it is.
struct Address {
  uint64_t value = 0;
  SymbolKind kind = SymbolKind::kData;
  std::string_view name;  ///< owned by the environment; valid while the Compiler is used
};

/// One absolute 64-bit address in a code image: at `offset`, the symbol's address + addend.
struct Relocation {
  uint32_t offset = 0;
  SymbolKind kind = SymbolKind::kData;
  int64_t addend = 0;
  /// kStub, kData, kHost. A view: into the Environment's names for compiled code, into the
  /// loaded bytes for loaded code; whoever keeps relocations keeps those alive.
  std::string_view name;
};

/// How compiled code reaches the rest of the program.
struct Environment {
  /// Run-time address of a global: a function's stub, a variable in the data object, or a
  /// host symbol. An error makes the function fall back (reason: its message).
  std::function<Expected<Address>(const llvm::GlobalValue&)> address_of;
  /// True when the program may unwind through a function that is not nounwind (it has C++
  /// exception handling somewhere): such functions need unwind tables, which this tier does
  /// not emit yet, so they fall back.
  bool module_has_eh = false;
};

/// Profiling in the compiled body (tiered mode): on entry counters[0] += 1 and
/// counters[1] += call_heat; each loop back-edge adds 1 to counters[1]. When counters[1]
/// crosses `threshold`, `hook(id, next_level)` is called once.
///
/// On-stack replacement: with `osr_table` (one 8-byte cell per basic block of the function,
/// zero-initialized, owned by the caller), each counted back-edge into block B then reads
/// osr_table[B]; when the engine has stored a continuation there, the body calls it as
/// `uint64_t continuation(uint8_t* frame, uint32_t B)` and returns its result. The frame is
/// this body's: every SSA value live at B's entry is in its slot (Compiled::osr_slots says
/// where), B's phis already hold the values of the edge taken. The continuation runs the rest
/// of the function (optimized code, entered at B) and returns the function's result as the
/// body does: integers and pointers in the low bits, float/double as their bit patterns.
/// The technique: D'Elia & Demetrescu, "On-Stack Replacement, Distilled" (PLDI 2018) —
/// a continuation function whose entry block loads the live state and jumps to the header.
struct Profile {
  uint64_t* counters = nullptr;  ///< nullptr: no profiling
  uint64_t call_heat = 16;
  uint64_t threshold = 0;
  void (*hook)(uint32_t, uint32_t) = nullptr;
  uint32_t id = 0, next_level = 0;
  uint64_t* osr_table = nullptr;  ///< nullptr: no OSR checks (needs `counters`)
};

/// Where Compiled::osr_slots puts a value: its frame offset, or (with kOsrFrameObject) the
/// offset of the memory of a static alloca, whose address is frame + offset.
inline constexpr uint32_t kOsrFrameObject = 0x80000000u;

struct Compiled {
  uint64_t entry = 0;  ///< psABI entry point of the function
  uint32_t code_bytes = 0;
  uint32_t frame_bytes = 0;
  uint32_t instructions = 0;  ///< IR instructions compiled
  /// The placed code (code_bytes at `code`, readable until the Compiler is destroyed) and
  /// every absolute address in it: load() rebuilds the same code from these bytes in another
  /// process. `saveable` is false when some address cannot be expressed as a relocation (an
  /// integer computed from two addresses): such code is not saved.
  const uint8_t* code = nullptr;
  bool saveable = false;
  std::vector<Relocation> relocations;
  /// With Profile::osr_table and at least one loop: for every value of the function, in the
  /// order arguments then instructions (block by block), its frame slot offset (0: none, the
  /// value never lives in the frame), or kOsrFrameObject | offset for a static alloca.
  std::vector<uint32_t> osr_slots;
};

/// Resolves a relocation's symbol in the loading process (kSelf is resolved by load()).
using Resolver = std::function<Expected<uint64_t>(const Relocation&)>;

class Compiler {
 public:
  explicit Compiler(Environment env);
  ~Compiler();
  Compiler(const Compiler&) = delete;
  Compiler& operator=(const Compiler&) = delete;

  /// Compiles `f`, whose body must be materialized. Errors: kUnsupported with the reason
  /// (e.g. "vector type", "intrinsic llvm.va_start"); kCompileFailed when code memory is
  /// exhausted.
  Expected<Compiled> compile(const llvm::Function& f, const Profile& profile);

  /// Places a code image made by compile() (possibly in another process) and applies its
  /// relocations; returns it as compile() would (entry, code, code_bytes; no relocations).
  /// Errors: kCacheCorrupt (a relocation outside the image), the resolver's errors,
  /// kCompileFailed (code memory exhausted).
  Expected<Compiled> load(const uint8_t* image, size_t size,
                          const std::vector<Relocation>& relocations, const Resolver& resolve);

  /// Bytes of code memory in use.
  size_t code_bytes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// Number of stencils in the table (for --version style reports and tests).
size_t stencil_count();

}  // namespace tierjit::baseline
