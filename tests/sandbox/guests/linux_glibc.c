/* A Linux program as users build it: static glibc from Debian's riscv64-linux-gnu toolchain.
 * It exercises what glibc's start-up, stdio, malloc (brk and mmap), libm, qsort, time, uname,
 * file reading and exit handling ask of the system; its output is compared with
 * qemu-riscv64's. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void bye(void) { printf("atexit handler ran\n"); }

static int cmp(const void* a, const void* b) {
  int x = *(const int*)a, y = *(const int*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  atexit(bye);
  for (int i = 1; i < argc; i++) printf("arg %d: %s\n", i, argv[i]);
  printf("HOME=%s\n", getenv("HOME") ? "set" : "(unset)");

  /* malloc: small blocks from brk, large ones mmap'ed, realloc across both. */
  uint64_t sum = 0;
  char* small[1000];
  for (int i = 0; i < 1000; i++) {
    small[i] = malloc((size_t)(i % 97) + 1);
    memset(small[i], i & 0xff, (size_t)(i % 97) + 1);
  }
  for (int i = 0; i < 1000; i++) sum += (unsigned char)small[i][0], free(small[i]);
  size_t n = 4u << 20;
  unsigned char* big = malloc(n);
  for (size_t i = 0; i < n; i++) big[i] = (unsigned char)(i * 31);
  big = realloc(big, 2 * n);
  for (size_t i = 0; i < n; i += 4096) sum += big[i];
  free(big);
  void* m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 2;
  memset(m, 3, 1 << 20);
  sum += ((unsigned char*)m)[12345];
  munmap(m, 1 << 20);
  printf("malloc/mmap checksum %llu\n", (unsigned long long)sum);

  int v[10000];
  uint32_t s = 12345;
  for (int i = 0; i < 10000; i++) v[i] = (int)((s = s * 1103515245u + 12345u) >> 8);
  qsort(v, 10000, sizeof v[0], cmp);
  printf("qsort %d %d %d\n", v[0], v[5000], v[9999]);

  printf("libm %.6f %.4e %.9g %.3f\n", sqrt(2.0), exp(10.0), sin(1.0), atan2(1.0, 3.0));
  char buf[64];
  snprintf(buf, sizeof buf, "%08.3f|%-6s|%x", 3.14159, "ab", 48879);
  printf("snprintf %s strtod %.2f\n", buf, strtod("2.5e3", NULL));

  struct utsname u;
  if (uname(&u) == 0) printf("uname %s %s\n", u.sysname, u.machine);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("clock %s\n", (t1.tv_sec > t0.tv_sec || (t1.tv_sec == t0.tv_sec && t1.tv_nsec >= t0.tv_nsec)) ? "monotonic" : "broken");
  printf("time %s\n", time(NULL) > 1600000000 ? "plausible" : "wrong");

  if (argc > 1) {
    FILE* f = fopen(argv[1], "r");
    if (!f) {
      printf("fopen %s: %s\n", argv[1], strerror(errno));
    } else {
      long lines = 0, bytes = 0;
      int c;
      while ((c = fgetc(f)) != EOF) bytes++, lines += c == '\n';
      fclose(f);
      printf("read %ld bytes, %ld lines\n", bytes, lines);
    }
  }
  FILE* missing = fopen("/nonexistent/tierjit-test", "r");
  printf("missing file: %s\n", missing ? "opened?" : strerror(errno));
  fflush(stdout);
  exit(7);
}
