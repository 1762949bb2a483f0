/* Hostile guest: recursion without end. The sandbox reports a stack overflow. */
#include <stdio.h>
static int down(volatile char* prev, int n) {
  volatile char frame[256];
  frame[0] = prev ? prev[0] + 1 : 0;
  return down(frame, n + 1) + frame[0];
}
int main(void) { return down(0, 0); }
