// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Portable row kernels (see ops.hpp): the scalar ISA level and the pre-threshold path.
// Semantics match the generated kernels: NaN-propagating max/min, max reductions that return
// NaN when any element is NaN, two-pass layer norm, max-subtracted softmax.
#include <cmath>
#include <limits>

#include "kernels/ops.hpp"

namespace tierjit::kernels {
namespace {

float unary_one(UnaryOp op, float x) {
  switch (op) {
    case UnaryOp::kRelu:
      return std::isnan(x) ? x : (x > 0.0f ? x : 0.0f);
    case UnaryOp::kExp:
      return std::exp(x);
    case UnaryOp::kTanh:
      return std::tanh(x);
    case UnaryOp::kSigmoid:
      return 1.0f / (1.0f + std::exp(-x));
    case UnaryOp::kGelu:  // x/2 (1 + erf(x/sqrt2)) = x/2 erfc(-x/sqrt2), no cancellation
      if (std::isinf(x)) return x > 0 ? x : 0.0f;
      return 0.5f * x * std::erfc(-x * float(M_SQRT1_2));
  }
  return x;
}

float max_nan(float a, float b) { return std::isnan(a) || std::isnan(b) ? a + b : (a > b ? a : b); }
float min_nan(float a, float b) { return std::isnan(a) || std::isnan(b) ? a + b : (a < b ? a : b); }

float binary_one(BinaryOp op, float a, float b) {
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
      return max_nan(a, b);
    case BinaryOp::kMin:
      return min_nan(a, b);
  }
  return a;
}

void binary_rows(const OpKey& k, const float* a, const float* b, float* y, int64_t rows) {
  auto op = BinaryOp(k.op);
  for (int64_t r = 0; r < rows; ++r, a += k.a_row, b += k.b_row, y += k.len) {
    if (!k.a_bcast && !k.b_bcast) {
      for (int64_t i = 0; i < k.len; ++i) y[i] = binary_one(op, a[i], b[i]);
    } else if (k.a_bcast && !k.b_bcast) {
      float s = a[0];
      for (int64_t i = 0; i < k.len; ++i) y[i] = binary_one(op, s, b[i]);
    } else if (!k.a_bcast) {
      float s = b[0];
      for (int64_t i = 0; i < k.len; ++i) y[i] = binary_one(op, a[i], s);
    } else {
      float v = binary_one(op, a[0], b[0]);
      for (int64_t i = 0; i < k.len; ++i) y[i] = v;
    }
  }
}

// Reduces n elements spaced `stride` apart.
float reduce_one(ReduceOp op, const float* x, int64_t n, int64_t stride) {
  if (op == ReduceOp::kMax) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; ++i) m = max_nan(m, x[i * stride]);
    return m;
  }
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += x[i * stride];
  return op == ReduceOp::kMean ? s / float(n) : s;
}

}  // namespace

void run_op_generic(const OpKey& k, const float* x, const float* x2, float* y, int64_t rows,
                    const float* p0, const float* p1) {
  switch (k.kind) {
    case OpKind::kUnary:
      for (int64_t i = 0; i < rows * k.len; ++i) y[i] = unary_one(UnaryOp(k.op), x[i]);
      return;
    case OpKind::kBinary:
      return binary_rows(k, x, x2, y, rows);
    case OpKind::kReduceRows:
      for (int64_t r = 0; r < rows; ++r) y[r] = reduce_one(ReduceOp(k.op), x + r * k.len, k.len, 1);
      return;
    case OpKind::kReduceCols:
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < k.inner; ++j)
          y[r * k.inner + j] =
              reduce_one(ReduceOp(k.op), x + r * k.len * k.inner + j, k.len, k.inner);
      return;
    case OpKind::kSoftmax:
      for (int64_t r = 0; r < rows; ++r, x += k.len, y += k.len) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t i = 0; i < k.len; ++i) m = std::max(m, x[i]);
        float s = 0.0f;
        for (int64_t i = 0; i < k.len; ++i) s += (y[i] = std::exp(x[i] - m));
        float inv = 1.0f / s;
        for (int64_t i = 0; i < k.len; ++i) y[i] *= inv;
      }
      return;
    case OpKind::kLayerNorm: {
      const float* gamma = x2;
      const float* beta = p0;
      float eps = *p1;
      for (int64_t r = 0; r < rows; ++r, x += k.len, y += k.len) {
        float s = 0.0f;
        for (int64_t i = 0; i < k.len; ++i) s += x[i];
        float mean = s / float(k.len);
        float v = 0.0f;
        for (int64_t i = 0; i < k.len; ++i) v += (x[i] - mean) * (x[i] - mean);
        float rstd = 1.0f / std::sqrt(v / float(k.len) + eps);
        for (int64_t i = 0; i < k.len; ++i) {
          float t = (x[i] - mean) * rstd;
          if (gamma != nullptr) t *= gamma[i];
          if (beta != nullptr) t += beta[i];
          y[i] = t;
        }
      }
      return;
    }
  }
}

}  // namespace tierjit::kernels
