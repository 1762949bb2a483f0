// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "support/dual_map.hpp"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tierjit {

size_t page_size() {
  static const size_t size = size_t(sysconf(_SC_PAGESIZE));
  return size;
}

Expected<DualMapping> map_dual(size_t size, bool populate, void* rx_at) {
  size = (size + page_size() - 1) & ~(page_size() - 1);
  int fd = memfd_create("tierjit-code", MFD_CLOEXEC);
  if (fd < 0)
    return make_error(
        ErrorCode::kCompileFailed,
        fmt::format("BufferAllocationFailed: memfd_create: {}", std::strerror(errno)));
  void* rw = MAP_FAILED;
  void* rx = MAP_FAILED;
  if (ftruncate(fd, static_cast<off_t>(size)) == 0) {
    // MAP_POPULATE: fault every page in now, in both views, instead of twice per page while
    // compiling (a shmem fault costs microseconds in a VM).
    int flags = MAP_SHARED | (populate ? MAP_POPULATE : 0);
    rw = mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, fd, 0);
    rx = mmap(rx_at, size, PROT_READ | PROT_EXEC, flags | (rx_at ? MAP_FIXED : 0), fd, 0);
  }
  int err = errno;
  close(fd);
  if (rw == MAP_FAILED || rx == MAP_FAILED) {
    if (rw != MAP_FAILED) munmap(rw, size);
    if (rx != MAP_FAILED && !rx_at) munmap(rx, size);
    return make_error(ErrorCode::kCompileFailed,
                      fmt::format("BufferAllocationFailed: mapping {} bytes of code memory: {}",
                                  size, std::strerror(err)));
  }
  return DualMapping{static_cast<uint8_t*>(rw), static_cast<uint8_t*>(rx), size};
}

Status privatize_dual(const DualMapping& m) {
  TJ_ASSIGN_OR_RETURN(DualMapping fresh, map_dual(m.size));
  std::memcpy(fresh.rw, m.rw, m.size);
  if (mremap(fresh.rw, m.size, m.size, MREMAP_MAYMOVE | MREMAP_FIXED, m.rw) == MAP_FAILED ||
      mremap(fresh.rx, m.size, m.size, MREMAP_MAYMOVE | MREMAP_FIXED, m.rx) == MAP_FAILED)
    return make_error(ErrorCode::kCompileFailed,
                      fmt::format("remapping code memory after fork: {}", std::strerror(errno)));
  return {};
}

void unmap_dual(const DualMapping& m) {
  if (m.rw) munmap(m.rw, m.size);
  if (m.rx) munmap(m.rx, m.size);
}

}  // namespace tierjit
