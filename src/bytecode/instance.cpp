// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Instance: memory and register-stack mappings, import binding, reset, outcomes.
#include "bytecode/instance.hpp"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace tierjit::bytecode {

const char* trap_name(uint64_t status) {
  switch (status) {
    case TJ_TRAP_OUT_OF_BOUNDS:
      return "out_of_bounds";
    case TJ_TRAP_DIV_BY_ZERO:
      return "div_by_zero";
    case TJ_TRAP_STACK_OVERFLOW:
      return "stack_overflow";
    case TJ_TRAP_BUDGET:
      return "budget_exhausted";
    case TJ_TRAP_BAD_CALL:
      return "bad_call";
    case TJ_TRAP_MISALIGNED:
      return "misaligned";
    case TJ_TRAP_USER:
      return "user";
    case TJ_TRAP_HOST:
      return "host";
    default:
      return "unknown";
  }
}

std::string Outcome::describe(const Module& m) const {
  if (status == TJ_RUNNING) return fmt::format("returned {}", value);
  if (status == TJ_HALTED) return fmt::format("halt {}", value);
  std::string where = trap_fn < m.functions.size() ? m.functions[trap_fn].name : "?";
  std::string s = fmt::format("trap: {} at {}+{}", trap_name(status), where, trap_pc);
  if (status == TJ_TRAP_USER) s += fmt::format(" (code {})", value);
  return s;
}

int Outcome::exit_status() const {
  if (status == TJ_RUNNING || status == TJ_HALTED) return static_cast<int>(value & 0xff);
  return 100 + static_cast<int>(status);
}

Expected<std::unique_ptr<Instance>> Instance::create(const Module& m, const HostRegistry& hosts,
                                                     const InstanceConfig& cfg) {
  std::unique_ptr<Instance> inst(new Instance(m));
  // Bind imports and check every hcall's argument count against the host's.
  for (const auto& name : m.imports) {
    const HostFunction* h = hosts.find(name);
    if (!h)
      return make_error(ErrorCode::kUnresolvedSymbol,
                        fmt::format("host function '{}' is not registered", name));
    inst->imports_.push_back(*h);  // copied: the registry may be a temporary
  }
  for (const auto& f : m.functions)
    for (size_t w = 0; w < f.code.size();) {
      Insn in = decode(f.code.data(), w);
      if (in.op == Op::HCALL && in.c != inst->imports_[in.imm].nargs)
        return make_error(
            ErrorCode::kUnresolvedSymbol,
            fmt::format("{}+{}: hcall passes {} arguments, host function '{}' "
                        "takes {}",
                        f.name, w * 4, in.c, m.imports[in.imm], inst->imports_[in.imm].nargs));
      w += in.size() / 4;
    }
  inst->mem_size_ = cfg.memory_size ? cfg.memory_size : m.memory_size;
  if (inst->mem_size_ < kMinMemory || inst->mem_size_ > kMaxMemory)
    return make_error(ErrorCode::kUsage, fmt::format("memory size {} outside {}..{}",
                                                     inst->mem_size_, kMinMemory, kMaxMemory));
  for (const auto& d : m.data)
    if (d.addr > inst->mem_size_ || d.bytes.size() > inst->mem_size_ - d.addr)
      return make_error(ErrorCode::kUsage, "a data segment does not fit the configured memory");
  // Memory and register stack: anonymous mappings, touched lazily.
  inst->mem_map_ = (inst->mem_size_ + 4095) & ~uint64_t{4095};
  void* mem = mmap(nullptr, inst->mem_map_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  inst->regs_map_ = (cfg.max_call_depth + 2) * kMaxRegs * 8;
  void* regs = mmap(nullptr, inst->regs_map_, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED || regs == MAP_FAILED) {
    if (mem != MAP_FAILED) munmap(mem, inst->mem_map_);
    if (regs != MAP_FAILED) munmap(regs, inst->regs_map_);
    return make_error(ErrorCode::kUsage,
                      "cannot map guest memory: " + std::string(std::strerror(errno)));
  }
  inst->mem_ = static_cast<uint8_t*>(mem);
  inst->regs_ = static_cast<uint64_t*>(regs);
  inst->fuel_ = cfg.fuel;
  size_t n = m.functions.size();
  inst->cells_.assign(n, nullptr);
  inst->heat_.assign(n, 0);
  for (const auto& f : m.functions) inst->nargs_.push_back(f.nargs);
  TjCtx& c = inst->ctx_;
  c.max_depth = cfg.max_call_depth;
  c.reg_limit = inst->regs_ + inst->regs_map_ / 8;
  c.cells = inst->cells_.data();
  c.heat = inst->heat_.data();
  c.hot_threshold = UINT64_MAX;
  c.interp_threshold = UINT64_MAX;
  c.mem = inst->mem_;
  c.mem_size = inst->mem_size_;
  c.host_call = &Instance::host_call;
  c.refuel = &Instance::refuel;
  c.nargs_of = inst->nargs_.data();
  c.num_functions = n;
  c.engine = inst.get();
  inst->reset();
  return inst;
}

Instance::~Instance() {
  if (mem_) munmap(mem_, mem_map_);
  if (regs_) munmap(regs_, regs_map_);
}

void Instance::reset() {
  // MADV_DONTNEED on a private anonymous mapping gives zero pages back cheaply.
  madvise(mem_, mem_map_, MADV_DONTNEED);
  for (const auto& d : m_.data) std::memcpy(mem_ + d.addr, d.bytes.data(), d.bytes.size());
  std::fill(heat_.begin(), heat_.end(), 0);
  ctx_.status = TJ_RUNNING;
  ctx_.trap_code = 0;
  ctx_.trap_fn = ctx_.trap_pc = 0;
  ctx_.depth = 0;
  ctx_.fuel = std::min(fuel_, kFuelWindow);
  ctx_.fuel_reserve = fuel_ - ctx_.fuel;
  out_.clear();
}

void Instance::flush_output() {
  std::fwrite(out_.data(), 1, out_.size(), stdout);
  std::fflush(stdout);
  out_.clear();
}

uint64_t Instance::refuel(TjCtx* ctx, uint64_t fn) {
  if (ctx->fuel_reserve == 0) return 1;
  uint64_t take = std::min(ctx->fuel_reserve, kFuelWindow);
  ctx->fuel_reserve -= take;
  ctx->fuel = take;
  // The window that just ran out is attributed to `fn` (sampled heat for tier-up).
  uint64_t before = ctx->heat[fn], after = before + kFuelWindow;
  ctx->heat[fn] = after;
  bool crossed = (before < ctx->hot_threshold && after >= ctx->hot_threshold) ||
                 (before < ctx->interp_threshold && after >= ctx->interp_threshold);
  if (crossed && ctx->hot) ctx->hot(ctx, fn);
  return 0;
}

uint64_t Instance::host_call(TjCtx* ctx, uint64_t import, uint64_t* args, uint64_t nargs) {
  auto* self = static_cast<Instance*>(ctx->engine);
  const HostFunction* h = &self->imports_[import];
  uint64_t v = h->fn(*self, args, nargs, h->user);
  self->maybe_flush();
  return v;
}

}  // namespace tierjit::bytecode
