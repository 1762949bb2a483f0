// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Module preparation and per-function extraction for lazy, tiered compilation.
#include "llvmir/program.hpp"

#include <llvm/Analysis/CFG.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/DebugInfoMetadata.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace tierjit::llvmir {
namespace {

bool treat_as_definition(const llvm::GlobalValue& gv) {
  return !gv.isDeclaration() && !gv.hasAvailableExternallyLinkage();
}

// Maps references to source globals into declarations in the destination module, and block
// addresses of the functions cloned into it (`bodies`: source -> clone) to the cloned blocks
// (which `vmap` holds once CloneFunctionInto has created them).
class DeclMaterializer final : public llvm::ValueMaterializer {
 public:
  explicit DeclMaterializer(llvm::Module& dst, const llvm::ValueToValueMapTy* vmap = nullptr)
      : dst_(dst), vmap_(vmap) {}

  std::unordered_map<const llvm::Function*, llvm::Function*> bodies;
  std::string error;  ///< set when a block address could not be mapped

  llvm::Value* materialize(llvm::Value* v) override {
    if (auto* ba = llvm::dyn_cast<llvm::BlockAddress>(v)) return block_address(*ba);
    auto* gv = llvm::dyn_cast<llvm::GlobalValue>(v);
    if (!gv || gv->getParent() == &dst_) return nullptr;
    if (auto* f = llvm::dyn_cast<llvm::Function>(gv)) return declare_function(*f);
    if (auto* var = llvm::dyn_cast<llvm::GlobalVariable>(gv)) return declare_variable(*var);
    if (auto* ga = llvm::dyn_cast<llvm::GlobalAlias>(gv)) {
      if (auto* f = llvm::dyn_cast<llvm::Function>(ga->getAliaseeObject()))
        return declare(ga->getName(), f->getFunctionType(), *f);
      return declare_var(ga->getName(), ga->getValueType(), false, ga->getThreadLocalMode(),
                         ga->getAddressSpace(), false);
    }
    return nullptr;
  }

 private:
  llvm::Value* block_address(const llvm::BlockAddress& ba) {
    auto body = bodies.find(ba.getFunction());
    const llvm::Value* block = nullptr;
    if (body != bodies.end() && vmap_) {
      auto it = vmap_->find(ba.getBasicBlock());
      if (it != vmap_->end()) block = it->second;
    }
    if (!block) {
      if (error.empty())
        error = "block address of '" + ba.getFunction()->getName().str() +
                "' used where that function's body is not compiled";
      return llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(ba.getType()));
    }
    return llvm::BlockAddress::get(
        body->second, const_cast<llvm::BasicBlock*>(llvm::cast<llvm::BasicBlock>(block)));
  }

  llvm::Function* declare(llvm::StringRef name, llvm::FunctionType* ty, const llvm::Function& src) {
    if (auto* existing = dst_.getFunction(name)) return existing;
    auto* f = llvm::Function::Create(ty, llvm::GlobalValue::ExternalLinkage, name, dst_);
    f->setCallingConv(src.getCallingConv());
    f->setAttributes(src.getAttributes());
    if (src.hasExternalWeakLinkage()) f->setLinkage(llvm::GlobalValue::ExternalWeakLinkage);
    f->setDSOLocal(false);
    return f;
  }
  llvm::Value* declare_function(const llvm::Function& f) {
    return declare(f.getName(), f.getFunctionType(), f);
  }
  llvm::GlobalVariable* declare_var(llvm::StringRef name, llvm::Type* ty, bool is_const,
                                    llvm::GlobalValue::ThreadLocalMode tls, unsigned as,
                                    bool weak) {
    if (auto* existing = dst_.getNamedGlobal(name)) return existing;
    auto* g = new llvm::GlobalVariable(
        dst_, ty, is_const,
        weak ? llvm::GlobalValue::ExternalWeakLinkage : llvm::GlobalValue::ExternalLinkage, nullptr,
        name, nullptr, tls, as);
    g->setDSOLocal(false);
    return g;
  }
  llvm::Value* declare_variable(const llvm::GlobalVariable& v) {
    auto* g = declare_var(v.getName(), v.getValueType(), v.isConstant(), v.getThreadLocalMode(),
                          v.getAddressSpace(), v.hasExternalWeakLinkage());
    g->setAlignment(v.getAlign());
    return g;
  }

  llvm::Module& dst_;
  const llvm::ValueToValueMapTy* vmap_;
};

// Functions whose block addresses appear in `c` (a global's initializer).
void block_address_functions(const llvm::Constant* c,
                             llvm::SmallPtrSetImpl<const llvm::Function*>& out,
                             llvm::SmallPtrSetImpl<const llvm::Constant*>& seen) {
  if (!seen.insert(c).second || llvm::isa<llvm::GlobalValue>(c)) return;
  if (auto* ba = llvm::dyn_cast<llvm::BlockAddress>(c)) {
    out.insert(ba->getFunction());
    return;
  }
  for (const llvm::Use& op : c->operands())
    if (auto* oc = llvm::dyn_cast<llvm::Constant>(op.get())) block_address_functions(oc, out, seen);
}

// True when every use of `v` — through constant expressions and GEPs — is a non-volatile
// load inside `f`: the memory is only read, and only by f.
bool only_loaded_in(const llvm::Value* v, const llvm::Function* f) {
  for (const llvm::User* u : v->users()) {
    if (auto* ce = llvm::dyn_cast<llvm::ConstantExpr>(u)) {
      if (!only_loaded_in(ce, f)) return false;
      continue;
    }
    auto* inst = llvm::dyn_cast<llvm::Instruction>(u);
    if (!inst || inst->getFunction() != f) return false;
    if (auto* ld = llvm::dyn_cast<llvm::LoadInst>(inst)) {
      if (ld->getPointerOperand() != v || ld->isVolatile()) return false;
    } else if (auto* gep = llvm::dyn_cast<llvm::GetElementPtrInst>(inst)) {
      if (gep->getPointerOperand() != v || !only_loaded_in(gep, f)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// True when a block address used by `u` (an instruction in its own function) cannot outlive
// the running invocation: it is jumped to, compared, or kept in the frame (stored to an
// alloca, as -O0 code does), directly or through phis and selects. Anything else — a store
// to other memory, a call argument, a return — may be jumped to after a tier-up has replaced
// the body.
bool frame_local_use(const llvm::User* u, const llvm::Value* v,
                     llvm::SmallPtrSetImpl<const llvm::User*>& seen) {
  if (!seen.insert(u).second) return true;
  if (llvm::isa<llvm::IndirectBrInst, llvm::ICmpInst>(u)) return true;
  if (auto* st = llvm::dyn_cast<llvm::StoreInst>(u))
    return st->getValueOperand() != v ||
           llvm::isa<llvm::AllocaInst>(llvm::getUnderlyingObject(st->getPointerOperand()));
  if (llvm::isa<llvm::PHINode, llvm::SelectInst>(u)) {
    if (auto* sel = llvm::dyn_cast<llvm::SelectInst>(u); sel && sel->getCondition() == v)
      return true;
    for (const llvm::User* next : u->users())
      if (!frame_local_use(next, u, seen)) return false;
    return true;
  }
  return false;
}

// The instructions and globals that use `v`, looking through constant expressions and
// aggregates.
void constant_use_roots(const llvm::Value* v, std::vector<const llvm::User*>& out) {
  for (const llvm::User* u : v->users()) {
    if (llvm::isa<llvm::Constant>(u) && !llvm::isa<llvm::GlobalValue>(u))
      constant_use_roots(u, out);
    else
      out.push_back(u);
  }
}

void copy_module_flags(const llvm::Module& src, llvm::Module& dst) {
  dst.setDataLayout(src.getDataLayout());
  dst.setTargetTriple(src.getTargetTriple());
  if (const llvm::NamedMDNode* flags = src.getModuleFlagsMetadata()) {
    llvm::NamedMDNode* out = dst.getOrInsertModuleFlagsMetadata();
    for (const llvm::MDNode* op : flags->operands()) out->addOperand(const_cast<llvm::MDNode*>(op));
  }
  // Without this flag the bitcode reader strips (and warns about) any debug metadata when an
  // extracted module is re-read on the tier-up thread.
  if (!dst.getModuleFlag("Debug Info Version"))
    dst.addModuleFlag(llvm::Module::Warning, "Debug Info Version", llvm::DEBUG_METADATA_VERSION);
}

// Counters use plain loads and stores: FastISel cannot select atomic ones (it would fall back
// to SelectionDAG for every instrumented block), and a lost update between threads only
// makes a heuristic count slightly low.
// Adds `heat += amount`, calling __tj_hot(id, level) when it crosses `threshold`, before `at`.
void insert_heat_check(llvm::Instruction* at, llvm::Value* heat_ptr, uint64_t amount,
                       uint64_t threshold, uint32_t id, uint32_t level, llvm::FunctionCallee hot) {
  llvm::IRBuilder<> b(at);
  auto* i64 = b.getInt64Ty();
  llvm::Value* h = b.CreateAlignedLoad(i64, heat_ptr, llvm::Align(8));
  llvm::Value* h1 = b.CreateAdd(h, b.getInt64(amount));
  b.CreateAlignedStore(h1, heat_ptr, llvm::Align(8));
  llvm::Value* crossed = b.CreateAnd(b.CreateICmpULT(h, b.getInt64(threshold)),
                                     b.CreateICmpUGE(h1, b.getInt64(threshold)));
  llvm::Instruction* then = llvm::SplitBlockAndInsertIfThen(crossed, at, false);
  llvm::IRBuilder<> tb(then);
  tb.CreateCall(hot, {tb.getInt32(id), tb.getInt32(level)});
}

void instrument(llvm::Function& f, const FunctionInfo& info, const ExtractOptions& o) {
  llvm::Module& m = *f.getParent();
  llvm::LLVMContext& ctx = m.getContext();
  auto* i64 = llvm::Type::getInt64Ty(ctx);
  auto* counters = llvm::cast<llvm::GlobalVariable>(
      m.getOrInsertGlobal("__tj_counters", llvm::ArrayType::get(i64, 0)));
  counters->setDSOLocal(false);
  llvm::FunctionCallee hot =
      m.getOrInsertFunction("__tj_hot", llvm::Type::getVoidTy(ctx), llvm::Type::getInt32Ty(ctx),
                            llvm::Type::getInt32Ty(ctx));
  if (auto* hf = llvm::dyn_cast<llvm::Function>(hot.getCallee())) {
    hf->setDSOLocal(false);
    hf->addFnAttr(llvm::Attribute::Cold);
  }

  // Back-edges first (block splitting below must not confuse the analysis).
  llvm::SmallVector<std::pair<const llvm::BasicBlock*, const llvm::BasicBlock*>, 8> backedges;
  if (o.heat_threshold) llvm::FindFunctionBackedges(f, backedges);

  llvm::BasicBlock& entry = f.getEntryBlock();
  llvm::Instruction* at = &*entry.getFirstInsertionPt();
  while (llvm::isa<llvm::AllocaInst>(at)) at = at->getNextNode();
  llvm::IRBuilder<> b(at);
  auto slot = [&](uint64_t idx) {
    return b.CreateConstInBoundsGEP2_64(counters->getValueType(), counters, 0, idx);
  };
  llvm::Value* calls_ptr = slot(2ull * info.id);
  llvm::Value* heat_ptr = slot(2ull * info.id + 1);
  if (o.count_calls) {
    llvm::Value* c = b.CreateAlignedLoad(i64, calls_ptr, llvm::Align(8));
    b.CreateAlignedStore(b.CreateAdd(c, b.getInt64(1)), calls_ptr, llvm::Align(8));
  }
  if (!o.heat_threshold) return;
  for (auto& [from, to] : backedges) {
    auto* latch = const_cast<llvm::BasicBlock*>(from);
    insert_heat_check(latch->getTerminator(), heat_ptr, 1, o.heat_threshold, info.id, o.next_level,
                      hot);
  }
  insert_heat_check(at, heat_ptr, kCallHeat, o.heat_threshold, info.id, o.next_level, hot);
}

// Clones info's body into `nf` (created in the destination module) through `mat`.
Status clone_body(const FunctionInfo& info, llvm::Function& nf, llvm::ValueToValueMapTy& vmap,
                  llvm::ValueMaterializer& mat, const std::string& path) {
  llvm::Function& sf = *info.fn;
  if (llvm::Error e = sf.materialize())
    return make_error(
        ErrorCode::kInvalidInput,
        "invalid bitcode in function '" + info.name + "': " + llvm::toString(std::move(e)), {path});
  auto na = nf.arg_begin();
  for (const llvm::Argument& a : sf.args()) {
    na->setName(a.getName());
    vmap[&a] = &*na++;
  }
  llvm::SmallVector<llvm::ReturnInst*, 8> returns;
  llvm::CloneFunctionInto(&nf, &sf, vmap, llvm::CloneFunctionChangeType::DifferentModule, returns,
                          "", nullptr, nullptr, &mat);
  nf.setLinkage(llvm::GlobalValue::ExternalLinkage);
  nf.setVisibility(llvm::GlobalValue::DefaultVisibility);
  nf.setComdat(nullptr);
  nf.setDSOLocal(false);
  return {};
}

// Every use of a block address of `f`, as (the block address, the instruction or global that
// uses it, looking through constants).
std::vector<std::pair<const llvm::BlockAddress*, const llvm::User*>> block_address_uses(
    const llvm::Function& f) {
  std::vector<std::pair<const llvm::BlockAddress*, const llvm::User*>> uses;
  for (const llvm::BasicBlock& bb : f) {
    if (!bb.hasAddressTaken()) continue;
    const llvm::BlockAddress* ba = llvm::BlockAddress::lookup(&bb);
    if (!ba) continue;
    std::vector<const llvm::User*> roots;
    constant_use_roots(ba, roots);
    for (const llvm::User* r : roots) uses.push_back({ba, r});
  }
  return uses;
}

// Why `f`'s block addresses may be used after its body is replaced ("" if they cannot): a
// use other than a frame-local one inside f itself (see frame_local_use).
std::string escaping_block_address(
    const llvm::Function& f,
    const std::unordered_map<const llvm::GlobalVariable*, uint32_t>& private_tables) {
  for (auto [ba, r] : block_address_uses(f)) {
    if (auto* g = llvm::dyn_cast<llvm::GlobalVariable>(r); g && private_tables.count(g)) continue;
    auto* inst = llvm::dyn_cast<llvm::Instruction>(r);
    if (!inst) return "a block address is used by '" + r->getName().str() + "'";
    if (inst->getFunction() != &f)
      return "a block address is used by '" + inst->getFunction()->getName().str() + "'";
    llvm::SmallPtrSet<const llvm::User*, 8> seen;
    if (!llvm::is_contained(inst->operands(), ba) || !frame_local_use(inst, ba, seen))
      return std::string("a block address escapes the frame (") + inst->getOpcodeName() + ")";
  }
  return {};
}

}  // namespace

IrProgram::~IrProgram() {
  // The module must die before its context.
  ir_.module.reset();
  ctx_.reset();
}

Expected<std::unique_ptr<IrProgram>> IrProgram::prepare(LoadedIr ir,
                                                        std::unique_ptr<llvm::LLVMContext> ctx,
                                                        std::string path) {
  std::unique_ptr<IrProgram> p(new IrProgram());
  p->path_ = std::move(path);
  p->ctx_ = std::move(ctx);
  p->ir_ = std::move(ir);
  llvm::Module& m = *p->ir_.module;
  if (llvm::Error e = m.materializeMetadata())
    return make_error(ErrorCode::kInvalidInput,
                      "invalid bitcode metadata: " + llvm::toString(std::move(e)), {p->path_});

  llvm::Triple host(llvm::sys::getProcessTriple());
  if (!m.getTargetTriple().empty()) {
    llvm::Triple t(m.getTargetTriple());
    if (t.getArch() != host.getArch())
      return make_error(ErrorCode::kInvalidInput,
                        "IR was generated for " + t.str() + ", this host runs " + host.str() +
                            " (retargeting IR between architectures is not sound)",
                        {p->path_});
  }
  if (p->ir_.format == IrFormat::kText) TJ_TRY(verify_ir(m, p->path_));
  TJ_TRY(p->promote_and_scan());
  return p;
}

Status IrProgram::promote_and_scan() {
  llvm::Module& m = *ir_.module;
  if (!m.ifuncs().empty())
    return make_error(ErrorCode::kUnsupported,
                      "ifunc '" + m.ifuncs().begin()->getName().str() + "' is not supported",
                      {path_});

  // Constructors and destructors: recorded, run by the engine, then dropped from the module.
  auto take_inits = [&](const char* name, std::vector<InitEntry>& out) -> Status {
    llvm::GlobalVariable* gv = m.getNamedGlobal(name);
    if (!gv) return {};
    if (auto* arr = llvm::dyn_cast_or_null<llvm::ConstantArray>(gv->getInitializer())) {
      for (llvm::Value* op : arr->operands()) {
        auto* cs = llvm::cast<llvm::ConstantStruct>(op);
        auto* fn = llvm::dyn_cast<llvm::Function>(cs->getOperand(1)->stripPointerCasts());
        if (!fn) continue;
        auto prio = llvm::cast<llvm::ConstantInt>(cs->getOperand(0))->getZExtValue();
        out.push_back({uint32_t(prio), fn->getName().str()});
      }
    }
    std::stable_sort(out.begin(), out.end(), [](const InitEntry& a, const InitEntry& b) {
      return a.priority < b.priority;
    });
    gv->eraseFromParent();
    return {};
  };
  TJ_TRY(take_inits("llvm.global_ctors", ctors_));
  TJ_TRY(take_inits("llvm.global_dtors", dtors_));

  // Promote every local to a unique external name: the program is split across objects.
  unsigned anon = 0;
  for (llvm::GlobalValue& gv : m.global_values()) {
    if (gv.getName().starts_with("llvm.")) continue;
    if (!gv.hasName() || gv.getName().starts_with(".L"))
      gv.setName("__tj_anon." + std::to_string(anon++));
    if (gv.hasLocalLinkage()) {
      gv.setLinkage(llvm::GlobalValue::ExternalLinkage);
      gv.setVisibility(llvm::GlobalValue::DefaultVisibility);
    }
  }
  for (llvm::Function& f : m.functions()) {
    if (f.isIntrinsic() || !treat_as_definition(f)) continue;
    FunctionInfo info;
    info.id = uint32_t(functions_.size());
    info.name = f.getName().str();
    info.fn = &f;
    info.is_vararg = f.isVarArg();
    info.takes_args = f.getFunctionType()->getNumParams() > 0;
    info.returns_int = f.getReturnType()->isIntegerTy();
    by_name_[info.name] = info.id;
    functions_.push_back(std::move(info));
  }
  for (llvm::GlobalValue& gv : m.global_values()) {
    if (treat_as_definition(gv) || gv.hasExternalWeakLinkage()) continue;
    if (auto* f = llvm::dyn_cast<llvm::Function>(&gv); f && f->isIntrinsic()) continue;
    if (gv.getName().starts_with("llvm.")) continue;
    externals_.push_back(gv.getName().str());
  }
  for (llvm::GlobalAlias& ga : m.aliases()) {
    auto* f = llvm::dyn_cast_or_null<llvm::Function>(ga.getAliaseeObject());
    if (!f) continue;
    if (const FunctionInfo* info = find_function(f->getName().str()))
      function_aliases_.push_back({ga.getName().str(), info->id});
  }
  return scan_block_addresses();
}

// Block addresses (GNU labels as values: computed goto) name code inside one compiled body.
// A dispatch table in a global that only its function reads is cloned into each body; a
// global shared otherwise pins the functions whose blocks it names (FunctionInfo::pinned).
// Uses inside bodies are checked when a body is extracted (single_body_reason).
Status IrProgram::scan_block_addresses() {
  llvm::Module& m = *ir_.module;
  auto pin = [&](const llvm::Function* f, const std::string& why) {
    const FunctionInfo* fi = find_function(f->getName().str());
    if (!fi || fi->pinned) return;
    functions_[fi->id].pinned = true;
    if (pin_reason_.empty()) pin_reason_ = "'" + fi->name + "': " + why;
  };
  // Block addresses used by other functions' bodies, where those bodies are already read
  // (text IR; lazily read bitcode is checked when each body is extracted): both pinned.
  for (const llvm::Function& f : m.functions()) {
    if (f.isDeclaration() || f.isMaterializable()) continue;
    for (auto [ba, r] : block_address_uses(f)) {
      auto* inst = llvm::dyn_cast<llvm::Instruction>(r);
      if (!inst || inst->getFunction() == &f) continue;
      std::string why = "a block address of '" + f.getName().str() + "' is used by '" +
                        inst->getFunction()->getName().str() + "'";
      pin(&f, why);
      pin(inst->getFunction(), why);
    }
  }
  std::vector<std::pair<llvm::GlobalVariable*, llvm::SmallPtrSet<const llvm::Function*, 2>>> tables;
  for (llvm::GlobalVariable& g : m.globals()) {
    if (!g.hasInitializer() || g.getName().starts_with("llvm.")) continue;
    llvm::SmallPtrSet<const llvm::Function*, 2> fns;
    llvm::SmallPtrSet<const llvm::Constant*, 16> seen;
    block_address_functions(g.getInitializer(), fns, seen);
    if (!fns.empty()) tables.push_back({&g, std::move(fns)});
  }
  if (tables.empty()) return {};
  // Who reads a table is decided by function bodies: with lazily read bitcode, read them all
  // now (only programs with such tables pay for this).
  if (llvm::Error e = m.materializeAll())
    return make_error(ErrorCode::kInvalidInput, "invalid bitcode: " + llvm::toString(std::move(e)),
                      {path_});
  for (auto& [g, fns] : tables) {
    const llvm::Function* only = fns.size() == 1 ? *fns.begin() : nullptr;
    const FunctionInfo* info = only ? find_function(only->getName().str()) : nullptr;
    if (info && g->hasDefinitiveInitializer() && only_loaded_in(g, only)) {
      private_tables_[info->id].push_back(g);
      table_owner_[g] = info->id;
      continue;
    }
    for (const llvm::Function* f : fns) pin(f, "block addresses in '" + g->getName().str() + "'");
  }
  // A pinned function has one body: its tables stay ordinary data.
  for (auto it = table_owner_.begin(); it != table_owner_.end();) {
    if (functions_[it->second].pinned) {
      private_tables_.erase(it->second);
      it = table_owner_.erase(it);
    } else {
      ++it;
    }
  }
  return {};
}

const FunctionInfo* IrProgram::find_function(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &functions_[it->second];
}

bool IrProgram::entry_takes_args(const FunctionInfo& f) const { return f.takes_args; }
bool IrProgram::entry_returns_int(const FunctionInfo& f) const { return f.returns_int; }

// --- manifest: u32-length-prefixed records, see manifest() ---
namespace {
void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void put_str(std::string& out, const std::string& s) {
  put_u32(out, uint32_t(s.size()));
  out += s;
}
struct Reader {
  std::string_view b;
  bool ok = true;
  uint32_t u32() {
    if (b.size() < 4) {
      ok = false;
      return 0;
    }
    uint32_t v;
    std::memcpy(&v, b.data(), 4);
    b.remove_prefix(4);
    return v;
  }
  std::string str() {
    uint32_t n = u32();
    if (!ok || b.size() < n) {
      ok = false;
      return {};
    }
    std::string s(b.substr(0, n));
    b.remove_prefix(n);
    return s;
  }
};
}  // namespace

std::string IrProgram::manifest() const {
  std::string out = "TJM2";
  put_u32(out, uint32_t(functions_.size()));
  for (const FunctionInfo& f : functions_) {
    put_str(out, f.name);
    put_u32(out, uint32_t(f.is_vararg) | uint32_t(f.takes_args) << 1 |
                     uint32_t(f.returns_int) << 2 | uint32_t(f.pinned) << 3);
  }
  for (const auto* list : {&ctors_, &dtors_}) {
    put_u32(out, uint32_t(list->size()));
    for (const InitEntry& e : *list) {
      put_u32(out, e.priority);
      put_str(out, e.function);
    }
  }
  put_u32(out, uint32_t(function_aliases_.size()));
  for (const auto& [alias, id] : function_aliases_) {
    put_str(out, alias);
    put_u32(out, id);
  }
  put_u32(out, uint32_t(externals_.size()));
  for (const std::string& x : externals_) put_str(out, x);
  put_str(out, pin_reason_);
  return out;
}

Expected<std::unique_ptr<IrProgram>> IrProgram::from_manifest(std::string_view manifest,
                                                              LoadedIr header, std::string&& bytes,
                                                              std::string path) {
  std::unique_ptr<IrProgram> p(new IrProgram());
  p->path_ = std::move(path);
  p->ir_ = std::move(header);
  p->seen_before_ = true;
  auto bad = [&] {
    return make_error(ErrorCode::kCacheCorrupt, "unreadable program manifest in the cache",
                      {p->path_});
  };
  if (manifest.substr(0, 4) != "TJM2") return bad();
  Reader r{manifest.substr(4)};
  uint32_t n = r.u32();
  for (uint32_t i = 0; r.ok && i < n; ++i) {
    FunctionInfo f;
    f.id = i;
    f.name = r.str();
    uint32_t flags = r.u32();
    f.is_vararg = flags & 1;
    f.takes_args = flags & 2;
    f.returns_int = flags & 4;
    f.pinned = flags & 8;
    p->by_name_[f.name] = i;
    p->functions_.push_back(std::move(f));
  }
  for (auto* list : {&p->ctors_, &p->dtors_}) {
    uint32_t k = r.u32();
    for (uint32_t i = 0; r.ok && i < k; ++i) {
      InitEntry e;
      e.priority = r.u32();
      e.function = r.str();
      list->push_back(std::move(e));
    }
  }
  uint32_t aliases = r.u32();
  for (uint32_t i = 0; r.ok && i < aliases; ++i) {
    std::string name = r.str();
    uint32_t id = r.u32();
    if (id >= n) return bad();
    p->function_aliases_.push_back({std::move(name), id});
  }
  uint32_t externals = r.u32();
  for (uint32_t i = 0; r.ok && i < externals; ++i) p->externals_.push_back(r.str());
  p->pin_reason_ = r.str();
  if (!r.ok || !r.b.empty()) return bad();
  p->bytes_ = std::move(bytes);  // only now: on failure the caller still has the input
  return p;
}

Status IrProgram::ensure_module() {
  if (ir_.module) return {};
  auto ctx = std::make_unique<llvm::LLVMContext>();
  TJ_ASSIGN_OR_RETURN(LoadedIr ir,
                      load_ir_bytes(std::move(bytes_), path_, *ctx, true, &ir_.content_hash));
  TJ_ASSIGN_OR_RETURN(std::unique_ptr<IrProgram> fresh,
                      IrProgram::prepare(std::move(ir), std::move(ctx), path_));
  if (fresh->functions_.size() != functions_.size())
    return make_error(ErrorCode::kCacheCorrupt, "program manifest does not match the input",
                      {path_});
  for (size_t i = 0; i < functions_.size(); ++i) {
    if (fresh->functions_[i].name != functions_[i].name)
      return make_error(ErrorCode::kCacheCorrupt, "program manifest does not match the input",
                        {path_});
    if (fresh->functions_[i].pinned != functions_[i].pinned)
      return make_error(ErrorCode::kCacheCorrupt, "program manifest does not match the input",
                        {path_});
    functions_[i].fn = fresh->functions_[i].fn;
  }
  private_tables_ = std::move(fresh->private_tables_);
  table_owner_ = std::move(fresh->table_owner_);
  ctx_ = std::move(fresh->ctx_);
  ir_.module = std::move(fresh->ir_.module);
  return {};
}

Expected<std::unique_ptr<llvm::Module>> IrProgram::build_data_module() {
  TJ_TRY(ensure_module());
  llvm::Module& src = *ir_.module;
  auto dst = std::make_unique<llvm::Module>(src.getModuleIdentifier() + ".data", *ctx_);
  copy_module_flags(src, *dst);
  llvm::ValueToValueMapTy vmap;
  DeclMaterializer mat(*dst, &vmap);
  std::vector<std::pair<llvm::GlobalVariable*, llvm::GlobalVariable*>> defs;
  for (llvm::GlobalVariable& g : src.globals()) {
    if (!treat_as_definition(g) || g.getName().starts_with("llvm.")) continue;
    if (table_owner_.count(&g)) continue;  // cloned into its function's bodies instead
    auto* ng = new llvm::GlobalVariable(*dst, g.getValueType(), g.isConstant(),
                                        llvm::GlobalValue::ExternalLinkage, nullptr, g.getName(),
                                        nullptr, g.getThreadLocalMode(), g.getAddressSpace());
    ng->copyAttributesFrom(&g);
    ng->setLinkage(llvm::GlobalValue::ExternalLinkage);
    ng->setVisibility(llvm::GlobalValue::DefaultVisibility);
    ng->setComdat(nullptr);
    ng->setDSOLocal(false);
    vmap[&g] = ng;
    defs.push_back({&g, ng});
  }
  // Pinned bodies first: the globals' block addresses refer to their blocks.
  std::vector<std::pair<const FunctionInfo*, llvm::Function*>> pinned;
  for (const FunctionInfo& info : functions_) {
    if (!info.pinned) continue;
    auto* nf =
        llvm::Function::Create(info.fn->getFunctionType(), llvm::GlobalValue::ExternalLinkage,
                               info.name + "$impl", dst.get());
    mat.bodies[info.fn] = nf;
    pinned.push_back({&info, nf});
  }
  // Bodies whose blocks are named elsewhere first: a body naming another's blocks needs them.
  std::stable_partition(pinned.begin(), pinned.end(), [](const auto& p) {
    for (const llvm::BasicBlock& bb : *p.first->fn)
      if (bb.hasAddressTaken()) return true;
    return false;
  });
  for (auto& [info, nf] : pinned) TJ_TRY(clone_body(*info, *nf, vmap, mat, path_));
  for (auto& [g, ng] : defs)
    ng->setInitializer(llvm::MapValue(g->getInitializer(), vmap, llvm::RF_None, nullptr, &mat));
  if (!mat.error.empty()) return make_error(ErrorCode::kUnsupported, mat.error, {path_});
  for (llvm::GlobalAlias& ga : src.aliases()) {
    if (llvm::isa_and_nonnull<llvm::Function>(ga.getAliaseeObject())) continue;  // stub aliases
    auto* aliasee = llvm::MapValue(ga.getAliasee(), vmap, llvm::RF_None, nullptr, &mat);
    auto* na = llvm::GlobalAlias::create(ga.getValueType(), ga.getAddressSpace(),
                                         llvm::GlobalValue::ExternalLinkage, ga.getName(),
                                         llvm::cast<llvm::Constant>(aliasee), dst.get());
    na->setDSOLocal(false);
  }
  return dst;
}

Expected<std::unique_ptr<llvm::Module>> IrProgram::extract_function(uint32_t id,
                                                                    const ExtractOptions& o) {
  TJ_ASSERT(id < functions_.size(), "function id out of range");
  TJ_TRY(ensure_module());
  const FunctionInfo& info = functions_[id];
  if (info.pinned)
    return make_error(ErrorCode::kInternal,
                      "function '" + info.name + "' is pinned: its body is in the data module",
                      {path_});
  llvm::Function& sf = *info.fn;
  llvm::Module& src = *ir_.module;
  auto dst = std::make_unique<llvm::Module>(info.name, *ctx_);
  copy_module_flags(src, *dst);

  auto* nf = llvm::Function::Create(sf.getFunctionType(), llvm::GlobalValue::ExternalLinkage,
                                    o.symbol, dst.get());
  llvm::ValueToValueMapTy vmap;
  DeclMaterializer mat(*dst, &vmap);
  mat.bodies[&sf] = nf;
  // This body's own copy of its dispatch tables (initialized once its blocks exist).
  std::vector<std::pair<llvm::GlobalVariable*, llvm::GlobalVariable*>> tables;
  if (auto it = private_tables_.find(id); it != private_tables_.end()) {
    for (llvm::GlobalVariable* g : it->second) {
      auto* copy = new llvm::GlobalVariable(
          *dst, g->getValueType(), true, llvm::GlobalValue::PrivateLinkage, nullptr, g->getName(),
          nullptr, g->getThreadLocalMode(), g->getAddressSpace());
      copy->setAlignment(g->getAlign());
      vmap[g] = copy;
      tables.push_back({g, copy});
    }
  }
  TJ_TRY(clone_body(info, *nf, vmap, mat, path_));
  if (!info.checked_block_addresses) {
    functions_[id].single_body_reason = escaping_block_address(sf, table_owner_);
    functions_[id].checked_block_addresses = true;
  }
  for (auto& [g, copy] : tables)
    copy->setInitializer(llvm::MapValue(g->getInitializer(), vmap, llvm::RF_None, nullptr, &mat));
  if (!mat.error.empty())
    return make_error(ErrorCode::kUnsupported, "function '" + info.name + "': " + mat.error,
                      {path_});
  if (o.count_calls || o.heat_threshold) instrument(*nf, info, o);

  TJ_TRY(verify_ir(*dst, path_, "function '" + info.name + "'"));
  return dst;
}

Expected<llvm::Function*> IrProgram::body(uint32_t id) {
  TJ_ASSERT(id < functions_.size(), "function id out of range");
  TJ_TRY(ensure_module());
  const FunctionInfo& info = functions_[id];
  if (llvm::Error e = info.fn->materialize())
    return make_error(
        ErrorCode::kInvalidInput,
        "invalid bitcode in function '" + info.name + "': " + llvm::toString(std::move(e)),
        {path_});
  return info.fn;
}

bool IrProgram::has_eh() {
  if (has_eh_ < 0) {
    has_eh_ = 0;
    if (ensure_module().ok())
      for (const llvm::Function& f : *ir_.module)
        if (f.hasPersonalityFn() || f.getName() == "__cxa_throw" ||
            f.getName() == "_Unwind_RaiseException")
          has_eh_ = 1;
  }
  return has_eh_ == 1;
}

Expected<std::string> IrProgram::extract_function_bitcode(uint32_t id, const ExtractOptions& o) {
  TJ_ASSIGN_OR_RETURN(std::unique_ptr<llvm::Module> m, extract_function(id, o));
  std::string out;
  llvm::raw_string_ostream os(out);
  llvm::WriteBitcodeToFile(*m, os);
  os.flush();
  return out;
}

}  // namespace tierjit::llvmir
