// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// fp32 GEMM, one core: tierjit vs OpenBLAS vs BLIS vs libxsmm vs oneDNN in one run, square
// sizes 16..1024 and ML shapes, warm and cold operands, GFLOP/s and the fraction of the
// peak measured by an FMA loop in the same run; then code-generation latency (tierjit per
// kernel vs libxsmm's first dispatch) and per-call overhead at 16^3.
// Usage: bench_gemm [--quick]   (peers are loaded with dlopen; a missing one is skipped)
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/gemm_plan.hpp"
#include "tierjit/kernels.hpp"

extern "C" {
typedef void (*libxsmm_smmfunction)(const float* a, const float* b, float* c, ...);
void libxsmm_init(void);
libxsmm_smmfunction libxsmm_smmdispatch(int m, int n, int k, const int* lda, const int* ldb,
                                        const int* ldc, const float* alpha, const float* beta,
                                        const int* flags, const int* prefetch);
}

namespace {

using namespace tierjit::kernels;
using Clock = std::chrono::steady_clock;

struct Shape {
  int m, n, k;
  const char* label;
};

// Row-major C[m x n] = A[m x k] B[k x n], alpha 1, beta 0.
using GemmCall = std::function<void(const Shape&, const float*, const float*, float*)>;

struct Peer {
  std::string name;
  GemmCall call;
  std::function<bool(const Shape&)> prepare;  // per-shape set-up outside the timing
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<char> flush_buffer(size_t(64) << 20);
void flush_caches() {
  for (size_t i = 0; i < flush_buffer.size(); i += 64) flush_buffer[i] += 1;
}

// Median seconds per call: warm = batches of calls on the same operands; cold = one call
// after writing 64 MiB (operands evicted from every cache level).
double time_call(const Peer& p, const Shape& s, const float* a, const float* b, float* c, bool cold,
                 double budget) {
  double flops = 2.0 * s.m * s.n * s.k;
  std::vector<double> samples;
  auto start = Clock::now();
  if (cold) {
    for (int i = 0; i < 15; ++i) {
      flush_caches();
      auto t0 = Clock::now();
      p.call(s, a, b, c);
      samples.push_back(seconds_since(t0));
    }
    return median(samples);
  }
  int batch = int(std::clamp(2e6 / flops, 1.0, 20000.0));
  for (int i = 0; i < 3; ++i) p.call(s, a, b, c);  // warm-up
  do {
    auto t0 = Clock::now();
    for (int i = 0; i < batch; ++i) p.call(s, a, b, c);
    samples.push_back(seconds_since(t0) / batch);
  } while (seconds_since(start) < budget || samples.size() < 7);
  return median(samples);
}

void* open_lib(const char* path) {
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) std::printf("# skipped %s: %s\n", path, dlerror());
  return h;
}

using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*,
                            int, float, float*, int);

void add_cblas_peer(std::vector<Peer>& peers, const char* name, void* lib) {
  auto f = reinterpret_cast<CblasSgemm>(dlsym(lib, "cblas_sgemm"));
  if (!f) {
    std::printf("# skipped %s: no cblas_sgemm\n", name);
    return;
  }
  peers.push_back({name,
                   [f](const Shape& s, const float* a, const float* b, float* c) {
                     f(101, 111, 111, s.m, s.n, s.k, 1.0f, a, s.k, b, s.n, 0.0f, c, s.n);
                   },
                   [](const Shape&) { return true; }});
}

std::vector<Peer> load_peers(KernelEngine& tj) {
  std::vector<Peer> peers;
  peers.push_back({"tierjit",
                   [&tj](const Shape& s, const float* a, const float* b, float* c) {
                     (void)tj.sgemm(GemmDesc::row_major(s.m, s.n, s.k), 1.0f, a, b, 0.0f, c);
                   },
                   [&tj](const Shape& s) {
                     return tj.prepare_sgemm(GemmDesc::row_major(s.m, s.n, s.k), 1.0f, 0.0f).ok();
                   }});
  if (void* ob = open_lib("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0")) {
    if (auto set = reinterpret_cast<void (*)(int)>(dlsym(ob, "openblas_set_num_threads"))) set(1);
    auto core = reinterpret_cast<char* (*)()>(dlsym(ob, "openblas_get_corename"));
    std::printf("# OpenBLAS core: %s\n", core ? core() : "?");
    add_cblas_peer(peers, "OpenBLAS", ob);
  }
  if (void* bl = open_lib("/usr/lib/x86_64-linux-gnu/blis-serial/libblis.so.4")) {
    auto arch_string = reinterpret_cast<const char* (*)(int)>(dlsym(bl, "bli_arch_string"));
    auto query = reinterpret_cast<int (*)()>(dlsym(bl, "bli_arch_query_id"));
    auto init = reinterpret_cast<void (*)()>(dlsym(bl, "bli_init"));
    for (int id = 0; arch_string && id < 40; ++id) {  // BLIS_ARCH_TYPE is read at init
      const char* name = arch_string(id);
      if (name && std::strcmp(name, "skx") == 0)
        setenv("BLIS_ARCH_TYPE", std::to_string(id).c_str(), 1);
    }
    if (init) init();
    std::printf("# BLIS arch: %s\n", query && arch_string ? arch_string(query()) : "?");
    add_cblas_peer(peers, "BLIS", bl);
  }
  libxsmm_init();
  peers.push_back({"libxsmm",
                   [](const Shape& s, const float* a, const float* b, float* c) {
                     // Column-major: C^T = B^T A^T, so pass B as "A" and A as "B".
                     static int m = -1, n = -1, k = -1;
                     static libxsmm_smmfunction fn = nullptr;
                     if (s.m != m || s.n != n || s.k != k) {
                       float alpha = 1, beta = 0;
                       fn = libxsmm_smmdispatch(s.n, s.m, s.k, &s.n, &s.k, &s.n, &alpha, &beta,
                                                nullptr, nullptr);
                       m = s.m, n = s.n, k = s.k;
                     }
                     if (fn) fn(b, a, c);
                   },
                   [](const Shape& s) {
                     float alpha = 1, beta = 0;
                     return libxsmm_smmdispatch(s.n, s.m, s.k, &s.n, &s.k, &s.n, &alpha, &beta,
                                                nullptr, nullptr) != nullptr;
                   }});
  if (void* dn = open_lib("libdnnl.so.2")) {
    using DnnlSgemm = int (*)(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t,
                              const float*, int64_t, float, float*, int64_t);
    if (auto f = reinterpret_cast<DnnlSgemm>(dlsym(dn, "dnnl_sgemm"))) {
      peers.push_back({"oneDNN",
                       [f](const Shape& s, const float* a, const float* b, float* c) {
                         f('N', 'N', s.m, s.n, s.k, 1.0f, a, s.k, b, s.n, 0.0f, c, s.n);
                       },
                       [](const Shape&) { return true; }});
    }
  }
  return peers;
}

// The seed's published table (its machine, not this one): 256^3 in 1.739 ms, etc.
double seed_ms(const Shape& s) {
  if (s.m != s.n || s.n != s.k) return 0;
  switch (s.m) {
    case 32:
      return 0.004;
    case 64:
      return 0.026;
    case 128:
      return 0.202;
    case 256:
      return 1.739;
    default:
      return 0;
  }
}

void bench_shapes(std::vector<Peer>& peers, double peak, bool quick) {
  std::vector<Shape> shapes = {
      {16, 16, 16, "16^3"},
      {32, 32, 32, "32^3"},
      {64, 64, 64, "64^3"},
      {128, 128, 128, "128^3"},
      {256, 256, 256, "256^3"},
      {512, 512, 512, "512^3"},
      {1024, 1024, 1024, "1024^3"},
      {1, 1024, 1024, "1x1024x1024"},
      {64, 64, 256, "64x64x256"},
      {128, 768, 768, "128x768x768"},
      {16, 3072, 768, "16x3072x768"},
      // The StableHLO MLP benchmark's layers at batch 64 (bench/stablehlo/models.py).
      {64, 512, 784, "64x512x784"},
      {64, 512, 512, "64x512x512"},
      {64, 10, 512, "64x10x512"}};
  std::printf("\nGFLOP/s (%% of measured peak %.1f GFLOP/s), single thread, median of batches\n",
              peak);
  std::printf("%-12s %-5s", "shape", "ops");
  for (auto& p : peers) std::printf(" %17s", p.name.c_str());
  std::printf(" %17s %9s\n", "seed (published)", "tj/best");
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const Shape& s : shapes) {
    std::vector<float> a(size_t(s.m) * s.k), b(size_t(s.k) * s.n), c(size_t(s.m) * s.n);
    for (auto& x : a) x = u(rng);
    for (auto& x : b) x = u(rng);
    for (bool cold : {false, true}) {
      double flops = 2.0 * s.m * s.n * s.k;
      std::printf("%-12s %-5s", s.label, cold ? "cold" : "warm");
      double tj = 0, best = 0;
      for (auto& p : peers) {
        if (!p.prepare(s)) {
          std::printf(" %17s", "n/a");
          continue;
        }
        double t = time_call(p, s, a.data(), b.data(), c.data(), cold, quick ? 0.05 : 0.25);
        double g = flops / t / 1e9;
        if (p.name == "tierjit") {
          tj = g;
        } else {
          best = std::max(best, g);
        }
        std::printf(" %8.1f (%5.1f%%)", g, 100 * g / peak);
      }
      double sm = seed_ms(s);
      if (sm > 0 && !cold) {
        std::printf(" %8.1f (%5.1f%%)", flops / (sm * 1e-3) / 1e9,
                    100 * flops / (sm * 1e-3) / 1e9 / peak);
      } else {
        std::printf(" %17s", "");
      }
      std::printf(" %9.2f\n", best > 0 ? tj / best : 0.0);
      std::fflush(stdout);
    }
  }
}

void bench_codegen() {
  std::printf("\nCode generation latency (distinct shapes, each generated once)\n");
  KernelConfig cfg;
  cfg.compile_threshold = 0;
  auto e = KernelEngine::create(cfg);
  std::vector<double> tj_small, tj_large, xs;
  for (int i = 0; i < 40; ++i) {
    int m = 16 + i, n = 24 + 2 * i, k = 32 + i;
    auto t = (*e)->prepare_sgemm(GemmDesc::row_major(m, n, k), 1.0f, 0.0f);
    if (t.ok()) tj_small.push_back(double(*t) / 1e3);
    auto t2 = (*e)->prepare_sgemm(GemmDesc::row_major(700 + i, 900 + i, 800 + i), 1.0f, 0.0f);
    if (t2.ok()) tj_large.push_back(double(*t2) / 1e3);
    float alpha = 1, beta = 0;
    auto t0 = Clock::now();
    libxsmm_smmdispatch(n, m, k, &n, &k, &n, &alpha, &beta, nullptr, nullptr);
    xs.push_back(seconds_since(t0) * 1e6);
  }
  std::printf("tierjit direct-regime kernel (1 kernel per shape): median %.1f us\n",
              median(tj_small));
  std::printf(
      "tierjit packed-regime plan (700..740 x 900.. x 800..; up to 8 kernels): median "
      "%.1f us per plan\n",
      median(tj_large));
  std::printf("libxsmm first dispatch (same small shapes): median %.1f us\n", median(xs));
}

void bench_overhead() {
  std::printf("\nPer-call overhead at 16^3 (warm)\n");
  KernelConfig cfg;
  cfg.compile_threshold = 0;
  auto e = KernelEngine::create(cfg);
  Shape s{16, 16, 16, "16^3"};
  std::vector<float> a(256, 0.5f), b(256, 0.25f), c(256);
  GemmDesc d = GemmDesc::row_major(16, 16, 16);
  (void)(*e)->prepare_sgemm(d, 1.0f, 0.0f);
  GemmKey key;
  key.isa = (*e)->isa();
  key.m = key.n = key.k = key.lda = key.ldb = key.ldc = 16;
  auto pool = std::make_shared<tierjit::runtime::CodePool>();
  auto plan = build_gemm_plan(key, pool);
  ThreadPool one(1);
  RowMajorGemm g;
  g.m = g.n = g.k = g.lda = g.ldb = g.ldc = 16;
  g.a = a.data(), g.b = b.data(), g.c = c.data(), g.alpha = 1, g.beta = 0;
  auto time_loop = [](const std::function<void()>& f) {
    std::vector<double> v;
    for (int r = 0; r < 21; ++r) {
      auto t0 = Clock::now();
      for (int i = 0; i < 20000; ++i) f();
      v.push_back(seconds_since(t0) / 20000 * 1e9);
    }
    return median(v);
  };
  double full = time_loop([&] { (void)(*e)->sgemm(d, 1.0f, a.data(), b.data(), 0.0f, c.data()); });
  double kernel = time_loop([&] { run_gemm_plan(**plan, g, one); });
  std::printf("tierjit sgemm call %.1f ns, generated kernel alone %.1f ns: overhead %.1f ns\n",
              full, kernel, full - kernel);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  // Give each peer its best on one core (see docs/BENCHMARKS.md).
  setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  setenv("OMP_NUM_THREADS", "1", 1);
  setenv("BLIS_NUM_THREADS", "1", 1);
  const CpuFeatures& f = cpu_features();
  std::printf("# cpu: %s; tierjit isa %s\n", f.brand.c_str(), isa_name(f.best));
  double peak = measure_peak_gflops(f.best, 0.2);
  KernelConfig cfg;
  cfg.compile_threshold = 0;
  auto tj = KernelEngine::create(cfg);
  if (!tj.ok()) return 1;
  std::vector<Peer> peers = load_peers(**tj);
  bench_shapes(peers, peak, quick);
  bench_codegen();
  bench_overhead();
  return 0;
}
