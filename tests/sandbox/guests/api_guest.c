/* Guest for the embedding API tests (tests/unit/sandbox_test.cpp): functions the host calls
 * with vmcall, host calls in both directions, and state that reset() must restore. */
#include <stdint.h>
#include <string.h>

#include "tierjit_guest.h"

static long counter;

TJ_EXPORT long add4(long a, long b, long c, long d) { return a + b * 2 + c * 3 + d * 4; }
TJ_EXPORT void take4(long a, long b, long c, long d) { (void)a, (void)b, (void)c, (void)d; }
TJ_EXPORT double scale(double x, float y) { return x * y; }
TJ_EXPORT long sum_bytes(const unsigned char* p, long n) {
  long s = 0;
  for (long i = 0; i < n; ++i) s += p[i];
  return s;
}
TJ_EXPORT long bump(void) { return ++counter; }
TJ_EXPORT long say(const char* s) { return tj_print(s, strlen(s)); }
TJ_EXPORT long say_bad_pointer(void) { return tj_print((const char*)0x10, 5); }
TJ_EXPORT long call_unregistered(void) { return tj_host_call(577, 1, 2, 3, 4); }
TJ_EXPORT long spin(void) {
  for (volatile long i = 0;; ++i) {
  }
}
/* Loads from `p` and stores `v` there: the guard-page tests aim it at memory the map refuses. */
TJ_EXPORT long load_at(const volatile long* p) { return *p; }
TJ_EXPORT void store_at(volatile long* p, long v) { *p = v; }
TJ_EXPORT long ctzw_of(unsigned long x) {
  long r;
  __asm__("ctzw %0, %1" : "=r"(r) : "r"(x));
  return r;
}

int main(void) { return 5; }
