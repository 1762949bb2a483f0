// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Executable memory for the JIT tiers (copy-and-patch code, tensor kernels), never writable
// and executable at once: each region is one memfd mapped twice, RW for the emitter and RX
// for execution (no mprotect per compile). Small functions take one buffer from a lock-free
// pool (64 x 4 KiB buffers per region, O(1) acquire/release); larger ones get a dedicated
// region.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "support/error.hpp"

namespace tierjit::runtime {

struct CodeBlock {
  uint8_t* rw = nullptr;  ///< writable alias
  uint8_t* rx = nullptr;  ///< executable alias (same bytes)
  size_t size = 0;
  int32_t buffer = -1;  ///< pool buffer index, or -1 for a dedicated region
};

struct CodePoolConfig {
  size_t buffer_size = 4096;             ///< bytes per pool buffer
  size_t buffers_per_region = 64;        ///< one region = 256 KiB by default
  size_t max_regions = 64;               ///< pool growth limit (exhausted: BufferAllocationFailed)
  size_t max_function_bytes = 16 << 20;  ///< larger functions: ProgramTooLarge
  bool prefault = false;  ///< populate pool regions when mapped (no page faults per compile)
};

class CodePool {
 public:
  explicit CodePool(CodePoolConfig cfg = {});
  ~CodePool();
  CodePool(const CodePool&) = delete;
  CodePool& operator=(const CodePool&) = delete;

  /// A block of at least `bytes`. Errors: kCompileFailed with "ProgramTooLarge" (over
  /// max_function_bytes) or "BufferAllocationFailed" (pool and mappings exhausted).
  Expected<CodeBlock> acquire(size_t bytes);
  /// Returns a block; its code must no longer be running or reachable from any entry cell.
  void release(const CodeBlock& b);

  size_t buffers_in_use() const { return in_use_.load(std::memory_order_relaxed); }
  size_t regions() const { return nregions_.load(std::memory_order_acquire); }
  const CodePoolConfig& config() const { return cfg_; }

 private:
  struct Mapping {
    uint8_t* rw = nullptr;
    uint8_t* rx = nullptr;
    size_t size = 0;
  };
  static Expected<Mapping> map_dual(size_t size, bool populate);
  static void unmap(const Mapping& m);
  bool grow();

  CodePoolConfig cfg_;
  std::vector<Mapping> regions_;  // sized max_regions up front; filled by grow()
  std::atomic<size_t> nregions_{0};
  std::unique_ptr<std::atomic<uint32_t>[]> next_;  // free-list links per buffer
  std::atomic<uint64_t> head_;  // (ABA tag << 32) | (buffer index + 1), 0 = empty
  std::atomic<size_t> in_use_{0};
  std::mutex grow_mu_;
  std::mutex large_mu_;
  std::vector<Mapping> large_;
  std::vector<Mapping> spare_;  // released dedicated regions kept for reuse (at most 4)
};

}  // namespace tierjit::runtime
