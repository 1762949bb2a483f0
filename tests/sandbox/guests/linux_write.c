/* Writing from a Linux guest (static glibc) under a writable directory grant: create, append,
 * read back, make and remove a directory, remove a file; then an attempt outside the grant. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void say(const char* what, int ok) {
  printf("%s: %s\n", what, ok ? "ok" : strerror(errno));
}

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : "/out";
  char p[256], q[256], r[256];
  snprintf(p, sizeof p, "%s/result.txt", dir);
  FILE* f = fopen(p, "w");
  say("create", f != NULL);
  if (f) fprintf(f, "line 1\n"), fclose(f);
  f = fopen(p, "a");
  say("append", f != NULL);
  if (f) fprintf(f, "line 2\n"), fclose(f);
  f = fopen(p, "r");
  char buf[64] = {0};
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f) fclose(f);
  printf("read back %zu bytes: %s", n, buf);
  snprintf(q, sizeof q, "%s/sub", dir);
  say("mkdir", mkdir(q, 0755) == 0);
  snprintf(r, sizeof r, "%s/sub/tmp", dir);
  f = fopen(r, "w");
  say("create in sub", f != NULL);
  if (f) fclose(f);
  say("unlink", unlink(r) == 0);
  say("rmdir", rmdir(q) == 0);
  snprintf(q, sizeof q, "%s/../escaped.txt", dir);
  say("create outside", fopen(q, "w") != NULL);
  return 0;
}
