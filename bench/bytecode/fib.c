// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// fib.tjasm in C (bench/bytecode: the same algorithms for the clang -O2 comparison).
#include <stdio.h>
#include <stdlib.h>
static long fib(long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
int main(int argc, char** argv) { printf("%ld\n", fib(atol(argv[1]))); return 0; }
