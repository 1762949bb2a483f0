/* A guest exercising the C library and the ABI: formatted output of integers and floats,
 * the heap, qsort, strings, setjmp/longjmp, math, 128-bit and long double arithmetic. Its
 * output must be identical natively, in the tierjit sandbox and under qemu-riscv64. */
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void* a, const void* b) {
  int x = *(const int*)a, y = *(const int*)b;
  return (x > y) - (x < y);
}

static jmp_buf env;
static void thrower(int depth) {
  if (depth == 0) longjmp(env, 42);
  thrower(depth - 1);
}

int main(int argc, char** argv) {
  printf("argc=%d", argc);
  for (int i = 1; i < argc; ++i) printf(" [%s]", argv[i]);
  printf("\n");
  uint64_t seed = 12345;
  int* v = malloc(1000 * sizeof *v);
  for (int i = 0; i < 1000; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    v[i] = (int)(seed >> 33) % 100000;
  }
  qsort(v, 1000, sizeof *v, cmp);
  printf("sorted: %d %d %d %d\n", v[0], v[1], v[500], v[999]);
  free(v);
  char buf[64];
  snprintf(buf, sizeof buf, "%s-%05d-%x-%.3e", "fmt", 42, 0xbeef, 12345.678);
  printf("%s len=%zu\n", buf, strlen(buf));
  double acc = 0;
  for (int i = 1; i <= 100; ++i) acc += sin(i) * exp(-i / 50.0) + sqrt(i) + log(i) + pow(1.01, i);
  printf("math: %.12f %.6f %.6f\n", acc, atan2(1.0, 3.0), cbrt(27.5));
  float f = 1.0f;
  for (int i = 0; i < 50; ++i) f = f * 1.1f + 0.3f;
  printf("float: %.6g %d\n", f, (int)(f / 7));
  __int128 big = (__int128)0x123456789abcdefull * 0xfedcba987654321ull;
  printf("int128: %llx %llx\n", (unsigned long long)(big >> 64), (unsigned long long)big);
  volatile long double ld = 1.0L / 3.0L; /* soft-float quad on riscv64 (libgcc) */
  ld = ld * 3.0L - 1.0L / 7.0L;
  printf("long double: %.15f\n", (double)ld); /* picolibc's printf has no %Lf */
  int r = setjmp(env);
  if (r == 0) thrower(10);
  printf("longjmp: %d\n", r);
  unsigned h = 2166136261u;
  for (int i = 0; i < 100000; ++i) h = (h ^ (unsigned)i) * 16777619u;
  printf("fnv: %08x\n", h);
  return argc == 1 ? 0 : 7;
}
