// `tierjit run model.mlir`: StableHLO programs through the reference evaluator.
#pragma once

#include <string>
#include <vector>

namespace tierjit::cli {

/// True when `text` looks like MLIR (after comments: `module`, `func.func`, `"func.func"`).
bool is_mlir(const std::string& path, const std::string& text);
/// Runs `entry` (default main) on .npy inputs; writes results to the .npy outputs, or
/// prints them. Returns the exit status.
int run_stablehlo(const std::string& path, const std::string& entry,
                  const std::vector<std::string>& inputs, const std::vector<std::string>& outputs);

}  // namespace tierjit::cli
