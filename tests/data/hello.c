/* Whole-program semantics: constructors, destructors, argv, function pointers, exit status. */
#include <stdio.h>
#include <stdlib.h>

static int base;
__attribute__((constructor(200))) static void second(void) { base = base * 10 + 2; }
__attribute__((constructor(101))) static void first(void) { base = 1; }
__attribute__((destructor)) static void bye(void) { printf("destructor ran\n"); }

static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
long (*volatile fib_ptr)(int) = fib;

int main(int argc, char **argv) {
  printf("ctors %d\n", base);
  for (int i = 1; i < argc; i++) printf("arg %d %s\n", i, argv[i]);
  printf("fib(24) %ld\n", fib_ptr(24));
  return argc > 1 ? atoi(argv[1]) : 0;
}
