/* Hostile guest: asks for a system call outside the allowlist (openat). */
#include <fcntl.h>
#include <stdio.h>
int main(void) {
  int fd = open("/etc/passwd", O_RDONLY);
  printf("open returned %d\n", fd);
  return 0;
}
