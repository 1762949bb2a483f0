// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// OSR continuations (see osr.hpp).
#include "llvmir/osr.hpp"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/Local.h>
#include <llvm/Transforms/Utils/SSAUpdater.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

#include "baseline/compiler.hpp"

namespace tierjit::llvmir {
namespace {

using llvm::BasicBlock;
using llvm::Value;

// Types whose baseline slot layout a load can read back: scalars in the low bytes of an
// 8-byte slot, vectors lane by lane (8 bytes per lane).
bool slot_type(llvm::Type* t) {
  if (t->isPointerTy() || t->isFloatTy() || t->isDoubleTy()) return true;
  if (auto* it = llvm::dyn_cast<llvm::IntegerType>(t)) return it->getBitWidth() <= 64;
  if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(t)) {
    llvm::Type* e = vt->getElementType();
    return !e->isVectorTy() && slot_type(e);
  }
  return false;
}

// Reads a value of type `t` from the slot at frame + off.
Value* load_slot(llvm::IRBuilder<>& b, Value* frame, uint32_t off, llvm::Type* t) {
  auto at = [&](uint32_t o) { return b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), frame, o); };
  auto scalar = [&](uint32_t o, llvm::Type* st) -> Value* {
    if (st->isIntegerTy(1)) return b.CreateTrunc(b.CreateLoad(b.getInt8Ty(), at(o)), st);
    return b.CreateLoad(st, at(o));
  };
  auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(t);
  if (!vt) return scalar(off, t);
  Value* v = llvm::PoisonValue::get(vt);
  for (unsigned k = 0; k < vt->getNumElements(); ++k)
    v = b.CreateInsertElement(v, scalar(off + 8 * k, vt->getElementType()), k);
  return v;
}

// Blocks reachable from `start`'s entry without entering `avoid` (which may be null).
llvm::DenseSet<const BasicBlock*> reach_avoiding(const BasicBlock* start, const BasicBlock* avoid) {
  llvm::DenseSet<const BasicBlock*> seen;
  llvm::SmallVector<const BasicBlock*, 32> work{start};
  seen.insert(start);
  while (!work.empty()) {
    const BasicBlock* b = work.pop_back_val();
    for (const BasicBlock* s : llvm::successors(b))
      if (s != avoid && seen.insert(s).second) work.push_back(s);
  }
  return seen;
}

}  // namespace

Expected<llvm::Function*> build_osr_continuation(llvm::Function& f, const std::string& name,
                                                 const std::vector<uint32_t>& slots,
                                                 std::vector<uint32_t>* headers, uint64_t* entered,
                                                 const OsrEntryHook* hook) {
  auto unsupported = [](const std::string& why) {
    return make_error(ErrorCode::kUnsupported, "OSR: " + why);
  };
  if (f.isVarArg()) return unsupported("variadic function");
  if (f.hasPersonalityFn()) return unsupported("exception handling");
  llvm::Type* rt = f.getReturnType();
  bool ret_ok = rt->isVoidTy() || rt->isPointerTy() || rt->isFloatTy() || rt->isDoubleTy() ||
                (rt->isIntegerTy() && rt->getIntegerBitWidth() <= 64);
  if (!ret_ok) return unsupported("return type");
  // Value ordinals, as the baseline compile numbered them.
  llvm::DenseMap<const Value*, uint32_t> slot_of;
  llvm::DenseMap<const BasicBlock*, uint32_t> index;
  size_t n = 0;
  for (llvm::Argument& a : f.args()) slot_of[&a] = n < slots.size() ? slots[n] : 0, ++n;
  uint32_t bi = 0;
  for (BasicBlock& b : f) {
    if (b.hasAddressTaken()) return unsupported("block addresses");
    index[&b] = bi++;
    for (llvm::Instruction& i : b) slot_of[&i] = n < slots.size() ? slots[n] : 0, ++n;
  }
  if (n != slots.size()) return unsupported("the body differs from the baseline's");

  // Loop headers as the baseline counts them: targets of edges that go back in block order.
  llvm::DominatorTree dt(f);
  struct Entry {
    BasicBlock* header;
    std::vector<Value*> live;  // values live at its entry (phis of the header first)
  };
  std::vector<Entry> entries;
  for (BasicBlock& h : f) {
    bool back = false;
    for (BasicBlock* p : llvm::predecessors(&h)) back |= index[&h] <= index[p];
    if (!back || !dt.isReachableFromEntry(&h)) continue;
    Entry e{&h, {}};
    bool ok = true;
    for (llvm::PHINode& phi : h.phis()) e.live.push_back(&phi);
    // A value defined in a strict dominator D of h is live at h's entry when some use can be
    // reached from h without passing through D again (arguments: D is nothing).
    auto live_from = [&](Value* v, const llvm::DenseSet<const BasicBlock*>& reach) {
      for (llvm::Use& u : v->uses()) {
        auto* user = llvm::dyn_cast<llvm::Instruction>(u.getUser());
        if (!user) continue;
        const BasicBlock* ub = user->getParent();
        if (auto* phi = llvm::dyn_cast<llvm::PHINode>(user)) ub = phi->getIncomingBlock(u);
        if (reach.contains(ub)) return true;
      }
      return false;
    };
    auto all = reach_avoiding(&h, nullptr);
    for (llvm::Argument& a : f.args())
      if (live_from(&a, all)) e.live.push_back(&a);
    for (auto* node = dt.getNode(&h)->getIDom(); node; node = node->getIDom()) {
      BasicBlock* d = node->getBlock();
      auto reach = reach_avoiding(&h, d);
      for (llvm::Instruction& i : *d)
        if (!i.getType()->isVoidTy() && live_from(&i, reach)) e.live.push_back(&i);
    }
    for (Value* v : e.live) {
      uint32_t s = slot_of.lookup(v);
      bool frame_object = (s & baseline::kOsrFrameObject) != 0;
      if (s == 0 || (!frame_object && !slot_type(v->getType()))) ok = false;
    }
    if (ok) entries.push_back(std::move(e));
  }
  if (entries.empty()) return unsupported("no loop whose live values are all in the frame");

  // The continuation: its entry, one block per header, then a copy of the body.
  llvm::LLVMContext& ctx = f.getContext();
  llvm::Module& m = *f.getParent();
  auto* fty =
      llvm::FunctionType::get(llvm::Type::getInt64Ty(ctx),
                              {llvm::PointerType::get(ctx, 0), llvm::Type::getInt32Ty(ctx)}, false);
  llvm::Function* g = llvm::Function::Create(fty, llvm::GlobalValue::ExternalLinkage, name, &m);
  llvm::Argument* frame = g->getArg(0);
  BasicBlock* entry = BasicBlock::Create(ctx, "osr.entry", g);
  llvm::IRBuilder<> b(entry);
  llvm::ValueToValueMapTy vmap;
  std::vector<llvm::Instruction*> placeholders;  // stand for f's arguments in the copy
  for (llvm::Argument& a : f.args()) {
    auto* ph = llvm::cast<llvm::Instruction>(b.CreateFreeze(llvm::PoisonValue::get(a.getType())));
    placeholders.push_back(ph);
    vmap[&a] = ph;
  }
  llvm::SmallVector<llvm::ReturnInst*, 8> returns;
  llvm::CloneFunctionInto(g, &f, vmap, llvm::CloneFunctionChangeType::LocalChangesOnly, returns);
  g->setAttributes(
      llvm::AttributeList::get(ctx, llvm::AttributeList::FunctionIndex,
                               llvm::AttrBuilder(ctx, f.getAttributes().getFnAttrs())));
  g->removeFnAttr(llvm::Attribute::AlwaysInline);
  if (entered) {
    auto* counter = llvm::ConstantExpr::getIntToPtr(b.getInt64(uint64_t(entered)), b.getPtrTy());
    b.CreateAtomicRMW(llvm::AtomicRMWInst::Add, counter, b.getInt64(1), llvm::MaybeAlign(8),
                      llvm::AtomicOrdering::Monotonic);
  }
  if (hook && hook->fn) {
    auto* fty = llvm::FunctionType::get(b.getVoidTy(),
                                        {b.getPtrTy(), b.getInt32Ty(), b.getInt32Ty()}, false);
    auto* callee = llvm::ConstantExpr::getIntToPtr(b.getInt64(uint64_t(hook->fn)), b.getPtrTy());
    auto* cookie =
        llvm::ConstantExpr::getIntToPtr(b.getInt64(uint64_t(hook->cookie)), b.getPtrTy());
    b.CreateCall(fty, callee, {cookie, b.getInt32(hook->function), g->getArg(1)});
  }
  BasicBlock* trap = BasicBlock::Create(ctx, "osr.none", g);
  new llvm::UnreachableInst(ctx, trap);
  llvm::SwitchInst* sw = b.CreateSwitch(g->getArg(1), trap, unsigned(entries.size()));

  struct Available {
    llvm::SmallVector<std::pair<BasicBlock*, Value*>, 2> at;  // (osr block, loaded value)
  };
  llvm::DenseMap<Value*, Available> live_ins;  // keyed by f's value
  for (Entry& e : entries) {
    auto* hb = llvm::cast<BasicBlock>(vmap[e.header]);
    BasicBlock* ob = BasicBlock::Create(ctx, "osr." + std::to_string(index[e.header]), g, trap);
    sw->addCase(b.getInt32(index[e.header]), ob);
    headers->push_back(index[e.header]);
    llvm::IRBuilder<> lb(ob);
    for (Value* v : e.live) {
      uint32_t s = slot_of.lookup(v);
      Value* x =
          (s & baseline::kOsrFrameObject)
              ? lb.CreateConstInBoundsGEP1_64(lb.getInt8Ty(), frame, s & ~baseline::kOsrFrameObject)
              : load_slot(lb, frame, s, v->getType());
      if (auto* phi = llvm::dyn_cast<llvm::PHINode>(v); phi && phi->getParent() == e.header)
        llvm::cast<llvm::PHINode>(vmap[phi])->addIncoming(x, ob);
      else
        live_ins[v].at.push_back({ob, x});
    }
    lb.CreateBr(hb);
  }
  // Blocks the continuation can reach: uses elsewhere are about to be deleted.
  llvm::DenseSet<const BasicBlock*> reachable = reach_avoiding(entry, nullptr);
  for (auto& [v, avail] : live_ins) {
    Value* copy = vmap[v];
    auto* def = llvm::dyn_cast<llvm::Instruction>(copy);
    // An argument's placeholder (in the entry) is no definition; an instruction of the body is
    // one when the continuation reaches it (e.g. in an outer loop).
    bool def_reachable = def && def->getParent() != entry && reachable.contains(def->getParent());
    llvm::SSAUpdater ssa;
    ssa.Initialize(copy->getType(), copy->getName());
    for (auto& [blk, x] : avail.at) ssa.AddAvailableValue(blk, x);
    if (def_reachable) ssa.AddAvailableValue(def->getParent(), def);
    llvm::SmallVector<llvm::Use*, 8> uses;
    for (llvm::Use& u : copy->uses()) uses.push_back(&u);
    for (llvm::Use* u : uses) {
      auto* user = llvm::dyn_cast<llvm::Instruction>(u->getUser());
      if (!user) continue;
      BasicBlock* ub = user->getParent();
      auto* phi = llvm::dyn_cast<llvm::PHINode>(user);
      if (phi) ub = phi->getIncomingBlock(*u);
      if (!reachable.contains(ub)) continue;
      if (def_reachable && !phi && ub == def->getParent()) continue;  // after its definition
      ssa.RewriteUse(*u);
    }
  }
  for (llvm::Instruction* ph : placeholders) {
    ph->replaceAllUsesWith(llvm::PoisonValue::get(ph->getType()));
    ph->eraseFromParent();
  }
  // Returns give the result's bits; tail calls keep no musttail (the signature changed);
  // lifetime markers would now name frame addresses, not allocas.
  for (llvm::ReturnInst* r : returns) {
    llvm::IRBuilder<> rb(r);
    Value* v = r->getReturnValue();
    Value* bits = rb.getInt64(0);
    if (v) {
      llvm::Type* t = v->getType();
      if (t->isPointerTy())
        bits = rb.CreatePtrToInt(v, rb.getInt64Ty());
      else if (t->isFloatTy())
        bits = rb.CreateZExt(rb.CreateBitCast(v, rb.getInt32Ty()), rb.getInt64Ty());
      else if (t->isDoubleTy())
        bits = rb.CreateBitCast(v, rb.getInt64Ty());
      else
        bits = rb.CreateZExt(v, rb.getInt64Ty());
    }
    rb.CreateRet(bits);
    r->eraseFromParent();
  }
  std::vector<llvm::Instruction*> dead;
  for (BasicBlock& blk : *g)
    for (llvm::Instruction& i : blk) {
      if (auto* call = llvm::dyn_cast<llvm::CallInst>(&i); call && call->isMustTailCall())
        call->setTailCallKind(llvm::CallInst::TCK_Tail);
      if (auto* ii = llvm::dyn_cast<llvm::IntrinsicInst>(&i); ii && ii->isLifetimeStartOrEnd())
        dead.push_back(ii);
    }
  for (llvm::Instruction* i : dead) i->eraseFromParent();
  llvm::removeUnreachableBlocks(*g);
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyFunction(*g, &os)) {
    g->eraseFromParent();
    return unsupported("continuation does not verify: " +
                       problems.substr(0, std::min(problems.find('\n'), size_t(200))));
  }
  return g;
}

}  // namespace tierjit::llvmir
