/* One load or store (the instruction named by -DINSN, e.g. -DINSN=\"ld\", through register
 * REG: x or f) to a place the memory map refuses, chosen by argv[1]: "hole" (above the heap,
 * never mapped), "straddle" (the last bytes of the heap and the first of the hole), "null",
 * "text" (stores only), or "ok" (the heap, allowed). Many values are live across the access, so
 * a fault must leave every register as the interpreter would. Built once per instruction;
 * tests/cli/sandbox.sh runs each in both tiers (rv_tier_diff), where translated code meets
 * the fault at a guard page. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile uint64_t seed[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

int main(int argc, char** argv) {
  const char* where = argc > 1 ? argv[1] : "ok";
  uintptr_t brk_end = ((uintptr_t)sbrk(0) + 4095) & ~(uintptr_t)4095; /* the heap's last page */
  uintptr_t at = brk_end - 64;
  if (!strcmp(where, "hole")) at = brk_end + 3 * 4096 + 8;
  if (!strcmp(where, "straddle")) at = brk_end - 2;
  if (!strcmp(where, "null")) at = 16;
  if (!strcmp(where, "text")) at = (uintptr_t)&main;
  uint64_t a = seed[0], b = seed[1], c = seed[2], d = seed[3], e = seed[4], f = seed[5];
  uint64_t g = seed[6], h = seed[7], i = seed[8], j = seed[9], k = seed[10], l = seed[11];
  uint64_t v = a * b + c;
  double fv = (double)d;
#if REG == 'f'
  __asm__ volatile(INSN " %0, 0(%1)" : "+f"(fv) : "r"(at) : "memory");
#else
  __asm__ volatile(INSN " %0, 0(%1)" : "+r"(v) : "r"(at) : "memory");
#endif
  printf("%llu %g\n", (unsigned long long)(v + a + b + c + d + e + f + g + h + i + j + k + l),
         fv);
  return 0;
}
