// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// `tierjit run model.mlir`: StableHLO programs, compiled (default) or by the reference
// evaluator.
#pragma once

#include <string>
#include <vector>

namespace tierjit::cli {

/// True when `text` looks like MLIR (after comments: `module`, `func.func`, `"func.func"`).
/// Runs `entry` (default main) on .npy inputs; writes results to the .npy outputs, or
/// prints them. `tier`: "interp" runs the reference evaluator, anything else the compiled
/// path; `stats` prints the compile time. Returns the exit status.
struct StablehloRun {
  std::string path, entry;
  std::string text;                          ///< the file's contents (read by the front door)
  std::vector<std::string> inputs, outputs;  ///< .npy files
  std::string tier;                          ///< "interp" = the evaluator, else compiled
  bool stats = false;                        ///< print the compile time
  bool cache = true;                         ///< the persistent object cache
  std::string cache_dir;                     ///< "" = ObjectCache::default_dir()
};
int run_stablehlo(const StablehloRun& run);

}  // namespace tierjit::cli
