/* Tier-up test program: `square` is called often; `spin` loops long enough that its heat
 * crosses the threshold while its first activation is still running (on the old code). */
long square(long x) { return x * x; }

long spin(long n) {
  long acc = 0;
  for (long i = 0; i < n; i++) acc = (acc * 31 + (i ^ (acc >> 7))) & 0xffffffffffffL;
  return acc;
}

long sum_squares(long n) {
  long s = 0;
  for (long i = 0; i < n; i++) s += square(i);
  return s;
}
