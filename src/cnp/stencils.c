// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* Copy-and-patch stencils: one C function per opcode (and operand variant), compiled at build
 * time by clang-22 with pinned flags (src/cnp/CMakeLists.txt), then read by
 * tools/stencil_extract into the stencil table. Technique: Xu & Kjolstad, "Copy-and-Patch
 * Compilation", OOPSLA 2021; the same scheme as CPython's Tools/jit.
 *
 * Conventions (checked by the extractor, which fails the build on anything else):
 *  - every stencil is `tj_st_<NAME>` with clang's preserve_none convention and the TjFn
 *    signature, so ctx, r (register frame), mem and size stay in machine registers across
 *    stencils; control passes on with `musttail` to the NEXT/TARGET/TRAP holes;
 *  - holes are references to extern `TJ_HOLE_<KIND>` symbols: register byte offsets and
 *    immediates become 32-bit displacements/immediates, jumps become rel32 branches;
 *  - no data sections, no calls except through ctx's function pointers or cells. */
#define TJ_STENCIL 1
#include "bytecode/abi.h"
#include "bytecode/semantics.h"

typedef uint8_t u8;

extern char TJ_HOLE_A[], TJ_HOLE_B[], TJ_HOLE_C[], TJ_HOLE_D[], TJ_HOLE_IMM[], TJ_HOLE_FN[],
    TJ_HOLE_PC[], TJ_HOLE_KIND[], TJ_HOLE_FRAME[], TJ_HOLE_NARGS[], TJ_HOLE_NREGS[],
    TJ_HOLE_CALLEE[], TJ_HOLE_IMPORT[], TJ_HOLE_P0[], TJ_HOLE_P1[], TJ_HOLE_P2[], TJ_HOLE_P3[];
/* x0..x3 cache the function's four hottest virtual registers in machine registers across
 * stencils (write-through: the frame slot is always current, so any stencil may read the
 * frame). Entered as a 4-argument TjFn, ENTER loads them; OSR_ENTRY does for OSR.
 * fl holds the fuel window while native code runs (a memory counter would put a
 * store-to-load forward on every loop's critical path); ctx->fuel is written back before
 * anything that can observe it (calls, returns, traps, refuel) and reloaded after. */
#define TICK_OR(TRAPX)                                         \
  do {                                                         \
    if (UNLIKELY(fl == 0)) {                                   \
      ctx->fuel = 0;                                           \
      if (ctx->refuel(ctx, HOLE(FN))) TRAPX();                 \
      fl = ctx->fuel;                                          \
    }                                                          \
    fl--;                                                      \
  } while (0)
/* The loop back-edge tick: an empty window jumps to a per-site REFUEL_STUB, which refills
 * and re-runs this stencil, so the hot path makes no call and needs no stack frame. */
#define TICK_BACK()                                                    \
  do {                                                                 \
    if (UNLIKELY(fl == 0)) __attribute__((musttail)) return TJ_HOLE_REFUEL(ARGS); \
    fl--;                                                              \
  } while (0)
#define TJ_ARGS_DECL \
  TjCtx *ctx, u64 *r, u8 *mem, u64 size, u64 x0, u64 x1, u64 x2, u64 x3, u64 fl
extern u64 TJ_PRESERVE_NONE TJ_HOLE_NEXT(TJ_ARGS_DECL);
extern u64 TJ_PRESERVE_NONE TJ_HOLE_TARGET(TJ_ARGS_DECL);
extern u64 TJ_PRESERVE_NONE TJ_HOLE_TRAP(TJ_ARGS_DECL);
extern u64 TJ_PRESERVE_NONE TJ_HOLE_TRAP2(TJ_ARGS_DECL);
extern u64 TJ_PRESERVE_NONE TJ_HOLE_REFUEL(TJ_ARGS_DECL);

#define HOLE(h) ((uintptr_t)TJ_HOLE_##h)
#define REG(h) (*(u64 *)((char *)r + HOLE(h)))
#define IMM32 ((u64)(i64)(int32_t)(uint32_t)HOLE(IMM))
#define ARGS ctx, r, mem, size, x0, x1, x2, x3, fl
#define STENCIL(name) u64 TJ_PRESERVE_NONE tj_st_##name(TJ_ARGS_DECL)
#define CONTINUE() __attribute__((musttail)) return TJ_HOLE_NEXT(ARGS)
#define JUMP() __attribute__((musttail)) return TJ_HOLE_TARGET(ARGS)
#define TRAP() __attribute__((musttail)) return TJ_HOLE_TRAP(ARGS)
#define TRAP2() __attribute__((musttail)) return TJ_HOLE_TRAP2(ARGS)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- generated from opcodes.def ---------------------------------------------------------- */
#define S_BIN(NAME, EXPR)              \
  STENCIL(NAME) {                      \
    u64 a = REG(B), b = REG(C);        \
    REG(A) = (EXPR);                   \
    CONTINUE();                        \
  }
/* Checks are written `if (likely ok) { ...; CONTINUE(); } TRAP();` so clang emits a
 * conditional jump to the trap stub and ends the stencil with the jump to NEXT, which the
 * emitter removes (the next stencil follows). */
#define S_BINZ(NAME, EXPR)             \
  STENCIL(NAME) {                      \
    u64 a = REG(B), b = REG(C);        \
    if (__builtin_expect(b != 0, 1)) { \
      REG(A) = (EXPR);                 \
      CONTINUE();                      \
    }                                  \
    TRAP();                            \
  }
#define S_BINI(NAME, EXPR)             \
  STENCIL(NAME) {                      \
    u64 a = REG(B), b = IMM32;         \
    REG(A) = (EXPR);                   \
    CONTINUE();                        \
  }
#define S_UN(NAME, EXPR)               \
  STENCIL(NAME) {                      \
    u64 a = REG(B);                    \
    REG(A) = (EXPR);                   \
    CONTINUE();                        \
  }
#define S_LDI(NAME, EXPR)              \
  STENCIL(NAME) {                      \
    u64 a = REG(A), b = (uint32_t)HOLE(IMM); \
    (void)a;                           \
    REG(A) = (EXPR);                   \
    CONTINUE();                        \
  }
#define S_LD(NAME, W, EXPR)                     \
  STENCIL(NAME) {                               \
    u64 ea = REG(B) + IMM32;                    \
    if (__builtin_expect(ea <= size - (W), 1)) { \
      u64 v = 0;                                \
      __builtin_memcpy(&v, mem + ea, (W));      \
      REG(A) = (EXPR);                          \
      CONTINUE();                               \
    }                                           \
    TRAP();                                     \
  }
#define S_ST(NAME, W)                           \
  STENCIL(NAME) {                               \
    u64 ea = REG(A) + IMM32;                    \
    if (__builtin_expect(ea <= size - (W), 1)) { \
      u64 v = REG(B);                           \
      __builtin_memcpy(mem + ea, &v, (W));      \
      CONTINUE();                               \
    }                                           \
    TRAP();                                     \
  }
/* Forward branches: written `if (!cond) NEXT; TARGET;` so clang emits `jcc TARGET; jmp NEXT`
 * and the trailing jump can go. The _BACK variant (target at or before the branch) ticks the
 * fuel (one decrement; the refuel callback samples heat per window); its hot path is the
 * taken branch. */
#define S_BR(NAME, EXPR)                                                   \
  STENCIL(NAME) {                                                          \
    u64 a = REG(A), b = REG(B);                                            \
    (void)a;                                                               \
    (void)b;                                                               \
    if (!(EXPR)) CONTINUE();                                               \
    JUMP();                                                                \
  }                                                                        \
  STENCIL(NAME##_BACK) {                                                   \
    TICK_BACK();                                                           \
    u64 a = REG(A), b = REG(B);                                            \
    (void)a;                                                               \
    (void)b;                                                               \
    if (EXPR) JUMP();                                                      \
    CONTINUE();                                                            \
  }
#define S_NONE(NAME)

#define TJ_OP(NAME, MN, KIND, W, VAR, EXPR) TJ_OP_BODY(NAME, KIND, W, EXPR)
#define TJ_OP_BODY(NAME, KIND, W, EXPR) TJ_S_##KIND(NAME, W, EXPR)
#define TJ_S_BIN(N, W, E) S_BIN(N, E)
#define TJ_S_BINZ(N, W, E) S_BINZ(N, E)
#define TJ_S_BINI(N, W, E) S_BINI(N, E)
#define TJ_S_UN(N, W, E) S_UN(N, E)
#define TJ_S_LDI(N, W, E) S_LDI(N, E)
#define TJ_S_LD(N, W, E) S_LD(N, W, E)
#define TJ_S_ST(N, W, E) S_ST(N, W)
#define TJ_S_BR2(N, W, E) S_BR(N, E)
#define TJ_S_BR1(N, W, E) S_BR(N, E)
#define TJ_S_JMP(N, W, E) S_NONE(N)
#define TJ_S_SEL(N, W, E) S_NONE(N)
#define TJ_S_CALL(N, W, E) S_NONE(N)
#define TJ_S_CALLR(N, W, E) S_NONE(N)
#define TJ_S_HCALL(N, W, E) S_NONE(N)
#define TJ_S_RET(N, W, E) S_NONE(N)
#define TJ_S_HALT(N, W, E) S_NONE(N)
#define TJ_S_TRAP(N, W, E) S_NONE(N)
#define TJ_S_FENCE(N, W, E) S_NONE(N)
#define TJ_S_CAS(N, W, E) S_NONE(N)
#define TJ_S_XCHG(N, W, E) S_NONE(N)
#define TJ_S_XADD(N, W, E) S_NONE(N)
#include "bytecode/opcodes.def"
#undef TJ_OP

/* ---- control, calls, atomics ------------------------------------------------------------- */
STENCIL(JMP) { JUMP(); }
STENCIL(JMP_BACK) {
  TICK_BACK();
  JUMP();
}

STENCIL(SEL) {
  REG(A) = REG(B) ? REG(C) : REG(D);
  CONTINUE();
}

/* Callee frame starts right after the caller's (FRAME = caller nregs * 8). */
static inline u64 copy_args_and_call(TJ_ARGS_DECL, u64 callee) {
  u64 *nr = (u64 *)((char *)r + HOLE(FRAME));
  const u64 *src = (const u64 *)((char *)r + HOLE(B));
  for (u64 i = 0; i < HOLE(NARGS); ++i) {
    __asm__("" ::: "memory"); /* keep a plain loop: no memcpy call */
    nr[i] = src[i];
  }
  TjFn fn = (TjFn)__atomic_load_n(&ctx->cells[callee], __ATOMIC_ACQUIRE);
  ctx->fuel = fl;
  return fn(ctx, nr, mem, size);
}

STENCIL(CALL) {
  u64 v = copy_args_and_call(ARGS, HOLE(CALLEE));
  fl = ctx->fuel;
  if (__builtin_expect(ctx->status == 0, 1)) {
    REG(A) = v;
    CONTINUE();
  }
  return 0;
}

STENCIL(CALLR) {
  u64 idx = REG(D);
  if (UNLIKELY(idx >= ctx->num_functions || ctx->nargs_of[idx] != HOLE(NARGS))) TRAP();
  u64 v = copy_args_and_call(ARGS, idx);
  fl = ctx->fuel;
  if (__builtin_expect(ctx->status == 0, 1)) {
    REG(A) = v;
    CONTINUE();
  }
  return 0;
}

STENCIL(HCALL) {
  u64 v = ctx->host_call(ctx, HOLE(IMPORT), (u64 *)((char *)r + HOLE(B)), HOLE(NARGS));
  if (__builtin_expect(ctx->status == 0, 1)) {
    REG(A) = v;
    CONTINUE();
  }
  TRAP();
}

STENCIL(RET) {
  ctx->fuel = fl;
  ctx->depth--;
  return REG(A);
}

STENCIL(HALT) {
  ctx->fuel = fl;
  ctx->trap_code = REG(A);
  ctx->status = TJ_HALTED;
  return 0;
}

STENCIL(TRAP) {
  ctx->trap_code = (uint32_t)HOLE(IMM);
  TRAP();
}

STENCIL(FENCE) {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  CONTINUE();
}

#define ATOMIC_ADDR()                      \
  u64 ea = REG(B);                         \
  if (UNLIKELY(ea > size - 8)) TRAP();     \
  if (UNLIKELY(ea & 7)) TRAP2();           \
  u64 *p = (u64 *)(mem + ea)

STENCIL(CAS) {
  ATOMIC_ADDR();
  u64 old = REG(C), desired = REG(D);
  __atomic_compare_exchange_n(p, &old, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  REG(A) = old;
  CONTINUE();
}
STENCIL(XCHG) {
  ATOMIC_ADDR();
  REG(A) = __atomic_exchange_n(p, REG(C), __ATOMIC_SEQ_CST);
  CONTINUE();
}
STENCIL(XADD) {
  ATOMIC_ADDR();
  REG(A) = __atomic_fetch_add(p, REG(C), __ATOMIC_SEQ_CST);
  CONTINUE();
}

/* ---- function entry, trap stubs, thunks -------------------------------------------------- */
/* Prologue: stack (TRAP) and fuel (TRAP2) checks, zero r[NARGS..NREGS), heat. FRAME = nregs*8. */
STENCIL(ENTER) {
  fl = ctx->fuel; /* entered as a 4-argument TjFn: fl starts undefined */
  if (UNLIKELY(ctx->depth >= ctx->max_depth ||
               (u64 *)((char *)r + HOLE(FRAME)) > ctx->reg_limit))
    TRAP();
  ctx->depth++;
  TICK_OR(TRAP2);
  for (u64 i = HOLE(NARGS); i < HOLE(NREGS); ++i) {
    __asm__("" ::: "memory"); /* keep a plain loop: no memset call */
    r[i] = 0;
  }
  if (UNLIKELY(++ctx->heat[HOLE(FN)] == ctx->hot_threshold)) ctx->hot(ctx, HOLE(FN));
  x0 = REG(P0);
  x1 = REG(P1);
  x2 = REG(P2);
  x3 = REG(P3);
  CONTINUE();
}

/* On-stack replacement from the interpreter: load the pinned registers, go to the loop. */
STENCIL(OSR_ENTRY) {
  fl = ctx->fuel;
  x0 = REG(P0);
  x1 = REG(P1);
  x2 = REG(P2);
  x3 = REG(P3);
  JUMP();
}

/* After a frame-only stencil wrote a pinned register's slot. */
STENCIL(RELOAD_0) { x0 = REG(A); CONTINUE(); }
STENCIL(RELOAD_1) { x1 = REG(A); CONTINUE(); }
STENCIL(RELOAD_2) { x2 = REG(A); CONTINUE(); }
STENCIL(RELOAD_3) { x3 = REG(A); CONTINUE(); }

/* Refill the fuel window for a backward branch (TARGET = that branch's stencil, re-run;
 * TRAP = its budget trap stub). */
STENCIL(REFUEL_STUB) {
  ctx->fuel = 0;
  if (ctx->refuel(ctx, HOLE(FN))) TRAP();
  fl = ctx->fuel;
  JUMP();
}

/* Cold per-site stubs: record the trap and unwind (every frame returns at once). */
STENCIL(TRAP_STUB) {
  ctx->fuel = fl;
  ctx->status = HOLE(KIND);
  ctx->trap_fn = (uint32_t)HOLE(FN);
  ctx->trap_pc = (uint32_t)HOLE(PC);
  return 0;
}
/* Same, keeping the status a host function already set. */
STENCIL(TRAP_STUB_KEEP) {
  ctx->fuel = fl;
  ctx->trap_fn = (uint32_t)HOLE(FN);
  ctx->trap_pc = (uint32_t)HOLE(PC);
  return 0;
}

/* The entry cell of a function still in the interpreter. */
/* Entered as a TjFn (the caller already wrote ctx->fuel back), so fl is not ours to store. */
STENCIL(INTERP_THUNK) { return ctx->interp_call(ctx, HOLE(CALLEE), r); }

/* ---- pinned-register variants (opcodes.def rows marked V) ---------------------------------
 * tj_st_<NAME>__<a><b><c>: each operand position is m (frame slot, hole) or 0..3 (x0..x3).
 * Positions a/b/c are the instruction's a/b/c register fields as the kind uses them. */
#define GET_m(h) REG(h)
#define GET_0(h) x0
#define GET_1(h) x1
#define GET_2(h) x2
#define GET_3(h) x3
#define SET_m(h, v) REG(h) = (v)
#define SET_0(h, v) (x0 = (v), REG(h) = x0)
#define SET_1(h, v) (x1 = (v), REG(h) = x1)
#define SET_2(h, v) (x2 = (v), REG(h) = x2)
#define SET_3(h, v) (x3 = (v), REG(h) = x3)
#include "cnp/variants.h"

#define V_BIN_C(lc, lb, la, NAME, EXPR)                 \
  STENCIL(NAME##__##la##lb##lc) {                       \
    u64 a = GET_##lb(B), b = GET_##lc(C);               \
    SET_##la(A, (EXPR));                                \
    CONTINUE();                                         \
  }
#define V_BIN_B(lb, la, NAME, EXPR) LOCS_C(V_BIN_C, lb, la, NAME, EXPR)
#define V_BIN_A(la, NAME, EXPR) LOCS_B(V_BIN_B, la, NAME, EXPR)
#define V_BINI_B(lb, la, NAME, EXPR)                    \
  STENCIL(NAME##__##la##lb) {                           \
    u64 a = GET_##lb(B), b = IMM32;                     \
    SET_##la(A, (EXPR));                                \
    CONTINUE();                                         \
  }
#define V_BINI_A(la, NAME, EXPR) LOCS_B(V_BINI_B, la, NAME, EXPR)
#define V_UN_B(lb, la, NAME, EXPR)                      \
  STENCIL(NAME##__##la##lb) {                           \
    u64 a = GET_##lb(B);                                \
    SET_##la(A, (EXPR));                                \
    CONTINUE();                                         \
  }
#define V_UN_A(la, NAME, EXPR) LOCS_B(V_UN_B, la, NAME, EXPR)
#define V_LDI_A(la, NAME, EXPR)                         \
  STENCIL(NAME##__##la) {                               \
    u64 a = GET_##la(A), b = (uint32_t)HOLE(IMM);       \
    (void)a;                                            \
    SET_##la(A, (EXPR));                                \
    CONTINUE();                                         \
  }
#define V_LD_B(lb, la, NAME, W, EXPR)                   \
  STENCIL(NAME##__##la##lb) {                           \
    u64 ea = GET_##lb(B) + IMM32;                       \
    if (__builtin_expect(ea <= size - (W), 1)) {        \
      u64 v = 0;                                        \
      __builtin_memcpy(&v, mem + ea, (W));              \
      SET_##la(A, (EXPR));                              \
      CONTINUE();                                       \
    }                                                   \
    TRAP();                                             \
  }
#define V_LD_A(la, NAME, W, EXPR) LOCS_B(V_LD_B, la, NAME, W, EXPR)
#define V_ST_B(lb, la, NAME, W)                         \
  STENCIL(NAME##__##la##lb) {                           \
    u64 ea = GET_##la(A) + IMM32;                       \
    if (__builtin_expect(ea <= size - (W), 1)) {        \
      u64 v = GET_##lb(B);                              \
      __builtin_memcpy(mem + ea, &v, (W));              \
      CONTINUE();                                       \
    }                                                   \
    TRAP();                                             \
  }
#define V_ST_A(la, NAME, W) LOCS_B(V_ST_B, la, NAME, W)
#define V_BR_B(lb, la, NAME, EXPR)                                       \
  STENCIL(NAME##__##la##lb) {                                            \
    u64 a = GET_##la(A), b = GET_##lb(B);                                \
    (void)a;                                                             \
    (void)b;                                                             \
    if (!(EXPR)) CONTINUE();                                             \
    JUMP();                                                              \
  }                                                                      \
  STENCIL(NAME##_BACK__##la##lb) {                                       \
    TICK_BACK();                                                         \
    u64 a = GET_##la(A), b = GET_##lb(B);                                \
    (void)a;                                                             \
    (void)b;                                                             \
    if (EXPR) JUMP();                                                    \
    CONTINUE();                                                          \
  }
#define V_BR2_A(la, NAME, EXPR) LOCS_B(V_BR_B, la, NAME, EXPR)
#define V_BR1_A(la, NAME, EXPR) V_BR_B(m, la, NAME, EXPR)

#define TJ_V_BIN(N, W, E) LOCS_A(V_BIN_A, N, E)
#define TJ_V_BINI(N, W, E) LOCS_A(V_BINI_A, N, E)
#define TJ_V_UN(N, W, E) LOCS_A(V_UN_A, N, E)
#define TJ_V_LDI(N, W, E) LOCS_A(V_LDI_A, N, E)
#define TJ_V_LD(N, W, E) LOCS_A(V_LD_A, N, W, E)
#define TJ_V_ST(N, W, E) LOCS_A(V_ST_A, N, W)
#define TJ_V_BR2(N, W, E) LOCS_A(V_BR2_A, N, E)
#define TJ_V_BR1(N, W, E) LOCS_A(V_BR1_A, N, E)
#define TJ_VARIANTS_V(NAME, KIND, W, EXPR) TJ_V_##KIND(NAME, W, EXPR)
#define TJ_VARIANTS_N(NAME, KIND, W, EXPR)
#define TJ_OP(NAME, MN, KIND, W, VAR, EXPR) TJ_VARIANTS_##VAR(NAME, KIND, W, EXPR)
#include "bytecode/opcodes.def"
#undef TJ_OP

/* C ABI -> preserve_none: how host code calls any TjFn (TjEnterFn). */
u64 tj_st_ENTER_SHIM(TjCtx *ctx, u64 *r, u8 *mem, u64 size, void *fn) {
  return ((TjFn)fn)(ctx, r, mem, size);
}
