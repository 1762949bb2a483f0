// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// LLVM's start-up, paid in the background. The first compile in a process costs 12-15 ms more
// than the next one of the same module (a 4-element StableHLO add: 16-18 ms first, 3 ms
// second): LLVM's code runs for the first time (page faults and lazy binding in libLLVM,
// cold caches), its targets, pass registries and the JIT session are set up. A caller that
// knows it will compile soon (a StableHLO program switched to the compiled path before its
// weights are read) starts a warm-up thread, which compiles and links a small vectorized loop
// through the same pipeline, so that cost overlaps the caller's own work on another core.
#pragma once

namespace tierjit::backend {

/// Starts the warm-up thread, once per process (later calls return at once). Does nothing
/// when TIERJIT_NO_LLVM_WARM_UP is set. A compile that starts before it finishes simply runs
/// alongside it. Errors inside are ignored: a compile that meets the same error reports it.
/// The caller must call finish_llvm_warm_up() before the process exits (the thread uses
/// function-local statics of LLVM that exit would destroy under it). Thread-safe.
void start_llvm_warm_up();

/// Waits for the warm-up thread, if one was started. Thread-safe; idempotent.
void finish_llvm_warm_up();

}  // namespace tierjit::backend
