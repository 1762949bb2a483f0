// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The baseline tier's stencil table types. The table (stencils.inc) is generated at build
// time by tools/stencil_extract --family baseline from the object file clang-22 makes of
// src/baseline/stencils.c; the hole names are the TJB_<NAME> symbols documented there.
#pragma once
#include <cstdint>

namespace tierjit::baseline {

/// What a hole is patched with (the TJB_<NAME> symbol a relocation refers to).
enum class HoleKind : uint8_t {
  kA,
  kB,
  kC,
  kD,  ///< slot byte offsets from the frame base
  kI,
  kJ,  ///< 32-bit immediates
  kN,  ///< frame size in bytes
  kP0,
  kP1,
  kP2,
  kP3,
  kP4,
  kP5,
  kP6,
  kP7,
  kP8,
  kP9,
  kP10,
  kP11,  ///< slots of a call's integer arguments
  kQ0,
  kQ1,
  kQ2,
  kQ3,
  kQ4,
  kQ5,
  kQ6,
  kQ7,  ///< slots of a call's floating-point arguments
  kK,
  kK2,  ///< 64-bit constants and addresses
  kNEXT,
  kTARGET,  ///< rel32 jumps: the code that follows, and a branch target
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
  const Hole* holes;  ///< sorted by offset; a hole inside the trailing jmp comes last
  uint8_t unused_traps;
  bool unused_refuel;
};

struct NamedStencil {
  const char* name;
  const Stencil* stencil;
};

}  // namespace tierjit::baseline
