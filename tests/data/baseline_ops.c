// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Exercises what the baseline tier compiles: integers of every width (sign and zero
// extension, division, shifts, overflow and bit intrinsics), floating point, conversions,
// dense and sparse switches, phi cycles, selects, calls with stack arguments and mixed
// register classes, variadic callees, function pointers, atomics, memcpy/memset and frame
// objects. Prints one line per check; compared with the native build of the same file.
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
static volatile int sink;

NOINLINE static int64_t widths(int8_t a, int16_t b, int32_t c, uint8_t d, uint16_t e) {
  int32_t s = a * 3 + b - c / 7;
  uint32_t u = (uint32_t)d * e + (e >> 3);
  int64_t w = (int64_t)a * b * c;
  int16_t n = (int16_t)(b * 3);
  return s ^ (int64_t)u ^ w ^ n ^ (int8_t)(a + 100) ^ (uint16_t)(e + 60000);
}

NOINLINE static uint64_t divs(int64_t a, int64_t b, uint32_t c, uint32_t d) {
  return (uint64_t)(a / b) + (uint64_t)(a % b) + c / d + c % d + (uint64_t)((int32_t)c >> 3) +
         ((uint64_t)a >> 17) + ((uint64_t)a << 9);
}

NOINLINE static int bits(uint32_t x, uint64_t y) {
  int r = __builtin_clz(x | 1) + __builtin_ctz(x | 0x80000000u) + __builtin_popcount(x) +
          __builtin_clzll(y | 1) + __builtin_ctzll(y | (1ull << 63)) + __builtin_popcountll(y);
  r += (int)(__builtin_bswap32(x) >> 24) + (int)(__builtin_bswap64(y) >> 56);
  r += (int)((x << 5) | (x >> 27)) & 0xff;  // rotate
  int ov;
  if (__builtin_add_overflow((int)x, 0x7fffff00, &ov)) r += 1000;
  if (__builtin_mul_overflow(y, 3ull, &y)) r += 2000;
  return r + abs((int)x - 5000000) % 977;
}

NOINLINE static double fp(double a, float b, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += a * i - b / (i + 1) + (float)i * b;
  float f = (float)s;
  s += f < 0 ? -f : f;
  s += (double)(int64_t)(s * 3) + (double)(uint64_t)(a * 1e10) + (unsigned)b;
  return s > 1e300 ? 0 : s;
}

NOINLINE static const char* sparse(int x) {
  switch (x) {
    case -7: return "minus seven";
    case 3: return "three";
    case 1000: return "thousand";
    case 123456789: return "big";
    default: return "other";
  }
}

NOINLINE static int dense(unsigned op, int acc) {
  switch (op % 12) {
    case 0: return acc + 1;
    case 1: return acc * 3;
    case 2: return acc - 7;
    case 3: return acc ^ 0x55;
    case 4: return acc << 1;
    case 5: return acc >> 1;
    case 6: return -acc;
    case 7: return acc & 0xfff;
    case 8: return acc | 3;
    case 9: return acc / 3;
    case 10: return acc % 1000;
    default: return acc + 11;
  }
}

NOINLINE static uint64_t phis(int n) {  // a rotating triple: phi copies read each other
  uint64_t a = 1, b = 2, c = 3;
  for (int i = 0; i < n; i++) {
    uint64_t t = a;
    a = b;
    b = c;
    c = t + (i & 1 ? b : a);
  }
  return a * 31 + b * 7 + c;
}

NOINLINE static int64_t many(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f,
                             int64_t g, int64_t h, double x, float y, double z) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + (int64_t)(x * y + z);
}

NOINLINE static double vsum(int n, ...) {
  va_list ap;
  va_start(ap, n);
  double s = 0;
  for (int i = 0; i < n; i++) s += va_arg(ap, double);
  va_end(ap);
  return s;
}

struct item {
  char name[12];
  int16_t weight;
  uint8_t flags;
  double score;
};

static int by_score(const void* a, const void* b) {
  const struct item *x = a, *y = b;
  return x->score < y->score ? -1 : x->score > y->score;
}

NOINLINE static double items(int n) {
  struct item arr[16];
  memset(arr, 0, sizeof arr);
  for (int i = 0; i < n && i < 16; i++) {
    snprintf(arr[i].name, sizeof arr[i].name, "it%d", i);
    arr[i].weight = (int16_t)(i * -1000);
    arr[i].flags = (uint8_t)(i * 37);
    arr[i].score = (i * 7919) % 13 + i / 10.0;
  }
  qsort(arr, (size_t)n, sizeof arr[0], by_score);
  struct item copy;
  memcpy(&copy, &arr[n / 2], sizeof copy);
  return copy.score + copy.weight + copy.flags + strlen(copy.name);
}

NOINLINE static int atomics(int n) {
  static int counter;
  static long big;
  for (int i = 0; i < n; i++) {
    __atomic_fetch_add(&counter, i, __ATOMIC_SEQ_CST);
    __atomic_fetch_or(&big, 1L << (i % 40), __ATOMIC_RELAXED);
  }
  int expected = counter;
  __atomic_compare_exchange_n(&counter, &expected, expected + 1, 0, __ATOMIC_SEQ_CST,
                              __ATOMIC_SEQ_CST);
  __atomic_store_n(&big, big ^ 0x1234, __ATOMIC_SEQ_CST);
  return counter + (int)(big % 100000) + __atomic_exchange_n(&counter, 0, __ATOMIC_ACQ_REL);
}

// Vectors are compiled lane by lane.
typedef int v4si __attribute__((vector_size(16)));
typedef unsigned char v8qu __attribute__((vector_size(8)));
NOINLINE static int vec(int n) {
  v4si a = {n, n + 1, n + 2, n + 3}, b = {1, 2, -3, 4};
  v4si c = a * b + a;
  v4si d = __builtin_shufflevector(c, a, 7, 2, 0, 5);
  v4si m = c > d;
  v4si sel = n & 1 ? c : d;  // a vector select on a scalar condition
  int s = sel[0] + sel[1] + sel[2] + sel[3];
  v8qu q = {1, 2, 3, 250, 5, 6, 7, (unsigned char)n};
  q = q + q;
  for (int i = 0; i < 8; i++) s += q[i];
  return c[0] + c[1] + c[2] + c[3] + d[0] - d[3] + m[1] + m[2] + s;
}

// 128-bit integers are not covered by the baseline tier: this function falls back to LLVM.
NOINLINE static unsigned long long wide(unsigned long long a, unsigned long long b) {
  unsigned __int128 p = (unsigned __int128)a * b;
  return (unsigned long long)(p >> 64) ^ (unsigned long long)p;
}

// A loop the vectorizer turns into vector code at -O2.
NOINLINE static unsigned sum_bytes(const unsigned char* p, int n) {
  unsigned s = 0;
  for (int i = 0; i < n; i++) s += p[i] * 3u;
  return s;
}

typedef int (*op_fn)(unsigned, int);

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  printf("widths %lld %lld\n", (long long)widths(-5, -300, 100000, 200, 65000),
         (long long)widths(127, 32767, -7, 0, 1));
  printf("divs %llu\n", (unsigned long long)divs(-1234567891234LL, 97, 4000000000u, 13));
  printf("bits %d %d\n", bits(0xdeadbeef, 0x0123456789abcdefULL), bits(n, (uint64_t)n << 40));
  printf("fp %.6f\n", fp(1.25, -0.5f, n));
  for (int x = -8; x < 5; x++) printf("sparse %d %s\n", x, sparse(x));
  printf("sparse %s %s\n", sparse(1000), sparse(123456789));
  op_fn op = dense;
  int acc = 17;
  for (int i = 0; i < n; i++) acc = op((unsigned)i * 2654435761u, acc);
  printf("dense %d\n", acc);
  printf("phis %llu\n", (unsigned long long)phis(n));
  printf("many %lld\n", (long long)many(1, -2, 3, -4, 5, -6, 7, -8, 1.5, 2.5f, -3.25));
  printf("vsum %.3f %d %s\n", vsum(4, 1.0, 2.5, -3.0, 4.25), n, "ok");
  printf("items %.2f\n", items(n % 16 + 1));
  printf("atomics %d\n", atomics(n));
  printf("vec %d\n", vec(n));
  printf("wide %llu\n", wide(0x123456789abcdefULL * (unsigned)n, 0xfedcba987654321ULL));
  unsigned char bytes[300];
  for (int i = 0; i < 300; i++) bytes[i] = (unsigned char)(i * 7 + n);
  printf("sum_bytes %u\n", sum_bytes(bytes, 300 - n % 7));
  sink = n;
  return acc & 0x3f;
}
