/* SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception */
/* The contract between the sandbox's translated code and the sandbox: the context block the
 * translated blocks read the memory map from and leave their exit through, and the exit kinds.
 * Included by the stencils (src/sandbox/jit/rv_stencils.c, C compiled by clang at build time)
 * and by the translator (translator.cpp, C++); both sides must agree on every offset, which
 * translator.cpp checks with static_asserts. */
#ifndef TIERJIT_SANDBOX_JIT_RV_JIT_ABI_H
#define TIERJIT_SANDBOX_JIT_RV_JIT_ABI_H
#include <stdint.h>

/* Why translated code returned to the sandbox (the return value of the entry trampoline). */
enum {
  TJ_RV_EXIT_BUDGET = 1, /* a block needs more instructions than are left: interpret the rest */
  TJ_RV_EXIT_INTERP = 2, /* exit_pc is an instruction the interpreter runs (or faults on) */
  TJ_RV_EXIT_LINK = 3,   /* a direct jump to exit_pc, not yet translated; exit_id names the site */
  TJ_RV_EXIT_MISS = 4,   /* an indirect jump to exit_pc (in text), not yet translated */
  TJ_RV_EXIT_FP = 5      /* a block with floating point at exit_pc needs the host FPU set up */
};

/* One per sandbox. Bounds mirror the interpreter's CAN_READ/CAN_WRITE (rv_interp.cpp) in
 * offset-and-size form, so a check is one subtraction and one comparison per region:
 * a stack access [a, a+n) is allowed when a - stack_lo <= stack_size - n, and so on. */
struct tj_rv_ctx {
  uint64_t stack_lo, stack_size; /* [stack_lo, memory end): readable and writable */
  uint64_t read_lo, read_size;   /* [ro_lo, heap_hi): readable */
  uint64_t write_lo, write_size; /* [rw_lo, heap_hi): writable */
  uint64_t text_lo, text_size;   /* [exec_lo, exec_hi): executable */
  void* const* table;            /* translated block per 2-byte text position, or null */
  uint64_t exit_pc;              /* set by every exit */
  int64_t left;                  /* instructions left in the budget, set by every exit */
  uint32_t exit_id;              /* TJ_RV_EXIT_LINK: the link site */
  uint32_t fp_ready;             /* MXCSR holds round-to-nearest and no stale flags */
  uint32_t soft_flags;           /* fflags bits set by hand (signaling compares, conversions) */
  uint32_t pad;
};

#endif
