// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The core's fp32 FMA peak, measured: a generated loop of independent FMAs on 24 registers
// (enough to cover FMA latency x throughput on current cores), timed with steady_clock.
#define XBYAK_NO_EXCEPTION
#include <xbyak/xbyak.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "runtime/code_pool.hpp"
#include "tierjit/kernels.hpp"

namespace tierjit::kernels {
namespace {

constexpr int kAccumulators = 12;  // ymm: 12 of 16; zmm: 24 of 32 (x2 below)

class PeakLoop : public Xbyak::CodeGenerator {
 public:
  PeakLoop(Isa isa, uint8_t* buf, size_t size) : Xbyak::CodeGenerator(size, buf) {
    int regs = isa == Isa::kAvx512 ? 2 * kAccumulators : kAccumulators;
    Xbyak::Label top;
    L(top);  // rdi = iterations
    for (int r = 0; r < regs; ++r) {
      if (isa == Isa::kAvx512) {
        vfmadd231ps(Xbyak::Zmm(r), Xbyak::Zmm(30), Xbyak::Zmm(31));
      } else {
        vfmadd231ps(Xbyak::Ymm(r), Xbyak::Ymm(14), Xbyak::Ymm(15));
      }
    }
    dec(rdi);
    jnz(top, T_NEAR);
    vzeroupper();
    ret();
  }
};

}  // namespace

double measure_peak_gflops(Isa isa, double seconds) {
  if (isa == Isa::kScalar) return 0.0;
  std::vector<uint8_t> buf(8192);
  Xbyak::ClearError();
  PeakLoop gen(isa, buf.data(), buf.size());
  if (Xbyak::GetError() != 0) return 0.0;
  runtime::CodePool pool;
  auto block = pool.acquire(gen.getSize());
  if (!block.ok()) return 0.0;
  std::memcpy(block->rw, gen.getCode(), gen.getSize());
  auto fn = reinterpret_cast<void (*)(uint64_t)>(block->rx);
  int regs = isa == Isa::kAvx512 ? 2 * kAccumulators : kAccumulators;
  double flops_per_iter = double(regs) * (isa == Isa::kAvx512 ? 16 : 8) * 2;
  uint64_t iters = 1 << 16;
  double best = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    auto t0 = std::chrono::steady_clock::now();
    fn(iters);
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, flops_per_iter * double(iters) / dt / 1e9);
    if (dt < 1e-3) iters *= 2;
  }
  pool.release(*block);
  return best;
}

}  // namespace tierjit::kernels
