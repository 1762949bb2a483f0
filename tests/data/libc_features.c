// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// What ordinary C programs use, in one program whose output must match its native build at
// every tier: setjmp/longjmp across functions, constructors and destructors with priorities,
// atexit order, a signal handler that is JIT code, alloca and VLAs, varargs forwarding, long
// double, 128-bit integers, weak symbols, libc calling back into JIT code (qsort, bsearch),
// reading stdin, fork (the child runs JIT code) and exec.
#include <alloca.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static jmp_buf g_env;
static int g_depth;

__attribute__((noinline)) static void dive(int n) {
  char pad[64];
  memset(pad, n, sizeof pad);
  g_depth++;
  if (n == 0) longjmp(g_env, 42 + pad[0]);
  dive(n - 1);
}

static int try_jump(int n) {
  int r = setjmp(g_env);
  if (r == 0) {
    dive(n);
    return -1;
  }
  return r;
}

__attribute__((constructor(200))) static void ctor_late(void) { printf("ctor 200\n"); }
__attribute__((constructor(101))) static void ctor_early(void) { printf("ctor 101\n"); }
__attribute__((destructor(150))) static void dtor_mid(void) { printf("dtor 150\n"); }
__attribute__((destructor)) static void dtor_plain(void) { printf("dtor default\n"); }
static void at_exit_1(void) { printf("atexit 1\n"); }
static void at_exit_2(void) { printf("atexit 2\n"); }

static volatile sig_atomic_t g_signals;
static void on_signal(int sig) { g_signals += sig == SIGUSR1 ? 1 : 100; }

static long sum_vla(int n) {
  long vla[n];
  long* heap = alloca(n * sizeof(long));
  for (int i = 0; i < n; i++) vla[i] = i, heap[i] = 2 * i;
  long s = 0;
  for (int i = 0; i < n; i++) s += vla[i] + heap[i];
  return s;
}

static int vformat(char* out, size_t cap, const char* fmt, va_list ap) {
  return vsnprintf(out, cap, fmt, ap);
}
static int format(char* out, size_t cap, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vformat(out, cap, fmt, ap);
  va_end(ap);
  return n;
}
static double average(int n, ...) {
  va_list ap;
  va_start(ap, n);
  double s = 0;
  for (int i = 0; i < n; i++) s += va_arg(ap, double);
  va_end(ap);
  return s / n;
}

extern int maybe_missing(void) __attribute__((weak));
__attribute__((weak)) int overridable(void) { return 7; }

static int by_value(const void* a, const void* b) {
  int x = *(const int*)a, y = *(const int*)b;
  return (x > y) - (x < y);
}

// fork while tier-up compiles: every round makes new functions hot, then forks at once; the
// child calls a function nobody has called yet (compiled lazily in the child).
#define HOT(n) \
  __attribute__((noinline)) static long hot##n(long x) { return x * (n + 3) + (x >> n); }
HOT(0) HOT(1) HOT(2) HOT(3) HOT(4) HOT(5) HOT(6) HOT(7)
__attribute__((noinline)) static int child_only(int round) { return (round * 7 + 1) % 200; }
static int fork_storm(void) {
  long (*const hot[])(long) = {hot0, hot1, hot2, hot3, hot4, hot5, hot6, hot7};
  int sum = 0;
  for (int round = 0; round < 8; round++) {
    long acc = 0;
    for (int i = 0; i < 50; i++) acc += hot[round](i);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(child_only(round) + (int)(acc & 1));
    int status = 0;
    waitpid(pid, &status, 0);
    sum += WIFEXITED(status) ? WEXITSTATUS(status) : 1000;
  }
  return sum;
}

int main(int argc, char** argv) {
  atexit(at_exit_1);
  atexit(at_exit_2);
  printf("longjmp %d depth %d\n", try_jump(20), g_depth);
  printf("longjmp again %d\n", try_jump(3));

  signal(SIGUSR1, on_signal);
  signal(SIGUSR2, on_signal);
  raise(SIGUSR1);
  raise(SIGUSR2);
  raise(SIGUSR1);
  printf("signals %d\n", (int)g_signals);

  printf("vla %ld\n", sum_vla(1000));
  char buf[128];
  format(buf, sizeof buf, "%d-%s-%.3f-%lld", 5, "x", 2.5, 1LL << 40);
  printf("varargs %s avg %.4f\n", buf, average(4, 1.0, 2.0, 3.5, 4.25));

  long double ld = 1.0L;
  for (int i = 1; i <= 25; i++) ld = ld * i / 3.0L;
  printf("long double %.10Le\n", ld);
  unsigned __int128 big = (unsigned __int128)0xfedcba9876543210ull * 0x123456789abcdefull;
  unsigned __int128 q = big / 1000000007u, r = big % 1000000007u;
  printf("int128 %016llx%016llx q_lo %llu r %llu\n", (unsigned long long)(big >> 64),
         (unsigned long long)big, (unsigned long long)q, (unsigned long long)r);

  printf("weak %s overridable %d\n", maybe_missing ? "present" : "absent", overridable());

  int v[] = {9, 3, 7, 1, 8, 2, 6, 4, 5, 0};
  qsort(v, 10, sizeof v[0], by_value);
  int key = 6;
  int* hit = bsearch(&key, v, 10, sizeof v[0], by_value);
  printf("qsort %d%d%d%d%d%d%d%d%d%d bsearch %ld\n", v[0], v[1], v[2], v[3], v[4], v[5], v[6],
         v[7], v[8], v[9], hit ? (long)(hit - v) : -1L);

  long lines = 0, bytes = 0;
  char line[256];
  while (fgets(line, sizeof line, stdin)) lines++, bytes += (long)strlen(line);
  printf("stdin %ld lines %ld bytes\n", lines, bytes);

  fflush(stdout);
  pid_t child = fork();
  if (child == 0) _exit((int)(sum_vla(10) % 256));  // JIT code in the child
  int status = 0;
  waitpid(child, &status, 0);
  printf("fork child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  printf("fork storm %d\n", fork_storm());
  fflush(stdout);
  pid_t ex = fork();
  if (ex == 0) {
    execlp("sh", "sh", "-c", "echo exec ok; exit 3", (char*)0);
    _exit(127);
  }
  waitpid(ex, &status, 0);
  printf("exec exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return argc > 1 ? atoi(argv[1]) : 0;
}
