/* SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception */
/* The contract between the sandbox's translated code and the sandbox: the context block the
 * translated blocks read the memory map from and leave their exit through, and the exit kinds.
 * Included by the stencils (src/sandbox/jit/rv_stencils.c, C compiled by clang at build time)
 * and by the translator (translator.cpp, C++); both sides must agree on every offset, which
 * translator.cpp checks with static_asserts. */
#ifndef TIERJIT_SANDBOX_JIT_RV_JIT_ABI_H
#define TIERJIT_SANDBOX_JIT_RV_JIT_ABI_H
#include <stdint.h>

/* How translated code leaves: every exit site stores its id and jumps to the common exit of
 * its code region, which stores the pinned registers and the budget back and returns. The id
 * indexes the translator's exit table (kind, guest pc, budget refund); id 0 is an indirect
 * jump whose target (exit_pc) has no translation yet. */
enum {
  TJ_RV_EXIT_BUDGET = 1, /* a block needs more instructions than are left: interpret the rest */
  TJ_RV_EXIT_INTERP = 2, /* the interpreter runs the instruction at pc (or faults on it) */
  TJ_RV_EXIT_LINK = 3,   /* a direct jump to pc, not yet translated: translate, patch the jump */
  TJ_RV_EXIT_MISS = 4,   /* an indirect jump to exit_pc (in text), not yet translated */
  TJ_RV_EXIT_FP = 5      /* a block with floating point at pc needs the host FPU set up */
};
#define TJ_RV_EXIT_ID_MISS 0u

/* One per sandbox. Bounds mirror the interpreter's CAN_READ/CAN_WRITE (rv_interp.cpp) in
 * offset-and-limit form, so a check is a subtraction and a comparison per region: an access
 * [a, a+n) to the stack is allowed when a - stack_lo <= stack_limit[log2 n], where
 * stack_limit[k] = (memory end - stack_lo) - 2^k; likewise for the readable and writable
 * ranges below the heap's end. */
struct tj_rv_ctx {
  uint64_t stack_lo, read_lo, write_lo;
  uint64_t stack_limit[4], read_limit[4], write_limit[4];
  /* With guard pages (the host's page protections mirror the map, so an access the map refuses
   * faults): an access [a, a+n) only has to lie in the address space, a <= space_limit[log2 n]
   * = memory end - 2^k. */
  uint64_t space_limit[4];
  uint64_t text_lo, text_size; /* [exec_lo, exec_hi): executable */
  void* const* table;          /* translated block per 2-byte text position, or null */
  uint64_t exit_pc;            /* TJ_RV_EXIT_ID_MISS, a JALR out of text: the jump target */
  int64_t left;                /* instructions left in the budget, set by the common exit */
  uint32_t exit_id;            /* set by every exit site */
  uint32_t fp_ready;           /* MXCSR holds round-to-nearest and no stale flags */
  uint32_t soft_flags;         /* fflags bits set by hand (signaling compares, conversions) */
  uint32_t pad;
};

#endif
