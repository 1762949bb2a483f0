// libFuzzer target: the StableHLO/MLIR text parser must accept or reject any input with a
// located error, never crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string>

#include "stablehlo/ast.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto m = tierjit::shlo::parse_mlir(in, "fuzz.mlir");
  if (!m.ok() && m.error().where.line == 0) __builtin_trap();  // every error is located
  return 0;
}
