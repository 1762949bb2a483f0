/* Redirecting stdout from a Linux guest (static glibc): save it with dup, freopen it onto a
 * file in a writable grant (dup3 onto fd 1), write there, restore it with dup2 (dup3), and
 * print what the file holds. Same output under qemu-riscv64 and in the sandbox. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  char path[512];
  snprintf(path, sizeof path, "%s/redirected.txt", argc > 1 ? argv[1] : "/out");
  fflush(stdout);
  int saved = dup(1);
  if (saved < 0 || !freopen(path, "w", stdout)) return 2;
  printf("into the file %d\n", 42);
  fflush(stdout);
  if (dup2(saved, 1) != 1) return 3;
  close(saved);
  FILE* f = fopen(path, "r");
  if (!f) return 4;
  char line[128] = {0};
  if (!fgets(line, sizeof line, f)) return 5;
  fclose(f);
  remove(path);
  dprintf(1, "back on stdout; the file held: %s", line);
  dprintf(1, "dup of a closed descriptor: %d\n", dup(77));
  return 0;
}
