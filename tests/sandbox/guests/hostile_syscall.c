/* Hostile guest: opens a file nobody granted (openat: -EACCES, as Linux refuses it), then asks
 * for a system call the sandbox does not implement (socket: -ENOSYS, or a fault with
 * --strict). */
#include <fcntl.h>
#include <stdio.h>

static long raw_syscall3(long n, long x, long y, long z) {
  register long a0 __asm__("a0") = x;
  register long a1 __asm__("a1") = y;
  register long a2 __asm__("a2") = z;
  register long a7 __asm__("a7") = n;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
  return a0;
}

int main(void) {
  int fd = open("/etc/passwd", O_RDONLY);
  printf("open returned %d\n", fd);
  printf("socket returned %ld\n", raw_syscall3(198, 2, 1, 0));
  return 0;
}
