// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The compiled path's JIT and runtime (see compiled.hpp).
#include "stablehlo/compiled.hpp"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/OptBisect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include "backend/codegen.hpp"
#include "backend/jit_session.hpp"
#include "backend/vector_math.hpp"
#include "runtime/cache_key.hpp"
#include "runtime/object_cache.hpp"
#include "stablehlo/fft.hpp"
#include "support/hash.hpp"
#include "tierjit/kernels.hpp"

namespace tierjit::shlo {

// What the lowered code's `ctx` argument points at while an entry runs.
struct RunContext {
  kernels::KernelEngine* engine = nullptr;
  const LoweredEntry* entry = nullptr;
  std::map<std::string, std::vector<Tensor>>* probes = nullptr;
};

namespace {
kernels::Conv2dDesc conv_desc(const ConvCall& c) {
  kernels::Conv2dDesc d;
  d.n = c.n, d.h = c.h, d.w = c.w, d.c = c.c, d.k = c.k, d.r = c.r, d.s = c.s;
  d.stride_h = c.stride_h, d.stride_w = c.stride_w, d.pad_h = c.pad_h, d.pad_w = c.pad_w;
  return d;
}
}  // namespace

// ---- runtime helpers called by lowered code ----
extern "C" {
void tj_shlo_probe(void* ctx, int32_t point, const void* data) {
  auto* rc = static_cast<RunContext*>(ctx);
  const LoweredEntry::ProbePoint& p = rc->entry->probe_points.at(size_t(point));
  (*rc->probes)[p.id].push_back(
      from_bytes(p.shape.type, p.shape.dims, static_cast<const uint8_t*>(data)));
}
double tj_shlo_round(int32_t type, double x) { return round_float(ElemType(type), x); }
int64_t tj_shlo_small_bits(int32_t type, double x) {
  return int64_t(float_bits(ElemType(type), x));
}
double tj_shlo_small_value(int32_t type, int64_t bits) {
  return float_from_bits(ElemType(type), uint64_t(bits));
}
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
// One complex op in double (semantics.hpp), as the evaluator computes it. The pair is
// returned in two registers (the x86-64 SysV ABI's class SSE for a struct of two doubles,
// which LLVM's {double, double} return matches).
struct ComplexParts {
  double re, im;
};
ComplexParts tj_shlo_complex_unary(int32_t code, double re, double im) {
  Cplx v = complex_unary(OpCode(code))(Cplx(re, im));  // lowered only where not null
  return {v.real(), v.imag()};
}
ComplexParts tj_shlo_complex_binary(int32_t code, double xr, double xi, double yr, double yi) {
  Cplx v;
  complex_binary(OpCode(code), Cplx(xr, xi), Cplx(yr, yi), v);
  return {v.real(), v.imag()};
}
// stablehlo.fft on packed elements of types `in_type` and `out_type` (f32, f64, complex<f32>,
// complex<f64>): fft_length n[0..rank) over the trailing dimensions, `batch` blocks.
void tj_shlo_fft(int32_t fft_type, int32_t in_type, int32_t out_type, int64_t rank, int64_t n0,
                 int64_t n1, int64_t n2, int64_t batch, const void* in, void* out) {
  FftSpec spec;
  spec.type = FftType(fft_type);
  spec.length.assign({n0, n1, n2});
  spec.length.resize(size_t(rank));
  spec.batch = batch;
  spec.in_count = spec.out_count = 1;
  for (int64_t d = 0; d < rank; ++d) {
    bool last = d + 1 == rank;
    int64_t n = spec.length[size_t(d)], half = n / 2 + 1;
    spec.in_count *= last && spec.type == FftType::kIrfft ? half : n;
    spec.out_count *= last && spec.type == FftType::kRfft ? half : n;
  }
  ElemType ti = ElemType(in_type), to = ElemType(out_type);
  std::vector<Cplx> src(size_t(batch * spec.in_count)), dst(size_t(batch * spec.out_count));
  auto read = [](ElemType t, const void* p, size_t k) -> double {
    if (component(t) == ElemType::kF32) return static_cast<const float*>(p)[k];
    return static_cast<const double*>(p)[k];
  };
  for (size_t k = 0; k < src.size(); ++k)
    src[k] = is_complex(ti) ? Cplx(read(ti, in, 2 * k), read(ti, in, 2 * k + 1))
                            : Cplx(read(ti, in, k), 0.0);
  run_fft(spec, src.data(), dst.data());
  auto write = [](ElemType t, void* p, size_t k, double v) {
    if (component(t) == ElemType::kF32) {
      static_cast<float*>(p)[k] = float(v);
    } else {
      static_cast<double*>(p)[k] = v;
    }
  };
  for (size_t k = 0; k < dst.size(); ++k) {
    if (is_complex(to)) {
      write(to, out, 2 * k, dst[k].real());
      write(to, out, 2 * k + 1, dst[k].imag());
    } else {
      write(to, out, k, dst[k].real());
    }
  }
}
// triangular_solve on packed elements of type `type`: a[dims[0..rank)] with
// dims[rank - 1] = dims[rank - 2] = m, b and the result of shape b_dims[0..rank); `flags` bit 0
// left, 1 lower, 2 unit diagonal, 3 transpose, 4 conjugate.
void tj_shlo_triangular_solve(int32_t type, int64_t rank, const int64_t* a_dims,
                              const int64_t* b_dims, int32_t flags, const void* a, const void* b,
                              void* out) {
  std::vector<int64_t> as(a_dims, a_dims + rank), bs(b_dims, b_dims + rank);
  Tensor ta = from_bytes(ElemType(type), as, static_cast<const uint8_t*>(a));
  Tensor tb = from_bytes(ElemType(type), bs, static_cast<const uint8_t*>(b));
  Tensor r = tb;
  triangular_solve(ta, tb, r,
                   TriangularSolve{(flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0,
                                   (flags & 8) != 0, (flags & 16) != 0});
  std::vector<uint8_t> bytes = to_bytes(r);
  std::memcpy(out, bytes.data(), bytes.size());
}
void tj_shlo_sgemm(void* ctx, int64_t m, int64_t n, int64_t k, int32_t trans_a, int32_t trans_b,
                   const float* a, const float* b, float* c) {
  kernels::KernelEngine* engine = static_cast<RunContext*>(ctx)->engine;
  auto desc = kernels::GemmDesc::row_major(m, n, k, trans_a != 0, trans_b != 0);
  // Shapes were checked when the module was lowered; the kernel cannot fail on them.
  (void)engine->sgemm(desc, 1.0f, a, b, 0.0f, c);
}
void tj_shlo_conv2d_nhwc(void* ctx, int64_t index, const float* x, const float* w, float* y) {
  auto* rc = static_cast<RunContext*>(ctx);
  // Shapes were checked when the module was lowered and prepared; the call cannot fail.
  (void)rc->engine->conv2d_nhwc(conv_desc(rc->entry->convs.at(size_t(index))), x, w, nullptr, y);
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

// The runtime helpers' JITDylib in the process-wide JIT session: created once, searched by
// every module's own JITDylib (removed with the module), so a compile pays for code
// generation only, not for a new execution session.
Expected<llvm::orc::JITDylib*> runtime_helpers(backend::JitSession& session) {
  static std::once_flag once;
  static llvm::orc::JITDylib* helpers = nullptr;
  static Error failure;
  std::call_once(once, [&] {
    auto jd = session.create_dylib("shlo.runtime");
    if (!jd.ok()) {
      failure = jd.error();
      return;
    }
    auto fn = [](auto* f) { return reinterpret_cast<void*>(f); };
    std::vector<std::pair<std::string, void*>> symbols;
    for (const backend::VectorFunction& f : backend::libmvec_functions())
      symbols.emplace_back(f.vector, f.address);
    Status s = session.define_absolute(**jd, symbols);
    if (s.ok())
      s = session.define_absolute(**jd,
                                  {{"tj_shlo_round", fn(&tj_shlo_round)},
                                   {"tj_shlo_small_bits", fn(&tj_shlo_small_bits)},
                                   {"tj_shlo_small_value", fn(&tj_shlo_small_value)},
                                   {"tj_shlo_digamma", fn(&tj_shlo_digamma)},
                                   {"tj_shlo_erf_inv", fn(&tj_shlo_erf_inv)},
                                   {"tj_shlo_bessel_i1e", fn(&tj_shlo_bessel_i1e)},
                                   {"tj_shlo_next_after", fn(&tj_shlo_next_after)},
                                   {"tj_shlo_ipow", fn(&tj_shlo_ipow)},
                                   {"tj_shlo_reduce_precision", fn(&tj_shlo_reduce_precision)},
                                   {"tj_shlo_sgemm", fn(&tj_shlo_sgemm)},
                                   {"tj_shlo_conv2d_nhwc", fn(&tj_shlo_conv2d_nhwc)},
                                   {"tj_shlo_complex_unary", fn(&tj_shlo_complex_unary)},
                                   {"tj_shlo_complex_binary", fn(&tj_shlo_complex_binary)},
                                   {"tj_shlo_fft", fn(&tj_shlo_fft)},
                                   {"tj_shlo_triangular_solve", fn(&tj_shlo_triangular_solve)},
                                   {"tj_shlo_probe", fn(&tj_shlo_probe)}});
    if (s.ok()) {
      helpers = *jd;
    } else {
      failure = s.error();
    }
  });
  if (!helpers) return failure;
  return helpers;
}

// Keeps code generation's loop strength reduction off this module's context. The lowered
// loops index with plain induction-variable arithmetic that instcombine and the vectorizer
// have already simplified; LSR spent 17% of code generation on the BERT layer's 86 loops and
// changed no model's run time measurably (bench/stablehlo/run).
class NoLoopStrengthReduction : public llvm::OptPassGate {
 public:
  bool isEnabled() const override { return true; }
  bool shouldRunPass(llvm::StringRef pass, llvm::StringRef) const override {
    return pass != "Loop Strength Reduction";
  }
};

}  // namespace

struct CompiledModule::Impl {
  std::string file;
  backend::JitSession* session = nullptr;
  llvm::orc::JITDylib* jd = nullptr;
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
  ~Impl() {
    if (session) session->remove(jd);
  }
};

CompiledModule::CompiledModule(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledModule::~CompiledModule() = default;

Expected<std::unique_ptr<CompiledModule>> CompiledModule::create(
    const Module& m, const std::string& file, const std::vector<std::string>& entries,
    const CompileOptions& options) {
  int opt_level = std::clamp(options.opt_level, 0, 3);
  TJ_ASSIGN_OR_RETURN(backend::JitSession * session, backend::JitSession::get());
  TJ_ASSIGN_OR_RETURN(llvm::orc::JITDylib * helpers, runtime_helpers(*session));
  auto impl = std::make_unique<Impl>();
  impl->file = file;
  auto t0 = std::chrono::steady_clock::now();
  TJ_ASSIGN_OR_RETURN(LoweredModule low, lower_module(m, file, entries));
  impl->times.lower_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  const backend::TargetConfig& cfg = session->target();
  TJ_ASSIGN_OR_RETURN(llvm::TargetMachine * tm, backend::thread_target_machine(cfg, opt_level));
  const std::string pipeline = backend::loop_nest_pipeline(opt_level);
  low.mod->setDataLayout(tm->createDataLayout());
  low.mod->setTargetTriple(tm->getTargetTriple());
  for (llvm::Function& f : *low.mod) {
    if (f.isDeclaration()) continue;
    f.addFnAttr("target-cpu", cfg.cpu);
    f.addFnAttr("target-features", cfg.features);
  }
  // The object cache's key: the lowered IR (which is all the object depends on), the
  // pipeline, the target and both versions.
  Hash128 key;
  std::optional<std::string> object;
  if (options.cache) {
    std::string ir;
    llvm::raw_string_ostream os(ir);
    low.mod->print(os, nullptr);
    // The vector math the optimizer may call is part of what the object depends on.
    std::string vector_math;
    for (const backend::VectorFunction& f : backend::libmvec_functions())
      vector_math += f.vector + " ";
    key = CacheKey("stablehlo").add(ir).add(pipeline).add(vector_math).target(cfg.key()).finish();
    object = options.cache->load(key);
    impl->times.from_cache = object.has_value();
  }
  // TIERJIT_DUMP_STABLEHLO_IR=before|after prints the module around the optimizer.
  const char* dump = std::getenv("TIERJIT_DUMP_STABLEHLO_IR");
  if (!object) {
    if (dump && std::string_view(dump) == "before") low.mod->print(llvm::errs(), nullptr);
    if (opt_level > 0)
      TJ_TRY(backend::optimize_module(*low.mod, *tm, pipeline, &backend::libmvec_functions()));
    if (dump && std::string_view(dump) != "before") low.mod->print(llvm::errs(), nullptr);
  }
  impl->times.optimize_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  if (!object) {
    static NoLoopStrengthReduction no_lsr;  // stateless: shared by every module's context
    low.ctx->setOptPassGate(no_lsr);
    TJ_ASSIGN_OR_RETURN(std::string obj, backend::emit_object(*low.mod, *tm));
    if (options.cache) options.cache->store(key, obj);
    object = std::move(obj);
  }
  impl->session = session;
  TJ_ASSIGN_OR_RETURN(impl->jd, session->create_dylib("shlo", {helpers}));
  auto located = [&](Error e) {
    e.where = SourceLoc{file};
    return e;
  };
  if (Status st = session->add_object(*impl->jd, *object, file); !st.ok())
    return located(st.error());
  for (LoweredEntry& e : low.entries) {
    auto sym = session->lookup(*impl->jd, e.symbol);
    if (!sym) return located(sym.error());
    Impl::Entry& slot = impl->entries[e.func];
    slot.fn = reinterpret_cast<void (*)(const void**, void**, const void*, void*, void*)>(*sym);
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
  for (const auto& [name, slot] : impl->entries)
    for (const ConvCall& c : slot.info.convs)
      TJ_TRY(impl->engine->prepare_conv2d_nhwc(conv_desc(c)));
  impl->times.kernels_ms = ms_since(t0);
  if (std::getenv("TIERJIT_STABLEHLO_TIMES"))
    std::fprintf(stderr, "lower %.2f ms, optimize %.2f ms, codegen %.2f ms, kernels %.2f ms%s\n",
                 impl->times.lower_ms, impl->times.optimize_ms, impl->times.codegen_ms,
                 impl->times.kernels_ms, impl->times.from_cache ? " (object cache hit)" : "");
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
  RunContext rc{impl_->engine.get(), &e.info, &impl_->checks.probes};
  e.fn(arg_ptrs.data(), res_ptrs.data(), impl_->consts.data(), e.arena.p, &rc);
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
kernels::KernelStats CompiledModule::kernel_stats() const { return impl_->engine->stats(); }

}  // namespace tierjit::shlo
