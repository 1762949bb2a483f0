// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* tierjit guest interface: system calls and host calls from C code running in the tierjit
 * sandbox (include/tierjit/sandbox.hpp documents the numbers and the rules).
 *
 *   tj_syscall3/4   raw Linux riscv64 system calls (ecall; number in a7)
 *   tj_host_call    a host function the embedder registered (numbers 500..599)
 *   tj_print        host call 500 when the embedder registers a `print`
 *   TJ_EXPORT       keeps a function the host calls by name through vmcall
 */
#ifndef TIERJIT_GUEST_H
#define TIERJIT_GUEST_H

/* Marks a function the host calls by name (Sandbox::vmcall): kept by --gc-sections even
 * when nothing in the guest references it. */
#define TJ_EXPORT __attribute__((used, retain, noinline))

#define TJ_HOST_CALL_FIRST 500
#define TJ_HOST_CALL_LAST 599
#define TJ_HOST_PRINT 500
#define TJ_HOST_VCALL 501

static inline long tj_syscall4(long n, long a0, long a1, long a2, long a3) {
  register long r_a0 __asm__("a0") = a0;
  register long r_a1 __asm__("a1") = a1;
  register long r_a2 __asm__("a2") = a2;
  register long r_a3 __asm__("a3") = a3;
  register long r_a7 __asm__("a7") = n;
  __asm__ volatile("ecall" : "+r"(r_a0) : "r"(r_a1), "r"(r_a2), "r"(r_a3), "r"(r_a7) : "memory");
  return r_a0;
}
static inline long tj_syscall3(long n, long a0, long a1, long a2) {
  return tj_syscall4(n, a0, a1, a2, 0);
}

/* Calls host function `number` (500..599) with up to four integer arguments. */
static inline long tj_host_call(long number, long a0, long a1, long a2, long a3) {
  return tj_syscall4(number, a0, a1, a2, a3);
}
static inline long tj_print(const char* text, unsigned long length) {
  return tj_syscall4(TJ_HOST_PRINT, (long)text, (long)length, 0, 0);
}

#endif
