// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// libFuzzer target: the .tjbc reader + verifier and the .tjasm assembler must reject or accept
// any input without crashing; accepted modules must round-trip through the disassembler, and
// the interpreter runs them under a fuel limit (every trap is a clean outcome).
#include <cstddef>
#include <cstdint>
#include <string>

#include "bytecode/module_io.hpp"
#include "bytecode/text.hpp"
#include "interp/interp.hpp"

using namespace tierjit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto m = bytecode::is_tjbc(in) ? bytecode::read_module(in, "fuzz.tjbc")
                                 : bytecode::assemble(in, "fuzz.tjasm");
  if (!m.ok()) return 0;
  std::string text = bytecode::disassemble(m.value());
  auto again = bytecode::assemble(text, "disasm");
  if (!again.ok() || bytecode::write_module(again.value()) != bytecode::write_module(m.value()))
    __builtin_trap();  // asm(disasm(m)) must be m
  m->memory_size = 65536;
  bytecode::InstanceConfig cfg;
  cfg.fuel = 10000;
  cfg.max_call_depth = 64;
  auto inst = bytecode::Instance::create(m.value(), bytecode::HostRegistry::standard(), cfg);
  if (!inst.ok()) return 0;
  interp::Interpreter interp(**inst, {});
  interp.run(m->entry, (*inst)->reg_base());
  return 0;
}
