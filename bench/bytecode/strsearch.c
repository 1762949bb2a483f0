// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// strsearch.tjasm in C.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char** argv) {
  long n = atol(argv[1]);
  unsigned char* t = malloc(n);
  uint64_t x = 99;
  for (long i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    t[i] = (unsigned char)('a' + (x >> 62));
  }
  const char* p = "abcab";
  long count = 0;
  for (long i = 0; i <= n - 5; ++i) {
    long j = 0;
    while (j < 5 && t[i + j] == (unsigned char)p[j]) ++j;
    if (j == 5) ++count;
  }
  printf("%ld\n", count);
  return 0;
}
