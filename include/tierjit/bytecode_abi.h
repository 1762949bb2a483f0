// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* The execution ABI shared by every bytecode tier: the interpreter (C++), the copy-and-patch
 * stencils (C, clang-22), the LLVM translation (offsets of TjCtx fields) and objects written
 * by `tierjit compile prog.tjasm -o prog.o`. C-compatible. docs/ISA.md describes the model.
 *
 * Calling an AOT object from C (see tests/cli/bytecode_aot.c):
 *   TjCtx ctx = {0};  ctx.mem = mem; ctx.mem_size = size;   (size >= the module's .memory)
 *   ctx.fuel = UINT64_MAX; ctx.max_depth = 10000;   (fuel is the tick budget)
 *   ctx.reg_limit = regs + nregs;    (register stack: 256 * max_depth u64s is always enough)
 *   ctx.host_call = my_host_call;    (only if the module imports host functions)
 *   tj_init_memory(mem);             (the data segments)
 *   regs[0] = arg0; ...; uint64_t v = tj_NAME(&ctx, regs);
 *   if (ctx.status) ...              (TJ_HALTED: exit code in trap_code; else a trap kind)
 */
#ifndef TIERJIT_BYTECODE_ABI_H
#define TIERJIT_BYTECODE_ABI_H
#include <stdint.h>

/* Why execution stopped. 0 while running; set once, then every frame returns to the host. */
enum TjStatus {
  TJ_RUNNING = 0,
  TJ_HALTED = 1,              /* `halt`: trap_code holds the exit status */
  TJ_TRAP_OUT_OF_BOUNDS = 2,  /* a load/store/atomic outside the linear memory */
  TJ_TRAP_DIV_BY_ZERO = 3,    /* div/divu/rem/remu with a zero divisor */
  TJ_TRAP_STACK_OVERFLOW = 4, /* call depth or register stack exhausted */
  TJ_TRAP_BUDGET = 5,         /* instruction budget (ticks) exhausted */
  TJ_TRAP_BAD_CALL = 6,       /* callr: index out of range or argument count mismatch */
  TJ_TRAP_MISALIGNED = 7,     /* atomic on an address that is not 8-byte aligned */
  TJ_TRAP_USER = 8,           /* `trap imm`: trap_code holds imm */
  TJ_TRAP_HOST = 9,           /* a host function refused its arguments */
};

struct TjCtx;

/* Every compiled function (stencil chain, LLVM tier, interpreter thunk) has this signature,
 * with clang's preserve_none convention: `r` is the function's register frame (its arguments
 * are r[0..nargs)), `mem`/`mem_size` the linear memory. Returns the function's result; when
 * ctx->status != 0 on return the value is meaningless and the caller returns at once. */
#if defined(__clang__) && (defined(__x86_64__) || defined(__aarch64__))
#define TJ_PRESERVE_NONE __attribute__((preserve_none))
#else
#define TJ_PRESERVE_NONE /* host code never calls it directly: see TjEnterFn */
#ifdef __cplusplus
extern "C" {
#endif
/* Entry points of AOT objects (`tierjit compile X.tjasm -o X.o`): one per function. */
void tj_init_memory(uint8_t* mem);
#ifdef __cplusplus
}
#endif

#endif
typedef uint64_t(TJ_PRESERVE_NONE* TjFn)(struct TjCtx* ctx, uint64_t* r, uint8_t* mem,
                                         uint64_t mem_size);
/* The C-ABI shim (a stencil) through which host code calls a TjFn. */
typedef uint64_t (*TjEnterFn)(struct TjCtx* ctx, uint64_t* r, uint8_t* mem, uint64_t mem_size,
                              void* fn);

typedef struct TjCtx {
  uint64_t status;    /* enum TjStatus */
  uint64_t trap_code; /* exit status (halt) or user trap code */
  uint32_t trap_fn;   /* function index and byte pc of the trapping instruction */
  uint32_t trap_pc;
  uint64_t fuel; /* ticks left in the current window (function entries + backward branches) */
  uint64_t fuel_reserve; /* ticks beyond the window; fuel + fuel_reserve = budget left */
  /* Called by a tick that finds fuel == 0 (C ABI): refills the window from the reserve and
   * returns 0, or returns 1 when the budget is exhausted (the tick then traps). The engine
   * also attributes the finished window to `fn` as heat (sampled profiling). NULL = no
   * budget: the tick traps. */
  uint64_t (*refuel)(struct TjCtx* ctx, uint64_t fn);
  uint64_t depth; /* current call depth */
  uint64_t max_depth;
  uint64_t* reg_limit;       /* end of the register stack */
  void** cells;              /* entry cells: TjFn per function, swapped atomically on tier-up */
  uint64_t* heat;            /* per-function calls + backward branches */
  uint64_t hot_threshold;    /* compiled code calls `hot` when heat reaches it exactly */
  uint64_t interp_threshold; /* the interpreter calls `hot` when heat reaches it exactly */
  uint8_t* mem;
  uint64_t mem_size;
  /* C ABI callbacks into the engine. */
  void (*hot)(struct TjCtx* ctx, uint64_t fn);
  uint64_t (*host_call)(struct TjCtx* ctx, uint64_t import, uint64_t* args, uint64_t nargs);
  uint64_t (*interp_call)(struct TjCtx* ctx, uint64_t fn, uint64_t* r);
  uint64_t (*indirect_call)(struct TjCtx* ctx, uint64_t fn_index, uint64_t nargs, uint64_t* r);
  uint32_t* nargs_of; /* per-function argument count (callr checks it) */
  uint64_t num_functions;
  void* engine; /* the Instance (opaque to compiled code) */
  void* vm;     /* the tiering VM, when there is one */
} TjCtx;

#ifdef __cplusplus
extern "C" {
#endif
/* Entry points of AOT objects (`tierjit compile X.tjasm -o X.o`): one per function. */
void tj_init_memory(uint8_t* mem);
#ifdef __cplusplus
}
#endif

#endif
