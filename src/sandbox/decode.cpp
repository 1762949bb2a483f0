// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// RISC-V decoding. Bit layouts follow the RISC-V Unprivileged ISA manual, chapter 2 (base
// formats and immediates), chapter 16 ("C" extension, quadrant tables) and the bit-manipulation
// specification (Zba, Zbb encodings).
#include "sandbox/decode.hpp"

#include <fmt/format.h>

namespace tierjit::sandbox {
namespace {

constexpr bool kWritesXrd[] = {
#define RV_OP(name, xrd) xrd != 0,
#include "sandbox/rv_ops.def"
#undef RV_OP
};
constexpr const char* kNames[] = {
#define RV_OP(name, xrd) #name,
#include "sandbox/rv_ops.def"
#undef RV_OP
};

constexpr uint32_t bits(uint32_t v, int hi, int lo) {
  return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}
constexpr int32_t sext(uint32_t v, int width) {
  return static_cast<int32_t>(v << (32 - width)) >> (32 - width);
}

Decoded make(Op op, uint32_t rd, uint32_t rs1, uint32_t rs2, int32_t imm, uint8_t len = 4) {
  Decoded d;
  d.op = op;
  d.rd = static_cast<uint8_t>(rd);
  d.rs1 = static_cast<uint8_t>(rs1);
  d.rs2 = static_cast<uint8_t>(rs2);
  d.imm = imm;
  d.len = len;
  return d;
}

Decoded illegal(uint8_t len) {
  Decoded d;
  d.len = len;
  return d;
}

// Floating-point operations whose funct7 selects the format: S at even, D at odd values.
Op fp_pick(uint32_t funct7, Op s, Op d) { return (funct7 & 1) ? d : s; }

Decoded decode_op_fp(uint32_t w, uint32_t rd, uint32_t rs1, uint32_t rs2, uint32_t f3) {
  uint32_t f7 = bits(w, 31, 25);
  Decoded d = make(Op::ILLEGAL, rd, rs1, rs2, 0);
  d.rm = static_cast<uint8_t>(f3);
  bool rm_ok = f3 != 5 && f3 != 6;
  switch (f7) {
    case 0x00:
    case 0x01:
      d.op = fp_pick(f7, Op::FADD_S, Op::FADD_D);
      break;
    case 0x04:
    case 0x05:
      d.op = fp_pick(f7, Op::FSUB_S, Op::FSUB_D);
      break;
    case 0x08:
    case 0x09:
      d.op = fp_pick(f7, Op::FMUL_S, Op::FMUL_D);
      break;
    case 0x0c:
    case 0x0d:
      d.op = fp_pick(f7, Op::FDIV_S, Op::FDIV_D);
      break;
    case 0x2c:
    case 0x2d:
      if (rs2 != 0) return illegal(4);
      d.op = fp_pick(f7, Op::FSQRT_S, Op::FSQRT_D);
      break;
    case 0x10:
    case 0x11:
      rm_ok = true;
      if (f3 > 2) return illegal(4);
      d.op = (f7 & 1) ? (f3 == 0   ? Op::FSGNJ_D
                         : f3 == 1 ? Op::FSGNJN_D
                                   : Op::FSGNJX_D)
                      : (f3 == 0   ? Op::FSGNJ_S
                         : f3 == 1 ? Op::FSGNJN_S
                                   : Op::FSGNJX_S);
      break;
    case 0x14:
    case 0x15:
      rm_ok = true;
      if (f3 > 1) return illegal(4);
      d.op = (f7 & 1) ? (f3 == 0 ? Op::FMIN_D : Op::FMAX_D) : (f3 == 0 ? Op::FMIN_S : Op::FMAX_S);
      break;
    case 0x20:
      if (rs2 != 1) return illegal(4);
      d.op = Op::FCVT_S_D;
      break;
    case 0x21:
      if (rs2 != 0) return illegal(4);
      d.op = Op::FCVT_D_S;
      break;
    case 0x60:
    case 0x61: {
      static constexpr Op s[] = {Op::FCVT_W_S, Op::FCVT_WU_S, Op::FCVT_L_S, Op::FCVT_LU_S};
      static constexpr Op dd[] = {Op::FCVT_W_D, Op::FCVT_WU_D, Op::FCVT_L_D, Op::FCVT_LU_D};
      if (rs2 > 3) return illegal(4);
      d.op = (f7 & 1) ? dd[rs2] : s[rs2];
      break;
    }
    case 0x68:
    case 0x69: {
      static constexpr Op s[] = {Op::FCVT_S_W, Op::FCVT_S_WU, Op::FCVT_S_L, Op::FCVT_S_LU};
      static constexpr Op dd[] = {Op::FCVT_D_W, Op::FCVT_D_WU, Op::FCVT_D_L, Op::FCVT_D_LU};
      if (rs2 > 3) return illegal(4);
      d.op = (f7 & 1) ? dd[rs2] : s[rs2];
      break;
    }
    case 0x70:
    case 0x71:
      rm_ok = true;
      if (rs2 != 0 || f3 > 1) return illegal(4);
      d.op = (f7 & 1) ? (f3 == 0 ? Op::FMV_X_D : Op::FCLASS_D)
                      : (f3 == 0 ? Op::FMV_X_W : Op::FCLASS_S);
      break;
    case 0x78:
    case 0x79:
      rm_ok = true;
      if (rs2 != 0 || f3 != 0) return illegal(4);
      d.op = fp_pick(f7, Op::FMV_W_X, Op::FMV_D_X);
      break;
    case 0x50:
    case 0x51:
      rm_ok = true;
      if (f3 > 2) return illegal(4);
      d.op = (f7 & 1) ? (f3 == 2   ? Op::FEQ_D
                         : f3 == 1 ? Op::FLT_D
                                   : Op::FLE_D)
                      : (f3 == 2   ? Op::FEQ_S
                         : f3 == 1 ? Op::FLT_S
                                   : Op::FLE_S);
      break;
    default:
      return illegal(4);
  }
  if (!rm_ok) return illegal(4);
  return d;
}

Decoded decode_amo(uint32_t w, uint32_t rd, uint32_t rs1, uint32_t rs2, uint32_t f3) {
  if (f3 != 2 && f3 != 3) return illegal(4);
  bool dw = f3 == 3;
  uint32_t f5 = bits(w, 31, 27);
  Op op;
  switch (f5) {
    case 0x02:
      if (rs2 != 0) return illegal(4);
      op = dw ? Op::LR_D : Op::LR_W;
      break;
    case 0x03:
      op = dw ? Op::SC_D : Op::SC_W;
      break;
    case 0x01:
      op = dw ? Op::AMOSWAP_D : Op::AMOSWAP_W;
      break;
    case 0x00:
      op = dw ? Op::AMOADD_D : Op::AMOADD_W;
      break;
    case 0x04:
      op = dw ? Op::AMOXOR_D : Op::AMOXOR_W;
      break;
    case 0x0c:
      op = dw ? Op::AMOAND_D : Op::AMOAND_W;
      break;
    case 0x08:
      op = dw ? Op::AMOOR_D : Op::AMOOR_W;
      break;
    case 0x10:
      op = dw ? Op::AMOMIN_D : Op::AMOMIN_W;
      break;
    case 0x14:
      op = dw ? Op::AMOMAX_D : Op::AMOMAX_W;
      break;
    case 0x18:
      op = dw ? Op::AMOMINU_D : Op::AMOMINU_W;
      break;
    case 0x1c:
      op = dw ? Op::AMOMAXU_D : Op::AMOMAXU_W;
      break;
    default:
      return illegal(4);
  }
  return make(op, rd, rs1, rs2, 0);
}

Decoded decode_op(uint32_t rd, uint32_t rs1, uint32_t rs2, uint32_t f3, uint32_t f7) {
  static constexpr Op base[] = {Op::ADD, Op::SLL, Op::SLT, Op::SLTU,
                                Op::XOR, Op::SRL, Op::OR,  Op::AND};
  static constexpr Op mul[] = {Op::MUL, Op::MULH, Op::MULHSU, Op::MULHU,
                               Op::DIV, Op::DIVU, Op::REM,    Op::REMU};
  Op op = Op::ILLEGAL;
  switch (f7) {
    case 0x00:
      op = base[f3];
      break;
    case 0x01:
      op = mul[f3];
      break;
    case 0x20:
      op = f3 == 0   ? Op::SUB
           : f3 == 5 ? Op::SRA
           : f3 == 7 ? Op::ANDN
           : f3 == 6 ? Op::ORN
           : f3 == 4 ? Op::XNOR
                     : Op::ILLEGAL;
      break;
    case 0x10:
      op = f3 == 2 ? Op::SH1ADD : f3 == 4 ? Op::SH2ADD : f3 == 6 ? Op::SH3ADD : Op::ILLEGAL;
      break;
    case 0x05:
      op = f3 == 4   ? Op::MIN
           : f3 == 5 ? Op::MINU
           : f3 == 6 ? Op::MAX
           : f3 == 7 ? Op::MAXU
                     : Op::ILLEGAL;
      break;
    case 0x30:
      op = f3 == 1 ? Op::ROL : f3 == 5 ? Op::ROR : Op::ILLEGAL;
      break;
    default:
      break;
  }
  return make(op, rd, rs1, rs2, 0);
}

Decoded decode_op32(uint32_t rd, uint32_t rs1, uint32_t rs2, uint32_t f3, uint32_t f7) {
  Op op = Op::ILLEGAL;
  switch (f7) {
    case 0x00:
      op = f3 == 0 ? Op::ADDW : f3 == 1 ? Op::SLLW : f3 == 5 ? Op::SRLW : Op::ILLEGAL;
      break;
    case 0x20:
      op = f3 == 0 ? Op::SUBW : f3 == 5 ? Op::SRAW : Op::ILLEGAL;
      break;
    case 0x01:
      op = f3 == 0   ? Op::MULW
           : f3 == 4 ? Op::DIVW
           : f3 == 5 ? Op::DIVUW
           : f3 == 6 ? Op::REMW
           : f3 == 7 ? Op::REMUW
                     : Op::ILLEGAL;
      break;
    case 0x04:
      op = f3 == 0 ? Op::ADD_UW : (f3 == 4 && rs2 == 0) ? Op::ZEXT_H : Op::ILLEGAL;
      break;
    case 0x10:
      op = f3 == 2   ? Op::SH1ADD_UW
           : f3 == 4 ? Op::SH2ADD_UW
           : f3 == 6 ? Op::SH3ADD_UW
                     : Op::ILLEGAL;
      break;
    case 0x30:
      op = f3 == 1 ? Op::ROLW : f3 == 5 ? Op::RORW : Op::ILLEGAL;
      break;
    default:
      break;
  }
  return make(op, rd, rs1, rs2, 0);
}

Decoded decode_op_imm(uint32_t w, uint32_t rd, uint32_t rs1, uint32_t f3) {
  int32_t imm = sext(bits(w, 31, 20), 12);
  uint32_t shamt = bits(w, 25, 20), f6 = bits(w, 31, 26), f12 = bits(w, 31, 20);
  switch (f3) {
    case 0:
      return make(Op::ADDI, rd, rs1, 0, imm);
    case 2:
      return make(Op::SLTI, rd, rs1, 0, imm);
    case 3:
      return make(Op::SLTIU, rd, rs1, 0, imm);
    case 4:
      return make(Op::XORI, rd, rs1, 0, imm);
    case 6:
      return make(Op::ORI, rd, rs1, 0, imm);
    case 7:
      return make(Op::ANDI, rd, rs1, 0, imm);
    case 1:
      if (f6 == 0) return make(Op::SLLI, rd, rs1, 0, static_cast<int32_t>(shamt));
      switch (f12) {
        case 0x600:
          return make(Op::CLZ, rd, rs1, 0, 0);
        case 0x601:
          return make(Op::CTZ, rd, rs1, 0, 0);
        case 0x602:
          return make(Op::CPOP, rd, rs1, 0, 0);
        case 0x604:
          return make(Op::SEXT_B, rd, rs1, 0, 0);
        case 0x605:
          return make(Op::SEXT_H, rd, rs1, 0, 0);
        default:
          return illegal(4);
      }
    default:  // 5
      if (f6 == 0x00) return make(Op::SRLI, rd, rs1, 0, static_cast<int32_t>(shamt));
      if (f6 == 0x10) return make(Op::SRAI, rd, rs1, 0, static_cast<int32_t>(shamt));
      if (f6 == 0x18) return make(Op::RORI, rd, rs1, 0, static_cast<int32_t>(shamt));
      if (f12 == 0x287) return make(Op::ORC_B, rd, rs1, 0, 0);
      if (f12 == 0x6b8) return make(Op::REV8, rd, rs1, 0, 0);
      return illegal(4);
  }
}

Decoded decode_op_imm32(uint32_t w, uint32_t rd, uint32_t rs1, uint32_t f3) {
  uint32_t f7 = bits(w, 31, 25), shamt5 = bits(w, 24, 20), f12 = bits(w, 31, 20);
  switch (f3) {
    case 0:
      return make(Op::ADDIW, rd, rs1, 0, sext(bits(w, 31, 20), 12));
    case 1:
      if (f7 == 0) return make(Op::SLLIW, rd, rs1, 0, static_cast<int32_t>(shamt5));
      if (bits(w, 31, 26) == 0x02)
        return make(Op::SLLI_UW, rd, rs1, 0, static_cast<int32_t>(bits(w, 25, 20)));
      if (f12 == 0x600) return make(Op::CLZW, rd, rs1, 0, 0);
      if (f12 == 0x601) return make(Op::CTZW, rd, rs1, 0, 0);
      if (f12 == 0x602) return make(Op::CPOPW, rd, rs1, 0, 0);
      return illegal(4);
    case 5:
      if (f7 == 0x00) return make(Op::SRLIW, rd, rs1, 0, static_cast<int32_t>(shamt5));
      if (f7 == 0x20) return make(Op::SRAIW, rd, rs1, 0, static_cast<int32_t>(shamt5));
      if (f7 == 0x30) return make(Op::RORIW, rd, rs1, 0, static_cast<int32_t>(shamt5));
      return illegal(4);
    default:
      return illegal(4);
  }
}

}  // namespace

bool is_direct_jump(Op op) {
  switch (op) {
    case Op::JAL:
    case Op::BEQ:
    case Op::BNE:
    case Op::BLT:
    case Op::BGE:
    case Op::BLTU:
    case Op::BGEU:
      return true;
    default:
      return false;
  }
}

bool writes_xrd(Op op) { return kWritesXrd[static_cast<int>(op)]; }
const char* op_name(Op op) { return kNames[static_cast<int>(op)]; }

Decoded decode32(uint32_t w) {
  uint32_t opc = bits(w, 6, 0), rd = bits(w, 11, 7), f3 = bits(w, 14, 12);
  uint32_t rs1 = bits(w, 19, 15), rs2 = bits(w, 24, 20), f7 = bits(w, 31, 25);
  int32_t i_imm = sext(bits(w, 31, 20), 12);
  int32_t s_imm = sext((bits(w, 31, 25) << 5) | bits(w, 11, 7), 12);
  switch (opc) {
    case 0x37:
      return make(Op::LUI, rd, 0, 0, static_cast<int32_t>(w & 0xfffff000u));
    case 0x17:
      return make(Op::AUIPC, rd, 0, 0, static_cast<int32_t>(w & 0xfffff000u));
    case 0x6f: {
      uint32_t imm = (bits(w, 31, 31) << 20) | (bits(w, 19, 12) << 12) | (bits(w, 20, 20) << 11) |
                     (bits(w, 30, 21) << 1);
      return make(Op::JAL, rd, 0, 0, sext(imm, 21));
    }
    case 0x67:
      if (f3 != 0) return illegal(4);
      return make(Op::JALR, rd, rs1, 0, i_imm);
    case 0x63: {
      static constexpr Op ops[] = {Op::BEQ, Op::BNE, Op::ILLEGAL, Op::ILLEGAL,
                                   Op::BLT, Op::BGE, Op::BLTU,    Op::BGEU};
      uint32_t imm = (bits(w, 31, 31) << 12) | (bits(w, 7, 7) << 11) | (bits(w, 30, 25) << 5) |
                     (bits(w, 11, 8) << 1);
      return make(ops[f3], 0, rs1, rs2, sext(imm, 13));
    }
    case 0x03: {
      static constexpr Op ops[] = {Op::LB,  Op::LH,  Op::LW,  Op::LD,
                                   Op::LBU, Op::LHU, Op::LWU, Op::ILLEGAL};
      return make(ops[f3], rd, rs1, 0, i_imm);
    }
    case 0x23: {
      static constexpr Op ops[] = {Op::SB, Op::SH, Op::SW, Op::SD};
      if (f3 > 3) return illegal(4);
      return make(ops[f3], 0, rs1, rs2, s_imm);
    }
    case 0x13:
      return decode_op_imm(w, rd, rs1, f3);
    case 0x1b:
      return decode_op_imm32(w, rd, rs1, f3);
    case 0x33:
      return decode_op(rd, rs1, rs2, f3, f7);
    case 0x3b:
      return decode_op32(rd, rs1, rs2, f3, f7);
    case 0x0f:
      if (f3 == 0) return make(Op::FENCE, 0, 0, 0, 0);
      if (f3 == 1) return make(Op::FENCE_I, 0, 0, 0, 0);
      return illegal(4);
    case 0x73:
      if (f3 == 0) {
        if (w == 0x00000073) return make(Op::ECALL, 0, 0, 0, 0);
        if (w == 0x00100073) return make(Op::EBREAK, 0, 0, 0, 0);
        return illegal(4);
      } else {
        static constexpr Op ops[] = {Op::ILLEGAL, Op::CSRRW,  Op::CSRRS,  Op::CSRRC,
                                     Op::ILLEGAL, Op::CSRRWI, Op::CSRRSI, Op::CSRRCI};
        return make(ops[f3], rd, rs1, 0, static_cast<int32_t>(bits(w, 31, 20)));
      }
    case 0x2f:
      return decode_amo(w, rd, rs1, rs2, f3);
    case 0x07:
      if (f3 == 2) return make(Op::FLW, rd, rs1, 0, i_imm);
      if (f3 == 3) return make(Op::FLD, rd, rs1, 0, i_imm);
      return illegal(4);
    case 0x27:
      if (f3 == 2) return make(Op::FSW, 0, rs1, rs2, s_imm);
      if (f3 == 3) return make(Op::FSD, 0, rs1, rs2, s_imm);
      return illegal(4);
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f: {
      uint32_t fmt = bits(w, 26, 25);
      if (fmt > 1 || f3 == 5 || f3 == 6) return illegal(4);
      static constexpr Op s[] = {Op::FMADD_S, Op::FMSUB_S, Op::FNMSUB_S, Op::FNMADD_S};
      static constexpr Op dd[] = {Op::FMADD_D, Op::FMSUB_D, Op::FNMSUB_D, Op::FNMADD_D};
      Decoded d = make(fmt ? dd[(opc >> 2) & 3] : s[(opc >> 2) & 3], rd, rs1, rs2, 0);
      d.rs3 = static_cast<uint8_t>(bits(w, 31, 27));
      d.rm = static_cast<uint8_t>(f3);
      return d;
    }
    case 0x53:
      return decode_op_fp(w, rd, rs1, rs2, f3);
    default:
      return illegal(4);
  }
}

Decoded decode16(uint16_t h) {
  uint32_t c = h;
  uint32_t f3 = bits(c, 15, 13), rd = bits(c, 11, 7), rs2 = bits(c, 6, 2);
  uint32_t rdp = bits(c, 4, 2) + 8, rs1p = bits(c, 9, 7) + 8;
  auto mk = [](Op op, uint32_t rd, uint32_t rs1, uint32_t rs2, int32_t imm) {
    return make(op, rd, rs1, rs2, imm, 2);
  };
  int32_t ci_imm = sext((bits(c, 12, 12) << 5) | bits(c, 6, 2), 6);
  // Offsets of the doubleword (LD/SD/FLD/FSD) and word (LW/SW) register-based forms.
  uint32_t d_off = (bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6);
  uint32_t w_off = (bits(c, 12, 10) << 3) | (bits(c, 6, 6) << 2) | (bits(c, 5, 5) << 6);
  switch (bits(c, 1, 0)) {
    case 0:
      switch (f3) {
        case 0: {
          uint32_t imm = (bits(c, 12, 11) << 4) | (bits(c, 10, 7) << 6) | (bits(c, 6, 6) << 2) |
                         (bits(c, 5, 5) << 3);
          if (imm == 0) return illegal(2);
          return mk(Op::ADDI, rdp, 2, 0, static_cast<int32_t>(imm));
        }
        case 1:
          return mk(Op::FLD, rdp, rs1p, 0, static_cast<int32_t>(d_off));
        case 2:
          return mk(Op::LW, rdp, rs1p, 0, static_cast<int32_t>(w_off));
        case 3:
          return mk(Op::LD, rdp, rs1p, 0, static_cast<int32_t>(d_off));
        case 5:
          return mk(Op::FSD, 0, rs1p, rdp, static_cast<int32_t>(d_off));
        case 6:
          return mk(Op::SW, 0, rs1p, rdp, static_cast<int32_t>(w_off));
        case 7:
          return mk(Op::SD, 0, rs1p, rdp, static_cast<int32_t>(d_off));
        default:
          return illegal(2);
      }
    case 1:
      switch (f3) {
        case 0:
          return mk(Op::ADDI, rd, rd, 0, ci_imm);
        case 1:
          if (rd == 0) return illegal(2);
          return mk(Op::ADDIW, rd, rd, 0, ci_imm);
        case 2:
          return mk(Op::ADDI, rd, 0, 0, ci_imm);
        case 3:
          if (rd == 2) {
            uint32_t imm = (bits(c, 12, 12) << 9) | (bits(c, 6, 6) << 4) | (bits(c, 5, 5) << 6) |
                           (bits(c, 4, 3) << 7) | (bits(c, 2, 2) << 5);
            if (imm == 0) return illegal(2);
            return mk(Op::ADDI, 2, 2, 0, sext(imm, 10));
          }
          if (ci_imm == 0) return illegal(2);
          return mk(Op::LUI, rd, 0, 0, ci_imm * 4096);
        case 4: {
          uint32_t f2 = bits(c, 11, 10);
          uint32_t shamt = (bits(c, 12, 12) << 5) | bits(c, 6, 2);
          if (f2 == 0) return mk(Op::SRLI, rs1p, rs1p, 0, static_cast<int32_t>(shamt));
          if (f2 == 1) return mk(Op::SRAI, rs1p, rs1p, 0, static_cast<int32_t>(shamt));
          if (f2 == 2) return mk(Op::ANDI, rs1p, rs1p, 0, ci_imm);
          uint32_t sel = bits(c, 6, 5);
          if (bits(c, 12, 12) == 0) {
            static constexpr Op ops[] = {Op::SUB, Op::XOR, Op::OR, Op::AND};
            return mk(ops[sel], rs1p, rs1p, rdp, 0);
          }
          if (sel == 0) return mk(Op::SUBW, rs1p, rs1p, rdp, 0);
          if (sel == 1) return mk(Op::ADDW, rs1p, rs1p, rdp, 0);
          return illegal(2);
        }
        case 5: {
          uint32_t imm = (bits(c, 12, 12) << 11) | (bits(c, 11, 11) << 4) | (bits(c, 10, 9) << 8) |
                         (bits(c, 8, 8) << 10) | (bits(c, 7, 7) << 6) | (bits(c, 6, 6) << 7) |
                         (bits(c, 5, 3) << 1) | (bits(c, 2, 2) << 5);
          return mk(Op::JAL, 0, 0, 0, sext(imm, 12));
        }
        default: {  // 6, 7: BEQZ, BNEZ
          uint32_t imm = (bits(c, 12, 12) << 8) | (bits(c, 11, 10) << 3) | (bits(c, 6, 5) << 6) |
                         (bits(c, 4, 3) << 1) | (bits(c, 2, 2) << 5);
          return mk(f3 == 6 ? Op::BEQ : Op::BNE, 0, rs1p, 0, sext(imm, 9));
        }
      }
    case 2:
      switch (f3) {
        case 0:
          return mk(Op::SLLI, rd, rd, 0, static_cast<int32_t>((bits(c, 12, 12) << 5) | rs2));
        case 1:
        case 3: {
          uint32_t imm = (bits(c, 12, 12) << 5) | (bits(c, 6, 5) << 3) | (bits(c, 4, 2) << 6);
          if (f3 == 3 && rd == 0) return illegal(2);
          return mk(f3 == 1 ? Op::FLD : Op::LD, rd, 2, 0, static_cast<int32_t>(imm));
        }
        case 2: {
          uint32_t imm = (bits(c, 12, 12) << 5) | (bits(c, 6, 4) << 2) | (bits(c, 3, 2) << 6);
          if (rd == 0) return illegal(2);
          return mk(Op::LW, rd, 2, 0, static_cast<int32_t>(imm));
        }
        case 4:
          if (bits(c, 12, 12) == 0) {
            if (rs2 == 0) {
              if (rd == 0) return illegal(2);
              return mk(Op::JALR, 0, rd, 0, 0);
            }
            return mk(Op::ADD, rd, 0, rs2, 0);
          }
          if (rd == 0 && rs2 == 0) return mk(Op::EBREAK, 0, 0, 0, 0);
          if (rs2 == 0) return mk(Op::JALR, 1, rd, 0, 0);
          return mk(Op::ADD, rd, rd, rs2, 0);
        case 5:
        case 7: {
          uint32_t imm = (bits(c, 12, 10) << 3) | (bits(c, 9, 7) << 6);
          return mk(f3 == 5 ? Op::FSD : Op::SD, 0, 2, rs2, static_cast<int32_t>(imm));
        }
        case 6: {
          uint32_t imm = (bits(c, 12, 9) << 2) | (bits(c, 8, 7) << 6);
          return mk(Op::SW, 0, 2, rs2, static_cast<int32_t>(imm));
        }
      }
      return illegal(2);
    default:
      return illegal(4);
  }
}

std::string describe(const Decoded& d) {
  return fmt::format("{} rd={} rs1={} rs2={} imm={}", op_name(d.op), d.rd, d.rs1, d.rs2, d.imm);
}

}  // namespace tierjit::sandbox
