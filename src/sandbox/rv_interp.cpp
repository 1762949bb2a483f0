// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The sandbox interpreter: a direct-threaded loop over the decoded-instruction cache
// (computed goto; one handler per operation of rv_ops.def). Semantics follow the RISC-V
// Unprivileged ISA manual: integer division by zero and overflow (M, table 7.1), NaN boxing
// and canonical NaNs (F, 11.2-11.3), saturating float-to-integer conversion (F, table 11.4),
// fmin/fmax on NaNs and signed zeros (F, 11.6 as amended by the 2.2 F spec), LR/SC on a single
// hart (A, 8.2).
//
// Floating-point exception flags come from the host's MXCSR, whose sticky bits match RISC-V's
// for +,-,*,/,sqrt,fma and conversions between formats (tininess after rounding on both); the
// operations whose flags differ (compares, min/max, float->int conversions) set them by hand.
// Rounding modes map to MXCSR's; RMM (round to nearest, ties away) is exact for float->int
// conversions and rounds to nearest-even in arithmetic (x86 has no such mode).
#include <fmt/format.h>
#include <xmmintrin.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "sandbox/machine.hpp"

namespace tierjit::sandbox {
namespace {

constexpr uint64_t kCanonicalNaN64 = 0x7ff8000000000000ull;
constexpr uint64_t kCanonicalNaN32Boxed = 0xffffffff7fc00000ull;
constexpr uint32_t kNV = 16, kDZ = 8, kOF = 4, kUF = 2, kNX = 1;

inline float unbox(uint64_t v) {
  if ((v >> 32) != 0xffffffffu) return std::bit_cast<float>(0x7fc00000u);
  return std::bit_cast<float>(static_cast<uint32_t>(v));
}
inline uint64_t box(float f) { return 0xffffffff00000000ull | std::bit_cast<uint32_t>(f); }
inline uint64_t box_c(float f) { return f != f ? kCanonicalNaN32Boxed : box(f); }
inline double dbl(uint64_t v) { return std::bit_cast<double>(v); }
inline uint64_t bits_c(double d) { return d != d ? kCanonicalNaN64 : std::bit_cast<uint64_t>(d); }
inline bool is_snan32(float f) {
  uint32_t b = std::bit_cast<uint32_t>(f);
  return (b & 0x7fc00000u) == 0x7f800000u && (b & 0x003fffffu) != 0;
}
inline bool is_snan64(double d) {
  uint64_t b = std::bit_cast<uint64_t>(d);
  return (b & 0x7ff8000000000000ull) == 0x7ff0000000000000ull && (b & 0x0007ffffffffffffull) != 0;
}

// MXCSR <-> RISC-V flags and rounding modes.
inline uint32_t host_flags() {
  uint32_t c = _mm_getcsr();
  return ((c & 0x01) ? kNV : 0) | ((c & 0x04) ? kDZ : 0) | ((c & 0x08) ? kOF : 0) |
         ((c & 0x10) ? kUF : 0) | ((c & 0x20) ? kNX : 0);
}
inline void clear_host_flags() { _mm_setcsr(_mm_getcsr() & ~0x3fu); }
// Entry: clear stale host flags and select round-to-nearest, writing MXCSR (slow: ~10 cycles)
// only when something has to change; a vmcall of integer code then never writes it.
inline void enter_fp_state() {
  uint32_t c = _mm_getcsr();
  if (c & 0x603fu) _mm_setcsr(c & ~0x603fu);
}
inline void set_host_rounding(unsigned rm) {
  static constexpr uint32_t kRc[] = {0, 3, 1, 2, 0};  // RNE, RTZ, RDN, RUP, RMM(~RNE)
  _mm_setcsr((_mm_getcsr() & ~0x6000u) | (kRc[rm] << 13));
}

// Rounds to an integral value per RISC-V rm (0..4).
inline double round_rm(double v, unsigned rm) {
  switch (rm) {
    case 1:
      return std::trunc(v);
    case 2:
      return std::floor(v);
    case 3:
      return std::ceil(v);
    case 4:
      return std::round(v);
    default:
      return __builtin_roundeven(v);
  }
}

// Float -> integer with RISC-V saturation (table 11.4) and flags. `lo`/`hi` are the bounds of
// the destination type as doubles (hi exclusive: 2^31, 2^32, 2^63, 2^64).
template <class T>
inline T fcvt_int(double v, unsigned rm, uint32_t& flags) {
  constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
  constexpr double hi = std::is_signed_v<T>
                            ? -lo
                            : 2.0 * (static_cast<double>(std::numeric_limits<T>::max() / 2) + 1);
  if (v != v) {
    flags |= kNV;
    return std::numeric_limits<T>::max();
  }
  double r = round_rm(v, rm);
  if (r < lo) {
    flags |= kNV;
    return std::numeric_limits<T>::min();
  }
  if (r >= hi) {
    flags |= kNV;
    return std::numeric_limits<T>::max();
  }
  if (r != v) flags |= kNX;
  return static_cast<T>(r);
}

template <class F>
inline F fmin_rv(F a, F b, bool is_max, uint32_t& flags, bool snan) {
  if (snan) flags |= kNV;
  if (a != a && b != b) return std::numeric_limits<F>::quiet_NaN();
  if (a != a) return b;
  if (b != b) return a;
  if (a == b) return (std::signbit(a) != is_max) ? a : b;  // -0 < +0
  return ((a < b) != is_max) ? a : b;
}

template <class F, class U>
inline uint64_t fclass(F v) {
  U b = std::bit_cast<U>(v);
  bool neg = std::signbit(v);
  switch (std::fpclassify(v)) {
    case FP_INFINITE:
      return neg ? 1u << 0 : 1u << 7;
    case FP_NORMAL:
      return neg ? 1u << 1 : 1u << 6;
    case FP_SUBNORMAL:
      return neg ? 1u << 2 : 1u << 5;
    case FP_ZERO:
      return neg ? 1u << 3 : 1u << 4;
    default: {
      constexpr U quiet = std::is_same_v<F, float> ? U{1} << 22 : U{1} << 51;
      return (b & quiet) ? 1u << 9 : 1u << 8;
    }
  }
}

inline uint64_t sx32(uint64_t v) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
}

}  // namespace

void Sandbox::Impl::execute(uint64_t budget) {
  // Handlers as 32-bit offsets from one base label (GCC's label-difference extension), so a
  // cache entry is 16 bytes: big programs keep more of their decoded text in cache.
#define HOFF(label) \
  static_cast<int32_t>(reinterpret_cast<intptr_t>(&&label) - reinterpret_cast<intptr_t>(&&L_decode))
  static const int32_t kLabels[] = {
#define RV_OP(name, xrd) HOFF(L_##name),
#include "sandbox/rv_ops.def"
#undef RV_OP
  };
  char* const kBase = static_cast<char*>(&&L_decode);
  if (!cache_ready) {
    for (Insn& e : cache) e.handler = 0;         // L_decode
    cache.back().handler = HOFF(L_end_of_text);  // the sentinel after the last instruction
    cache_ready = true;
  }
  stop = false;
  result.reason = StopReason::kFault;
  result.exit_code = 0;
  result.value = 0;
  result.fvalue = 0;
  result.fault = FaultKind::kNone;
  result.pc = result.addr = 0;
  result.message.clear();
  uint64_t* const X = x;
  uint64_t* const F = f;
  uint8_t* const M = mem;
  Insn* const C = cache.data();
  const uint64_t elo = exec_lo, esize = exec_hi - exec_lo;
  const uint64_t mend = mem_size, slo = stack_lo, rlo = ro_lo, wlo = rw_lo;
  uint64_t hbrk = brk;
  uint64_t left = budget;
  uint64_t fault_addr = 0, target = 0;
  unsigned host_rm = 0;
  uint32_t soft_flags = 0;
  Insn* in = nullptr;
  // MXCSR is read and written only once the guest runs a floating-point instruction that can
  // set flags or round (FP_ENTER): reading it costs ~5 ns, a third of an empty vmcall.
  bool fp_touched = false;

#define FP_ENTER()                          \
  do {                                      \
    if (__builtin_expect(!fp_touched, 0)) { \
      enter_fp_state();                     \
      fp_touched = true;                    \
    }                                       \
  } while (0)
#define PC_OF(p) (elo + static_cast<uint64_t>((p)-C) * 2)
#define DISPATCH()                                     \
  do {                                                 \
    if (__builtin_expect(left == 0, 0)) goto L_budget; \
    --left;                                            \
    goto*(kBase + in->handler);                        \
  } while (0)
#define NEXT()      \
  do {              \
    in += in->step; \
    DISPATCH();     \
  } while (0)
#define CAN_READ(a, n) (((a) >= slo && (a) <= mend - (n)) || ((a) >= rlo && (a) <= hbrk - (n)))
#define CAN_WRITE(a, n) (((a) >= slo && (a) <= mend - (n)) || ((a) >= wlo && (a) <= hbrk - (n)))
#define LOAD(T, addr)                                    \
  ({                                                     \
    uint64_t a_ = (addr);                                \
    if (__builtin_expect(!CAN_READ(a_, sizeof(T)), 0)) { \
      fault_addr = a_;                                   \
      goto L_load_fault;                                 \
    }                                                    \
    T v_;                                                \
    std::memcpy(&v_, M + a_, sizeof(T));                 \
    v_;                                                  \
  })
#define STORE(T, addr, val)                               \
  do {                                                    \
    uint64_t a_ = (addr);                                 \
    if (__builtin_expect(!CAN_WRITE(a_, sizeof(T)), 0)) { \
      fault_addr = a_;                                    \
      goto L_store_fault;                                 \
    }                                                     \
    T v_ = static_cast<T>(val);                           \
    std::memcpy(M + a_, &v_, sizeof(T));                  \
  } while (0)
#define JUMP_TO(t)                                                                   \
  do {                                                                               \
    target = (t);                                                                    \
    if (__builtin_expect(target - elo >= esize || (target & 1), 0)) goto L_jump_out; \
    in = C + ((target - elo) >> 1);                                                  \
    DISPATCH();                                                                      \
  } while (0)
#define RD X[in->rd]
#define RS1 X[in->rs1]
#define RS2 X[in->rs2]
#define SRS1 static_cast<int64_t>(X[in->rs1])
#define SRS2 static_cast<int64_t>(X[in->rs2])
#define FRM_SET()                             \
  do {                                        \
    FP_ENTER();                               \
    unsigned r_ = in->rm == 7 ? frm : in->rm; \
    if (__builtin_expect(r_ != host_rm, 0)) { \
      if (r_ > 4) goto L_ILLEGAL;             \
      set_host_rounding(r_);                  \
      host_rm = r_;                           \
    }                                         \
  } while (0)
// flt/fle: any NaN operand gives 0 and sets NV (signaling comparisons, F spec 11.8).
#define FCMP_SIGNALING(A, B, OP) \
  do {                           \
    FP_ENTER();                  \
    auto a_ = (A);               \
    auto b_ = (B);               \
    if (a_ != a_ || b_ != b_) {  \
      soft_flags |= kNV;         \
      RD = 0;                    \
    } else {                     \
      RD = a_ OP b_;             \
    }                            \
    NEXT();                      \
  } while (0)
#define RM_NOW() (in->rm == 7 ? frm : in->rm)
#define FS1 unbox(F[in->rs1])
#define FS2 unbox(F[in->rs2])
#define FS3 unbox(F[in->rs3])
#define DS1 dbl(F[in->rs1])
#define DS2 dbl(F[in->rs2])
#define DS3 dbl(F[in->rs3])

  {
    if (pc - elo >= esize || (pc & 1)) {
      target = pc;
      in = nullptr;
      goto L_jump_out;
    }
    in = C + ((pc - elo) >> 1);
    DISPATCH();
  }

L_decode : {
  uint64_t at = PC_OF(in);
  uint16_t lo;
  std::memcpy(&lo, M + at, 2);
  unsigned len = insn_length(lo);
  Decoded d;
  if (len == 2) {
    d = decode16(lo);
  } else if (len == 4 && at + 4 <= exec_hi) {
    uint32_t w;
    std::memcpy(&w, M + at, 4);
    d = decode32(w);
  } else {
    d.op = Op::ILLEGAL;
    d.len = 2;
  }
  Insn& e = *in;
  e.op = d.op;
  e.rd = (writes_xrd(d.op) && d.rd == 0) ? 32 : d.rd;
  e.rs1 = d.rs1;
  e.rs2 = d.rs2;
  e.rs3 = d.rs3;
  e.rm = d.rm;
  e.step = static_cast<uint8_t>(d.len / 2);
  e.imm = d.imm;
  switch (d.op) {
    case Op::JAL:
    case Op::BEQ:
    case Op::BNE:
    case Op::BLT:
    case Op::BGE:
    case Op::BLTU:
    case Op::BGEU: {
      // Branch targets become entry offsets; a target outside text (or odd) keeps the byte
      // offset and takes the checked path when the branch is taken.
      uint64_t t = at + static_cast<int64_t>(d.imm);
      if (t - elo < esize && !(t & 1))
        e.imm = d.imm / 2, e.rs3 = 1;
      else
        e.rs3 = 0;
      break;
    }
    default:
      break;
  }
  e.handler = kLabels[static_cast<int>(d.op)];
  goto*(kBase + e.handler);
}

// ---- RV64I ----
L_LUI:
  RD = static_cast<uint64_t>(static_cast<int64_t>(in->imm));
  NEXT();
L_AUIPC:
  RD = PC_OF(in) + static_cast<int64_t>(in->imm);
  NEXT();
L_JAL : {
  uint64_t link = PC_OF(in) + in->step * 2;
  if (__builtin_expect(in->rs3 == 0, 0)) {
    target = PC_OF(in) + static_cast<int64_t>(in->imm);
    RD = link;
    goto L_jump_out;
  }
  RD = link;
  in += in->imm;
  DISPATCH();
}
L_JALR : {
  uint64_t t = (RS1 + static_cast<int64_t>(in->imm)) & ~uint64_t{1};
  RD = PC_OF(in) + in->step * 2;
  JUMP_TO(t);
}
#define BRANCH(cond)                                        \
  do {                                                      \
    if (cond) {                                             \
      if (__builtin_expect(in->rs3 == 0, 0)) {              \
        target = PC_OF(in) + static_cast<int64_t>(in->imm); \
        goto L_jump_out;                                    \
      }                                                     \
      in += in->imm;                                        \
      DISPATCH();                                           \
    }                                                       \
    NEXT();                                                 \
  } while (0)
L_BEQ:
  BRANCH(RS1 == RS2);
L_BNE:
  BRANCH(RS1 != RS2);
L_BLT:
  BRANCH(SRS1 < SRS2);
L_BGE:
  BRANCH(SRS1 >= SRS2);
L_BLTU:
  BRANCH(RS1 < RS2);
L_BGEU:
  BRANCH(RS1 >= RS2);
L_LB:
  RD = static_cast<uint64_t>(static_cast<int64_t>(LOAD(int8_t, RS1 + in->imm)));
  NEXT();
L_LH:
  RD = static_cast<uint64_t>(static_cast<int64_t>(LOAD(int16_t, RS1 + in->imm)));
  NEXT();
L_LW:
  RD = static_cast<uint64_t>(static_cast<int64_t>(LOAD(int32_t, RS1 + in->imm)));
  NEXT();
L_LD:
  RD = LOAD(uint64_t, RS1 + in->imm);
  NEXT();
L_LBU:
  RD = LOAD(uint8_t, RS1 + in->imm);
  NEXT();
L_LHU:
  RD = LOAD(uint16_t, RS1 + in->imm);
  NEXT();
L_LWU:
  RD = LOAD(uint32_t, RS1 + in->imm);
  NEXT();
L_SB:
  STORE(uint8_t, RS1 + in->imm, RS2);
  NEXT();
L_SH:
  STORE(uint16_t, RS1 + in->imm, RS2);
  NEXT();
L_SW:
  STORE(uint32_t, RS1 + in->imm, RS2);
  NEXT();
L_SD:
  STORE(uint64_t, RS1 + in->imm, RS2);
  NEXT();
L_ADDI:
  RD = RS1 + static_cast<int64_t>(in->imm);
  NEXT();
L_SLTI:
  RD = SRS1 < static_cast<int64_t>(in->imm);
  NEXT();
L_SLTIU:
  RD = RS1 < static_cast<uint64_t>(static_cast<int64_t>(in->imm));
  NEXT();
L_XORI:
  RD = RS1 ^ static_cast<uint64_t>(static_cast<int64_t>(in->imm));
  NEXT();
L_ORI:
  RD = RS1 | static_cast<uint64_t>(static_cast<int64_t>(in->imm));
  NEXT();
L_ANDI:
  RD = RS1 & static_cast<uint64_t>(static_cast<int64_t>(in->imm));
  NEXT();
L_SLLI:
  RD = RS1 << in->imm;
  NEXT();
L_SRLI:
  RD = RS1 >> in->imm;
  NEXT();
L_SRAI:
  RD = static_cast<uint64_t>(SRS1 >> in->imm);
  NEXT();
L_ADD:
  RD = RS1 + RS2;
  NEXT();
L_SUB:
  RD = RS1 - RS2;
  NEXT();
L_SLL:
  RD = RS1 << (RS2 & 63);
  NEXT();
L_SLT:
  RD = SRS1 < SRS2;
  NEXT();
L_SLTU:
  RD = RS1 < RS2;
  NEXT();
L_XOR:
  RD = RS1 ^ RS2;
  NEXT();
L_SRL:
  RD = RS1 >> (RS2 & 63);
  NEXT();
L_SRA:
  RD = static_cast<uint64_t>(SRS1 >> (RS2 & 63));
  NEXT();
L_OR:
  RD = RS1 | RS2;
  NEXT();
L_AND:
  RD = RS1 & RS2;
  NEXT();
L_ADDIW:
  RD = sx32(RS1 + static_cast<int64_t>(in->imm));
  NEXT();
L_SLLIW:
  RD = sx32(static_cast<uint32_t>(RS1) << in->imm);
  NEXT();
L_SRLIW:
  RD = sx32(static_cast<uint32_t>(RS1) >> in->imm);
  NEXT();
L_SRAIW:
  RD = sx32(static_cast<uint32_t>(static_cast<int32_t>(RS1) >> in->imm));
  NEXT();
L_ADDW:
  RD = sx32(RS1 + RS2);
  NEXT();
L_SUBW:
  RD = sx32(RS1 - RS2);
  NEXT();
L_SLLW:
  RD = sx32(static_cast<uint32_t>(RS1) << (RS2 & 31));
  NEXT();
L_SRLW:
  RD = sx32(static_cast<uint32_t>(RS1) >> (RS2 & 31));
  NEXT();
L_SRAW:
  RD = sx32(static_cast<uint32_t>(static_cast<int32_t>(RS1) >> (RS2 & 31)));
  NEXT();
L_FENCE:
  NEXT();
L_FENCE_I:
  NEXT();
L_ECALL : {
  pc = PC_OF(in);
  if (!syscall()) goto L_stopped;
  hbrk = brk;
  if (__builtin_expect(stop, 0)) goto L_stopped;
  NEXT();
}
L_EBREAK:
  fault(FaultKind::kBreakpoint, PC_OF(in), PC_OF(in), "ebreak");
  goto L_stopped;

// ---- Zicsr: fflags 0x001, frm 0x002, fcsr 0x003, cycle 0xC00, time 0xC01, instret 0xC02 ----
L_CSRRW:
L_CSRRS:
L_CSRRC:
L_CSRRWI:
L_CSRRSI:
L_CSRRCI : {
  unsigned csr = static_cast<unsigned>(in->imm);
  bool imm_form = in->op == Op::CSRRWI || in->op == Op::CSRRSI || in->op == Op::CSRRCI;
  uint64_t src = imm_form ? in->rs1 : RS1;
  bool is_write = in->op == Op::CSRRW || in->op == Op::CSRRWI || in->rs1 != 0;
  FP_ENTER();
  soft_flags |= host_flags();
  clear_host_flags();
  fflags |= soft_flags;
  soft_flags = 0;
  uint64_t old;
  switch (csr) {
    case 0x001:
      old = fflags;
      break;
    case 0x002:
      old = frm;
      break;
    case 0x003:
      old = (static_cast<uint64_t>(frm) << 5) | fflags;
      break;
    case 0xC00:
    case 0xC02:
      old = retired_total + (budget - left);
      break;
    case 0xC01:
      old = retired_total + (budget - left);
      break;
    default:
      goto L_ILLEGAL;
  }
  if (is_write) {
    if (csr >= 0xC00) goto L_ILLEGAL;
    uint64_t v = (in->op == Op::CSRRW || in->op == Op::CSRRWI)   ? src
                 : (in->op == Op::CSRRS || in->op == Op::CSRRSI) ? (old | src)
                                                                 : (old & ~src);
    if (csr == 0x001) fflags = v & 0x1f;
    if (csr == 0x002) frm = v & 7;
    if (csr == 0x003) fflags = v & 0x1f, frm = (v >> 5) & 7;
  }
  RD = old;
  NEXT();
}

// ---- M ----
L_MUL:
  RD = RS1 * RS2;
  NEXT();
L_MULH:
  RD = static_cast<uint64_t>((static_cast<__int128>(SRS1) * static_cast<__int128>(SRS2)) >> 64);
  NEXT();
L_MULHSU:
  RD = static_cast<uint64_t>(
      (static_cast<__int128>(SRS1) * static_cast<__int128>(static_cast<unsigned __int128>(RS2))) >>
      64);
  NEXT();
L_MULHU:
  RD = static_cast<uint64_t>((static_cast<unsigned __int128>(RS1) * RS2) >> 64);
  NEXT();
L_DIV : {
  int64_t a = SRS1, b = SRS2;
  RD = b == 0                        ? ~uint64_t{0}
       : (a == INT64_MIN && b == -1) ? static_cast<uint64_t>(a)
                                     : static_cast<uint64_t>(a / b);
  NEXT();
}
L_DIVU:
  RD = RS2 == 0 ? ~uint64_t{0} : RS1 / RS2;
  NEXT();
L_REM : {
  int64_t a = SRS1, b = SRS2;
  RD = b == 0                        ? static_cast<uint64_t>(a)
       : (a == INT64_MIN && b == -1) ? 0
                                     : static_cast<uint64_t>(a % b);
  NEXT();
}
L_REMU:
  RD = RS2 == 0 ? RS1 : RS1 % RS2;
  NEXT();
L_MULW:
  RD = sx32(RS1 * RS2);
  NEXT();
L_DIVW : {
  int32_t a = static_cast<int32_t>(RS1), b = static_cast<int32_t>(RS2);
  RD = b == 0                        ? ~uint64_t{0}
       : (a == INT32_MIN && b == -1) ? sx32(static_cast<uint32_t>(a))
                                     : sx32(static_cast<uint32_t>(a / b));
  NEXT();
}
L_DIVUW : {
  uint32_t a = static_cast<uint32_t>(RS1), b = static_cast<uint32_t>(RS2);
  RD = b == 0 ? ~uint64_t{0} : sx32(a / b);
  NEXT();
}
L_REMW : {
  int32_t a = static_cast<int32_t>(RS1), b = static_cast<int32_t>(RS2);
  RD = b == 0                        ? sx32(static_cast<uint32_t>(a))
       : (a == INT32_MIN && b == -1) ? 0
                                     : sx32(static_cast<uint32_t>(a % b));
  NEXT();
}
L_REMUW : {
  uint32_t a = static_cast<uint32_t>(RS1), b = static_cast<uint32_t>(RS2);
  RD = b == 0 ? sx32(a) : sx32(a % b);
  NEXT();
}

// ---- A (one hart: LR/SC keep one reservation; AMOs are plain read-modify-write) ----
#define AMO_ADDR(n)                             \
  uint64_t ad = RS1;                            \
  if (__builtin_expect(ad & ((n)-1), 0)) {      \
    fault_addr = ad;                            \
    goto L_misaligned;                          \
  }                                             \
  if (__builtin_expect(!CAN_WRITE(ad, n), 0)) { \
    fault_addr = ad;                            \
    goto L_store_fault;                         \
  }
L_LR_W : {
  AMO_ADDR(4) reservation = ad;
  RD = sx32(LOAD(uint32_t, ad));
  NEXT();
}
L_LR_D : {
  AMO_ADDR(8) reservation = ad;
  RD = LOAD(uint64_t, ad);
  NEXT();
}
L_SC_W : {
  AMO_ADDR(4)
  if (reservation == ad) {
    STORE(uint32_t, ad, RS2);
    RD = 0;
  } else {
    RD = 1;
  }
  reservation = ~0ull;
  NEXT();
}
L_SC_D : {
  AMO_ADDR(8)
  if (reservation == ad) {
    STORE(uint64_t, ad, RS2);
    RD = 0;
  } else {
    RD = 1;
  }
  reservation = ~0ull;
  NEXT();
}
#define AMO_W(expr)                          \
  {                                          \
    AMO_ADDR(4)                              \
    uint32_t o;                              \
    std::memcpy(&o, M + ad, 4);              \
    uint32_t s = static_cast<uint32_t>(RS2); \
    uint32_t n = (expr);                     \
    std::memcpy(M + ad, &n, 4);              \
    RD = sx32(o);                            \
    NEXT();                                  \
  }
#define AMO_D(expr)             \
  {                             \
    AMO_ADDR(8)                 \
    uint64_t o;                 \
    std::memcpy(&o, M + ad, 8); \
    uint64_t s = RS2;           \
    uint64_t n = (expr);        \
    std::memcpy(M + ad, &n, 8); \
    RD = o;                     \
    NEXT();                     \
  }
L_AMOSWAP_W:
  AMO_W(s)
L_AMOADD_W:
  AMO_W(o + s)
L_AMOXOR_W:
  AMO_W(o ^ s)
L_AMOAND_W:
  AMO_W(o & s)
L_AMOOR_W:
  AMO_W(o | s)
L_AMOMIN_W:
  AMO_W(static_cast<int32_t>(o) < static_cast<int32_t>(s) ? o : s)
L_AMOMAX_W:
  AMO_W(static_cast<int32_t>(o) > static_cast<int32_t>(s) ? o : s)
L_AMOMINU_W:
  AMO_W(o < s ? o : s)
L_AMOMAXU_W:
  AMO_W(o > s ? o : s)
L_AMOSWAP_D:
  AMO_D(s)
L_AMOADD_D:
  AMO_D(o + s)
L_AMOXOR_D:
  AMO_D(o ^ s)
L_AMOAND_D:
  AMO_D(o & s)
L_AMOOR_D:
  AMO_D(o | s)
L_AMOMIN_D:
  AMO_D(static_cast<int64_t>(o) < static_cast<int64_t>(s) ? o : s)
L_AMOMAX_D:
  AMO_D(static_cast<int64_t>(o) > static_cast<int64_t>(s) ? o : s)
L_AMOMINU_D:
  AMO_D(o < s ? o : s)
L_AMOMAXU_D:
  AMO_D(o > s ? o : s)

// ---- F and D ----
L_FLW:
  F[in->rd] = box(std::bit_cast<float>(LOAD(uint32_t, RS1 + in->imm)));
  NEXT();
L_FLD:
  F[in->rd] = LOAD(uint64_t, RS1 + in->imm);
  NEXT();
L_FSW:
  STORE(uint32_t, RS1 + in->imm, static_cast<uint32_t>(F[in->rs2]));
  NEXT();
L_FSD:
  STORE(uint64_t, RS1 + in->imm, F[in->rs2]);
  NEXT();
L_FMADD_S:
  FRM_SET();
  F[in->rd] = box_c(std::fma(FS1, FS2, FS3));
  NEXT();
L_FMSUB_S:
  FRM_SET();
  F[in->rd] = box_c(std::fma(FS1, FS2, -FS3));
  NEXT();
L_FNMSUB_S:
  FRM_SET();
  F[in->rd] = box_c(std::fma(-FS1, FS2, FS3));
  NEXT();
L_FNMADD_S:
  FRM_SET();
  F[in->rd] = box_c(std::fma(-FS1, FS2, -FS3));
  NEXT();
L_FMADD_D:
  FRM_SET();
  F[in->rd] = bits_c(std::fma(DS1, DS2, DS3));
  NEXT();
L_FMSUB_D:
  FRM_SET();
  F[in->rd] = bits_c(std::fma(DS1, DS2, -DS3));
  NEXT();
L_FNMSUB_D:
  FRM_SET();
  F[in->rd] = bits_c(std::fma(-DS1, DS2, DS3));
  NEXT();
L_FNMADD_D:
  FRM_SET();
  F[in->rd] = bits_c(std::fma(-DS1, DS2, -DS3));
  NEXT();
L_FADD_S:
  FRM_SET();
  F[in->rd] = box_c(FS1 + FS2);
  NEXT();
L_FSUB_S:
  FRM_SET();
  F[in->rd] = box_c(FS1 - FS2);
  NEXT();
L_FMUL_S:
  FRM_SET();
  F[in->rd] = box_c(FS1 * FS2);
  NEXT();
L_FDIV_S:
  FRM_SET();
  F[in->rd] = box_c(FS1 / FS2);
  NEXT();
L_FSQRT_S:
  FRM_SET();
  F[in->rd] = box_c(std::sqrt(FS1));
  NEXT();
L_FADD_D:
  FRM_SET();
  F[in->rd] = bits_c(DS1 + DS2);
  NEXT();
L_FSUB_D:
  FRM_SET();
  F[in->rd] = bits_c(DS1 - DS2);
  NEXT();
L_FMUL_D:
  FRM_SET();
  F[in->rd] = bits_c(DS1 * DS2);
  NEXT();
L_FDIV_D:
  FRM_SET();
  F[in->rd] = bits_c(DS1 / DS2);
  NEXT();
L_FSQRT_D:
  FRM_SET();
  F[in->rd] = bits_c(std::sqrt(DS1));
  NEXT();
L_FSGNJ_S : {
  uint32_t a = std::bit_cast<uint32_t>(FS1), b = std::bit_cast<uint32_t>(FS2);
  F[in->rd] = box(std::bit_cast<float>((a & 0x7fffffffu) | (b & 0x80000000u)));
  NEXT();
}
L_FSGNJN_S : {
  uint32_t a = std::bit_cast<uint32_t>(FS1), b = std::bit_cast<uint32_t>(FS2);
  F[in->rd] = box(std::bit_cast<float>((a & 0x7fffffffu) | (~b & 0x80000000u)));
  NEXT();
}
L_FSGNJX_S : {
  uint32_t a = std::bit_cast<uint32_t>(FS1), b = std::bit_cast<uint32_t>(FS2);
  F[in->rd] = box(std::bit_cast<float>(a ^ (b & 0x80000000u)));
  NEXT();
}
L_FSGNJ_D:
  F[in->rd] = (F[in->rs1] & ~(1ull << 63)) | (F[in->rs2] & (1ull << 63));
  NEXT();
L_FSGNJN_D:
  F[in->rd] = (F[in->rs1] & ~(1ull << 63)) | (~F[in->rs2] & (1ull << 63));
  NEXT();
L_FSGNJX_D:
  F[in->rd] = F[in->rs1] ^ (F[in->rs2] & (1ull << 63));
  NEXT();
L_FMIN_S : {
  FP_ENTER();
  float a = FS1, b = FS2;
  F[in->rd] = box_c(fmin_rv(a, b, false, soft_flags, is_snan32(a) || is_snan32(b)));
  NEXT();
}
L_FMAX_S : {
  FP_ENTER();
  float a = FS1, b = FS2;
  F[in->rd] = box_c(fmin_rv(a, b, true, soft_flags, is_snan32(a) || is_snan32(b)));
  NEXT();
}
L_FMIN_D : {
  FP_ENTER();
  double a = DS1, b = DS2;
  F[in->rd] = bits_c(fmin_rv(a, b, false, soft_flags, is_snan64(a) || is_snan64(b)));
  NEXT();
}
L_FMAX_D : {
  FP_ENTER();
  double a = DS1, b = DS2;
  F[in->rd] = bits_c(fmin_rv(a, b, true, soft_flags, is_snan64(a) || is_snan64(b)));
  NEXT();
}
L_FCVT_W_S:
  FP_ENTER();
  RD = sx32(static_cast<uint32_t>(fcvt_int<int32_t>(FS1, RM_NOW(), soft_flags)));
  NEXT();
L_FCVT_WU_S:
  FP_ENTER();
  RD = sx32(fcvt_int<uint32_t>(FS1, RM_NOW(), soft_flags));
  NEXT();
L_FCVT_L_S:
  FP_ENTER();
  RD = static_cast<uint64_t>(fcvt_int<int64_t>(FS1, RM_NOW(), soft_flags));
  NEXT();
L_FCVT_LU_S:
  FP_ENTER();
  RD = fcvt_int<uint64_t>(FS1, RM_NOW(), soft_flags);
  NEXT();
L_FCVT_W_D:
  FP_ENTER();
  RD = sx32(static_cast<uint32_t>(fcvt_int<int32_t>(DS1, RM_NOW(), soft_flags)));
  NEXT();
L_FCVT_WU_D:
  FP_ENTER();
  RD = sx32(fcvt_int<uint32_t>(DS1, RM_NOW(), soft_flags));
  NEXT();
L_FCVT_L_D:
  FP_ENTER();
  RD = static_cast<uint64_t>(fcvt_int<int64_t>(DS1, RM_NOW(), soft_flags));
  NEXT();
L_FCVT_LU_D:
  FP_ENTER();
  RD = fcvt_int<uint64_t>(DS1, RM_NOW(), soft_flags);
  NEXT();
L_FCVT_S_W:
  FRM_SET();
  F[in->rd] = box(static_cast<float>(static_cast<int32_t>(RS1)));
  NEXT();
L_FCVT_S_WU:
  FRM_SET();
  F[in->rd] = box(static_cast<float>(static_cast<uint32_t>(RS1)));
  NEXT();
L_FCVT_S_L:
  FRM_SET();
  F[in->rd] = box(static_cast<float>(SRS1));
  NEXT();
L_FCVT_S_LU:
  FRM_SET();
  F[in->rd] = box(static_cast<float>(RS1));
  NEXT();
L_FCVT_D_W:
  FRM_SET();
  F[in->rd] = std::bit_cast<uint64_t>(static_cast<double>(static_cast<int32_t>(RS1)));
  NEXT();
L_FCVT_D_WU:
  FRM_SET();
  F[in->rd] = std::bit_cast<uint64_t>(static_cast<double>(static_cast<uint32_t>(RS1)));
  NEXT();
L_FCVT_D_L:
  FRM_SET();
  F[in->rd] = std::bit_cast<uint64_t>(static_cast<double>(SRS1));
  NEXT();
L_FCVT_D_LU:
  FRM_SET();
  F[in->rd] = std::bit_cast<uint64_t>(static_cast<double>(RS1));
  NEXT();
L_FCVT_S_D:
  FRM_SET();
  F[in->rd] = box_c(static_cast<float>(DS1));
  NEXT();
L_FCVT_D_S:
  FRM_SET();
  F[in->rd] = bits_c(static_cast<double>(FS1));
  NEXT();
L_FMV_X_W:
  RD = sx32(static_cast<uint32_t>(F[in->rs1]));
  NEXT();
L_FMV_W_X:
  F[in->rd] = box(std::bit_cast<float>(static_cast<uint32_t>(RS1)));
  NEXT();
L_FMV_X_D:
  RD = F[in->rs1];
  NEXT();
L_FMV_D_X:
  F[in->rd] = RS1;
  NEXT();
L_FEQ_S:
  FP_ENTER();
  RD = FS1 == FS2;
  NEXT();
L_FLT_S:
  FCMP_SIGNALING(FS1, FS2, <);
L_FLE_S:
  FCMP_SIGNALING(FS1, FS2, <=);
L_FCLASS_S:
  RD = fclass<float, uint32_t>(FS1);
  NEXT();
L_FEQ_D:
  FP_ENTER();
  RD = DS1 == DS2;
  NEXT();
L_FLT_D:
  FCMP_SIGNALING(DS1, DS2, <);
L_FLE_D:
  FCMP_SIGNALING(DS1, DS2, <=);
L_FCLASS_D:
  RD = fclass<double, uint64_t>(DS1);
  NEXT();

// ---- Zba ----
L_SH1ADD:
  RD = (RS1 << 1) + RS2;
  NEXT();
L_SH2ADD:
  RD = (RS1 << 2) + RS2;
  NEXT();
L_SH3ADD:
  RD = (RS1 << 3) + RS2;
  NEXT();
L_ADD_UW:
  RD = static_cast<uint32_t>(RS1) + RS2;
  NEXT();
L_SH1ADD_UW:
  RD = (static_cast<uint64_t>(static_cast<uint32_t>(RS1)) << 1) + RS2;
  NEXT();
L_SH2ADD_UW:
  RD = (static_cast<uint64_t>(static_cast<uint32_t>(RS1)) << 2) + RS2;
  NEXT();
L_SH3ADD_UW:
  RD = (static_cast<uint64_t>(static_cast<uint32_t>(RS1)) << 3) + RS2;
  NEXT();
L_SLLI_UW:
  RD = static_cast<uint64_t>(static_cast<uint32_t>(RS1)) << in->imm;
  NEXT();
// ---- Zbb ----
L_ANDN:
  RD = RS1 & ~RS2;
  NEXT();
L_ORN:
  RD = RS1 | ~RS2;
  NEXT();
L_XNOR:
  RD = ~(RS1 ^ RS2);
  NEXT();
L_CLZ:
  RD = static_cast<uint64_t>(std::countl_zero(RS1));
  NEXT();
L_CTZ:
  RD = static_cast<uint64_t>(std::countr_zero(RS1));
  NEXT();
L_CPOP:
  RD = static_cast<uint64_t>(std::popcount(RS1));
  NEXT();
L_CLZW:
  RD = static_cast<uint64_t>(std::countl_zero(static_cast<uint32_t>(RS1)));
  NEXT();
L_CTZW:
  RD = static_cast<uint64_t>(std::countr_zero(static_cast<uint32_t>(RS1)));
  NEXT();
L_CPOPW:
  RD = static_cast<uint64_t>(std::popcount(static_cast<uint32_t>(RS1)));
  NEXT();
L_MAX:
  RD = SRS1 > SRS2 ? RS1 : RS2;
  NEXT();
L_MAXU:
  RD = RS1 > RS2 ? RS1 : RS2;
  NEXT();
L_MIN:
  RD = SRS1 < SRS2 ? RS1 : RS2;
  NEXT();
L_MINU:
  RD = RS1 < RS2 ? RS1 : RS2;
  NEXT();
L_SEXT_B:
  RD = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(RS1)));
  NEXT();
L_SEXT_H:
  RD = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(RS1)));
  NEXT();
L_ZEXT_H:
  RD = static_cast<uint16_t>(RS1);
  NEXT();
L_ROL:
  RD = std::rotl(RS1, static_cast<int>(RS2 & 63));
  NEXT();
L_ROR:
  RD = std::rotr(RS1, static_cast<int>(RS2 & 63));
  NEXT();
L_RORI:
  RD = std::rotr(RS1, in->imm);
  NEXT();
L_ROLW:
  RD = sx32(std::rotl(static_cast<uint32_t>(RS1), static_cast<int>(RS2 & 31)));
  NEXT();
L_RORW:
  RD = sx32(std::rotr(static_cast<uint32_t>(RS1), static_cast<int>(RS2 & 31)));
  NEXT();
L_RORIW:
  RD = sx32(std::rotr(static_cast<uint32_t>(RS1), in->imm));
  NEXT();
L_ORC_B : {
  uint64_t v = RS1, r = 0;
  for (int i = 0; i < 8; ++i)
    if ((v >> (8 * i)) & 0xff) r |= 0xffull << (8 * i);
  RD = r;
  NEXT();
}
L_REV8:
  RD = __builtin_bswap64(RS1);
  NEXT();

// ---- exits ----
L_ILLEGAL : {
  uint64_t at = PC_OF(in);
  uint32_t w = 0;
  std::memcpy(&w, M + at, at + 4 <= exec_hi ? 4 : 2);
  if (insn_length(static_cast<uint16_t>(w)) == 2) w &= 0xffff;
  fault(FaultKind::kIllegalInstruction, at, at, fmt::format("illegal instruction 0x{:08x}", w));
  goto L_stopped;
}
L_end_of_text : {
  uint64_t at = PC_OF(in);
  fault(FaultKind::kFetchFault, at, at,
        fmt::format("execution ran off the end of text at 0x{:x}", at));
  goto L_stopped;
}
L_load_fault : {
  uint64_t at = PC_OF(in);
  if (fault_addr < slo && fault_addr >= slo - kStackGuard)
    fault(FaultKind::kStackOverflow, at, fault_addr,
          fmt::format("stack overflow: read at 0x{:x}", fault_addr));
  else
    fault(FaultKind::kLoadFault, at, fault_addr,
          fmt::format("load from 0x{:x} outside guest memory", fault_addr));
  goto L_stopped;
}
L_store_fault : {
  uint64_t at = PC_OF(in);
  if (fault_addr < slo && fault_addr >= slo - kStackGuard)
    fault(FaultKind::kStackOverflow, at, fault_addr,
          fmt::format("stack overflow: write at 0x{:x}", fault_addr));
  else if (fault_addr >= rlo && fault_addr < wlo)
    fault(FaultKind::kStoreFault, at, fault_addr,
          fmt::format("store to read-only 0x{:x}", fault_addr));
  else
    fault(FaultKind::kStoreFault, at, fault_addr,
          fmt::format("store to 0x{:x} outside guest memory", fault_addr));
  goto L_stopped;
}
L_misaligned : {
  uint64_t at = PC_OF(in);
  fault(FaultKind::kMisaligned, at, fault_addr,
        fmt::format("misaligned atomic access at 0x{:x}", fault_addr));
  goto L_stopped;
}
L_jump_out : {
  uint64_t at = in ? PC_OF(in) : pc;
  if (target == kVmcallReturn) {
    result.reason = StopReason::kReturned;
    result.value = X[10];
    result.fvalue = dbl(F[10]);
    pc = target;
    goto L_stopped;
  }
  if (target & 1)
    fault(FaultKind::kMisaligned, at, target, fmt::format("jump to misaligned 0x{:x}", target));
  else
    fault(FaultKind::kFetchFault, at, target,
          fmt::format("jump to 0x{:x} outside executable memory", target));
  goto L_stopped;
}
L_budget : {
  pc = PC_OF(in);
  result.reason = StopReason::kBudget;
  result.pc = pc;
  result.message = fmt::format("instruction budget of {} exhausted", budget);
  goto L_stopped;
}
L_stopped:
  result.instructions = budget - left;
  retired_total += result.instructions;
  fflags |= soft_flags;
  if (fp_touched) {
    if (uint32_t hf = host_flags(); hf != 0) {
      fflags |= hf;
      clear_host_flags();
    }
    if (host_rm != 0) set_host_rounding(0);
  }
  return;
}

}  // namespace tierjit::sandbox
