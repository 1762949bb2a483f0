// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The non-GEMM tensor kernels, one core, fp32, warm operands: tierjit's generated kernels vs
// oneDNN 2.6 primitives (same plain layouts: row-major rows x cols, NCHW/OIHW) vs plain C++
// loops built with -O3 -march=native -ffast-math (libmvec). Median of short batches; the
// last columns are peer time / tierjit time (> 1: tierjit is faster). Also the generation
// time of each tierjit kernel (warm generator) and, for conv2d, GFLOP/s and % of peak.
// Usage: bench_ops [--quick]. Re-executes itself with OMP_NUM_THREADS=1 for oneDNN.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <vector>

#include "tierjit/kernels.hpp"

namespace native {
void exp(const float* x, float* y, int64_t n);
void tanh(const float* x, float* y, int64_t n);
void gelu(const float* x, float* y, int64_t n);
void bias_add(const float* x, const float* b, float* y, int64_t rows, int64_t cols);
void softmax(const float* x, float* y, int64_t rows, int64_t cols);
void layer_norm(const float* x, const float* g, const float* b, float* y, int64_t rows,
                int64_t cols);
void reduce_sum_rows(const float* x, float* y, int64_t rows, int64_t cols);
}  // namespace native

namespace {

using namespace tierjit::kernels;
using Clock = std::chrono::steady_clock;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

double seconds_per_call(double budget, double bytes, const std::function<void()>& fn) {
  fn();  // warm
  int per_batch = int(std::clamp(4e6 / std::max(bytes, 1.0), 1.0, 1e5));
  std::vector<double> samples;
  auto deadline = Clock::now() + std::chrono::duration<double>(budget);
  do {
    auto t0 = Clock::now();
    for (int i = 0; i < per_batch; ++i) fn();
    samples.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / per_batch);
  } while (Clock::now() < deadline || samples.size() < 5);
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

struct Row {
  std::string op, shape;
  double tj = 0, dnnl = 0, nat = 0, gen_us = 0, flops = 0;
};

void print(const Row& r, double peak) {
  auto ratio = [&](double t) {
    char b[16];
    if (t > 0) {
      std::snprintf(b, sizeof b, "%7.2f", t / r.tj);
    } else {
      std::snprintf(b, sizeof b, "%7s", "-");
    }
    return std::string(b);
  };
  std::printf("%-11s %-22s %10.2f %10.2f %10.2f %s %s %8.1f", r.op.c_str(), r.shape.c_str(),
              r.tj * 1e6, r.dnnl * 1e6, r.nat > 0 ? r.nat * 1e6 : 0.0, ratio(r.dnnl).c_str(),
              ratio(r.nat).c_str(), r.gen_us);
  if (r.flops > 0) {
    double g = r.flops / r.tj / 1e9;
    std::printf("   %.1f GFLOP/s (%.0f%% of peak; oneDNN %.1f)", g, 100 * g / peak,
                r.flops / r.dnnl / 1e9);
  }
  std::printf("\n");
}

std::vector<float> random_vec(size_t n, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// What every section of the benchmark shares.
struct Context {
  std::unique_ptr<KernelEngine>& tj;
  double peak, budget;
  dnnl::engine& eng;
  dnnl::stream& strm;
  std::mt19937& rng;
  int64_t fresh = 100003;
  // Generation time of one kernel: a fresh shape on a warm generator.
  double gen_time(const std::function<void(int64_t)>& call) {
    uint64_t before = tj->stats().compile_ns;
    call(fresh++);
    return double(tj->stats().compile_ns - before) / 1e3;
  }
  void bench_elementwise();
  void bench_rows();
  void bench_conv();
};

// Elementwise activations.
void Context::bench_elementwise() {
  struct Elt {
    const char* name;
    UnaryOp op;
    dnnl::algorithm alg;
    void (*nat)(const float*, float*, int64_t);
  };
  const Elt elts[] = {
      {"relu", UnaryOp::kRelu, dnnl::algorithm::eltwise_relu, nullptr},
      {"exp", UnaryOp::kExp, dnnl::algorithm::eltwise_exp, native::exp},
      {"tanh", UnaryOp::kTanh, dnnl::algorithm::eltwise_tanh, native::tanh},
      {"sigmoid", UnaryOp::kSigmoid, dnnl::algorithm::eltwise_logistic, nullptr},
      {"gelu", UnaryOp::kGelu, dnnl::algorithm::eltwise_gelu_erf, native::gelu},
  };
  const int64_t shapes[][2] = {{64, 768}, {128, 3072}, {1024, 4096}};
  for (const Elt& e : elts) {
    for (auto [rows, cols] : shapes) {
      int64_t n = rows * cols;
      auto x = random_vec(size_t(n), rng, -5, 5);
      std::vector<float> y(static_cast<size_t>(n));
      Row r{e.name, std::to_string(rows) + "x" + std::to_string(cols)};
      double bytes = 8.0 * double(n);
      r.gen_us = gen_time([&](int64_t len) {
        std::vector<float> t(static_cast<size_t>(len));
        (void)tj->unary(e.op, len, t.data(), t.data());
      });
      r.tj = seconds_per_call(budget, bytes, [&] { (void)tj->unary(e.op, n, x.data(), y.data()); });
      dnnl::memory::desc md({rows, cols}, dt::f32, tag::ab);
      dnnl::eltwise_forward prim(dnnl::eltwise_forward::primitive_desc(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, e.alg, md, 0.f, 0.f),
          eng));
      dnnl::memory src(md, eng, x.data()), dst(md, eng, y.data());
      r.dnnl = seconds_per_call(budget, bytes, [&] {
        prim.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
        strm.wait();
      });
      if (e.nat) r.nat = seconds_per_call(budget, bytes, [&] { e.nat(x.data(), y.data(), n); });
      print(r, peak);
    }
  }
}

// Row operations.
void Context::bench_rows() {
  // Bias add (row broadcast), softmax, layer norm, row sums.
  const int64_t rowshapes[][2] = {{128, 768}, {1024, 128}, {512, 1000}, {64, 4096}};
  for (auto [rows, cols] : rowshapes) {
    int64_t n = rows * cols;
    auto x = random_vec(size_t(n), rng, -5, 5);
    auto b = random_vec(size_t(cols), rng, -1, 1);
    auto g = random_vec(size_t(cols), rng, 0.5, 1.5);
    std::vector<float> y(static_cast<size_t>(n));
    std::string shape = std::to_string(rows) + "x" + std::to_string(cols);
    double bytes = 8.0 * double(n);
    dnnl::memory::desc md({rows, cols}, dt::f32, tag::ab);
    dnnl::memory src(md, eng, x.data()), dst(md, eng, y.data());
    {
      Row r{"bias_add", shape};
      int64_t as[] = {rows, cols}, bs[] = {cols};
      r.gen_us = gen_time([&](int64_t len) {
        int64_t fa[] = {1, len}, fb[] = {1};
        std::vector<float> big(static_cast<size_t>(len));
        (void)tj->binary(BinaryOp::kAdd, fa, big.data(), fb, b.data(), big.data());
      });
      r.tj = seconds_per_call(budget, bytes, [&] {
        (void)tj->binary(BinaryOp::kAdd, as, x.data(), bs, b.data(), y.data());
      });
      dnnl::memory::desc bmd({1, cols}, dt::f32, tag::ab);
      dnnl::memory bm(bmd, eng, b.data());
      dnnl::binary prim(dnnl::binary::primitive_desc(
          dnnl::binary::desc(dnnl::algorithm::binary_add, md, bmd, md), eng));
      r.dnnl = seconds_per_call(budget, bytes, [&] {
        prim.execute(strm, {{DNNL_ARG_SRC_0, src}, {DNNL_ARG_SRC_1, bm}, {DNNL_ARG_DST, dst}});
        strm.wait();
      });
      r.nat = seconds_per_call(budget, bytes,
                               [&] { native::bias_add(x.data(), b.data(), y.data(), rows, cols); });
      print(r, peak);
    }
    {
      Row r{"softmax", shape};
      r.gen_us = gen_time([&](int64_t len) {
        std::vector<float> t(static_cast<size_t>(len));
        (void)tj->softmax(1, len, t.data(), t.data());
      });
      r.tj = seconds_per_call(budget, bytes,
                              [&] { (void)tj->softmax(rows, cols, x.data(), y.data()); });
      dnnl::softmax_forward prim(dnnl::softmax_forward::primitive_desc(
          dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, md, 1), eng));
      r.dnnl = seconds_per_call(budget, bytes, [&] {
        prim.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
        strm.wait();
      });
      r.nat =
          seconds_per_call(budget, bytes, [&] { native::softmax(x.data(), y.data(), rows, cols); });
      print(r, peak);
    }
    {
      Row r{"layer_norm", shape};
      r.gen_us = gen_time([&](int64_t len) {
        std::vector<float> t(static_cast<size_t>(len));
        (void)tj->layer_norm(1, len, t.data(), nullptr, nullptr, 1e-5f, t.data());
      });
      r.tj = seconds_per_call(budget, bytes, [&] {
        (void)tj->layer_norm(rows, cols, x.data(), g.data(), b.data(), 1e-5f, y.data());
      });
      dnnl::memory::desc smd({cols}, dt::f32, tag::a);
      dnnl::memory sm(smd, eng, g.data()), hm(smd, eng, b.data());
      auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
      dnnl::layer_normalization_forward prim(dnnl::layer_normalization_forward::primitive_desc(
          dnnl::layer_normalization_forward::desc(dnnl::prop_kind::forward_inference, md, 1e-5f,
                                                  flags),
          eng));
      r.dnnl = seconds_per_call(budget, bytes, [&] {
        prim.execute(
            strm,
            {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCALE, sm}, {DNNL_ARG_SHIFT, hm}});
        strm.wait();
      });
      r.nat = seconds_per_call(budget, bytes, [&] {
        native::layer_norm(x.data(), g.data(), b.data(), y.data(), rows, cols);
      });
      print(r, peak);
    }
    {
      Row r{"reduce_sum", shape + " axis 1"};
      int64_t s[] = {rows, cols};
      r.gen_us = gen_time([&](int64_t len) {
        int64_t fs[] = {1, len};
        std::vector<float> t(static_cast<size_t>(len));
        float out;
        (void)tj->reduce(ReduceOp::kSum, fs, 1, t.data(), &out);
      });
      r.tj = seconds_per_call(budget, 4.0 * double(n),
                              [&] { (void)tj->reduce(ReduceOp::kSum, s, 1, x.data(), y.data()); });
      dnnl::memory::desc omd({rows, 1}, dt::f32, tag::ab);
      dnnl::memory om(omd, eng, y.data());
      dnnl::reduction prim(dnnl::reduction::primitive_desc(
          dnnl::reduction::desc(dnnl::algorithm::reduction_sum, md, omd, 0.f, 0.f), eng));
      r.dnnl = seconds_per_call(budget, 4.0 * double(n), [&] {
        prim.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, om}});
        strm.wait();
      });
      r.nat = seconds_per_call(budget, 4.0 * double(n),
                               [&] { native::reduce_sum_rows(x.data(), y.data(), rows, cols); });
      print(r, peak);
    }
  }
}

// Convolutions.
void Context::bench_conv() {
  // conv2d, NCHW / OIHW, with bias.
  struct Conv {
    int64_t n, c, h, w, k, r, s, stride, pad;
    const char* label;
  };
  const Conv convs[] = {
      {1, 3, 224, 224, 64, 7, 7, 2, 3, "resnet conv1"},
      {1, 64, 56, 56, 64, 3, 3, 1, 1, "3x3 c64"},
      {1, 128, 28, 28, 128, 3, 3, 1, 1, "3x3 c128"},
      {1, 256, 14, 14, 256, 3, 3, 1, 1, "3x3 c256"},
      {1, 256, 56, 56, 64, 1, 1, 1, 0, "1x1 c256"},
      {8, 32, 28, 28, 64, 5, 5, 1, 2, "5x5 b8"},
  };
  for (const Conv& c : convs) {
    Conv2dDesc d;
    d.n = c.n, d.c = c.c, d.h = c.h, d.w = c.w, d.k = c.k, d.r = c.r, d.s = c.s;
    d.stride_h = d.stride_w = c.stride, d.pad_h = d.pad_w = c.pad;
    int64_t P = d.out_h(), Q = d.out_w();
    auto x = random_vec(size_t(c.n * c.c * c.h * c.w), rng, -1, 1);
    auto w = random_vec(size_t(c.k * c.c * c.r * c.s), rng, -1, 1);
    auto bias = random_vec(size_t(c.k), rng, -1, 1);
    std::vector<float> y(size_t(c.n * c.k * P * Q));
    Row r{"conv2d", c.label};
    r.flops = 2.0 * double(c.n * c.k * P * Q) * double(c.c * c.r * c.s);
    r.tj = seconds_per_call(budget * 2, r.flops / 10, [&] {
      (void)tj->conv2d(d, x.data(), w.data(), bias.data(), y.data());
    });
    dnnl::memory::desc xmd({c.n, c.c, c.h, c.w}, dt::f32, tag::nchw);
    dnnl::memory::desc wmd({c.k, c.c, c.r, c.s}, dt::f32, tag::oihw);
    dnnl::memory::desc bmd({c.k}, dt::f32, tag::a);
    dnnl::memory::desc ymd({c.n, c.k, P, Q}, dt::f32, tag::nchw);
    dnnl::convolution_forward prim(dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                        dnnl::algorithm::convolution_direct, xmd, wmd, bmd, ymd,
                                        {c.stride, c.stride}, {c.pad, c.pad}, {c.pad, c.pad}),
        eng));
    dnnl::memory xm(xmd, eng, x.data()), wm(wmd, eng, w.data()), bm(bmd, eng, bias.data()),
        ym(ymd, eng, y.data());
    r.dnnl = seconds_per_call(budget * 2, r.flops / 10, [&] {
      prim.execute(
          strm,
          {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, ym}});
      strm.wait();
    });
    print(r, peak);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (getenv("OMP_NUM_THREADS") == nullptr) {  // libgomp reads it at load time
    setenv("OMP_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);
  }
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  double budget = quick ? 0.05 : 0.3;
  KernelConfig cfg;
  cfg.compile_threshold = 0;
  auto tj = std::move(KernelEngine::create(cfg).value());
  double peak = measure_peak_gflops(tj->isa(), 0.1);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  std::mt19937 rng(1);
  std::printf("isa %s, measured peak %.1f GFLOP/s; times in us per call (median)\n",
              isa_name(tj->isa()), peak);
  std::printf("%-11s %-22s %10s %10s %10s %7s %7s %8s\n", "op", "shape", "tierjit", "oneDNN",
              "native", "dnnl/tj", "nat/tj", "gen us");

  Context ctx{tj, peak, budget, eng, strm, rng};
  ctx.bench_elementwise();
  ctx.bench_rows();
  ctx.bench_conv();
  return 0;
}
