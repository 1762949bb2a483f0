// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// libFuzzer target: the LLBC container reader must reject or accept any bytes without
// crashing, and what it accepts must round-trip through the writer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "llvmir/llbc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string_view payload;
  auto h = tierjit::llvmir::parse_llbc(bytes, "fuzz.llbc", &payload);
  if (h.ok()) {
    auto again = tierjit::llvmir::write_llbc(h.value(), payload);
    if (!again.ok() || again.value().substr(128) != payload) __builtin_trap();
  }
  return 0;
}
