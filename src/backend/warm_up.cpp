// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "backend/warm_up.hpp"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backend/codegen.hpp"
#include "backend/jit_session.hpp"
#include "backend/vector_math.hpp"

namespace tierjit::backend {

namespace {

// void tj_warm_up(ptr a, ptr b): b[i] = max(tanh(a[i]) rounded to float, 0) for i < 1024, the
// shape of a lowered elementwise loop (a libm call the vectorizer widens, a vector compare).
std::unique_ptr<llvm::Module> warm_up_module(llvm::LLVMContext& ctx) {
  auto m = std::make_unique<llvm::Module>("tierjit.warm_up", ctx);
  llvm::IRBuilder<> b(ctx);
  auto* ptr = b.getPtrTy();
  auto* fn = llvm::Function::Create(llvm::FunctionType::get(b.getVoidTy(), {ptr, ptr}, false),
                                    llvm::Function::ExternalLinkage, "tj_warm_up", *m);
  fn->addParamAttr(0, llvm::Attribute::NoAlias);
  fn->addParamAttr(1, llvm::Attribute::NoAlias);
  llvm::FunctionCallee tanh_fn = m->getOrInsertFunction(
      "tanh", llvm::FunctionType::get(b.getDoubleTy(), {b.getDoubleTy()}, false));
  llvm::cast<llvm::Function>(tanh_fn.getCallee())->setDoesNotAccessMemory();
  llvm::cast<llvm::Function>(tanh_fn.getCallee())->setDoesNotThrow();
  auto* entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  auto* loop = llvm::BasicBlock::Create(ctx, "loop", fn);
  auto* done = llvm::BasicBlock::Create(ctx, "done", fn);
  b.SetInsertPoint(entry);
  b.CreateBr(loop);
  b.SetInsertPoint(loop);
  llvm::PHINode* i = b.CreatePHI(b.getInt64Ty(), 2);
  i->addIncoming(b.getInt64(0), entry);
  llvm::Value* x =
      b.CreateLoad(b.getFloatTy(), b.CreateInBoundsGEP(b.getFloatTy(), fn->getArg(0), i));
  llvm::Value* t = b.CreateCall(tanh_fn, {b.CreateFPExt(x, b.getDoubleTy())});
  llvm::Value* y =
      b.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, b.CreateFPTrunc(t, b.getFloatTy()),
                              llvm::ConstantFP::get(b.getFloatTy(), 0.0));
  b.CreateStore(y, b.CreateInBoundsGEP(b.getFloatTy(), fn->getArg(1), i));
  llvm::Value* next = b.CreateAdd(i, b.getInt64(1), "", true, true);
  i->addIncoming(next, loop);
  b.CreateCondBr(b.CreateICmpULT(next, b.getInt64(1024)), loop, done);
  b.SetInsertPoint(done);
  b.CreateRetVoid();
  return m;
}

// Compiles, links and looks up the warm-up function as the StableHLO path would at -O2.
void warm_up() {
  auto session = JitSession::get();
  if (!session.ok()) return;
  const TargetConfig& cfg = (*session)->target();
  auto tm = thread_target_machine(cfg, 2);
  if (!tm.ok()) return;
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> m = warm_up_module(ctx);
  m->setDataLayout((*tm)->createDataLayout());
  m->setTargetTriple((*tm)->getTargetTriple());
  for (llvm::Function& f : *m) {
    if (f.isDeclaration()) continue;
    f.addFnAttr("target-cpu", cfg.cpu);
    f.addFnAttr("target-features", cfg.features);
  }
  if (!optimize_module(*m, **tm, loop_nest_pipeline(2), &libmvec_functions()).ok()) return;
  auto object = emit_object(*m, **tm);
  if (!object.ok()) return;
  auto jd = (*session)->create_dylib("warm_up", {});
  if (!jd.ok()) return;
  std::vector<std::pair<std::string, void*>> symbols;
  for (const VectorFunction& f : libmvec_functions()) symbols.emplace_back(f.vector, f.address);
  if ((*session)->define_absolute(**jd, symbols).ok() &&
      (*session)->add_object(**jd, *object, "warm_up").ok())
    (void)(*session)->lookup(**jd, "tj_warm_up");
  (*session)->remove(*jd);
}

struct WarmUp {
  std::mutex mu;
  std::thread thread;
  bool started = false;
  void join() {
    std::lock_guard<std::mutex> lock(mu);
    if (thread.joinable()) thread.join();
  }
};

// Never destroyed: a joinable std::thread's destructor would terminate the process.
WarmUp& state() {
  static WarmUp* w = new WarmUp;
  return *w;
}

}  // namespace

void start_llvm_warm_up() {
  if (std::getenv("TIERJIT_NO_LLVM_WARM_UP") != nullptr) return;
  WarmUp& w = state();
  std::lock_guard<std::mutex> lock(w.mu);
  if (w.started) return;
  w.started = true;
  w.thread = std::thread(warm_up);
}

void finish_llvm_warm_up() { state().join(); }

}  // namespace tierjit::backend
