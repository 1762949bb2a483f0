// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// On-stack replacement: functions entered once (or a few times) whose loops run long, so
// that only OSR moves them out of the baseline tier. Each shape stresses one part of the
// frame transfer: phis of the header, values of an outer loop live in an inner one, stack
// arrays (allocas), floats and doubles, pointers, vectors, narrow integers, a float result,
// a loop in a recursive function, and a loop that is left and entered again.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef float v4f __attribute__((vector_size(16)));

__attribute__((noinline)) static double nested(long n) {
  double total = 0;
  for (long i = 0; i < n; i++) {
    double row = (double)i * 0.5;  // defined in the outer loop, live in the inner one
    short narrow = (short)(i * 7);
    for (long j = 0; j < 200; j++) total += row * 1e-6 + (double)(narrow ^ (short)j) * 1e-9;
  }
  return total;
}

__attribute__((noinline)) static float float_result(int n) {
  float acc = 1.0f;
  v4f v = {1, 2, 3, 4};
  for (int i = 0; i < n; i++) {
    v = v * 0.999f + (v4f){0.001f, 0.002f, 0.003f, 0.004f};
    acc = acc * 0.9999f + v[i & 3] * 1e-4f;
  }
  return acc + v[0] + v[3];
}

__attribute__((noinline)) static unsigned char bytes(const unsigned char* p, size_t n) {
  unsigned char x = 0;
  const unsigned char* end = p + n;
  for (int round = 0; round < 400; round++)
    for (const unsigned char* q = p; q < end; q++) x = (unsigned char)(x * 31 + *q + round);
  return x;
}

__attribute__((noinline)) static long recursive(int depth, long n) {
  long s = depth;
  for (long i = 0; i < n; i++) s = s * 6364136223846793005L + 1442695040888963407L;
  return depth == 0 ? s : s ^ recursive(depth - 1, n / 2);
}

__attribute__((noinline)) static long phases(long n) {
  long a = 0, b = 1;
  int stack[256];
  memset(stack, 0, sizeof stack);
  for (int phase = 0; phase < 4; phase++) {
    for (long i = 0; i < n; i++) {  // left and entered again with new outer values
      stack[(i + phase) & 255] += (int)(a & 15);
      long t = a + b + phase;
      a = b;
      b = t & 0xffffffffL;
    }
  }
  long s = 0;
  for (int i = 0; i < 256; i++) s += stack[i] * (i + 1);
  return s ^ a ^ b;
}

int main(int argc, char** argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  unsigned char* buf = malloc(4096);
  for (int i = 0; i < 4096; i++) buf[i] = (unsigned char)(i * 13);
  printf("nested %.6f\n", nested(20000 * scale));
  printf("float %.4f\n", (double)float_result((int)(3000000 * scale)));
  printf("bytes %u\n", bytes(buf, 4096));
  printf("recursive %ld\n", recursive(3, 2000000 * scale));
  printf("phases %ld\n", phases(1000000 * scale));
  long sum = 0;  // main's own loop
  for (long i = 0; i < 30000000 * scale; i++) sum += (i ^ (i >> 3)) & 0xff;
  printf("main %ld\n", sum);
  free(buf);
  return 0;
}
