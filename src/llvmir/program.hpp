// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// A source module prepared for per-function compilation: locals promoted, functions numbered,
// constructors/destructors recorded, and extraction of one function (or all data) into a
// module of its own that refers to everything else by name.
//
// Symbol scheme (docs/DESIGN.md, "Entry cells"):
//   F           stable stub for function F: `jmp *F.cell`; every reference to F (calls,
//               function pointers, initializers) resolves here.
//   F$impl      the first-tier body of F, compiled lazily when the stub is first called.
//   F$t<N>      the body recompiled at tier N by tier-up.
//   __tj_counters, __tj_hot   profile counters and the tier-up hook, provided by the host.
//
// Thread-safety: an IrProgram is not thread-safe; callers hold mutex() around every call.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "llvmir/ir_loader.hpp"
#include "support/error.hpp"

namespace llvm {
class Function;
class GlobalVariable;
class LLVMContext;
class Module;
}  // namespace llvm

namespace tierjit::llvmir {

struct FunctionInfo {
  uint32_t id = 0;
  std::string name;              ///< the stub symbol (the source name after promotion)
  llvm::Function* fn = nullptr;  ///< null until the module is parsed (see from_manifest)
  bool is_vararg = false;
  bool takes_args = false;  ///< has parameters (an entry is called as main(argc, argv, envp))
  bool returns_int = false;
  /// Its block addresses are used outside its own body (in data shared with other code, or
  /// by another function): its one body is compiled with the program's data, at the policy's
  /// top level, and never replaced — a block address must name the same code for the whole
  /// run. Function-private dispatch tables (`static void *tab[] = {&&a, ...}` only loaded by
  /// the function) do not pin: each compiled body gets its own copy of its tables.
  bool pinned = false;
  /// Non-empty once an extraction found that a block address of this function may be used
  /// after its body is replaced (e.g. stored in a global to resume from later): tier-up must
  /// not replace the body it has. Set by extract_function (under mutex()).
  std::string single_body_reason;
  bool checked_block_addresses = false;
};

struct InitEntry {
  uint32_t priority = 65535;
  std::string function;  ///< name of a function in functions()
};

/// How to extract one function.
struct ExtractOptions {
  std::string symbol;              ///< name of the emitted body (e.g. "F$impl")
  bool count_calls = true;         ///< bump counters[2*id] on entry
  uint64_t heat_threshold = 0;     ///< >0: add heat, call __tj_hot(id, next_level) on crossing
  uint32_t next_level = 0;         ///< passed to __tj_hot
  bool inline_candidates = false;  ///< add small callees as available_externally bodies
};

/// Heat added per call; a loop back-edge adds 1. Function entries weigh more than single loop
/// iterations, in the spirit of JavaScriptCore's execution counters.
inline constexpr uint64_t kCallHeat = 16;

class IrProgram {
 public:
  /// Prepares `ir` (whose module lives in `ctx`). Errors: kInvalidInput (verifier failure for
  /// text IR, IR for another architecture), kUnsupported (ifuncs, thread-locals).
  static Expected<std::unique_ptr<IrProgram>> prepare(LoadedIr ir,
                                                      std::unique_ptr<llvm::LLVMContext> ctx,
                                                      std::string path);
  /// An IrProgram known only from its manifest (a previous run's summary in the cache): the
  /// module is parsed on first need (a function not yet in the cache). `bytes` is the input;
  /// it is moved from only on success.
  /// Errors: kCacheCorrupt for an unreadable manifest.
  static Expected<std::unique_ptr<IrProgram>> from_manifest(std::string_view manifest,
                                                            LoadedIr header, std::string&& bytes,
                                                            std::string path);
  /// Serializes everything from_manifest needs.
  std::string manifest() const;
  /// True when this program was known from a manifest (an earlier run saw the same input).
  bool seen_before() const { return seen_before_; }
  ~IrProgram();

  std::mutex& mutex() { return mu_; }
  const std::string& path() const { return path_; }
  const LoadedIr& input() const { return ir_; }
  const std::vector<FunctionInfo>& functions() const { return functions_; }
  const FunctionInfo* find_function(const std::string& name) const;
  const std::vector<InitEntry>& ctors() const { return ctors_; }
  const std::vector<InitEntry>& dtors() const { return dtors_; }
  /// Aliases of functions: (alias name, function id). They share the function's stub.
  const std::vector<std::pair<std::string, uint32_t>>& function_aliases() const {
    return function_aliases_;
  }
  /// Names the program expects the host to define (non-weak declarations).
  const std::vector<std::string>& external_symbols() const { return externals_; }
  /// The function type of `name` is `int main(...)`-like: (argc, argv[, envp]) or ().
  bool entry_takes_args(const FunctionInfo& f) const;
  bool entry_returns_int(const FunctionInfo& f) const;

  /// Functions with `pinned` set (their bodies go into the data module), and why.
  bool has_pinned() const { return !pin_reason_.empty(); }
  const std::string& pin_reason() const { return pin_reason_; }

  /// All global variable definitions (and aliases of them) in one module, with the bodies of
  /// pinned functions (named F$impl); other function references become declarations of
  /// their stubs. Lives in the program's context. Errors: kUnsupported for a block address
  /// taken of one pinned function inside another's body.
  Expected<std::unique_ptr<llvm::Module>> build_data_module();

  /// One function in a module of its own, in the program's context, with private copies of
  /// its dispatch tables. Verified. Errors: kInvalidInput (bad bitcode), kUnsupported (the
  /// body takes the block address of another function; such functions are pinned when the
  /// module is scanned, so this means a use the scan could not see).
  Expected<std::unique_ptr<llvm::Module>> extract_function(uint32_t id, const ExtractOptions& o);

  /// The function's own body in the program's module, materialized (bitcode is read lazily),
  /// for compilers that read IR in place (the baseline tier). Not for pinned functions.
  /// Errors: kInvalidInput (bad bitcode).
  Expected<llvm::Function*> body(uint32_t id);
  /// True when some function has a personality (C++ exception handling).
  bool has_eh();
  /// As extract_function, serialized to bitcode (for compiling in another context/thread).
  Expected<std::string> extract_function_bitcode(uint32_t id, const ExtractOptions& o);

 private:
  IrProgram() = default;
  Status promote_and_scan();
  Status scan_block_addresses();
  Status ensure_module();  // parses a manifest-only program; caller holds mutex()

  std::mutex mu_;
  std::string path_;
  std::unique_ptr<llvm::LLVMContext> ctx_;
  LoadedIr ir_;
  std::vector<FunctionInfo> functions_;
  std::vector<InitEntry> ctors_, dtors_;
  std::vector<std::pair<std::string, uint32_t>> function_aliases_;
  std::vector<std::string> externals_;
  std::unordered_map<std::string, uint32_t> by_name_;
  // Dispatch tables private to one function (by function id): cloned into each body.
  std::unordered_map<uint32_t, std::vector<llvm::GlobalVariable*>> private_tables_;
  std::unordered_map<const llvm::GlobalVariable*, uint32_t> table_owner_;
  std::string pin_reason_;  // the first reason a function was pinned ("" = none)
  std::string bytes_;       // input kept for a deferred parse (manifest mode only)
  int has_eh_ = -1;         // has_eh(), computed once
  bool seen_before_ = false;
};

}  // namespace tierjit::llvmir
