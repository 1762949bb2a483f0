/* SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception */
/* What the C stencil files of the copy-and-patch tiers share (src/baseline/stencils.c,
 * src/sandbox/jit/rv_stencils.c): short integer types and the attributes every stencil uses.
 * Compiled by clang-22 with the stencil flags only; never included by C++. */
#ifndef TIERJIT_RUNTIME_STENCIL_PRELUDE_H
#define TIERJIT_RUNTIME_STENCIL_PRELUDE_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef signed char i8;
typedef short i16;
typedef int i32;
typedef long i64;

/* Stencils pass the machine state in registers from one to the next and save nothing. */
#define PN __attribute__((preserve_none))
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif
