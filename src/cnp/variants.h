// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* Operand-location lists for the pinned-register stencil variants, shared by the stencils
 * (src/cnp/stencils.c) and the emitter's lookup table (src/cnp/compiler.cpp). A location is
 * m (the frame slot) or 0..3 (machine registers x0..x3); LI_<loc> is its index in a shape
 * number shape = LI(a) * 25 + LI(b) * 5 + LI(c). */
#ifndef TIERJIT_CNP_VARIANTS_H
#define TIERJIT_CNP_VARIANTS_H
#define LOCS_A(M, ...) \
  M(m, __VA_ARGS__) M(0, __VA_ARGS__) M(1, __VA_ARGS__) M(2, __VA_ARGS__) M(3, __VA_ARGS__)
#define LOCS_B(M, ...) \
  M(m, __VA_ARGS__) M(0, __VA_ARGS__) M(1, __VA_ARGS__) M(2, __VA_ARGS__) M(3, __VA_ARGS__)
#define LOCS_C(M, ...) \
  M(m, __VA_ARGS__) M(0, __VA_ARGS__) M(1, __VA_ARGS__) M(2, __VA_ARGS__) M(3, __VA_ARGS__)
#define LI_m 0
#define LI_0 1
#define LI_1 2
#define LI_2 3
#define LI_3 4
#define TJ_PINNED_REGS 4
#define TJ_SHAPES 125
#endif
