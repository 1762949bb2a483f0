/* Four threads call into JIT code at once: concurrent lazy compiles and tier-ups. */
#include <pthread.h>
#include <stdio.h>
static long work(long n) { long s = 0; for (long i = 0; i < n; i++) s += (i * 7) % 13; return s; }
static long leaf(long x) { return x * 3 + 1; }
static void *run(void *arg) {
  long id = (long)arg, acc = 0;
  for (int i = 0; i < 20000; i++) acc += leaf(i + id) + work(50);
  return (void *)acc;
}
int main(void) {
  pthread_t t[4];
  for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, run, (void *)i);
  long total = 0;
  for (int i = 0; i < 4; i++) { void *r; pthread_join(t[i], &r); total += (long)r; }
  printf("total %ld\n", total);
  return 0;
}
