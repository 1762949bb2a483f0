// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// tierjit bytecode: opcodes, operand kinds, instruction encoding, and the in-memory Module.
// Encoding (docs/ISA.md): little-endian 32-bit words. Word 0 = op | a << 8 | b << 16 | c << 24;
// 8-byte instructions carry a 32-bit immediate in word 1. The kind of the opcode (from
// opcodes.def) fixes the size and which fields are used; unused fields must be zero.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tierjit::bytecode {

enum class Kind : uint8_t {
  BIN,
  BINZ,
  BINI,
  UN,
  LD,
  ST,
  BR2,
  BR1,
  JMP,
  LDI,
  SEL,
  CALL,
  CALLR,
  HCALL,
  RET,
  HALT,
  TRAP,
  FENCE,
  CAS,
  XCHG,
  XADD
};

enum class Op : uint8_t {
  kInvalid = 0,
#define TJ_OP(NAME, MN, KIND, W, VAR, EXPR) NAME,
#include "bytecode/opcodes.def"
#undef TJ_OP
  kCount
};
constexpr int kNumOps = static_cast<int>(Op::kCount);

struct OpInfo {
  std::string_view mnemonic;
  Kind kind;
  uint8_t width;  ///< memory access width in bytes (LD/ST/atomics), else 0
};

/// Per-opcode row of opcodes.def; index by static_cast<int>(op). Row 0 is kInvalid.
extern const std::array<OpInfo, kNumOps> kOpInfo;

/// Instruction size in bytes (4 or 8) for an operand kind.
constexpr int size_of(Kind k) {
  switch (k) {
    case Kind::BIN:
    case Kind::BINZ:
    case Kind::UN:
    case Kind::RET:
    case Kind::HALT:
    case Kind::FENCE:
    case Kind::XCHG:
    case Kind::XADD:
      return 4;
    default:
      return 8;
  }
}
/// True for kinds whose immediate is a branch offset (bytes, relative to the instruction).
constexpr bool is_branch(Kind k) { return k == Kind::BR2 || k == Kind::BR1 || k == Kind::JMP; }
/// Instruction size by opcode byte (4 for invalid opcodes, which the verifier rejects first).
inline constexpr std::array<uint8_t, 256> kInsnSize = [] {
  std::array<uint8_t, 256> t{};
  t.fill(4);
  int i = 1;
#define TJ_OP(NAME, MN, KIND, W, VAR, EXPR) t[i++] = static_cast<uint8_t>(size_of(Kind::KIND));
#include "bytecode/opcodes.def"
#undef TJ_OP
  return t;
}();

/// True when control never falls through to the next instruction.
constexpr bool is_terminator(Kind k) {
  return k == Kind::JMP || k == Kind::RET || k == Kind::HALT || k == Kind::TRAP;
}

/// One decoded instruction.
struct Insn {
  Op op = Op::kInvalid;
  uint8_t a = 0, b = 0, c = 0;
  uint32_t imm = 0;
  int32_t simm() const { return static_cast<int32_t>(imm); }
  const OpInfo& info() const { return kOpInfo[static_cast<int>(op)]; }
  int size() const { return kInsnSize[static_cast<uint8_t>(op)]; }
};

inline uint32_t word0(const Insn& i) {
  return static_cast<uint32_t>(i.op) | uint32_t{i.a} << 8 | uint32_t{i.b} << 16 |
         uint32_t{i.c} << 24;
}
/// Decodes the instruction at word index `at` of `code` without validation (verify first).
inline Insn decode(const uint32_t* code, size_t at) {
  uint32_t w = code[at];
  Insn i;
  i.op = static_cast<Op>(w & 0xff);
  i.a = (w >> 8) & 0xff;
  i.b = (w >> 16) & 0xff;
  i.c = (w >> 24) & 0xff;
  if (kInsnSize[w & 0xff] == 8) i.imm = code[at + 1];
  return i;
}
inline void encode(const Insn& i, std::vector<uint32_t>& out) {
  out.push_back(word0(i));
  if (i.size() == 8) out.push_back(i.imm);
}

constexpr int kMaxRegs = 256;
constexpr uint64_t kMinMemory = 4096;
constexpr uint64_t kDefaultMemory = 16ull << 20;
constexpr uint64_t kMaxMemory = 1ull << 32;

struct Function {
  std::string name;
  uint32_t nargs = 0;
  uint32_t nregs = 1;          ///< frame size in registers, 1..256 (args are r0..nargs-1)
  std::vector<uint32_t> code;  ///< instruction words
};

struct DataSegment {
  uint64_t addr = 0;  ///< byte offset in linear memory
  std::string bytes;
};

/// A bytecode module: functions, host imports, initial memory contents.
struct Module {
  uint64_t memory_size = kDefaultMemory;
  uint32_t entry = 0;                ///< function index run by `tierjit run`
  std::vector<std::string> imports;  ///< host function names; hcall's immediate indexes this
  std::vector<Function> functions;
  std::vector<DataSegment> data;

  /// Index of the function called `name`, or -1.
  int find_function(std::string_view name) const;
};

/// Looks an opcode up by mnemonic; kInvalid when unknown.
Op op_from_mnemonic(std::string_view mnemonic);

}  // namespace tierjit::bytecode
