// `tierjit run model.mlir`: StableHLO programs, compiled (default) or by the reference
// evaluator.
#pragma once

#include <string>
#include <vector>

namespace tierjit::cli {

/// True when `text` looks like MLIR (after comments: `module`, `func.func`, `"func.func"`).
bool is_mlir(const std::string& path, const std::string& text);
/// Runs `entry` (default main) on .npy inputs; writes results to the .npy outputs, or
/// prints them. `tier`: "interp" runs the reference evaluator, anything else the compiled
/// path; `stats` prints the compile time. Returns the exit status.
int run_stablehlo(const std::string& path, const std::string& entry,
                  const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                  const std::string& tier, bool stats);

}  // namespace tierjit::cli
