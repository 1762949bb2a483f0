// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// matmul.tjasm in C.
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char** argv) {
  long n = atol(argv[1]);
  double* a = malloc(n * n * sizeof(double));
  double* b = malloc(n * n * sizeof(double));
  double* c = malloc(n * n * sizeof(double));
  for (long i = 0; i < n; ++i)
    for (long j = 0; j < n; ++j) {
      a[i * n + j] = (double)(i + j);
      b[i * n + j] = (double)(i - j);
    }
  for (long i = 0; i < n; ++i)
    for (long j = 0; j < n; ++j) {
      double s = 0;
      for (long k = 0; k < n; ++k) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
  double sum = 0;
  for (long i = 0; i < n * n; ++i) sum += c[i];
  printf("%.17g\n", sum);
  return 0;
}
