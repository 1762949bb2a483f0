// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Content hashing (XXH3-128) for cache keys and integrity checks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tierjit {

/// A 128-bit content hash. Printed as 32 lowercase hex digits.
struct Hash128 {
  uint64_t lo = 0, hi = 0;
  bool operator==(const Hash128&) const = default;
  std::string hex() const;
  /// Parses hex() output (exactly 32 lowercase hex digits); false otherwise.
  static bool from_hex(std::string_view text, Hash128* out);
};

/// Incremental XXH3-128 over a sequence of fields. Each field is length-prefixed so that
/// ("ab","c") and ("a","bc") hash differently.
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  Hasher& add(std::string_view bytes);
  Hasher& add_u64(uint64_t v);
  Hash128 finish() const;

 private:
  void* state_;  // XXH3_state_t*
};

Hash128 hash_bytes(std::string_view bytes);
uint64_t hash64(std::string_view bytes);

}  // namespace tierjit
