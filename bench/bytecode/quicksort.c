// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// quicksort.tjasm in C.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
static void qs(int64_t* lo, int64_t* hi) {
  if (lo >= hi) return;
  int64_t pivot = *hi, *i = lo - 1;
  for (int64_t* j = lo; j < hi; ++j)
    if (!(pivot < *j)) {
      ++i;
      int64_t t = *i; *i = *j; *j = t;
    }
  ++i;
  int64_t t = *i; *i = *hi; *hi = t;
  qs(lo, i - 1);
  qs(i + 1, hi);
}
int main(int argc, char** argv) {
  long n = atol(argv[1]);
  int64_t* a = malloc(n * sizeof(int64_t));
  uint64_t x = 42;
  for (long i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    a[i] = (int64_t)(x >> 1);
  }
  qs(a, a + n - 1);
  uint64_t sum = 0;
  for (long i = 1; i < n; ++i) {
    if (a[i] < a[i - 1]) abort();
    sum += (uint64_t)a[i] ^ (uint64_t)i;
  }
  printf("%ld\n", (long)sum);
  return 0;
}
