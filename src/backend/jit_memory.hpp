// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// JITLink memory for every object the JIT session links, from tierjit's own W^X memory: code
// segments in dual-mapped memory (written through a read-write view, run from a separate
// read-execute view that never changes protection), data segments in ordinary read-write
// pages (read-only ones protected read-only after linking). Nothing is ever mapped writable
// and executable, and nothing is made executable after the fact, so linking works under
// PR_SET_MDWE (MemoryDenyWriteExecute=yes), where LLVM's InProcessMemoryManager (mprotect
// RW -> RX) is refused.
//
// Layout: address space is reserved in arenas (64 MiB by default); one object's segments all
// come from one arena, so that the small code model's 32-bit PC-relative references between
// an object's code and data stay in range. Freed ranges are reused (first fit, coalesced) and
// their pages given back to the system at once; the address space stays reserved (under MDWE
// a range could never be made executable again once unmapped or protected).
//
// fork(): the code pages are shared with the child (one memfd), so a forked child treats every
// arena it inherited as the parent's: it runs the code there but allocates new code in arenas
// of its own and never frees into inherited ones.
//
// Thread-safety: allocate/deallocate may be called from any thread (JITLink does so from the
// compiling threads).
#pragma once

#include <llvm/ExecutionEngine/JITLink/JITLinkMemoryManager.h>

#include <cstddef>
#include <memory>

namespace tierjit::backend {

class DualMappedMemoryManager final : public llvm::jitlink::JITLinkMemoryManager {
 public:
  /// `arena_bytes`: address space reserved per arena (half code, half data); one object
  /// larger than half an arena gets an arena of its own.
  explicit DualMappedMemoryManager(size_t arena_bytes = size_t(64) << 20);
  ~DualMappedMemoryManager() override;

  void allocate(const llvm::jitlink::JITLinkDylib* jd, llvm::jitlink::LinkGraph& g,
                OnAllocatedFunction on_allocated) override;
  using JITLinkMemoryManager::allocate;
  void deallocate(std::vector<FinalizedAlloc> allocs,
                  OnDeallocatedFunction on_deallocated) override;
  using JITLinkMemoryManager::deallocate;

  /// Bytes of code and data currently allocated (for statistics and tests).
  size_t code_bytes() const;
  size_t data_bytes() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierjit::backend
