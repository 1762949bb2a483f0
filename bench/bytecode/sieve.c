// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// sieve.tjasm in C.
#include <stdio.h>
#include <stdlib.h>
static unsigned char flags[16 << 20];
int main(int argc, char** argv) {
  long n = atol(argv[1]), count = 0;
  for (long i = 2; i < n; ++i) {
    if (flags[i]) continue;
    ++count;
    for (long j = i * i; j < n; j += i) flags[j] = 1;
  }
  printf("%ld\n", count);
  return 0;
}
