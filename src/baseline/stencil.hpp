// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The baseline tier's stencil table types. The table (stencils.inc) is generated at build
// time by tools/stencil_extract --family baseline from the object file clang-22 makes of
// src/baseline/stencils.c; the hole names are the TJB_<NAME> symbols documented there.
#pragma once
#include <cstdint>

#include "runtime/stencil_table.hpp"

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

using RelocKind = runtime::RelocKind;
using Hole = runtime::StencilHole<HoleKind>;
using Stencil = runtime::StencilCode<HoleKind>;

using NamedStencil = runtime::NamedStencil<HoleKind>;

}  // namespace tierjit::baseline
