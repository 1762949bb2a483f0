// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The stencil table's types. The table itself (stencils.inc) is generated at build time by
// tools/stencil_extract from the object file clang-22 makes of src/cnp/stencils.c.
#pragma once
#include <cstdint>

namespace tierjit::cnp {

/// What a hole is patched with (the TJ_HOLE_<KIND> symbol a relocation refers to).
enum class HoleKind : uint8_t {
  kA,
  kB,
  kC,
  kD,    ///< register operand byte offsets (reg * 8)
  kImm,  ///< the instruction's 32-bit immediate
  kFn,
  kPc,
  kKind,  ///< current function index, instruction byte pc, trap kind
  kFrame,
  kNargs,
  kNregs,  ///< frame size in bytes, argument count, register count
  kCallee,
  kImport,  ///< callee function index, host import index
  kNext,
  kTarget,
  kTrap,
  kTrap2,  ///< code addresses (rel32 jumps)
  kP0,
  kP1,
  kP2,
  kP3,      ///< byte offsets of the frame slots cached in machine registers x0..x3
  kRefuel,  ///< code address of the site's REFUEL_STUB (rel32 jump)
  kCount
};

/// How the patch is written (the ELF x86-64 relocation type it came from).
enum class RelocKind : uint8_t {
  kAbs32,   ///< R_X86_64_32: low 32 bits
  kAbs32S,  ///< R_X86_64_32S: low 32 bits (sign-extended by the instruction)
  kAbs64,   ///< R_X86_64_64
  kPcRel32  ///< R_X86_64_PC32 / PLT32: value + addend - place
};

struct Hole {
  uint16_t offset;
  HoleKind kind;
  RelocKind reloc;
  int32_t addend;
};

struct Stencil {
  const uint8_t* code;
  uint16_t size;       ///< bytes including a trailing jump, if any
  uint16_t body_size;  ///< bytes without the trailing `jmp <tail>` (== size when none)
  HoleKind tail;       ///< hole the trailing jmp targets; kCount when there is none
  uint16_t nholes;
  const Hole* holes;  ///< sorted by offset; holes inside the trailing jmp come last
  uint8_t ntraps;     ///< TRAP/TRAP2 holes: each use gets a cold trap stub
  bool refuel;        ///< has a REFUEL hole: each use gets a cold refuel stub
};

}  // namespace tierjit::cnp
