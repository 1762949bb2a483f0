// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Element types, rounding and dense literals (see tensor.hpp).
#include "stablehlo/tensor.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

namespace tierjit::shlo {

Expected<ElemType> parse_elem_type(std::string_view n) {
  static const std::pair<const char*, ElemType> kTypes[] = {
      {"i1", ElemType::kBool},
      {"i8", ElemType::kI8},
      {"i16", ElemType::kI16},
      {"i32", ElemType::kI32},
      {"i64", ElemType::kI64},
      {"si8", ElemType::kI8},
      {"si16", ElemType::kI16},
      {"si32", ElemType::kI32},
      {"si64", ElemType::kI64},
      {"ui8", ElemType::kU8},
      {"ui16", ElemType::kU16},
      {"ui32", ElemType::kU32},
      {"ui64", ElemType::kU64},
      {"f16", ElemType::kF16},
      {"bf16", ElemType::kBF16},
      {"f32", ElemType::kF32},
      {"f64", ElemType::kF64},
      {"i2", ElemType::kI2},
      {"i4", ElemType::kI4},
      {"si2", ElemType::kI2},
      {"si4", ElemType::kI4},
      {"ui2", ElemType::kU2},
      {"ui4", ElemType::kU4},
      {"complex<f32>", ElemType::kC64},
      {"complex<f64>", ElemType::kC128},
      {"f4E2M1FN", ElemType::kF4E2M1FN},
      {"f6E2M3FN", ElemType::kF6E2M3FN},
      {"f6E3M2FN", ElemType::kF6E3M2FN},
      {"f8E3M4", ElemType::kF8E3M4},
      {"f8E4M3", ElemType::kF8E4M3},
      {"f8E4M3FN", ElemType::kF8E4M3FN},
      {"f8E4M3FNUZ", ElemType::kF8E4M3FNUZ},
      {"f8E4M3B11FNUZ", ElemType::kF8E4M3B11FNUZ},
      {"f8E5M2", ElemType::kF8E5M2},
      {"f8E5M2FNUZ", ElemType::kF8E5M2FNUZ},
      {"f8E8M0FNU", ElemType::kF8E8M0FNU},
  };
  for (auto [name, t] : kTypes)
    if (n == name) return t;
  return make_error(ErrorCode::kUnsupported,
                    "element type '" + std::string(n) + "' is not supported");
}

const char* elem_name(ElemType t) { return stablehlo::dtype_name(t); }

bool is_float(ElemType t) {
  return (t >= ElemType::kF16 && t <= ElemType::kF64) || is_small_float(t);
}
bool is_small_float(ElemType t) { return t >= ElemType::kF4E2M1FN && t <= ElemType::kF8E8M0FNU; }
bool is_complex(ElemType t) { return t == ElemType::kC64 || t == ElemType::kC128; }
ElemType component(ElemType t) {
  return t == ElemType::kC64 ? ElemType::kF32 : t == ElemType::kC128 ? ElemType::kF64 : t;
}
bool is_unsigned(ElemType t) {
  return (t >= ElemType::kU8 && t <= ElemType::kU64) || t == ElemType::kU2 || t == ElemType::kU4;
}
int bit_width(ElemType t) {
  static const int kBits[] = {1, 8, 16, 32,  64, 8, 16, 32, 64, 16, 16, 32, 64, 2, 4,
                              2, 4, 64, 128, 4,  6, 6,  8,  8,  8,  8,  8,  8,  8, 8};
  return kBits[int(t)];
}

namespace {

struct FloatFormat {
  int p, emin, emax;  // precision (with the implicit bit), exponent range
};
FloatFormat format(ElemType t) {
  switch (t) {
    case ElemType::kF16:
      return {11, -14, 15};
    case ElemType::kBF16:
      return {8, -126, 127};
    case ElemType::kF32:
      return {24, -126, 127};
    default:
      return {53, -1022, 1023};
  }
}

// The small float formats (LLVM APFloat's Float8*/Float6*/Float4* semantics; OCP "8-bit
// Floating Point Specification" and "Microscaling Formats" 1.0).
enum class NonFinite : uint8_t {
  kIeee,          // all-ones exponent: infinities and NaNs
  kNanOnly,       // no infinities; all ones (exponent and mantissa) is NaN
  kUnsignedZero,  // no infinities, no -0: 0x80 is the one NaN
  kNone,          // every encoding is finite (f4/f6: overflow saturates, no NaN)
  kExponentOnly,  // E8M0: no sign, no mantissa, no zero; 0xFF is NaN
};
struct SmallFormat {
  int ebits, mbits, bias;
  NonFinite nf;
};
SmallFormat small_format(ElemType t) {
  switch (t) {
    case ElemType::kF4E2M1FN:
      return {2, 1, 1, NonFinite::kNone};
    case ElemType::kF6E2M3FN:
      return {2, 3, 1, NonFinite::kNone};
    case ElemType::kF6E3M2FN:
      return {3, 2, 3, NonFinite::kNone};
    case ElemType::kF8E3M4:
      return {3, 4, 3, NonFinite::kIeee};
    case ElemType::kF8E4M3:
      return {4, 3, 7, NonFinite::kIeee};
    case ElemType::kF8E4M3FN:
      return {4, 3, 7, NonFinite::kNanOnly};
    case ElemType::kF8E4M3FNUZ:
      return {4, 3, 8, NonFinite::kUnsignedZero};
    case ElemType::kF8E4M3B11FNUZ:
      return {4, 3, 11, NonFinite::kUnsignedZero};
    case ElemType::kF8E5M2:
      return {5, 2, 15, NonFinite::kIeee};
    case ElemType::kF8E5M2FNUZ:
      return {5, 2, 16, NonFinite::kUnsignedZero};
    default:  // kF8E8M0FNU
      return {8, 0, 127, NonFinite::kExponentOnly};
  }
}
double small_max(const SmallFormat& f) {
  int top = (1 << f.ebits) - 1, mmax = (1 << f.mbits) - 1;
  if (f.nf == NonFinite::kIeee || f.nf == NonFinite::kExponentOnly) top -= 1;
  if (f.nf == NonFinite::kNanOnly) mmax -= 1;
  return std::ldexp(1.0 + double(mmax) / double(1 << f.mbits), top - f.bias);
}
double small_round(const SmallFormat& f, double x) {
  if (std::isnan(x)) return f.nf == NonFinite::kNone ? 0.0 : x;
  // E8M0 has no sign and no zero: negative values and infinities are NaN; 0 and anything
  // below the smallest power of two round up to it (as an underflow to 0 in float would).
  if (f.nf == NonFinite::kExponentOnly && (x < 0 || std::isinf(x))) return NAN;
  if (f.nf == NonFinite::kExponentOnly && x == 0) return std::ldexp(1.0, -f.bias);
  if (x == 0) return f.nf == NonFinite::kUnsignedZero ? 0.0 : x;
  double mx = small_max(f);
  auto overflow = [&] {
    if (f.nf == NonFinite::kIeee) return std::copysign(INFINITY, x);
    if (f.nf == NonFinite::kNone) return std::copysign(mx, x);  // saturates
    return double(NAN);
  };
  if (std::isinf(x)) return overflow();
  int emin = f.nf == NonFinite::kExponentOnly ? -f.bias : 1 - f.bias;
  int e = 0;
  std::frexp(x, &e);
  double quantum = std::ldexp(1.0, std::max(e - 1, emin) - f.mbits);
  double r = std::nearbyint(x / quantum) * quantum;
  if (std::fabs(r) > mx) return overflow();
  if (r == 0) {
    if (f.nf == NonFinite::kExponentOnly) return std::ldexp(1.0, emin);
    return f.nf == NonFinite::kUnsignedZero ? 0.0 : std::copysign(0.0, x);
  }
  return r;
}
uint64_t small_bits(const SmallFormat& f, double x) {
  double r = small_round(f, x);
  if (f.nf == NonFinite::kExponentOnly) {
    if (std::isnan(r)) return 0xFF;
    int e = 0;
    std::frexp(r, &e);
    return uint64_t(e - 1 + f.bias);
  }
  int w = f.ebits + f.mbits + 1;
  uint64_t sign = std::signbit(r) ? uint64_t(1) << (w - 1) : 0;
  uint64_t all_e = (uint64_t(1) << f.ebits) - 1, all_m = (uint64_t(1) << f.mbits) - 1;
  if (std::isnan(r)) {
    if (f.nf == NonFinite::kUnsignedZero) return uint64_t(1) << (w - 1);
    if (f.nf == NonFinite::kNanOnly) return (all_e << f.mbits) | all_m;
    return (all_e << f.mbits) | (uint64_t(1) << (f.mbits - 1));  // kIeee's quiet NaN
  }
  if (std::isinf(r)) return sign | (all_e << f.mbits);
  double a = std::fabs(r);
  if (a == 0) return sign;
  int e = 0;
  std::frexp(a, &e);
  int exp = e - 1, emin = 1 - f.bias;
  if (exp < emin) return sign | uint64_t(std::ldexp(a, f.mbits - emin));  // subnormal
  uint64_t m = uint64_t(std::ldexp(a, f.mbits - exp)) - (uint64_t(1) << f.mbits);
  return sign | (uint64_t(exp + f.bias) << f.mbits) | m;
}
double small_value(const SmallFormat& f, uint64_t b) {
  if (f.nf == NonFinite::kExponentOnly) {
    b &= 0xFF;
    return b == 0xFF ? NAN : std::ldexp(1.0, int(b) - f.bias);
  }
  int w = f.ebits + f.mbits + 1;
  b &= (uint64_t(1) << w) - 1;
  bool neg = (b >> (w - 1)) & 1;
  uint64_t all_e = (uint64_t(1) << f.ebits) - 1, all_m = (uint64_t(1) << f.mbits) - 1;
  uint64_t ef = (b >> f.mbits) & all_e, m = b & all_m;
  if (f.nf == NonFinite::kUnsignedZero && neg && ef == 0 && m == 0) return NAN;
  if (f.nf == NonFinite::kIeee && ef == all_e) return m ? NAN : (neg ? -INFINITY : INFINITY);
  if (f.nf == NonFinite::kNanOnly && ef == all_e && m == all_m) return NAN;
  double v = ef == 0 ? std::ldexp(double(m), 1 - f.bias - f.mbits)
                     : std::ldexp(double(m | (all_m + 1)), int(ef) - f.bias - f.mbits);
  return neg ? -v : v;
}

}  // namespace

double round_float(ElemType t, double x) {
  t = component(t);
  if (is_small_float(t)) return small_round(small_format(t), x);
  if (t == ElemType::kF64 || !std::isfinite(x) || x == 0) return x;
  if (t == ElemType::kF32) return double(float(x));  // one IEEE rounding
  FloatFormat f = format(t);
  int e = 0;
  std::frexp(x, &e);
  int exp = std::max(e - 1, f.emin);
  double quantum = std::ldexp(1.0, exp - (f.p - 1));
  double r = std::nearbyint(x / quantum) * quantum;
  double max_finite = (2.0 - std::ldexp(1.0, 1 - f.p)) * std::ldexp(1.0, f.emax);
  if (std::fabs(r) > max_finite) return std::copysign(INFINITY, x);
  return r;
}

int64_t wrap_int(ElemType t, int64_t v) {
  int w = bit_width(t);
  if (w == 64) return v;
  uint64_t mask = (uint64_t(1) << w) - 1;
  uint64_t u = uint64_t(v) & mask;
  if (is_unsigned(t) || t == ElemType::kBool) return int64_t(u);
  if (u >> (w - 1)) u |= ~mask;  // sign-extend
  return int64_t(u);
}

uint64_t float_bits(ElemType t, double x) {
  if (is_small_float(t)) return small_bits(small_format(t), x);
  switch (component(t)) {
    case ElemType::kF64: {
      uint64_t b;
      std::memcpy(&b, &x, 8);
      return b;
    }
    case ElemType::kF32: {
      float v = float(x);
      uint32_t b;
      std::memcpy(&b, &v, 4);
      return b;
    }
    case ElemType::kBF16: {
      float v = float(round_float(t, x));  // exact in f32
      uint32_t b;
      std::memcpy(&b, &v, 4);
      if (std::isnan(x)) return 0x7FC0u | ((b >> 16) & 0x8000u);
      return b >> 16;
    }
    case ElemType::kF16: {
      double r = round_float(t, x);
      uint64_t sign = std::signbit(r) ? 0x8000u : 0;
      if (std::isnan(r)) return sign | 0x7E00u;
      if (std::isinf(r)) return sign | 0x7C00u;
      double a = std::fabs(r);
      if (a == 0) return sign;
      int e = 0;
      std::frexp(a, &e);
      int exp = e - 1;
      if (exp < -14) return sign | uint64_t(std::ldexp(a, 24));  // subnormal: a / 2^-24
      uint64_t mant = uint64_t(std::ldexp(a, 10 - exp)) - 1024;
      return sign | (uint64_t(exp + 15) << 10) | mant;
    }
    default:
      return 0;
  }
}

double float_from_bits(ElemType t, uint64_t b) {
  if (is_small_float(t)) return small_value(small_format(t), b);
  switch (component(t)) {
    case ElemType::kF64: {
      double v;
      std::memcpy(&v, &b, 8);
      return v;
    }
    case ElemType::kF32: {
      uint32_t w = uint32_t(b);
      float v;
      std::memcpy(&v, &w, 4);
      return v;
    }
    case ElemType::kBF16: {
      uint32_t w = uint32_t(b & 0xFFFF) << 16;
      float v;
      std::memcpy(&v, &w, 4);
      return v;
    }
    case ElemType::kF16: {
      double sign = (b & 0x8000) ? -1.0 : 1.0;
      int exp = int((b >> 10) & 0x1F);
      int mant = int(b & 0x3FF);
      if (exp == 31) return mant ? std::nan("") : sign * INFINITY;
      if (exp == 0) return sign * std::ldexp(double(mant), -24);
      return sign * std::ldexp(double(mant + 1024), exp - 25);
    }
    default:
      return 0;
  }
}

int64_t Tensor::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string Tensor::type_text() const {
  if (is_tuple) {
    std::string t = "tuple<";
    for (size_t k = 0; k < tuple.size(); ++k) {
      if (k) t += ", ";
      t += tuple[k].type_text();
    }
    return t + ">";
  }
  std::string s = "tensor<";
  for (int64_t d : shape) s += std::to_string(d) + "x";
  return s + elem_name(type) + ">";
}

Expected<Tensor> tensor_type(const Type& type) {
  Tensor t;
  if (type.kind == Type::Kind::kScalar) {
    TJ_ASSIGN_OR_RETURN(t.type, parse_elem_type(type.elem));
  } else if (type.kind == Type::Kind::kTensor) {
    if (!type.ranked) return make_error(ErrorCode::kUnsupported, "unranked tensor " + type.text);
    for (int64_t d : type.dims) {
      if (d < 0) return make_error(ErrorCode::kUnsupported, "dynamic shape " + type.text);
    }
    TJ_ASSIGN_OR_RETURN(t.type, parse_elem_type(type.elem));
    t.shape = type.dims;
  } else {
    return make_error(ErrorCode::kUnsupported, "type " + type.text + " is not a tensor");
  }
  int64_t n = 1;
  for (int64_t d : t.shape) {
    if (__builtin_mul_overflow(n, d, &n) || n > (int64_t(1) << 31)) {
      return make_error(ErrorCode::kUnsupported, "tensor " + type.text + " is too large");
    }
  }
  return t;
}

Expected<Tensor> make_tensor(const Type& type) {
  TJ_ASSIGN_OR_RETURN(Tensor t, tensor_type(type));
  int64_t n = t.size();
  if (t.floating()) {
    t.f.assign(size_t(n), 0.0);
    if (t.complex()) t.im.assign(size_t(n), 0.0);
  } else {
    t.i.assign(size_t(n), 0);
  }
  return t;
}

namespace {

// One literal element (number, true/false, hex bit pattern) into position k of t.
Status set_literal(Tensor& t, size_t k, std::string_view lit) {
  auto bad = [&] {
    return make_error(ErrorCode::kInvalidInput, "malformed " + std::string(elem_name(t.type)) +
                                                    " literal '" + std::string(lit) + "'");
  };
  if (t.complex()) {  // "(re, im)"
    size_t comma = lit.find(',');
    if (lit.size() < 5 || lit.front() != '(' || lit.back() != ')' || comma == lit.npos)
      return bad();
    Tensor part;
    part.type = component(t.type);
    part.f.assign(1, 0.0);
    auto trim = [](std::string_view v) {
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
      return v;
    };
    TJ_TRY(set_literal(part, 0, trim(lit.substr(1, comma - 1))));
    t.f[k] = part.f[0];
    TJ_TRY(set_literal(part, 0, trim(lit.substr(comma + 1, lit.size() - comma - 2))));
    t.im[k] = part.f[0];
    return {};
  }
  if (lit == "true" || lit == "false") {
    double v = lit == "true" ? 1 : 0;
    if (t.floating()) {
      t.f[k] = v;
    } else {
      t.i[k] = int64_t(v);
    }
    return {};
  }
  bool neg = !lit.empty() && lit[0] == '-';
  std::string_view mag = neg || (!lit.empty() && lit[0] == '+') ? lit.substr(1) : lit;
  if (mag.size() > 2 && mag[0] == '0' && (mag[1] == 'x' || mag[1] == 'X')) {
    uint64_t bits = 0;
    auto [p, ec] = std::from_chars(mag.data() + 2, mag.data() + mag.size(), bits, 16);
    if (ec != std::errc() || p != mag.data() + mag.size()) return bad();
    if (t.floating()) {
      t.f[k] = float_from_bits(t.type, bits);
    } else {
      t.i[k] = wrap_int(t.type, neg ? -int64_t(bits) : int64_t(bits));
    }
    return {};
  }
  std::string s(lit);
  char* end = nullptr;
  if (t.floating()) {
    double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) {
      if (mag == "inf") {
        v = neg ? -INFINITY : INFINITY;
      } else if (mag == "nan") {
        v = NAN;
      } else {
        return bad();
      }
    }
    t.f[k] = round_float(t.type, v);
    return {};
  }
  errno = 0;
  if (neg) {
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (end != s.c_str() + s.size() || errno != 0) return bad();
    t.i[k] = wrap_int(t.type, v);
  } else {
    unsigned long long v = std::strtoull(s.c_str() + (lit[0] == '+'), &end, 10);
    if (end != s.c_str() + s.size() || errno != 0) return bad();
    t.i[k] = wrap_int(t.type, int64_t(v));
  }
  return {};
}

}  // namespace

Expected<Tensor> parse_dense(std::string_view body, const Type& type, DenseForm form) {
  // Every count is checked against the literal before the elements are allocated: the type
  // alone may ask for up to 2^31 elements.
  TJ_ASSIGN_OR_RETURN(Tensor t, tensor_type(type));
  size_t n = size_t(t.size());
  auto allocate = [&t](size_t count) {
    if (t.floating()) {
      t.f.assign(count, 0.0);
      if (t.complex()) t.im.assign(count, 0.0);
    } else {
      t.i.assign(count, 0);
    }
  };
  auto trim = [](std::string_view v) {
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    return v;
  };
  body = trim(body);
  if (body.size() >= 2 && body.front() == '"') {  // "0x..." little-endian raw elements
    std::string_view hex = body.substr(1, body.size() - 2);
    if (hex.substr(0, 2) != "0x" || hex.size() % 2 != 0) {
      return make_error(ErrorCode::kInvalidInput, "malformed hex dense literal");
    }
    hex.remove_prefix(2);
    int width = std::max(1, bit_width(component(t.type)) / 8);
    const size_t parts = t.complex() ? 2 : 1;  // complex: real, then imaginary part
    size_t count = hex.size() / 2 / size_t(width) / parts;
    if (count != n && count != 1) {
      return make_error(ErrorCode::kInvalidInput, "hex dense literal holds " +
                                                      std::to_string(count) + " elements, " +
                                                      type.text + " has " + std::to_string(n));
    }
    if (count == 1 && n != 1 && form == DenseForm::kSplatAsScalar) {
      t.shape.clear();
      n = 1;
    }
    allocate(n);
    for (size_t k = 0; k < n * parts; ++k) {
      size_t src = count == 1 ? k % parts : k;
      uint64_t bits = 0;
      for (int b = width - 1; b >= 0; --b) {
        unsigned byte = 0;
        auto at = hex.data() + (src * size_t(width) + size_t(b)) * 2;
        auto [p, ec] = std::from_chars(at, at + 2, byte, 16);
        if (ec != std::errc() || p != at + 2) {
          return make_error(ErrorCode::kInvalidInput, "malformed hex dense literal");
        }
        bits = (bits << 8) | byte;
      }
      if (t.complex()) {
        (k % 2 ? t.im : t.f)[k / 2] = float_from_bits(t.type, bits);
      } else if (t.floating()) {
        t.f[k] = float_from_bits(t.type, bits);
      } else {
        t.i[k] = wrap_int(t.type, int64_t(bits));
      }
    }
    return t;
  }
  // Nested lists or a splat: collect the leaves in order.
  std::vector<std::string_view> leaves;
  size_t i = 0;
  while (i < body.size()) {
    char c = body[i];
    if (c == '[' || c == ']' || c == ',' || std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    size_t b = i;
    if (c == '(') {  // a complex literal, "(re, im)": one leaf
      size_t close = body.find(')', i);
      if (close == body.npos || !t.complex()) {
        return make_error(
            ErrorCode::kInvalidInput,
            "complex literal '" + std::string(body.substr(i, 24)) + "' for " + type.text);
      }
      i = close + 1;
      leaves.push_back(body.substr(b, i - b));
      continue;
    }
    while (i < body.size() && body[i] != ',' && body[i] != ']' &&
           !std::isspace(static_cast<unsigned char>(body[i])))
      ++i;
    leaves.push_back(body.substr(b, i - b));
  }
  if (leaves.size() == 1 && body.front() != '[') {
    if (n == 0) return t;
    if (form == DenseForm::kSplatAsScalar) {
      t.shape.clear();
      n = 1;
    }
    allocate(n);
    TJ_TRY(set_literal(t, 0, leaves[0]));
    if (t.floating()) {
      std::fill(t.f.begin(), t.f.end(), t.f.empty() ? 0.0 : t.f[0]);
      if (t.complex()) std::fill(t.im.begin(), t.im.end(), t.im.empty() ? 0.0 : t.im[0]);
    } else {
      std::fill(t.i.begin(), t.i.end(), t.i.empty() ? 0 : t.i[0]);
    }
    return t;
  }
  if (leaves.size() != n) {
    return make_error(ErrorCode::kInvalidInput, "dense literal has " +
                                                    std::to_string(leaves.size()) + " elements, " +
                                                    type.text + " needs " + std::to_string(n));
  }
  allocate(n);
  for (size_t k = 0; k < n; ++k) TJ_TRY(set_literal(t, k, leaves[k]));
  return t;
}

int elem_bytes(ElemType t) { return bit_width(t) < 8 ? 1 : bit_width(t) / 8; }

std::vector<uint8_t> to_bytes(const Tensor& t) {
  int w = elem_bytes(t.type);
  std::vector<uint8_t> out(size_t(t.size()) * size_t(w));
  if (t.complex()) {  // real part, then imaginary part
    int h = w / 2;
    for (int64_t k = 0; k < t.size(); ++k) {
      for (int part = 0; part < 2; ++part) {
        uint64_t bits = float_bits(t.type, (part ? t.im : t.f)[size_t(k)]);
        for (int b = 0; b < h; ++b)
          out[size_t(k) * size_t(w) + size_t(part * h + b)] = uint8_t(bits >> (8 * b));
      }
    }
    return out;
  }
  for (int64_t k = 0; k < t.size(); ++k) {
    uint64_t bits = t.floating() ? float_bits(t.type, t.f[size_t(k)]) : uint64_t(t.i[size_t(k)]);
    for (int b = 0; b < w; ++b) out[size_t(k) * size_t(w) + size_t(b)] = uint8_t(bits >> (8 * b));
  }
  return out;
}

Tensor from_bytes(ElemType type, const std::vector<int64_t>& shape, const uint8_t* data) {
  Tensor out;
  out.type = type;
  out.shape = shape;
  int w = elem_bytes(type);
  int64_t n = out.size();
  if (out.complex()) {
    out.f.resize(size_t(n));
    out.im.resize(size_t(n));
    int h = w / 2;
    for (int64_t k = 0; k < n; ++k) {
      for (int part = 0; part < 2; ++part) {
        uint64_t bits = 0;
        for (int b = h - 1; b >= 0; --b)
          bits = (bits << 8) | data[size_t(k) * size_t(w) + size_t(part * h + b)];
        (part ? out.im : out.f)[size_t(k)] = float_from_bits(type, bits);
      }
    }
    return out;
  }
  if (out.floating()) {
    out.f.resize(size_t(n));
  } else {
    out.i.resize(size_t(n));
  }
  for (int64_t k = 0; k < n; ++k) {
    uint64_t bits = 0;
    for (int b = w - 1; b >= 0; --b) bits = (bits << 8) | data[size_t(k) * size_t(w) + size_t(b)];
    if (out.floating()) {
      out.f[size_t(k)] = float_from_bits(type, bits);
    } else {
      out.i[size_t(k)] = wrap_int(type, int64_t(bits));
    }
  }
  return out;
}

}  // namespace tierjit::shlo
