// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The tiering VM: entry cells, hot callbacks, OSR, background LLVM compiles.
#include "vm/vm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "bytecode_llvm/bytecode_jit.hpp"
#include "cnp/compiler.hpp"
#include "interp/interp.hpp"
#include "support/jitdump.hpp"
#include "tierup/compile_queue.hpp"

namespace tierjit::vm {

using bytecode::Outcome;

constexpr uint32_t kLlvmTier = 2;  // tier-up service tier index of the LLVM tier

Expected<Tier> parse_tier(const std::string& s) {
  if (s == "interp") return Tier::kInterp;
  if (s == "cnp") return Tier::kCnp;
  if (s == "llvm") return Tier::kLlvm;
  if (s == "auto") return Tier::kAuto;
  return make_error(ErrorCode::kUsage, "unknown tier '" + s + "' (interp, cnp, llvm, auto)");
}

const char* tier_name(Tier t) {
  switch (t) {
    case Tier::kInterp:
      return "interp";
    case Tier::kCnp:
      return "cnp";
    case Tier::kLlvm:
      return "llvm";
    case Tier::kAuto:
      return "auto";
  }
  return "?";
}

class Vm::Impl {
 public:
  Impl(Vm& vm, const VmConfig& cfg) : vm_(vm), cfg_(cfg), pool_(cfg.pool), compiler_(pool_) {
    compiler_.disabled = cfg.disabled_stencils;
  }
  ~Impl() {
    if (tier_ups_) tier_ups_->stop();  // before the state its compiles touch goes away
  }

  Status init() {
    bytecode::Instance& inst = *vm_.inst_;
    const auto& m = inst.module();
    size_t n = m.functions.size();
    cnp_.resize(n);
    TjCtx* ctx = inst.ctx();
    ctx->vm = this;
    ctx->hot = &Impl::on_hot;
    ctx->interp_call = &Impl::interp_call;
    interp::NativeHooks hooks;
    if (cfg_.tier != Tier::kInterp) {
      TJ_ASSIGN_OR_RETURN(thunks_, compiler_.make_interp_thunks(n));
      hooks.enter = compiler_.enter_shim();
      hooks.interp_thunks = thunks_.data();
      hooks.osr_entry = &Impl::osr_entry;
      hooks.vm = this;
      for (size_t i = 0; i < n; ++i) inst.cells()[i] = thunks_[i];
    }
    interp_ = std::make_unique<interp::Interpreter>(inst, hooks);
    if (cfg_.tier == Tier::kLlvm || (cfg_.tier == Tier::kAuto && cfg_.llvm_threshold)) {
      TJ_ASSIGN_OR_RETURN(jit_, bytecode_llvm::BytecodeJit::create(cfg_.llvm_opt, cfg_.cache));
    }
    if (cfg_.tier == Tier::kLlvm) {  // the whole module at once: direct calls, inlining
      auto t0 = std::chrono::steady_clock::now();
      TJ_ASSIGN_OR_RETURN(std::vector<void*> entries, jit_->compile_all(m));
      uint64_t us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::steady_clock::now() - t0)
                                              .count());
      for (uint32_t i = 0; i < n; ++i) {
        vm_.stats_[i].tier = 2;
        vm_.stats_[i].compile_ns[2] = us * 1000;
        inst.cells()[i] = entries[i];
      }
    }
    for (uint32_t i = 0; i < n; ++i) {
      if (cfg_.tier == Tier::kCnp ||
          (cfg_.tier == Tier::kAuto && m.functions[i].code.size() >= cfg_.eager_cnp_instructions)) {
        TJ_TRY(compile_cnp(i));
      }
    }
    if (cfg_.tier == Tier::kAuto) {
      ctx->interp_threshold = cfg_.cnp_threshold ? cfg_.cnp_threshold : 1;
      ctx->hot_threshold = cfg_.llvm_threshold ? cfg_.llvm_threshold : UINT64_MAX;
      if (cfg_.background && jit_) {
        tier_ups_ = std::make_unique<tierup::CompileQueue>(
            n, [this](uint32_t fn, uint32_t) { compile_llvm_or_record(fn); });
        tier_ups_->start();
      }
    }
    return {};
  }

  Outcome call(uint32_t fn, const std::vector<uint64_t>& args) {
    bytecode::Instance& inst = *vm_.inst_;
    TjCtx* ctx = inst.ctx();
    ctx->status = TJ_RUNNING;
    ctx->depth = 0;
    uint64_t* r = inst.reg_base();
    uint32_t nargs = inst.module().functions[fn].nargs;
    for (uint32_t i = 0; i < nargs; ++i) r[i] = i < args.size() ? args[i] : 0;
    void* cell = __atomic_load_n(&inst.cells()[fn], __ATOMIC_ACQUIRE);
    uint64_t v = (!cell || cell == thunks_[fn])
                     ? interp_->run(fn, r)
                     : compiler_.enter_shim()(ctx, r, inst.memory(), inst.memory_size(), cell);
    Outcome o;
    o.status = ctx->status;
    o.value = ctx->status == TJ_RUNNING ? v : ctx->trap_code;
    o.trap_fn = ctx->trap_fn;
    o.trap_pc = ctx->trap_pc;
    return o;
  }

  void wait_idle() {
    if (tier_ups_) tier_ups_->drain();
  }

 private:
  friend class Vm;

  Status compile_cnp(uint32_t fn, bool for_osr = false) {
    auto t0 = std::chrono::steady_clock::now();
    cnp::CompileOptions opts;
    opts.osr_entries = for_osr;  // only a running interpreted activation can need them
    auto code = compiler_.compile(vm_.inst_->module(), fn, opts);
    FunctionStats& st = vm_.stats_[fn];
    if (!code.ok()) {
      if (code.error().message.rfind("MissingStencil", 0) == 0) {
        st.missing_stencil = true;  // stays in the interpreter, counted in fallbacks()
        st.fallback = code.error().message;
        return {};
      }
      return code.take_error();
    }
    st.compile_ns[1] = static_cast<uint64_t>((std::chrono::steady_clock::now() - t0).count());
    st.code_bytes = code->code_bytes;
    if (const char* dir = std::getenv("TIERJIT_DUMP_CNP")) {  // raw code, for objdump -b binary
      std::string path = fmt::format("{}/{}.bin", dir, vm_.inst_->module().functions[fn].name);
      if (FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(code->block.rx, 1, code->code_bytes, f);
        std::fclose(f);
      }
    }
    if (JitDump* dump = JitDump::get())
      dump->code_load(vm_.inst_->module().functions[fn].name + "$cnp", uint64_t(code->block.rx),
                      code->block.rw, code->code_bytes);
    st.tier = 1;
    cnp_[fn] = std::make_unique<cnp::CompiledCode>(std::move(code.value()));
    tierup::install_entry(vm_.inst_->cells()[fn], reinterpret_cast<void*>(cnp_[fn]->entry));
    return {};
  }

  Status compile_llvm(uint32_t fn) {
    auto t0 = std::chrono::steady_clock::now();
    TJ_ASSIGN_OR_RETURN(void* entry, jit_->compile(vm_.inst_->module(), fn));
    FunctionStats& st = vm_.stats_[fn];
    st.compile_ns[2] = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count());
    st.tier = 2;
    tierup::install_entry(vm_.inst_->cells()[fn], entry);
    return {};
  }

  // A failed tier-up leaves the function at tier 1, recorded for --stats.
  void compile_llvm_or_record(uint32_t fn) {
    Status s = compile_llvm(fn);
    if (s.ok()) return;
    FunctionStats& st = vm_.stats_[fn];
    st.llvm_failed = true;
    st.fallback = s.error().to_string();
  }

  // Heat reached a threshold: the interpreter's (-> tier 1) or tier 1's (-> LLVM).
  static void on_hot(TjCtx* ctx, uint64_t fn) {
    auto* self = static_cast<Impl*>(ctx->vm);
    FunctionStats& st = self->vm_.stats_[fn];
    if (self->cfg_.tier != Tier::kAuto) return;
    if (st.tier == 0 && !st.missing_stencil && !st.cnp_failed) {
      Status s = self->compile_cnp(static_cast<uint32_t>(fn), /*for_osr=*/true);
      if (!s.ok()) {  // e.g. code pool exhaustion: stays interpreted, counted, not retried
        st.cnp_failed = true;
        st.fallback = s.error().to_string();
      }
      return;
    }
    if (st.tier == 1 && self->jit_ && !self->llvm_requested_[fn] &&
        ctx->heat[fn] >= ctx->hot_threshold) {
      self->llvm_requested_[fn] = true;
      if (self->tier_ups_) {
        self->tier_ups_->request(static_cast<uint32_t>(fn), kLlvmTier);
      } else {
        self->compile_llvm_or_record(static_cast<uint32_t>(fn));
      }
    }
  }

  static uint64_t interp_call(TjCtx* ctx, uint64_t fn, uint64_t* r) {
    return static_cast<Impl*>(ctx->vm)->interp_->run(static_cast<uint32_t>(fn), r);
  }

  static void* osr_entry(void* vm, uint32_t fn, uint32_t pc) {
    auto* self = static_cast<Impl*>(vm);
    const auto& code = self->cnp_[fn];
    if (!code) return nullptr;
    auto it =
        std::lower_bound(code->osr.begin(), code->osr.end(), std::make_pair(pc / 4, uint32_t{0}));
    if (it == code->osr.end() || it->first != pc / 4) return nullptr;
    self->vm_.stats_[fn].osr = true;
    return code->block.rx + it->second;
  }

  Vm& vm_;
  VmConfig cfg_;
  runtime::CodePool pool_;
  cnp::Compiler compiler_;
  std::vector<void*> thunks_;
  std::vector<std::unique_ptr<cnp::CompiledCode>> cnp_;
  std::unique_ptr<interp::Interpreter> interp_;
  std::unique_ptr<bytecode_llvm::BytecodeJit> jit_;
  std::vector<bool> llvm_requested_;  // on_hot asked for LLVM (runs on the program's thread)
  std::unique_ptr<tierup::CompileQueue> tier_ups_;  // background mode only
};

Expected<std::unique_ptr<Vm>> Vm::create(const bytecode::Module& m,
                                         const bytecode::HostRegistry& hosts, const VmConfig& cfg) {
  std::unique_ptr<Vm> vm(new Vm);
  TJ_ASSIGN_OR_RETURN(vm->inst_, bytecode::Instance::create(m, hosts, cfg.instance));
  vm->stats_.resize(m.functions.size());
  for (size_t i = 0; i < m.functions.size(); ++i) {
    vm->stats_[i].name = m.functions[i].name;
    vm->stats_[i].tier = 0;  // every function starts in the interpreter
  }
  vm->impl_ = std::make_unique<Impl>(*vm, cfg);
  vm->impl_->llvm_requested_.assign(m.functions.size(), false);
  if (cfg.tier == Tier::kInterp) vm->impl_->thunks_.assign(m.functions.size(), nullptr);
  TJ_TRY(vm->impl_->init());
  return vm;
}

Vm::~Vm() { impl_.reset(); }

Outcome Vm::call(uint32_t fn, const std::vector<uint64_t>& args) { return impl_->call(fn, args); }

void Vm::wait_idle() { impl_->wait_idle(); }

std::string Vm::stats_text() const {
  const auto& m = inst_->module();
  std::string out = fmt::format("{:<24} {:>5} {:>12} {:>10} {:>10} {:>10}  notes\n", "function",
                                "tier", "heat", "cnp ns", "cnp bytes", "llvm us");
  for (size_t i = 0; i < m.functions.size(); ++i) {
    const FunctionStats& s = stats_[i];
    std::string notes;
    if (s.missing_stencil) notes += "MissingStencil(interpreted) ";
    if (s.cnp_failed) notes += "cnp-failed(interpreted) ";
    if (s.llvm_failed) notes += "llvm-failed(tier 1) ";
    if (s.osr) notes += "osr ";
    out += fmt::format("{:<24} {:>5} {:>12} {:>10} {:>10} {:>10}  {}\n", m.functions[i].name,
                       s.tier, inst_->ctx()->heat[i], s.compile_ns[1], s.code_bytes,
                       s.compile_ns[2] / 1000, notes);
  }
  out += fmt::format("stencils: {} ({} bytes); code buffers in use: {}\n", cnp::stencil_count(),
                     cnp::stencil_bytes(), impl_->pool_.buffers_in_use());
  if (impl_->jit_ && impl_->cfg_.cache)
    out += fmt::format("LLVM tier objects: {} from the object cache, {} compiled and stored\n",
                       impl_->jit_->cache_hits(), impl_->jit_->cache_stores());
  VmFallbacks f = fallbacks();
  out += fmt::format(
      "fallbacks: {} (missing stencil {}, tier-1 compile failed {}, LLVM compile failed {})\n",
      f.total(), f.missing_stencil, f.cnp_failed, f.llvm_failed);
  for (size_t i = 0; i < m.functions.size(); ++i)
    if (!stats_[i].fallback.empty())
      out += fmt::format("  {}: {}\n", m.functions[i].name, stats_[i].fallback);
  return out;
}

VmFallbacks Vm::fallbacks() const {
  VmFallbacks f;
  for (const FunctionStats& s : stats_) {
    f.missing_stencil += s.missing_stencil;
    f.cnp_failed += s.cnp_failed;
    f.llvm_failed += s.llvm_failed;
  }
  return f;
}

}  // namespace tierjit::vm
