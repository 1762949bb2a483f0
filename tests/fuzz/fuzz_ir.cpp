// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// libFuzzer target: IR loading (text, bitcode, LLBC) and program preparation must turn any
// bytes into a module or a located error, never a crash.
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "llvmir/ir_loader.hpp"
#include "llvmir/program.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto ctx = std::make_unique<llvm::LLVMContext>();
  ctx->setDiagnosticHandlerCallBack([](const llvm::DiagnosticInfo*, void*) {});
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto ir = tierjit::llvmir::load_ir_bytes(std::move(bytes), "fuzz", *ctx, false);
  if (!ir.ok()) return 0;
  auto program = tierjit::llvmir::IrProgram::prepare(std::move(ir).value(), std::move(ctx), "fuzz");
  if (!program.ok()) return 0;
  std::lock_guard<std::mutex> lock(program.value()->mutex());
  for (const auto& f : program.value()->functions()) {
    tierjit::llvmir::ExtractOptions o;
    o.symbol = f.name + "$impl";
    o.heat_threshold = 1600;
    o.next_level = 1;
    (void)program.value()->extract_function(f.id, o);
  }
  (void)program.value()->build_data_module();
  return 0;
}
