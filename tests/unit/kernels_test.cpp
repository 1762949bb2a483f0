// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Tensor kernels: sgemm against a double-precision reference on every ISA level this CPU
// runs, in both regimes (direct and packed), with every layout/transpose/alpha/beta case;
// against OpenBLAS; bad arguments; profiling, the LRU bound and W^X.
#include "tierjit/kernels.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace tierjit::kernels {
namespace {

std::vector<Isa> supported_isas() {
  std::vector<Isa> v{Isa::kScalar};
  if (cpu_features().best >= Isa::kAvx2) v.push_back(Isa::kAvx2);
  if (cpu_features().best >= Isa::kAvx512) v.push_back(Isa::kAvx512);
  return v;
}

std::unique_ptr<KernelEngine> engine(Isa isa, uint32_t threshold, int threads = 1,
                                     size_t cache = 8u << 20) {
  KernelConfig cfg;
  cfg.isa_set = true;
  cfg.isa = isa;
  cfg.compile_threshold = threshold;
  cfg.threads = threads;
  cfg.cache_bytes = cache;
  auto e = KernelEngine::create(cfg);
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().to_string());
  return std::move(e.value());
}

struct Case {
  GemmDesc d;
  float alpha = 1, beta = 0;
  std::vector<float> a, b, c0;
};

// Element (r, c) of an operand stored as `outer` lines of ld elements.
size_t at(const GemmDesc& d, bool col_major_storage, int64_t r, int64_t c, int64_t ld) {
  return size_t(col_major_storage ? c * ld + r : r * ld + c);
}

// op(X)(r, c) for X given by trans and layout.
float op_elem(const std::vector<float>& x, const GemmDesc& d, bool trans, int64_t ld, int64_t r,
              int64_t c) {
  bool cm = d.layout == Layout::kColMajor;
  return trans ? x[at(d, cm, c, r, ld)] : x[at(d, cm, r, c, ld)];
}

Case make_case(std::mt19937& rng, GemmDesc d, float alpha, float beta, int64_t pad) {
  bool cm = d.layout == Layout::kColMajor;
  auto inner = [&](int64_t rows, int64_t cols, bool trans) {
    int64_t r = trans ? cols : rows, c = trans ? rows : cols;
    return cm ? r : c;
  };
  auto outer = [&](int64_t rows, int64_t cols, bool trans) {
    int64_t r = trans ? cols : rows, c = trans ? rows : cols;
    return cm ? c : r;
  };
  bool ta = d.trans_a == Transpose::kYes, tb = d.trans_b == Transpose::kYes;
  d.lda = std::max<int64_t>(1, inner(d.m, d.k, ta) + pad);
  d.ldb = std::max<int64_t>(1, inner(d.k, d.n, tb) + pad);
  d.ldc = std::max<int64_t>(1, inner(d.m, d.n, false) + pad);
  std::uniform_real_distribution<float> u(-1, 1);
  Case cs{d, alpha, beta, {}, {}, {}};
  cs.a.resize(size_t(std::max<int64_t>(1, outer(d.m, d.k, ta) * d.lda)));
  cs.b.resize(size_t(std::max<int64_t>(1, outer(d.k, d.n, tb) * d.ldb)));
  cs.c0.resize(size_t(std::max<int64_t>(1, outer(d.m, d.n, false) * d.ldc)));
  for (auto& x : cs.a) x = u(rng);
  for (auto& x : cs.b) x = u(rng);
  for (auto& x : cs.c0) x = beta == 0 ? NAN : u(rng);  // beta = 0: C must not be read
  return cs;
}

// Checks `c` against a double-precision reference with a forward error bound
// |err| <= (k + 4) * eps * (|alpha| sum |a||b| + |beta c|) (Higham, "Accuracy and Stability
// of Numerical Algorithms", 2nd ed., section 3.5); untouched padding must be unchanged.
void check(const Case& cs, const std::vector<float>& c, const std::string& what) {
  const GemmDesc& d = cs.d;
  bool cm = d.layout == Layout::kColMajor;
  bool ta = d.trans_a == Transpose::kYes, tb = d.trans_b == Transpose::kYes;
  for (int64_t i = 0; i < d.m; ++i) {
    for (int64_t j = 0; j < d.n; ++j) {
      double acc = 0, mag = 0;
      if (cs.alpha != 0) {
        for (int64_t p = 0; p < d.k; ++p) {
          double x = op_elem(cs.a, d, ta, d.lda, i, p), y = op_elem(cs.b, d, tb, d.ldb, p, j);
          acc += x * y;
          mag += std::fabs(x * y);
        }
      }
      size_t ci = at(d, cm, i, j, d.ldc);
      double c0 = cs.beta == 0 ? 0.0 : cs.c0[ci];
      double ref = cs.alpha * acc + cs.beta * c0;
      double tol =
          (d.k + 4) * FLT_EPSILON * (std::fabs(cs.alpha) * mag + std::fabs(cs.beta * c0)) + 1e-30;
      ASSERT_LE(std::fabs(c[ci] - ref), tol)
          << what << " at (" << i << "," << j << ") got " << c[ci] << " want " << ref;
    }
  }
  for (size_t idx = 0; idx < c.size(); ++idx) {  // padding between rows is never written
    int64_t line = int64_t(idx) / d.ldc, off = int64_t(idx) % d.ldc;
    int64_t lines = cm ? d.n : d.m, width = cm ? d.m : d.n;
    if (line < lines && off < width) continue;
    bool same = std::isnan(cs.c0[idx]) ? std::isnan(c[idx]) : c[idx] == cs.c0[idx];
    ASSERT_TRUE(same) << what << ": padding element " << idx << " was written";
  }
}

std::string describe(const Case& cs, Isa isa) {
  const GemmDesc& d = cs.d;
  return std::string(isa_name(isa)) + (d.layout == Layout::kColMajor ? " CM " : " RM ") +
         (d.trans_a == Transpose::kYes ? "T" : "N") + (d.trans_b == Transpose::kYes ? "T" : "N") +
         " " + std::to_string(d.m) + "x" + std::to_string(d.n) + "x" + std::to_string(d.k) +
         " lda=" + std::to_string(d.lda) + " ldb=" + std::to_string(d.ldb) +
         " ldc=" + std::to_string(d.ldc) + " alpha=" + std::to_string(cs.alpha) +
         " beta=" + std::to_string(cs.beta);
}

void run_random(Isa isa, uint32_t threshold, int count, int max_dim, uint32_t seed,
                int threads = 1) {
  std::mt19937 rng(seed);
  auto e = engine(isa, threshold, threads);
  // Sizes around every register-block boundary (mr 6/12/14/28, nr 8/16/32/48), primes, 0, 1.
  std::vector<int64_t> special{0,  1,  2,  3,  5,  6,  7,  8,  9,  12, 13, 14, 15, 16,
                               17, 23, 27, 28, 29, 31, 32, 33, 47, 48, 49, 64, 97};
  const float alphas[] = {1.0f, -0.5f, 0.0f, 2.0f};
  const float betas[] = {0.0f, 1.0f, 0.75f};
  for (int t = 0; t < count; ++t) {
    auto dim = [&] {
      return rng() % 2 ? special[rng() % special.size()] : int64_t(rng() % (max_dim + 1));
    };
    GemmDesc d;
    d.layout = rng() % 4 == 0 ? Layout::kColMajor : Layout::kRowMajor;
    d.trans_a = rng() % 3 == 0 ? Transpose::kYes : Transpose::kNo;
    d.trans_b = rng() % 3 == 0 ? Transpose::kYes : Transpose::kNo;
    d.m = dim(), d.n = dim(), d.k = dim();
    float alpha = alphas[rng() % 4], beta = betas[rng() % 3];
    Case cs = make_case(rng, d, alpha, beta, rng() % 3 == 0 ? int64_t(rng() % 5) : 0);
    std::vector<float> c = cs.c0;
    std::string what = describe(cs, isa);
    for (int rep = 0; rep < 2; ++rep) {  // twice: the second call can hit the compiled kernel
      c = cs.c0;
      Status st = e->sgemm(cs.d, alpha, cs.a.data(), cs.b.data(), beta, c.data());
      ASSERT_TRUE(st.ok()) << what << ": " << st.error().to_string();
      check(cs, c, what);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  // The path the caller named is the path that ran: generated kernels at threshold 0 (no
  // shape fell back to the generic kernel), the generic kernel when the threshold is never met.
  KernelStats s = e->stats();
  EXPECT_EQ(s.compile_failures, 0u) << e->stats_text();
  if (threshold == 0 && isa != Isa::kScalar) {
    EXPECT_GT(s.hits, uint64_t(count)) << "generated kernels barely ran: " << e->stats_text();
  } else if (threshold >= uint32_t(2 * count)) {
    EXPECT_EQ(s.hits, 0u);
    EXPECT_EQ(s.compiles, 0u);
    EXPECT_GT(s.generic_calls, 0u);
  }
}

class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~EnvGuard() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(Kernels, CpuDetectionIsConsistent) {
  const CpuFeatures& f = cpu_features();
  EXPECT_TRUE(f.sse2);  // x86-64 baseline
  if (f.avx2) EXPECT_TRUE(f.avx);
  if (f.best == Isa::kAvx512) EXPECT_TRUE(f.avx512f && f.avx512bw && f.avx512vl && f.os_zmm);
  if (f.best >= Isa::kAvx2) EXPECT_TRUE(f.avx2 && f.fma && f.os_ymm);
  EXPECT_GT(f.l1d_bytes, 0u);
  EXPECT_FALSE(parse_isa("avx3").ok());
  EXPECT_TRUE(parse_isa("scalar").ok());
}

TEST(Kernels, IsaOverrideFromEnvironment) {
  {
    EnvGuard g("TIERJIT_ISA", "scalar");
    auto isa = default_isa();
    ASSERT_TRUE(isa.ok());
    EXPECT_EQ(*isa, Isa::kScalar);
  }
  {
    EnvGuard g("TIERJIT_ISA", "sse9");
    auto isa = default_isa();
    ASSERT_FALSE(isa.ok());
    EXPECT_NE(isa.error().message.find("TIERJIT_ISA"), std::string::npos);
  }
}

TEST(Kernels, GenericKernelMatchesReference) {
  for (Isa isa : supported_isas()) run_random(isa, 1u << 30, 150, 70, 1);
}

TEST(Kernels, DirectRegimeMatchesReference) {
  EnvGuard g("TIERJIT_GEMM_PACK", "never");
  for (Isa isa : supported_isas()) {
    if (isa == Isa::kScalar) continue;
    run_random(isa, 0, 400, 80, 2);
  }
}

TEST(Kernels, DirectRegimeShortMWideB) {
  // Short M with a B larger than L2: the direct regime walks B panels outermost.
  std::mt19937 rng(8);
  for (Isa isa : supported_isas()) {
    if (isa == Isa::kScalar) continue;
    auto e = engine(isa, 0);
    for (int t = 0; t < 6; ++t) {
      GemmDesc d = GemmDesc::row_major(1 + rng() % 32, 600 + rng() % 200, 500 + rng() % 200);
      Case cs = make_case(rng, d, 1.0f, t % 2 ? 1.0f : 0.0f, 0);
      std::vector<float> c = cs.c0;
      ASSERT_TRUE(e->sgemm(cs.d, 1.0f, cs.a.data(), cs.b.data(), cs.beta, c.data()).ok());
      check(cs, c, describe(cs, isa));
    }
  }
}

TEST(Kernels, PackedRegimeMatchesReference) {
  EnvGuard g("TIERJIT_GEMM_PACK", "always");
  EnvGuard b("TIERJIT_GEMM_BLOCKING", "30,24,64");  // small blocks: every edge combination
  for (Isa isa : supported_isas()) {
    if (isa == Isa::kScalar) continue;
    run_random(isa, 0, 300, 130, 3);
  }
}

TEST(Kernels, PackedRegimeWithDefaultBlocking) {
  EnvGuard g("TIERJIT_GEMM_PACK", "always");
  for (Isa isa : supported_isas()) {
    if (isa == Isa::kScalar) continue;
    run_random(isa, 0, 12, 600, 4);
  }
}

TEST(Kernels, TwoThreadsMatchReference) {
  for (Isa isa : supported_isas()) {
    if (isa == Isa::kScalar) continue;
    EnvGuard g("TIERJIT_GEMM_PACK", "always");
    run_random(isa, 0, 20, 300, 5, 2);
  }
}

using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int,
                         float, float*, int);

TEST(Kernels, AgreesWithOpenBlas) {
  void* lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) GTEST_SKIP() << "libopenblas.so.0 not installed (scripts/setup installs it)";
  auto sgemm = reinterpret_cast<SgemmFn>(dlsym(lib, "cblas_sgemm"));
  ASSERT_NE(sgemm, nullptr);
  auto e = engine(cpu_features().best, 0);
  std::mt19937 rng(6);
  for (int64_t n : {16, 37, 64, 129, 256, 300}) {
    for (bool ta : {false, true}) {
      GemmDesc d = GemmDesc::row_major(n, n + 3, n - 1, ta, !ta);
      Case cs = make_case(rng, d, 1.0f, 0.5f, 0);
      std::vector<float> ours = cs.c0, theirs = cs.c0;
      ASSERT_TRUE(e->sgemm(cs.d, 1.0f, cs.a.data(), cs.b.data(), 0.5f, ours.data()).ok());
      // CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112
      sgemm(101, ta ? 112 : 111, ta ? 111 : 112, int(cs.d.m), int(cs.d.n), int(cs.d.k), 1.0f,
            cs.a.data(), int(cs.d.lda), cs.b.data(), int(cs.d.ldb), 0.5f, theirs.data(),
            int(cs.d.ldc));
      for (size_t i = 0; i < ours.size(); ++i) {
        ASSERT_NEAR(ours[i], theirs[i], 1e-4f * float(n)) << "n=" << n << " i=" << i;
      }
    }
  }
  dlclose(lib);
}

TEST(Kernels, RejectsBadArguments) {
  auto e = engine(cpu_features().best, 0);
  std::vector<float> a(64), b(64), c(64);
  auto expect_error = [&](GemmDesc d, const float* pa, const float* pb, float* pc,
                          const char* needle) {
    std::vector<float> before = c;
    Status st = e->sgemm(d, 1.0f, pa, pb, 0.0f, pc);
    ASSERT_FALSE(st.ok()) << needle;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(st.error().message.find(needle), std::string::npos) << st.error().message;
    EXPECT_EQ(before, c) << "C written on error: " << needle;
  };
  GemmDesc ok = GemmDesc::row_major(8, 8, 8);
  GemmDesc d = ok;
  d.m = -1;
  expect_error(d, a.data(), b.data(), c.data(), "negative");
  d = ok;
  d.k = int64_t(1) << 40;
  expect_error(d, a.data(), b.data(), c.data(), "exceeds");
  d = ok;
  d.lda = 7;
  expect_error(d, a.data(), b.data(), c.data(), "lda");
  d = ok;
  d.ldc = 0;
  expect_error(d, a.data(), b.data(), c.data(), "ldc");
  expect_error(ok, nullptr, b.data(), c.data(), "null buffer for a");
  expect_error(ok, a.data(), b.data(), nullptr, "null buffer for c");
  expect_error(ok, c.data(), b.data(), c.data(), "C overlaps A");
  expect_error(ok, a.data(), c.data() + 8, c.data(), "C overlaps B");
  d = ok;
  d.lda = int64_t(1) << 62;
  d.k = 1;
  expect_error(d, a.data(), b.data(), c.data(), "too large");
  // Empty shapes with null buffers are fine.
  GemmDesc empty = GemmDesc::row_major(0, 0, 5);
  EXPECT_TRUE(e->sgemm(empty, 1.0f, nullptr, nullptr, 0.0f, nullptr).ok());
}

TEST(Kernels, ThresholdCountsThenCompiles) {
  Isa isa = cpu_features().best;
  if (isa == Isa::kScalar) GTEST_SKIP() << "no SIMD level to compile for";
  auto e = engine(isa, 3);
  GemmDesc d = GemmDesc::row_major(20, 40, 30);
  std::vector<float> a(600, 1.0f), b(1200, 1.0f), c(800);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(e->sgemm(d, 1, a.data(), b.data(), 0, c.data()).ok());
  KernelStats s = e->stats();
  EXPECT_EQ(s.calls, 5u);
  EXPECT_EQ(s.generic_calls, 2u);
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.compiles, 1u);
  ASSERT_EQ(s.shapes.size(), 1u);
  EXPECT_EQ(s.shapes[0].calls, 5u);
  EXPECT_TRUE(s.shapes[0].compiled);
  EXPECT_EQ(c[0], 30.0f);
  EXPECT_NE(e->stats_text().find("compiled"), std::string::npos);
}

TEST(Kernels, LruBoundEvictsAndStaysCorrect) {
  Isa isa = cpu_features().best;
  if (isa == Isa::kScalar) GTEST_SKIP() << "no SIMD level to compile for";
  auto e = engine(isa, 0, 1, 64u << 10);
  std::mt19937 rng(7);
  for (int n = 1; n <= 40; ++n) {
    GemmDesc d = GemmDesc::row_major(n + 5, n, 9);
    Case cs = make_case(rng, d, 1.0f, 0.0f, 0);
    std::vector<float> c = cs.c0;
    ASSERT_TRUE(e->sgemm(cs.d, 1.0f, cs.a.data(), cs.b.data(), 0.0f, c.data()).ok());
    check(cs, c, "lru n=" + std::to_string(n));
  }
  KernelStats s = e->stats();
  EXPECT_EQ(s.compiles, 40u);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_LE(s.code_bytes, size_t(64u << 10));
}

TEST(Kernels, CodeIsNeverWritableAndExecutable) {
  Isa isa = cpu_features().best;
  if (isa == Isa::kScalar) GTEST_SKIP() << "no SIMD level to compile for";
  auto e = engine(isa, 0);
  auto t = e->prepare_sgemm(GemmDesc::row_major(64, 64, 64), 1.0f, 0.0f);
  ASSERT_TRUE(t.ok());
  EXPECT_GT(*t, 0u);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    auto perms = line.substr(line.find(' ') + 1, 4);
    EXPECT_FALSE(perms[1] == 'w' && perms[2] == 'x') << line;
  }
}

}  // namespace
}  // namespace tierjit::kernels
