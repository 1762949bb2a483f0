// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The shape of a copy-and-patch stencil table, shared by every stencil family (the bytecode's
// copy-and-patch tier, src/cnp; the LLVM IR baseline tier, src/baseline). Each family has
// its own hole kinds; tools/stencil_extract writes the tables in this shape.
#pragma once
#include <cstdint>

namespace tierjit::runtime {

/// How a hole is patched (the ELF x86-64 relocation type it came from).
enum class RelocKind : uint8_t {
  kAbs32,   ///< R_X86_64_32: low 32 bits
  kAbs32S,  ///< R_X86_64_32S: low 32 bits (sign-extended by the instruction)
  kAbs64,   ///< R_X86_64_64
  kPcRel32  ///< R_X86_64_PC32 / PLT32: value + addend - place
};

template <class HoleKind>
struct StencilHole {
  uint16_t offset;
  HoleKind kind;
  RelocKind reloc;
  int32_t addend;
};

template <class HoleKind>
struct StencilCode {
  const uint8_t* code;
  uint16_t size;       ///< bytes including a trailing jump, if any
  uint16_t body_size;  ///< bytes without the trailing `jmp <tail>` (== size when none)
  HoleKind tail;       ///< hole the trailing jmp targets; HoleKind::kCount when there is none
  uint16_t nholes;
  const StencilHole<HoleKind>* holes;  ///< sorted by offset; holes in the trailing jmp last
  uint8_t ntraps;  ///< trap holes: each use gets a cold trap stub (families that have them)
  bool refuel;     ///< has a refuel hole: each use gets a cold refuel stub (likewise)
};

/// A stencil by its name (the families that pick variants by name at start-up).
template <class HoleKind>
struct NamedStencil {
  const char* name;
  const StencilCode<HoleKind>* stencil;
};

}  // namespace tierjit::runtime
