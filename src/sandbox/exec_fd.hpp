// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// RISC-V F and D semantics on the x86-64 host FPU, for the interpreter's F/D handlers
// (exec_fd.inc): NaN boxing and canonical NaNs (RISC-V Unprivileged ISA manual, 11.2-11.3,
// 12.2), rounding to an integral value per rounding mode, saturating float-to-integer
// conversion with its flags (table 11.4), fmin/fmax on NaNs and signed zeros (11.6 as amended
// by the 2.2 F spec), fclass (11.9), and the MXCSR <-> fflags/frm mapping.
//
// Exception flags come from MXCSR, whose sticky bits match RISC-V's for +,-,*,/,sqrt,fma and
// conversions between formats (tininess after rounding on both); the operations whose flags
// differ (compares, min/max, float->int conversions) set them by hand. Rounding modes map to
// MXCSR's; RMM (round to nearest, ties away) is exact for float->int conversions and rounds to
// nearest-even in arithmetic (x86 has no such mode).
#pragma once

#include <xmmintrin.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace tierjit::sandbox::fp {

constexpr uint64_t kCanonicalNaN64 = 0x7ff8000000000000ull;
constexpr uint64_t kCanonicalNaN32Boxed = 0xffffffff7fc00000ull;
constexpr uint32_t kNV = 16, kDZ = 8, kOF = 4, kUF = 2, kNX = 1;

inline float unbox(uint64_t v) {
  if ((v >> 32) != 0xffffffffu) return std::bit_cast<float>(0x7fc00000u);
  return std::bit_cast<float>(static_cast<uint32_t>(v));
}
inline uint64_t box(float f) { return 0xffffffff00000000ull | std::bit_cast<uint32_t>(f); }
inline uint64_t box_c(float f) { return f != f ? kCanonicalNaN32Boxed : box(f); }
inline double dbl(uint64_t v) { return std::bit_cast<double>(v); }
inline uint64_t bits_c(double d) { return d != d ? kCanonicalNaN64 : std::bit_cast<uint64_t>(d); }
inline bool is_snan32(float f) {
  uint32_t b = std::bit_cast<uint32_t>(f);
  return (b & 0x7fc00000u) == 0x7f800000u && (b & 0x003fffffu) != 0;
}
inline bool is_snan64(double d) {
  uint64_t b = std::bit_cast<uint64_t>(d);
  return (b & 0x7ff8000000000000ull) == 0x7ff0000000000000ull && (b & 0x0007ffffffffffffull) != 0;
}

// MXCSR <-> RISC-V flags and rounding modes.
inline uint32_t host_flags() {
  uint32_t c = _mm_getcsr();
  return ((c & 0x01) ? kNV : 0) | ((c & 0x04) ? kDZ : 0) | ((c & 0x08) ? kOF : 0) |
         ((c & 0x10) ? kUF : 0) | ((c & 0x20) ? kNX : 0);
}
inline void clear_host_flags() { _mm_setcsr(_mm_getcsr() & ~0x3fu); }
// Entry: clear stale host flags and select round-to-nearest, writing MXCSR (slow: ~10 cycles)
// only when something has to change; a vmcall of integer code then never writes it.
inline void enter_fp_state() {
  uint32_t c = _mm_getcsr();
  if (c & 0x603fu) _mm_setcsr(c & ~0x603fu);
}
inline void set_host_rounding(unsigned rm) {
  static constexpr uint32_t kRc[] = {0, 3, 1, 2, 0};  // RNE, RTZ, RDN, RUP, RMM(~RNE)
  _mm_setcsr((_mm_getcsr() & ~0x6000u) | (kRc[rm] << 13));
}

// Rounds to an integral value per RISC-V rm (0..4).
inline double round_rm(double v, unsigned rm) {
  switch (rm) {
    case 1:
      return std::trunc(v);
    case 2:
      return std::floor(v);
    case 3:
      return std::ceil(v);
    case 4:
      return std::round(v);
    default:
      return __builtin_roundeven(v);
  }
}

// Float -> integer with RISC-V saturation (table 11.4) and flags. `lo`/`hi` are the bounds of
// the destination type as doubles (hi exclusive: 2^31, 2^32, 2^63, 2^64).
template <class T>
inline T fcvt_int(double v, unsigned rm, uint32_t& flags) {
  constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
  constexpr double hi = std::is_signed_v<T>
                            ? -lo
                            : 2.0 * (static_cast<double>(std::numeric_limits<T>::max() / 2) + 1);
  if (v != v) {
    flags |= kNV;
    return std::numeric_limits<T>::max();
  }
  double r = round_rm(v, rm);
  if (r < lo) {
    flags |= kNV;
    return std::numeric_limits<T>::min();
  }
  if (r >= hi) {
    flags |= kNV;
    return std::numeric_limits<T>::max();
  }
  if (r != v) flags |= kNX;
  return static_cast<T>(r);
}

template <class F>
inline F fmin_rv(F a, F b, bool is_max, uint32_t& flags, bool snan) {
  if (snan) flags |= kNV;
  if (a != a && b != b) return std::numeric_limits<F>::quiet_NaN();
  if (a != a) return b;
  if (b != b) return a;
  if (a == b) return (std::signbit(a) != is_max) ? a : b;  // -0 < +0
  return ((a < b) != is_max) ? a : b;
}

template <class F, class U>
inline uint64_t fclass(F v) {
  U b = std::bit_cast<U>(v);
  bool neg = std::signbit(v);
  switch (std::fpclassify(v)) {
    case FP_INFINITE:
      return neg ? 1u << 0 : 1u << 7;
    case FP_NORMAL:
      return neg ? 1u << 1 : 1u << 6;
    case FP_SUBNORMAL:
      return neg ? 1u << 2 : 1u << 5;
    case FP_ZERO:
      return neg ? 1u << 3 : 1u << 4;
    default: {
      constexpr U quiet = std::is_same_v<F, float> ? U{1} << 22 : U{1} << 51;
      return (b & quiet) ? 1u << 9 : 1u << 8;
    }
  }
}

}  // namespace tierjit::sandbox::fp
