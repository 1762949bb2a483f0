// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Module preparation and per-function extraction for lazy, tiered compilation.
#include "llvmir/program.hpp"

#include <llvm/Analysis/CFG.h>
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

// Maps references to source globals into declarations in the destination module.
class DeclMaterializer final : public llvm::ValueMaterializer {
 public:
  explicit DeclMaterializer(llvm::Module& dst) : dst_(dst) {}

  llvm::Value* materialize(llvm::Value* v) override {
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
};

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
  std::string out = "TJM1";
  put_u32(out, uint32_t(functions_.size()));
  for (const FunctionInfo& f : functions_) {
    put_str(out, f.name);
    put_u32(out,
            uint32_t(f.is_vararg) | uint32_t(f.takes_args) << 1 | uint32_t(f.returns_int) << 2);
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
  return out;
}

Expected<std::unique_ptr<IrProgram>> IrProgram::from_manifest(std::string_view manifest,
                                                              LoadedIr header, std::string bytes,
                                                              std::string path) {
  std::unique_ptr<IrProgram> p(new IrProgram());
  p->path_ = std::move(path);
  p->ir_ = std::move(header);
  p->bytes_ = std::move(bytes);
  p->seen_before_ = true;
  auto bad = [&] {
    return make_error(ErrorCode::kCacheCorrupt, "unreadable program manifest in the cache",
                      {p->path_});
  };
  if (manifest.substr(0, 4) != "TJM1") return bad();
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
  if (!r.ok || !r.b.empty()) return bad();
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
    functions_[i].fn = fresh->functions_[i].fn;
  }
  ctx_ = std::move(fresh->ctx_);
  ir_.module = std::move(fresh->ir_.module);
  return {};
}

Expected<std::unique_ptr<llvm::Module>> IrProgram::build_data_module() {
  TJ_TRY(ensure_module());
  llvm::Module& src = *ir_.module;
  auto dst = std::make_unique<llvm::Module>(src.getModuleIdentifier() + ".data", *ctx_);
  copy_module_flags(src, *dst);
  DeclMaterializer mat(*dst);
  llvm::ValueToValueMapTy vmap;
  std::vector<std::pair<llvm::GlobalVariable*, llvm::GlobalVariable*>> defs;
  for (llvm::GlobalVariable& g : src.globals()) {
    if (!treat_as_definition(g) || g.getName().starts_with("llvm.")) continue;
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
  for (auto& [g, ng] : defs)
    ng->setInitializer(llvm::MapValue(g->getInitializer(), vmap, llvm::RF_None, nullptr, &mat));
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
  llvm::Function& sf = *info.fn;
  if (llvm::Error e = sf.materialize())
    return make_error(
        ErrorCode::kInvalidInput,
        "invalid bitcode in function '" + info.name + "': " + llvm::toString(std::move(e)),
        {path_});
  llvm::Module& src = *ir_.module;
  auto dst = std::make_unique<llvm::Module>(info.name, *ctx_);
  copy_module_flags(src, *dst);
  DeclMaterializer mat(*dst);

  auto* nf = llvm::Function::Create(sf.getFunctionType(), llvm::GlobalValue::ExternalLinkage,
                                    o.symbol, dst.get());
  llvm::ValueToValueMapTy vmap;
  auto na = nf->arg_begin();
  for (const llvm::Argument& a : sf.args()) {
    na->setName(a.getName());
    vmap[&a] = &*na++;
  }
  llvm::SmallVector<llvm::ReturnInst*, 8> returns;
  llvm::CloneFunctionInto(nf, &sf, vmap, llvm::CloneFunctionChangeType::DifferentModule, returns,
                          "", nullptr, nullptr, &mat);
  nf->setLinkage(llvm::GlobalValue::ExternalLinkage);
  nf->setVisibility(llvm::GlobalValue::DefaultVisibility);
  nf->setComdat(nullptr);
  nf->setDSOLocal(false);
  // Bodies the optimizer may later see must not stay optnone/noinline-only because of -O0.
  if (o.count_calls || o.heat_threshold) instrument(*nf, info, o);

  TJ_TRY(verify_ir(*dst, path_, "function '" + info.name + "'"));
  return dst;
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
