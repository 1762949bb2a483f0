// libFuzzer target: the StableHLO/MLIR text parser and the reference evaluator must accept
// or reject any input with a located error — never crash, hang or leak. Every argument-less
// public function is run under small limits (tensor size, operations).
#include <cstddef>
#include <cstdint>
#include <string>

#include "stablehlo/evaluator.hpp"

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
    for (const auto& f : mod.funcs) {
      if (f.is_public && f.args.empty()) (void)ev.call(f.name, {});
    }
  }
  return 0;
}
