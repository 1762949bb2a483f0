// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The GEMM code generator: emits, with Xbyak, one "block kernel" for a block whose sizes and
// strides are all compile-time constants. The kernel walks the block in register tiles of
// mr rows x nv vectors (the microkernel: accumulators stay in vector registers for the whole
// K loop, A elements are broadcast, B rows are loaded as vectors), with the M and N tails as
// their own straight-line tiles (N tails use AVX-512 opmasks or AVX2 vmaskmovps).
// The same generator serves the unpacked small-shape regime (A and B read in place, the
// libxsmm model) and the packed regime (A and B packed into slivers by gemm.cpp, the
// BLIS/Goto model), since both are "strided" to it.
#pragma once

#include <cstdint>
#include <vector>

#include "tierjit/kernels.hpp"

namespace tierjit::kernels {

enum class BetaKind : uint8_t { kZero, kOne, kGeneral };

/// One block: C[m x n] = alpha * A[m x k] * B[k x n] + beta * C. All strides in bytes.
/// A element (i, p) is at a + (i / mr) * a_tile + (i % mr) * a_row + p * a_k;
/// B element (p, j) is at b + (j / nr) * b_tile + p * b_k + (j % nr) * 4, nr = nv * lanes;
/// C element (i, j) is at c + i * ldc + j * 4.
struct BlockSpec {
  Isa isa = Isa::kAvx512;
  int32_t m = 0, n = 0, k = 0;
  int32_t mr = 0, nv = 0;  ///< register tile (nv vectors of 16 or 8 floats per row)
  int64_t a_tile = 0, a_row = 0, a_k = 0;
  int64_t b_tile = 0, b_k = 0;
  int64_t ldc = 0;
  BetaKind beta = BetaKind::kZero;
  bool alpha_one = true;
  bool j_outer = false;  ///< walk column panels outermost (B panel reused by every row tile)
};

/// fn(a, b, c, alpha_beta): alpha_beta points at {alpha, beta}.
using BlockFn = void (*)(const float* a, const float* b, float* c, const float* alpha_beta);

/// Lanes per vector at this ISA (16 for AVX-512, 8 for AVX2).
int vector_lanes(Isa isa);
/// The register tile (mr rows, nv vectors) for an m x n block: the cheapest by a small cost
/// model (FMA throughput, load throughput, FMA latency per K step), rows balanced across
/// row tiles so the M tail is not a sliver. `b_from_l2`: the K x nr slivers of B do not stay
/// in L1 (large K or the packed regime), so B loads cost L2 bandwidth (one vector per cycle)
/// and taller tiles that reuse each B vector more win.
void choose_tile(Isa isa, int64_t m, int64_t n, bool b_from_l2, int32_t& mr, int32_t& nv);
/// True when every displacement the kernel needs fits the 32-bit field of an x86 operand.
bool encodable(const BlockSpec& s);

/// Emits the block kernel into `out` (position-independent machine code). Errors:
/// kCompileFailed when Xbyak rejects an instruction or the code exceeds its buffer.
Status generate_block(const BlockSpec& spec, std::vector<uint8_t>& out);

}  // namespace tierjit::kernels
