/* Hostile guest: allocates until the heap is exhausted; malloc must fail cleanly inside the
 * guest's memory limit, and the guest exits normally. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static char* volatile keep; /* keeps every block alive (the compiler may drop unused ones) */
int main(void) {
  size_t total = 0;
  for (;;) {
    char* p = malloc(1 << 20);
    if (!p) break;
    memset(p, 0xab, 1 << 20);
    *(char**)p = keep;
    keep = p;
    total += 1 << 20;
  }
  printf("heap exhausted after %zu MiB\n", total >> 20);
  return 0;
}
