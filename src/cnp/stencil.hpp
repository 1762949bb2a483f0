// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The stencil table's types. The table itself (stencils.inc) is generated at build time by
// tools/stencil_extract from the object file clang-22 makes of src/cnp/stencils.c.
#pragma once
#include <cstdint>

#include "runtime/stencil_table.hpp"

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

using RelocKind = runtime::RelocKind;
using Hole = runtime::StencilHole<HoleKind>;
using Stencil = runtime::StencilCode<HoleKind>;

}  // namespace tierjit::cnp
