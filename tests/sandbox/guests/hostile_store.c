/* Hostile guest: writes far outside its memory (and would corrupt the host if unchecked). */
#include <stdint.h>
int main(void) {
  volatile uint64_t* p = (volatile uint64_t*)(uintptr_t)0x7ff000000000ull;
  *p = 0xdeadbeef;
  return 0;
}
