// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// A whole program for warm-image runs: constructor, arguments, environment, an atexit
// handler, exit() from a nested call, and a look at its own address space: it prints how many
// mappings belong to LLVM or to the tierjit engine (0 natively and from a warm image).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_ctor;
__attribute__((constructor)) static void init(void) { g_ctor = 42; }
static void bye(void) { printf("atexit handler, ctor %d\n", g_ctor); }

static int llvm_mappings(void) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (!f) return -1;
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof line, f))
    if (strstr(line, "LLVM") || strstr(line, "tierjit-engine")) n++;
  fclose(f);
  return n;
}

__attribute__((noinline)) static void leave(int status) { exit(status); }

static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(int argc, char** argv) {
  atexit(bye);
  for (int i = 1; i < argc; i++) printf("arg %d: %s\n", i, argv[i]);
  const char* v = getenv("WARM_IMAGE_TEST");
  printf("env %s\n", v ? v : "(unset)");
  printf("fib %ld\n", fib(argc + 20));
  printf("llvm mappings %d\n", llvm_mappings());
  fflush(stdout);
  leave(argc + 4);
  return 0;
}
