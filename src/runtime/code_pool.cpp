// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// CodePool: dual-mapped memfd regions and the lock-free buffer free list (Treiber stack with
// an ABA tag in the upper 32 bits of the head word).
#include "runtime/code_pool.hpp"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "support/dual_map.hpp"

namespace tierjit::runtime {

CodePool::CodePool(CodePoolConfig cfg) : cfg_(cfg), regions_(cfg.max_regions), head_(0) {
  next_.reset(new std::atomic<uint32_t>[cfg_.max_regions * cfg_.buffers_per_region]);
}

CodePool::~CodePool() {
  for (size_t i = 0; i < nregions_.load(); ++i) unmap(regions_[i]);
  for (const auto& m : large_) unmap(m);
  for (const auto& m : spare_) unmap(m);
}

Expected<CodePool::Mapping> CodePool::map_dual(size_t size, bool populate) {
  TJ_ASSIGN_OR_RETURN(DualMapping d, tierjit::map_dual(size, populate));
  return Mapping{d.rw, d.rx, d.size};
}

void CodePool::unmap(const Mapping& m) { unmap_dual({m.rw, m.rx, m.size}); }

bool CodePool::grow() {
  std::lock_guard<std::mutex> lock(grow_mu_);
  size_t n = nregions_.load(std::memory_order_acquire);
  if (n >= cfg_.max_regions) return false;
  auto m = map_dual(cfg_.buffer_size * cfg_.buffers_per_region, cfg_.prefault);
  if (!m.ok()) return false;
  regions_[n] = m.value();
  nregions_.store(n + 1, std::memory_order_release);
  // Push the new buffers, last first so that buffer 0 of the region is handed out first.
  for (size_t i = cfg_.buffers_per_region; i-- > 0;) {
    uint32_t idx = static_cast<uint32_t>(n * cfg_.buffers_per_region + i);
    uint64_t head = head_.load(std::memory_order_relaxed);
    uint64_t desired;
    do {
      next_[idx].store(static_cast<uint32_t>(head), std::memory_order_relaxed);
      desired = ((head >> 32) + 1) << 32 | (idx + 1);
    } while (!head_.compare_exchange_weak(head, desired, std::memory_order_release,
                                          std::memory_order_relaxed));
  }
  return true;
}

Expected<CodeBlock> CodePool::acquire(size_t bytes) {
  if (bytes > cfg_.max_function_bytes)
    return make_error(ErrorCode::kCompileFailed,
                      fmt::format("ProgramTooLarge: function needs {} bytes of code, the limit "
                                  "is {}",
                                  bytes, cfg_.max_function_bytes));
  if (bytes > cfg_.buffer_size) {
    size_t size = (bytes + 4095) & ~size_t{4095};
    {
      // Reuse a released dedicated region that is large enough (its pages are already
      // populated, which is most of the cost of a fresh mapping).
      std::lock_guard<std::mutex> lock(large_mu_);
      for (size_t i = 0; i < spare_.size(); ++i)
        if (spare_[i].size >= size) {
          Mapping m = spare_[i];
          spare_.erase(spare_.begin() + static_cast<ptrdiff_t>(i));
          large_.push_back(m);
          return CodeBlock{m.rw, m.rx, m.size, -1};
        }
    }
    TJ_ASSIGN_OR_RETURN(Mapping m, map_dual(size, false));
    std::lock_guard<std::mutex> lock(large_mu_);
    large_.push_back(m);
    return CodeBlock{m.rw, m.rx, size, -1};
  }
  while (true) {
    uint64_t head = head_.load(std::memory_order_acquire);
    while (static_cast<uint32_t>(head) != 0) {
      uint32_t idx = static_cast<uint32_t>(head) - 1;
      uint64_t desired = ((head >> 32) + 1) << 32 | next_[idx].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(head, desired, std::memory_order_acquire,
                                      std::memory_order_acquire)) {
        in_use_.fetch_add(1, std::memory_order_relaxed);
        const Mapping& m = regions_[idx / cfg_.buffers_per_region];
        size_t off = (idx % cfg_.buffers_per_region) * cfg_.buffer_size;
        return CodeBlock{m.rw + off, m.rx + off, cfg_.buffer_size, static_cast<int32_t>(idx)};
      }
    }
    if (!grow() && static_cast<uint32_t>(head_.load()) == 0)
      return make_error(ErrorCode::kCompileFailed,
                        fmt::format("BufferAllocationFailed: all {} code buffers are in use",
                                    cfg_.max_regions * cfg_.buffers_per_region));
  }
}

void CodePool::release(const CodeBlock& b) {
  if (b.buffer < 0) {
    std::lock_guard<std::mutex> lock(large_mu_);
    for (size_t i = 0; i < large_.size(); ++i)
      if (large_[i].rw == b.rw) {
        if (spare_.size() < 4) {
          spare_.push_back(large_[i]);
        } else {
          unmap(large_[i]);
        }
        large_.erase(large_.begin() + static_cast<ptrdiff_t>(i));
        break;
      }
    return;
  }
  uint32_t idx = static_cast<uint32_t>(b.buffer);
  uint64_t head = head_.load(std::memory_order_relaxed);
  uint64_t desired;
  do {
    next_[idx].store(static_cast<uint32_t>(head), std::memory_order_relaxed);
    desired = ((head >> 32) + 1) << 32 | (idx + 1);
  } while (!head_.compare_exchange_weak(head, desired, std::memory_order_release,
                                        std::memory_order_relaxed));
  in_use_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace tierjit::runtime
