// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Stubs and entry cells in tierjit's own W^X memory: every reference to a function (calls,
// function pointers, initializers) goes to its stub, which jumps through the function's entry
// cell; installing code is one atomic store to the cell (install_entry). A cell starts at the
// shared lazy entry, which saves the argument registers, asks the owner's resolver for code
// (compiling it on first call), stores it in the cell and jumps to it — no ORC trampoline
// pool, no mprotect, so it works under PR_SET_MDWE.
//
// Memory: one dual mapping per EntryStubs (support/dual_map.hpp): stubs run from the
// read-execute view and read cells through it; cells are written through the read-write view.
// Stub (x86-64): `lea CELL(%rip), %r11; jmp *(%r11)` (copied from a template the assembler
// encodes, with its displacement patched). r11 is free at every call boundary of the System V
// ABI (neither an argument nor callee-saved register), so the lazy entry receives the cell in
// it and finds the function from the cell's address.
// fork(): the child's stubs and cells are copied into memory of its own at once, so installs
// in one process never redirect calls in the other.
// Thread-safety: create/destroy from one thread; stub/cell accessors from any thread; the
// resolver may run on any thread that calls a function for the first time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "support/dual_map.hpp"
#include "support/error.hpp"

namespace tierjit::tierup {

class EntryStubs {
 public:
  /// Returns the code address for function `id`, which the lazy entry then jumps to; it may
  /// install it into the cell itself. It must not return 0: on failure it reports and ends
  /// the process (a call cannot be resumed without code).
  using Resolver = std::function<uint64_t(uint32_t id)>;

  /// Stubs and cells for `count` functions, every cell at lazy_entry().
  /// Errors: kCompileFailed ("BufferAllocationFailed: ...") when memory cannot be mapped,
  /// kInternal when more than 1024 EntryStubs are alive.
  static Expected<std::unique_ptr<EntryStubs>> create(uint32_t count, Resolver resolve);
  ~EntryStubs();
  EntryStubs(const EntryStubs&) = delete;
  EntryStubs& operator=(const EntryStubs&) = delete;

  /// Executable address of function `id`'s stub.
  void* stub(uint32_t id) const;
  /// The writable view of function `id`'s entry cell (for install_entry and friends).
  uint64_t* cell(uint32_t id) const;
  uint32_t count() const { return count_; }
  /// The initial value of every cell.
  static uint64_t lazy_entry();

  /// The resolver call for the cell at executable address `cell_rx` (the lazy entry's
  /// callee): the code to jump to.
  static uint64_t resolve(const uint64_t* cell_rx);

  /// Moves this set into memory of its own (done for every live set in a forked child:
  /// support/dual_map.hpp, privatize_dual). Ends the process if that fails.
  void privatize();

 private:
  EntryStubs() = default;
  DualMapping mem_;
  uint32_t count_ = 0;
  size_t cells_offset_ = 0;  // cells start here in both views
  size_t slot_ = 0;          // index in the registry of live EntryStubs
  Resolver resolve_;
};

}  // namespace tierjit::tierup
