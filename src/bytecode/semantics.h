// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* Bytecode semantics helpers used by the EXPR column of opcodes.def, shared verbatim by the
 * interpreter (C++), the stencils (C, clang-22) and the LLVM tier (compiled to bitcode), so
 * every tier computes bit-identical results. Rules: docs/ISA.md. */
#ifndef TIERJIT_BYTECODE_SEMANTICS_H
#define TIERJIT_BYTECODE_SEMANTICS_H
#include <stdint.h>

typedef uint64_t u64;
typedef int64_t i64;

/* Stencils must not reference constant pools (the extractor rejects .rodata relocations):
 * float constants are built from integer immediates the compiler cannot fold back. */
#if defined(TJ_STENCIL)
static inline u64 tj_opaque(u64 x) {
  __asm__("" : "+r"(x));
  return x;
}
#else
static inline u64 tj_opaque(u64 x) { return x; }
#endif

static inline double tj_f64(u64 b) {
  double d;
  __builtin_memcpy(&d, &b, 8);
  return d;
}
static inline u64 tj_b64_raw(double d) {
  u64 b;
  __builtin_memcpy(&b, &d, 8);
  return b;
}
/* f64 result: NaN becomes the canonical NaN. */
static inline u64 tj_b64(double d) { return d != d ? 0x7ff8000000000000ull : tj_b64_raw(d); }
static inline float tj_f32(u64 b) {
  uint32_t w = (uint32_t)b;
  float f;
  __builtin_memcpy(&f, &w, 4);
  return f;
}
/* f32 result: low 32 bits, upper bits zero, NaN canonical. */
static inline u64 tj_b32(float f) {
  uint32_t w;
  __builtin_memcpy(&w, &f, 4);
  return f != f ? 0x7fc00000u : w;
}

static inline u64 tj_mulh(u64 a, u64 b) {
  return (u64)(((__int128)(i64)a * (__int128)(i64)b) >> 64);
}
static inline u64 tj_mulhu(u64 a, u64 b) {
  return (u64)(((unsigned __int128)a * (unsigned __int128)b) >> 64);
}
/* Signed division: INT64_MIN / -1 = INT64_MIN, INT64_MIN % -1 = 0 (no trap, as RISC-V). */
static inline u64 tj_div(u64 a, u64 b) { return b == ~0ull ? (u64)0 - a : (u64)((i64)a / (i64)b); }
static inline u64 tj_rem(u64 a, u64 b) { return b == ~0ull ? 0 : (u64)((i64)a % (i64)b); }

/* fmin/fmax as RISC-V F/D: a NaN operand yields the other operand; two NaNs the canonical
 * NaN; -0.0 orders below +0.0. */
static inline u64 tj_fmin_d(u64 a, u64 b) {
  double x = tj_f64(a), y = tj_f64(b);
  if (x != x) return y != y ? 0x7ff8000000000000ull : b;
  if (y != y) return a;
  if (x == y) return a | b; /* equal: -0 wins (sign bit set in either) */
  return x < y ? a : b;
}
static inline u64 tj_fmax_d(u64 a, u64 b) {
  double x = tj_f64(a), y = tj_f64(b);
  if (x != x) return y != y ? 0x7ff8000000000000ull : b;
  if (y != y) return a;
  if (x == y) return a & b; /* equal: +0 wins */
  return x > y ? a : b;
}
static inline u64 tj_fmin_s(u64 a, u64 b) {
  float x = tj_f32(a), y = tj_f32(b);
  if (x != x) return y != y ? 0x7fc00000u : (b & 0xffffffffu);
  if (y != y) return a & 0xffffffffu;
  if (x == y) return (a | b) & 0xffffffffu;
  return (x < y ? a : b) & 0xffffffffu;
}
static inline u64 tj_fmax_s(u64 a, u64 b) {
  float x = tj_f32(a), y = tj_f32(b);
  if (x != x) return y != y ? 0x7fc00000u : (b & 0xffffffffu);
  if (y != y) return a & 0xffffffffu;
  if (x == y) return (a & b) & 0xffffffffu;
  return (x > y ? a : b) & 0xffffffffu;
}

/* u64 -> float without constant pools: halve with a sticky bit, convert signed, double. */
static inline u64 tj_cvt_d_lu(u64 a) {
  if ((i64)a >= 0) return tj_b64((double)(i64)a);
  double d = (double)(i64)((a >> 1) | (a & 1));
  return tj_b64(d + d);
}
static inline u64 tj_cvt_s_lu(u64 a) {
  if ((i64)a >= 0) return tj_b32((float)(i64)a);
  float f = (float)(i64)((a >> 1) | (a & 1));
  return tj_b32(f + f);
}
/* f64 -> i64, saturating; NaN -> 0. */
static inline u64 tj_cvt_l_d(u64 a) {
  double d = tj_f64(a);
  if (d != d) return 0;
  if (d >= tj_f64(tj_opaque(0x43e0000000000000ull))) return 0x7fffffffffffffffull; /* 2^63 */
  if (d < tj_f64(tj_opaque(0xc3e0000000000000ull))) return 0x8000000000000000ull;  /* -2^63 */
  return (u64)(i64)d;
}
/* f64 -> u64, saturating; NaN and negatives -> 0. */
static inline u64 tj_cvt_lu_d(u64 a) {
  double d = tj_f64(a);
  if (!(d > tj_f64(tj_opaque(0xbff0000000000000ull)))) return 0;   /* NaN or <= -1.0 */
  if (d >= tj_f64(tj_opaque(0x43f0000000000000ull))) return ~0ull; /* 2^64 */
  double two63 = tj_f64(tj_opaque(0x43e0000000000000ull));
  if (d >= two63) return (u64)(i64)(d - two63) + 0x8000000000000000ull;
  return (u64)(i64)d;
}

#endif
