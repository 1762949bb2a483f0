// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// In-process optimization and code generation.
#include "backend/codegen.hpp"

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassManager.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/SubtargetFeature.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

namespace tierjit::backend {

void initialize_llvm_targets() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

extern "C" void LLVMInitializeRISCVTargetInfo();
extern "C" void LLVMInitializeRISCVTarget();
extern "C" void LLVMInitializeRISCVTargetMC();
extern "C" void LLVMInitializeRISCVAsmPrinter();
extern "C" void LLVMInitializeRISCVAsmParser();

void initialize_riscv_target() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeRISCVTargetInfo();
    LLVMInitializeRISCVTarget();
    LLVMInitializeRISCVTargetMC();
    LLVMInitializeRISCVAsmPrinter();
    LLVMInitializeRISCVAsmParser();
  });
}

TargetConfig TargetConfig::host() {
  TargetConfig c;
  c.triple = llvm::sys::getProcessTriple();
  c.cpu = llvm::sys::getHostCPUName().str();
  llvm::SubtargetFeatures f;
  for (auto& [name, on] : llvm::sys::getHostCPUFeatures()) f.AddFeature(name, on);
  c.features = f.getString();
  return c;
}

TargetConfig TargetConfig::generic(const std::string& triple) {
  TargetConfig c;
  c.triple = triple;
  c.cpu = llvm::StringRef(triple).starts_with("x86_64") ? "x86-64" : "generic";
  c.emulated_tls = false;  // AOT objects are linked by a normal linker with native TLS
  return c;
}

std::string TargetConfig::key() const {
  return triple + "|" + cpu + "|" + features + "|" + (pic ? "pic" : "static") +
         (medium_code_model ? "|medium" : "|small") + (emulated_tls ? "|emutls" : "") + "|" + abi;
}

std::string pipeline_name(int opt_level) {
  return opt_level == 0 ? "none" : "default<O" + std::to_string(opt_level) + ">";
}

std::string loop_nest_pipeline(int opt_level) {
  if (const char* p = std::getenv("TIERJIT_STABLEHLO_PIPELINE"); p && *p) return p;
  if (opt_level != 2) return pipeline_name(opt_level);
  // instcombine as default<O2> runs it: one iteration, no fixpoint check (which would abort).
  return "function(sroa,early-cse,instcombine<no-verify-fixpoint>,simplifycfg,"
         "loop-mssa(loop-rotate,licm),loop(loop-unroll-full),inject-tli-mappings,"
         "loop-vectorize,"
         "instcombine<no-verify-fixpoint>,simplifycfg,slp-vectorizer,"
         "instcombine<no-verify-fixpoint>)";
}

Expected<std::unique_ptr<llvm::TargetMachine>> make_target_machine(const TargetConfig& cfg,
                                                                   int opt_level) {
  initialize_llvm_targets();
  std::string err;
  llvm::Triple triple(cfg.triple);
  if (triple.isRISCV()) initialize_riscv_target();
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target)
    return make_error(ErrorCode::kUnsupported, "no LLVM target for " + cfg.triple + ": " + err);
  llvm::TargetOptions opts;
  // JIT objects are split per function and loaded without a platform runtime, so native ELF
  // TLS relocations cannot be resolved: thread-locals use emulated TLS (__emutls_get_address,
  // from the host's libgcc_s), which works across objects.
  opts.EmulatedTLS = cfg.emulated_tls;
  opts.MCOptions.ABIName = cfg.abi;
  llvm::CodeGenOptLevel cg = opt_level == 0   ? llvm::CodeGenOptLevel::None
                             : opt_level == 1 ? llvm::CodeGenOptLevel::Less
                             : opt_level == 2 ? llvm::CodeGenOptLevel::Default
                                              : llvm::CodeGenOptLevel::Aggressive;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cfg.cpu, cfg.features, opts, cfg.pic ? llvm::Reloc::PIC_ : llvm::Reloc::Static,
      cfg.medium_code_model ? llvm::CodeModel::Medium : llvm::CodeModel::Small, cg));
  if (!tm)
    return make_error(ErrorCode::kUnsupported, "cannot create a target machine for " + cfg.triple);
  if (opt_level == 0) tm->setFastISel(true);
  return tm;
}

Status optimize_module(llvm::Module& m, llvm::TargetMachine& tm, const std::string& pipeline,
                       const std::vector<VectorFunction>* vector_math) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  std::optional<llvm::TargetLibraryInfoImpl> tlii;
  if (vector_math != nullptr && !vector_math->empty()) {
    tlii.emplace(tm.getTargetTriple());
    add_vector_functions(*tlii, *vector_math);
    // Registered before the defaults, so registerFunctionAnalyses keeps this one.
    fam.registerPass([&] { return llvm::TargetLibraryAnalysis(*tlii); });
  }
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm;
  if (auto e = pb.parsePassPipeline(mpm, pipeline))
    return make_error(ErrorCode::kInternal,
                      "pass pipeline '" + pipeline + "': " + llvm::toString(std::move(e)));
  mpm.run(m, mam);
  return {};
}

void optimize_module(llvm::Module& m, llvm::TargetMachine& tm, int opt_level) {
  if (opt_level <= 0) return;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions pto;
  pto.LoopUnrolling = opt_level >= 2;
  pto.LoopVectorization = opt_level >= 2;
  pto.SLPVectorization = opt_level >= 2;
  llvm::PassBuilder pb(&tm, pto);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = opt_level == 1   ? llvm::OptimizationLevel::O1
                                  : opt_level == 2 ? llvm::OptimizationLevel::O2
                                                   : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(level);
  mpm.run(m, mam);
}

Expected<std::string> emit_object(llvm::Module& m, llvm::TargetMachine& tm) {
  m.setDataLayout(tm.createDataLayout());
  m.setTargetTriple(tm.getTargetTriple());
  llvm::SmallVector<char, 0> buf;
  llvm::raw_svector_ostream os(buf);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    return make_error(ErrorCode::kCompileFailed, "target cannot emit an object file");
  pm.run(m);
  return std::string(buf.data(), buf.size());
}

Expected<std::string> compile_to_object(llvm::Module& m, llvm::TargetMachine& tm, int opt_level,
                                        const std::function<void(llvm::Module&)>& after_optimize) {
  if (m.getDataLayoutStr().empty()) m.setDataLayout(tm.createDataLayout());
  optimize_module(m, tm, opt_level);
  if (after_optimize) after_optimize(m);
  return emit_object(m, tm);
}

Expected<std::string> compile_to_object(llvm::Module& m, llvm::TargetMachine& tm,
                                        const std::string& pipeline) {
  if (m.getDataLayoutStr().empty()) m.setDataLayout(tm.createDataLayout());
  if (!pipeline.empty()) TJ_TRY(optimize_module(m, tm, pipeline));
  return emit_object(m, tm);
}

Expected<llvm::TargetMachine*> thread_target_machine(const TargetConfig& cfg, int opt_level) {
  thread_local std::map<std::pair<std::string, int>, std::unique_ptr<llvm::TargetMachine>> tms;
  auto& tm = tms[{cfg.key(), opt_level}];
  if (!tm) {
    TJ_ASSIGN_OR_RETURN(tm, make_target_machine(cfg, opt_level));
  }
  return tm.get();
}

}  // namespace tierjit::backend
