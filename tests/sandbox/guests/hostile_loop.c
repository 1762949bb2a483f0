/* Hostile guest: never stops. The sandbox ends it when the instruction budget runs out. */
int main(void) {
  volatile unsigned long n = 0;
  for (;;) n++;
}
