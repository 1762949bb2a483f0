// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The public Sandbox API (include/tierjit/sandbox.hpp): loading, run and vmcall (the RISC-V
// LP64D calling convention: integer arguments in a0-a7, floating-point ones in fa0-fa7, floats
// NaN-boxed), guest memory access and allocation, host functions, granted files, the output
// sink, and the names of stop reasons and faults for messages.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstring>

#include "sandbox/machine.hpp"

namespace tierjit::sandbox {

const char* fault_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone:
      return "none";
    case FaultKind::kIllegalInstruction:
      return "illegal-instruction";
    case FaultKind::kLoadFault:
      return "load-fault";
    case FaultKind::kStoreFault:
      return "store-fault";
    case FaultKind::kFetchFault:
      return "fetch-fault";
    case FaultKind::kMisaligned:
      return "misaligned";
    case FaultKind::kStackOverflow:
      return "stack-overflow";
    case FaultKind::kBreakpoint:
      return "breakpoint";
    case FaultKind::kSyscallDenied:
      return "syscall-denied";
    case FaultKind::kHostCallFault:
      return "host-call-fault";
  }
  return "?";
}

std::string describe(const RunResult& r) {
  switch (r.reason) {
    case StopReason::kExited:
      return fmt::format("exited with status {}", r.exit_code);
    case StopReason::kReturned:
      return fmt::format("returned 0x{:x}", r.value);
    case StopReason::kBudget:
      return fmt::format("stopped at pc 0x{:x}: {}", r.pc, r.message);
    case StopReason::kFault:
      return fmt::format("{} at pc 0x{:x}: {}", fault_name(r.fault), r.pc, r.message);
  }
  return "?";
}

Sandbox::Sandbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sandbox::~Sandbox() = default;

Expected<std::unique_ptr<Sandbox>> Sandbox::load(std::string_view elf, std::string name,
                                                 Limits limits) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(name);
  impl->limits = limits;
  TJ_TRY(impl->load(elf));
  std::unique_ptr<Sandbox> s(new Sandbox(std::move(impl)));
  s->impl_->owner = s.get();
  return s;
}

RunResult Sandbox::run(const std::vector<std::string>& argv) {
  Impl& m = *impl_;
  std::memset(m.x, 0, sizeof m.x);
  if (!m.setup_stack(argv)) {
    RunResult r;
    r.reason = StopReason::kFault;
    r.fault = FaultKind::kStackOverflow;
    r.message = "arguments do not fit the guest stack";
    return r;
  }
  m.pc = m.entry;
  m.execute(m.limits.max_instructions);
  return std::move(m.result);
}

RunResult Sandbox::vmcall(uint64_t address, std::span<const Arg> args) {
  Impl& m = *impl_;
  int ni = 0, nf = 0;
  for (const Arg& a : args) {
    if (a.kind == Arg::kInt) {
      if (ni < 8) m.x[10 + ni++] = a.i;
    } else if (nf < 8) {
      uint64_t v;
      if (a.kind == Arg::kDouble) {
        std::memcpy(&v, &a.d, 8);
      } else {
        float fl = static_cast<float>(a.d);
        uint32_t b;
        std::memcpy(&b, &fl, 4);
        v = 0xffffffff00000000ull | b;
      }
      m.f[10 + nf++] = v;
    }
  }
  m.x[1] = kVmcallReturn;
  m.x[2] = m.mem_size - 64;
  m.pc = address;
  m.execute(m.limits.max_instructions);
  return std::move(m.result);
}

uint64_t Sandbox::symbol(std::string_view name) const {
  auto it = impl_->symbols.find(std::string(name));
  return it == impl_->symbols.end() ? 0 : it->second;
}

bool Sandbox::copy_to_guest(uint64_t addr, const void* data, uint64_t n) {
  if (n == 0) return true;
  if (!impl_->can_write(addr, n)) return false;
  std::memcpy(impl_->mem + addr, data, n);
  return true;
}

bool Sandbox::copy_from_guest(uint64_t addr, void* out, uint64_t n) const {
  if (n == 0) return true;
  if (!impl_->can_read(addr, n)) return false;
  std::memcpy(out, impl_->mem + addr, n);
  return true;
}

uint64_t Sandbox::guest_alloc(uint64_t n) {
  Impl& m = *impl_;
  uint64_t at = align_up(m.brk, 16);
  if (n > m.brk_max || at > m.brk_max - n) return 0;
  if (m.heap_hi < at + n && !m.set_heap_hi(at + n)) return 0;
  if (at + n > m.brk_high)
    m.brk_high = at + n;
  else
    std::memset(m.mem + m.brk, 0, at + n - m.brk);
  m.brk = at + n;
  return at;
}

Status Sandbox::register_host_function(int number, HostFunction fn) {
  if (number < kHostCallFirst || number > kHostCallLast)
    return make_error(ErrorCode::kUsage, fmt::format("host function numbers are {}..{}, not {}",
                                                     kHostCallFirst, kHostCallLast, number));
  impl_->host[number - kHostCallFirst] = std::move(fn);
  return {};
}

Status Sandbox::allow_read(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::kFileNotFound, "cannot open for the guest", {path});
  ::close(fd);
  impl_->readable.push_back(path);
  return {};
}

Status Sandbox::allow_dir(const std::string& host_dir, const std::string& guest_dir,
                          bool writable) {
  std::string guest = guest_dir.empty() ? host_dir : guest_dir;
  if (guest.empty() || guest[0] != '/')
    return make_error(ErrorCode::kUsage, "a guest directory is an absolute path", {guest});
  while (guest.size() > 1 && guest.back() == '/') guest.pop_back();
  int fd = ::open(host_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return make_error(ErrorCode::kFileNotFound, "not a directory for the guest", {host_dir});
  impl_->dirs.push_back({guest, fd, writable});
  return {};
}

void Sandbox::set_environment(std::vector<std::string> env) { impl_->env = std::move(env); }

void Sandbox::set_output(std::function<void(int, std::string_view)> sink) {
  impl_->output = sink ? std::move(sink) : default_output;
}

void Sandbox::reset() { impl_->reset(); }
const Limits& Sandbox::limits() const { return impl_->limits; }

TranslationStats Sandbox::translation_stats() const {
  TranslationStats s = impl_->translator ? impl_->translator->stats() : TranslationStats{};
  s.unsupported_host_runs = impl_->unsupported_host_runs;
  return s;
}

void Sandbox::Impl::execute(uint64_t budget) {
  if (limits.tier == ExecTier::kTranslate && Translator::available()) {
    if (!translator) translator = std::make_unique<Translator>(*this);
    translator->run(budget);
    return;
  }
  if (limits.tier == ExecTier::kTranslate) ++unsupported_host_runs;  // shown by --stats
  interpret(budget);
}
uint64_t Sandbox::entry() const { return impl_->entry; }
std::pair<uint64_t, uint64_t> Sandbox::text_range() const {
  return {impl_->exec_lo, impl_->exec_hi};
}

}  // namespace tierjit::sandbox
