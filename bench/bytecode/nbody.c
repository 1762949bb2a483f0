// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// nbody.tjasm in C (same initial state, same operation order).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
struct body { double x, y, z, vx, vy, vz, m; };
static struct body b[5] = {
    {0, 0, 0, -0.00038766340719874267, -0.0032753590371765707, 2.3935734080003e-05, 39.47841760435743},
    {4.841431442464721, -1.1603200440274284, -0.10362204447112311, 0.606326392995832, 2.81198684491626, -0.02521836165988763, 0.03769367487038949},
    {8.34336671824458, 4.124798564124305, -0.4035234171143214, -1.0107743461787924, 1.8256623712304119, 0.008415761376584154, 0.011286326131968767},
    {12.894369562139131, -15.111151401698631, -0.22330757889265573, 1.0827910064415354, 0.8687130181696082, -0.010832637401363636, 0.0017237240570597112},
    {15.379697114850917, -25.919314609987964, 0.17925877295037118, 0.979090732243898, 0.5946989986476762, -0.034755955504078104, 0.0020336868699246304}};
static double energy(void) {
  double e = 0;
  for (int i = 0; i < 5; ++i) {
    e += 0.5 * b[i].m * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
    for (int j = i + 1; j < 5; ++j) {
      double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
      e -= b[i].m * b[j].m / sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return e;
}
static void advance(double dt) {
  for (int i = 0; i < 5; ++i)
    for (int j = i + 1; j < 5; ++j) {
      double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
      double d2 = dx * dx + dy * dy + dz * dz;
      double mag = dt / (d2 * sqrt(d2));
      double mj = b[j].m * mag, mi = b[i].m * mag;
      b[i].vx -= dx * mj; b[i].vy -= dy * mj; b[i].vz -= dz * mj;
      b[j].vx += dx * mi; b[j].vy += dy * mi; b[j].vz += dz * mi;
    }
  for (int i = 0; i < 5; ++i) {
    b[i].x += dt * b[i].vx; b[i].y += dt * b[i].vy; b[i].z += dt * b[i].vz;
  }
}
int main(int argc, char** argv) {
  long n = atol(argv[1]);
  printf("%ld\n", (long)(energy() * 1e9));
  for (long i = 0; i < n; ++i) advance(0.01);
  printf("%ld\n", (long)(energy() * 1e9));
  return 0;
}
