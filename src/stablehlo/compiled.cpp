// The compiled path's JIT and runtime (see compiled.hpp).
#include "stablehlo/compiled.hpp"

#include <llvm/ExecutionEngine/Orc/AbsoluteSymbols.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "llvm/codegen.hpp"
#include "tierjit/kernels.hpp"

namespace tierjit::shlo {

// ---- runtime helpers called by lowered code ----
extern "C" {
double tj_shlo_round(int32_t type, double x) { return round_float(ElemType(type), x); }
double tj_shlo_digamma(double x) { return digamma(x); }
double tj_shlo_erf_inv(double x) { return erf_inv(x); }
double tj_shlo_bessel_i1e(double v) { return bessel_i1e(v); }
double tj_shlo_next_after(int32_t type, double x, double y) {
  return next_after(ElemType(type), x, y);
}
int64_t tj_shlo_ipow(int32_t type, int64_t base, int64_t e) {
  return int_pow(ElemType(type), base, e);
}
double tj_shlo_reduce_precision(int32_t type, double x, int32_t eb, int32_t mb) {
  return reduce_precision(ElemType(type), x, eb, mb);
}
void tj_shlo_sgemm(void* ctx, int64_t m, int64_t n, int64_t k, int32_t trans_a, int32_t trans_b,
                   const float* a, const float* b, float* c) {
  auto* engine = static_cast<kernels::KernelEngine*>(ctx);
  auto desc = kernels::GemmDesc::row_major(m, n, k, trans_a != 0, trans_b != 0);
  // Shapes were checked when the module was lowered; the kernel cannot fail on them.
  (void)engine->sgemm(desc, 1.0f, a, b, 0.0f, c);
}
}

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

struct AlignedBuffer {
  void* p = nullptr;
  size_t bytes = 0;
  ~AlignedBuffer() { std::free(p); }
  void reserve(size_t n) {
    if (n <= bytes) return;
    std::free(p);
    bytes = (n + 63) / 64 * 64;
    p = std::aligned_alloc(64, bytes);
  }
};

}  // namespace

struct CompiledModule::Impl {
  std::string file;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::unique_ptr<kernels::KernelEngine> engine;
  std::vector<uint8_t> consts;
  struct Entry {
    LoweredEntry info;
    void (*fn)(const void**, void**, const void*, void*, void*) = nullptr;
    AlignedBuffer arena;
  };
  std::map<std::string, Entry> entries;
  CheckOutcome checks;
  CompileTimes times;
};

CompiledModule::CompiledModule(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledModule::~CompiledModule() = default;

Expected<std::unique_ptr<CompiledModule>> CompiledModule::create(
    const Module& m, const std::string& file, const std::vector<std::string>& entries,
    int opt_level) {
  using llvmtier::TargetConfig;
  llvmtier::initialize_llvm_targets();
  auto impl = std::make_unique<Impl>();
  impl->file = file;
  auto t0 = std::chrono::steady_clock::now();
  TJ_ASSIGN_OR_RETURN(LoweredModule low, lower_module(m, file, entries));
  impl->times.lower_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  TargetConfig cfg = TargetConfig::host();
  TJ_ASSIGN_OR_RETURN(auto tm, llvmtier::make_target_machine(cfg, opt_level));
  low.mod->setDataLayout(tm->createDataLayout());
  low.mod->setTargetTriple(tm->getTargetTriple());
  for (llvm::Function& f : *low.mod) {
    if (f.isDeclaration()) continue;
    f.addFnAttr("target-cpu", cfg.cpu);
    f.addFnAttr("target-features", cfg.features);
  }
  llvmtier::optimize_module(*low.mod, *tm, opt_level);
  if (std::getenv("TIERJIT_DUMP_STABLEHLO_IR")) low.mod->print(llvm::errs(), nullptr);
  impl->times.optimize_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) return make_error(ErrorCode::kCompileFailed, llvm::toString(jtmb.takeError()));
  jtmb->setCodeGenOptLevel(opt_level == 0 ? llvm::CodeGenOptLevel::None
                                          : llvm::CodeGenOptLevel::Default);
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
  if (!jit)
    return make_error(ErrorCode::kCompileFailed, "LLJIT: " + llvm::toString(jit.takeError()));
  impl->jit = std::move(*jit);
  llvm::orc::SymbolMap syms;
  auto add = [&](const char* name, void* p) {
    syms[impl->jit->mangleAndIntern(name)] = {
        llvm::orc::ExecutorAddr::fromPtr(p),
        llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
  };
  add("tj_shlo_round", reinterpret_cast<void*>(&tj_shlo_round));
  add("tj_shlo_digamma", reinterpret_cast<void*>(&tj_shlo_digamma));
  add("tj_shlo_erf_inv", reinterpret_cast<void*>(&tj_shlo_erf_inv));
  add("tj_shlo_bessel_i1e", reinterpret_cast<void*>(&tj_shlo_bessel_i1e));
  add("tj_shlo_next_after", reinterpret_cast<void*>(&tj_shlo_next_after));
  add("tj_shlo_ipow", reinterpret_cast<void*>(&tj_shlo_ipow));
  add("tj_shlo_reduce_precision", reinterpret_cast<void*>(&tj_shlo_reduce_precision));
  add("tj_shlo_sgemm", reinterpret_cast<void*>(&tj_shlo_sgemm));
  if (auto e = impl->jit->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(syms))))
    return make_error(ErrorCode::kCompileFailed, llvm::toString(std::move(e)));
  if (auto e = impl->jit->addIRModule(
          llvm::orc::ThreadSafeModule(std::move(low.mod), std::move(low.ctx))))
    return make_error(ErrorCode::kCompileFailed, llvm::toString(std::move(e)));
  for (LoweredEntry& e : low.entries) {
    auto sym = impl->jit->lookup(e.symbol);
    if (!sym) return make_error(ErrorCode::kCompileFailed, llvm::toString(sym.takeError()));
    Impl::Entry& slot = impl->entries[e.func];
    slot.fn = sym->toPtr<void (*)(const void**, void**, const void*, void*, void*)>();
    slot.arena.reserve(size_t(std::max<int64_t>(e.arena_bytes, 64)));
    slot.info = std::move(e);
  }
  impl->times.codegen_ms = ms_since(t0);

  // The GEMMs' shapes are known now: generate their kernels before the first run.
  t0 = std::chrono::steady_clock::now();
  kernels::KernelConfig kc;
  kc.compile_threshold = 0;
  TJ_ASSIGN_OR_RETURN(impl->engine, kernels::KernelEngine::create(kc));
  for (const auto& [name, slot] : impl->entries)
    for (const GemmCall& g : slot.info.gemms) {
      auto desc = kernels::GemmDesc::row_major(g.m, g.n, g.k, g.trans_a, g.trans_b);
      auto prepared = impl->engine->prepare_sgemm(desc, 1.0f, 0.0f);
      if (!prepared.ok()) return prepared.take_error();
    }
  impl->times.kernels_ms = ms_since(t0);
  if (std::getenv("TIERJIT_STABLEHLO_TIMES"))
    std::fprintf(stderr, "lower %.2f ms, optimize %.2f ms, codegen %.2f ms, kernels %.2f ms\n",
                 impl->times.lower_ms, impl->times.optimize_ms, impl->times.codegen_ms,
                 impl->times.kernels_ms);
  impl->consts = std::move(low.consts);
  return std::unique_ptr<CompiledModule>(new CompiledModule(std::move(impl)));
}

const LoweredEntry* CompiledModule::entry(const std::string& name) const {
  auto it = impl_->entries.find(name);
  return it == impl_->entries.end() ? nullptr : &it->second.info;
}

Expected<std::vector<std::vector<uint8_t>>> CompiledModule::run(
    const std::string& name, const std::vector<const uint8_t*>& args) {
  auto it = impl_->entries.find(name);
  if (it == impl_->entries.end())
    return make_error(ErrorCode::kMissingEntry, "no compiled function @" + name,
                      SourceLoc{impl_->file});
  Impl::Entry& e = it->second;
  if (args.size() != e.info.args.size())
    return make_error(ErrorCode::kInvalidInput,
                      "@" + name + " takes " + std::to_string(e.info.args.size()) +
                          " inputs, got " + std::to_string(args.size()),
                      SourceLoc{impl_->file});
  size_t nres = e.info.results.size();
  std::vector<std::vector<uint8_t>> out(nres + e.info.probe_shapes.size());
  std::vector<void*> res_ptrs(out.size());
  for (size_t k = 0; k < out.size(); ++k) {
    const TensorShape& s = k < nres ? e.info.results[k] : e.info.probe_shapes[k - nres];
    out[k].resize(size_t(std::max<int64_t>(s.bytes(), 1)));
    res_ptrs[k] = out[k].data();
  }
  std::vector<const void*> arg_ptrs(args.begin(), args.end());
  e.fn(arg_ptrs.data(), res_ptrs.data(), impl_->consts.data(), e.arena.p, impl_->engine.get());
  for (const LoweredEntry::Probe& p : e.info.probes) {
    std::vector<Tensor> vals;
    for (size_t slot : p.slots) {
      const TensorShape& s = e.info.probe_shapes[slot - nres];
      vals.push_back(from_bytes(s.type, s.dims, out[slot].data()));
    }
    TJ_TRY(run_check(*p.op, p.name, vals, impl_->file, impl_->checks));
  }
  out.resize(nres);
  for (size_t k = 0; k < nres; ++k) out[k].resize(size_t(e.info.results[k].bytes()));
  return out;
}

Expected<std::vector<Tensor>> CompiledModule::call(const std::string& name,
                                                   const std::vector<Tensor>& args) {
  std::vector<std::vector<uint8_t>> packed;
  std::vector<const uint8_t*> ptrs;
  for (const Tensor& t : args) packed.push_back(to_bytes(t));
  for (const auto& p : packed) ptrs.push_back(p.data());
  TJ_ASSIGN_OR_RETURN(auto res, run(name, ptrs));
  std::vector<Tensor> out;
  const LoweredEntry& e = *entry(name);
  for (size_t k = 0; k < res.size(); ++k)
    out.push_back(from_bytes(e.results[k].type, e.results[k].dims, res[k].data()));
  return out;
}

const CheckOutcome& CompiledModule::checks() const { return impl_->checks; }
const CompileTimes& CompiledModule::times() const { return impl_->times; }

}  // namespace tierjit::shlo
