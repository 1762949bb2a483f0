// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// GEMM block-kernel emission with Xbyak (see gemm_jit.hpp for the block layout).
// Register plan (System V, caller-saved except rbx/r12 which are pushed):
//   rdi A tile base   rsi B base      rdx C row base   rcx &{alpha, beta}
//   rax i counter     r8  j counter   r9  k counter / scratch
//   r10 B tile ptr    r11 C tile ptr  rbx A k-ptr      r12 B k-ptr
// Vector registers: accumulators 0 .. mr*nv-1, then nv B registers, then (AVX2) one
// broadcast register; AVX2 keeps its tail mask in ymm15, AVX-512 in k1.
#define XBYAK_NO_EXCEPTION
#include "kernels/gemm_jit.hpp"

#include <xbyak/xbyak.h>

#include <algorithm>
#include <limits>

namespace tierjit::kernels {
namespace {

using Xbyak::Address;
using Xbyak::Reg64;
using Xbyak::Xmm;
using Xbyak::Ymm;
using Xbyak::Zmm;

constexpr int kUnroll = 4;        // K-loop unroll factor
constexpr int kFullUnrollK = 16;  // K up to this: straight-line code, no loop

int unroll_for(const BlockSpec& s) { return s.k <= kFullUnrollK ? std::max(1, int(s.k)) : kUnroll; }

class BlockEmitter : public Xbyak::CodeGenerator {
 public:
  BlockEmitter(const BlockSpec& s, size_t max, uint8_t* buf)
      : Xbyak::CodeGenerator(max, buf), s_(s) {
    avx512_ = s.isa == Isa::kAvx512;
    lanes_ = vector_lanes(s.isa);
  }

  void emit() {
    push(rbx);
    push(r12);
    push(r13);
    push(r14);
    int nr = s_.nv * lanes_;
    if (s_.j_outer) {
      emit_columns(nr);
    } else {
      int full_i = s_.m / s_.mr, tail_i = s_.m % s_.mr;
      if (full_i > 0) emit_loop(rax, full_i, [&] { emit_tile_row(s_.mr, nr); });
      if (tail_i > 0) emit_tile_row(tail_i, nr);
    }
    pop(r14);
    pop(r13);
    pop(r12);
    pop(rbx);
    vzeroupper();
    ret();
    if (!avx512_) {  // AVX2 tail masks: 8 x -1 then 8 x 0; mask(t) loads from entry 8 - t
      align(32);
      L(mask_table_);
      for (int i = 0; i < 16; ++i) dd(i < 8 ? 0xffffffffu : 0u);
    }
  }

  // Runs body `count` times with `reg` as the counter (no loop for count == 1).
  template <class F>
  void emit_loop(const Reg64& reg, int count, F body) {
    if (count == 1) {
      body();
      return;
    }
    Xbyak::Label top;
    mov(reg, count);
    L(top);
    body();
    dec(reg);
    jnz(top, T_NEAR);
  }

  // One row of tiles: rows [i, i + mr_t) across all n columns; advances rdi and rdx.
  void emit_tile_row(int mr_t, int nr) {
    mov(r10, rsi);
    mov(r11, rdx);
    int full_j = s_.n / nr, tail_j = s_.n % nr;
    if (full_j > 0) {
      emit_loop(r8, full_j, [&] {
        emit_tile(rdi, mr_t, s_.nv, 0);
        add(r10, s_.b_tile);
        add(r11, nr * 4);
      });
    }
    if (tail_j > 0) {
      int nv_t = (tail_j + lanes_ - 1) / lanes_;
      set_mask(tail_j % lanes_);
      emit_tile(rdi, mr_t, nv_t, tail_j % lanes_);
    }
    add(rdi, s_.a_tile);
    add(rdx, s_.ldc * s_.mr);
  }

  // Column-major walk (j outer): each B panel (k x nr) stays in cache while every row tile
  // uses it; better when M is small and B is large. r10 = B panel, r14 = C column.
  void emit_columns(int nr) {
    mov(r10, rsi);
    mov(r14, rdx);
    int full_j = s_.n / nr, tail_j = s_.n % nr;
    auto column = [&](int nv_t, int last) {
      mov(r13, rdi);
      mov(r11, r14);
      int full_i = s_.m / s_.mr, tail_i = s_.m % s_.mr;
      auto tile = [&](int mr_t) {
        emit_tile(r13, mr_t, nv_t, last);
        add(r13, s_.a_tile);
        add(r11, s_.ldc * s_.mr);
      };
      if (full_i > 0) emit_loop(rax, full_i, [&] { tile(s_.mr); });
      if (tail_i > 0) tile(tail_i);
      add(r10, s_.b_tile);
      add(r14, nr * 4);
    };
    if (full_j > 0) emit_loop(r8, full_j, [&] { column(s_.nv, 0); });
    if (tail_j > 0) {
      set_mask(tail_j % lanes_);
      column((tail_j + lanes_ - 1) / lanes_, tail_j % lanes_);
    }
  }

  void set_mask(int cols) {
    if (cols == 0) return;
    if (avx512_) {
      mov(r9d, (1u << cols) - 1);
      kmovw(k1, r9d);
    } else {
      vmovups(Ymm(15), ptr[rip + mask_table_ + (8 - cols) * 4]);
    }
  }

  int acc(int i, int v, int nv_t) const { return i * nv_t + v; }

  // One register tile of mr_t x nv_t vectors; `last` > 0 masks the last vector to that
  // many columns. A from a_base, B from r10, C at r11.
  void emit_tile(const Reg64& a_base, int mr_t, int nv_t, int last) {
    int nacc = mr_t * nv_t;
    for (int r = 0; r < nacc; ++r) zero(r);
    mov(rbx, a_base);
    mov(r12, r10);
    int unroll = unroll_for(s_);
    int iters = s_.k / unroll, rem = s_.k % unroll;
    if (iters > 0) {
      emit_loop(r9, iters, [&] {
        for (int u = 0; u < unroll; ++u) emit_k_step(mr_t, nv_t, last, u);
        if (iters > 1 || rem > 0) {  // the remainder continues from here
          add(rbx, s_.a_k * unroll);
          add(r12, s_.b_k * unroll);
        }
      });
    }
    if (rem > 0 && iters > 0) {  // remainder as a one-step loop: less code to emit
      emit_loop(r9, rem, [&] {
        emit_k_step(mr_t, nv_t, last, 0);
        if (rem > 1) {
          add(rbx, s_.a_k);
          add(r12, s_.b_k);
        }
      });
    } else {
      for (int u = 0; u < rem; ++u) emit_k_step(mr_t, nv_t, last, u);
    }
    emit_c_update(mr_t, nv_t, last);
  }

  void zero(int r) {
    if (avx512_) {
      vpxord(Zmm(r), Zmm(r), Zmm(r));
    } else {
      vxorps(Ymm(r), Ymm(r), Ymm(r));
    }
  }

  // acc[i][v] += A[i][p] * B[p][v] for one p (offset u from the k pointers).
  void emit_k_step(int mr_t, int nv_t, int last, int u) {
    int nacc = mr_t * nv_t;
    int64_t bo = u * s_.b_k, ao = u * s_.a_k;
    int vbytes = lanes_ * 4;
    for (int v = 0; v < nv_t; ++v) {
      bool masked = last > 0 && v == nv_t - 1;
      auto addr = ptr[r12 + int32_t(bo + v * vbytes)];
      if (avx512_) {
        if (masked) {
          vmovups(Zmm(nacc + v) | k1 | T_z, addr);
        } else {
          vmovups(Zmm(nacc + v), addr);
        }
      } else if (masked) {
        vmaskmovps(Ymm(nacc + v), Ymm(15), addr);
      } else {
        vmovups(Ymm(nacc + v), addr);
      }
    }
    for (int i = 0; i < mr_t; ++i) {
      int32_t a_disp = int32_t(ao + i * s_.a_row);
      if (avx512_ && nv_t == 1) {  // one use: fold the broadcast into the FMA
        vfmadd231ps(Zmm(acc(i, 0, 1)), Zmm(nacc), ptr_b[rbx + a_disp]);
      } else if (avx512_) {  // several uses: one broadcast load per row
        Zmm bc(nacc + nv_t);
        vbroadcastss(bc, ptr[rbx + a_disp]);
        for (int v = 0; v < nv_t; ++v) vfmadd231ps(Zmm(acc(i, v, nv_t)), Zmm(nacc + v), bc);
      } else {
        Ymm bc(nacc + nv_t);
        vbroadcastss(bc, ptr[rbx + a_disp]);
        for (int v = 0; v < nv_t; ++v) vfmadd231ps(Ymm(acc(i, v, nv_t)), Ymm(nacc + v), bc);
      }
    }
  }

  // C = alpha * acc (+ beta * C), rows at r11 + i * ldc.
  void emit_c_update(int mr_t, int nv_t, int last) {
    int nacc = mr_t * nv_t;
    int ra = nacc, rb = nacc + 1, rt = nacc + 2;  // alpha, beta, scratch (free after the loop)
    if (!s_.alpha_one) broadcast(ra, ptr[rcx]);
    if (s_.beta == BetaKind::kGeneral) broadcast(rb, ptr[rcx + 4]);
    int vbytes = lanes_ * 4;
    for (int i = 0; i < mr_t; ++i) {
      for (int v = 0; v < nv_t; ++v) {
        bool masked = last > 0 && v == nv_t - 1;
        auto addr = ptr[r11 + int32_t(i * s_.ldc + v * vbytes)];
        int a = acc(i, v, nv_t);
        if (avx512_) {
          update_zmm(a, ra, rb, addr, masked);
        } else {
          update_ymm(a, ra, rb, rt, addr, masked);
        }
      }
    }
  }

  void broadcast(int r, const Address& addr) {
    if (avx512_) {
      vbroadcastss(Zmm(r), addr);
    } else {
      vbroadcastss(Ymm(r), addr);
    }
  }

  void update_zmm(int a, int ra, int rb, const Address& addr, bool masked) {
    Zmm acc_r(a), alpha(ra), beta(rb);
    Zmm dst = masked ? Zmm(a) | k1 : Zmm(a);
    switch (s_.beta) {
      case BetaKind::kZero:
        if (!s_.alpha_one) vmulps(acc_r, acc_r, alpha);
        break;
      case BetaKind::kOne:
        if (s_.alpha_one) {
          vaddps(dst, acc_r, addr);
        } else {
          vfmadd213ps(dst, alpha, addr);  // acc = acc * alpha + C
        }
        break;
      case BetaKind::kGeneral:
        if (!s_.alpha_one) vmulps(acc_r, acc_r, alpha);
        vfmadd231ps(dst, beta, addr);  // acc += beta * C
        break;
    }
    if (masked) {
      vmovups(addr | k1, acc_r);
    } else {
      vmovups(addr, acc_r);
    }
  }

  void update_ymm(int a, int ra, int rb, int rt, const Address& addr, bool masked) {
    Ymm acc_r(a), alpha(ra), beta(rb), tmp(rt), mask(15);
    if (!s_.alpha_one) vmulps(acc_r, acc_r, alpha);
    if (s_.beta != BetaKind::kZero) {
      if (masked) {
        vmaskmovps(tmp, mask, addr);
      } else {
        vmovups(tmp, addr);
      }
      if (s_.beta == BetaKind::kOne) {
        vaddps(acc_r, acc_r, tmp);
      } else {
        vfmadd231ps(acc_r, beta, tmp);
      }
    }
    if (masked) {
      vmaskmovps(addr, mask, acc_r);
    } else {
      vmovups(addr, acc_r);
    }
  }

  const BlockSpec& s_;
  bool avx512_ = false;
  int lanes_ = 16;
  Xbyak::Label mask_table_;
};

bool fits32(int64_t v) {
  return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
}

// Largest mr for nv vectors per row: accumulators + B vectors + a broadcast register must
// fit the register file (AVX2 also keeps its tail mask in ymm15, and needs alpha, beta and a
// scratch register after the K loop).
int max_rows(Isa isa, int nv) {
  if (isa == Isa::kAvx512) return nv == 1 ? 28 : (31 - nv) / nv;
  return nv == 1 ? 12 : (14 - nv) / nv;
}

// Cycle estimate of one K step over the block with tile (mr, nv): per tile, the larger of FMA
// throughput (2 per cycle), load throughput (A broadcasts at 2 per cycle, B vectors at
// `b_load` cycles each) and FMA latency (4 cycles: each accumulator takes one FMA per step).
double tile_cost(int64_t m, int64_t n, int lanes, int mr, int nv, double b_load) {
  int64_t nvec = (n + lanes - 1) / lanes;
  int64_t row_tiles = (m + mr - 1) / mr;
  double cost = 0;
  for (int64_t t = 0; t < row_tiles; ++t) {
    int64_t rows = std::min<int64_t>(mr, m - t * mr);
    for (int64_t v0 = 0; v0 < nvec; v0 += nv) {
      int64_t v = std::min<int64_t>(nv, nvec - v0);
      cost += std::max({double(rows * v) / 2.0, double(rows) / 2.0 + double(v) * b_load, 4.0});
    }
  }
  return cost;
}

}  // namespace

int vector_lanes(Isa isa) { return isa == Isa::kAvx512 ? 16 : 8; }

void choose_tile(Isa isa, int64_t m, int64_t n, bool b_from_l2, int32_t& mr, int32_t& nv) {
  int lanes = vector_lanes(isa);
  int max_nv = isa == Isa::kAvx512 ? 8 : 4;
  double best = 0;
  for (int v = 1; v <= max_nv; ++v) {
    int rows = max_rows(isa, v);
    if (rows < 1) break;
    int64_t row_tiles = (std::max<int64_t>(m, 1) + rows - 1) / rows;
    int r = int((std::max<int64_t>(m, 1) + row_tiles - 1) / row_tiles);  // balanced tiles
    double c = tile_cost(std::max<int64_t>(m, 1), std::max<int64_t>(n, 1), lanes, r, v,
                         b_from_l2 ? 1.0 : 0.5);
    if (v == 1 || c < best) best = c, mr = r, nv = v;
  }
}

bool encodable(const BlockSpec& s) {
  int lanes = vector_lanes(s.isa);
  int64_t last_row = int64_t(s.mr - 1);
  int64_t u = unroll_for(s);
  return fits32(last_row * s.a_row + (u - 1) * s.a_k) &&
         fits32((u - 1) * s.b_k + s.nv * lanes * 4) && fits32(s.a_k * u) && fits32(s.b_k * u) &&
         fits32(s.a_tile) && fits32(s.b_tile) && fits32(s.ldc * s.mr + s.nv * lanes * 4) &&
         s.mr > 0 && s.nv > 0;
}

Status generate_block(const BlockSpec& spec, std::vector<uint8_t>& out) {
  if (!encodable(spec)) {
    return make_error(ErrorCode::kCompileFailed, "GEMM block strides exceed 32-bit displacements");
  }
  // Estimate: per k step ~ (nv + mr * nv) instructions of <= 11 bytes, tiles x (unroll + tail).
  size_t per_tile = size_t(unroll_for(spec) * 2) * size_t(spec.nv + spec.mr * (spec.nv + 1)) * 11 +
                    size_t(spec.mr * spec.nv) * 40 + 256;
  size_t max = per_tile * 4 + 4096;
  thread_local std::vector<uint8_t> scratch(size_t(256) << 10);  // one allocation per thread
  if (scratch.size() < max) scratch.resize(max);
  Xbyak::ClearError();
  BlockEmitter e(spec, scratch.size(), scratch.data());
  e.emit();
  e.ready();
  if (int err = Xbyak::GetError(); err != 0) {
    return make_error(ErrorCode::kCompileFailed, std::string("GEMM kernel emission failed: ") +
                                                     Xbyak::ConvertErrorToString(err));
  }
  out.assign(e.getCode(), e.getCode() + e.getSize());
  return {};
}

}  // namespace tierjit::kernels
