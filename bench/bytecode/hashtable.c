// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// hashtable.tjasm in C.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
static uint64_t slots[1 << 21];
int main(int argc, char** argv) {
  long n = atol(argv[1]);
  const uint64_t A = 6364136223846793005ull, C = 1442695040888963407ull,
                 H = 0x9E3779B97F4A7C15ull, mask = (1 << 20) - 1;
  uint64_t x = 7, key = 0;
  for (long i = 0; i < n; ++i) {
    x = x * A + C;
    key = x | 1;
    uint64_t h = (key * H) >> 44;
    while (slots[2 * h] && slots[2 * h] != key) h = (h + 1) & mask;
    slots[2 * h] = key;
    slots[2 * h + 1] = (uint64_t)i;
  }
  uint64_t sum = 0, hits = 0;
  x = 7;
  for (long i = 0; i < 2 * n; ++i) {
    if (i < n) {
      x = x * A + C;
      key = x | 1;
    } else {
      key += 2;
    }
    uint64_t h = (key * H) >> 44;
    while (slots[2 * h] && slots[2 * h] != key) h = (h + 1) & mask;
    if (slots[2 * h] == key) {
      sum += slots[2 * h + 1];
      ++hits;
    }
  }
  printf("%ld\n%ld\n", (long)sum, (long)hits);
  return 0;
}
