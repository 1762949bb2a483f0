// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The non-GEMM kernels (elementwise with broadcasting, reductions, softmax, layer norm,
// conv2d) against double-precision references on every ISA level this CPU runs, generated
// (threshold 0) and generic; the accuracy bounds documented in kernels.hpp; NaN/inf
// semantics; bad arguments; profiling and eviction.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tierjit/kernels.hpp"

namespace tierjit::kernels {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<Isa> supported_isas() {
  std::vector<Isa> v{Isa::kScalar};
  if (cpu_features().best >= Isa::kAvx2) v.push_back(Isa::kAvx2);
  if (cpu_features().best >= Isa::kAvx512) v.push_back(Isa::kAvx512);
  return v;
}

std::unique_ptr<KernelEngine> engine(Isa isa, uint32_t threshold = 0, size_t cache = 8u << 20) {
  KernelConfig cfg;
  cfg.isa_set = true;
  cfg.isa = isa;
  cfg.compile_threshold = threshold;
  cfg.cache_bytes = cache;
  auto e = KernelEngine::create(cfg);
  EXPECT_TRUE(e.ok());
  return std::move(e.value());
}

// Error of y against ref in units of the float spacing at ref. Results below FLT_MIN may be
// flushed: there the error is judged against FLT_MIN (one "ulp" = FLT_MIN / 4).
double ulps(float y, double ref) {
  double a = std::fabs(ref);
  if (a < FLT_MIN) return std::fabs(double(y) - ref) / (FLT_MIN / 4);
  if (std::isinf(float(ref)) || a > FLT_MAX) return std::isinf(y) && (y > 0) == (ref > 0) ? 0 : 1e9;
  double spacing = std::ldexp(1.0, std::ilogb(static_cast<float>(a)) - 23);
  return std::fabs(double(y) - ref) / spacing;
}

// Raises worst to err when err is larger or NaN; a NaN worst stays NaN, so a bound check
// `EXPECT_LE(worst, bound)` fails on any NaN error. Returns whether worst changed.
bool keep_worst(double& worst, double err) {
  if (std::isnan(worst) || !(std::isnan(err) || err > worst)) return false;
  worst = err;
  return true;
}

double ref_unary(UnaryOp op, double x) {
  switch (op) {
    case UnaryOp::kRelu:
      return x > 0 ? x : 0;
    case UnaryOp::kExp:
      return std::exp(x);
    case UnaryOp::kTanh:
      return std::tanh(x);
    case UnaryOp::kSigmoid:
      return 1 / (1 + std::exp(-x));
    case UnaryOp::kGelu:
      return std::isinf(x) ? (x > 0 ? x : 0) : 0.5 * x * std::erfc(-x / std::sqrt(2.0));
  }
  return 0;
}

struct UnaryBound {
  UnaryOp op;
  double lo, hi;   // sweep range
  double max_ulp;  // bound in ulp: max_ulp + quad * x^2 (gelu's condition number grows as x^2)
  double quad;
};

const UnaryBound kUnary[] = {
    {UnaryOp::kRelu, -10, 10, 1e-9, 0}, {UnaryOp::kExp, -110, 95, 2, 0},
    {UnaryOp::kTanh, -12, 12, 3, 0},    {UnaryOp::kSigmoid, -110, 60, 3, 0},
    {UnaryOp::kGelu, -10, 30, 8, 2},
};

TEST(TensorOps, UnaryAccuracyOnDenseSweeps) {
  for (Isa isa : supported_isas()) {
    auto e = engine(isa);
    for (const auto& b : kUnary) {
      const int n = 400003;  // odd: exercises the tail
      std::vector<float> x(n), y(n);
      for (int i = 0; i < n; ++i) x[i] = float(b.lo + (b.hi - b.lo) * i / (n - 1));
      x[1] = 0.0f, x[2] = -0.0f, x[3] = 1e-30f, x[4] = -1e-30f, x[5] = 0.5f, x[6] = 0.625f;
      ASSERT_TRUE(e->unary(b.op, n, x.data(), y.data()).ok());
      double worst = 0, worst_x = 0;
      for (int i = 0; i < n; ++i) {
        double ref = ref_unary(b.op, x[i]);
        double err = ulps(y[i], ref) / (b.max_ulp + b.quad * double(x[i]) * x[i]);
        if (keep_worst(worst, err)) worst_x = x[i];
      }
      std::printf("%-8s %-7s worst %.3g of the bound (%.3g ulp) at x=%.9g\n", isa_name(isa),
                  op_name(b.op), worst, worst * (b.max_ulp + b.quad * worst_x * worst_x), worst_x);
      EXPECT_LE(worst, 1.0) << isa_name(isa) << " " << op_name(b.op) << " at x=" << worst_x;
    }
  }
}

TEST(TensorOps, UnarySpecialValuesAndEveryTail) {
  const float special[] = {kNaN, kInf, -kInf, 0.0f, 1000.0f, -1000.0f, 88.8f, -104.5f};
  for (Isa isa : supported_isas()) {
    auto e = engine(isa);
    for (auto op :
         {UnaryOp::kRelu, UnaryOp::kExp, UnaryOp::kTanh, UnaryOp::kSigmoid, UnaryOp::kGelu}) {
      std::vector<float> y(8);
      ASSERT_TRUE(e->unary(op, 8, special, y.data()).ok());
      EXPECT_TRUE(std::isnan(y[0])) << op_name(op) << " " << isa_name(isa);
      for (int i = 1; i < 8; ++i) {
        double ref = ref_unary(op, special[i]);
        if (std::isinf(float(ref)) || ref == 0) {
          EXPECT_EQ(y[i], float(ref)) << op_name(op) << " " << special[i] << " " << isa_name(isa);
        } else {
          EXPECT_LE(std::fabs(y[i] - ref), 1e-6 * std::fabs(ref) + 1e-30)
              << op_name(op) << " " << special[i] << " " << isa_name(isa);
        }
      }
      // Every length up to three vectors plus a few long ones, in place.
      for (int n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 47, 48, 49, 63, 64, 65, 127, 1001}) {
        std::vector<float> x(n + 1, 7.0f);
        for (int i = 0; i < n; ++i) x[i] = float(i % 13) * 0.37f - 2.0f;
        std::vector<float> in(x.begin(), x.begin() + n);
        ASSERT_TRUE(e->unary(op, n, x.data(), x.data()).ok());
        EXPECT_EQ(x[n], 7.0f) << "wrote past the end, n=" << n;
        for (int i = 0; i < n; ++i)
          ASSERT_LE(ulps(x[i], ref_unary(op, in[i])), op == UnaryOp::kGelu ? 16 : 3)
              << op_name(op) << " n=" << n << " i=" << i << " " << isa_name(isa);
      }
    }
  }
}

float ref_binary(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::kAdd:
      return a + b;
    case BinaryOp::kSub:
      return a - b;
    case BinaryOp::kMul:
      return a * b;
    case BinaryOp::kDiv:
      return a / b;
    case BinaryOp::kMax:
      return std::isnan(a) || std::isnan(b) ? kNaN : std::max(a, b);
    case BinaryOp::kMin:
      return std::isnan(a) || std::isnan(b) ? kNaN : std::min(a, b);
  }
  return 0;
}

int64_t count(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

TEST(TensorOps, BinaryBroadcastingMatchesReference) {
  std::mt19937 rng(7);
  const BinaryOp ops[] = {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul,
                          BinaryOp::kDiv, BinaryOp::kMax, BinaryOp::kMin};
  const int64_t dims[] = {1, 2, 3, 5, 7, 8, 16, 17, 33};
  for (Isa isa : supported_isas()) {
    auto e = engine(isa);
    for (int trial = 0; trial < 400; ++trial) {
      int rank = int(rng() % 5);
      std::vector<int64_t> out(rank), as, bs;
      for (auto& d : out) d = dims[rng() % 9];
      int ra = rank - int(rng() % (rank + 1)), rb = rank - int(rng() % (rank + 1));
      if (trial % 3 == 0) ra = rank;  // often one full operand
      for (int i = rank - ra; i < rank; ++i) as.push_back(rng() % 3 == 0 ? 1 : out[i]);
      for (int i = rank - rb; i < rank; ++i) bs.push_back(rng() % 3 == 0 ? 1 : out[i]);
      // The broadcast result (a dim of `out` neither operand carries collapses to 1).
      std::vector<int64_t> ys(rank);
      for (int i = 0; i < rank; ++i) {
        int ia = i - (rank - ra), ib = i - (rank - rb);
        int64_t da = ia >= 0 ? as[ia] : 1, db = ib >= 0 ? bs[ib] : 1;
        ys[i] = std::max(da, db);
      }
      std::vector<float> a(count(as)), b(count(bs)), y(count(ys) + 1, 42.0f);
      std::uniform_real_distribution<float> u(-4, 4);
      for (auto& v : a) v = u(rng);
      for (auto& v : b) v = u(rng) + 4.5f;
      if (!a.empty() && trial % 7 == 0) a[rng() % a.size()] = kNaN;
      if (!b.empty() && trial % 11 == 0) b[rng() % b.size()] = kNaN;
      BinaryOp op = ops[trial % 6];
      ASSERT_TRUE(e->binary(op, as, a.data(), bs, b.data(), y.data()).ok());
      EXPECT_EQ(y.back(), 42.0f);
      // Reference by explicit index arithmetic.
      int64_t n = count(ys);
      for (int64_t flat = 0; flat < n; ++flat) {
        int64_t rem = flat, ia = 0, ib = 0, sa = 1, sb = 1;
        for (int i = rank - 1; i >= 0; --i) {
          int64_t idx = rem % ys[i];
          rem /= ys[i];
          int ka = i - (rank - ra), kb = i - (rank - rb);
          if (ka >= 0) {
            if (as[ka] != 1) ia += idx * sa;
            sa *= as[ka];
          }
          if (kb >= 0) {
            if (bs[kb] != 1) ib += idx * sb;
            sb *= bs[kb];
          }
        }
        float want = ref_binary(op, a[ia], b[ib]);
        if (std::isnan(want)) {
          ASSERT_TRUE(std::isnan(y[flat])) << op_name(op) << " " << isa_name(isa);
        } else {
          ASSERT_EQ(y[flat], want)
              << op_name(op) << " trial " << trial << " at " << flat << " " << isa_name(isa);
        }
      }
    }
  }
}

TEST(TensorOps, ReductionsAlongEveryAxis) {
  std::mt19937 rng(11);
  const int64_t dims[] = {1, 2, 3, 5, 8, 9, 16, 17, 31, 64, 100};
  for (Isa isa : supported_isas()) {
    auto e = engine(isa);
    for (int trial = 0; trial < 300; ++trial) {
      int rank = 1 + int(rng() % 4);
      std::vector<int64_t> s(rank);
      for (auto& d : s) d = dims[rng() % 11];
      int axis = int(rng() % rank);
      auto op = ReduceOp(trial % 3);
      std::vector<float> x(count(s));
      std::uniform_real_distribution<float> u(-10, 10);
      for (auto& v : x) v = u(rng);
      bool nan = trial % 9 == 0;
      if (nan) x[rng() % x.size()] = kNaN;
      int64_t outer = 1, inner = 1;
      for (int i = 0; i < axis; ++i) outer *= s[i];
      for (int i = axis + 1; i < rank; ++i) inner *= s[i];
      std::vector<float> y(outer * inner + 1, 42.0f);
      ASSERT_TRUE(e->reduce(op, s, trial % 2 ? axis : axis - rank, x.data(), y.data()).ok());
      EXPECT_EQ(y.back(), 42.0f);
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t j = 0; j < inner; ++j) {
          double sum = 0, abs = 0, mx = -INFINITY;
          bool has_nan = false;
          for (int64_t k = 0; k < s[axis]; ++k) {
            float v = x[(o * s[axis] + k) * inner + j];
            has_nan |= std::isnan(v);
            sum += v, abs += std::fabs(v), mx = std::max<double>(mx, v);
          }
          float got = y[o * inner + j];
          if (has_nan) {
            ASSERT_TRUE(std::isnan(got)) << op_name(op) << " " << isa_name(isa);
            continue;
          }
          double n = double(s[axis]);
          if (op == ReduceOp::kMax) {
            ASSERT_EQ(got, float(mx));
          } else {
            double want = op == ReduceOp::kSum ? sum : sum / n;
            double tol = (n + 16) * FLT_EPSILON * (op == ReduceOp::kSum ? abs : abs / n) + 1e-30;
            ASSERT_LE(std::fabs(got - want), tol) << op_name(op) << " " << isa_name(isa);
          }
        }
      }
    }
    // Zero-length axis: the identities.
    std::vector<int64_t> s{3, 0};
    float y[3];
    ASSERT_TRUE(e->reduce(ReduceOp::kSum, s, 1, nullptr, y).ok());
    EXPECT_EQ(y[0], 0.0f);
    ASSERT_TRUE(e->reduce(ReduceOp::kMax, s, 1, nullptr, y).ok());
    EXPECT_EQ(y[2], -kInf);
    ASSERT_TRUE(e->reduce(ReduceOp::kMean, s, -1, nullptr, y).ok());
    EXPECT_TRUE(std::isnan(y[1]));
  }
}

TEST(TensorOps, SoftmaxAndLayerNormRows) {
  std::mt19937 rng(3);
  for (Isa isa : supported_isas()) {
    auto e = engine(isa);
    for (int64_t cols : {1, 2, 7, 8, 15, 16, 17, 33, 64, 100, 768, 1000}) {
      int64_t rows = 1 + int64_t(rng() % 5);
      std::vector<float> x(rows * cols), y(rows * cols + 1, 42.0f);
      std::uniform_real_distribution<float> u(-20, 20);
      for (auto& v : x) v = u(rng);
      x[0] = 500.0f;  // would overflow without the max subtraction
      ASSERT_TRUE(e->softmax(rows, cols, x.data(), y.data()).ok());
      EXPECT_EQ(y.back(), 42.0f);
      double worst = 0;  // in units of the bound: 8 ulp + |x - max| ulp (x - max rounds)
      for (int64_t r = 0; r < rows; ++r) {
        double m = -INFINITY, s = 0;
        for (int64_t j = 0; j < cols; ++j) m = std::max<double>(m, x[r * cols + j]);
        for (int64_t j = 0; j < cols; ++j) s += std::exp(x[r * cols + j] - m);
        for (int64_t j = 0; j < cols; ++j) {
          double want = std::exp(x[r * cols + j] - m) / s;
          double err = ulps(y[r * cols + j], want) / (8 + (m - x[r * cols + j]));
          keep_worst(worst, err);
        }
      }
      EXPECT_LE(worst, 1) << "softmax cols=" << cols << " " << isa_name(isa);

      std::vector<float> gamma(cols), beta(cols);
      for (auto& v : gamma) v = u(rng) * 0.1f;
      for (auto& v : beta) v = u(rng) * 0.1f;
      for (int affine = 0; affine < 4; ++affine) {
        const float* g = affine & 1 ? gamma.data() : nullptr;
        const float* b = affine & 2 ? beta.data() : nullptr;
        for (auto& v : x) v = u(rng) + 3.0f;
        std::vector<float> z(rows * cols + 1, 42.0f);
        ASSERT_TRUE(e->layer_norm(rows, cols, x.data(), g, b, 1e-5f, z.data()).ok());
        EXPECT_EQ(z.back(), 42.0f);
        for (int64_t r = 0; r < rows; ++r) {
          double mean = 0, var = 0;
          for (int64_t j = 0; j < cols; ++j) mean += x[r * cols + j];
          mean /= double(cols);
          for (int64_t j = 0; j < cols; ++j) var += std::pow(x[r * cols + j] - mean, 2);
          double rstd = 1 / std::sqrt(var / double(cols) + 1e-5);
          for (int64_t j = 0; j < cols; ++j) {
            double n = (x[r * cols + j] - mean) * rstd;
            double want = n * (g ? g[j] : 1.0) + (b ? b[j] : 0.0);
            // Relative to |gamma| (|n| + 1): the mean's rounding is absolute in units of std.
            double scale =
                std::fabs(g ? g[j] : 1.0) * (std::fabs(n) + 1) + (b ? std::fabs(b[j]) : 0);
            ASSERT_LE(std::fabs(z[r * cols + j] - want), 2e-6 * scale + 1e-30)
                << "layer_norm cols=" << cols << " affine=" << affine << " " << isa_name(isa);
          }
        }
      }
    }
    // NaN anywhere in a softmax row makes the row NaN; in place works.
    std::vector<float> x{1, 2, kNaN, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    ASSERT_TRUE(e->softmax(1, int64_t(x.size()), x.data(), x.data()).ok());
    for (float v : x) EXPECT_TRUE(std::isnan(v));
  }
}

// A convolution case: the descriptor's fields in order, then (NHWC test) whether Winograd runs.
struct ConvCase {
  int64_t n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw;
  bool winograd = false;
  Conv2dDesc desc() const {
    Conv2dDesc d;
    d.n = n, d.c = c, d.h = h, d.w = w, d.k = k, d.r = r, d.s = s;
    d.stride_h = sh, d.stride_w = sw, d.pad_h = ph, d.pad_w = pw;
    d.dilation_h = dh, d.dilation_w = dw;
    return d;
  }
};

std::vector<float> uniform(std::mt19937& rng, int64_t n) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = u(rng);
  return v;
}

// Output (n, k, p, q) of a convolution in double: {value, sum of |terms| (bias included)}.
// NCHW x KCRS, or NHWC x HWIO when `nhwc`.
std::pair<double, double> conv_reference(const Conv2dDesc& d, bool nhwc, const float* x,
                                         const float* w, const float* bias, int64_t n, int64_t k,
                                         int64_t p, int64_t q) {
  double acc = bias ? bias[k] : 0, abs = std::fabs(acc);
  for (int64_t r = 0; r < d.r; ++r)
    for (int64_t s = 0; s < d.s; ++s) {
      int64_t ih = p * d.stride_h - d.pad_h + r * d.dilation_h;
      int64_t iw = q * d.stride_w - d.pad_w + s * d.dilation_w;
      if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) continue;
      for (int64_t c = 0; c < d.c; ++c) {
        double v = nhwc ? double(x[((n * d.h + ih) * d.w + iw) * d.c + c]) *
                              w[((r * d.s + s) * d.c + c) * d.k + k]
                        : double(x[((n * d.c + c) * d.h + ih) * d.w + iw]) *
                              w[((k * d.c + c) * d.r + r) * d.s + s];
        acc += v, abs += std::fabs(v);
      }
    }
  return {acc, abs};
}

TEST(TensorOps, Conv2dMatchesDirectReference) {
  std::mt19937 rng(5);
  const ConvCase cases[] = {
      {1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 1, 1},     {2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1},
      {1, 16, 14, 14, 32, 1, 1, 1, 1, 0, 0, 1, 1},  // 1x1: no im2col
      {1, 3, 17, 13, 5, 5, 3, 2, 2, 2, 1, 1, 1},   {1, 4, 12, 12, 6, 3, 3, 1, 2, 0, 3, 2, 1},
      {3, 8, 9, 9, 16, 3, 3, 2, 2, 1, 1, 1, 1},    {1, 2, 7, 7, 3, 7, 7, 1, 1, 3, 3, 1, 1},
  };
  for (Isa isa : supported_isas()) {
    auto e = engine(isa);
    for (const ConvCase& t : cases) {
      Conv2dDesc d = t.desc();
      int64_t P = d.out_h(), Q = d.out_w();
      std::vector<float> x = uniform(rng, d.n * d.c * d.h * d.w);
      std::vector<float> w = uniform(rng, d.k * d.c * d.r * d.s), bias = uniform(rng, d.k);
      for (bool with_bias : {false, true}) {
        const float* b = with_bias ? bias.data() : nullptr;
        std::vector<float> y(d.n * d.k * P * Q + 1, 42.0f);
        ASSERT_TRUE(e->conv2d(d, x.data(), w.data(), b, y.data()).ok());
        EXPECT_EQ(y.back(), 42.0f);
        for (int64_t n = 0; n < d.n; ++n)
          for (int64_t k = 0; k < d.k; ++k)
            for (int64_t p = 0; p < P; ++p)
              for (int64_t q = 0; q < Q; ++q) {
                auto [acc, abs] = conv_reference(d, false, x.data(), w.data(), b, n, k, p, q);
                float got = y[((n * d.k + k) * P + p) * Q + q];
                ASSERT_LE(std::fabs(got - acc), (d.c * d.r * d.s + 2) * FLT_EPSILON * abs + 1e-30)
                    << "conv case c=" << d.c << " k=" << d.k << " " << isa_name(isa);
              }
      }
    }
  }
}

// conv2d_nhwc against a double-precision direct convolution: Winograd's F(4x4, 3x3) for the
// shapes it takes (partial edge tiles, several tile blocks, padding 0 and 1, batches) and
// im2col for the rest, each path asserted through the engine's counters. The bounds are
// relative to sum |x| |w| over each output's window (kernels.hpp).
TEST(TensorOps, Conv2dNhwcMatchesDirectReference) {
  std::mt19937 rng(7);
  const ConvCase cases[] = {
      {1, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, true},
      {2, 40, 13, 11, 33, 3, 3, 1, 1, 1, 1, 1, 1, true},  // partial tiles, two images
      {1, 32, 10, 10, 32, 3, 3, 1, 1, 0, 0, 1, 1, true},  // no padding
      {1, 32, 64, 60, 32, 3, 3, 1, 1, 1, 1, 1, 1, true},  // 240 tiles: blocks + remainder
      {1, 64, 12, 12, 64, 3, 3, 1, 1, 1, 1, 1, 1, true},
      {1, 1, 9, 9, 16, 3, 3, 1, 1, 1, 1, 1, 1, false},   // one channel
      {1, 16, 9, 9, 64, 3, 3, 1, 1, 1, 1, 1, 1, false},  // too few channels
      {1, 32, 9, 9, 32, 3, 3, 2, 2, 1, 1, 1, 1, false},  // stride 2
      {1, 32, 9, 9, 32, 3, 3, 1, 1, 2, 2, 2, 2, false},  // dilation 2
      {2, 16, 6, 6, 8, 1, 1, 1, 1, 0, 0, 1, 1, false},   // 1x1: no im2col
      {1, 3, 17, 13, 5, 5, 3, 2, 2, 2, 1, 1, 1, false},
      {1, 32, 5, 5, 32, 3, 3, 1, 1, 0, 0, 1, 1, false},  // output 3x3: below one tile
  };
  for (Isa isa : supported_isas()) {
    auto e = engine(isa);
    uint64_t want_wino = 0, want_im2col = 0;
    for (const ConvCase& t : cases) {
      Conv2dDesc d = t.desc();
      int64_t P = d.out_h(), Q = d.out_w();
      std::vector<float> x = uniform(rng, d.n * d.h * d.w * d.c);
      std::vector<float> w = uniform(rng, d.r * d.s * d.c * d.k), bias = uniform(rng, d.k);
      ASSERT_TRUE(e->prepare_conv2d_nhwc(d).ok());
      double worst = 0;
      for (bool with_bias : {false, true}) {
        const float* b = with_bias ? bias.data() : nullptr;
        std::vector<float> y(d.n * P * Q * d.k + 1, 42.0f);
        ASSERT_TRUE(e->conv2d_nhwc(d, x.data(), w.data(), b, y.data()).ok());
        (t.winograd ? want_wino : want_im2col) += 1;
        EXPECT_EQ(y.back(), 42.0f);
        for (int64_t n = 0; n < d.n; ++n)
          for (int64_t p = 0; p < P; ++p)
            for (int64_t q = 0; q < Q; ++q)
              for (int64_t k = 0; k < d.k; ++k) {
                auto [acc, abs] = conv_reference(d, true, x.data(), w.data(), b, n, k, p, q);
                float got = y[((n * P + p) * Q + q) * d.k + k];
                double err = std::fabs(double(got) - acc) / (abs + 1e-30);
                worst = std::max(worst, err);
                double bound =
                    t.winograd ? std::ldexp(1.0, -17) : double(d.c * d.r * d.s + 2) * FLT_EPSILON;
                ASSERT_LE(err, bound)
                    << "conv2d_nhwc c=" << d.c << " k=" << d.k << " h=" << d.h << " at " << n << ","
                    << p << "," << q << "," << k << " " << isa_name(isa);
              }
      }
      if (t.winograd)
        std::printf("winograd c=%lld k=%lld %s: worst error %.3g of sum|x||w|\n", (long long)d.c,
                    (long long)d.k, isa_name(isa), worst);
    }
    KernelStats st = e->stats();
    EXPECT_EQ(st.winograd_convs, want_wino) << isa_name(isa);
    EXPECT_EQ(st.im2col_convs, want_im2col) << isa_name(isa);
  }
}

TEST(TensorOps, BadArgumentsAreClearErrors) {
  auto e = engine(cpu_features().best);
  std::vector<float> buf(64);
  auto expect_bad = [](const Status& s, const std::string& what) {
    ASSERT_FALSE(s.ok()) << "accepted; expected: " << what;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(s.error().message.find(what), std::string::npos) << s.error().to_string();
  };
  expect_bad(e->unary(UnaryOp::kExp, -1, buf.data(), buf.data()), "negative");
  expect_bad(e->unary(UnaryOp::kExp, 4, nullptr, buf.data()), "null buffer for x");
  expect_bad(e->unary(UnaryOp::kExp, 8, buf.data(), buf.data() + 1), "overlaps x");
  std::vector<int64_t> s23{2, 3}, s4{4}, s3{3}, big{int64_t(1) << 40, int64_t(1) << 40};
  expect_bad(e->binary(BinaryOp::kAdd, s23, buf.data(), s4, buf.data() + 8, buf.data() + 16),
             "do not broadcast");
  expect_bad(e->binary(BinaryOp::kAdd, s23, buf.data(), s3, buf.data() + 8, buf.data() + 2),
             "overlaps a");
  expect_bad(e->binary(BinaryOp::kAdd, big, buf.data(), s3, buf.data(), buf.data()), "too large");
  std::vector<int64_t> rank9(9, 1);
  expect_bad(e->binary(BinaryOp::kAdd, rank9, buf.data(), s3, buf.data(), buf.data()), "rank 9");
  expect_bad(e->reduce(ReduceOp::kSum, s23, 2, buf.data(), buf.data() + 10), "axis 2");
  expect_bad(e->reduce(ReduceOp::kSum, s23, 1, buf.data(), buf.data() + 1), "overlaps x");
  expect_bad(e->softmax(2, 3, buf.data(), nullptr), "null buffer for y");
  expect_bad(e->layer_norm(2, 3, buf.data(), nullptr, nullptr, -1.0f, buf.data() + 8), "eps");
  expect_bad(e->layer_norm(2, 3, buf.data(), buf.data() + 8, nullptr, 0.f, buf.data() + 9),
             "overlaps gamma");
  Conv2dDesc d;
  d.c = 1, d.h = 2, d.w = 2, d.k = 1, d.r = 3, d.s = 3;
  expect_bad(e->conv2d(d, buf.data(), buf.data() + 8, nullptr, buf.data() + 20), "does not fit");
  d.r = d.s = 1;
  d.stride_h = 0;
  expect_bad(e->conv2d(d, buf.data(), buf.data() + 8, nullptr, buf.data() + 20), "stride");
  d.stride_h = 1;
  expect_bad(e->conv2d(d, buf.data(), buf.data() + 8, nullptr, buf.data() + 2), "overlaps x");
  expect_bad(e->conv2d_nhwc(d, buf.data(), buf.data() + 8, nullptr, buf.data() + 2), "overlaps x");
  expect_bad(e->conv2d_nhwc(d, nullptr, buf.data() + 8, nullptr, buf.data() + 20),
             "null buffer for x");
  d.pad_h = -1;
  expect_bad(e->prepare_conv2d_nhwc(d), "padding");
  // Nothing was written by any rejected call.
  for (float v : buf) EXPECT_EQ(v, 0.0f);
}

TEST(TensorOps, ProfilesThresholdAndEviction) {
  if (cpu_features().best == Isa::kScalar) GTEST_SKIP() << "no generated code at scalar level";
  auto e = engine(cpu_features().best, 3, 4096);  // tiny cache: every new kernel evicts
  std::vector<float> x(200, 1.0f), y(200);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(e->unary(UnaryOp::kExp, 100, x.data(), y.data()).ok());
  KernelStats s = e->stats();
  EXPECT_EQ(s.calls, 5u);
  EXPECT_EQ(s.generic_calls, 2u);  // calls 1 and 2 below the threshold
  EXPECT_EQ(s.compiles, 1u);
  ASSERT_EQ(s.shapes.size(), 1u);
  EXPECT_EQ(s.shapes[0].op, "exp");
  EXPECT_TRUE(s.shapes[0].compiled);
  for (int64_t n = 101; n < 105; ++n)
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(e->softmax(1, n, x.data(), y.data()).ok());
  s = e->stats();
  EXPECT_EQ(s.compiles, 5u);
  EXPECT_GE(s.evictions, 3u);
  int compiled = 0;
  for (const auto& sp : s.shapes) compiled += sp.compiled;
  EXPECT_EQ(compiled, 1);  // only the newest stays, over the bound
  EXPECT_NE(e->stats_text().find("softmax len=104"), std::string::npos) << e->stats_text();
}

}  // namespace
}  // namespace tierjit::kernels
