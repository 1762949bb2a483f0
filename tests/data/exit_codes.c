/* exit() from deep inside the program: atexit handlers run LIFO, then destructors; stdout is
 * flushed; the status is the one passed to exit(). */
#include <stdio.h>
#include <stdlib.h>

__attribute__((destructor)) static void dtor(void) { printf("destructor\n"); }
static void h1(void) { printf("atexit 1\n"); }
static void h2(void) { printf("atexit 2\n"); }

static void deep(int n, int status) {
  if (n == 0) {
    printf("exiting with %d\n", status);
    exit(status);
  }
  deep(n - 1, status);
}

int main(int argc, char **argv) {
  atexit(h1);
  atexit(h2);
  deep(5, argc > 1 ? atoi(argv[1]) : 7);
  printf("not reached\n");
  return 0;
}
