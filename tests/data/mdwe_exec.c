// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// mdwe_exec CMD ARGS...: runs CMD with PR_SET_MDWE(PR_MDWE_REFUSE_EXEC_GAIN) in force (what
// systemd's MemoryDenyWriteExecute=yes sets): no mapping may become executable after it was
// created, and none may be writable and executable. Exits 77 when the kernel lacks it (< 6.3).
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>
#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#endif
#ifndef PR_MDWE_REFUSE_EXEC_GAIN
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif
int main(int argc, char** argv) {
  if (argc < 2) return 64;
  if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0) {
    perror("prctl(PR_SET_MDWE)");
    return 77;
  }
  execvp(argv[1], argv + 1);
  perror("exec");
  return 127;
}
