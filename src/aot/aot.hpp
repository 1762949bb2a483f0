// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Ahead-of-time outputs: relocatable objects and shared libraries, in process (TargetMachine
// for code generation, lld as a library for linking). No llc/ld subprocesses.
// Requires: LLVM IR for the host architecture. Produces: an ELF file at `output`.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>

#include "support/error.hpp"

namespace tierjit::aot {

enum class OutputKind { kObject, kSharedLibrary };

struct CompileOptions {
  int opt_level = 2;  ///< 0..3, the same pipelines as clang -O{N}
  OutputKind kind = OutputKind::kObject;
  std::string output;
  bool native_cpu = false;  ///< tune for this machine's CPU (default: portable x86-64)
};

/// Picks the output kind from the file name: ".so" → shared library, else object.
OutputKind kind_for_output(const std::string& path);

/// Compiles `input` (.ll/.bc/.llbc) to `opts.output`. Errors: those of loading, kInvalidInput
/// (verifier), kCompileFailed (codegen or link, with lld's message), kIo.
Status compile_file(const std::string& input, const CompileOptions& opts);
/// The same for the file's content, already read (`name` names it in errors).
Status compile_bytes(std::string bytes, const std::string& name, const CompileOptions& opts);

/// A program's warm image (image/warm_image.hpp): one shared object with every function.
struct WarmImage {
  std::string shared_object;
  uint32_t hot_functions = 0;   ///< in the profile: optimized at O2
  uint32_t cold_functions = 0;  ///< not in it: optnone + noinline (fast instruction selection)
};

/// Compiles the program `bytes` (.ll/.bc/.llbc; `name` names it in errors) for this machine's
/// CPU into its warm image. `profile` holds the functions an earlier run executed; nullptr
/// means all of them (every function at O2). Errors: those of compile_bytes, kMissingEntry
/// (the program defines no `main`).
Expected<WarmImage> build_warm_image(std::string bytes, const std::string& name,
                                     const std::unordered_set<std::string>* profile);

}  // namespace tierjit::aot
