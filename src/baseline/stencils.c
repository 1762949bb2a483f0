// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* The baseline tier's stencils: the machine code for each LLVM IR operation (and operand
 * variant), compiled at build time by clang-22 with pinned flags (src/baseline/CMakeLists.txt)
 * and read by tools/stencil_extract into the stencil table. Technique: Xu & Kjolstad,
 * "Copy-and-Patch Compilation", OOPSLA 2021.
 *
 * Machine state between stencils (clang's preserve_none convention, so all three stay in
 * registers and no stencil saves anything for its predecessor):
 *   fp  (r12)  the function's frame: every SSA value that needs memory has an 8-byte slot
 *              (16 for an overflow intrinsic's {value, flag}), allocas live there too;
 *   x0  (r13)  the accumulator: each integer operation leaves its result here, so a value
 *              used only by the next instruction never goes through memory;
 *   x1  (r14)  reserved (passed through).
 * Integers of every width are kept zero-extended to 64 bits; f32 values keep their bits in
 * the low half of a slot. Holes are references to extern `TJB_<KIND>` symbols:
 *   A B C D      slot byte offsets (32-bit displacements)
 *   I J          32-bit immediates (sign-extended)
 *   N            frame size in bytes
 *   P0..P11 Q0..Q7 slots of a call's integer and floating-point arguments
 *   K K2         64-bit constants and addresses (movabs, written with inline asm)
 *   NEXT TARGET  rel32 jumps: the following code, and a branch target.
 * The extractor fails the build on any other relocation: no data sections, no calls except
 * through K holes or slots. */
#include "runtime/stencil_prelude.h"

#define ARGS_DECL u8 *fp, u64 x0, u64 x1
#define ARGS fp, x0, x1
extern u64 PN TJB_NEXT(ARGS_DECL);
extern u64 PN TJB_TARGET(ARGS_DECL);
extern char TJB_A[], TJB_B[], TJB_C[], TJB_D[], TJB_I[], TJB_J[], TJB_N[];
extern char TJB_P0[], TJB_P1[], TJB_P2[], TJB_P3[], TJB_P4[], TJB_P5[], TJB_P6[], TJB_P7[],
    TJB_P8[], TJB_P9[], TJB_P10[], TJB_P11[];
extern char TJB_Q0[], TJB_Q1[], TJB_Q2[], TJB_Q3[], TJB_Q4[], TJB_Q5[], TJB_Q6[], TJB_Q7[];

#define HOLE(h) ((u64)TJB_##h)
#define SLOT(h) (*(u64 *)(fp + HOLE(h)))
#define FSLOT_f64(h) (*(double *)(fp + HOLE(h)))
#define FSLOT_f32(h) (*(float *)(fp + HOLE(h)))
/* Immediates. clang encodes `(i64)TJB_I` as a sign-extended imm32 or disp32 (R_X86_64_32S)
 * folded into the instruction, so a negative value patched in works; where it would
 * zero-extend instead (R_X86_64_32: e.g. `mov $imm, %r13d`), the extractor fails the build
 * unless only the low 32 bits are used (a ≤32-bit operation). IMMSX/IMMJSX spell the sign
 * extension out (two instructions) for those places. */
#define IMM ((i64)TJB_I)
#define IMMJ ((i64)TJB_J)
#define IMMSX ((i64)(i32)(u32)HOLE(I))
#define IMMJSX ((i64)(i32)(u32)HOLE(J))
/* A 64-bit hole: `movabs $TJB_K, reg` (R_X86_64_64). */
static inline __attribute__((always_inline)) u64 k64(void) {
  u64 v;
  __asm__("movabsq $TJB_K, %0" : "=r"(v));
  return v;
}
static inline __attribute__((always_inline)) u64 k64b(void) {
  u64 v;
  __asm__("movabsq $TJB_K2, %0" : "=r"(v));
  return v;
}
#define STENCIL(name) u64 PN tjb_st_##name(ARGS_DECL)
#define CONTINUE() __attribute__((musttail)) return TJB_NEXT(ARGS)
#define JUMP() __attribute__((musttail)) return TJB_TARGET(ARGS)
/* The taken side is written unlikely so that clang ends the stencil with the jump to NEXT,
 * which the emitter drops: a branch is one `jcc TARGET`. */
#define BRANCH(c)                 \
  do {                            \
    if (__builtin_expect(!!(c), 0)) JUMP(); \
    CONTINUE();                   \
  } while (0)

/* Per width: unsigned and signed types and the canonical (zero-extended) form. */
#define U_8 u8
#define U_16 u16
#define U_32 u32
#define U_64 u64
#define S_8 i8
#define S_16 i16
#define S_32 i32
#define S_64 i64
#define W_8 8
#define W_16 16
#define W_32 32
#define W_64 64
#define NORM(W, v) ((u64)(U_##W)(v))

/* ---- moves ------------------------------------------------------------------------------ */
STENCIL(ldx_S) {
  x0 = SLOT(A);
  CONTINUE();
}
STENCIL(ldx_S32) {
  x0 = *(u32 *)(fp + HOLE(A));
  CONTINUE();
}
STENCIL(ldx_K) {
  x0 = k64();
  CONTINUE();
}
STENCIL(lea_F) {
  x0 = (u64)(fp + IMM);
  CONTINUE();
}
STENCIL(stx_S) {
  SLOT(C) = x0;
  CONTINUE();
}
STENCIL(stk_S) {
  SLOT(C) = k64();
  CONTINUE();
}
STENCIL(mov_SS) {
  SLOT(C) = SLOT(A);
  CONTINUE();
}
STENCIL(jmp) { JUMP(); }
STENCIL(trap) { __builtin_trap(); }

/* ---- integer arithmetic: x0 = x0 OP b, b from a slot (XS) or an immediate (XI) ------------ */
/* The immediate of a w-wide operation: 64-bit ones spell the sign extension out unless the
 * operation folds it into the instruction (BIN_FOLD: add, and, or, xor). */
#define IMM_W_8 IMM
#define IMM_W_16 IMM
#define IMM_W_32 IMM
#define IMM_W_64 IMMSX
#define IMMJ_W_8 IMMJ
#define IMMJ_W_16 IMMJ
#define IMMJ_W_32 IMMJ
#define IMMJ_W_64 IMMJSX
#define BIN_WI(NAME, W, EXPR_U, IMMX)             \
  STENCIL(NAME##_##W##_XS) {                     \
    U_##W a = (U_##W)x0, b = (U_##W)SLOT(B);     \
    x0 = NORM(W, EXPR_U);                        \
    CONTINUE();                                  \
  }                                              \
  STENCIL(NAME##_##W##_XI) {                     \
    U_##W a = (U_##W)x0, b = (U_##W)IMMX;        \
    x0 = NORM(W, EXPR_U);                        \
    CONTINUE();                                  \
  }
#define BIN_W(NAME, W, EXPR_U) BIN_WI(NAME, W, EXPR_U, IMM_W_##W)
#define BIN_FOLD(NAME, EXPR)       \
  BIN_W(NAME, 8, EXPR)             \
  BIN_W(NAME, 16, EXPR)            \
  BIN_W(NAME, 32, EXPR)            \
  BIN_WI(NAME, 64, EXPR, IMM)
#define BIN_ALLW(NAME, EXPR) \
  BIN_W(NAME, 8, EXPR)       \
  BIN_W(NAME, 16, EXPR)      \
  BIN_W(NAME, 32, EXPR)      \
  BIN_W(NAME, 64, EXPR)
/* Signed views of a and b inside EXPR. */
#define SA(W) ((S_##W)a)
#define SB(W) ((S_##W)b)

BIN_FOLD(add, a + b)
BIN_ALLW(sub, a - b)
BIN_ALLW(mul, (u64)a * (u64)b)
BIN_ALLW(and, a &b)
BIN_ALLW(or, a | b)
BIN_ALLW(xor, a ^ b)
/* Signed saturating add/subtract (llvm.sadd.sat, llvm.ssub.sat). */
#define SAT(W)                                                                        \
  static inline __attribute__((always_inline)) U_##W sat_add_##W(S_##W a, S_##W b) { \
    S_##W r;                                                                          \
    if (!__builtin_add_overflow(a, b, &r)) return (U_##W)r;                           \
    return b > 0 ? (U_##W)((U_##W) ~0ul >> 1) : (U_##W)(((U_##W) ~0ul >> 1) + 1);     \
  }                                                                                   \
  static inline __attribute__((always_inline)) U_##W sat_sub_##W(S_##W a, S_##W b) { \
    S_##W r;                                                                          \
    if (!__builtin_sub_overflow(a, b, &r)) return (U_##W)r;                           \
    return b < 0 ? (U_##W)((U_##W) ~0ul >> 1) : (U_##W)(((U_##W) ~0ul >> 1) + 1);     \
  }
SAT(8)
SAT(16)
SAT(32)
SAT(64)
/* Shift amounts at or above the width are poison in LLVM IR: any result will do, so they are
 * masked (no C undefined behaviour in the stencil). */
#define SHIFTS(W)                                                      \
  BIN_W(shl, W, (u64)a << (b & (W_##W - 1)))                           \
  BIN_W(lshr, W, a >> (b & (W_##W - 1)))                               \
  BIN_W(ashr, W, (u64)(i64)(SA(W) >> (b & (W_##W - 1))))              \
  BIN_W(udiv, W, a / b)                                                \
  BIN_W(urem, W, a % b)                                                \
  BIN_W(sdiv, W, (u64)(i64)(SA(W) / SB(W)))                            \
  BIN_W(srem, W, (u64)(i64)(SA(W) % SB(W)))                            \
  BIN_W(smin, W, SA(W) < SB(W) ? a : b)                                \
  BIN_W(smax, W, SA(W) > SB(W) ? a : b)                                \
  BIN_W(umin, W, a < b ? a : b)                                        \
  BIN_W(umax, W, a > b ? a : b)                                        \
  BIN_W(uaddsat, W, (U_##W)(a + b) < a ? (U_##W) ~0ul : (U_##W)(a + b)) \
  BIN_W(saddsat, W, sat_add_##W(SA(W), SB(W)))                           \
  BIN_W(ssubsat, W, sat_sub_##W(SA(W), SB(W)))                           \
  BIN_W(usubsat, W, a > b ? (U_##W)(a - b) : 0)
SHIFTS(8)
SHIFTS(16)
SHIFTS(32)
SHIFTS(64)

/* ---- unary integer operations on x0 ----------------------------------------------------- */
#define UN_W(NAME, W, EXPR)      \
  STENCIL(NAME##_##W) {          \
    U_##W a = (U_##W)x0;         \
    x0 = NORM(W, EXPR);          \
    CONTINUE();                  \
  }
#define UNARIES(W)                                                          \
  UN_W(trunc, W, a)                                                         \
  UN_W(ctlz, W, a ? __builtin_clzl((u64)a) - (64 - W_##W) : W_##W)          \
  UN_W(cttz, W, a ? __builtin_ctzl((u64)a) : W_##W)                         \
  UN_W(ctpop, W, __builtin_popcountl((u64)a))                               \
  UN_W(abs, W, SA(W) < 0 ? (U_##W)(0 - a) : a)                              \
  STENCIL(sext64_##W) { /* the one unary result wider than its operand */   \
    x0 = (u64)(i64)(S_##W)x0;                                               \
    CONTINUE();                                                             \
  }
UNARIES(8)
UNARIES(16)
UNARIES(32)
UN_W(bswap, 16, __builtin_bswap16(a))
UN_W(bswap, 32, __builtin_bswap32(a))
UN_W(bswap, 64, __builtin_bswap64(a))
UN_W(ctlz, 64, a ? __builtin_clzl(a) : 64)
UN_W(cttz, 64, a ? __builtin_ctzl(a) : 64)
UN_W(ctpop, 64, __builtin_popcountl(a))
UN_W(abs, 64, SA(64) < 0 ? 0 - a : a)
STENCIL(trunc_1) {
  x0 &= 1;
  CONTINUE();
}
STENCIL(sext64_1) { /* i1 → all ones or zero */
  x0 = 0 - (x0 & 1);
  CONTINUE();
}
/* Funnel shifts: x0 = fsh(x0, slot B, slot C) (rotates when both are the same value). */
#define FUNNEL(W)                                                              \
  STENCIL(fshl_##W) {                                                          \
    U_##W a = (U_##W)x0, b = (U_##W)SLOT(B);                                   \
    u32 s = (u32)SLOT(C) & (W_##W - 1);                                        \
    x0 = NORM(W, s ? (U_##W)((u64)a << s) | (U_##W)(b >> (W_##W - s)) : a);    \
    CONTINUE();                                                                \
  }                                                                            \
  STENCIL(fshr_##W) {                                                          \
    U_##W a = (U_##W)x0, b = (U_##W)SLOT(B);                                   \
    u32 s = (u32)SLOT(C) & (W_##W - 1);                                        \
    x0 = NORM(W, s ? (U_##W)((u64)a << (W_##W - s)) | (U_##W)(b >> s) : b);    \
    CONTINUE();                                                                \
  }
FUNNEL(8)
FUNNEL(16)
FUNNEL(32)
FUNNEL(64)

/* Overflow intrinsics: slot C = result, slot C+8 = overflow flag; x0 = result. */
#define OVF(NAME, W, BUILTIN, T)                                   \
  STENCIL(NAME##_##W) {                                            \
    T r;                                                           \
    u64 o = BUILTIN((T)x0, (T)SLOT(B), &r);                        \
    x0 = NORM(W, r);                                               \
    SLOT(C) = x0;                                                  \
    *(u64 *)(fp + HOLE(C) + 8) = o;                                \
    CONTINUE();                                                    \
  }
#define OVFS(W)                                        \
  OVF(uaddo, W, __builtin_add_overflow, U_##W)         \
  OVF(saddo, W, __builtin_add_overflow, S_##W)         \
  OVF(usubo, W, __builtin_sub_overflow, U_##W)         \
  OVF(ssubo, W, __builtin_sub_overflow, S_##W)         \
  OVF(umulo, W, __builtin_mul_overflow, U_##W)         \
  OVF(smulo, W, __builtin_mul_overflow, S_##W)
OVFS(8)
OVFS(16)
OVFS(32)
OVFS(64)

/* ---- comparisons: x0 = (x0 PRED b) as 0/1, and the fused compare-and-branch ------------- */
#define CMP_W(PRED, W, EXPR)                        \
  STENCIL(icmp_##PRED##_##W##_XS) {                 \
    U_##W a = (U_##W)x0, b = (U_##W)SLOT(B);        \
    x0 = (EXPR);                                    \
    CONTINUE();                                     \
  }                                                 \
  STENCIL(icmp_##PRED##_##W##_XI) {                 \
    U_##W a = (U_##W)x0, b = (U_##W)IMM_W_##W;      \
    x0 = (EXPR);                                    \
    CONTINUE();                                     \
  }                                                 \
  STENCIL(br_##PRED##_##W##_XS) {                   \
    U_##W a = (U_##W)x0, b = (U_##W)SLOT(B);        \
    BRANCH(EXPR);                                   \
  }                                                 \
  STENCIL(br_##PRED##_##W##_XI) {                   \
    U_##W a = (U_##W)x0, b = (U_##W)IMM_W_##W;      \
    BRANCH(EXPR);                                   \
  }
#define CMPS(W)                      \
  CMP_W(eq, W, a == b)               \
  CMP_W(ne, W, a != b)               \
  CMP_W(ugt, W, a > b)               \
  CMP_W(uge, W, a >= b)              \
  CMP_W(ult, W, a < b)               \
  CMP_W(ule, W, a <= b)              \
  CMP_W(sgt, W, SA(W) > SB(W))       \
  CMP_W(sge, W, SA(W) >= SB(W))      \
  CMP_W(slt, W, SA(W) < SB(W))       \
  CMP_W(sle, W, SA(W) <= SB(W))
CMPS(8)
CMPS(16)
CMPS(32)
CMPS(64)
STENCIL(brnz_X) { BRANCH(x0 & 1); }
STENCIL(brz_X) { BRANCH(!(x0 & 1)); }
/* compares with zero (null pointers, flags): `test`, no immediate */
#define ZERO_W(W)                                              \
  STENCIL(icmp_eq_##W##_XZ) {                                  \
    x0 = (U_##W)x0 == 0;                                       \
    CONTINUE();                                                \
  }                                                            \
  STENCIL(icmp_ne_##W##_XZ) {                                  \
    x0 = (U_##W)x0 != 0;                                       \
    CONTINUE();                                                \
  }                                                            \
  STENCIL(br_eq_##W##_XZ) { BRANCH((U_##W)x0 == 0); }          \
  STENCIL(br_ne_##W##_XZ) { BRANCH((U_##W)x0 != 0); }
ZERO_W(8)
ZERO_W(16)
ZERO_W(32)
ZERO_W(64)
/* select: x0 = (x0 & 1) ? slot A : slot B */
STENCIL(sel_X) {
  x0 = (x0 & 1) ? SLOT(A) : SLOT(B);
  CONTINUE();
}

/* ---- memory ----------------------------------------------------------------------------- */
/* ld: x0 = *(x0 + I)   ldF: x0 = *(fp + I)   ldS: x0 = *(slot A + I)
 * st: *(slot B + I) = x0   stP: *(x0 + I) = slot A   stF: *(fp + I) = x0
 * stKX: *(x0 + I) = imm J    stKF: *(fp + I) = imm J   (J sign-extended to the width) */
#define MEM(W)                                        \
  STENCIL(ld##W) {                                    \
    x0 = *(U_##W *)(x0 + IMM);                        \
    CONTINUE();                                       \
  }                                                   \
  STENCIL(ldF##W) {                                   \
    x0 = *(U_##W *)(fp + IMM);                        \
    CONTINUE();                                       \
  }                                                   \
  STENCIL(ldS##W) {                                   \
    x0 = *(U_##W *)(SLOT(A) + IMM);                   \
    CONTINUE();                                       \
  }                                                   \
  STENCIL(st##W) {                                    \
    *(U_##W *)(SLOT(B) + IMM) = (U_##W)x0;            \
    CONTINUE();                                       \
  }                                                   \
  STENCIL(stP##W) {                                   \
    *(U_##W *)(x0 + IMM) = (U_##W)SLOT(A);            \
    CONTINUE();                                       \
  }                                                   \
  STENCIL(stF##W) {                                   \
    *(U_##W *)(fp + IMM) = (U_##W)x0;                 \
    CONTINUE();                                       \
  }                                                   \
  STENCIL(stKX##W) {                                  \
    *(U_##W *)(x0 + IMM) = (U_##W)IMMJ;               \
    CONTINUE();                                       \
  }                                                   \
  STENCIL(stKF##W) {                                  \
    *(U_##W *)(fp + IMM) = (U_##W)IMMJ;               \
    CONTINUE();                                       \
  }
MEM(8)
MEM(16)
MEM(32)
MEM(64)
/* seq_cst stores and read-modify-write atomics (x86-64: xchg / lock-prefixed) */
#define ATOMICS(W)                                                                   \
  STENCIL(stsc##W) {                                                                 \
    __atomic_store_n((U_##W *)SLOT(B), (U_##W)x0, __ATOMIC_SEQ_CST);                 \
    CONTINUE();                                                                      \
  }                                                                                  \
  STENCIL(rmw_xchg##W) {                                                                 \
    x0 = __atomic_exchange_n((U_##W *)SLOT(A), (U_##W)x0, __ATOMIC_SEQ_CST);         \
    CONTINUE();                                                                      \
  }                                                                                  \
  STENCIL(rmw_xadd##W) {                                                                 \
    x0 = __atomic_fetch_add((U_##W *)SLOT(A), (U_##W)x0, __ATOMIC_SEQ_CST);          \
    CONTINUE();                                                                      \
  }                                                                                  \
  STENCIL(rmw_xsub##W) {                                                                 \
    x0 = __atomic_fetch_sub((U_##W *)SLOT(A), (U_##W)x0, __ATOMIC_SEQ_CST);          \
    CONTINUE();                                                                      \
  }                                                                                  \
  STENCIL(rmw_xand##W) {                                                                 \
    x0 = __atomic_fetch_and((U_##W *)SLOT(A), (U_##W)x0, __ATOMIC_SEQ_CST);          \
    CONTINUE();                                                                      \
  }                                                                                  \
  STENCIL(rmw_xor##W) {                                                                  \
    x0 = __atomic_fetch_or((U_##W *)SLOT(A), (U_##W)x0, __ATOMIC_SEQ_CST);           \
    CONTINUE();                                                                      \
  }                                                                                  \
  STENCIL(rmw_xxor##W) {                                                                 \
    x0 = __atomic_fetch_xor((U_##W *)SLOT(A), (U_##W)x0, __ATOMIC_SEQ_CST);          \
    CONTINUE();                                                                      \
  }                                                                                  \
  /* cmpxchg: slot C = old value, slot C+8 = success; x0 = old */                    \
  STENCIL(rmw_cas##W) {                                                                  \
    U_##W expected = (U_##W)SLOT(B);                                                 \
    u64 ok = __atomic_compare_exchange_n((U_##W *)SLOT(A), &expected, (U_##W)x0, 0,  \
                                         __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);        \
    x0 = expected;                                                                   \
    SLOT(C) = x0;                                                                    \
    *(u64 *)(fp + HOLE(C) + 8) = ok;                                                 \
    CONTINUE();                                                                      \
  }
ATOMICS(8)
ATOMICS(16)
ATOMICS(32)
ATOMICS(64)
STENCIL(fence) {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  CONTINUE();
}

/* ---- address arithmetic (getelementptr) -------------------------------------------------- */
/* gepXS: x0 = x0 + idx(slot B) * scale + J; gepSX: x0 = slot A + idx(x0) * scale + J.
 * The index is i64, or i32 sign-extended (suffix 32). Scale: 1, 2, 4, 8 or the immediate I. */
#define GEP_SC(SUF, SCALE, IDXT)                                      \
  STENCIL(gepXS##SUF) {                                               \
    x0 = x0 + (u64)((i64)(IDXT)SLOT(B) * (SCALE)) + IMMJ;             \
    CONTINUE();                                                       \
  }                                                                   \
  STENCIL(gepSX##SUF) {                                               \
    x0 = SLOT(A) + (u64)((i64)(IDXT)x0 * (SCALE)) + IMMJ;             \
    CONTINUE();                                                       \
  }
#define GEP_IDX(ISUF, IDXT)              \
  GEP_SC(ISUF##_1, 1, IDXT)              \
  GEP_SC(ISUF##_2, 2, IDXT)              \
  GEP_SC(ISUF##_4, 4, IDXT)              \
  GEP_SC(ISUF##_8, 8, IDXT)              \
  GEP_SC(ISUF##_n, IMM, IDXT)
GEP_IDX(64, i64)
GEP_IDX(32, i32)

/* ---- floating point (slots only: C = A op B) --------------------------------------------- */
typedef float f32_t;
typedef double f64_t;
#define FABS_f32 __builtin_fabsf
#define FABS_f64 __builtin_fabs
#define FSQRT_f32 __builtin_sqrtf
#define FSQRT_f64 __builtin_sqrt
#define FBIN(T)                                                    \
  STENCIL(fadd_##T) {                                              \
    FSLOT_##T(C) = FSLOT_##T(A) + FSLOT_##T(B);                    \
    CONTINUE();                                                    \
  }                                                                \
  STENCIL(fsub_##T) {                                              \
    FSLOT_##T(C) = FSLOT_##T(A) - FSLOT_##T(B);                    \
    CONTINUE();                                                    \
  }                                                                \
  STENCIL(fmul_##T) {                                              \
    FSLOT_##T(C) = FSLOT_##T(A) * FSLOT_##T(B);                    \
    CONTINUE();                                                    \
  }                                                                \
  STENCIL(fdiv_##T) {                                              \
    FSLOT_##T(C) = FSLOT_##T(A) / FSLOT_##T(B);                    \
    CONTINUE();                                                    \
  }                                                                \
  STENCIL(fneg_##T) {                                              \
    FSLOT_##T(C) = -FSLOT_##T(A);                                  \
    CONTINUE();                                                    \
  }                                                                \
  STENCIL(fabs_##T) {                                              \
    FSLOT_##T(C) = FABS_##T(FSLOT_##T(A));                   \
    CONTINUE();                                                    \
  }                                                                \
  STENCIL(fsqrt_##T) {                                             \
    FSLOT_##T(C) = FSQRT_##T(FSLOT_##T(A));                   \
    CONTINUE();                                                    \
  }                                                                \
  STENCIL(fcall1_##T) {                                            \
    FSLOT_##T(C) = ((T##_t(*)(T##_t))k64())(FSLOT_##T(A));         \
    CONTINUE();                                                    \
  }                                                                \
  STENCIL(fcall2_##T) {                                            \
    FSLOT_##T(C) = ((T##_t(*)(T##_t, T##_t))k64())(FSLOT_##T(A), FSLOT_##T(B)); \
    CONTINUE();                                                    \
  }                                                                \
  STENCIL(fcall3_##T) {                                            \
    FSLOT_##T(C) = ((T##_t(*)(T##_t, T##_t, T##_t))k64())(         \
        FSLOT_##T(A), FSLOT_##T(B), FSLOT_##T(D));                 \
    CONTINUE();                                                    \
  }
FBIN(f32)
FBIN(f64)
STENCIL(fpext) {
  FSLOT_f64(C) = (double)FSLOT_f32(A);
  CONTINUE();
}
STENCIL(fptrunc) {
  FSLOT_f32(C) = (float)FSLOT_f64(A);
  CONTINUE();
}
/* fcmp: x0 = a PRED b (ordered: false on NaN; unordered: true on NaN) */
#define FCMP(PRED, T, EXPR)                                 \
  STENCIL(fcmp_##PRED##_##T) {                              \
    T##_t a = FSLOT_##T(A), b = FSLOT_##T(B);               \
    x0 = (EXPR);                                            \
    CONTINUE();                                             \
  }
#define FCMPS(T)                                       \
  FCMP(oeq, T, a == b)                                 \
  FCMP(ogt, T, a > b)                                  \
  FCMP(oge, T, a >= b)                                 \
  FCMP(olt, T, a < b)                                  \
  FCMP(ole, T, a <= b)                                 \
  FCMP(one, T, a < b || a > b)                         \
  FCMP(ord, T, a == a && b == b)                       \
  FCMP(uno, T, a != a || b != b)                       \
  FCMP(ueq, T, !(a < b || a > b))                      \
  FCMP(ugt, T, !(a <= b))                              \
  FCMP(uge, T, !(a < b))                               \
  FCMP(ult, T, !(a >= b))                              \
  FCMP(ule, T, !(a > b))                               \
  FCMP(une, T, a != b)
FCMPS(f32)
FCMPS(f64)
/* int ↔ fp conversions (the integer side canonical in x0 or slot A) */
#define CVT(W, T)                                       \
  STENCIL(sitofp_##W##_##T) {                           \
    FSLOT_##T(C) = (T##_t)(S_##W)SLOT(A);               \
    CONTINUE();                                         \
  }                                                     \
  STENCIL(uitofp_##W##_##T) {                           \
    FSLOT_##T(C) = (T##_t)(U_##W)SLOT(A);               \
    CONTINUE();                                         \
  }                                                     \
  STENCIL(fptosi_##W##_##T) {                           \
    x0 = NORM(W, (S_##W)FSLOT_##T(A));                  \
    CONTINUE();                                         \
  }                                                     \
  STENCIL(fptoui_##W##_##T) {                           \
    x0 = NORM(W, (U_##W)FSLOT_##T(A));                  \
    CONTINUE();                                         \
  }
CVT(8, f32)
CVT(16, f32)
CVT(32, f32)
CVT(8, f64)
CVT(16, f64)
CVT(32, f64)
/* 64-bit conversions, written so that clang needs no constant pool: 2^63 is built from its
 * bits behind an empty asm, which keeps it out of .rodata. */
static inline __attribute__((always_inline)) double two63(void) {
  u64 bits = 0x43e0000000000000ul;
  __asm__("" : "+r"(bits));
  double d;
  __builtin_memcpy(&d, &bits, 8);
  return d;
}
#define CVT64(T)                                                          \
  STENCIL(sitofp_64_##T) {                                                \
    FSLOT_##T(C) = (T##_t)(i64)SLOT(A);                                   \
    CONTINUE();                                                           \
  }                                                                       \
  STENCIL(uitofp_64_##T) {                                                \
    u64 v = SLOT(A);                                                      \
    T##_t r;                                                              \
    if ((i64)v >= 0) {                                                    \
      r = (T##_t)(i64)v;                                                  \
    } else {                                                              \
      r = (T##_t)(i64)((v >> 1) | (v & 1));                               \
      r = r + r;                                                          \
    }                                                                     \
    FSLOT_##T(C) = r;                                                     \
    CONTINUE();                                                           \
  }                                                                       \
  STENCIL(fptosi_64_##T) {                                                \
    x0 = (u64)(i64)FSLOT_##T(A);                                          \
    CONTINUE();                                                           \
  }                                                                       \
  STENCIL(fptoui_64_##T) {                                                \
    double d = (double)FSLOT_##T(A), c = two63();                         \
    x0 = d < c ? (u64)(i64)d : (u64)(i64)(d - c) ^ (1ul << 63);           \
    CONTINUE();                                                           \
  }
CVT64(f32)
CVT64(f64)

/* ---- calls ------------------------------------------------------------------------------ */
/* The callee is K (direct: a stub, a host function) or slot A (indirect). Integer arguments
 * come from slots P0.., floating-point ones from Q0.. (an f32 travels in the low half of its
 * double's register, as the psABI passes it). It is called through an unprototyped pointer
 * so that %al carries the vector-register count a variadic callee needs (psABI 3.5.7), and
 * returns {rax, xmm0} as a struct: slot C = rax, slot D = xmm0, x0 = rax. */
typedef struct {
  u64 i;
  double f;
} Ret2;
typedef Ret2 (*AnyFn)();
#define PI(n) SLOT(P##n)
#define QF(n) FSLOT_f64(Q##n)
#define CALL_STENCILS(ni, nf, ...)                                     \
  STENCIL(callK_##ni##_##nf) {                                             \
    Ret2 r = ((AnyFn)k64())(__VA_ARGS__);                                      \
    SLOT(C) = r.i;                                                         \
    FSLOT_f64(D) = r.f;                                                    \
    x0 = r.i;                                                              \
    CONTINUE();                                                            \
  }                                                                        \
  STENCIL(callS_##ni##_##nf) {                                             \
    Ret2 r = ((AnyFn)SLOT(A))(__VA_ARGS__);                                    \
    SLOT(C) = r.i;                                                         \
    FSLOT_f64(D) = r.f;                                                    \
    x0 = r.i;                                                              \
    CONTINUE();                                                            \
  }
#include "call_stencils.inc" /* generated by gen_variants.py */

/* ---- function entry and return ----------------------------------------------------------- */
/* entry_<ni>_<nf>_<i|f>: the psABI entry point. It allocates the frame (N bytes, 16-aligned),
 * stores the parameters to their slots and calls the body (NEXT, a preserve_none function,
 * so clang saves every callee-saved register here); the body's result comes back in rax as
 * bits and is returned in rax (i) or xmm0 (f). */
#define ENTRY_STENCILS(ni, nf, PARAMS, STORES)                 \
  u64 tjb_st_entry_##ni##_##nf##_i PARAMS {                   \
    u8 *fp = __builtin_alloca(HOLE(N));                        \
    STORES;                                                    \
    return TJB_NEXT(fp, 0, 0);                                 \
  }                                                            \
  double tjb_st_entry_##ni##_##nf##_f PARAMS {                \
    u8 *fp = __builtin_alloca(HOLE(N));                        \
    STORES;                                                    \
    u64 r = TJB_NEXT(fp, 0, 0);                                \
    double d;                                                  \
    __builtin_memcpy(&d, &r, 8);                               \
    return d;                                                  \
  }
#include "entry_stencils.inc" /* generated by gen_variants.py */
/* A variadic definition: every argument register goes to the register save area at slot D
 * (6 x 8 bytes of integers, then 8 x 16 of SSE registers, psABI 3.5.7) and the caller's
 * stack arguments start at slot C's pointer; named parameters also go to their slots. */
#define ENTRY_VA(SUF, RT, RET)                                                            \
  RT tjb_st_entry_va_##SUF(u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5, double f0,     \
                           double f1, double f2, double f3, double f4, double f5,         \
                           double f6, double f7, ...) {                                   \
    u8 *fp = __builtin_alloca(HOLE(N));                                                   \
    u64 *rsa = (u64 *)(fp + HOLE(D));                                                     \
    rsa[0] = a0, rsa[1] = a1, rsa[2] = a2, rsa[3] = a3, rsa[4] = a4, rsa[5] = a5;         \
    double *xsa = (double *)(fp + HOLE(D) + 48);                                          \
    xsa[0] = f0, xsa[2] = f1, xsa[4] = f2, xsa[6] = f3, xsa[8] = f4, xsa[10] = f5;        \
    xsa[12] = f6, xsa[14] = f7;                                                           \
    *(u8 **)(fp + HOLE(C)) = (u8 *)__builtin_frame_address(0) + 16;                       \
    SLOT(P0) = a0, SLOT(P1) = a1, SLOT(P2) = a2, SLOT(P3) = a3, SLOT(P4) = a4;            \
    SLOT(P5) = a5;                                                                        \
    FSLOT_f64(Q0) = f0, FSLOT_f64(Q1) = f1, FSLOT_f64(Q2) = f2, FSLOT_f64(Q3) = f3;       \
    FSLOT_f64(Q4) = f4, FSLOT_f64(Q5) = f5, FSLOT_f64(Q6) = f6, FSLOT_f64(Q7) = f7;       \
    u64 r = TJB_NEXT(fp, 0, 0);                                                           \
    RET;                                                                                  \
  }
ENTRY_VA(i, u64, return r)
ENTRY_VA(f, double, double d; __builtin_memcpy(&d, &r, 8); return d)
/* va_start(slot A's pointer): gp_offset I, fp_offset J, overflow area from slot C, register
 * save area at slot D. va_copy: 24 bytes from slot B's pointer to slot A's. */
STENCIL(vastart) {
  u8 *va = (u8 *)SLOT(A);
  *(u32 *)va = (u32)HOLE(I);
  *(u32 *)(va + 4) = (u32)HOLE(J);
  *(u8 **)(va + 8) = *(u8 **)(fp + HOLE(C));
  *(u8 **)(va + 16) = fp + HOLE(D);
  CONTINUE();
}
/* llvm.load.relative: x0 = slot A + sext(*(i32 *)(slot A + x0)) (relative lookup tables) */
STENCIL(ldrel) {
  u8 *base = (u8 *)SLOT(A);
  x0 = (u64)(base + *(i32 *)(base + x0));
  CONTINUE();
}
/* Vector lanes at a variable index x0 (lanes are 8-byte slots from fp + I; J lanes): an index
 * out of range reads 0 / writes nothing (the IR's result is poison). */
STENCIL(lane_ld) {
  x0 = x0 < (u64)IMMJ ? *(u64 *)(fp + IMM + x0 * 8) : 0;
  CONTINUE();
}
STENCIL(lane_st) {
  if (x0 < (u64)IMMJ) *(u64 *)(fp + IMM + x0 * 8) = SLOT(A);
  CONTINUE();
}
STENCIL(vacopy) {
  u64 *d = (u64 *)SLOT(A), *s = (u64 *)SLOT(B);
  d[0] = s[0], d[1] = s[1], d[2] = s[2];
  CONTINUE();
}
STENCIL(ret_X) { return x0; }
STENCIL(ret_S) { return SLOT(A); }

/* ---- tier-up counters -------------------------------------------------------------------- */
/* K = &counters[2 * id] (calls, heat): calls += D, heat += J; when heat crosses the
 * threshold I, call the tier-up hook K2(id = A, next level = B). */
STENCIL(count) {
  u64 *c = (u64 *)k64();
  c[0] += HOLE(D);
  u64 h = c[1] + (u64)IMMJSX;
  c[1] = h;
  if (UNLIKELY(h >= (u64)IMMSX && h - (u64)IMMJSX < (u64)IMMSX))
    ((void (*)(u32, u32))k64b())((u32)HOLE(A), (u32)HOLE(B));
  CONTINUE();
}

/* ---- on-stack replacement ---------------------------------------------------------------- */
/* K = this loop header's cell in the function's OSR table, I = the header's block index. A
 * continuation stored there runs the rest of the function from the header with this frame;
 * its result is this body's. */
STENCIL(osr) {
  u64 (*cont)(u8 *, u32) = *(u64 (*volatile *)(u8 *, u32))k64();
  if (UNLIKELY(cont != 0)) return cont(fp, (u32)HOLE(I));
  CONTINUE();
}

/* ---- switch through a jump table --------------------------------------------------------- */
/* idx = x0 - J (in the width); idx < I: jump to the idx-th address of the table at K, else
 * continue (the default). */
#define JTAB(W)                                                                   \
  STENCIL(jtab_##W) {                                                             \
    u64 idx = (U_##W)((U_##W)x0 - (U_##W)IMMJ_W_##W);                             \
    if (idx < (u64)(u32)HOLE(I))                                                  \
      __attribute__((musttail)) return ((u64 PN (**)(ARGS_DECL))k64())[idx](ARGS); \
    CONTINUE();                                                                   \
  }
JTAB(8)
JTAB(16)
JTAB(32)
JTAB(64)
