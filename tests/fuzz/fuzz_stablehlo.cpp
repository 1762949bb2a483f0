// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// libFuzzer target: the StableHLO/MLIR text parser, the reference evaluator and the compiled
// path's lowering to LLVM IR must accept or reject any input with a located error — never
// crash, hang or leak. Every argument-less public function is run under small limits (tensor
// size, operations) and lowered (to verified IR; not optimized or run, to keep executions
// fast: the conformance corpus and the differential test run the compiled code).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "stablehlo/evaluator.hpp"
#include "stablehlo/lower.hpp"
#include "stablehlo/verifier.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto m = tierjit::shlo::parse_mlir(in, "fuzz.mlir");
  if (!m.ok()) {
    if (m.error().where.line == 0) __builtin_trap();  // every parse error is located
    return 0;
  }
  tierjit::shlo::EvalLimits limits;
  limits.max_elements = 4096;
  limits.max_ops = 20000;
  for (const auto& mod : *m) {
    tierjit::shlo::Evaluator ev(mod, "fuzz.mlir", limits);
    std::vector<std::string> entries;
    for (const auto& f : mod.funcs) {
      if (f.is_public && f.args.empty()) {
        (void)ev.call(f.name, {});
        entries.push_back(f.name);
      }
    }
    bool small = true;  // the lowering emits loops, not elements, but keep constants small
    for (const auto& f : mod.funcs)
      for (const auto& b : f.body.blocks) small = small && b.ops.size() < 200;
    // The lowering's contract is a verified module (the CLI and Program verify first).
    if (small && tierjit::shlo::verify_module(mod, "fuzz.mlir").ok()) {
      auto low = tierjit::shlo::lower_module(mod, "fuzz.mlir", entries);
      // Every lowering error is located; invalid IR (kCompileFailed) is a lowering bug.
      if (!low.ok() && (low.error().where.file.empty() ||
                        low.error().code == tierjit::ErrorCode::kCompileFailed)) {
        std::fprintf(stderr, "lowering: %s\n", low.error().to_string().c_str());
        __builtin_trap();
      }  // lowering errors name the file
    }
  }
  return 0;
}
