// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Row-kernel emission with Xbyak (contract in ops.hpp). One emitter serves AVX2 (ymm, tail
// mask in ymm15 for vmaskmovps) and AVX-512 (zmm, tail mask in k1); every length, stride and
// the tail mask are compile-time constants of the kernel. Constants live after the code as
// 64-byte splats addressed RIP-relative, so the code is position independent.
//
// General registers: rdi x, rsi x2/gamma, rdx y, rcx rows, r8 beta / K counter, r9 &eps,
// r10 byte offset inside a row, r11 loop bound, rax scratch pointer.
//
// Transcendentals: exp is Cephes expf (range reduction by ln2 in two parts, degree-6
// polynomial) with 2^n applied as two factors so results stay correct into the denormal range
// and overflow to +inf; tanh is Cephes tanhf (odd polynomial below 0.625, 1 - 2/(e^2x + 1)
// above); gelu uses erfc (Numerical Recipes' Chebyshev fit) so the negative half has no
// cancellation.
#define XBYAK_NO_EXCEPTION
#include <xbyak/xbyak.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <map>

#include "kernels/ops.hpp"

namespace tierjit::kernels {
namespace {

using Xbyak::Address;
using Xbyak::Label;
using Xbyak::Operand;
using Xbyak::Opmask;
using Xbyak::Xmm;
using Xbyak::Ymm;
using Xbyak::Zmm;

constexpr uint32_t kAbsMask = 0x7fffffffu;
constexpr uint32_t kSignMask = 0x80000000u;
constexpr uint8_t kCmpLtOq = 0x11;
constexpr uint8_t kCmpUnordQ = 0x03;

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

class OpEmitter : public Xbyak::CodeGenerator {
 public:
  OpEmitter(const OpKey& k, size_t max, uint8_t* buf) : Xbyak::CodeGenerator(max, buf), k_(k) {
    z_ = k.isa == Isa::kAvx512;
    lanes_ = z_ ? 16 : 8;
    vb_ = lanes_ * 4;
    tail_ = int((k.kind == OpKind::kReduceCols ? k.inner : k.len) % lanes_);
  }

  void emit() {
    if (tail_ != 0) {
      if (z_) {
        mov(eax, (1u << tail_) - 1);
        kmovw(k1, eax);
      } else {
        vmovups(V(15), ptr[rip + mask_]);
      }
    }
    switch (k_.kind) {
      case OpKind::kUnary:
        emit_unary();
        break;
      case OpKind::kBinary:
        emit_binary();
        break;
      case OpKind::kReduceRows:
        emit_reduce_rows();
        break;
      case OpKind::kReduceCols:
        emit_reduce_cols();
        break;
      case OpKind::kSoftmax:
        emit_softmax();
        break;
      case OpKind::kLayerNorm:
        emit_layer_norm();
        break;
    }
    vzeroupper();
    ret();
    emit_constants();
  }

 private:
  // ---- registers, constants, loads and stores ----
  Xmm V(int i) const { return Xmm(z_ ? Operand::ZMM : Operand::YMM, i); }
  // A constant in the pool after the code.
  Address mem_bits(uint32_t b) {
    auto it = const_index_.find(b);
    if (it == const_index_.end()) {
      it = const_index_.emplace(b, consts_.size()).first;
      consts_.emplace_back();
    }
    return ptr[rip + consts_[it->second]];
  }
  Address mem(float f) { return mem_bits(bits(f)); }
  // A constant as an instruction operand: its pinned register (AVX-512, see pin()) or memory.
  const Operand& cst_bits(uint32_t b) {
    if (auto it = pinned_.find(b); it != pinned_.end()) return pinned_regs_[it->second];
    addr_store_.push_back(mem_bits(b));
    return addr_store_.back();
  }
  const Operand& cst(float f) { return cst_bits(bits(f)); }
  // A constant in a register: the pinned one, or loaded into tmp.
  Xmm creg(float f, const Xmm& tmp) {
    if (auto it = pinned_.find(bits(f)); it != pinned_.end()) return pinned_regs_[it->second];
    vmovups(tmp, mem(f));
    return tmp;
  }
  // AVX-512 has 32 vector registers: constants of the hot loop are broadcast once into the
  // registers from `first` up, in order, as far as they go (the rest stay memory operands).
  void pin(std::initializer_list<float> values, int first) {
    if (!z_) return;
    int next = first + int(pinned_.size());
    for (float f : values) {
      if (next >= 32) return;
      if (pinned_.count(bits(f)) != 0) continue;
      Xmm r = V(next++);
      vbroadcastss(r, mem(f));
      pinned_.emplace(bits(f), pinned_regs_.size());
      pinned_regs_.push_back(r);
    }
  }
  void pin_bits(std::initializer_list<uint32_t> values, int first) {
    for (uint32_t b : values) {
      float f;
      std::memcpy(&f, &b, 4);
      pin({f}, first);
    }
  }
  void emit_constants() {
    if (!z_ && tail_ != 0) {
      align(32);
      L(mask_);
      for (int i = 0; i < 8; ++i) dd(i < tail_ ? 0xffffffffu : 0u);
    }
    align(64);
    for (const auto& [b, i] : const_index_) {
      L(consts_[i]);
      for (int j = 0; j < 16; ++j) dd(b);
    }
  }
  void load(const Xmm& v, const Address& a, bool tail) {
    if (!tail) {
      vmovups(v, a);
    } else if (z_) {
      vmovups(v | k1 | T_z, a);
    } else {
      vmaskmovps(v, V(15), a);
    }
  }
  // Tail lanes past the row get `fill` instead of zero (max reductions: -inf).
  void load_fill(const Xmm& v, const Address& a, bool tail, float fill, const Xmm& tmp) {
    if (!tail) return vmovups(v, a);
    if (z_) {
      vmovups(v, cst(fill));
      vmovups(v | k1, a);
    } else {
      vmaskmovps(v, V(15), a);
      vmovups(tmp, cst(fill));
      vblendvps(v, tmp, v, V(15));
    }
  }
  void store(const Address& a, const Xmm& v, bool tail) {
    if (!tail) {
      vmovups(a, v);
    } else if (z_) {
      vmovups(a | k1, v);
    } else {
      vmaskmovps(a, V(15), v);
    }
  }
  Address at(const Xbyak::Reg64& base, int i) { return ptr[base + r10 + i * vb_]; }

  // ---- loops ----
  // Sweeps a row of `len` elements: body(n, tail) handles n vectors at byte offsets
  // r10 + i * vb_, the last one masked when tail is set.
  template <class F>
  void sweep(int64_t len, int unroll, F body) {
    int64_t full = len / lanes_, blocks = full / unroll;
    int rem = int(full % unroll);
    bool tail = len % lanes_ != 0;
    if (blocks > 0) {
      xor_(r10d, r10d);
      if (blocks == 1) {
        body(unroll, false);
      } else {
        Label top;
        L(top);
        body(unroll, false);
        add(r10, unroll * vb_);
        cmp(r10, int32_t(blocks * unroll * vb_));
        jb(top, T_NEAR);
      }
    }
    if (rem + (tail ? 1 : 0) > 0) {
      mov(r10, blocks * unroll * vb_);
      body(rem + (tail ? 1 : 0), tail);
    }
  }
  template <class F>
  void rows_loop(F body) {
    Label top, done;
    test(rcx, rcx);
    jz(done, T_NEAR);
    L(top);
    body();
    dec(rcx);
    jnz(top, T_NEAR);
    L(done);
  }

  // ---- math (in place on v; t* are scratch) ----
  static constexpr float kExpP[] = {1.9875691500E-4f, 1.3981999507E-3f, 8.3334519073E-3f,
                                    4.1665795894E-2f, 1.6666665459E-1f, 5.0000001201E-1f};
  static constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f,
                         kLn2Lo = -2.12194440e-4f;
  static constexpr float kTanhP[] = {-5.70498872745E-3f, 2.06390887954E-2f, -5.37397155531E-2f,
                                     1.33314422036E-1f, -3.33332819422E-1f};
  // erfc(z) = t exp(-z^2 + P(t)), t = 1/(1 + z/2): the Chebyshev fit of Numerical Recipes
  // (2nd ed., 6.2 "erfcc"), relative error < 1.2e-7.
  static constexpr float kErfcP[] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f,
                                     0.27886807f, -0.18628806f, 0.09678418f, 0.37409196f,
                                     1.00002368f, -1.26551223f};

  void pin_exp(int first) {
    pin({89.0f, -104.0f, kLog2e, kLn2Hi, kLn2Lo}, first);
    for (float p : kExpP) pin({p}, first);
    pin({1.0f}, first);
  }
  void exp_v(const Xmm& v, const Xmm& t0, const Xmm& t1) {
    // Clamps keep NaN: min/max return their second operand when either is NaN.
    vminps(v, creg(89.0f, t0), v);
    vmaxps(v, creg(-104.0f, t0), v);
    vmulps(t0, v, cst(kLog2e));
    if (z_) {
      vrndscaleps(t0, t0, 0);  // n = round(x log2 e), kept as float for vscalefps
    } else {
      vcvtps2dq(t0, t0);
      vcvtdq2ps(t1, t0);
    }
    const Xmm& n = z_ ? t0 : t1;
    vfnmadd231ps(v, n, cst(kLn2Hi));  // r = x - n ln2 (ln2 split in two)
    vfnmadd231ps(v, n, cst(kLn2Lo));
    vmovups(t1, cst(kExpP[0]));
    for (int i = 1; i < 6; ++i) vfmadd213ps(t1, v, cst(kExpP[i]));
    vmulps(t1, t1, v);
    vfmadd213ps(t1, v, v);
    vaddps(t1, t1, cst(1.0f));  // p = e^r
    if (z_) {
      vscalefps(v, t1, t0);  // p * 2^n, IEEE overflow to inf and gradual underflow
      return;
    }
    vpsrad(v, t0, 1);  // 2^n = 2^(n >> 1) * 2^(n - (n >> 1)), each factor normal
    vpsubd(t0, t0, v);
    vpaddd(v, v, cst_bits(127));
    vpslld(v, v, 23);
    vpaddd(t0, t0, cst_bits(127));
    vpslld(t0, t0, 23);
    vmulps(t1, t1, v);
    vmulps(v, t1, t0);
  }
  // dst = 1 / d (d finite, not NaN-sensitive beyond propagation). AVX-512: rcp14 and one
  // Newton step (relative error ~2^-27: vdivps zmm is the throughput limit otherwise).
  void recip(const Xmm& dst, const Xmm& d, const Xmm& tmp) {
    if (z_) {
      vrcp14ps(dst, d);
      vmovups(tmp, cst(1.0f));
      vfnmadd231ps(tmp, d, dst);  // 1 - d r
      vfmadd231ps(dst, dst, tmp);
    } else {
      vmovups(dst, cst(1.0f));
      vdivps(dst, dst, d);
    }
  }
  // dst = (a < c) ? src : dst. Clobbers a on AVX2.
  void select_lt(const Xmm& dst, const Xmm& a, float c, const Xmm& src) {
    if (z_) {
      vcmpps(k2, a, cst(c), kCmpLtOq);
      vmovaps(dst | k2, src);
    } else {
      vcmpps(a, a, cst(c), kCmpLtOq);
      vblendvps(dst, dst, src, a);
    }
  }
  void pin_tanh(int first) {
    pin_exp(first);
    pin_bits({kAbsMask, kSignMask}, first);
    pin({9.0f, 2.0f, 0.625f}, first);
    for (float p : kTanhP) pin({p}, first);
  }
  void tanh_v(const Xmm& v, const Xmm& t0, const Xmm& t1, const Xmm& t2, const Xmm& t3) {
    vandps(t0, v, cst_bits(kAbsMask));  // a = |x|
    vminps(t1, creg(9.0f, t1), t0);     // tanh(9) rounds to 1; keeps e^2a + 1 finite (NaN kept)
    vaddps(t1, t1, t1);
    exp_v(t1, t2, t3);
    vaddps(t1, t1, cst(1.0f));
    recip(t2, t1, t3);
    vmovups(t1, cst(1.0f));
    vfnmadd231ps(t1, t2, cst(2.0f));  // 1 - 2 / (e^2a + 1)
    vmulps(t2, t0, t0);
    vmovups(t3, cst(kTanhP[0]));
    for (int i = 1; i < 5; ++i) vfmadd213ps(t3, t2, cst(kTanhP[i]));
    vmulps(t3, t3, t2);
    vfmadd213ps(t3, t0, t0);  // a + a^3 P(a^2)
    select_lt(t1, t0, 0.625f, t3);
    vandps(t0, v, cst_bits(kSignMask));
    vorps(v, t1, t0);
  }
  void pin_sigmoid(int first) {
    pin_exp(first);
    pin_bits({kSignMask}, first);
  }
  // sigmoid(x) = r for x >= 0, e r for x < 0, with e = exp(-|x|) and r = 1 / (1 + e): the
  // denominator stays in (1, 2], and tiny results underflow gracefully through e.
  void sigmoid_v(const Xmm& v, const Xmm& t0, const Xmm& t1, const Xmm& t2, const Xmm& t3) {
    vorps(t0, v, cst_bits(kSignMask));  // -|x|
    exp_v(t0, t1, t2);
    vaddps(t1, t0, cst(1.0f));
    recip(t2, t1, t3);
    vmulps(t1, t0, t2);
    if (z_) {
      vpmovd2m(k2, v);  // sign bits of x
      vmovaps(t2 | k2, t1);
      vmovaps(v, t2);
    } else {
      vblendvps(v, t2, t1, v);
    }
  }
  void pin_gelu(int first) {
    pin_exp(first);
    pin_bits({kAbsMask}, first);
    pin({float(M_SQRT1_2), 0.5f, 1e4f}, first);
    for (float p : kErfcP) pin({p}, first);
  }
  // gelu(x) = max(x, 0) - |x|/2 erfc(|x|/sqrt2): equal to x/2 (1 + erf(x/sqrt2)) on both
  // sides, without cancellation for x < 0.
  void gelu_v(const Xmm& v, const Xmm& t0, const Xmm& t1, const Xmm& t2, const Xmm& t3) {
    vandps(t0, v, cst_bits(kAbsMask));
    vminps(t0, t0, cst(1e4f));              // erfc is exactly 0 long before: keeps inf * 0 out
    vmulps(t0, t0, cst(float(M_SQRT1_2)));  // z
    vmovups(t1, cst(0.5f));
    vfmadd213ps(t1, t0, cst(1.0f));
    recip(t2, t1, t3);  // t
    vmovups(t1, t2);
    vmovups(t2, cst(kErfcP[0]));
    for (int i = 1; i < 10; ++i) vfmadd213ps(t2, t1, cst(kErfcP[i]));
    vmulps(t3, t0, t0);
    vsubps(t2, t2, t3);
    exp_v(t2, t0, t3);
    vmulps(t2, t2, t1);  // erfc(z)
    vandps(t0, v, cst_bits(kAbsMask));
    vmulps(t0, t0, cst(0.5f));
    vminps(t0, t0, cst(1e4f));
    vmulps(t2, t2, t0);
    vxorps(t0, t0, t0);
    vmaxps(t0, t0, v);
    vsubps(v, t0, t2);
  }

  // ---- kernels ----
  void emit_unary() {
    auto op = UnaryOp(k_.op);
    int regs = op == UnaryOp::kRelu ? 2 : op == UnaryOp::kExp ? 3 : 5;
    int unroll = z_ ? (regs >= 5 ? 3 : 4) : std::min(4, 15 / regs);
    int first = unroll * regs;
    switch (op) {
      case UnaryOp::kRelu:
        break;
      case UnaryOp::kExp:
        pin_exp(first);
        break;
      case UnaryOp::kSigmoid:
        pin_sigmoid(first);
        break;
      case UnaryOp::kTanh:
        pin_tanh(first);
        break;
      case UnaryOp::kGelu:
        pin_gelu(first);
        break;
    }
    rows_loop([&] {
      sweep(k_.len, unroll, [&](int n, bool tail) {
        for (int i = 0; i < n; ++i) {
          bool t = tail && i == n - 1;
          int r = i * regs;
          load(V(r), at(rdi, i), t);
          switch (op) {
            case UnaryOp::kRelu:
              vxorps(V(r + 1), V(r + 1), V(r + 1));
              vmaxps(V(r), V(r + 1), V(r));
              break;
            case UnaryOp::kExp:
              exp_v(V(r), V(r + 1), V(r + 2));
              break;
            case UnaryOp::kSigmoid:
              sigmoid_v(V(r), V(r + 1), V(r + 2), V(r + 3), V(r + 4));
              break;
            case UnaryOp::kTanh:
              tanh_v(V(r), V(r + 1), V(r + 2), V(r + 3), V(r + 4));
              break;
            case UnaryOp::kGelu:
              gelu_v(V(r), V(r + 1), V(r + 2), V(r + 3), V(r + 4));
              break;
          }
          store(at(rdx, i), V(r), t);
        }
      });
      add(rdi, int32_t(k_.len * 4));
      add(rdx, int32_t(k_.len * 4));
    });
  }

  // d = a op b; `tmp` is scratch (NaN selection of max/min on AVX2).
  void binary_op(const Xmm& d, const Xmm& a, const Xmm& b, const Xmm& tmp) {
    switch (BinaryOp(k_.op)) {
      case BinaryOp::kAdd:
        return vaddps(d, a, b);
      case BinaryOp::kSub:
        return vsubps(d, a, b);
      case BinaryOp::kMul:
        return vmulps(d, a, b);
      case BinaryOp::kDiv:
        return vdivps(d, a, b);
      case BinaryOp::kMax:
      case BinaryOp::kMin:
        // maxps/minps return the second operand when either is NaN: take a, then b if b is NaN.
        if (BinaryOp(k_.op) == BinaryOp::kMax) {
          vmaxps(d, b, a);
        } else {
          vminps(d, b, a);
        }
        if (z_) {
          vcmpps(k2, b, b, kCmpUnordQ);
          vmovaps(d | k2, b);
        } else {
          vcmpps(tmp, b, b, kCmpUnordQ);
          vblendvps(d, d, b, tmp);
        }
        return;
    }
  }

  void emit_binary() {
    Xmm ba = V(z_ ? 30 : 13), bb = V(z_ ? 31 : 14);
    int unroll = z_ ? 4 : 3;
    rows_loop([&] {
      if (k_.a_bcast) vbroadcastss(ba, ptr[rdi]);
      if (k_.b_bcast) vbroadcastss(bb, ptr[rsi]);
      sweep(k_.len, unroll, [&](int n, bool tail) {
        for (int i = 0; i < n; ++i) {
          bool t = tail && i == n - 1;
          Xmm a = ba, b = bb, d = V(4 * i + 2), tmp = V(4 * i + 3);
          if (!k_.a_bcast) load(a = V(4 * i), at(rdi, i), t);
          if (!k_.b_bcast) load(b = V(4 * i + 1), at(rsi, i), t);
          binary_op(d, a, b, tmp);
          store(at(rdx, i), d, t);
        }
      });
      if (k_.a_row != 0) add(rdi, int32_t(k_.a_row * 4));
      if (k_.b_row != 0) add(rsi, int32_t(k_.b_row * 4));
      add(rdx, int32_t(k_.len * 4));
    });
  }

  bool is_max() const { return ReduceOp(k_.op) == ReduceOp::kMax; }
  void accumulate(const Xmm& acc, const Xmm& v) {
    if (is_max()) {
      vmaxps(acc, acc, v);
    } else {
      vaddps(acc, acc, v);
    }
  }
  // Horizontal reduction of V(v) into lane 0 of Xmm(v); V(t) is scratch.
  void hreduce(int v, int t, bool max) {
    auto op = [&](const Xmm& d, const Xmm& a, const Xmm& b) {
      if (max) {
        vmaxps(d, a, b);
      } else {
        vaddps(d, a, b);
      }
    };
    if (z_) {
      vextractf32x8(Ymm(t), Zmm(v), 1);
      op(Ymm(v), Ymm(v), Ymm(t));
    }
    vextractf128(Xmm(t), Ymm(v), 1);
    op(Xmm(v), Xmm(v), Xmm(t));
    vmovhlps(Xmm(t), Xmm(t), Xmm(v));
    op(Xmm(v), Xmm(v), Xmm(t));
    vmovshdup(Xmm(t), Xmm(v));
    op(Xmm(v), Xmm(v), Xmm(t));
  }
  // Four partial accumulators V(0..3) over one row at rdi, combined into lane 0 of xmm0.
  // Max: tail lanes are filled with -inf; with `track_nan`, NaN elements set the flag
  // (ymm4 / k3) checked by the caller.
  void row_reduce(bool max, bool track_nan) {
    for (int i = 0; i < 4; ++i) {
      if (max) {
        vmovups(V(i), cst(-std::numeric_limits<float>::infinity()));
      } else {
        vxorps(V(i), V(i), V(i));
      }
    }
    if (track_nan) {
      if (z_) {
        kxorw(k3, k3, k3);
      } else {
        vxorps(V(4), V(4), V(4));
      }
    }
    sweep(k_.len, 4, [&](int n, bool tail) {
      for (int i = 0; i < n; ++i) {
        bool t = tail && i == n - 1;
        Xmm v = V(8 + i);
        if (max) {
          load_fill(v, at(rdi, i), t, -std::numeric_limits<float>::infinity(), V(13));
          vmaxps(V(i), V(i), v);
        } else {
          load(v, at(rdi, i), t);
          vaddps(V(i), V(i), v);
        }
        if (track_nan) {
          if (z_) {
            vcmpps(k2, v, v, kCmpUnordQ);
            korw(k3, k3, k2);
          } else {
            vcmpps(V(12), v, v, kCmpUnordQ);
            vorps(V(4), V(4), V(12));
          }
        }
      }
    });
    for (auto [d, s] : {std::pair{0, 1}, {2, 3}, {0, 2}}) {
      if (max) {
        vmaxps(V(d), V(d), V(s));
      } else {
        vaddps(V(d), V(d), V(s));
      }
    }
    hreduce(0, 8, max);
  }

  void emit_reduce_rows() {
    float scale = 1.0f / float(k_.len);
    rows_loop([&] {
      row_reduce(is_max(), is_max());
      if (ReduceOp(k_.op) == ReduceOp::kMean) vmulss(xmm0, xmm0, mem(scale));
      if (is_max()) {
        Label clean;
        if (z_) {
          kortestw(k3, k3);
        } else {
          vmovmskps(eax, Ymm(4));
          test(eax, eax);
        }
        jz(clean, T_NEAR);
        vmovss(xmm0, mem(std::numeric_limits<float>::quiet_NaN()));
        L(clean);
      }
      vmovss(ptr[rdx], xmm0);
      add(rdi, int32_t(k_.len * 4));
      add(rdx, 4);
    });
  }

  void emit_reduce_cols() {
    int64_t stride = k_.inner * 4;
    rows_loop([&] {
      sweep(k_.inner, 4, [&](int n, bool tail) {
        auto flag_nan = [&](int i, const Xmm& v, bool first) {
          if (z_) {
            Opmask f(4 + i);
            vcmpps(first ? f : k2, v, v, kCmpUnordQ);
            if (!first) korw(f, f, k2);
          } else {
            vcmpps(first ? V(4 + i) : V(12), v, v, kCmpUnordQ);
            if (!first) vorps(V(4 + i), V(4 + i), V(12));
          }
        };
        for (int i = 0; i < n; ++i) {
          load(V(i), at(rdi, i), tail && i == n - 1);
          if (is_max()) flag_nan(i, V(i), true);
        }
        if (k_.len > 1) {
          lea(rax, ptr[rdi + r10 + stride]);
          mov(r8, k_.len - 1);
          Label top;
          L(top);
          for (int i = 0; i < n; ++i) {
            load(V(8 + i), ptr[rax + i * vb_], tail && i == n - 1);
            accumulate(V(i), V(8 + i));
            if (is_max()) flag_nan(i, V(8 + i), false);
          }
          add(rax, int32_t(stride));
          dec(r8);
          jnz(top, T_NEAR);
        }
        for (int i = 0; i < n; ++i) {
          if (ReduceOp(k_.op) == ReduceOp::kMean) vmulps(V(i), V(i), cst(1.0f / float(k_.len)));
          if (is_max()) {
            Address nan = mem(std::numeric_limits<float>::quiet_NaN());
            if (z_) {
              vmovups(V(i) | Opmask(4 + i), nan);
            } else {
              vblendvps(V(i), V(i), nan, V(4 + i));
            }
          }
          store(at(rdx, i), V(i), tail && i == n - 1);
        }
      });
      add(rdi, int32_t(k_.len * stride));
      add(rdx, int32_t(stride));
    });
  }

  void emit_softmax() {
    Xmm vm = V(z_ ? 28 : 12);
    pin_exp(14);  // AVX-512: registers 14..27 are free in this kernel
    rows_loop([&] {
      row_reduce(true, false);  // a NaN max makes the whole row NaN below, as it should
      vbroadcastss(vm, xmm0);
      vxorps(V(0), V(0), V(0));
      vxorps(V(1), V(1), V(1));
      sweep(k_.len, 2, [&](int n, bool tail) {
        for (int i = 0; i < n; ++i) {
          bool t = tail && i == n - 1;
          Xmm v = V(2 + 3 * i);
          load(v, at(rdi, i), t);
          vsubps(v, v, vm);
          exp_v(v, V(3 + 3 * i), V(4 + 3 * i));
          store(at(rdx, i), v, t);
          if (t && z_) {
            vaddps(V(i) | k1, V(i), v);
          } else {
            if (t) vandps(v, v, V(15));
            vaddps(V(i), V(i), v);
          }
        }
      });
      vaddps(V(0), V(0), V(1));
      hreduce(0, 8, false);
      vmovss(xmm1, mem(1.0f));
      vdivss(xmm0, xmm1, xmm0);
      vbroadcastss(vm, xmm0);
      sweep(k_.len, 4, [&](int n, bool tail) {
        for (int i = 0; i < n; ++i) {
          bool t = tail && i == n - 1;
          load(V(i), at(rdx, i), t);
          vmulps(V(i), V(i), vm);
          store(at(rdx, i), V(i), t);
        }
      });
      add(rdi, int32_t(k_.len * 4));
      add(rdx, int32_t(k_.len * 4));
    });
  }

  void emit_layer_norm() {
    Xmm vmean = V(z_ ? 28 : 12), vr = V(z_ ? 29 : 13), veps = V(z_ ? 30 : 14);
    float inv_n = 1.0f / float(k_.len);
    vbroadcastss(veps, ptr[r9]);
    rows_loop([&] {
      row_reduce(false, false);
      vmulss(xmm0, xmm0, mem(inv_n));
      vbroadcastss(vmean, xmm0);
      for (int i = 0; i < 4; ++i) vxorps(V(i), V(i), V(i));
      sweep(k_.len, 4, [&](int n, bool tail) {
        for (int i = 0; i < n; ++i) {
          bool t = tail && i == n - 1;
          Xmm v = V(8 + i);
          load(v, at(rdi, i), t);
          vsubps(v, v, vmean);
          if (t && z_) {
            vfmadd231ps(V(i) | k1, v, v);
          } else {
            if (t) vandps(v, v, V(15));
            vfmadd231ps(V(i), v, v);
          }
        }
      });
      vaddps(V(0), V(0), V(1));
      vaddps(V(2), V(2), V(3));
      vaddps(V(0), V(0), V(2));
      hreduce(0, 8, false);
      vmulss(xmm0, xmm0, mem(inv_n));
      vaddss(xmm0, xmm0, Xmm(veps.getIdx()));
      vsqrtss(xmm0, xmm0, xmm0);
      vmovss(xmm1, mem(1.0f));
      vdivss(xmm0, xmm1, xmm0);
      vbroadcastss(vr, xmm0);
      sweep(k_.len, 4, [&](int n, bool tail) {
        for (int i = 0; i < n; ++i) {
          bool t = tail && i == n - 1;
          Xmm v = V(i), p = V(4 + i);
          load(v, at(rdi, i), t);
          vsubps(v, v, vmean);
          vmulps(v, v, vr);
          if (k_.gamma) {
            load(p, at(rsi, i), t);
            vmulps(v, v, p);
          }
          if (k_.beta) {
            load(p, at(r8, i), t);
            vaddps(v, v, p);
          }
          store(at(rdx, i), v, t);
        }
      });
      add(rdi, int32_t(k_.len * 4));
      add(rdx, int32_t(k_.len * 4));
    });
  }

  const OpKey& k_;
  bool z_ = false;
  int lanes_ = 8, vb_ = 32, tail_ = 0;
  Label mask_;
  std::map<uint32_t, size_t> const_index_;
  std::deque<Label> consts_;
  std::map<uint32_t, size_t> pinned_;
  std::deque<Xmm> pinned_regs_;
  std::deque<Address> addr_store_;
};

// Every immediate and displacement the kernels use must fit in 32 bits.
bool encodable(const OpKey& k) {
  constexpr int64_t kMax = int64_t(1) << 30;
  int64_t inner = std::max<int64_t>(1, k.inner);
  return k.len > 0 && k.len * 4 < kMax && inner * 4 < kMax && k.len * inner * 4 < kMax &&
         k.a_row * 4 < kMax && k.b_row * 4 < kMax;
}

}  // namespace

Status generate_op(const OpKey& key, std::vector<uint8_t>& out) {
  if (key.isa == Isa::kScalar || !encodable(key)) {
    return make_error(ErrorCode::kCompileFailed,
                      "no generated kernel for " + key.to_string() + " (generic code runs)");
  }
  thread_local std::vector<uint8_t> scratch(size_t(64) << 10);
  Xbyak::ClearError();
  OpEmitter e(key, scratch.size(), scratch.data());
  e.emit();
  e.ready();
  if (int err = Xbyak::GetError(); err != 0) {
    return make_error(ErrorCode::kCompileFailed,
                      std::string("kernel emission failed: ") + Xbyak::ConvertErrorToString(err));
  }
  out.assign(e.getCode(), e.getCode() + e.getSize());
  return {};
}

}  // namespace tierjit::kernels
