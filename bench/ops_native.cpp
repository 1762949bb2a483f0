// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The "what the compiler gives you" peer for bench_ops: plain loops built with -O3
// -march=native -ffast-math, so GCC vectorizes expf/tanhf through glibc's libmvec.
#include <cmath>
#include <cstdint>

namespace native {

void exp(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}
void tanh(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
void gelu(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678f));
}
void bias_add(const float* x, const float* b, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) y[r * cols + j] = x[r * cols + j] + b[j];
}
void softmax(const float* x, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r, x += cols, y += cols) {
    float m = x[0];
    for (int64_t j = 1; j < cols; ++j) m = std::fmax(m, x[j]);
    float s = 0;
    for (int64_t j = 0; j < cols; ++j) s += (y[j] = std::exp(x[j] - m));
    float inv = 1 / s;
    for (int64_t j = 0; j < cols; ++j) y[j] *= inv;
  }
}
void layer_norm(const float* x, const float* g, const float* b, float* y, int64_t rows,
                int64_t cols) {
  for (int64_t r = 0; r < rows; ++r, x += cols, y += cols) {
    float s = 0, v = 0;
    for (int64_t j = 0; j < cols; ++j) s += x[j];
    float mean = s / float(cols);
    for (int64_t j = 0; j < cols; ++j) v += (x[j] - mean) * (x[j] - mean);
    float rstd = 1 / std::sqrt(v / float(cols) + 1e-5f);
    for (int64_t j = 0; j < cols; ++j) y[j] = (x[j] - mean) * rstd * g[j] + b[j];
  }
}
void reduce_sum_rows(const float* x, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float s = 0;
    for (int64_t j = 0; j < cols; ++j) s += x[r * cols + j];
    y[r] = s;
  }
}

}  // namespace native
