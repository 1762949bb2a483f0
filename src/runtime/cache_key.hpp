// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The one builder of object-cache keys. Every key starts with the same fields: the entry's
// kind ("tierjit-" + kind), the tierjit version and the LLVM version, so that an upgrade of
// either never serves old code. The caller then adds what else the entry depends on: the
// target (TargetConfig::key(): triple, CPU, features, code model), the pass pipeline, the
// input's content. Fields are length-prefixed (Hasher), so their boundaries are part of the key.
#pragma once

#include <cstdint>
#include <string_view>

#include "support/hash.hpp"

namespace tierjit {

class CacheKey {
 public:
  /// Kinds in use: "object" (an LLVM-tier function body), "bundle" (a program's code bundle),
  /// "manifest" (a prepared program), "snippet" (JitCompiler), "stablehlo" (a compiled
  /// StableHLO module), "riscv-elf" (a linked guest executable).
  explicit CacheKey(std::string_view kind);

  /// The code generation target, as TargetConfig::key() spells it.
  CacheKey& target(std::string_view target_key) { return add(target_key); }
  CacheKey& add(std::string_view field) {
    h_.add(field);
    return *this;
  }
  CacheKey& add_u64(uint64_t v) {
    h_.add_u64(v);
    return *this;
  }
  CacheKey& add(const Hash128& content) { return add_u64(content.lo).add_u64(content.hi); }
  Hash128 finish() const { return h_.finish(); }

 private:
  Hasher h_;
};

}  // namespace tierjit
