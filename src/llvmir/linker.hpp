// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// lld as a library: shared libraries and relocatable merges, in process (no `ld` subprocess).
// lld keeps global state, so calls are serialized process-wide.
#pragma once

#include <string>
#include <vector>

#include "support/error.hpp"

namespace tierjit::llvmir {

/// Runs the ELF linker with `args` (without argv[0]). Errors: kCompileFailed with lld's
/// diagnostics.
Status run_lld(const std::vector<std::string>& args);

/// Merges ELF relocatable objects (given as bytes) into one (`ld.lld -r`), via files in a
/// private temporary directory. Errors: kIo, kCompileFailed.
Expected<std::string> merge_objects(const std::vector<std::string>& objects);

}  // namespace tierjit::llvmir
