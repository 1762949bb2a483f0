// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The C API (include/tierjit/tierjit.h): thin wrappers over the C++ API. No C++ exception
// may cross into C: allocation failures end in std::terminate, as everywhere in the library.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "runtime/object_cache.hpp"
#include "support/file.hpp"
#include "tierjit/engine.hpp"
#include "tierjit/jit_compiler.hpp"
#include "tierjit/kernels.hpp"
#include "tierjit/sandbox.hpp"
#include "tierjit/stablehlo.hpp"
#include "tierjit/tierjit.h"
#include "tierjit/version.hpp"

using namespace tierjit;

struct tierjit_error {
  ErrorCode code;
  std::string message;
};

struct tierjit_program {
  std::unique_ptr<Engine> engine;
  bool ran = false;
};

struct tierjit_jit {
  std::unique_ptr<JitCompiler> jit;
};

struct tierjit_function {
  std::shared_ptr<const CompiledFunction> fn;
};

struct tierjit_kernels {
  std::unique_ptr<kernels::KernelEngine> engine;
};

struct tierjit_stablehlo {
  std::unique_ptr<stablehlo::Program> program;
};

struct tierjit_sandbox {
  std::unique_ptr<sandbox::Sandbox> sandbox;
  std::string message;  // the last result's line (tierjit_sandbox_result::message)
};

struct tierjit_host_call {
  sandbox::HostCall* call;
};

namespace {

// The C enumerations mirror the C++ ones value for value (the wrappers cast between them).
static_assert(int(ErrorCode::kUsage) == TIERJIT_ERROR_USAGE &&
              int(ErrorCode::kInvalidInput) == TIERJIT_ERROR_INVALID_INPUT &&
              int(ErrorCode::kFileNotFound) == TIERJIT_ERROR_FILE_NOT_FOUND &&
              int(ErrorCode::kMissingEntry) == TIERJIT_ERROR_MISSING_ENTRY &&
              int(ErrorCode::kUnresolvedSymbol) == TIERJIT_ERROR_UNRESOLVED_SYMBOL &&
              int(ErrorCode::kCompileFailed) == TIERJIT_ERROR_COMPILE_FAILED &&
              int(ErrorCode::kCacheCorrupt) == TIERJIT_ERROR_CACHE_CORRUPT &&
              int(ErrorCode::kIo) == TIERJIT_ERROR_IO &&
              int(ErrorCode::kUnsupported) == TIERJIT_ERROR_UNSUPPORTED &&
              int(ErrorCode::kInternal) == TIERJIT_ERROR_INTERNAL);
static_assert(int(stablehlo::DType::kBool) == TIERJIT_BOOL &&
              int(stablehlo::DType::kU64) == TIERJIT_U64 &&
              int(stablehlo::DType::kBF16) == TIERJIT_BF16 &&
              int(stablehlo::DType::kF64) == TIERJIT_F64 &&
              int(stablehlo::DType::kI2) == TIERJIT_I2 &&
              int(stablehlo::DType::kU4) == TIERJIT_U4 &&
              int(stablehlo::DType::kC128) == TIERJIT_C128 &&
              int(stablehlo::DType::kF8E8M0FNU) == TIERJIT_F8E8M0FNU);
static_assert(int(sandbox::StopReason::kExited) == TIERJIT_STOP_EXITED &&
              int(sandbox::StopReason::kReturned) == TIERJIT_STOP_RETURNED &&
              int(sandbox::StopReason::kFault) == TIERJIT_STOP_FAULT &&
              int(sandbox::StopReason::kBudget) == TIERJIT_STOP_BUDGET);
static_assert(int(kernels::UnaryOp::kGelu) == TIERJIT_GELU &&
              int(kernels::BinaryOp::kMin) == TIERJIT_MIN &&
              int(kernels::ReduceOp::kMean) == TIERJIT_REDUCE_MEAN);

tierjit_error* to_c(Error e) { return new tierjit_error{e.code, e.to_string()}; }
tierjit_error* usage(std::string message) {
  return new tierjit_error{ErrorCode::kUsage, std::move(message)};
}
char* dup_string(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}
std::string str(const char* s, const char* fallback = "") { return s ? s : fallback; }

// A versioned options struct the caller passed, or the defaults when it is NULL or older than
// the member we read (a struct from an older header is shorter).
template <class T>
T options_or_default(const T* given, void (*init)(T*)) {
  T o;
  init(&o);
  if (given) std::memcpy(&o, given, std::min(given->size, sizeof(T)));
  o.size = sizeof(T);
  return o;
}

}  // namespace

extern "C" {

// ---- errors and versions ----

tierjit_error_code tierjit_error_get_code(const tierjit_error* e) {
  return static_cast<tierjit_error_code>(int(e->code));
}
const char* tierjit_error_message(const tierjit_error* e) { return e->message.c_str(); }
int tierjit_error_exit_status(const tierjit_error* e) { return exit_status(e->code); }
void tierjit_error_delete(tierjit_error* e) { delete e; }
void tierjit_string_delete(char* s) { std::free(s); }
const char* tierjit_version(void) { return kVersion; }
const char* tierjit_llvm_version(void) { return kLlvmVersion; }

// ---- programs ----

void tierjit_program_options_init(tierjit_program_options* o) {
  RunConfig d;
  *o = {};
  o->size = sizeof(*o);
  o->opt_level = d.opt_level;
  o->cache = d.cache;
  o->baseline = d.baseline;
  o->osr = d.osr;
}

namespace {
RunConfig run_config(const tierjit_program_options* given, const std::string& path) {
  tierjit_program_options o = options_or_default(given, tierjit_program_options_init);
  RunConfig cfg;
  cfg.path = path;
  cfg.opt_level = o.opt_level;
  if (o.thresholds) cfg.tier_thresholds = o.thresholds;
  cfg.entry = str(o.entry);
  cfg.cache = o.cache;
  cfg.cache_dir = str(o.cache_dir);
  cfg.baseline = o.baseline && o.opt_level < 0;
  cfg.osr = o.osr;
  cfg.trace_path = str(o.trace_path);
  return cfg;
}
tierjit_error* finish_load(std::unique_ptr<Engine> engine, Error& err, tierjit_program** out) {
  if (!engine) return to_c(std::move(err));
  *out = new tierjit_program{std::move(engine)};
  return nullptr;
}
}  // namespace

tierjit_error* tierjit_program_load(const char* path, const tierjit_program_options* options,
                                    tierjit_program** out) {
  if (!path || !out) return usage("tierjit_program_load: path and out must not be NULL");
  RunConfig cfg = run_config(options, path);
  if (cfg.opt_level > 3) return usage("opt_level must be -1 (tiered) or 0..3");
  Error err;
  return finish_load(Engine::load(cfg, &err), err, out);
}

tierjit_error* tierjit_program_load_bytes(const void* bytes, size_t length, const char* name,
                                          const tierjit_program_options* options,
                                          tierjit_program** out) {
  if ((!bytes && length) || !out)
    return usage("tierjit_program_load_bytes: bytes and out must not be NULL");
  RunConfig cfg = run_config(options, str(name, "<memory>"));
  if (cfg.opt_level > 3) return usage("opt_level must be -1 (tiered) or 0..3");
  Error err;
  std::string data(static_cast<const char*>(bytes), length);
  return finish_load(Engine::load(cfg, std::move(data), &err), err, out);
}

tierjit_error* tierjit_program_run(tierjit_program* p, int argc, const char* const* argv,
                                   int* status) {
  if (!p || !status || argc < 0 || (argc > 0 && !argv))
    return usage("tierjit_program_run: program, status and argv (argc > 0) must not be NULL");
  if (p->ran) return usage("tierjit_program_run: a program runs once");
  p->ran = true;
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i) args.emplace_back(argv[i] ? argv[i] : "");
  if (args.empty()) args.emplace_back("program");
  Error err;
  int r = p->engine->run(args, &err);
  if (r < 0 && !err.message.empty()) {
    p->engine->finish();
    return to_c(std::move(err));
  }
  p->engine->finish();
  *status = r;
  return nullptr;
}

char* tierjit_program_stats_json(const tierjit_program* p) {
  return dup_string(p->engine->stats_json());
}

void tierjit_program_delete(tierjit_program* p) { delete p; }

// ---- the function JIT ----

void tierjit_jit_options_init(tierjit_jit_options* o) {
  JitConfig d;
  *o = {};
  o->size = sizeof(*o);
  o->opt_level = d.optimization_level;
  o->cache = d.cache_enabled;
  o->max_cached = d.max_cached_functions;
}

tierjit_error* tierjit_jit_new(const tierjit_jit_options* options, tierjit_jit** out) {
  if (!out) return usage("tierjit_jit_new: out must not be NULL");
  tierjit_jit_options o = options_or_default(options, tierjit_jit_options_init);
  if (o.opt_level < 0 || o.opt_level > 3) return usage("opt_level must be 0..3");
  JitConfig cfg;
  cfg.optimization_level = o.opt_level;
  cfg.cache_enabled = o.cache;
  cfg.cache_dir = str(o.cache_dir);
  cfg.max_cached_functions = o.max_cached;
  *out = new tierjit_jit{std::make_unique<JitCompiler>(cfg)};
  return nullptr;
}

void tierjit_jit_delete(tierjit_jit* jit) { delete jit; }

tierjit_error* tierjit_jit_compile(tierjit_jit* jit, const char* ir, size_t length, const char* id,
                                   tierjit_function** out) {
  if (!jit || (!ir && length) || !id || !out)
    return usage("tierjit_jit_compile: jit, ir, id and out must not be NULL");
  auto fn = jit->jit->compile_llvm_ir(std::string_view(ir ? ir : "", length), id);
  if (!fn.ok()) return to_c(fn.take_error());
  *out = new tierjit_function{std::move(fn).value()};
  return nullptr;
}

void* tierjit_function_address(const tierjit_function* f) { return f->fn->function_pointer; }
void* tierjit_function_lookup(const tierjit_function* f, const char* symbol) {
  return symbol ? f->fn->lookup(symbol) : nullptr;
}
const char* tierjit_function_name(const tierjit_function* f) { return f->fn->name.c_str(); }
double tierjit_function_compile_ms(const tierjit_function* f) { return f->fn->compilation_time_ms; }
bool tierjit_function_from_cache(const tierjit_function* f) { return f->fn->from_disk_cache; }
void tierjit_function_delete(tierjit_function* f) { delete f; }

void tierjit_jit_get_stats(const tierjit_jit* jit, tierjit_jit_stats* stats) {
  CacheStatistics s = jit->jit->get_cache_stats();
  tierjit_jit_stats o{};
  o.size = sizeof(o);
  o.compilations = s.total_compilations;
  o.successful = s.successful_compilations;
  o.failed = s.failed_compilations;
  o.memory_hits = s.cache_hits;
  o.memory_misses = s.cache_misses;
  o.disk_hits = s.disk_hits;
  o.compile_ms = jit->jit->get_stats().total_compilation_time_ms;
  o.cached = s.cache_size;
  std::memcpy(stats, &o, std::min(stats->size, sizeof(o)));
}

void tierjit_jit_clear_cache(tierjit_jit* jit) { jit->jit->clear_cache(); }

// ---- the object cache ----

char* tierjit_cache_default_dir(void) { return dup_string(ObjectCache::default_dir()); }

tierjit_error* tierjit_cache_usage_get(const char* dir, tierjit_cache_usage* usage_out) {
  if (!usage_out) return usage("tierjit_cache_usage_get: usage must not be NULL");
  ObjectCache cache(str(dir));
  DiskUsage u = cache.usage();
  tierjit_cache_usage o{sizeof(tierjit_cache_usage), u.entries, u.bytes};
  std::memcpy(usage_out, &o, std::min(usage_out->size, sizeof(o)));
  return nullptr;
}

tierjit_error* tierjit_cache_clear(const char* dir) {
  ObjectCache cache(str(dir));
  if (Status s = cache.clear(); !s.ok()) return to_c(s.take_error());
  return nullptr;
}

// ---- kernels ----

void tierjit_kernels_options_init(tierjit_kernels_options* o) {
  kernels::KernelConfig d;
  *o = {};
  o->size = sizeof(*o);
  o->compile_threshold = d.compile_threshold;
  o->threads = d.threads;
}

tierjit_error* tierjit_kernels_new(const tierjit_kernels_options* options, tierjit_kernels** out) {
  if (!out) return usage("tierjit_kernels_new: out must not be NULL");
  tierjit_kernels_options o = options_or_default(options, tierjit_kernels_options_init);
  kernels::KernelConfig cfg;
  cfg.compile_threshold = o.compile_threshold;
  cfg.threads = o.threads;
  if (o.isa) {
    auto isa = kernels::parse_isa(o.isa);
    if (!isa.ok()) return to_c(isa.take_error());
    cfg.isa_set = true;
    cfg.isa = isa.value();
  }
  auto engine = kernels::KernelEngine::create(cfg);
  if (!engine.ok()) return to_c(engine.take_error());
  *out = new tierjit_kernels{std::move(engine).value()};
  return nullptr;
}

void tierjit_kernels_delete(tierjit_kernels* k) { delete k; }
const char* tierjit_kernels_isa(const tierjit_kernels* k) {
  return kernels::isa_name(k->engine->isa());
}
char* tierjit_kernels_stats(const tierjit_kernels* k) {
  return dup_string(k->engine->stats_text());
}

namespace {
tierjit_error* status(Status s) { return s.ok() ? nullptr : to_c(s.take_error()); }
constexpr size_t kMaxRank = 8;
}  // namespace

tierjit_error* tierjit_sgemm(tierjit_kernels* k, bool col_major, bool trans_a, bool trans_b,
                             int64_t m, int64_t n, int64_t kk, float alpha, const float* a,
                             int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                             int64_t ldc) {
  kernels::GemmDesc d;
  d.layout = col_major ? kernels::Layout::kColMajor : kernels::Layout::kRowMajor;
  d.trans_a = trans_a ? kernels::Transpose::kYes : kernels::Transpose::kNo;
  d.trans_b = trans_b ? kernels::Transpose::kYes : kernels::Transpose::kNo;
  d.m = m, d.n = n, d.k = kk, d.lda = lda, d.ldb = ldb, d.ldc = ldc;
  return status(k->engine->sgemm(d, alpha, a, b, beta, c));
}

tierjit_error* tierjit_unary(tierjit_kernels* k, tierjit_unary_op op, int64_t n, const float* x,
                             float* y) {
  if (int(op) < 0 || int(op) > TIERJIT_GELU) return usage("tierjit_unary: unknown op");
  return status(k->engine->unary(static_cast<kernels::UnaryOp>(op), n, x, y));
}

tierjit_error* tierjit_binary(tierjit_kernels* k, tierjit_binary_op op, const int64_t* a_shape,
                              size_t a_rank, const float* a, const int64_t* b_shape, size_t b_rank,
                              const float* b, float* y) {
  if (int(op) < 0 || int(op) > TIERJIT_MIN) return usage("tierjit_binary: unknown op");
  if (a_rank > kMaxRank || b_rank > kMaxRank || (a_rank && !a_shape) || (b_rank && !b_shape))
    return usage("tierjit_binary: shapes of rank 0..8 with non-NULL dimensions");
  return status(k->engine->binary(static_cast<kernels::BinaryOp>(op), {a_shape, a_rank}, a,
                                  {b_shape, b_rank}, b, y));
}

tierjit_error* tierjit_reduce(tierjit_kernels* k, tierjit_reduce_op op, const int64_t* shape,
                              size_t rank, int axis, const float* x, float* y) {
  if (int(op) < 0 || int(op) > TIERJIT_REDUCE_MEAN) return usage("tierjit_reduce: unknown op");
  if (rank > kMaxRank || (rank && !shape))
    return usage("tierjit_reduce: a shape of rank 0..8 with non-NULL dimensions");
  return status(k->engine->reduce(static_cast<kernels::ReduceOp>(op), {shape, rank}, axis, x, y));
}

tierjit_error* tierjit_softmax(tierjit_kernels* k, int64_t rows, int64_t cols, const float* x,
                               float* y) {
  return status(k->engine->softmax(rows, cols, x, y));
}

tierjit_error* tierjit_layer_norm(tierjit_kernels* k, int64_t rows, int64_t cols, const float* x,
                                  const float* gamma, const float* beta, float eps, float* y) {
  return status(k->engine->layer_norm(rows, cols, x, gamma, beta, eps, y));
}

// ---- StableHLO ----

tierjit_error* tierjit_stablehlo_parse(const char* text, size_t length, const char* file,
                                       tierjit_stablehlo** out) {
  if ((!text && length) || !out)
    return usage("tierjit_stablehlo_parse: text and out must not be NULL");
  auto p = stablehlo::Program::parse(std::string(text ? text : "", length), str(file, "<memory>"));
  if (!p.ok()) return to_c(p.take_error());
  p.value()->set_path(stablehlo::ExecutionPath::kCompiled);
  *out = new tierjit_stablehlo{std::move(p).value()};
  return nullptr;
}

void tierjit_stablehlo_delete(tierjit_stablehlo* m) { delete m; }

void tierjit_stablehlo_set_compiled(tierjit_stablehlo* m, bool compiled) {
  m->program->set_path(compiled ? stablehlo::ExecutionPath::kCompiled
                                : stablehlo::ExecutionPath::kReference);
}

tierjit_error* tierjit_stablehlo_compile(tierjit_stablehlo* m, const char* entry, double* ms) {
  auto r = m->program->compile(str(entry, "main"));
  if (!r.ok()) return to_c(r.take_error());
  if (ms) *ms = r.value();
  return nullptr;
}

tierjit_error* tierjit_stablehlo_arity(const tierjit_stablehlo* m, const char* entry,
                                       size_t* count) {
  auto sig = m->program->signature(str(entry, "main"));
  if (!sig.ok()) return to_c(sig.take_error());
  *count = sig.value().size();
  return nullptr;
}

tierjit_error* tierjit_stablehlo_argument(const tierjit_stablehlo* m, const char* entry, size_t i,
                                          tierjit_dtype* dtype, size_t* rank, int64_t* shape,
                                          size_t max_rank) {
  auto sig = m->program->signature(str(entry, "main"));
  if (!sig.ok()) return to_c(sig.take_error());
  if (i >= sig.value().size())
    return usage("argument " + std::to_string(i) + " of " + std::to_string(sig.value().size()));
  const stablehlo::Tensor& t = sig.value()[i];
  if (t.shape.size() > max_rank)
    return usage("argument " + std::to_string(i) + " has rank " + std::to_string(t.shape.size()) +
                 ", above max_rank " + std::to_string(max_rank));
  *dtype = static_cast<tierjit_dtype>(int(t.dtype));
  *rank = t.shape.size();
  for (size_t d = 0; d < t.shape.size(); ++d) shape[d] = t.shape[d];
  return nullptr;
}

namespace {
std::string describe(tierjit_dtype dtype, size_t rank, const int64_t* shape) {
  std::string s = stablehlo::dtype_name(static_cast<stablehlo::DType>(dtype));
  s += "[";
  for (size_t i = 0; i < rank; ++i) {
    if (i) s += 'x';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}
}  // namespace

tierjit_error* tierjit_stablehlo_run(tierjit_stablehlo* m, const char* entry,
                                     const tierjit_tensor* inputs, size_t n_inputs,
                                     tierjit_tensor* outputs, size_t n_outputs) {
  if ((n_inputs && !inputs) || (n_outputs && !outputs))
    return usage("tierjit_stablehlo_run: inputs and outputs must not be NULL");
  std::vector<stablehlo::Tensor> in(n_inputs);
  for (size_t i = 0; i < n_inputs; ++i) {
    const tierjit_tensor& t = inputs[i];
    if (int(t.dtype) < 0 || int(t.dtype) > TIERJIT_F64 || (t.rank && !t.shape) ||
        (t.bytes && !t.data))
      return to_c(make_error(ErrorCode::kInvalidInput,
                             "input " + std::to_string(i) + ": bad dtype, shape or data"));
    in[i].dtype = static_cast<stablehlo::DType>(t.dtype);
    in[i].shape.assign(t.shape, t.shape + t.rank);
    if (uint64_t(in[i].size()) * uint64_t(stablehlo::dtype_size(in[i].dtype)) != t.bytes)
      return to_c(make_error(ErrorCode::kInvalidInput, "input " + std::to_string(i) + " (" +
                                                           describe(t.dtype, t.rank, t.shape) +
                                                           ") has " + std::to_string(t.bytes) +
                                                           " bytes"));
    auto* p = static_cast<const uint8_t*>(t.data);
    in[i].data.assign(p, p + t.bytes);
  }
  auto r = m->program->run(str(entry, "main"), in);
  if (!r.ok()) return to_c(r.take_error());
  const std::vector<stablehlo::Tensor>& res = r.value();
  if (res.size() != n_outputs)
    return to_c(make_error(ErrorCode::kInvalidInput, "the entry has " + std::to_string(res.size()) +
                                                         " results, " + std::to_string(n_outputs) +
                                                         " outputs given"));
  for (size_t i = 0; i < n_outputs; ++i) {  // check every output before writing any
    const tierjit_tensor& o = outputs[i];
    const stablehlo::Tensor& t = res[i];
    bool same = int(o.dtype) == int(t.dtype) && o.rank == t.shape.size() &&
                (o.rank == 0 || (o.shape && std::equal(t.shape.begin(), t.shape.end(), o.shape))) &&
                o.bytes == t.data.size() && (o.bytes == 0 || o.data);
    if (!same)
      return to_c(make_error(
          ErrorCode::kInvalidInput,
          "output " + std::to_string(i) + " is " +
              describe(static_cast<tierjit_dtype>(int(t.dtype)), t.shape.size(), t.shape.data()) +
              " (" + std::to_string(t.data.size()) + " bytes); the buffer given does not match"));
  }
  for (size_t i = 0; i < n_outputs; ++i)
    if (outputs[i].bytes) std::memcpy(outputs[i].data, res[i].data.data(), outputs[i].bytes);
  return nullptr;
}

// ---- the sandbox ----

void tierjit_sandbox_limits_init(tierjit_sandbox_limits* l) {
  sandbox::Limits d;
  *l = {};
  l->size = sizeof(*l);
  l->max_memory = d.max_memory;
  l->stack_size = d.stack_size;
  l->max_instructions = d.max_instructions;
  l->strict = d.strict;
  l->interpret = d.tier == sandbox::ExecTier::kInterpret;
  l->allow_stdin = d.allow_stdin;
}

tierjit_error* tierjit_sandbox_load(const void* elf, size_t length, const char* name,
                                    const tierjit_sandbox_limits* limits, tierjit_sandbox** out) {
  if ((!elf && length) || !out) return usage("tierjit_sandbox_load: elf and out must not be NULL");
  tierjit_sandbox_limits l = options_or_default(limits, tierjit_sandbox_limits_init);
  sandbox::Limits lim;
  lim.max_memory = l.max_memory;
  lim.stack_size = l.stack_size;
  lim.max_instructions = l.max_instructions;
  lim.strict = l.strict;
  lim.tier = l.interpret ? sandbox::ExecTier::kInterpret : sandbox::ExecTier::kTranslate;
  lim.allow_stdin = l.allow_stdin;
  auto s = sandbox::Sandbox::load(std::string_view(static_cast<const char*>(elf), length),
                                  str(name, "<memory>"), lim);
  if (!s.ok()) return to_c(s.take_error());
  *out = new tierjit_sandbox{std::move(s).value(), {}};
  return nullptr;
}

void tierjit_sandbox_delete(tierjit_sandbox* s) { delete s; }

namespace {
void fill(tierjit_sandbox* s, const sandbox::RunResult& r, tierjit_sandbox_result* out) {
  s->message = sandbox::describe(r);
  tierjit_sandbox_result o{};
  o.size = sizeof(o);
  o.reason = static_cast<tierjit_stop_reason>(int(r.reason));
  o.exit_code = r.exit_code;
  o.value = r.value;
  o.fvalue = r.fvalue;
  o.instructions = r.instructions;
  o.fault = int(r.fault);
  o.fault_name = sandbox::fault_name(r.fault);
  o.pc = r.pc;
  o.addr = r.addr;
  o.message = s->message.c_str();
  std::memcpy(out, &o, std::min(out->size, sizeof(o)));
}
}  // namespace

void tierjit_sandbox_run(tierjit_sandbox* s, int argc, const char* const* argv,
                         tierjit_sandbox_result* result) {
  std::vector<std::string> args;
  for (int i = 0; i < argc && argv; ++i) args.emplace_back(argv[i] ? argv[i] : "");
  if (args.empty()) args.emplace_back("guest");
  fill(s, s->sandbox->run(args), result);
}

void tierjit_sandbox_vmcall(tierjit_sandbox* s, uint64_t address, const tierjit_sandbox_arg* args,
                            size_t n_args, tierjit_sandbox_result* result) {
  std::vector<sandbox::Arg> a;
  for (size_t i = 0; i < n_args && args; ++i) {
    const tierjit_sandbox_arg& x = args[i];
    a.push_back(x.kind == TIERJIT_ARG_F32   ? sandbox::Arg::f32(float(x.d))
                : x.kind == TIERJIT_ARG_F64 ? sandbox::Arg::f64(x.d)
                                            : sandbox::Arg::integer(x.i));
  }
  fill(s, s->sandbox->vmcall(address, a), result);
}

uint64_t tierjit_sandbox_symbol(const tierjit_sandbox* s, const char* name) {
  return name ? s->sandbox->symbol(name) : 0;
}
bool tierjit_sandbox_write(tierjit_sandbox* s, uint64_t address, const void* data, size_t n) {
  return (data || n == 0) && s->sandbox->copy_to_guest(address, data, n);
}
bool tierjit_sandbox_read(const tierjit_sandbox* s, uint64_t address, void* out, size_t n) {
  return (out || n == 0) && s->sandbox->copy_from_guest(address, out, n);
}
uint64_t tierjit_sandbox_alloc(tierjit_sandbox* s, size_t n) { return s->sandbox->guest_alloc(n); }
void tierjit_sandbox_reset(tierjit_sandbox* s) { s->sandbox->reset(); }

tierjit_error* tierjit_sandbox_allow_read(tierjit_sandbox* s, const char* path) {
  if (!path) return usage("tierjit_sandbox_allow_read: path must not be NULL");
  return status(s->sandbox->allow_read(path));
}

tierjit_error* tierjit_sandbox_allow_dir(tierjit_sandbox* s, const char* host_dir,
                                         const char* guest_dir, bool writable) {
  if (!host_dir) return usage("tierjit_sandbox_allow_dir: host_dir must not be NULL");
  return status(s->sandbox->allow_dir(host_dir, str(guest_dir), writable));
}

void tierjit_sandbox_set_environment(tierjit_sandbox* s, const char* const* env, size_t count) {
  std::vector<std::string> e;
  for (size_t i = 0; i < count && env; ++i)
    if (env[i]) e.emplace_back(env[i]);
  s->sandbox->set_environment(std::move(e));
}

tierjit_error* tierjit_sandbox_register_host_function(tierjit_sandbox* s, int number,
                                                      tierjit_host_function fn, void* user) {
  if (!fn) return usage("tierjit_sandbox_register_host_function: fn must not be NULL");
  return status(s->sandbox->register_host_function(number, [fn, user](sandbox::HostCall& call) {
    tierjit_host_call c{&call};
    fn(&c, user);
  }));
}

uint64_t tierjit_host_call_arg(const tierjit_host_call* c, int i) { return c->call->arg(i); }
double tierjit_host_call_farg(const tierjit_host_call* c, int i) { return c->call->farg(i); }
void tierjit_host_call_set_result(tierjit_host_call* c, uint64_t v) { c->call->set_result(v); }
bool tierjit_host_call_read(tierjit_host_call* c, uint64_t address, void* out, size_t n) {
  return c->call->read(address, out, n);
}
bool tierjit_host_call_write(tierjit_host_call* c, uint64_t address, const void* data, size_t n) {
  return c->call->write(address, data, n);
}
void tierjit_host_call_fail(tierjit_host_call* c, const char* message) {
  c->call->fail(str(message, "host function failed"));
}

}  // extern "C"
