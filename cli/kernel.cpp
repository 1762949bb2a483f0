// `tierjit kernel info` (CPU features, chosen ISA, measured peak) and `tierjit kernel gemm`
// (generate a shape-specialized sgemm, check it against the generic kernel, optionally time
// it and print GFLOP/s and the fraction of the measured peak).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
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

double max_rel_diff(const std::vector<float>& x, const std::vector<float>& y) {
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double d = std::fabs(double(x[i]) - y[i]) / std::max(1.0, std::fabs(double(y[i])));
    worst = std::max(worst, d);
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
  if (diff > 1e-3) {
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

}  // namespace

void register_kernel(CLI::App& app) {
  CLI::App* kernel = app.add_subcommand("kernel", "tensor kernel JIT: info, gemm");
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
  gemm->add_option("--isa", a->isa, "scalar, avx2 or avx512 (default: best, or TIERJIT_ISA)");
  gemm->add_flag("--bench", a->bench, "time it: median of short batches, GFLOP/s, % of peak");
  gemm->add_option("--seconds", a->seconds, "benchmark duration (default 0.5)");
  gemm->callback([a] { set_exit_code(kernel_gemm(*a)); });
}

}  // namespace tierjit::cli
