/* Uses a thread-local variable, which the in-process JIT does not support yet: tierjit falls
 * back to LLVM's interpreter and says so. */
#include <stdio.h>
static _Thread_local int depth;
static int count(int n) { depth++; return n == 0 ? depth : count(n - 1); }
int main(void) { printf("depth %d\n", count(9)); return 3; }
