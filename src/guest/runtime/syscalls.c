// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* tierjit guest system-call layer under picolibc. Linux riscv64 numbers (ecall, number in
 * a7, arguments in a0..a5, result or -errno in a0), so a guest ELF runs both in the tierjit
 * sandbox and under qemu-riscv64. stdout is line-buffered, stderr unbuffered; both are
 * flushed by _exit. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "tierjit_guest.h"

static long sys_result(long r) {
  if (r < 0 && r > -4096) {
    errno = (int)-r;
    return -1;
  }
  return r;
}

ssize_t write(int fd, const void* buf, size_t n) { return sys_result(tj_syscall3(64, fd, (long)buf, (long)n)); }
ssize_t read(int fd, void* buf, size_t n) { return sys_result(tj_syscall3(63, fd, (long)buf, (long)n)); }
int close(int fd) { return (int)sys_result(tj_syscall3(57, fd, 0, 0)); }
off_t lseek(int fd, off_t off, int whence) { return sys_result(tj_syscall3(62, fd, off, whence)); }
int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int mode = va_arg(ap, int);
  va_end(ap);
  return (int)sys_result(tj_syscall4(56, -100 /* AT_FDCWD */, (long)path, flags, mode));
}

int clock_gettime(clockid_t clk, struct timespec* ts) {
  return (int)sys_result(tj_syscall3(113, clk, (long)ts, 0));
}
int gettimeofday(struct timeval* restrict tv, void* restrict tz) {
  return (int)sys_result(tj_syscall3(169, (long)tv, (long)tz, 0));
}

void* sbrk(ptrdiff_t incr) {
  static uintptr_t cur;
  if (cur == 0) cur = (uintptr_t)tj_syscall3(214, 0, 0, 0);
  uintptr_t want = cur + (uintptr_t)incr;
  uintptr_t got = (uintptr_t)tj_syscall3(214, (long)want, 0, 0);
  if (got != want) {
    errno = ENOMEM;
    return (void*)-1;
  }
  uintptr_t old = cur;
  cur = got;
  return (void*)old;
}

/* A guest is one process with no signals: getpid() is 1, and kill(1, sig) (what abort() and
 * raise() come down to) ends the guest with status 128 + sig, as a shell reports a process
 * killed by that signal. */
pid_t getpid(void) { return 1; }
int kill(pid_t pid, int sig) {
  if (pid != 1 && pid != 0) {
    errno = ESRCH;
    return -1;
  }
  _exit(128 + sig);
}

/* ---- stdio streams ---- */
struct out_buf {
  int fd;
  int len;
  char data[256];
};
static struct out_buf out_bufs[2] = {{1, 0, {0}}, {2, 0, {0}}};

static void drain(struct out_buf* b) {
  int off = 0;
  while (off < b->len) {
    long r = tj_syscall3(64, b->fd, (long)(b->data + off), b->len - off);
    if (r <= 0) break;
    off += (int)r;
  }
  b->len = 0;
}

static int put_out(char c, FILE* f) {
  (void)f;
  struct out_buf* b = &out_bufs[0];
  b->data[b->len++] = c;
  if (c == '\n' || b->len == (int)sizeof b->data) drain(b);
  return (unsigned char)c;
}
static int put_err(char c, FILE* f) {
  (void)f;
  struct out_buf* b = &out_bufs[1];
  b->data[b->len++] = c;
  drain(b);
  return (unsigned char)c;
}
static int flush_out(FILE* f) {
  (void)f;
  drain(&out_bufs[0]);
  return 0;
}
static int get_in(FILE* f) {
  (void)f;
  unsigned char c;
  long r = tj_syscall3(63, 0, (long)&c, 1);
  return r == 1 ? c : EOF;
}

static FILE tj_stdin = FDEV_SETUP_STREAM(NULL, get_in, NULL, _FDEV_SETUP_READ);
static FILE tj_stdout = FDEV_SETUP_STREAM(put_out, NULL, flush_out, _FDEV_SETUP_WRITE);
static FILE tj_stderr = FDEV_SETUP_STREAM(put_err, NULL, NULL, _FDEV_SETUP_WRITE);
FILE* const stdin = &tj_stdin;
FILE* const stdout = &tj_stdout;
FILE* const stderr = &tj_stderr;

void _exit(int status) {
  drain(&out_bufs[0]);
  drain(&out_bufs[1]);
  for (;;) tj_syscall3(94, status, 0, 0);
}
