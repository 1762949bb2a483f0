// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// `tierjit kernel info` (CPU features, chosen ISA, measured peak), `tierjit kernel gemm`
// (generate a shape-specialized sgemm, check it against the generic kernel, optionally time
// it and print GFLOP/s and the fraction of the measured peak), `tierjit kernel op` (the same
// for elementwise ops, reductions, softmax and layer norm) and `tierjit kernel conv2d`.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include "cli/commands.hpp"
#include "tierjit/kernels.hpp"

namespace tierjit::cli {
namespace {

using namespace tierjit::kernels;

struct GemmArgs {
  int64_t m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false, col_major = false, bench = false;
  float alpha = 1.0f, beta = 0.0f;
  int threads = 1;
  std::string isa;
  double seconds = 0.5;
};

int kernel_info() {
  const CpuFeatures& f = cpu_features();
  std::printf("cpu: %s (%s)\n", f.brand.c_str(), f.vendor.c_str());
  std::printf("features:");
  const std::pair<const char*, bool> flags[] = {{"sse2", f.sse2},
                                                {"avx", f.avx},
                                                {"avx2", f.avx2},
                                                {"fma", f.fma},
                                                {"avx512f", f.avx512f},
                                                {"avx512bw", f.avx512bw},
                                                {"avx512vl", f.avx512vl},
                                                {"avx512dq", f.avx512dq},
                                                {"avx512vnni", f.avx512vnni},
                                                {"avx512bf16", f.avx512bf16}};
  for (auto [name, on] : flags) {
    if (on) std::printf(" %s", name);
  }
  std::printf("\nos state: ymm %s, zmm/opmask %s\n", f.os_ymm ? "yes" : "no",
              f.os_zmm ? "yes" : "no");
  std::printf("caches: L1d %u KiB, L2 %u KiB, L3 %u KiB\n", f.l1d_bytes >> 10, f.l2_bytes >> 10,
              f.l3_bytes >> 10);
  auto isa = default_isa();
  if (!isa.ok()) return report(isa.error());
  std::printf("best isa: %s; kernels use: %s%s\n", isa_name(f.best), isa_name(*isa),
              *isa != f.best ? " (TIERJIT_ISA)" : "");
  for (Isa level : {Isa::kAvx2, Isa::kAvx512}) {
    if (level > f.best) continue;
    std::printf("measured fp32 peak (%s, one core): %.1f GFLOP/s\n", isa_name(level),
                measure_peak_gflops(level, 0.1));
  }
  return 0;
}

// The worst relative difference of x against y; NaN when any element differs by NaN (a NaN
// on either side), so that `!(diff <= tol)` rejects it.
double max_rel_diff(const std::vector<float>& x, const std::vector<float>& y) {
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double d = std::fabs(double(x[i]) - y[i]) / std::max(1.0, std::fabs(double(y[i])));
    if (std::isnan(d) || d > worst) worst = d;
    if (std::isnan(worst)) break;
  }
  return worst;
}

int kernel_gemm(const GemmArgs& a) {
  KernelConfig cfg;
  cfg.compile_threshold = 0;
  cfg.threads = a.threads;
  if (!a.isa.empty()) {
    auto isa = parse_isa(a.isa);
    if (!isa.ok()) return report(isa.error());
    cfg.isa_set = true, cfg.isa = *isa;
  }
  auto engine = KernelEngine::create(cfg);
  if (!engine.ok()) return report(engine.error());
  GemmDesc d = GemmDesc::row_major(a.m, a.n, a.k, a.trans_a, a.trans_b);
  if (a.col_major) {
    d.layout = Layout::kColMajor;
    d.lda = std::max<int64_t>(1, a.trans_a ? a.k : a.m);
    d.ldb = std::max<int64_t>(1, a.trans_b ? a.n : a.k);
    d.ldc = std::max<int64_t>(1, a.m);
  }
  if (a.m < 0 || a.n < 0 || a.k < 0) {
    return report(make_error(ErrorCode::kUsage, "kernel gemm: --m, --n and --k must be >= 0"));
  }
  auto gen_ns = (*engine)->prepare_sgemm(d, a.alpha, a.beta);
  if (!gen_ns.ok()) return report(gen_ns.error());
  std::vector<float> A(size_t(std::max<int64_t>(1, a.m * a.k)));
  std::vector<float> B(size_t(std::max<int64_t>(1, a.k * a.n)));
  std::vector<float> C(size_t(std::max<int64_t>(1, a.m * a.n)));
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto* v : {&A, &B, &C}) {
    for (auto& x : *v) x = u(rng);
  }
  std::vector<float> ref = C;
  KernelConfig gcfg;
  gcfg.compile_threshold = UINT32_MAX;  // the generic kernel as the check
  gcfg.isa_set = true, gcfg.isa = Isa::kScalar;
  auto generic = KernelEngine::create(gcfg);
  if (!generic.ok()) return report(generic.error());
  Status st = (*generic)->sgemm(d, a.alpha, A.data(), B.data(), a.beta, ref.data());
  if (st.ok()) st = (*engine)->sgemm(d, a.alpha, A.data(), B.data(), a.beta, C.data());
  if (!st.ok()) return report(st.error());
  double diff = max_rel_diff(C, ref);
  std::printf("sgemm %s %c%c %lldx%lldx%lld alpha=%g beta=%g isa=%s threads=%d\n",
              a.col_major ? "col-major" : "row-major", a.trans_a ? 'T' : 'N', a.trans_b ? 'T' : 'N',
              (long long)a.m, (long long)a.n, (long long)a.k, a.alpha, a.beta,
              isa_name((*engine)->isa()), (*engine)->threads());
  KernelStats s = (*engine)->stats();
  std::printf(
      "generated in %.1f us (%zu bytes of code); max relative difference vs the generic "
      "kernel %.2e\n",
      double(*gen_ns) / 1e3, s.code_bytes, diff);
  if (!(diff <= 1e-3)) {
    return report(make_error(ErrorCode::kInternal,
                             "kernel gemm: result differs from the "
                             "generic kernel"));
  }
  if (!a.bench) return 0;
  double flops = 2.0 * double(a.m) * double(a.n) * double(a.k);
  int per_batch = int(std::clamp(2e7 / std::max(flops, 1.0), 1.0, 1e5));
  std::vector<double> samples;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(a.seconds);
  do {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < per_batch; ++i) {
      (void)(*engine)->sgemm(d, a.alpha, A.data(), B.data(), a.beta, C.data());
    }
    samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                      per_batch);
  } while (std::chrono::steady_clock::now() < deadline || samples.size() < 5);
  std::sort(samples.begin(), samples.end());
  double t = samples[samples.size() / 2];
  double peak = measure_peak_gflops((*engine)->isa(), 0.05) * (*engine)->threads();
  double gflops = flops / t / 1e9;
  std::printf("%.1f GFLOP/s, %.1f%% of measured peak (%.1f GFLOP/s); median %.3f us per call\n",
              gflops, peak > 0 ? 100.0 * gflops / peak : 0.0, peak, t * 1e6);
  return 0;
}

struct OpArgs {
  std::string name;
  int64_t rows = 1, cols = 0;
  int axis = 1;
  bool bench = false;
  std::string isa;
  double seconds = 0.5;
};

struct ConvArgs {
  Conv2dDesc d;
  int64_t stride = 1, pad = 0;
  bool bench = false;
  int threads = 1;
  std::string isa;
  double seconds = 0.5;
};

Expected<std::unique_ptr<KernelEngine>> make_engine(const std::string& isa_name_arg, int threads,
                                                    bool generic) {
  KernelConfig cfg;
  cfg.compile_threshold = generic ? UINT32_MAX : 0;
  cfg.threads = threads;
  if (generic) {
    cfg.isa_set = true, cfg.isa = Isa::kScalar;
  } else if (!isa_name_arg.empty()) {
    auto isa = parse_isa(isa_name_arg);
    if (!isa.ok()) return isa.take_error();
    cfg.isa_set = true, cfg.isa = *isa;
  }
  return KernelEngine::create(cfg);
}

// Median seconds per call of `fn` over short batches for about `seconds`.
double time_median(double seconds, double work, const std::function<void()>& fn) {
  int per_batch = int(std::clamp(2e7 / std::max(work, 1.0), 1.0, 1e5));
  std::vector<double> samples;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  do {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < per_batch; ++i) fn();
    samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                      per_batch);
  } while (std::chrono::steady_clock::now() < deadline || samples.size() < 5);
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

// One call of a named op on engine `e`: a = rows x cols, b = one row of cols (broadcast).
using OpCall = std::function<Status(KernelEngine&, const float*, const float*, float*)>;

Expected<OpCall> op_call(const OpArgs& a, int64_t& out_elems) {
  static const std::map<std::string, UnaryOp> kUnary = {{"relu", UnaryOp::kRelu},
                                                        {"exp", UnaryOp::kExp},
                                                        {"tanh", UnaryOp::kTanh},
                                                        {"sigmoid", UnaryOp::kSigmoid},
                                                        {"gelu", UnaryOp::kGelu}};
  static const std::map<std::string, BinaryOp> kBinary = {
      {"add", BinaryOp::kAdd}, {"sub", BinaryOp::kSub}, {"mul", BinaryOp::kMul},
      {"div", BinaryOp::kDiv}, {"max", BinaryOp::kMax}, {"min", BinaryOp::kMin}};
  static const std::map<std::string, ReduceOp> kReduce = {{"reduce_sum", ReduceOp::kSum},
                                                          {"reduce_max", ReduceOp::kMax},
                                                          {"reduce_mean", ReduceOp::kMean}};
  int64_t rows = a.rows, cols = a.cols;
  out_elems = rows * cols;
  if (auto it = kUnary.find(a.name); it != kUnary.end()) {
    UnaryOp op = it->second;
    return OpCall([=](KernelEngine& e, const float* x, const float*, float* y) {
      return e.unary(op, rows * cols, x, y);
    });
  }
  if (auto it = kBinary.find(a.name); it != kBinary.end()) {
    BinaryOp op = it->second;
    return OpCall([=](KernelEngine& e, const float* x, const float* b, float* y) {
      int64_t as[] = {rows, cols}, bs[] = {cols};
      return e.binary(op, as, x, bs, b, y);
    });
  }
  if (auto it = kReduce.find(a.name); it != kReduce.end()) {
    ReduceOp op = it->second;
    int axis = a.axis;
    out_elems = axis == 0 || axis == -2 ? cols : rows;
    return OpCall([=](KernelEngine& e, const float* x, const float*, float* y) {
      int64_t s[] = {rows, cols};
      return e.reduce(op, s, axis, x, y);
    });
  }
  if (a.name == "softmax") {
    return OpCall([=](KernelEngine& e, const float* x, const float*, float* y) {
      return e.softmax(rows, cols, x, y);
    });
  }
  if (a.name == "layer_norm") {
    return OpCall([=](KernelEngine& e, const float* x, const float* b, float* y) {
      return e.layer_norm(rows, cols, x, b, b, 1e-5f, y);
    });
  }
  return make_error(ErrorCode::kUsage,
                    "kernel op: unknown op '" + a.name +
                        "' (relu exp tanh sigmoid gelu add sub mul div max min reduce_sum "
                        "reduce_max reduce_mean softmax layer_norm)");
}

int kernel_op(const OpArgs& a) {
  if (a.rows < 0 || a.cols < 0) {
    return report(make_error(ErrorCode::kUsage, "kernel op: --rows and --cols must be >= 0"));
  }
  int64_t out_elems = 0;
  auto call = op_call(a, out_elems);
  if (!call.ok()) return report(call.error());
  auto engine = make_engine(a.isa, 1, false);
  if (!engine.ok()) return report(engine.error());
  auto generic = make_engine("", 1, true);
  if (!generic.ok()) return report(generic.error());
  size_t n = size_t(std::max<int64_t>(1, a.rows * a.cols));
  std::vector<float> x(n), b(size_t(std::max<int64_t>(1, a.cols))), y(n), ref(n);
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-4, 4);
  for (auto& v : x) v = u(rng);
  for (auto& v : b) v = u(rng) + 8.5f;  // keeps div away from 0
  Status st = (*call)(**generic, x.data(), b.data(), ref.data());
  auto t0 = std::chrono::steady_clock::now();
  if (st.ok()) st = (*call)(**engine, x.data(), b.data(), y.data());
  double first_us =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e6;
  if (!st.ok()) return report(st.error());
  y.resize(size_t(out_elems)), ref.resize(size_t(out_elems));
  double diff = max_rel_diff(y, ref);
  KernelStats s = (*engine)->stats();
  std::printf("%s %lldx%lld isa=%s\n", a.name.c_str(), (long long)a.rows, (long long)a.cols,
              isa_name((*engine)->isa()));
  std::printf(
      "generated in %.1f us (first call %.1f us, %zu bytes of code); max relative difference "
      "vs the generic kernel %.2e\n",
      s.compile_ns / 1e3, first_us, s.code_bytes, diff);
  if (!(diff <= 1e-4)) {
    return report(
        make_error(ErrorCode::kInternal, "kernel op: result differs from the generic kernel"));
  }
  if (!a.bench) return 0;
  double elems = double(a.rows) * double(a.cols);
  double tj = time_median(a.seconds / 2, elems * 4,
                          [&] { (void)(*call)(**engine, x.data(), b.data(), y.data()); });
  double gen = time_median(a.seconds / 2, elems * 4,
                           [&] { (void)(*call)(**generic, x.data(), b.data(), y.data()); });
  std::printf("%.3f ns/element, %.1f GB/s read+write; generic kernel %.3f ns/element (%.1fx)\n",
              tj * 1e9 / elems, (elems + double(out_elems)) * 4 / tj / 1e9, gen * 1e9 / elems,
              gen / tj);
  return 0;
}

int kernel_conv2d(ConvArgs a) {
  a.d.stride_h = a.d.stride_w = a.stride;
  a.d.pad_h = a.d.pad_w = a.pad;
  auto engine = make_engine(a.isa, a.threads, false);
  if (!engine.ok()) return report(engine.error());
  auto generic = make_engine("", 1, true);
  if (!generic.ok()) return report(generic.error());
  const Conv2dDesc& d = a.d;
  int64_t P = d.out_h(), Q = d.out_w();
  size_t nx = size_t(std::max<int64_t>(1, d.n * d.c * d.h * d.w));
  size_t nw = size_t(std::max<int64_t>(1, d.k * d.c * d.r * d.s));
  size_t ny =
      size_t(std::max<int64_t>(1, d.n * d.k * std::max<int64_t>(P, 0) * std::max<int64_t>(Q, 0)));
  std::vector<float> x(nx), w(nw), bias(size_t(std::max<int64_t>(1, d.k))), y(ny), ref(ny);
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto* v : {&x, &w, &bias}) {
    for (auto& e : *v) e = u(rng);
  }
  Status st = (*generic)->conv2d(d, x.data(), w.data(), bias.data(), ref.data());
  if (st.ok()) st = (*engine)->conv2d(d, x.data(), w.data(), bias.data(), y.data());
  if (!st.ok()) return report(st.error());
  double diff = max_rel_diff(y, ref);
  std::printf(
      "conv2d n=%lld c=%lld %lldx%lld k=%lld %lldx%lld stride %lld pad %lld -> %lldx%lld isa=%s "
      "threads=%d\n",
      (long long)d.n, (long long)d.c, (long long)d.h, (long long)d.w, (long long)d.k,
      (long long)d.r, (long long)d.s, (long long)a.stride, (long long)a.pad, (long long)P,
      (long long)Q, isa_name((*engine)->isa()), (*engine)->threads());
  std::printf("max relative difference vs the generic kernels %.2e\n", diff);
  if (!(diff <= 1e-3)) {
    return report(
        make_error(ErrorCode::kInternal, "kernel conv2d: result differs from the generic kernels"));
  }
  if (!a.bench) return 0;
  double flops = 2.0 * double(d.n * d.k * P * Q) * double(d.c * d.r * d.s);
  double t = time_median(a.seconds, flops, [&] {
    (void)(*engine)->conv2d(d, x.data(), w.data(), bias.data(), y.data());
  });
  double peak = measure_peak_gflops((*engine)->isa(), 0.05) * (*engine)->threads();
  double gflops = flops / t / 1e9;
  std::printf("%.1f GFLOP/s, %.1f%% of measured peak (%.1f GFLOP/s); median %.3f us per call\n",
              gflops, peak > 0 ? 100.0 * gflops / peak : 0.0, peak, t * 1e6);
  return 0;
}

}  // namespace

namespace {
// The options every kernel subcommand shares: ISA override, --bench and its duration.
void add_isa_and_bench(CLI::App* sub, std::string& isa, bool& bench, double& seconds,
                       const char* bench_help) {
  sub->add_option("--isa", isa, "scalar, avx2 or avx512 (default: best, or TIERJIT_ISA)");
  sub->add_flag("--bench", bench, bench_help);
  sub->add_option("--seconds", seconds, "benchmark duration (default 0.5)");
}
}  // namespace

void register_kernel(CLI::App& app) {
  CLI::App* kernel = app.add_subcommand("kernel", "tensor kernel JIT: info, gemm, op, conv2d");
  kernel->require_subcommand(1);
  CLI::App* info = kernel->add_subcommand("info", "print CPU features, caches, chosen ISA, peak");
  info->callback([] { set_exit_code(kernel_info()); });
  auto a = std::make_shared<GemmArgs>();
  CLI::App* gemm = kernel->add_subcommand("gemm", "generate, check and time an fp32 GEMM");
  gemm->add_option("--m", a->m, "rows of op(A) and C")->required();
  gemm->add_option("--n", a->n, "columns of op(B) and C")->required();
  gemm->add_option("--k", a->k, "columns of op(A), rows of op(B)")->required();
  gemm->add_flag("--trans-a", a->trans_a, "A is stored transposed");
  gemm->add_flag("--trans-b", a->trans_b, "B is stored transposed");
  gemm->add_flag("--col-major", a->col_major, "column-major storage (default row-major)");
  gemm->add_option("--alpha", a->alpha, "alpha (default 1)");
  gemm->add_option("--beta", a->beta, "beta (default 0)");
  gemm->add_option("--threads", a->threads, "threads (default 1; 0 = one per core)");
  add_isa_and_bench(gemm, a->isa, a->bench, a->seconds,
                    "time it: median of short batches, GFLOP/s, % of peak");
  gemm->callback([a] { set_exit_code(kernel_gemm(*a)); });

  auto o = std::make_shared<OpArgs>();
  CLI::App* op = kernel->add_subcommand(
      "op", "generate, check and time an elementwise op, reduction, softmax or layer norm");
  op->add_option("name", o->name,
                 "relu exp tanh sigmoid gelu | add sub mul div max min (b = one row, "
                 "broadcast) | reduce_sum reduce_max reduce_mean | softmax layer_norm")
      ->required();
  op->add_option("--rows", o->rows, "rows of x (default 1)");
  op->add_option("--cols", o->cols, "columns of x")->required();
  op->add_option("--axis", o->axis, "reductions: 0 or 1 (default 1)");
  add_isa_and_bench(op, o->isa, o->bench, o->seconds, "time it against the generic kernel");
  op->callback([o] { set_exit_code(kernel_op(*o)); });

  auto c = std::make_shared<ConvArgs>();
  CLI::App* conv = kernel->add_subcommand("conv2d", "check and time an NCHW fp32 convolution");
  conv->add_option("--n", c->d.n, "batch (default 1)");
  conv->add_option("--c", c->d.c, "input channels")->required();
  conv->add_option("--h", c->d.h, "input height")->required();
  conv->add_option("--w", c->d.w, "input width")->required();
  conv->add_option("--k", c->d.k, "output channels")->required();
  conv->add_option("--r", c->d.r, "filter height (default 1)");
  conv->add_option("--s", c->d.s, "filter width (default 1)");
  conv->add_option("--stride", c->stride, "stride (default 1)");
  conv->add_option("--pad", c->pad, "zero padding (default 0)");
  conv->add_option("--threads", c->threads, "GEMM threads (default 1; 0 = one per core)");
  add_isa_and_bench(conv, c->isa, c->bench, c->seconds, "time it: GFLOP/s and % of peak");
  conv->callback([c] { set_exit_code(kernel_conv2d(*c)); });
}

}  // namespace tierjit::cli
