// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Argument checking for sgemm: dimensions, leading dimensions, extents, null buffers and
// aliasing, then the transposition of column-major calls into the row-major form.
#include "kernels/gemm_check.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

namespace tierjit::kernels {
namespace {

struct Operand {
  const char* name;
  int64_t outer = 0, inner = 0, ld = 0;  // stored as `outer` lines of `inner` elements
  const void* ptr = nullptr;
  int64_t bytes = 0;  // extent
};

Error bad(const std::string& msg) { return make_error(ErrorCode::kInvalidInput, "sgemm: " + msg); }

// The stored shape of an operand with `rows` x `cols` as used (after op()).
Operand stored(const char* name, int64_t rows, int64_t cols, bool trans, bool col_major, int64_t ld,
               const void* ptr) {
  int64_t outer = trans ? cols : rows, inner = trans ? rows : cols;
  if (col_major) std::swap(outer, inner);
  return Operand{name, outer, inner, ld, ptr, 0};
}

// Fills op.bytes; returns the problem (nothing allocated on the success path: this runs on
// every call, and building Status objects there cost more than a 16^3 GEMM's kernel).
enum class Problem { kNone, kLd, kTooLarge, kNull };

Problem extent(Operand& op) {
  if (op.ld < 1 || op.ld < op.inner) return Problem::kLd;
  if (op.outer == 0 || op.inner == 0) return Problem::kNone;
  int64_t span = 0;
  if (__builtin_mul_overflow(op.outer - 1, op.ld, &span) ||
      __builtin_add_overflow(span, op.inner, &span) ||
      __builtin_mul_overflow(span, int64_t(4), &op.bytes)) {
    return Problem::kTooLarge;
  }
  return op.ptr == nullptr ? Problem::kNull : Problem::kNone;
}

Error describe(const Operand& op, Problem p) {
  switch (p) {
    case Problem::kLd:
      return bad(std::string("leading dimension ld") + op.name + "=" + std::to_string(op.ld) +
                 " is smaller than its stored row length " +
                 std::to_string(std::max<int64_t>(1, op.inner)));
    case Problem::kTooLarge:
      return bad(std::string("matrix ") + op.name + " is too large to address");
    case Problem::kNull:
    case Problem::kNone:
      break;
  }
  return bad(std::string("null buffer for ") + op.name + " (" + std::to_string(op.outer) + " x " +
             std::to_string(op.inner) + " elements)");
}

Status check_extent(Operand& op) {
  Problem p = extent(op);
  if (p == Problem::kNone) return {};
  return describe(op, p);
}

bool overlaps(const Operand& x, const Operand& y) {
  if (x.bytes == 0 || y.bytes == 0) return false;
  auto xs = reinterpret_cast<uintptr_t>(x.ptr), ys = reinterpret_cast<uintptr_t>(y.ptr);
  return xs < ys + uint64_t(y.bytes) && ys < xs + uint64_t(x.bytes);
}

}  // namespace

Status check_gemm_shape(const GemmDesc& d) {
  const int64_t dims[] = {d.m, d.n, d.k};
  const char* names[] = {"M", "N", "K"};
  for (int i = 0; i < 3; ++i) {
    if (dims[i] < 0)
      return bad(std::string(names[i]) + " is negative (" + std::to_string(dims[i]) + ")");
    if (dims[i] > INT32_MAX) return bad(std::string(names[i]) + " exceeds 2^31-1");
  }
  bool cm = d.layout == Layout::kColMajor;
  Operand ops[] = {stored("a", d.m, d.k, d.trans_a == Transpose::kYes, cm, d.lda, "x"),
                   stored("b", d.k, d.n, d.trans_b == Transpose::kYes, cm, d.ldb, "x"),
                   stored("c", d.m, d.n, false, cm, d.ldc, "x")};
  for (auto& op : ops) TJ_TRY(check_extent(op));
  return {};
}

Status check_gemm(const GemmDesc& d, const float* a, const float* b, const float* c,
                  RowMajorGemm& out) {
  bool cm = d.layout == Layout::kColMajor;
  Operand ops[] = {stored("a", d.m, d.k, d.trans_a == Transpose::kYes, cm, d.lda, a),
                   stored("b", d.k, d.n, d.trans_b == Transpose::kYes, cm, d.ldb, b),
                   stored("c", d.m, d.n, false, cm, d.ldc, c)};
  bool dims_ok =
      d.m >= 0 && d.n >= 0 && d.k >= 0 && d.m <= INT32_MAX && d.n <= INT32_MAX && d.k <= INT32_MAX;
  Problem problems[3];
  for (int i = 0; i < 3; ++i) problems[i] = dims_ok ? extent(ops[i]) : Problem::kNone;
  if (!dims_ok || problems[0] != Problem::kNone || problems[1] != Problem::kNone ||
      problems[2] != Problem::kNone) {
    TJ_TRY(check_gemm_shape(d));
    for (int i = 0; i < 3; ++i) {
      if (problems[i] != Problem::kNone) return describe(ops[i], problems[i]);
    }
  }
  if (overlaps(ops[2], ops[0]))
    return bad("C overlaps A (the result would depend on the write order)");
  if (overlaps(ops[2], ops[1]))
    return bad("C overlaps B (the result would depend on the write order)");
  out = row_major_form(d, a, b, c);
  return {};
}

RowMajorGemm row_major_form(const GemmDesc& d, const float* a, const float* b, const float* c) {
  RowMajorGemm out;
  if (d.layout == Layout::kRowMajor) {
    out.m = d.m, out.n = d.n, out.k = d.k;
    out.ta = d.trans_a == Transpose::kYes, out.tb = d.trans_b == Transpose::kYes;
    out.lda = d.lda, out.ldb = d.ldb, out.a = a, out.b = b;
  } else {  // column-major C = op(A) op(B)  <=>  row-major C^T = op(B)^T op(A)^T
    out.m = d.n, out.n = d.m, out.k = d.k;
    out.ta = d.trans_b == Transpose::kYes, out.tb = d.trans_a == Transpose::kYes;
    out.lda = d.ldb, out.ldb = d.lda, out.a = b, out.b = a;
  }
  out.ldc = d.ldc;
  out.c = const_cast<float*>(c);
  return out;
}

GemmDesc GemmDesc::row_major(int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b) {
  GemmDesc d;
  d.m = m, d.n = n, d.k = k;
  d.trans_a = trans_a ? Transpose::kYes : Transpose::kNo;
  d.trans_b = trans_b ? Transpose::kYes : Transpose::kNo;
  d.lda = std::max<int64_t>(1, trans_a ? m : k);
  d.ldb = std::max<int64_t>(1, trans_b ? k : n);
  d.ldc = std::max<int64_t>(1, n);
  return d;
}

}  // namespace tierjit::kernels
