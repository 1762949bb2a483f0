// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The sandbox's translation tier: guest RISC-V code translated to x86-64 by copy-and-patch
// (stencils in rv_stencils.c, one per operation form), block by block on first execution, and
// run with the interpreter (rv_interp.cpp) as its fallback for what it does not translate.
//
// Units and rules:
//  - A block is a straight run of decoded guest instructions ending at a jump or branch (or
//    before an instruction the translator leaves to the interpreter: ecall, CSRs, atomics,
//    floating point with a static rounding mode other than RNE). Its code charges its length
//    to the budget on entry and leaves when fewer instructions are left, so the interpreter
//    runs the last ones: a budget stops a guest at the same instruction in both tiers.
//  - Blocks are chained directly (a direct jump to a block not yet translated exits once, the
//    block is translated, the jump is patched); indirect jumps go through a table with one
//    entry per 2-byte text position.
//  - A load or store outside the memory map, or a jump out of text, leaves translated code with
//    that instruction not executed and the budget refunded; the interpreter runs it and
//    reports the fault with its own message and pc.
//  - Guest text is never writable (sandbox.hpp), so a translation never needs invalidating.
//  - Code lives in W^X memory (runtime::CodePool: RW and RX views of one memfd).
// Not thread-safe: one Translator belongs to one Sandbox::Impl, used by its running thread.
#pragma once

#include <cstdint>
#include <memory>

#include "tierjit/sandbox.hpp"

namespace tierjit::sandbox {

class Translator {
 public:
  using Stats = TranslationStats;

  /// Whether this host can run translated code (x86-64 Linux).
  static bool available();

  explicit Translator(Sandbox::Impl& machine);
  ~Translator();
  Translator(const Translator&) = delete;
  Translator& operator=(const Translator&) = delete;

  /// Runs the guest from machine.pc for at most `budget` instructions; fills machine.result
  /// exactly as the interpreter would (Impl::interpret).
  void run(uint64_t budget);

  const Stats& stats() const { return stats_; }

 private:
  struct State;
  std::unique_ptr<State> s_;
  Stats stats_;
};

}  // namespace tierjit::sandbox
