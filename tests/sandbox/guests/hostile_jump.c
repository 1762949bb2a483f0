/* Hostile guest: jumps into data (a buffer filled with instructions). */
#include <stdint.h>
static uint32_t shellcode[4] = {0x00000513 /* li a0,0 */, 0x00008067 /* ret */};
int main(void) {
  int (*fn)(void) = (int (*)(void))(uintptr_t)shellcode;
  return fn();
}
