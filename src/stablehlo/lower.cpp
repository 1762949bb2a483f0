// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// StableHLO -> LLVM IR by elemental generators with loop fusion (see lower.hpp): entries,
// blocks, values and constants, the dispatch of each op by its family (ops.def) to the files
// implementing the families, and the arena plan.
#include "stablehlo/lower.hpp"

#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <stdexcept>

#include "stablehlo/lower_impl.hpp"

namespace tierjit::shlo {

int64_t TensorShape::elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}
int64_t TensorShape::bytes() const { return elements() * elem_bytes(type); }

LoweredModule::LoweredModule() = default;
LoweredModule::LoweredModule(LoweredModule&&) noexcept = default;
LoweredModule::~LoweredModule() {
  mod.reset();  // before its context
}

namespace lower_impl {

void count_uses(const Region& r, std::map<std::string, int>& uses) {
  for (const Block& b : r.blocks)
    for (const Op& op : b.ops) {
      for (const ValueRef& v : op.operands) ++uses[v.name];
      for (const Region& sub : op.regions) count_uses(sub, uses);
    }
}

// ---- values and blocks ----

Expected<TVal> Lowerer::result_shape(const Op& op, size_t k) {
  if (k >= op.result_types.size()) return err(op, ErrorCode::kInvalidInput, "missing result type");
  auto t = tensor_type(op.result_types[k]);
  if (!t.ok()) return err(op, t.error().code, t.error().message);
  TVal v;
  v.type = t->type;
  v.shape = t->shape;
  return v;
}

Expected<std::vector<TVal>> Lowerer::lower_block(const Block& blk, Scope& scope) {
  for (const Op& op : blk.ops) {
    if (is_return(op.code)) return operands_of(op, scope);
    TJ_TRY(lower_one(op, scope));
  }
  return std::vector<TVal>{};
}

Status Lowerer::lower_one(const Op& op, Scope& scope) {
  {
    if (++seq_ > kMaxLoweredOps)  // calls are inlined: a call tree can grow exponentially
      return err(op, ErrorCode::kUnsupported,
                 "the program inlines to over " + std::to_string(kMaxLoweredOps) + " operations");
    auto lowered = lower_op(op, scope);
    if (!deferred_.ok()) return deferred_.error();
    TJ_ASSIGN_OR_RETURN(std::vector<TVal> res, std::move(lowered));
    bind(op, scope, std::move(res));
  }
  return {};
}

void Lowerer::bind(const Op& op, Scope& scope, std::vector<TVal> res) {
  // Fusion policy: a lazy value used once stays lazy (fused into its consumer), one used
  // several times is computed once; an unused one is never emitted.
  for_each_result(op, std::move(res), [&](const std::string& name, std::vector<TVal> vals) {
    auto it = uses_->find(name);
    int uses = it == uses_->end() ? 0 : it->second;
    for (TVal& v : vals)
      if (v.lazy() && uses > 1) v = stable(v);
    scope.vals[name] = std::move(vals);
  });
}

Expected<std::vector<TVal>> Lowerer::lower_region(const Region& r, const std::vector<TVal>& args,
                                                  const Scope& outer,
                                                  const std::vector<std::string>& names) {
  Scope scope;
  scope.parent = &outer;
  if (r.blocks.empty()) return std::vector<TVal>{};
  const Block& blk = r.blocks[0];
  std::vector<std::string> arg_names = names;
  if (!blk.args.empty()) {
    arg_names.clear();
    for (const auto& a : blk.args) arg_names.push_back(a.first);
  }
  for (size_t k = 0; k < args.size() && k < arg_names.size(); ++k)
    scope.vals[arg_names[k]] = {args[k]};
  return lower_block(blk, scope);
}

Expected<TVal> Lowerer::lower_constant(const Op& op) {
  const Attr* lit = nullptr;
  for (const auto& a : op.args)
    if (a.kind == Attr::Kind::kDense) lit = &a;
  if (const Attr* v = op.attr("value")) lit = v;
  if (lit == nullptr || lit->kind != Attr::Kind::kDense || op.result_types.empty())
    return err(op, ErrorCode::kUnsupported, "constant without a dense<...> literal");
  // A splat stays one value however large its type: the compiled code broadcasts it.
  auto t = parse_dense(lit->text, op.result_types[0], DenseForm::kSplatAsScalar);
  if (!t.ok()) return err(op, t.error().code, t.error().message);
  auto ty = tensor_type(op.result_types[0]);
  if (!ty.ok()) return err(op, ty.error().code, ty.error().message);
  TVal v;
  v.type = t->type;
  v.shape = ty->shape;
  if (t->shape != ty->shape) {  // a splat
    if (ty->size() <= kMaxKnownSplat) {
      Tensor full = *ty;
      if (full.floating()) {
        full.f.assign(size_t(full.size()), t->f.at(0));
        if (full.complex()) full.im.assign(size_t(full.size()), t->im.at(0));
      } else {
        full.i.assign(size_t(full.size()), t->i.at(0));
      }
      v.known = std::make_shared<const Tensor>(std::move(full));
    }
    v.scalar = elem_const(*t, 0);
    return v;
  }
  v.known = std::make_shared<const Tensor>(*t);
  bool splat = true;
  for (int64_t k = 1; k < t->size() && splat; ++k) {
    splat = t->floating() ? float_bits(t->type, t->f.at(size_t(k))) == float_bits(t->type, t->f[0])
                          : t->i.at(size_t(k)) == t->i[0];
    if (splat && t->complex())
      splat = float_bits(t->type, t->im.at(size_t(k))) == float_bits(t->type, t->im[0]);
  }
  if (splat || t->size() == 0) {
    v.scalar = t->size() == 0 ? llvm::UndefValue::get(val_ty(v.type)) : elem_const(*t, 0);
    return v;
  }
  size_t off = (pool_.size() + 63) / 64 * 64;
  std::vector<uint8_t> bytes = to_bytes(*t);
  pool_.resize(off);
  pool_.insert(pool_.end(), bytes.begin(), bytes.end());
  v.ptr = b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), consts_, off);
  return v;
}

// ---- the op set ----

Expected<std::vector<TVal>> Lowerer::lower_op(const Op& op, Scope& scope) {
  current_ = &op;
  const OpCode code = op.code;
  const OpFamily family = op_family(code);
  TJ_ASSIGN_OR_RETURN(std::vector<TVal> in, operands_of(op, scope));
  if (code == OpCode::kRunParallel) return lower_run_parallel(op, std::move(in));
  if (code == OpCode::kProbe || code == OpCode::kPrint) return lower_probe(op, in);
  if (family == OpFamily::kCollective ||
      (family == OpFamily::kDistribution && code != OpCode::kReplicaId &&
       code != OpCode::kPartitionId))
    return lower_distribution(op, std::move(in), scope);
  for (const TVal& v : in)
    if (v.is_tuple && code != OpCode::kTuple && code != OpCode::kGetTupleElement &&
        code != OpCode::kCall && code != OpCode::kOptimizationBarrier)
      return not_lowered(op, "a tuple operand");
  switch (family) {
    case OpFamily::kUnary:
    case OpFamily::kUnaryOther:
      return lower_unary_op(op, in);
    case OpFamily::kBinary:
      return lower_binary_op(op, in);
    case OpFamily::kElementwise:
      return lower_elementwise(op, in);
    case OpFamily::kData:
      return lower_data(op, in);
    case OpFamily::kDynamic:
      return lower_dynamic(op, in, scope);
    case OpFamily::kReduction:
      return lower_reduction(op, in, scope);
    case OpFamily::kLinalg:
      return lower_linalg(op, in);
    case OpFamily::kControl:
      return lower_control(op, in, scope);
    case OpFamily::kDistribution:  // replica_id, partition_id
      return lower_process_id(op);
    case OpFamily::kCheck:
      TJ_TRY(lower_check(op, op.name, std::move(in)));
      return std::vector<TVal>{};
    case OpFamily::kCollective:
    case OpFamily::kInterpreter:
    case OpFamily::kUnknown:
      break;
  }
  if (is_check_name(op.name)) {  // a check the table does not list: run_check reports it
    TJ_TRY(lower_check(op, op.name, std::move(in)));
    return std::vector<TVal>{};
  }
  return not_lowered(op, "this operation");
}

void Lowerer::plan_arena() {
  // Greedy by size, largest first (as TFLite's arena planner): a buffer takes the lowest
  // offset not used by an already placed buffer whose lifetime [first, last] overlaps its own.
  std::vector<size_t> order(bufs_.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t c) { return bufs_[a].bytes > bufs_[c].bytes; });
  std::vector<std::pair<int64_t, size_t>> placed;  // offset, buffer
  int64_t total = 0;
  for (size_t k : order) {
    const Buf& x = bufs_[k];
    int64_t size = (x.bytes + 63) / 64 * 64;
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (auto [off, j] : placed) {
      const Buf& y = bufs_[j];
      if (y.first <= x.last && x.first <= y.last)
        busy.push_back({off, off + (y.bytes + 63) / 64 * 64});
    }
    std::sort(busy.begin(), busy.end());
    int64_t off = 0;
    for (auto [s, e] : busy) {
      if (off + size <= s) break;
      off = std::max(off, e);
    }
    placed.push_back({off, k});
    total = std::max(total, off + size);
    x.gep->setOperand(1, b.getInt64(off));
  }
  entry_->arena_bytes = total;
}

Expected<LoweredEntry> Lowerer::lower_entry(const Func& f, const std::string& symbol) {
  LoweredEntry e;
  e.func = f.name;
  e.symbol = symbol;
  entry_ = &e;
  bufs_.clear();
  loops_.clear();
  seq_ = 0;
  auto* pty = b.getPtrTy();
  auto* fty = llvm::FunctionType::get(b.getVoidTy(), {pty, pty, pty, pty, pty}, false);
  fn_ = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, symbol, M);
  fn_->addFnAttr(llvm::Attribute::NoUnwind);
  args_ = fn_->getArg(0);
  results_ = fn_->getArg(1);
  consts_ = fn_->getArg(2);
  arena_ = fn_->getArg(3);
  ctx_ = fn_->getArg(4);
  for (unsigned k = 0; k < 5; ++k) fn_->addParamAttr(k, llvm::Attribute::NoAlias);
  auto* entry = llvm::BasicBlock::Create(C, "entry", fn_);
  auto* start = llvm::BasicBlock::Create(C, "start", fn_);
  b.SetInsertPoint(entry);
  entry_term_ = b.CreateBr(start);
  b.SetInsertPoint(start);

  auto [it, fresh] = use_maps_.try_emplace(&f);
  if (fresh) count_uses(f.body, it->second);
  uses_ = &it->second;
  Scope scope;
  for (size_t k = 0; k < f.args.size(); ++k) {
    auto t = tensor_type(f.args[k].second);
    if (!t.ok())
      return make_error(t.error().code, "argument " + f.args[k].first + ": " + t.error().message,
                        SourceLoc{file_, f.loc.line, f.loc.col});
    TVal v;
    v.type = t->type;
    v.shape = t->shape;
    v.ptr = b.CreateLoad(pty, b.CreateConstInBoundsGEP1_64(pty, args_, k));
    e.args.push_back(TensorShape{v.type, v.shape});
    scope.vals[f.args[k].first] = {v};
  }
  for (const Type& t : f.results) {
    auto s = tensor_type(t);
    if (!s.ok())
      return make_error(s.error().code, "result " + t.text + ": " + s.error().message,
                        SourceLoc{file_, f.loc.line, f.loc.col});
    e.results.push_back(TensorShape{s->type, s->shape});
  }
  own_results_ = e.results.size();
  if (f.body.blocks.empty())
    return make_error(ErrorCode::kInvalidInput, "@" + f.name + " has no body",
                      SourceLoc{file_, f.loc.line, f.loc.col});
  TJ_ASSIGN_OR_RETURN(std::vector<TVal> ret, lower_block(f.body.blocks[0], scope));
  if (ret.size() != e.results.size())
    return make_error(ErrorCode::kInvalidInput,
                      "@" + f.name + " returns " + std::to_string(ret.size()) + " values",
                      SourceLoc{file_, f.loc.line, f.loc.col});
  for (size_t k = 0; k < ret.size(); ++k) {
    if (ret[k].is_tuple)
      return make_error(ErrorCode::kUnsupported,
                        "@" + f.name + ": tuple results are not lowered by the compiled path",
                        SourceLoc{file_, f.loc.line, f.loc.col});
    if (ret[k].type != e.results[k].type || ret[k].shape != e.results[k].dims)
      return make_error(ErrorCode::kInvalidInput,
                        "@" + f.name + " result " + std::to_string(k) + " does not match its type",
                        SourceLoc{file_, f.loc.line, f.loc.col});
    TVal dst;
    dst.type = ret[k].type;
    dst.shape = ret[k].shape;
    dst.ptr = b.CreateLoad(pty, b.CreateConstInBoundsGEP1_64(pty, results_, k));
    store_into(dst, ret[k]);
  }
  if (!deferred_.ok()) return deferred_.error();
  b.CreateRetVoid();
  plan_arena();
  std::string msg;
  llvm::raw_string_ostream os(msg);
  if (llvm::verifyFunction(*fn_, &os))
    return make_error(ErrorCode::kCompileFailed,
                      "lowering @" + f.name + " made invalid IR: " + msg);
  entry_ = nullptr;
  return e;
}

}  // namespace lower_impl

namespace {
using lower_impl::Lowerer;
Expected<LoweredModule> lower_entries(Lowerer& low, LoweredModule& out, const Module& m,
                                      const std::string& file,
                                      const std::vector<std::string>& entries);
}  // namespace

Expected<LoweredModule> lower_module(const Module& m, const std::string& file,
                                     const std::vector<std::string>& entries) {
  LoweredModule out;
  out.ctx = std::make_unique<llvm::LLVMContext>();
  out.mod = std::make_unique<llvm::Module>("stablehlo", *out.ctx);
  Lowerer low(*out.ctx, *out.mod, m, file, out.consts);
  // Indices taken from attributes are bounds-checked (.at()); one that a malformed program
  // pushes out of range ends lowering with a located error, as in the evaluator.
  try {
    return lower_entries(low, out, m, file, entries);
  } catch (const std::out_of_range&) {
    const Op* op = low.current();
    std::string what = op ? op->name + ": " : "";
    return make_error(ErrorCode::kInvalidInput,
                      what + "an index, dimension or attribute is out of range for its operands",
                      op ? SourceLoc{file, op->loc.line, op->loc.col} : SourceLoc{file});
  }
}

namespace {
Expected<LoweredModule> lower_entries(Lowerer& low, LoweredModule& out, const Module& m,
                                      const std::string& file,
                                      const std::vector<std::string>& entries) {
  for (size_t k = 0; k < entries.size(); ++k) {
    const Func* f = nullptr;
    for (const Func& g : m.funcs)
      if (g.name == entries[k]) f = &g;
    if (f == nullptr)
      return make_error(ErrorCode::kMissingEntry, "no function @" + entries[k], SourceLoc{file});
    TJ_ASSIGN_OR_RETURN(LoweredEntry e, low.lower_entry(*f, "tj_shlo_entry_" + std::to_string(k)));
    out.entries.push_back(std::move(e));
  }
  return std::move(out);
}
}  // namespace

}  // namespace tierjit::shlo