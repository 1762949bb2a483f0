// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// GNU labels as values: a bytecode interpreter dispatching through a function-local static
// table (the common shape: each compiled body gets its own copy, so the function tiers up
// mid-run), and a resumable state machine that keeps a label address in a global across
// calls (its one body must stay for the run: a label taken at one tier is jumped to later),
// and a table whose address is published in a global (compiled once, with the data).
#include <stdio.h>
#include <stdlib.h>

enum { OP_PUSH, OP_ADD, OP_MUL, OP_DUP, OP_SWAP, OP_DEC_JNZ, OP_DROP, OP_HALT };

static long interpret(const int* code, long x) {
  static void* dispatch[] = {&&push, &&add, &&mul, &&dup, &&swap, &&dec_jnz, &&drop, &&halt};
  long stack[16];
  int sp = 0;
  const int* pc = code;
  stack[sp++] = x;
#define NEXT goto* dispatch[*pc++]
  NEXT;
push:
  stack[sp++] = *pc++;
  NEXT;
add:
  sp--;
  stack[sp - 1] += stack[sp];
  NEXT;
mul:
  sp--;
  stack[sp - 1] = (stack[sp - 1] * stack[sp]) % 1000003;
  NEXT;
dup:
  stack[sp] = stack[sp - 1];
  sp++;
  NEXT;
swap: {
  long t = stack[sp - 1];
  stack[sp - 1] = stack[sp - 2];
  stack[sp - 2] = t;
  NEXT;
}
dec_jnz:  // counter below the top: decrement, jump back by the operand while non-zero
  if (--stack[sp - 2] != 0) {
    pc += *pc;
    NEXT;
  }
  pc++;
  NEXT;
drop:
  sp--;
  NEXT;
halt:
  return stack[sp - 1];
#undef NEXT
}

// A generator: each call resumes where the last one stopped.
void* g_resume;
static int g_i;
static int next_value(void) {
  if (g_resume) goto* g_resume;
  for (g_i = 0;; g_i++) {
    g_resume = &&yield_square;
    return g_i * g_i;
  yield_square:
    g_resume = &&yield_cube;
    return g_i * g_i * g_i;
  yield_cube:;
  }
}

const void* const* g_published;
static int classify(int v) {
  static const void* const table[] = {&&zero, &&small, &&big};
  if (!g_published) g_published = table;
  goto* table[v == 0 ? 0 : v < 100 ? 1 : 2];
zero:
  return 7;
small:
  return v * 3;
big:
  return v / 3;
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 2000;
  // counter=50, acc: loop { acc = acc*3 + 7 }
  static const int prog[] = {OP_PUSH, 50, OP_SWAP, OP_PUSH, 3, OP_MUL, OP_PUSH, 7, OP_ADD,
                             OP_DEC_JNZ, -7, OP_SWAP, OP_DROP, OP_HALT};
  long total = 0;
  for (int r = 0; r < rounds; r++) total = (total + interpret(prog, r)) % 1000000007;
  long gen = 0;
  for (int r = 0; r < rounds; r++) gen += next_value();
  long cls = 0;
  for (int r = 0; r < rounds; r++) cls += classify(r % 300);
  printf("interpreter %ld generator %ld classify %ld published %d\n", total, gen, cls,
         g_published != 0);
  return 0;
}
