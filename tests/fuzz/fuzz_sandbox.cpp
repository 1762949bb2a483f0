// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// libFuzzer target for the sandbox's guest boundary: arbitrary bytes as an ELF (loader
// checks), and whatever loads runs under a small instruction budget (decoder, interpreter,
// memory checks, syscalls). Any crash, sanitizer report or leak is a bug; guest faults are
// expected results.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tierjit/sandbox.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tierjit::sandbox::Limits limits;
  limits.max_memory = 4u << 20;
  limits.stack_size = 64u << 10;
  limits.max_instructions = 20000;
  auto box = tierjit::sandbox::Sandbox::load(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.elf", limits);
  if (!box.ok()) return 0;
  box.value()->set_output([](int, std::string_view) {});
  box.value()->run({"fuzz", "arg"});
  box.value()->reset();
  tierjit::sandbox::Arg args[] = {tierjit::sandbox::Arg::integer(1),
                                  tierjit::sandbox::Arg::f64(2.0)};
  box.value()->vmcall(box.value()->entry(), args);
  return 0;
}
