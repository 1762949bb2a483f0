// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "llvmir/compile_timing.hpp"

#include <llvm/IR/Function.h>
#include <llvm/IR/GlobalValue.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <chrono>
#include <mutex>

#include "backend/codegen.hpp"
#include "baseline/compiler.hpp"
#include "support/hash.hpp"

namespace tierjit::llvmir {

namespace {
double us_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

Expected<CompileTiming> time_first_tier(IrProgram& program) {
  std::lock_guard<std::mutex> lock(program.mutex());
  CompileTiming out;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<llvm::Function*> bodies;
  for (const FunctionInfo& f : program.functions()) {
    if (f.pinned) continue;
    TJ_ASSIGN_OR_RETURN(llvm::Function * fn, program.body(f.id));
    bodies.push_back(fn);
  }
  out.read_ms = us_since(t0) / 1000;

  baseline::Environment env;  // made-up addresses: the code is timed, never run
  env.address_of = [](const llvm::GlobalValue& gv) -> Expected<baseline::Address> {
    std::string_view name(gv.getName().data(), gv.getName().size());
    return baseline::Address{0x100000000000ull + (hash64(name) & 0xffffff0ull),
                             baseline::SymbolKind::kData, name};
  };
  env.module_has_eh = program.has_eh();
  baseline::Compiler compiler(std::move(env));
  TJ_ASSIGN_OR_RETURN(auto tm, backend::make_target_machine(backend::TargetConfig::host(), 0));
  ExtractOptions o;
  o.count_calls = false;
  size_t k = 0;
  for (const FunctionInfo& f : program.functions()) {
    if (f.pinned) continue;
    FunctionTiming t;
    t.name = f.name;
    t.instructions = uint32_t(bodies[k++]->getInstructionCount());
    auto tb = std::chrono::steady_clock::now();
    auto c = compiler.compile(*program.functions()[f.id].fn, baseline::Profile{});
    double bus = us_since(tb);
    if (c.ok())
      t.baseline_us = bus;
    else
      t.fallback = c.error().message;
    auto tl = std::chrono::steady_clock::now();
    o.symbol = f.name + "$impl";
    TJ_ASSIGN_OR_RETURN(std::unique_ptr<llvm::Module> m, program.extract_function(f.id, o));
    TJ_ASSIGN_OR_RETURN(std::string obj, backend::compile_to_object(*m, *tm, 0));
    t.llvm_o0_us = us_since(tl);
    out.functions.push_back(std::move(t));
  }
  return out;
}

Expected<CompileTiming> time_first_tier(std::string bytes, const std::string& path) {
  auto ctx = std::make_unique<llvm::LLVMContext>();
  TJ_ASSIGN_OR_RETURN(LoadedIr ir, load_ir_bytes(std::move(bytes), path, *ctx, true));
  TJ_ASSIGN_OR_RETURN(std::unique_ptr<IrProgram> program,
                      IrProgram::prepare(std::move(ir), std::move(ctx), path));
  return time_first_tier(*program);
}

}  // namespace tierjit::llvmir
