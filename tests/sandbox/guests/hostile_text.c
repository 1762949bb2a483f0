/* Hostile guest: tries to patch its own code (text is never writable). */
#include <stdint.h>
int main(void) {
  volatile uint32_t* code = (volatile uint32_t*)(uintptr_t)&main;
  *code = 0x00100073; /* ebreak */
  return 0;
}
