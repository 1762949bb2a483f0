// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* tierjit guest start-up, C half: runs the C library's constructors, main, and exit. */
#include <stdint.h>
#include <stdlib.h>

extern int main(int argc, char** argv, char** envp);
extern void __libc_init_array(void);

__attribute__((noreturn, used)) void __tj_start(uint64_t* sp) {
  int argc = (int)sp[0];
  char** argv = (char**)(sp + 1);
  char** envp = argv + argc + 1;
  __libc_init_array();
  exit(main(argc, argv, envp));
}
