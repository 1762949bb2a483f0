// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* The bytecode semantics as LLVM bitcode for tier 2: one function per opcodes.def row, the
 * same EXPR the interpreter and the stencils use. Compiled by clang-22 at build time, embedded,
 * linked into each translated module and inlined (bytecode_jit.cpp). */
#include "bytecode/abi.h"
#include "bytecode/semantics.h"

#define TJ_OP(NAME, MN, KIND, W, VAR, EXPR) TJ_B_##KIND(NAME, W, EXPR)
#define TJ_B_BIN(N, W, E) u64 tj_sem_##N(u64 a, u64 b) { return (E); }
#define TJ_B_BINZ TJ_B_BIN
#define TJ_B_BINI TJ_B_BIN
#define TJ_B_LDI(N, W, E) u64 tj_sem_##N(u64 a, u64 b) { (void)a; return (E); }
#define TJ_B_UN(N, W, E) u64 tj_sem_##N(u64 a, u64 b) { (void)b; return (E); }
#define TJ_B_LD(N, W, E) u64 tj_sem_##N(u64 v, u64 b) { (void)b; return (E); }
#define TJ_B_BR2(N, W, E) u64 tj_sem_##N(u64 a, u64 b) { return (u64)(E); }
#define TJ_B_BR1(N, W, E) u64 tj_sem_##N(u64 a, u64 b) { (void)b; return (u64)(E); }
#define TJ_B_NONE(N, W, E)
#define TJ_B_ST TJ_B_NONE
#define TJ_B_JMP TJ_B_NONE
#define TJ_B_SEL TJ_B_NONE
#define TJ_B_CALL TJ_B_NONE
#define TJ_B_CALLR TJ_B_NONE
#define TJ_B_HCALL TJ_B_NONE
#define TJ_B_RET TJ_B_NONE
#define TJ_B_HALT TJ_B_NONE
#define TJ_B_TRAP TJ_B_NONE
#define TJ_B_FENCE TJ_B_NONE
#define TJ_B_CAS TJ_B_NONE
#define TJ_B_XCHG TJ_B_NONE
#define TJ_B_XADD TJ_B_NONE
#include "bytecode/opcodes.def"
