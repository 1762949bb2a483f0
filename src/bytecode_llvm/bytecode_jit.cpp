// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Bytecode -> LLVM IR translation and the bytecode LLJIT.
#include "bytecode_llvm/bytecode_jit.hpp"

#include <fmt/format.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Linker/Linker.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Target/TargetMachine.h>

#include <cstddef>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "backend/codegen.hpp"
#include "backend/jit_session.hpp"
#include "bc_semantics.inc"
#include "bc_semantics_riscv64.inc"
#include "bytecode/abi.h"
#include "runtime/cache_key.hpp"
#include "runtime/object_cache.hpp"

namespace tierjit::bytecode_llvm {
namespace {

using bytecode::Insn;
using bytecode::Kind;
using bytecode::Op;

const char* sem_name(Op op) {
  static const char* names[] = {
      "",
#define TJ_OP(NAME, MN, KIND, W, VAR, EXPR) "tj_sem_" #NAME,
#include "bytecode/opcodes.def"
#undef TJ_OP
  };
  return names[static_cast<int>(op)];
}

// The TjFn calling convention: preserve_none where LLVM implements it (x86-64, AArch64), the
// C convention elsewhere (riscv64 guests; LLVM 22 rejects preserve_none for RISC-V).
llvm::CallingConv::ID tjfn_cc(const llvm::Module& m) {
  return m.getTargetTriple().isRISCV() ? llvm::CallingConv::C : llvm::CallingConv::PreserveNone;
}

Status link_semantics(llvm::Module& dst) {
  bool rv = dst.getTargetTriple().isRISCV();
  auto buf = llvm::MemoryBuffer::getMemBuffer(
      rv ? llvm::StringRef(reinterpret_cast<const char*>(kBcSemanticsRiscv64),
                           sizeof(kBcSemanticsRiscv64))
         : llvm::StringRef(reinterpret_cast<const char*>(kBcSemantics), sizeof(kBcSemantics)),
      "bc_semantics.bc", false);
  auto sem = llvm::parseBitcodeFile(buf->getMemBufferRef(), dst.getContext());
  if (!sem)
    return make_error(ErrorCode::kInternal,
                      "embedded semantics bitcode: " + llvm::toString(sem.takeError()));
  (*sem)->setDataLayout(dst.getDataLayout());
  (*sem)->setTargetTriple(dst.getTargetTriple());
  if (llvm::Linker::linkModules(dst, std::move(*sem)))
    return make_error(ErrorCode::kInternal, "linking the semantics bitcode failed");
  for (llvm::Function& f : dst)
    if (f.getName().starts_with("tj_sem_") && !f.isDeclaration()) {
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
      f.addFnAttr(llvm::Attribute::AlwaysInline);
      // Compiled for generic x86-64: drop the CPU attributes so they inline into host code.
      f.removeFnAttr("target-cpu");
      f.removeFnAttr("target-features");
      f.removeFnAttr("tune-cpu");
    }
  return {};
}

// Translates one bytecode function into `fn` (already declared with the TjFn signature).
class FunctionTranslator {
 public:
  FunctionTranslator(const bytecode::Module& m, uint32_t index, llvm::Function* fn,
                     const std::map<uint32_t, llvm::Function*>& direct)
      : m_(m),
        f_(m.functions[index]),
        index_(index),
        fn_(fn),
        ctx_(fn->getContext()),
        b_(ctx_),
        direct_(direct) {}

  void run() {
    i64_ = b_.getInt64Ty();
    ptr_ = b_.getPtrTy();
    auto arg = fn_->arg_begin();
    c_ = &*arg++;
    r_ = &*arg++;
    mem_ = &*arg++;
    size_ = &*arg++;
    auto* entry = llvm::BasicBlock::Create(ctx_, "entry", fn_);
    b_.SetInsertPoint(entry);
    for (uint32_t i = 0; i < f_.nregs; ++i)
      v_.push_back(b_.CreateAlloca(i64_, nullptr, fmt::format("r{}", i)));
    prologue();
    make_blocks();
    b_.CreateBr(blocks_.at(0));
    for (size_t w = 0; w < f_.code.size();) {
      Insn in = bytecode::decode(f_.code.data(), w);
      if (auto it = blocks_.find(w); it != blocks_.end()) {
        if (!b_.GetInsertBlock()->getTerminator()) b_.CreateBr(it->second);
        b_.SetInsertPoint(it->second);
      }
      insn(in, w);
      w += in.size() / 4;
    }
  }

 private:
  llvm::Value* field(size_t offset) {
    return b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), c_, offset);
  }
  llvm::Value* load_field(size_t offset, llvm::Type* t) { return b_.CreateLoad(t, field(offset)); }
  void store_field(size_t offset, llvm::Value* v) { b_.CreateStore(v, field(offset)); }
  llvm::Value* get(unsigned reg) { return b_.CreateLoad(i64_, v_[reg]); }
  void set(unsigned reg, llvm::Value* v) { b_.CreateStore(v, v_[reg]); }
  llvm::Constant* k(uint64_t v) { return b_.getInt64(v); }

  // Branches to a new trap block when `cond` holds; continues in a fresh block.
  void trap_if(llvm::Value* cond, uint64_t kind, uint32_t pc) {
    auto* trap = llvm::BasicBlock::Create(ctx_, "trap", fn_);
    auto* cont = llvm::BasicBlock::Create(ctx_, "cont", fn_);
    b_.CreateCondBr(cond, trap, cont, llvm::MDBuilder(ctx_).createUnlikelyBranchWeights());
    b_.SetInsertPoint(trap);
    trap_here(kind, pc);
    b_.SetInsertPoint(cont);
  }
  void trap_here(uint64_t kind, uint32_t pc) {
    if (kind) store_field(offsetof(TjCtx, status), k(kind));
    store_field(offsetof(TjCtx, trap_fn), b_.getInt32(index_));
    store_field(offsetof(TjCtx, trap_pc), b_.getInt32(pc));
    b_.CreateRet(k(0));
  }
  void tick(uint32_t pc) {
    // if (fuel == 0 && refuel(ctx, fn)) trap; fuel--  (the refuel call is the cold path)
    llvm::Value* fuel = load_field(offsetof(TjCtx, fuel), i64_);
    auto* empty = llvm::BasicBlock::Create(ctx_, "refuel", fn_);
    auto* cont = llvm::BasicBlock::Create(ctx_, "fueled", fn_);
    b_.CreateCondBr(b_.CreateICmpEQ(fuel, k(0)), empty, cont,
                    llvm::MDBuilder(ctx_).createUnlikelyBranchWeights());
    b_.SetInsertPoint(empty);
    auto* fty = llvm::FunctionType::get(i64_, {ptr_, i64_}, false);
    llvm::Value* refuel = load_field(offsetof(TjCtx, refuel), ptr_);
    llvm::Value* dead = b_.CreateCall(fty, refuel, {c_, k(index_)});
    trap_if(b_.CreateICmpNE(dead, k(0)), TJ_TRAP_BUDGET, pc);
    b_.CreateBr(cont);
    b_.SetInsertPoint(cont);
    fuel = load_field(offsetof(TjCtx, fuel), i64_);
    store_field(offsetof(TjCtx, fuel), b_.CreateSub(fuel, k(1)));
  }

  void prologue() {
    llvm::Value* depth = load_field(offsetof(TjCtx, depth), i64_);
    llvm::Value* maxd = load_field(offsetof(TjCtx, max_depth), i64_);
    llvm::Value* end = b_.CreateConstInBoundsGEP1_64(i64_, r_, f_.nregs);
    llvm::Value* lim = load_field(offsetof(TjCtx, reg_limit), ptr_);
    trap_if(b_.CreateOr(b_.CreateICmpUGE(depth, maxd), b_.CreateICmpUGT(end, lim)),
            TJ_TRAP_STACK_OVERFLOW, 0);
    store_field(offsetof(TjCtx, depth), b_.CreateAdd(depth, k(1)));
    tick(0);
    for (uint32_t i = 0; i < f_.nregs; ++i)
      set(i, i < f_.nargs ? b_.CreateLoad(i64_, b_.CreateConstInBoundsGEP1_64(i64_, r_, i))
                          : static_cast<llvm::Value*>(k(0)));
  }

  void make_blocks() {
    std::set<size_t> leaders = {0};
    for (size_t w = 0; w < f_.code.size();) {
      Insn in = bytecode::decode(f_.code.data(), w);
      size_t next = w + in.size() / 4;
      Kind kind = in.info().kind;
      if (bytecode::is_branch(kind)) leaders.insert(w + in.simm() / 4);
      if (bytecode::is_branch(kind) || bytecode::is_terminator(kind)) leaders.insert(next);
      w = next;
    }
    for (size_t w : leaders)
      if (w < f_.code.size())
        blocks_[w] = llvm::BasicBlock::Create(ctx_, fmt::format("L{}", w * 4), fn_);
  }

  llvm::Value* sem(Op op, llvm::Value* a, llvm::Value* b) {
    llvm::Function* f = fn_->getParent()->getFunction(sem_name(op));
    return b_.CreateCall(f, {a, b});
  }

  llvm::Value* address(llvm::Value* base, uint32_t imm, unsigned width, uint32_t pc) {
    llvm::Value* ea = b_.CreateAdd(
        base, k(static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(imm)))));
    trap_if(b_.CreateICmpUGT(ea, b_.CreateSub(size_, k(width))), TJ_TRAP_OUT_OF_BOUNDS, pc);
    return b_.CreateInBoundsGEP(b_.getInt8Ty(), mem_, ea);
  }
  llvm::Value* atomic_address(unsigned reg, uint32_t pc) {
    llvm::Value* ea = get(reg);
    trap_if(b_.CreateICmpUGT(ea, b_.CreateSub(size_, k(8))), TJ_TRAP_OUT_OF_BOUNDS, pc);
    trap_if(b_.CreateICmpNE(b_.CreateAnd(ea, k(7)), k(0)), TJ_TRAP_MISALIGNED, pc);
    return b_.CreateInBoundsGEP(b_.getInt8Ty(), mem_, ea);
  }

  // Calls through the entry cell (or directly, for functions compiled into this module).
  void call(const Insn& in, llvm::Value* callee_index, uint32_t direct_index) {
    llvm::Value* nr = b_.CreateConstInBoundsGEP1_64(i64_, r_, f_.nregs);
    for (unsigned i = 0; i < in.c; ++i)
      b_.CreateStore(get(in.b + i), b_.CreateConstInBoundsGEP1_64(i64_, nr, i));
    llvm::CallInst* ci;
    auto it = direct_.find(direct_index);
    if (callee_index == nullptr && it != direct_.end()) {
      ci = b_.CreateCall(it->second, {c_, nr, mem_, size_});
    } else {
      if (!callee_index) callee_index = k(direct_index);
      llvm::Value* cells = load_field(offsetof(TjCtx, cells), ptr_);
      auto* cell = b_.CreateLoad(ptr_, b_.CreateInBoundsGEP(ptr_, cells, callee_index));
      cell->setAtomic(llvm::AtomicOrdering::Acquire);
      cell->setAlignment(llvm::Align(8));
      ci = b_.CreateCall(fn_->getFunctionType(), cell, {c_, nr, mem_, size_});
    }
    ci->setCallingConv(tjfn_cc(*fn_->getParent()));
    llvm::Value* status = load_field(offsetof(TjCtx, status), i64_);
    auto* unwind = llvm::BasicBlock::Create(ctx_, "unwind", fn_);
    auto* cont = llvm::BasicBlock::Create(ctx_, "cont", fn_);
    b_.CreateCondBr(b_.CreateICmpNE(status, k(0)), unwind, cont,
                    llvm::MDBuilder(ctx_).createUnlikelyBranchWeights());
    b_.SetInsertPoint(unwind);
    b_.CreateRet(k(0));
    b_.SetInsertPoint(cont);
    set(in.a, ci);
  }

  void insn(const Insn& in, size_t w) {
    uint32_t pc = static_cast<uint32_t>(w * 4);
    Kind kind = in.info().kind;
    switch (kind) {
      case Kind::BIN:
        set(in.a, sem(in.op, get(in.b), get(in.c)));
        return;
      case Kind::BINZ: {
        llvm::Value* b = get(in.c);
        trap_if(b_.CreateICmpEQ(b, k(0)), TJ_TRAP_DIV_BY_ZERO, pc);
        set(in.a, sem(in.op, get(in.b), b));
        return;
      }
      case Kind::BINI:
        set(in.a, sem(in.op, get(in.b), k(static_cast<uint64_t>(in.simm()))));
        return;
      case Kind::UN:
        set(in.a, sem(in.op, get(in.b), k(0)));
        return;
      case Kind::LDI:
        set(in.a, sem(in.op, get(in.a), k(in.imm)));
        return;
      case Kind::LD: {
        unsigned width = in.info().width;
        llvm::Value* p = address(get(in.b), in.imm, width, pc);
        auto* ld = b_.CreateAlignedLoad(b_.getIntNTy(width * 8), p, llvm::Align(1));
        set(in.a, sem(in.op, b_.CreateZExt(ld, i64_), k(0)));
        return;
      }
      case Kind::ST: {
        unsigned width = in.info().width;
        llvm::Value* p = address(get(in.a), in.imm, width, pc);
        b_.CreateAlignedStore(b_.CreateTrunc(get(in.b), b_.getIntNTy(width * 8)), p,
                              llvm::Align(1));
        return;
      }
      case Kind::BR2:
      case Kind::BR1:
      case Kind::JMP: {
        if (in.simm() <= 0) tick(pc);
        llvm::BasicBlock* target = blocks_.at(w + in.simm() / 4);
        if (kind == Kind::JMP) {
          b_.CreateBr(target);
          return;
        }
        llvm::Value* cond = sem(in.op, get(in.a), kind == Kind::BR2 ? get(in.b) : k(0));
        llvm::BasicBlock* next = blocks_.at(w + 2);
        b_.CreateCondBr(b_.CreateICmpNE(cond, k(0)), target, next);
        return;
      }
      case Kind::SEL:
        set(in.a, b_.CreateSelect(b_.CreateICmpNE(get(in.b), k(0)), get(in.c), get(in.imm)));
        return;
      case Kind::CALL:
        call(in, nullptr, in.imm);
        return;
      case Kind::CALLR: {
        llvm::Value* idx = get(in.imm);
        llvm::Value* n = load_field(offsetof(TjCtx, num_functions), i64_);
        llvm::Value* nargs_of = load_field(offsetof(TjCtx, nargs_of), ptr_);
        llvm::Value* bad = b_.CreateICmpUGE(idx, n);
        auto* check = llvm::BasicBlock::Create(ctx_, "check", fn_);
        auto* trap = llvm::BasicBlock::Create(ctx_, "trap", fn_);
        auto* ok = llvm::BasicBlock::Create(ctx_, "ok", fn_);
        b_.CreateCondBr(bad, trap, check);
        b_.SetInsertPoint(trap);
        trap_here(TJ_TRAP_BAD_CALL, pc);
        b_.SetInsertPoint(check);
        llvm::Value* na =
            b_.CreateLoad(b_.getInt32Ty(), b_.CreateInBoundsGEP(b_.getInt32Ty(), nargs_of, idx));
        b_.CreateCondBr(b_.CreateICmpNE(na, b_.getInt32(in.c)), trap, ok);
        b_.SetInsertPoint(ok);
        call(in, idx, 0);
        return;
      }
      case Kind::HCALL: {
        llvm::Value* nr = b_.CreateConstInBoundsGEP1_64(i64_, r_, f_.nregs);
        for (unsigned i = 0; i < in.c; ++i)
          b_.CreateStore(get(in.b + i), b_.CreateConstInBoundsGEP1_64(i64_, nr, i));
        llvm::Value* host = load_field(offsetof(TjCtx, host_call), ptr_);
        auto* fty = llvm::FunctionType::get(i64_, {ptr_, i64_, ptr_, i64_}, false);
        llvm::Value* v = b_.CreateCall(fty, host, {c_, k(in.imm), nr, k(in.c)});
        trap_if(b_.CreateICmpNE(load_field(offsetof(TjCtx, status), i64_), k(0)), 0, pc);
        set(in.a, v);
        return;
      }
      case Kind::RET: {
        llvm::Value* v = get(in.a);
        store_field(offsetof(TjCtx, depth),
                    b_.CreateSub(load_field(offsetof(TjCtx, depth), i64_), k(1)));
        b_.CreateRet(v);
        return;
      }
      case Kind::HALT:
        store_field(offsetof(TjCtx, trap_code), get(in.a));
        store_field(offsetof(TjCtx, status), k(TJ_HALTED));
        b_.CreateRet(k(0));
        return;
      case Kind::TRAP:
        store_field(offsetof(TjCtx, trap_code), k(in.imm));
        trap_here(TJ_TRAP_USER, pc);
        return;
      case Kind::FENCE:
        b_.CreateFence(llvm::AtomicOrdering::SequentiallyConsistent);
        return;
      case Kind::CAS: {
        llvm::Value* p = atomic_address(in.b, pc);
        auto* x = b_.CreateAtomicCmpXchg(p, get(in.c), get(in.imm), llvm::Align(8),
                                         llvm::AtomicOrdering::SequentiallyConsistent,
                                         llvm::AtomicOrdering::SequentiallyConsistent);
        set(in.a, b_.CreateExtractValue(x, 0));
        return;
      }
      case Kind::XCHG:
      case Kind::XADD: {
        llvm::Value* p = atomic_address(in.b, pc);
        auto op = kind == Kind::XCHG ? llvm::AtomicRMWInst::Xchg : llvm::AtomicRMWInst::Add;
        set(in.a, b_.CreateAtomicRMW(op, p, get(in.c), llvm::Align(8),
                                     llvm::AtomicOrdering::SequentiallyConsistent));
        return;
      }
    }
  }

  const bytecode::Module& m_;
  const bytecode::Function& f_;
  uint32_t index_;
  llvm::Function* fn_;
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  const std::map<uint32_t, llvm::Function*>& direct_;
  llvm::Type* i64_ = nullptr;
  llvm::PointerType* ptr_ = nullptr;
  llvm::Value *c_ = nullptr, *r_ = nullptr, *mem_ = nullptr, *size_ = nullptr;
  std::vector<llvm::AllocaInst*> v_;
  std::map<size_t, llvm::BasicBlock*> blocks_;
};

llvm::Type* b_void(llvm::LLVMContext& c) { return llvm::Type::getVoidTy(c); }

llvm::FunctionType* tjfn_type(llvm::LLVMContext& c) {
  auto* p = llvm::PointerType::getUnqual(c);
  auto* i64 = llvm::Type::getInt64Ty(c);
  return llvm::FunctionType::get(i64, {p, p, p, i64}, false);
}

llvm::Function* declare_tjfn(llvm::Module& mod, const std::string& name) {
  auto* f = llvm::Function::Create(tjfn_type(mod.getContext()), llvm::GlobalValue::ExternalLinkage,
                                   name, mod);
  f->setCallingConv(tjfn_cc(mod));
  f->addFnAttr(llvm::Attribute::NoUnwind);
  // ctx (the Instance), r (the register stack) and mem (linear memory) are disjoint mappings:
  // telling LLVM lets it keep fuel and frame values in registers across guest stores.
  for (unsigned i = 0; i < 3; ++i) f->addParamAttr(i, llvm::Attribute::NoAlias);
  return f;
}

Expected<std::unique_ptr<llvm::Module>> new_module(llvm::LLVMContext& ctx, const std::string& name,
                                                   const backend::TargetConfig& target) {
  auto mod = std::make_unique<llvm::Module>(name, ctx);
  TJ_ASSIGN_OR_RETURN(auto tm, backend::make_target_machine(target, 2));
  mod->setDataLayout(tm->createDataLayout());
  mod->setTargetTriple(tm->getTargetTriple());
  TJ_TRY(link_semantics(*mod));
  return mod;
}

Status finish(llvm::Module& mod) {
  std::string err;
  llvm::raw_string_ostream os(err);
  if (llvm::verifyModule(mod, &os))
    return make_error(ErrorCode::kInternal, "bytecode translation produced invalid IR: " + err);
  return {};
}

}  // namespace

Expected<std::unique_ptr<llvm::Module>> translate_bytecode(const bytecode::Module& m, uint32_t fn,
                                                           llvm::LLVMContext& ctx) {
  TJ_ASSIGN_OR_RETURN(auto mod,
                      new_module(ctx, fmt::format("tj_bc_{}", fn), backend::TargetConfig::host()));
  llvm::Function* f = declare_tjfn(*mod, fmt::format("tj_bc_{}", fn));
  std::map<uint32_t, llvm::Function*> direct = {{fn, f}};  // self-recursion calls directly
  FunctionTranslator(m, fn, f, direct).run();
  TJ_TRY(finish(*mod));
  return mod;
}

namespace {

// Every function of `m` in one module, calling each other directly (so LLVM can inline
// across functions); `internal` hides them (AOT objects export C wrappers instead).
Expected<std::unique_ptr<llvm::Module>> translate_all(const bytecode::Module& m,
                                                      llvm::LLVMContext& ctx, bool internal,
                                                      std::map<uint32_t, llvm::Function*>& fns,
                                                      const backend::TargetConfig& target) {
  TJ_ASSIGN_OR_RETURN(auto mod, new_module(ctx, "tierjit_bytecode", target));
  for (uint32_t i = 0; i < m.functions.size(); ++i) {
    fns[i] = declare_tjfn(*mod, fmt::format("tj_bc_{}", i));
    if (internal) fns[i]->setLinkage(llvm::GlobalValue::InternalLinkage);
  }
  for (uint32_t i = 0; i < m.functions.size(); ++i) FunctionTranslator(m, i, fns[i], fns).run();
  return mod;
}

}  // namespace

Expected<std::unique_ptr<llvm::Module>> translate_bytecode_module(
    const bytecode::Module& m, llvm::LLVMContext& ctx, const backend::TargetConfig* target) {
  std::map<uint32_t, llvm::Function*> fns;
  TJ_ASSIGN_OR_RETURN(auto mod, translate_all(m, ctx, /*internal=*/true, fns,
                                              target ? *target : backend::TargetConfig::host()));
  // Tables the wrappers install in the caller's TjCtx: entry cells (callr) and arg counts.
  auto* p = llvm::PointerType::getUnqual(ctx);
  auto* i64 = llvm::Type::getInt64Ty(ctx);
  auto* i32 = llvm::Type::getInt32Ty(ctx);
  size_t n = m.functions.size();
  std::vector<llvm::Constant*> cell_init, nargs_init;
  for (uint32_t i = 0; i < n; ++i) {
    cell_init.push_back(fns[i]);
    nargs_init.push_back(llvm::ConstantInt::get(i32, m.functions[i].nargs));
  }
  auto* cells_ty = llvm::ArrayType::get(p, n);
  auto* cells = new llvm::GlobalVariable(*mod, cells_ty, false, llvm::GlobalValue::InternalLinkage,
                                         llvm::ConstantArray::get(cells_ty, cell_init), "tj_cells");
  auto* nargs_ty = llvm::ArrayType::get(i32, n);
  auto* nargs =
      new llvm::GlobalVariable(*mod, nargs_ty, true, llvm::GlobalValue::InternalLinkage,
                               llvm::ConstantArray::get(nargs_ty, nargs_init), "tj_nargs");
  // uint64_t tj_<NAME>(TjCtx* ctx, uint64_t* frame): the frame holds the arguments.
  for (uint32_t i = 0; i < n; ++i) {
    auto* w = llvm::Function::Create(llvm::FunctionType::get(i64, {p, p}, false),
                                     llvm::GlobalValue::ExternalLinkage,
                                     "tj_" + m.functions[i].name, *mod);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", w));
    llvm::Value* c = w->getArg(0);
    auto at = [&](size_t off) { return b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), c, off); };
    b.CreateStore(cells, at(offsetof(TjCtx, cells)));
    b.CreateStore(nargs, at(offsetof(TjCtx, nargs_of)));
    b.CreateStore(b.getInt64(n), at(offsetof(TjCtx, num_functions)));
    auto* call = b.CreateCall(fns[i], {c, w->getArg(1), b.CreateLoad(p, at(offsetof(TjCtx, mem))),
                                       b.CreateLoad(i64, at(offsetof(TjCtx, mem_size)))});
    call->setCallingConv(tjfn_cc(*mod));
    b.CreateRet(call);
  }
  // void tj_init_memory(uint8_t* mem): copies the data segments.
  auto* init = llvm::Function::Create(llvm::FunctionType::get(b_void(ctx), {p}, false),
                                      llvm::GlobalValue::ExternalLinkage, "tj_init_memory", *mod);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", init));
  for (const auto& d : m.data) {
    auto* bytes = llvm::ConstantDataArray::getString(ctx, d.bytes, false);
    auto* g = new llvm::GlobalVariable(*mod, bytes->getType(), true,
                                       llvm::GlobalValue::PrivateLinkage, bytes, "tj_data");
    b.CreateMemCpy(b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), init->getArg(0), d.addr),
                   llvm::MaybeAlign(1), g, llvm::MaybeAlign(1), d.bytes.size());
  }
  b.CreateRetVoid();
  TJ_TRY(finish(*mod));
  return mod;
}

Expected<std::string> compile_bytecode_object(const bytecode::Module& m, int opt_level,
                                              bool native_cpu) {
  backend::initialize_llvm_targets();
  llvm::LLVMContext ctx;
  TJ_ASSIGN_OR_RETURN(auto mod, translate_bytecode_module(m, ctx));
  backend::TargetConfig cfg = native_cpu
                                  ? backend::TargetConfig::host()
                                  : backend::TargetConfig::generic(mod->getTargetTriple().str());
  cfg.emulated_tls = false;
  TJ_ASSIGN_OR_RETURN(auto tm, backend::make_target_machine(cfg, opt_level));
  mod->setDataLayout(tm->createDataLayout());
  return backend::compile_to_object(*mod, *tm, opt_level);
}

// ---- BytecodeJit ---------------------------------------------------------------------------
// Each BytecodeJit compiles with its own TargetMachine (under its mutex) and links the objects
// into a JITDylib of its own in the process-wide JIT session, removed with it.
class BytecodeJit::Impl {
 public:
  backend::JitSession* session = nullptr;
  llvm::orc::JITDylib* jd = nullptr;
  std::unique_ptr<llvm::TargetMachine> tm;
  int opt = 2;
  std::mutex mu;
  uint64_t serial = 0;
  ObjectCache* cache = nullptr;
  std::string target_key;
  uint64_t hits = 0, stores = 0;
  ~Impl() {
    if (session) session->remove(jd);
  }

  // Optimizes and emits `mod`, links it, returns the addresses of `names`.
  Expected<std::vector<void*>> link(llvm::Module& mod, const std::vector<std::string>& names) {
    auto dump = [](llvm::Module& m) {
      if (std::getenv("TIERJIT_DUMP_BYTECODE_IR")) m.print(llvm::errs(), nullptr);
    };
    Hash128 key;
    std::optional<std::string> cached;
    if (cache) {  // keyed by the module as translated: the symbol names are in it
      std::string bitcode;
      llvm::raw_string_ostream os(bitcode);
      llvm::WriteBitcodeToFile(mod, os);
      os.flush();
      key = CacheKey("bytecode-llvm")
                .add(hash_bytes(bitcode))
                .add_u64(uint64_t(opt))
                .target(target_key)
                .finish();
      cached = cache->load(key);
    }
    std::string obj;
    if (cached) {
      obj = std::move(*cached);
      hits++;
    } else {
      TJ_ASSIGN_OR_RETURN(obj, backend::compile_to_object(mod, *tm, opt, dump));
      if (cache) {
        cache->store(key, obj);
        stores++;
      }
    }
    TJ_TRY(session->add_object(*jd, obj, names.empty() ? "bytecode" : names.front()));
    std::vector<void*> out;
    for (const std::string& name : names) {
      TJ_ASSIGN_OR_RETURN(void* addr, session->lookup(*jd, name));
      out.push_back(addr);
    }
    return out;
  }
};

Expected<std::unique_ptr<BytecodeJit>> BytecodeJit::create(int opt_level, ObjectCache* cache) {
  TJ_ASSIGN_OR_RETURN(backend::JitSession * session, backend::JitSession::get());
  std::unique_ptr<BytecodeJit> out(new BytecodeJit);
  out->impl_ = std::make_unique<Impl>();
  out->impl_->opt = opt_level;
  out->impl_->cache = cache;
  out->impl_->target_key = backend::TargetConfig::host().key();
  TJ_ASSIGN_OR_RETURN(out->impl_->tm,
                      backend::make_target_machine(backend::TargetConfig::host(), opt_level));
  TJ_ASSIGN_OR_RETURN(out->impl_->jd, session->create_dylib("bytecode"));
  out->impl_->session = session;
  return out;
}

BytecodeJit::~BytecodeJit() = default;

uint64_t BytecodeJit::cache_hits() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->hits;
}

uint64_t BytecodeJit::cache_stores() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stores;
}

Expected<void*> BytecodeJit::compile(const bytecode::Module& m, uint32_t fn) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  llvm::LLVMContext ctx;
  TJ_ASSIGN_OR_RETURN(auto mod, translate_bytecode(m, fn, ctx));
  // Unique symbol per compile: a function may be recompiled (e.g. after reset).
  std::string name = fmt::format("tj_bc_{}_{}", fn, impl_->serial++);
  mod->getFunction(fmt::format("tj_bc_{}", fn))->setName(name);
  TJ_ASSIGN_OR_RETURN(std::vector<void*> addr, impl_->link(*mod, {name}));
  return addr.front();
}

Expected<std::vector<void*>> BytecodeJit::compile_all(const bytecode::Module& m) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  llvm::LLVMContext ctx;
  std::map<uint32_t, llvm::Function*> fns;
  TJ_ASSIGN_OR_RETURN(
      auto mod, translate_all(m, ctx, /*internal=*/false, fns, backend::TargetConfig::host()));
  TJ_TRY(finish(*mod));
  uint64_t serial = impl_->serial++;
  std::vector<std::string> names;
  for (auto& [i, f] : fns) {
    names.push_back(fmt::format("tj_bc_{}_{}", i, serial));
    f->setName(names.back());
  }
  return impl_->link(*mod, names);
}

}  // namespace tierjit::bytecode_llvm
