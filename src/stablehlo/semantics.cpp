// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Op semantics shared by the evaluator and the compiled path (see semantics.hpp).
#include "stablehlo/semantics.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <type_traits>

#include "stablehlo/attrs.hpp"

namespace tierjit::shlo {

std::string probe_key(const Op& op, size_t operands, bool tuple, std::string& key) {
  if (op.code == OpCode::kPrint) {
    key = "interpreter.print";
    return operands == 1 && !tuple ? "" : "prints one tensor";
  }
  const Attr* id = op.attr("probe_id");
  if (operands != 1 || tuple || id == nullptr || id->kind != Attr::Kind::kString)
    return "needs one tensor and probe_id = \"...\"";
  key = id->text;
  return "";
}

uint64_t ordered_bits(ElemType t, double x) {
  uint64_t b = float_bits(t, x);
  if (t == ElemType::kF8E8M0FNU) return b;  // no sign bit: the bits are in order
  // FNUZ types have one NaN, 0x80 (where -0 would be): above everything, as compiled code,
  // which holds it as a float NaN, orders it.
  bool fnuz =
      t == ElemType::kF8E4M3FNUZ || t == ElemType::kF8E4M3B11FNUZ || t == ElemType::kF8E5M2FNUZ;
  if (fnuz && std::isnan(x)) return ~uint64_t(0);
  int w = bit_width(t);
  uint64_t sign = uint64_t(1) << (w - 1);
  return (b & sign) ? (sign - 1) - (b & (sign - 1)) : b | sign;  // -0 and +0 adjacent
}

double bessel_i1e(double v) {  // exp(-|x|) I1(x), odd in x (C++17 computes I1)
  double r = std::exp(-std::fabs(v)) * std::cyl_bessel_i(1.0, std::fabs(v));
  return v < 0 ? -r : r;
}

double next_after(ElemType t, double x, double y) {
  if (std::isnan(x) || std::isnan(y)) return NAN;
  if (x == y) return y;
  uint64_t bits = float_bits(t, x);
  uint64_t sign = uint64_t(1) << (bit_width(t) - 1);
  if (x == 0) {
    bits = (y > 0 ? 0 : sign) | 1;
  } else if ((x < y) == (x > 0)) {
    bits += 1;
  } else {
    bits -= 1;
  }
  return float_from_bits(t, bits);
}

int64_t int_pow(ElemType t, int64_t base, int64_t e) {
  if (!is_unsigned(t) && e < 0) return base == 1 ? 1 : base == -1 ? (e % 2 ? -1 : 1) : 0;
  uint64_t r = 1, b = uint64_t(base), n = uint64_t(e);
  while (n) {
    if (n & 1) r *= b;
    b *= b;
    n >>= 1;
  }
  return wrap_int(t, int64_t(r));
}

double reduce_precision(ElemType t, double v, int64_t eb, int64_t mb) {
  // A NaN keeps its payload only while mantissa bits remain: with none, rounding clears the
  // payload and leaves an infinity of the same sign (XLA's bit-level definition, which the
  // StableHLO interpreter follows).
  if (std::isnan(v) && mb == 0) v = std::copysign(INFINITY, v);
  if (std::isnan(v) || std::isinf(v) || v == 0) return v;
  // Round the significand to mb bits (ties to even), then apply the exponent range.
  int e = 0;
  std::frexp(v, &e);
  int64_t emax = (int64_t(1) << (eb - 1)) - 1, emin = 1 - emax;
  int64_t m = std::min<int64_t>(mb, 52);
  // The quantum: 2^(exponent - m) for normals, 2^(emin - m) in the subnormal range.
  double q = std::ldexp(1.0, int(std::max<int64_t>(e - 1, emin) - m));
  double x = std::nearbyint(v / q) * q;
  std::frexp(x, &e);
  if (x != 0 && e - 1 > emax) x = std::copysign(INFINITY, x);
  return round_float(t, x);
}

double digamma(double x) {
  if (std::isnan(x) || x == -INFINITY) return NAN;
  if (x <= 0 && std::floor(x) == x) return NAN;
  if (x < 0) return digamma(1 - x) - M_PI / std::tan(M_PI * x);
  double r = 0;
  while (x < 6) r -= 1 / x, x += 1;
  double f = 1 / (x * x);
  return r + std::log(x) - 0.5 / x -
         f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}

// The inverse of erf by Newton's method on erf (double precision, from a rough start).
double erf_inv(double y) {
  if (std::isnan(y) || y < -1 || y > 1) return NAN;
  if (y == 1) return INFINITY;
  if (y == -1) return -INFINITY;
  double x = 0;
  double w = -std::log((1 - y) * (1 + y));  // Giles' starting point form
  x = std::copysign(std::sqrt(std::max(0.0, w)), y) * 0.8;
  for (int i = 0; i < 100; ++i) {
    double err = std::erf(x) - y;
    double step = err / (2 / std::sqrt(M_PI) * std::exp(-x * x));
    x -= step;
    if (std::fabs(step) <= 1e-17 * std::max(1.0, std::fabs(x))) break;
  }
  return x;
}

Expected<Op> dynamic_static_form(const Op& op, const std::vector<const Tensor*>& in,
                                 const std::string& file) {
  bool pad = op.code == OpCode::kDynamicPad, conv = op.code == OpCode::kDynamicConv;
  auto err = [&](const std::string& msg) {
    return make_error(ErrorCode::kInvalidInput, op.name + ": " + msg,
                      SourceLoc{file, op.loc.line, op.loc.col});
  };
  if (in.size() != (pad ? 5u : 3u))
    return err("takes " + std::to_string(pad ? 5 : 3) + " operands, got " +
               std::to_string(in.size()));
  auto ints = [&](size_t k, const char* name) -> Expected<Attr> {
    const Tensor* t = in.at(k);
    if (t == nullptr)
      return make_error(ErrorCode::kUnsupported,
                        op.name + ": " + name + " must be a constant for the compiled path",
                        SourceLoc{file, op.loc.line, op.loc.col});
    if (t->floating() || (t->shape.size() != 1 && !conv))
      return err(std::string(name) + " must be a 1-d integer tensor");
    Attr a;
    a.kind = Attr::Kind::kArray;
    for (int64_t v : t->i) {
      Attr e;
      e.kind = Attr::Kind::kInt;
      e.i = v;
      a.items.push_back(e);
    }
    return a;
  };
  Op stat = op;
  stat.set_name(pad ? "stablehlo.pad" : conv ? "stablehlo.convolution" : "stablehlo.gather");
  stat.operands.resize(2);
  stat.operand_types.clear();
  if (pad) {
    TJ_ASSIGN_OR_RETURN(Attr lo, ints(2, "edge_padding_low"));
    TJ_ASSIGN_OR_RETURN(Attr interior, ints(4, "interior_padding"));
    stat.attrs.emplace_back("edge_padding_low", std::move(lo));
    stat.attrs.emplace_back("interior_padding", std::move(interior));
  } else if (conv) {
    TJ_ASSIGN_OR_RETURN(Attr padding, ints(2, "padding"));
    stat.attrs.emplace_back("padding", std::move(padding));
  } else {
    TJ_ASSIGN_OR_RETURN(Attr sizes, ints(2, "slice_sizes"));
    stat.attrs.emplace_back("slice_sizes", std::move(sizes));
  }
  return stat;
}

Status run_check(const Op& op, const std::string& name, const std::vector<Tensor>& in,
                 const std::string& file, CheckOutcome& checks) {
  auto err = [&](const Op& o, ErrorCode code, const std::string& msg) {
    return make_error(code, o.name + ": " + msg, SourceLoc{file, o.loc.line, o.loc.col});
  };
  std::string kind = name.substr(std::strlen("check."));
  Tensor expected;
  const Tensor* want = nullptr;
  const Tensor* recorded = nullptr;  // expect_serialized_eq: the probe's value
  if (kind.size() > 6 && kind.substr(kind.size() - 6) == "_const") {
    const Attr* lit = nullptr;
    for (const auto& a : op.args)
      if (a.kind == Attr::Kind::kDense) lit = &a;
    if (lit == nullptr || op.result_types.empty() || in.size() != 1) {
      return err(op, ErrorCode::kInvalidInput, "malformed " + name);
    }
    auto t = parse_dense(lit->text, op.result_types.at(0));
    if (!t.ok()) return err(op, t.error().code, t.error().message);
    expected = std::move(*t);
    want = &expected;
    kind = kind.substr(0, kind.size() - 6);
  } else if (kind == "expect_serialized_eq" && in.size() == 1) {
    // The operand is the expected value; the probe's recorded value is what is checked.
    const Attr* id = op.attr("probe_id");
    std::vector<int64_t> iter = op_ints(op, "iter");
    if (id == nullptr || id->kind != Attr::Kind::kString)
      return err(op, ErrorCode::kInvalidInput, name + " needs probe_id = \"...\"");
    int64_t n = iter.empty() ? 0 : iter[0];
    auto it = checks.probes.find(id->text);
    ++checks.checks;
    if (it == checks.probes.end() || n < 0 || n >= int64_t(it->second.size())) {
      checks.failures.push_back(file + ":" + std::to_string(op.loc.line) + ":" +
                                std::to_string(op.loc.col) + ": " + name + ": probe \"" + id->text +
                                "\" recorded no value for iteration " + std::to_string(n));
      return {};
    }
    --checks.checks;  // counted below
    recorded = &it->second[size_t(n)];
    want = &in.at(0);
    kind = "expect_eq";
  } else if (in.size() == 2) {
    want = &in.at(1);
  } else {
    return err(op, ErrorCode::kInvalidInput, name + " takes two operands");
  }
  const Tensor& got = recorded ? *recorded : in.at(0);
  ++checks.checks;
  auto fail = [&](const std::string& why) {
    checks.failures.push_back(file + ":" + std::to_string(op.loc.line) + ":" +
                              std::to_string(op.loc.col) + ": " + name + ": " + why);
    return Status{};
  };
  if (got.shape != want->shape || got.type != want->type) {
    return fail("type " + got.type_text() + " vs expected " + want->type_text());
  }
  double tol = kind == "expect_almost_eq" ? (op.name.rfind("check.", 0) == 0 ? 1e-4 : 1e-3) : 0;
  if (const Attr* a = op.attr("tolerance"))
    tol = a->kind == Attr::Kind::kFloat ? a->f : double(a->i);
  int64_t max_ulp = 3;
  if (const Attr* a = op.attr("max_ulp_difference")) max_ulp = a->i;
  // One float (or one part of a complex) against its expectation, by the check's kind.
  auto agree = [&](double a, double b) -> Expected<bool> {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    if (kind == "expect_eq") return a == b && std::signbit(a) == std::signbit(b);
    if (kind == "expect_close") {
      if (!std::isfinite(a) || !std::isfinite(b))
        return float_bits(got.type, a) == float_bits(got.type, b);
      uint64_t oa = ordered_bits(component(got.type), a), ob = ordered_bits(component(got.type), b);
      return (oa > ob ? oa - ob : ob - oa) <= uint64_t(max_ulp);
    }
    if (kind == "expect_almost_eq")
      return (std::isinf(a) || std::isinf(b)) ? a == b : std::fabs(a - b) <= tol;
    return err(op, ErrorCode::kUnsupported, name + " is not supported");
  };
  for (int64_t k = 0; k < got.size(); ++k) {
    bool ok = true;
    if (!got.floating()) {
      ok = got.i.at(size_t(k)) == want->i.at(size_t(k));
    } else {
      TJ_ASSIGN_OR_RETURN(ok, agree(got.f.at(size_t(k)), want->f.at(size_t(k))));
      if (ok && got.complex()) {
        TJ_ASSIGN_OR_RETURN(ok, agree(got.im.at(size_t(k)), want->im.at(size_t(k))));
      }
    }
    if (!ok) {
      auto show = [&](const Tensor& t) {
        if (t.complex())
          return "(" + std::to_string(t.f.at(size_t(k))) + ", " +
                 std::to_string(t.im.at(size_t(k))) + ")";
        return t.floating() ? std::to_string(t.f.at(size_t(k))) : std::to_string(t.i.at(size_t(k)));
      };
      return fail("element " + std::to_string(k) + " is " + show(got) + ", expected " +
                  show(*want));
    }
  }
  return {};
}

namespace {

// exp(z) - 1 without cancellation for small z: expm1(x) cos y - 2 sin^2(y/2) + i e^x sin y.
Cplx cexpm1(Cplx z) {
  double x = z.real(), y = z.imag(), h = std::sin(y / 2);
  return {std::expm1(x) * std::cos(y) - 2 * h * h, std::exp(x) * std::sin(y)};
}
// log(1 + z) without cancellation for small z: log|1 + z| = log1p(x (2 + x) + y^2) / 2.
Cplx clog1p(Cplx z) {
  double x = z.real(), y = z.imag();
  if (std::fabs(x) > 0.5 || std::fabs(y) > 0.5) return std::log(1.0 + z);
  return {std::log1p(x * (2 + x) + y * y) / 2, std::atan2(y, 1 + x)};
}
// sign(z) (spec "sign"): z / |z|, 0 for 0, NaN for NaN parts.
Cplx csign(Cplx z) {
  if (std::isnan(z.real()) || std::isnan(z.imag())) return {NAN, NAN};
  if (z == Cplx(0, 0)) return z;
  return z / std::abs(z);
}

}  // namespace

Cplx (*complex_unary(OpCode code))(Cplx) {
  switch (code) {
    case OpCode::kNegate:
      return [](Cplx z) { return -z; };
    case OpCode::kSqrt:
      return [](Cplx z) { return std::sqrt(z); };
    case OpCode::kRsqrt:
      return [](Cplx z) { return 1.0 / std::sqrt(z); };
    case OpCode::kExponential:
      return [](Cplx z) { return std::exp(z); };
    case OpCode::kExponentialMinusOne:
      return cexpm1;
    case OpCode::kLog:
      return [](Cplx z) { return std::log(z); };
    case OpCode::kLogPlusOne:
      return clog1p;
    case OpCode::kLogistic:
      return [](Cplx z) { return 1.0 / (1.0 + std::exp(-z)); };
    case OpCode::kSine:
      return [](Cplx z) { return std::sin(z); };
    case OpCode::kCosine:
      return [](Cplx z) { return std::cos(z); };
    case OpCode::kTan:
      return [](Cplx z) { return std::tan(z); };
    case OpCode::kTanh:
      return [](Cplx z) { return std::tanh(z); };
    case OpCode::kSign:
      return csign;
    case OpCode::kCbrt:  // the principal cube root
      return [](Cplx z) { return z == Cplx(0, 0) ? z : std::exp(std::log(z) / 3.0); };
    case OpCode::kSinh:
      return [](Cplx z) { return std::sinh(z); };
    case OpCode::kCosh:
      return [](Cplx z) { return std::cosh(z); };
    case OpCode::kAsin:
      return [](Cplx z) { return std::asin(z); };
    case OpCode::kAcos:
      return [](Cplx z) { return std::acos(z); };
    case OpCode::kAtan:
      return [](Cplx z) { return std::atan(z); };
    case OpCode::kAsinh:
      return [](Cplx z) { return std::asinh(z); };
    case OpCode::kAcosh:
      return [](Cplx z) { return std::acosh(z); };
    case OpCode::kAtanh:
      return [](Cplx z) { return std::atanh(z); };
    default:
      return nullptr;
  }
}

int complex_order(Cplx a, Cplx b) {
  if (std::isnan(a.real()) || std::isnan(a.imag()) || std::isnan(b.real()) || std::isnan(b.imag()))
    return 2;
  if (a.real() != b.real()) return a.real() < b.real() ? -1 : 1;
  if (a.imag() != b.imag()) return a.imag() < b.imag() ? -1 : 1;
  return 0;
}

bool complex_binary(OpCode code, Cplx x, Cplx y, Cplx& v) {
  switch (code) {
    case OpCode::kAdd:
      v = x + y;
      return true;
    case OpCode::kSubtract:
      v = x - y;
      return true;
    case OpCode::kMultiply:
      v = complex_mul(x, y);
      return true;
    case OpCode::kDivide:
      v = x / y;
      return true;
    case OpCode::kPower:
      // 0^y: 1 for y = 0, 0 for Re y > 0 (std::pow takes log 0 = -inf and gives NaN).
      if (x == Cplx(0, 0)) {
        v = y == Cplx(0, 0) ? Cplx(1, 0) : y.real() > 0 ? Cplx(0, 0) : Cplx(NAN, NAN);
      } else {
        v = std::pow(x, y);
      }
      return true;
    case OpCode::kAtan2:  // -i log((y + i x) / sqrt(x^2 + y^2)), the StableHLO interpreter's
      v = Cplx(0, -1) * std::log((y + Cplx(0, 1) * x) / std::sqrt(y * y + x * x));
      return true;
    case OpCode::kMaximum:
    case OpCode::kMinimum: {
      int c = complex_order(x, y);
      v = c == 2 ? Cplx(NAN, NAN) : ((c >= 0) == (code == OpCode::kMaximum) ? x : y);
      return true;
    }
    default:
      return false;
  }
}

namespace {

// T is double for real types, Cplx for complex ones.
template <class T>
void solve_triangular(const Tensor& a, const Tensor& b, Tensor& r, bool left, bool lower, bool unit,
                      bool trans, bool conj) {
  auto at = [](const Tensor& t, int64_t k) -> T {
    if constexpr (std::is_same_v<T, Cplx>) {
      return Cplx(t.f.at(size_t(k)), t.im.at(size_t(k)));
    } else {
      return t.f.at(size_t(k));
    }
  };
  size_t rank = a.shape.size();
  int64_t m = a.shape.at(rank - 1);
  int64_t rows = b.shape.at(rank - 2), cols = b.shape.at(rank - 1);
  int64_t batches = a.size() / (m * m);
  // M = op(triangle of a); M is lower triangular iff lower != trans.
  bool m_lower = lower != trans;
  std::vector<T> M(static_cast<size_t>(m * m));
  std::vector<T> x(static_cast<size_t>(m));
  for (int64_t bt = 0; bt < batches; ++bt) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < m; ++j) {
        int64_t si = trans ? j : i, sj = trans ? i : j;
        bool in_tri = lower ? sj <= si : sj >= si;
        T v = si == sj && unit ? T(1.0) : in_tri ? at(a, bt * m * m + si * m + sj) : T(0.0);
        if constexpr (std::is_same_v<T, Cplx>) {
          if (conj) v = std::conj(v);
        }
        M.at(size_t(i * m + j)) = v;
      }
    // left: M X = B column by column; right: X M = B <=> M^T X^T = B^T row by row.
    int64_t systems = left ? cols : rows;
    for (int64_t s = 0; s < systems; ++s) {
      auto bval = [&](int64_t i) {
        int64_t row = left ? i : s, col = left ? s : i;
        return at(b, bt * rows * cols + row * cols + col);
      };
      auto mval = [&](int64_t i, int64_t j) {
        return left ? M.at(size_t(i * m + j)) : M.at(size_t(j * m + i));
      };
      bool forward = left ? m_lower : !m_lower;
      for (int64_t t = 0; t < m; ++t) {
        int64_t i = forward ? t : m - 1 - t;
        T acc = bval(i);
        for (int64_t u = 0; u < t; ++u) {
          int64_t j = forward ? u : m - 1 - u;
          acc -= mval(i, j) * x.at(size_t(j));
        }
        x.at(size_t(i)) = acc / mval(i, i);
      }
      for (int64_t i = 0; i < m; ++i) {
        int64_t row = left ? i : s, col = left ? s : i;
        int64_t k = bt * rows * cols + row * cols + col;
        if constexpr (std::is_same_v<T, Cplx>) {
          r.f.at(size_t(k)) = round_float(r.type, x.at(size_t(i)).real());
          r.im.at(size_t(k)) = round_float(r.type, x.at(size_t(i)).imag());
        } else {
          r.f.at(size_t(k)) = round_float(r.type, x.at(size_t(i)));
        }
      }
    }
  }
}

}  // namespace

void triangular_solve(const Tensor& a, const Tensor& b, Tensor& r, const TriangularSolve& how) {
  if (a.size() == 0 || r.size() == 0) return;  // nothing to solve (m = 0 or no batches)
  if (r.complex()) {
    solve_triangular<Cplx>(a, b, r, how.left, how.lower, how.unit, how.trans, how.conj);
  } else {
    solve_triangular<double>(a, b, r, how.left, how.lower, how.unit, how.trans, how.conj);
  }
}

}  // namespace tierjit::shlo
