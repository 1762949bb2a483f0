// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Host calls: the system-call numbers kHostCallFirst..kHostCallLast (500..599) run functions
// the embedder registered (Sandbox::register_host_function). They see the guest only through
// HostCall, whose reads and writes are checked against the guest memory map; a bad pointer
// stops the guest with kHostCallFault instead of touching host memory.
#include <fmt/format.h>

#include <cstring>

#include "sandbox/machine.hpp"

namespace tierjit::sandbox {

bool Sandbox::Impl::host_call(uint64_t n) {
  HostCall call(*owner);
  host[n - kHostCallFirst](call);
  return !stop;
}

uint64_t HostCall::arg(int i) const { return s_.impl().x[10 + i]; }
double HostCall::farg(int i) const {
  uint64_t v = s_.impl().f[10 + i];
  double d;
  std::memcpy(&d, &v, 8);
  return d;
}
void HostCall::set_result(uint64_t v) { s_.impl().x[10] = v; }
bool HostCall::read(uint64_t addr, void* out, uint64_t n) {
  if (!s_.copy_from_guest(addr, out, n)) {
    fail(fmt::format("host call read {} bytes at 0x{:x} outside guest memory", n, addr));
    return false;
  }
  return true;
}
bool HostCall::write(uint64_t addr, const void* in, uint64_t n) {
  if (!s_.copy_to_guest(addr, in, n)) {
    fail(fmt::format("host call wrote {} bytes at 0x{:x} outside writable guest memory", n, addr));
    return false;
  }
  return true;
}
bool HostCall::read_string(uint64_t addr, std::string& out, uint64_t max) {
  Sandbox::Impl& m = s_.impl();
  out.clear();
  for (uint64_t i = 0; i < max; ++i) {
    if (!m.can_read(addr + i, 1)) {
      fail(fmt::format("host call string at 0x{:x} runs outside guest memory", addr));
      return false;
    }
    char c = static_cast<char>(m.mem[addr + i]);
    if (c == 0) return true;
    out.push_back(c);
  }
  fail(fmt::format("host call string at 0x{:x} is longer than {} bytes", addr, max));
  return false;
}
void HostCall::fail(std::string message) {
  Sandbox::Impl& m = s_.impl();
  if (!m.stop) m.fault(FaultKind::kHostCallFault, m.pc, m.x[17], std::move(message));
}

}  // namespace tierjit::sandbox
