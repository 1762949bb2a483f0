// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// RISC-V instruction decoding: one 16- or 32-bit instruction word to an operation with its
// operands. RV64IMAFDC + Zicsr + Zifencei + Zba + Zbb (RISC-V Unprivileged ISA, 20191213 and
// the ratified bit-manipulation specification 1.0). Compressed instructions decode to the
// operation of their 32-bit expansion, so the interpreter has one handler per operation.
#pragma once

#include <cstdint>
#include <string>

namespace tierjit::sandbox {

enum class Op : uint8_t {
#define RV_OP(name, xrd) name,
#include "sandbox/rv_ops.def"
#undef RV_OP
  kCount
};

/// Whether `op` writes integer register rd (so a write to x0 must be discarded).
bool writes_xrd(Op op);
/// Whether `op` jumps to pc + imm (JAL and the conditional branches).
bool is_direct_jump(Op op);
/// The operation's mnemonic ("ADDI", "FCVT_W_D", ...), for messages and tests.
const char* op_name(Op op);

struct Decoded {
  Op op = Op::ILLEGAL;
  uint8_t rd = 0, rs1 = 0, rs2 = 0, rs3 = 0;
  uint8_t rm = 0;   ///< rounding mode (floating point), 7 = dynamic (frm)
  uint8_t len = 4;  ///< instruction length in bytes: 2 (compressed) or 4
  int32_t imm = 0;  ///< sign-extended immediate; CSR number for CSR ops; shift amount
};

/// Length in bytes of the instruction whose low 16 bits are `lo` (2 or 4). Longer encodings
/// (48-bit and up) are reported as 0: the sandbox does not implement any.
inline unsigned insn_length(uint16_t lo) {
  if ((lo & 3) != 3) return 2;
  if ((lo & 0x1c) != 0x1c) return 4;
  return 0;
}

/// Decodes a 32-bit instruction. Unknown or reserved encodings give Op::ILLEGAL.
Decoded decode32(uint32_t insn);
/// Decodes a 16-bit compressed instruction (quadrants 0-2). Reserved ones give Op::ILLEGAL.
Decoded decode16(uint16_t insn);

/// "ADDI rd=5 rs1=5 rs2=0 imm=-16" style text, for fault messages and tests.
std::string describe(const Decoded& d);

}  // namespace tierjit::sandbox
