// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* The sandbox's translation tier: one stencil per RISC-V operation form (src/sandbox/rv_ops.def),
 * compiled at build time by clang-22 with the pinned stencil flags and read by
 * tools/stencil_extract --family rv. The translator (translator.cpp) copies them one after
 * another for a decoded block of guest code and patches the holes with register offsets,
 * immediates, guest addresses and the jumps that chain blocks. Technique: Xu & Kjolstad,
 * "Copy-and-Patch Compilation", OOPSLA 2021.
 *
 * Machine state between stencils (clang's preserve_none convention: all eleven stay in host
 * registers, and no stencil saves anything for its predecessor):
 *   x     the guest's integer registers x[0..31], the x0 write sink x[32], then (at a fixed
 *         distance the translator folds into the hole values) the floating-point registers;
 *   m     guest memory (guest address a is m + a);
 *   left  instructions left in the budget (each block subtracts its length on entry);
 *   c     the context (rv_jit_abi.h): memory map bounds, the indirect-jump table, exits;
 *   a, b  operands: an instruction's integer sources are fetched into a (rs1) and b (rs2) by
 *         get stencils, its operation leaves an integer result in a, a put stencil stores it;
 *   s0-s4 five guest registers pinned to host registers for the whole run (the translator picks
 *         the five most used; their x[] offsets are the S0-S4 holes of the entry trampoline and
 *         the exits, which load and store them): get and put of a pinned register is a move.
 * Semantics are the interpreter's (exec_*.inc), operation for operation; where a stencil cannot
 * decide (an access outside the memory map, a jump out of text) it leaves through a side exit
 * and the interpreter runs that one instruction, so faults carry the interpreter's messages.
 *
 * Holes are references to extern TJR_<NAME> symbols:
 *   RD RS1 RS2 RS3     byte offsets of registers from x (32-bit displacements)
 *   S0..S4             byte offsets of the pinned registers from x
 * (Eleven: preserve_none passes twelve integer arguments in registers, and an indirect tail
 * call needs one of them free for its target.)
 *   IMM                32-bit immediate, sign-extended
 *   N                  instructions in the block (the budget check)
 *   ID                 an exit site's id (rv_jit_abi.h)
 *   K                  64-bit constant (guest pc, link address, LUI/AUIPC value)
 *   NEXT TARGET EXIT   rel32 jumps: the following code, a branch target, the side exit. */
#include "runtime/stencil_prelude.h"
#include "sandbox/jit/rv_jit_abi.h"

typedef __int128 i128;
typedef unsigned __int128 u128;
typedef struct tj_rv_ctx Ctx;

#define ARGS_DECL                                                                      \
  u64 *x, u8 *m, i64 left, Ctx *c, u64 a, u64 b, u64 s0, u64 s1, u64 s2, u64 s3, u64 s4
#define ARGS x, m, left, c, a, b, s0, s1, s2, s3, s4
typedef u64 PN (*Code)(ARGS_DECL);
extern u64 PN TJR_NEXT(ARGS_DECL);
extern u64 PN TJR_TARGET(ARGS_DECL);
extern u64 PN TJR_EXIT(ARGS_DECL);
extern char TJR_RD[], TJR_RS1[], TJR_RS2[], TJR_RS3[], TJR_IMM[], TJR_N[], TJR_ID[], TJR_S0[],
    TJR_S1[], TJR_S2[], TJR_S3[], TJR_S4[];

#define HOLE(h) ((u64)TJR_##h)
#define REG(h) (*(u64 *)((u8 *)x + (u64)TJR_##h))
/* Integer operands (a, b) and result (a); floating-point registers stay in memory. */
#define RD a
#define RS1 a
#define RS2 b
#define SRS1 ((i64)a)
#define SRS2 ((i64)b)
#define FRD REG(RD)
#define FRS1 REG(RS1)
#define FRS2 REG(RS2)
#define FRS3 REG(RS3)
/* Sign extension spelled out: clang may otherwise use a zero-extending 32-bit field. */
/* The immediate, sign-extended by the instruction it is folded into (R_X86_64_32S); where clang
 * would use a zero-extending field instead the extractor fails the build, except in stencils
 * that use only its low bits (shift amounts, 32-bit results). IMMSX spells the extension out. */
#define IMM ((i64)TJR_IMM)
#define IMMSX ((i64)(i32)(u32)HOLE(IMM))
static inline __attribute__((always_inline)) u64 k64(void) {
  u64 v;
  __asm__("movabsq $TJR_K, %0" : "=r"(v));
  return v;
}
#define STENCIL(name) u64 PN tjr_st_##name(ARGS_DECL)
#define CONTINUE() __attribute__((musttail)) return TJR_NEXT(ARGS)
#define JUMP() __attribute__((musttail)) return TJR_TARGET(ARGS)
#define EXIT() __attribute__((musttail)) return TJR_EXIT(ARGS)
#define SX32(v) ((u64)(i64)(i32)(u32)(v))

/* ---- the entry trampoline (C calling convention), block entry and exits ------------------ */
/* Called by the sandbox: loads the pinned registers, runs translated code from `code` until an
 * exit (which stores them back) returns. */
u64 tjr_st_enter(Ctx *c, u64 *x, u8 *m, void *code) {
  return ((Code)code)(x, m, c->left, c, 0, 0, REG(S0), REG(S1), REG(S2), REG(S3), REG(S4));
}
#define WRITE_BACK() \
  (REG(S0) = s0, REG(S1) = s1, REG(S2) = s2, REG(S3) = s3, REG(S4) = s4)

/* Operand moves: a from rs1, b from rs2 (memory or a pinned register), a to rd. */
STENCIL(geta_m) {
  a = REG(RS1);
  CONTINUE();
}
STENCIL(getb_m) {
  b = REG(RS2);
  CONTINUE();
}
STENCIL(puta_m) {
  REG(RD) = a;
  CONTINUE();
}
#define PINNED(K)     \
  STENCIL(geta_s##K) { \
    a = s##K;          \
    CONTINUE();        \
  }                    \
  STENCIL(getb_s##K) { \
    b = s##K;          \
    CONTINUE();        \
  }                    \
  STENCIL(puta_s##K) { \
    s##K = a;          \
    CONTINUE();        \
  }
PINNED(0)
PINNED(1)
PINNED(2)
PINNED(3)
PINNED(4)

/* Block entry: the whole block is charged up front; a block that does not fit leaves (its exit
 * gives the N instructions back, and the interpreter runs the budget out exactly). */
STENCIL(block) {
  left -= (i64)TJR_N;
  if (UNLIKELY(left < 0)) EXIT();
  CONTINUE();
}
/* A block with floating point: the host FPU must be in the guest's state first. */
STENCIL(fp_check) {
  if (UNLIKELY(!c->fp_ready)) EXIT();
  CONTINUE();
}
/* An exit site: names itself and goes to the region's common exit (TARGET). */
STENCIL(exit_site) {
  c->exit_id = (u32)HOLE(ID);
  JUMP();
}
STENCIL(exit_common) {
  WRITE_BACK();
  c->left = left;
  return 0;
}
STENCIL(jmp) { JUMP(); }

/* ---- RV64I --------------------------------------------------------------------------------- */
STENCIL(LI) { /* LUI, AUIPC, and JAL's link: the value is known when translating */
  a = k64();
  CONTINUE();
}
/* Indirect jump, in two parts around the put of the link: the target (b) is checked against
 * text before anything is written, so a jump out of text leaves with the instruction not
 * executed (the interpreter reports it); then the table lookup. */
STENCIL(jalr_check) {
  b = (a + IMM) & ~(u64)1;
  if (UNLIKELY(b - c->text_lo >= c->text_size)) {
    c->exit_pc = b; /* the run loop ends a vmcall that returns to its sentinel itself */
    EXIT();
  }
  a = k64();
  CONTINUE();
}
STENCIL(jalr_go) {
  Code p = (Code)c->table[(b - c->text_lo) >> 1];
  if (UNLIKELY(!p)) {
    c->exit_pc = b;
    c->exit_id = TJ_RV_EXIT_ID_MISS;
    JUMP();
  }
  __attribute__((musttail)) return p(ARGS);
}
/* The compared value is a copy clang cannot see through: otherwise it knows a == b on one side
 * and passes a in b's register there (a move, and the jump laid out around it). */
#define BRANCH(NAME, T, CMP) \
  STENCIL(NAME) {            \
    T y = (T)b;              \
    __asm__("" : "+r"(y));   \
    if ((T)a CMP y) JUMP();  \
    CONTINUE();              \
  }
BRANCH(BEQ, u64, ==)
BRANCH(BNE, u64, !=)
BRANCH(BLT, i64, <)
BRANCH(BGE, i64, >=)
BRANCH(BLTU, u64, <)
BRANCH(BGEU, u64, >=)

#define LOG2(n) ((n) == 1 ? 0 : (n) == 2 ? 1 : (n) == 4 ? 2 : 3)
#define IN_STACK(ad, n) (ad - c->stack_lo <= c->stack_limit[LOG2(n)])
#define IN_READ(ad, n) (ad - c->read_lo <= c->read_limit[LOG2(n)])
#define IN_WRITE(ad, n) (ad - c->write_lo <= c->write_limit[LOG2(n)])
/* Three variants of each access. With guard pages (_G: the host's page protections mirror the
 * memory map, rv_jit_abi.h) only the end of the address space is checked, and an access the
 * map refuses faults in the host MMU: the sandbox's fault handler resumes at the stencil's
 * side exit, with every register as the check left it (tools/stencil_extract verifies that
 * nothing before the access writes one). Without (a map whose boundaries are not pages), the
 * map is checked in code: the stack first (_S: the base register is sp) or the other ranges
 * first; the same test either way, the likely side decided first. */
#define IN_SPACE(ad, n) (ad <= c->space_limit[LOG2(n)])
#define LOAD(NAME, T, DST, CONV)                                                   \
  LOAD1(NAME, T, DST, CONV, IN_READ(ad, sizeof(T)) || IN_STACK(ad, sizeof(T)))     \
  LOAD1(NAME##_S, T, DST, CONV, IN_STACK(ad, sizeof(T)) || IN_READ(ad, sizeof(T))) \
  LOAD1(NAME##_G, T, DST, CONV, IN_SPACE(ad, sizeof(T)))
#define LOAD1(NAME, T, DST, CONV, OK)                           \
  STENCIL(NAME) {                                               \
    u64 ad = a + IMM;                                           \
    if (UNLIKELY(!(OK))) EXIT();                                \
    T v;                                                        \
    __builtin_memcpy(&v, m + ad, sizeof(T));                    \
    DST = CONV;                                                 \
    CONTINUE();                                                 \
  }
#define STORE(NAME, T, SRC)                                                    \
  STORE1(NAME, T, SRC, IN_WRITE(ad, sizeof(T)) || IN_STACK(ad, sizeof(T)))     \
  STORE1(NAME##_S, T, SRC, IN_STACK(ad, sizeof(T)) || IN_WRITE(ad, sizeof(T))) \
  STORE1(NAME##_G, T, SRC, IN_SPACE(ad, sizeof(T)))
#define STORE1(NAME, T, SRC, OK)                                \
  STENCIL(NAME) {                                               \
    u64 ad = a + IMM;                                           \
    if (UNLIKELY(!(OK))) EXIT();                                \
    T v = (T)(SRC);                                             \
    __builtin_memcpy(m + ad, &v, sizeof(T));                    \
    CONTINUE();                                                 \
  }
LOAD(LB, i8, RD, (u64)(i64)v)
LOAD(LH, i16, RD, (u64)(i64)v)
LOAD(LW, i32, RD, (u64)(i64)v)
LOAD(LD, u64, RD, v)
LOAD(LBU, u8, RD, v)
LOAD(LHU, u16, RD, v)
LOAD(LWU, u32, RD, v)
STORE(SB, u8, RS2)
STORE(SH, u16, RS2)
STORE(SW, u32, RS2)
STORE(SD, u64, RS2)

#define OP(NAME, EXPR) \
  STENCIL(NAME) {      \
    RD = (EXPR);       \
    CONTINUE();        \
  }
OP(ADDI, RS1 + IMM)
OP(SLTI, SRS1 < IMM)
OP(SLTIU, RS1 < (u64)IMM)
OP(XORI, RS1 ^ (u64)IMMSX)
OP(ORI, RS1 | (u64)IMMSX)
OP(ANDI, RS1 &(u64) IMMSX)
OP(SLLI, RS1 << (HOLE(IMM) & 63))
OP(SRLI, RS1 >> (HOLE(IMM) & 63))
OP(SRAI, (u64)(SRS1 >> (HOLE(IMM) & 63)))
OP(ADD, RS1 + RS2)
OP(SUB, RS1 - RS2)
OP(SLL, RS1 << (RS2 & 63))
OP(SLT, SRS1 < SRS2)
OP(SLTU, RS1 < RS2)
OP(XOR, RS1 ^ RS2)
OP(SRL, RS1 >> (RS2 & 63))
OP(SRA, (u64)(SRS1 >> (RS2 & 63)))
OP(OR, RS1 | RS2)
OP(AND, RS1 &RS2)
OP(ADDIW, SX32(RS1 + IMM))
OP(SLLIW, SX32((u32)RS1 << (HOLE(IMM) & 31)))
OP(SRLIW, SX32((u32)RS1 >> (HOLE(IMM) & 31)))
OP(SRAIW, SX32((i32)RS1 >> (HOLE(IMM) & 31)))
OP(ADDW, SX32(RS1 + RS2))
OP(SUBW, SX32(RS1 - RS2))
OP(SLLW, SX32((u32)RS1 << (RS2 & 31)))
OP(SRLW, SX32((u32)RS1 >> (RS2 & 31)))
OP(SRAW, SX32((i32)RS1 >> (RS2 & 31)))

/* ---- M -------------------------------------------------------------------------------------- */
OP(MUL, RS1 *RS2)
OP(MULH, (u64)(((i128)SRS1 * (i128)SRS2) >> 64))
OP(MULHSU, (u64)(((i128)SRS1 * (i128)(u128)RS2) >> 64))
OP(MULHU, (u64)(((u128)RS1 * RS2) >> 64))
OP(MULW, SX32(RS1 *RS2))
STENCIL(DIV) {
  i64 p = SRS1, q = SRS2;
  RD = q == 0 ? ~(u64)0 : (p == (i64)(1ul << 63) && q == -1) ? (u64)p : (u64)(p / q);
  CONTINUE();
}
OP(DIVU, RS2 == 0 ? ~(u64)0 : RS1 / RS2)
STENCIL(REM) {
  i64 p = SRS1, q = SRS2;
  RD = q == 0 ? (u64)p : (p == (i64)(1ul << 63) && q == -1) ? 0 : (u64)(p % q);
  CONTINUE();
}
OP(REMU, RS2 == 0 ? RS1 : RS1 % RS2)
STENCIL(DIVW) {
  i32 p = (i32)RS1, q = (i32)RS2;
  RD = q == 0 ? ~(u64)0 : (p == (i32)(1u << 31) && q == -1) ? SX32(p) : SX32(p / q);
  CONTINUE();
}
STENCIL(DIVUW) {
  u32 p = (u32)RS1, q = (u32)RS2;
  RD = q == 0 ? ~(u64)0 : SX32(p / q);
  CONTINUE();
}
STENCIL(REMW) {
  i32 p = (i32)RS1, q = (i32)RS2;
  RD = q == 0 ? SX32(p) : (p == (i32)(1u << 31) && q == -1) ? 0 : SX32(p % q);
  CONTINUE();
}
STENCIL(REMUW) {
  u32 p = (u32)RS1, q = (u32)RS2;
  RD = q == 0 ? SX32(p) : SX32(p % q);
  CONTINUE();
}

/* ---- Zba and Zbb ---------------------------------------------------------------------------- */
OP(SH1ADD, (RS1 << 1) + RS2)
OP(SH2ADD, (RS1 << 2) + RS2)
OP(SH3ADD, (RS1 << 3) + RS2)
OP(ADD_UW, (u64)(u32)RS1 + RS2)
OP(SH1ADD_UW, ((u64)(u32)RS1 << 1) + RS2)
OP(SH2ADD_UW, ((u64)(u32)RS1 << 2) + RS2)
OP(SH3ADD_UW, ((u64)(u32)RS1 << 3) + RS2)
OP(SLLI_UW, (u64)(u32)RS1 << (HOLE(IMM) & 63))
OP(ANDN, RS1 & ~RS2)
OP(ORN, RS1 | ~RS2)
OP(XNOR, ~(RS1 ^ RS2))
STENCIL(CLZ) {
  u64 v = RS1;
  RD = v ? (u64)__builtin_clzl(v) : 64;
  CONTINUE();
}
STENCIL(CTZ) {
  u64 v = RS1;
  RD = v ? (u64)__builtin_ctzl(v) : 64;
  CONTINUE();
}
STENCIL(CLZW) {
  u32 v = (u32)RS1;
  RD = v ? (u64)__builtin_clz(v) : 32;
  CONTINUE();
}
STENCIL(CTZW) {
  u32 v = (u32)RS1;
  RD = v ? (u64)__builtin_ctz(v) : 32;
  CONTINUE();
}
OP(CPOP, (u64)__builtin_popcountl(RS1))
OP(CPOPW, (u64)__builtin_popcount((u32)RS1))
OP(MAX, SRS1 > SRS2 ? RS1 : RS2)
OP(MAXU, RS1 > RS2 ? RS1 : RS2)
OP(MIN, SRS1 < SRS2 ? RS1 : RS2)
OP(MINU, RS1 < RS2 ? RS1 : RS2)
OP(SEXT_B, (u64)(i64)(i8)RS1)
OP(SEXT_H, (u64)(i64)(i16)RS1)
OP(ZEXT_H, (u64)(u16)RS1)
static inline __attribute__((always_inline)) u64 rotr64(u64 v, u64 s) {
  s &= 63;
  return (v >> s) | (v << ((64 - s) & 63));
}
static inline __attribute__((always_inline)) u32 rotr32(u32 v, u32 s) {
  s &= 31;
  return (v >> s) | (v << ((32 - s) & 31));
}
OP(ROL, rotr64(RS1, 64 - (RS2 & 63)))
OP(ROR, rotr64(RS1, RS2))
OP(RORI, rotr64(RS1, HOLE(IMM)))
OP(ROLW, SX32(rotr32((u32)RS1, 32 - (u32)(RS2 & 31))))
OP(RORW, SX32(rotr32((u32)RS1, (u32)RS2)))
OP(RORIW, SX32(rotr32((u32)RS1, (u32)HOLE(IMM))))
STENCIL(ORC_B) {
  u64 v = RS1, r = 0;
  for (int i = 0; i < 8; ++i)
    if ((v >> (8 * i)) & 0xff) r |= 0xfful << (8 * i);
  RD = r;
  CONTINUE();
}
OP(REV8, __builtin_bswap64(RS1))

/* ---- F and D (round to nearest-even: the sandbox enters translated floating-point code only
 * when frm is RNE, and translates only static RNE, dynamic, or RTZ for conversions to
 * integers). NaN boxing and canonical NaNs as in exec_fd.hpp. -------------------------------- */
#define CANON64 0x7ff8000000000000ul
#define CANON32_BOXED 0xffffffff7fc00000ul
static inline __attribute__((always_inline)) double dbl(u64 v) {
  double d;
  __builtin_memcpy(&d, &v, 8);
  return d;
}
static inline __attribute__((always_inline)) u64 bits(double d) {
  u64 v;
  __builtin_memcpy(&v, &d, 8);
  return v;
}
static inline __attribute__((always_inline)) u64 bits_c(double d) {
  return d != d ? CANON64 : bits(d);
}
static inline __attribute__((always_inline)) float unbox(u64 v) {
  u32 nan = 0x7fc00000u;
  __asm__("" : "+r"(nan)); /* no constant-pool load */
  u32 w = (v >> 32) != 0xffffffffu ? nan : (u32)v;
  float f;
  __builtin_memcpy(&f, &w, 4);
  return f;
}
static inline __attribute__((always_inline)) u64 box(float f) {
  u32 b;
  __builtin_memcpy(&b, &f, 4);
  return 0xffffffff00000000ul | b;
}
static inline __attribute__((always_inline)) u64 box_c(float f) {
  return f != f ? CANON32_BOXED : box(f);
}
/* Floating-point constants and sign flips built from integer bits: a constant-pool load would
 * be a data relocation, which stencils must not have. */
static inline __attribute__((always_inline)) double kd(u64 b) {
  __asm__("" : "+r"(b));
  return dbl(b);
}
#define NEG64(v) dbl((v) ^ (1ul << 63))
static inline __attribute__((always_inline)) float negf(float f) {
  u32 b;
  __builtin_memcpy(&b, &f, 4);
  b ^= 0x80000000u;
  __asm__("" : "+r"(b));
  __builtin_memcpy(&f, &b, 4);
  return f;
}
/* u64 -> double/float rounded to nearest-even without clang's constant-pool sequence: halve
 * with the lost bit kept sticky, convert as signed, double (correctly rounded: the sticky bit
 * decides ties exactly as the full value would). */
/* The host's exception flags are the guest's (MXCSR accrues them), so a stencil must not
 * compute a floating-point operation the guest did not ask for: clang would otherwise evaluate
 * both sides of these branches and select one, and the discarded side can raise inexact.
 * NOSPEC pins a value to its branch. */
#define NOSPEC(v) __asm__ volatile("" : "+r"(v))
static inline __attribute__((always_inline)) double u2d(u64 v) {
  if ((i64)v >= 0) return (double)(i64)v;
  NOSPEC(v);
  double d = (double)(i64)((v >> 1) | (v & 1));
  return d + d;
}
static inline __attribute__((always_inline)) float u2f(u64 v) {
  if ((i64)v >= 0) return (float)(i64)v;
  NOSPEC(v);
  float f = (float)(i64)((v >> 1) | (v & 1));
  return f + f;
}
/* double in [0, 2^64) -> u64, truncating. */
static inline __attribute__((always_inline)) u64 d2u(double v) {
  u64 two63 = 0x43e0000000000000ul;
  if (v < kd(two63)) return (u64)(i64)v;
  NOSPEC(two63);
  return (u64)(i64)(v - dbl(two63)) ^ (1ul << 63);
}
#define DS1 dbl(FRS1)
#define DS2 dbl(FRS2)
#define DS3 dbl(FRS3)
#define FS1 unbox(FRS1)
#define FS2 unbox(FRS2)
#define FS3 unbox(FRS3)
#define NV 16u
#define NX 1u

#define FOP(NAME, EXPR) \
  STENCIL(NAME) {       \
    FRD = (EXPR);       \
    CONTINUE();         \
  }
LOAD(FLW, u32, FRD, 0xffffffff00000000ul | v)
LOAD(FLD, u64, FRD, v)
STORE(FSW, u32, FRS2)
STORE(FSD, u64, FRS2)
FOP(FADD_D, bits_c(DS1 + DS2))
FOP(FSUB_D, bits_c(DS1 - DS2))
FOP(FMUL_D, bits_c(DS1 *DS2))
FOP(FDIV_D, bits_c(DS1 / DS2))
FOP(FSQRT_D, bits_c(__builtin_sqrt(DS1)))
FOP(FADD_S, box_c(FS1 + FS2))
FOP(FSUB_S, box_c(FS1 - FS2))
FOP(FMUL_S, box_c(FS1 *FS2))
FOP(FDIV_S, box_c(FS1 / FS2))
FOP(FSQRT_S, box_c(__builtin_sqrtf(FS1)))
/* Fused multiply-add: only on hosts with FMA3 (the translator checks), one rounding as RISC-V. */
#define FMA_OP(NAME, EXPR)                       \
  __attribute__((target("fma"))) STENCIL(NAME) { \
    FRD = (EXPR);                                \
    CONTINUE();                                  \
  }
FMA_OP(FMADD_D, bits_c(__builtin_fma(DS1, DS2, DS3)))
FMA_OP(FMSUB_D, bits_c(__builtin_fma(DS1, DS2, NEG64(FRS3))))
FMA_OP(FNMSUB_D, bits_c(__builtin_fma(NEG64(FRS1), DS2, DS3)))
FMA_OP(FNMADD_D, bits_c(__builtin_fma(NEG64(FRS1), DS2, NEG64(FRS3))))
FMA_OP(FMADD_S, box_c(__builtin_fmaf(FS1, FS2, FS3)))
FMA_OP(FMSUB_S, box_c(__builtin_fmaf(FS1, FS2, negf(FS3))))
FMA_OP(FNMSUB_S, box_c(__builtin_fmaf(negf(FS1), FS2, FS3)))
FMA_OP(FNMADD_S, box_c(__builtin_fmaf(negf(FS1), FS2, negf(FS3))))
FOP(FSGNJ_D, (FRS1 & ~(1ul << 63)) | (FRS2 & (1ul << 63)))
FOP(FSGNJN_D, (FRS1 & ~(1ul << 63)) | (~FRS2 & (1ul << 63)))
FOP(FSGNJX_D, FRS1 ^ (FRS2 & (1ul << 63)))
static inline __attribute__((always_inline)) u32 fbits(float f) {
  u32 b;
  __builtin_memcpy(&b, &f, 4);
  return b;
}
static inline __attribute__((always_inline)) u64 box_bits(u32 b) { return 0xffffffff00000000ul | b; }
FOP(FSGNJ_S, box_bits((fbits(FS1) & 0x7fffffffu) | (fbits(FS2) & 0x80000000u)))
FOP(FSGNJN_S, box_bits((fbits(FS1) & 0x7fffffffu) | (~fbits(FS2) & 0x80000000u)))
FOP(FSGNJX_S, box_bits(fbits(FS1) ^ (fbits(FS2) & 0x80000000u)))
OP(FMV_X_W, SX32(FRS1))
FOP(FMV_W_X, box_bits((u32)a))
OP(FMV_X_D, FRS1)
FOP(FMV_D_X, a)
OP(FEQ_D, DS1 == DS2)
OP(FEQ_S, FS1 == FS2)
/* flt/fle: any NaN operand gives 0 and sets NV (signaling comparisons). */
#define FCMP(NAME, A, B, CMP)          \
  STENCIL(NAME) {                      \
    __typeof__(A) fa = (A), fb = (B);  \
    if (fa != fa || fb != fb) {        \
      c->soft_flags |= NV;             \
      RD = 0;                          \
    } else {                           \
      RD = fa CMP fb;                  \
    }                                  \
    CONTINUE();                        \
  }
FCMP(FLT_D, DS1, DS2, <)
FCMP(FLE_D, DS1, DS2, <=)
FCMP(FLT_S, FS1, FS2, <)
FCMP(FLE_S, FS1, FS2, <=)
FOP(FCVT_D_W, bits((double)(i32)RS1))
FOP(FCVT_D_WU, bits((double)(i64)(u32)RS1))
FOP(FCVT_D_L, bits((double)SRS1))
FOP(FCVT_D_LU, bits(u2d(RS1)))
FOP(FCVT_S_W, box((float)(i32)RS1))
FOP(FCVT_S_WU, box((float)(i64)(u32)RS1))
FOP(FCVT_S_L, box((float)SRS1))
FOP(FCVT_S_LU, box(u2f(RS1)))
FOP(FCVT_S_D, box_c((float)DS1))
FOP(FCVT_D_S, bits_c((double)FS1))
/* Float to integer, rounding toward zero (the rm of C casts), saturating with NV and setting
 * NX when inexact (RISC-V table 11.4; exec_fd.hpp fcvt_int). IN is the in-range test on v. */
#define FCVT_RTZ(NAME, SRC, T, IN, LOWV, HIGHV, WIDEN) \
  STENCIL(NAME) {                                      \
    double v = (double)(SRC);                          \
    T r;                                               \
    if (v != v) {                                      \
      c->soft_flags |= NV;                             \
      r = HIGHV;                                       \
    } else if (IN) {                                   \
      r = (T)v;                                        \
      if ((double)r != v) c->soft_flags |= NX;         \
    } else {                                           \
      c->soft_flags |= NV;                             \
      r = v < 0 ? LOWV : HIGHV;                        \
    }                                                  \
    RD = WIDEN(r);                                     \
    CONTINUE();                                        \
  }
#define W_SX(r) SX32((u32)(r))
#define W_U(r) ((u64)(r))
/* The bounds as bits: -2^31-1, 2^31, -1, 2^32, -2^63, 2^63, 2^64. */
#define IN_I32 (v > kd(0xc1e0000000200000ul) && v < kd(0x41e0000000000000ul))
#define IN_U32 (v > kd(0xbff0000000000000ul) && v < kd(0x41f0000000000000ul))
#define IN_I64 (v >= kd(0xc3e0000000000000ul) && v < kd(0x43e0000000000000ul))
#define IN_U64 (v > kd(0xbff0000000000000ul) && v < kd(0x43f0000000000000ul))
/* (T)v of a negative v above -1 is 0 for the unsigned types, spelled out (C leaves it
 * undefined): the in-range branch sees v > -1, and -0.x truncates to 0. */
#define U32V (v <= 0 ? 0u : (u32)v)
#define U64V (v <= 0 ? 0ul : d2u(v))
FCVT_RTZ(FCVT_W_D_RTZ, DS1, i32, IN_I32, (i32)(1u << 31), 0x7fffffff, W_SX)
FCVT_RTZ(FCVT_L_D_RTZ, DS1, i64, IN_I64, (i64)(1ul << 63), 0x7fffffffffffffffl, W_U)
FCVT_RTZ(FCVT_W_S_RTZ, FS1, i32, IN_I32, (i32)(1u << 31), 0x7fffffff, W_SX)
FCVT_RTZ(FCVT_L_S_RTZ, FS1, i64, IN_I64, (i64)(1ul << 63), 0x7fffffffffffffffl, W_U)
/* Unsigned: the value conversion goes through U32V/U64V. Inexact is checked without a host
 * conversion that could itself raise the host's inexact flag: at and above 2^63 every double
 * is an integer, below it r converts back exactly. */
#define FCVT_RTZ_U(NAME, SRC, T, IN, CONVV, WIDEN)  \
  STENCIL(NAME) {                                   \
    double v = (double)(SRC);                       \
    T r;                                            \
    if (v != v) {                                   \
      c->soft_flags |= NV;                          \
      r = (T)~(T)0;                                 \
    } else if (IN) {                                \
      r = CONVV;                                    \
      if (v < kd(0x43e0000000000000ul) && (double)(i64)r != v) c->soft_flags |= NX; \
    } else {                                        \
      c->soft_flags |= NV;                          \
      r = v < 0 ? 0 : (T)~(T)0;                     \
    }                                               \
    RD = WIDEN(r);                                  \
    CONTINUE();                                     \
  }
FCVT_RTZ_U(FCVT_WU_D_RTZ, DS1, u32, IN_U32, U32V, W_SX)
FCVT_RTZ_U(FCVT_LU_D_RTZ, DS1, u64, IN_U64, U64V, W_U)
FCVT_RTZ_U(FCVT_WU_S_RTZ, FS1, u32, IN_U32, U32V, W_SX)
FCVT_RTZ_U(FCVT_LU_S_RTZ, FS1, u64, IN_U64, U64V, W_U)

/* fmin/fmax (the 2.2 F spec's minimumNumber/maximumNumber: a NaN operand yields the other, -0 is
 * below +0; a signaling NaN sets NV) and fclass, on the bits: no host comparison of a NaN. */
static inline __attribute__((always_inline)) int nan64(u64 v) {
  return (v & 0x7ffffffffffffffful) > 0x7ff0000000000000ul;
}
static inline __attribute__((always_inline)) int snan64(u64 v) {
  return nan64(v) && !(v & (1ul << 51));
}
static inline __attribute__((always_inline)) int nan32(u32 v) {
  return (v & 0x7fffffffu) > 0x7f800000u;
}
static inline __attribute__((always_inline)) int snan32(u32 v) {
  return nan32(v) && !(v & (1u << 22));
}
#define FMINMAX_D(NAME, IS_MAX)                                          \
  STENCIL(NAME) {                                                        \
    u64 p = FRS1, q = FRS2, r;                                           \
    if (snan64(p) || snan64(q)) c->soft_flags |= NV;                     \
    if (nan64(p) && nan64(q)) {                                          \
      r = CANON64;                                                       \
    } else if (nan64(p)) {                                               \
      r = q;                                                             \
    } else if (nan64(q)) {                                               \
      r = p;                                                             \
    } else {                                                             \
      double fa = dbl(p), fb = dbl(q);                                   \
      if (fa == fb)                                                      \
        r = ((int)(p >> 63) != (IS_MAX)) ? p : q;                        \
      else                                                               \
        r = ((fa < fb) != (IS_MAX)) ? p : q;                             \
    }                                                                    \
    FRD = r;                                                             \
    CONTINUE();                                                          \
  }
FMINMAX_D(FMIN_D, 0)
FMINMAX_D(FMAX_D, 1)
#define FMINMAX_S(NAME, IS_MAX)                                          \
  STENCIL(NAME) {                                                        \
    u32 p = fbits(FS1), q = fbits(FS2), r;                               \
    if (snan32(p) || snan32(q)) c->soft_flags |= NV;                     \
    if (nan32(p) && nan32(q)) {                                          \
      r = 0x7fc00000u;                                                   \
    } else if (nan32(p)) {                                               \
      r = q;                                                             \
    } else if (nan32(q)) {                                               \
      r = p;                                                             \
    } else {                                                             \
      float fa = FS1, fb = FS2;                                          \
      if (fa == fb)                                                      \
        r = ((int)(p >> 31) != (IS_MAX)) ? p : q;                        \
      else                                                               \
        r = ((fa < fb) != (IS_MAX)) ? p : q;                             \
    }                                                                    \
    FRD = box_bits(r);                                                   \
    CONTINUE();                                                          \
  }
FMINMAX_S(FMIN_S, 0)
FMINMAX_S(FMAX_S, 1)
/* fclass: one bit of ten (F spec 11.9). */
static inline __attribute__((always_inline)) u64 fclass_bits(u64 sign, u64 exp, u64 frac,
                                                            u64 exp_max, u64 quiet) {
  if (exp == exp_max) return frac == 0 ? (sign ? 1u << 0 : 1u << 7) : (frac & quiet) ? 1u << 9 : 1u << 8;
  if (exp == 0) return frac == 0 ? (sign ? 1u << 3 : 1u << 4) : (sign ? 1u << 2 : 1u << 5);
  return sign ? 1u << 1 : 1u << 6;
}
OP(FCLASS_D, fclass_bits(FRS1 >> 63, (FRS1 >> 52) & 0x7ff, FRS1 & ((1ul << 52) - 1), 0x7ff,
                         1ul << 51))
STENCIL(FCLASS_S) {
  u32 v = fbits(FS1);
  RD = fclass_bits(v >> 31, (v >> 23) & 0xff, v & ((1u << 23) - 1), 0xff, 1u << 22);
  CONTINUE();
}
