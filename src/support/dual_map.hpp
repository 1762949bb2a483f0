// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Memory that is never writable and executable at once, yet can be written after it is
// executable: one memfd mapped twice, a read-write view for emitters and a read-execute view
// for running. Neither view ever changes protection, so this works where the kernel refuses
// to make memory executable later (PR_SET_MDWE / systemd's MemoryDenyWriteExecute=yes): a
// new read-execute mapping of a file is not an "exec gain".
#pragma once
#include <cstddef>
#include <cstdint>

#include "support/error.hpp"

namespace tierjit {

struct DualMapping {
  uint8_t* rw = nullptr;  ///< writable view
  uint8_t* rx = nullptr;  ///< executable view of the same bytes
  size_t size = 0;        ///< bytes in each view (a multiple of the page size)
};

/// Maps `size` bytes (rounded up to pages) of a new memfd twice. `populate` faults every page
/// in now (MAP_POPULATE). `rx_at`: place the executable view exactly there (MAP_FIXED, over
/// address space the caller reserved); nullptr lets the kernel choose.
/// Errors: kCompileFailed with "BufferAllocationFailed: ..." (memfd or mmap failed).
/// Thread-safe.
Expected<DualMapping> map_dual(size_t size, bool populate = false, void* rx_at = nullptr);

/// Gives `m` memory of its own, for a forked child: the two views are shared with the parent
/// (MAP_SHARED of one memfd), so without this either process's writes — code, entry cells —
/// would show in the other. Copies the bytes into a new memfd and moves its views over the
/// old addresses (mremap), so every pointer into `m` stays valid. Errors: kCompileFailed.
/// Call with no other thread using `m` (e.g. in a pthread_atfork child handler).
Status privatize_dual(const DualMapping& m);

/// Unmaps both views.
void unmap_dual(const DualMapping& m);

/// The system page size.
size_t page_size();

}  // namespace tierjit
