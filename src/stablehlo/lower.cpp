// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// StableHLO -> LLVM IR by elemental generators with loop fusion (see lower.hpp).
#include "stablehlo/lower.hpp"

#include <llvm/IR/BasicBlock.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "stablehlo/attrs.hpp"
#include "stablehlo/collectives.hpp"
#include "stablehlo/semantics.hpp"

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

namespace {

using llvm::Value;
using Idx = std::vector<Value*>;
using Gen = std::function<Value*(const Idx&)>;

// A tensor value while lowering: stored (ptr), a single SSA element (scalar), or lazy (gen).
struct TVal {
  ElemType type = ElemType::kF32;
  std::vector<int64_t> shape;
  Value* ptr = nullptr;
  int buf = -1;  // arena buffer, or -1
  Value* scalar = nullptr;
  Gen gen;
  std::shared_ptr<const Tensor> known;  // the elements, when a constant
  bool is_tuple = false;                // a tuple (spec "tuple"): its elements are `elems`
  std::vector<TVal> elems;
  int64_t size() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  bool lazy() const { return ptr == nullptr && scalar == nullptr && !is_tuple; }
};

struct Scope {
  std::map<std::string, std::vector<TVal>> vals;
  const Scope* parent = nullptr;
  const std::vector<TVal>* find(const std::string& n) const {
    for (const Scope* s = this; s; s = s->parent)
      if (auto it = s->vals.find(n); it != s->vals.end()) return &it->second;
    return nullptr;
  }
};

void count_uses(const Region& r, std::map<std::string, int>& uses) {
  for (const Block& b : r.blocks)
    for (const Op& op : b.ops) {
      for (const ValueRef& v : op.operands) ++uses[v.name];
      for (const Region& sub : op.regions) count_uses(sub, uses);
    }
}

// Operations emitted per entry, calls inlined (a bound on IR size and compile time).
constexpr int64_t kMaxLoweredOps = 200000;
// Splat constants up to this many elements also keep their elements at compile time (for the
// shape operands of dynamic_* ops, which are small); larger ones are only their one value.
constexpr int64_t kMaxKnownSplat = 4096;

class Lowerer {
 public:
  Lowerer(llvm::LLVMContext& c, llvm::Module& m, const Module& mod, std::string file,
          std::vector<uint8_t>& pool)
      : C(c), M(m), b(c), mod_(mod), file_(std::move(file)), pool_(pool) {}

  Expected<LoweredEntry> lower_entry(const Func& f, const std::string& symbol);
  const Op* current() const { return current_; }

 private:
  struct Buf {
    llvm::GetElementPtrInst* gep = nullptr;
    int64_t bytes = 0, first = 0, last = 0;
  };
  struct LoopMark {
    int64_t start = 0;
    std::set<int> touched;
  };

  llvm::LLVMContext& C;
  llvm::Module& M;
  llvm::IRBuilder<> b;
  const Module& mod_;
  std::string file_;
  std::vector<uint8_t>& pool_;

  // Per entry.
  llvm::Function* fn_ = nullptr;
  llvm::Instruction* entry_term_ = nullptr;
  Value *args_ = nullptr, *results_ = nullptr, *consts_ = nullptr, *arena_ = nullptr,
        *ctx_ = nullptr;
  std::vector<Buf> bufs_;
  std::vector<LoopMark> loops_;
  int64_t seq_ = 0;
  uint64_t loops_made_ = 0;
  int control_ = 0;  // nesting of loops/branches/bodies (checks are refused inside)
  int inline_depth_ = 0;
  int64_t replica_ = 0, partition_ = 0;  // of the program interpreter.run_parallel inlines
  const std::map<std::string, int>* uses_ = nullptr;
  std::map<const Func*, std::map<std::string, int>> use_maps_;
  LoweredEntry* entry_ = nullptr;
  size_t own_results_ = 0;
  const Op* current_ = nullptr;
  // A shape inconsistency found while emitting (where no Status can be returned): the op
  // fails with it as soon as it has been lowered.
  Status deferred_;

  // ---- errors ----
  Error err(const Op& op, ErrorCode code, const std::string& msg) const {
    return make_error(code, op.name + ": " + msg, SourceLoc{file_, op.loc.line, op.loc.col});
  }
  // Result shapes come from the declared types while operands are read through index maps:
  // every such op checks the two agree, so compiled code never reads out of bounds.
  Status shape_is(const Op& op, const std::vector<int64_t>& got, const std::vector<int64_t>& want,
                  const char* what) const {
    if (got == want) return {};
    auto text = [](const std::vector<int64_t>& v) {
      std::string t = "[";
      for (size_t k = 0; k < v.size(); ++k) {
        if (k) t += 'x';
        t += std::to_string(v[k]);
      }
      return t + "]";
    };
    return err(op, ErrorCode::kInvalidInput,
               std::string(what) + " has shape " + text(got) + ", expected " + text(want));
  }
  Error not_lowered(const Op& op, const std::string& what) const {
    return err(op, ErrorCode::kUnsupported, what + " is not lowered by the compiled path");
  }

  // ---- types ----
  llvm::Type* i64() { return b.getInt64Ty(); }
  llvm::Type* mem_ty(ElemType t) {
    switch (t) {
      case ElemType::kBool:
      case ElemType::kI8:
      case ElemType::kU8:
        return b.getInt8Ty();
      case ElemType::kI16:
      case ElemType::kU16:
      case ElemType::kBF16:
        return b.getInt16Ty();
      case ElemType::kI32:
      case ElemType::kU32:
        return b.getInt32Ty();
      case ElemType::kI64:
      case ElemType::kU64:
        return b.getInt64Ty();
      case ElemType::kF16:
        return b.getHalfTy();
      case ElemType::kF32:
        return b.getFloatTy();
      case ElemType::kF64:
        return b.getDoubleTy();
    }
    return b.getInt8Ty();
  }
  llvm::Type* val_ty(ElemType t) {
    if (t == ElemType::kBool) return b.getInt1Ty();
    if (t == ElemType::kF16 || t == ElemType::kBF16) return b.getFloatTy();
    return mem_ty(t);
  }

  // ---- buffers ----
  void touch(int buf) {
    if (buf < 0) return;
    Buf& x = bufs_.at(size_t(buf));
    x.last = std::max(x.last, seq_);
    for (LoopMark& l : loops_) l.touched.insert(buf);
  }
  TVal new_buffer(ElemType t, const std::vector<int64_t>& shape) {
    TVal v;
    v.type = t;
    v.shape = shape;
    if (v.size() == 1) {  // single elements live in registers after mem2reg
      llvm::IRBuilder<> eb(entry_term_);
      v.ptr = eb.CreateAlloca(mem_ty(t));
      return v;
    }
    Buf x;
    x.bytes = v.size() * elem_bytes(t);
    x.first = x.last = seq_;
    x.gep = llvm::GetElementPtrInst::CreateInBounds(b.getInt8Ty(), arena_, {b.getInt64(0)}, "buf",
                                                    entry_term_->getIterator());
    bufs_.push_back(x);
    v.buf = int(bufs_.size() - 1);
    v.ptr = x.gep;
    for (LoopMark& l : loops_) l.touched.insert(v.buf);
    return v;
  }
  Value* linear(const std::vector<int64_t>& shape, const Idx& idx) {
    bool complete = true;  // every index component given (an attribute's axis lists cover all)
    for (Value* v : idx) complete = complete && v != nullptr;
    if (idx.size() != shape.size() || !complete) {  // what the op's checks missed: fail the op
      if (current_ && deferred_.ok())
        deferred_ = err(*current_, ErrorCode::kInvalidInput, "operand ranks do not agree");
      return b.getInt64(0);
    }
    auto st = strides_of(shape);
    Value* off = b.getInt64(0);
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1) continue;
      Value* term = st[d] == 1 ? idx[d] : b.CreateMul(idx[d], b.getInt64(st[d]), "", true, true);
      off = off == b.getInt64(0) ? term : b.CreateAdd(off, term, "", true, true);
    }
    return off;
  }
  Value* load_at(const TVal& v, Value* lin) {
    touch(v.buf);
    Value* p = b.CreateInBoundsGEP(mem_ty(v.type), v.ptr, lin);
    Value* x = b.CreateLoad(mem_ty(v.type), p);
    switch (v.type) {
      case ElemType::kBool:
        return b.CreateTrunc(x, b.getInt1Ty());
      case ElemType::kF16:
        return b.CreateFPExt(x, b.getFloatTy());
      case ElemType::kBF16:
        return b.CreateBitCast(b.CreateShl(b.CreateZExt(x, b.getInt32Ty()), 16), b.getFloatTy());
      default:
        return x;
    }
  }
  void store_at(const TVal& v, Value* lin, Value* x) {
    touch(v.buf);
    switch (v.type) {
      case ElemType::kBool:
        x = b.CreateZExt(x, b.getInt8Ty());
        break;
      case ElemType::kF16:
        x = b.CreateFPTrunc(x, b.getHalfTy());
        break;
      case ElemType::kBF16:
        x = b.CreateTrunc(b.CreateLShr(b.CreateBitCast(x, b.getInt32Ty()), 16), b.getInt16Ty());
        break;
      default:
        break;
    }
    b.CreateStore(x, b.CreateInBoundsGEP(mem_ty(v.type), v.ptr, lin));
  }
  Value* at(const TVal& v, const Idx& idx) {
    if (v.scalar) return v.scalar;
    if (v.ptr) return load_at(v, linear(v.shape, idx));
    return v.gen(idx);
  }
  Idx zeros(size_t rank) { return Idx(rank, b.getInt64(0)); }
  // Start indices of dynamic_slice / dynamic_update_slice (integer scalars), clamped to
  // [0, dim - size] per dimension (spec: dynamic_slice C? / semantics).
  Expected<std::vector<Value*>> clamped_starts(const Op& op, const std::vector<TVal>& in,
                                               size_t first, const std::vector<int64_t>& dims,
                                               const std::vector<int64_t>& sizes) {
    std::vector<Value*> start(dims.size());
    if (sizes.size() != dims.size())
      return err(op, ErrorCode::kInvalidInput, "slice rank differs from the operand's");
    for (size_t d = 0; d < dims.size(); ++d) {
      const TVal& s0 = in.at(first + d);
      if (is_float(s0.type) || s0.size() != 1)
        return err(op, ErrorCode::kInvalidInput, "start indices must be integer scalars");
      if (sizes[d] > dims[d])
        return err(op, ErrorCode::kInvalidInput, "the slice is larger than the operand");
      TVal s = scalarize(s0);
      Value* v = to_i64(s.type, s.scalar);
      int64_t hi = dims[d] - sizes[d];
      v = b.CreateSelect(b.CreateICmpSLT(v, b.getInt64(0)), b.getInt64(0), v);
      start[d] = b.CreateSelect(b.CreateICmpSGT(v, b.getInt64(hi)), b.getInt64(hi), v);
    }
    return start;
  }

  // ---- loops ----
  // for (i = 0; i < n; ++i) body(i), n > 0; the builder ends after the loop.
  void for_range(int64_t n, const std::function<void(Value*)>& body) {
    llvm::BasicBlock* pre = b.GetInsertBlock();
    auto* head = llvm::BasicBlock::Create(C, "loop", fn_);
    auto* exit = llvm::BasicBlock::Create(C, "loop.end", fn_);
    b.CreateBr(head);
    b.SetInsertPoint(head);
    llvm::PHINode* i = b.CreatePHI(i64(), 2);
    i->addIncoming(b.getInt64(0), pre);
    uint64_t loops_before = ++loops_made_;
    body(i);
    Value* next = b.CreateAdd(i, b.getInt64(1), "", true, true);
    i->addIncoming(next, b.GetInsertBlock());
    auto* latch = b.CreateCondBr(b.CreateICmpULT(next, b.getInt64(n)), head, exit);
    if ((loops_made_ != loops_before && n > 4) || n >= 64) {
      // An outer loop: unrolling it would copy whole inner loop nests (compile time for
      // little gain). A long inner loop is still vectorized and interleaved (64 elements an
      // iteration at 16 lanes x 4); unrolling the vector loop on top only multiplies code
      // (measured on the MLP at batch 1: compile 30-37 -> 14 ms, run time unchanged). Short
      // inner loops (windows, kernel taps, channels) stay free to be unrolled.
      llvm::MDNode* off = llvm::MDNode::get(C, llvm::MDString::get(C, "llvm.loop.unroll.disable"));
      auto* self = llvm::MDNode::getDistinct(C, {nullptr, off});
      self->replaceOperandWith(0, self);
      latch->setMetadata(llvm::LLVMContext::MD_loop, self);
    }
    b.SetInsertPoint(exit);
  }
  void loop_nest(const std::vector<int64_t>& shape, const std::function<void(const Idx&)>& body) {
    for (int64_t d : shape)
      if (d == 0) return;
    Idx idx(shape.size());
    std::function<void(size_t)> level = [&](size_t d) {
      if (d == shape.size()) {
        body(idx);
        return;
      }
      if (shape[d] == 1) {
        idx[d] = b.getInt64(0);
        level(d + 1);
        return;
      }
      for_range(shape[d], [&](Value* i) {
        idx[d] = i;
        level(d + 1);
      });
    };
    level(0);
  }

  TVal materialize(const TVal& v) {
    if (v.ptr) return v;
    TVal r = new_buffer(v.type, v.shape);
    store_into(r, v);
    return r;
  }
  void store_into(const TVal& dst, const TVal& v) {
    if (dst.shape != v.shape || dst.type != v.type) {
      if (current_ && deferred_.ok())
        deferred_ = err(*current_, ErrorCode::kInvalidInput,
                        "a value does not match the type it is stored as");
      return;
    }
    loop_nest(v.shape, [&](const Idx& idx) { store_at(dst, linear(dst.shape, idx), at(v, idx)); });
  }
  // Single-element values: compute once, keep in a register.
  TVal scalarize(const TVal& v) {
    if (!v.lazy()) return v;
    TVal r = v;
    r.scalar = at(v, zeros(v.shape.size()));
    r.gen = nullptr;
    return r;
  }
  // A value that is read more than once per element or out of order.
  TVal stable(const TVal& v) { return v.size() == 1 ? scalarize(v) : materialize(v); }

  // ---- element arithmetic ----
  bool is_fp(ElemType t) const { return is_float(t); }
  // A float result of an op on f16/bf16 values (held in float), rounded to the type.
  Value* round16(ElemType t, Value* x) {
    if (t == ElemType::kF16)
      return b.CreateFPExt(b.CreateFPTrunc(x, b.getHalfTy()), b.getFloatTy());
    if (t != ElemType::kBF16) return x;
    Value* bits = b.CreateBitCast(x, b.getInt32Ty());
    Value* lsb = b.CreateAnd(b.CreateLShr(bits, 16), 1);
    Value* r = b.CreateAnd(b.CreateAdd(b.CreateAdd(bits, b.getInt32(0x7FFF)), lsb),
                           b.getInt32(0xFFFF0000u));
    Value* nan = b.CreateAnd(b.CreateOr(bits, b.getInt32(0x00400000)), b.getInt32(0xFFFF0000u));
    Value* isnan = b.CreateFCmpUNO(x, x);
    return b.CreateBitCast(b.CreateSelect(isnan, nan, r), b.getFloatTy());
  }
  Value* to_double(ElemType t, Value* x) {
    return t == ElemType::kF64 ? x : b.CreateFPExt(x, b.getDoubleTy());
  }
  Value* from_double(ElemType t, Value* d) {
    if (t == ElemType::kF64) return d;
    if (t == ElemType::kF32) return b.CreateFPTrunc(d, b.getFloatTy());
    Value* r = call("tj_shlo_round", b.getDoubleTy(), {b.getInt32(int32_t(t)), d});
    return b.CreateFPTrunc(r, b.getFloatTy());
  }
  Value* call(const char* name, llvm::Type* ret, std::vector<Value*> args) {
    std::vector<llvm::Type*> tys;
    for (Value* a : args) tys.push_back(a->getType());
    auto* fty = llvm::FunctionType::get(ret, tys, false);
    llvm::FunctionCallee f = M.getOrInsertFunction(name, fty);
    if (auto* fn = llvm::dyn_cast<llvm::Function>(f.getCallee())) {
      fn->setDoesNotThrow();
      if (std::string(name) != "tj_shlo_sgemm" && std::string(name) != "tj_shlo_probe")
        fn->setDoesNotAccessMemory();
    }
    return b.CreateCall(f, args);
  }
  Value* libm(const char* name, ElemType t, std::vector<Value*> xs) {
    std::vector<Value*> ds;
    for (Value* x : xs) ds.push_back(to_double(t, x));
    return from_double(t, call(name, b.getDoubleTy(), ds));
  }
  Value* fconst(ElemType t, double v) { return llvm::ConstantFP::get(val_ty(t), v); }
  Value* iconst(ElemType t, int64_t v) { return llvm::ConstantInt::get(val_ty(t), uint64_t(v)); }
  Value* to_i64(ElemType t, Value* x) {
    return is_unsigned(t) || t == ElemType::kBool ? b.CreateZExt(x, i64()) : b.CreateSExt(x, i64());
  }
  llvm::CmpInst::Predicate lt(ElemType t) const {
    return is_unsigned(t) || t == ElemType::kBool ? llvm::CmpInst::ICMP_ULT
                                                  : llvm::CmpInst::ICMP_SLT;
  }

  // Whether an element operation is implemented for type t: emits it once on undef operands
  // in a scratch block (then deleted), so generators never fail later.
  Status try_emit(const std::function<Expected<Value*>(Value*)>& emit, ElemType t) {
    auto* scratch = llvm::BasicBlock::Create(C, "scratch", fn_);
    Status ok;
    {
      llvm::IRBuilderBase::InsertPointGuard g(b);
      b.SetInsertPoint(scratch);
      auto v = emit(llvm::UndefValue::get(val_ty(t)));
      if (!v.ok()) ok = v.take_error();
    }
    scratch->eraseFromParent();
    return ok;
  }
  Expected<Value*> unary(const Op& op, const std::string& n, ElemType t, Value* x);
  Expected<Value*> binary(const Op& op, const std::string& n, ElemType t, Value* x, Value* y);
  Value* convert(ElemType from, ElemType to, Value* x);
  Value* total_order_key(ElemType t, Value* x);

  // ---- ops ----
  Expected<std::vector<TVal>> lower_block(const Block& blk, Scope& scope);
  Expected<std::vector<TVal>> lower_op(const Op& op, Scope& scope);
  Expected<std::vector<TVal>> lower_region(const Region& r, const std::vector<TVal>& args,
                                           const Scope& outer,
                                           const std::vector<std::string>& names = {});
  Expected<std::vector<TVal>> inline_call(const Op& site, const std::string& name,
                                          std::vector<TVal> args);
  Expected<TVal> result_shape(const Op& op, size_t k);
  Expected<std::vector<Value*>> body(const Op& op, const std::string& applies, const Scope& scope,
                                     const std::vector<ElemType>& types,
                                     const std::vector<Value*>& args);
  // One reduction step: acc = body(acc..., xs...) (accumulators in allocas, typed as outs).
  Status fold(const Op& op, const std::string& applies, const Scope& scope,
              const std::vector<ElemType>& types, const std::vector<TVal>& outs,
              const std::vector<llvm::AllocaInst*>& acc, const std::vector<Value*>& xs) {
    std::vector<Value*> args;
    for (size_t k = 0; k < acc.size(); ++k)
      args.push_back(b.CreateLoad(val_ty(outs[k].type), acc[k]));
    args.insert(args.end(), xs.begin(), xs.end());
    TJ_ASSIGN_OR_RETURN(std::vector<Value*> res, body(op, applies, scope, types, args));
    TJ_TRY(results_typed(op, res, outs));
    for (size_t k = 0; k < acc.size() && k < res.size(); ++k) b.CreateStore(res[k], acc[k]);
    return {};
  }
  // A body's results must have the element types they are stored as.
  Status results_typed(const Op& op, const std::vector<Value*>& res, const std::vector<TVal>& as) {
    if (res.size() < as.size())
      return err(op, ErrorCode::kInvalidInput, "the body returns too few values");
    for (size_t k = 0; k < as.size(); ++k)
      if (res[k]->getType() != val_ty(as[k].type))
        return err(op, ErrorCode::kInvalidInput, "the body returns a value of another type");
    return {};
  }
  void store_accumulators(const std::vector<TVal>& outs, const Idx& oi,
                          const std::vector<llvm::AllocaInst*>& acc) {
    for (size_t k = 0; k < outs.size(); ++k)
      store_at(outs[k], linear(outs[k].shape, oi), b.CreateLoad(val_ty(outs[k].type), acc[k]));
  }
  Expected<std::vector<TVal>> lower_reduce(const Op& op, std::vector<TVal> in, const Scope& scope);
  Expected<std::vector<TVal>> lower_reduce_window(const Op& op, std::vector<TVal> in,
                                                  const Scope& scope);
  Expected<TVal> lower_dot(const Op& op, TVal L, TVal R);
  Expected<std::vector<TVal>> lower_scatter(const Op& op, std::vector<TVal> in, const Scope& scope);
  Expected<TVal> lower_gather(const Op& op, std::vector<TVal> in);
  Expected<TVal> lower_convolution(const Op& op, TVal L, TVal K);
  Expected<TVal> lower_select_and_scatter(const Op& op, std::vector<TVal> in, const Scope& scope);
  // acc = acc + x * y in type t, each step rounded as the evaluator does.
  Value* mul_add(ElemType t, Value* acc, Value* x, Value* y) {
    if (is_float(t)) return round16(t, b.CreateFAdd(acc, round16(t, b.CreateFMul(x, y))));
    if (t == ElemType::kBool) return b.CreateOr(acc, b.CreateAnd(x, y));
    return b.CreateAdd(acc, b.CreateMul(x, y));
  }
  Value* zero_of(ElemType t) {
    return is_float(t) ? static_cast<Value*>(llvm::ConstantFP::get(val_ty(t), 0.0)) : iconst(t, 0);
  }
  Expected<std::vector<TVal>> lower_sort(const Op& op, std::vector<TVal> in, const Scope& scope);
  Expected<std::vector<TVal>> lower_top_k(const Op& op, std::vector<TVal> in);
  Status insertion_sort(const std::vector<TVal>& bufs, size_t dim,
                        const std::function<Expected<Value*>(const std::vector<Value*>&)>& before);
  // Component `comp` of the start index at batch position `batch` of an index tensor
  // (index_vector_dim `ivd` left out), as i64 (spec "gather"/"scatter").
  Value* index_component(const TVal& idxs, int64_t ivd, const Idx& batch, int64_t comp) {
    Idx at_(idxs.shape.size());
    size_t k = 0;
    for (size_t d = 0; d < idxs.shape.size(); ++d)
      at_[d] = int64_t(d) == ivd ? b.getInt64(comp) : batch.at(k++);
    return to_i64(idxs.type, at(idxs, at_));
  }
  // Gather/scatter index tensors: integers whose dimensions other than index_vector_dim are
  // `batch` and whose index vectors have at least `comps` entries; batching dimension pairs
  // in range. What the index arithmetic below relies on.
  Status check_indices(const Op& op, const TVal& idxs, int64_t ivd,
                       const std::vector<int64_t>& batch, size_t comps,
                       const std::vector<int64_t>& operand_batch,
                       const std::vector<int64_t>& index_batch,
                       const std::vector<int64_t>& operand_shape) {
    int64_t rank = int64_t(idxs.shape.size());
    if (is_float(idxs.type) || ivd < 0 || ivd > rank)
      return err(op, ErrorCode::kInvalidInput, "bad index tensor or index_vector_dim");
    std::vector<int64_t> dims;
    for (int64_t d = 0; d < rank; ++d)
      if (d != ivd) dims.push_back(idxs.shape[size_t(d)]);
    TJ_TRY(shape_is(op, dims, batch, "the index tensor's batch part"));
    if (int64_t(comps) > (ivd < rank ? idxs.shape[size_t(ivd)] : 1))
      return err(op, ErrorCode::kInvalidInput, "index vectors are too short");
    if (operand_batch.size() != index_batch.size())
      return err(op, ErrorCode::kInvalidInput, "batching dimensions do not pair up");
    for (size_t j = 0; j < operand_batch.size(); ++j) {
      int64_t sd = index_batch[j], od = operand_batch[j];
      if (sd < 0 || sd >= rank || sd == ivd || od < 0 || od >= int64_t(operand_shape.size()) ||
          idxs.shape[size_t(sd)] > operand_shape[size_t(od)])
        return err(op, ErrorCode::kInvalidInput, "batching dimensions out of range");
    }
    return {};
  }
  // full[operand batching dim j] += the batch position of index batching dim j.
  void add_batching(Idx& full, const std::vector<int64_t>& operand_dims,
                    const std::vector<int64_t>& index_dims, int64_t ivd, const Idx& batch) {
    for (size_t j = 0; j < operand_dims.size(); ++j) {
      int64_t sd = index_dims.at(j);
      Value*& f = full.at(size_t(operand_dims[j]));
      f = b.CreateAdd(f, batch.at(size_t(sd < ivd ? sd : sd - 1)));
    }
  }
  // full[d] += outer[window_dims[w++]] for each axis d not in skip_a/skip_b.
  void add_window(Idx& full, const std::vector<int64_t>& skip_a, const std::vector<int64_t>& skip_b,
                  const std::vector<int64_t>& window_dims, const Idx& outer) {
    size_t w = 0;
    for (int64_t d : axes_except(full.size(), skip_a, skip_b)) {
      Value*& f = full.at(size_t(d));
      f = b.CreateAdd(f, outer.at(size_t(window_dims.at(w++))));
    }
  }
  Expected<std::vector<TVal>> lower_while(const Op& op, std::vector<TVal> in, const Scope& scope);
  Expected<std::vector<TVal>> lower_branches(const Op& op, const TVal& sel, const Scope& scope);
  Status lower_check(const Op& op, const std::string& name, std::vector<TVal> in);
  /// Operands of `op` read from `scope` (an error located at the use when one is unknown).
  Expected<std::vector<TVal>> operands_of(const Op& op, const Scope& scope) const {
    std::vector<TVal> in;
    for (const ValueRef& v : op.operands) {
      const auto* vals = scope.find(v.name);
      size_t k = v.index < 0 ? 0 : size_t(v.index);
      if (!vals || k >= vals->size())
        return make_error(ErrorCode::kInvalidInput, op.name + ": unknown value " + v.name,
                          SourceLoc{file_, v.loc.line, v.loc.col});
      in.push_back((*vals)[k]);
    }
    return in;
  }
  /// Lowers one op of a block into `scope` (the body of lower_block's loop).
  Status lower_one(const Op& op, Scope& scope);
  /// Names an op's results in `scope` (materializing lazy ones used more than once).
  void bind(const Op& op, Scope& scope, std::vector<TVal> res);

  // ---- distribution ops (collectives.hpp): run_parallel's programs are scheduled in
  // lockstep at compile time and emitted interleaved ----
  Grid grid_;
  bool in_parallel_ = false;
  Mailbox<TVal> mail_;   // send/recv channels and the infeed queue
  static TVal token() {  // a token carries no data: an empty tuple
    TVal t;
    t.is_tuple = true;
    return t;
  }
  Expected<std::vector<TVal>> lower_run_parallel(const Op& op, std::vector<TVal> in);
  Expected<std::vector<TVal>> lower_distribution(const Op& op, const std::string& n,
                                                 std::vector<TVal> in, const Scope& scope);
  Expected<std::vector<std::vector<TVal>>> lower_collective(
      const std::vector<int64_t>& group, const std::vector<const Op*>& ops,
      const std::vector<std::vector<TVal>>& operands, const Scope& scope);
  Expected<TVal> lower_constant(const Op& op);
  void plan_arena();
};

// ---- element arithmetic ----

Value* Lowerer::total_order_key(ElemType t, Value* x) {
  // Float bits mapped to an integer whose unsigned order is the IEEE total order.
  unsigned w = t == ElemType::kF64 ? 64 : 32;
  llvm::Type* it = b.getIntNTy(w);
  Value* bits = b.CreateBitCast(x, it);
  Value* neg = b.CreateICmpSLT(bits, llvm::ConstantInt::get(it, 0));
  Value* sign = llvm::ConstantInt::get(it, llvm::APInt::getSignMask(w));
  return b.CreateSelect(neg, b.CreateNot(bits), b.CreateOr(bits, sign));
}

Expected<Value*> Lowerer::unary(const Op& op, const std::string& n, ElemType t, Value* x) {
  if (!is_fp(t)) {
    if (n == "negate") return b.CreateNeg(x);
    if (n == "abs")
      return is_unsigned(t) || t == ElemType::kBool
                 ? x
                 : b.CreateSelect(b.CreateICmpSLT(x, iconst(t, 0)), b.CreateNeg(x), x);
    if (n == "sign") {
      if (is_unsigned(t) || t == ElemType::kBool)
        return b.CreateZExt(b.CreateICmpNE(x, iconst(t, 0)), val_ty(t));
      Value* pos = b.CreateZExt(b.CreateICmpSGT(x, iconst(t, 0)), val_ty(t));
      Value* neg = b.CreateZExt(b.CreateICmpSLT(x, iconst(t, 0)), val_ty(t));
      return b.CreateSub(pos, neg);
    }
    if (n == "not") return b.CreateNot(x);
    if (n == "popcnt") return b.CreateUnaryIntrinsic(llvm::Intrinsic::ctpop, x);
    if (n == "count_leading_zeros")
      return b.CreateBinaryIntrinsic(llvm::Intrinsic::ctlz, x, b.getFalse());
    return not_lowered(op, n + " on integers");
  }
  auto fun = [&](llvm::Intrinsic::ID id) { return b.CreateUnaryIntrinsic(id, x); };
  if (n == "negate") return b.CreateFNeg(x);
  if (n == "abs") return fun(llvm::Intrinsic::fabs);
  if (n == "sqrt") return round16(t, fun(llvm::Intrinsic::sqrt));
  if (n == "floor") return fun(llvm::Intrinsic::floor);
  if (n == "ceil") return fun(llvm::Intrinsic::ceil);
  if (n == "round_nearest_afz") return fun(llvm::Intrinsic::round);
  if (n == "round_nearest_even") return fun(llvm::Intrinsic::roundeven);
  if (n == "is_finite")
    return b.CreateFCmpOLT(fun(llvm::Intrinsic::fabs), llvm::ConstantFP::getInfinity(x->getType()));
  if (n == "sign") {
    Value* one = llvm::ConstantFP::get(x->getType(), 1.0);
    Value* s = b.CreateSelect(b.CreateFCmpOGT(x, llvm::ConstantFP::get(x->getType(), 0.0)), one,
                              b.CreateFNeg(one));
    // NaN and +-0 are returned as they are.
    Value* keep = b.CreateFCmpUEQ(x, llvm::ConstantFP::get(x->getType(), 0.0));
    return b.CreateSelect(keep, x, s);
  }
  if (n == "rsqrt") {
    Value* d = to_double(t, x);
    Value* s = b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, d);
    return from_double(t, b.CreateFDiv(llvm::ConstantFP::get(b.getDoubleTy(), 1.0), s));
  }
  if (n == "logistic") {
    Value* d = to_double(t, x);
    Value* e = call("exp", b.getDoubleTy(), {b.CreateFNeg(d)});
    Value* one = llvm::ConstantFP::get(b.getDoubleTy(), 1.0);
    return from_double(t, b.CreateFDiv(one, b.CreateFAdd(one, e)));
  }
  if ((n == "cosh" || n == "sinh") && op.name.rfind("chlo.", 0) == 0 && t == ElemType::kF32) {
    // JAX's f32 decomposition, as the evaluator computes it (see evaluator.cpp).
    auto expf = [&](Value* v) { return call("expf", b.getFloatTy(), {v}); };
    Value* lh = llvm::ConstantFP::get(b.getFloatTy(), double(std::log(0.5f)));
    Value* a = expf(b.CreateFAdd(x, lh));
    Value* c = expf(b.CreateFAdd(b.CreateFNeg(x), lh));
    if (n == "cosh") return b.CreateFAdd(a, c);
    Value* big =
        b.CreateFCmpOGE(fun(llvm::Intrinsic::fabs), llvm::ConstantFP::get(x->getType(), 1.0));
    Value* e = call("expm1f", b.getFloatTy(), {x});
    Value* small = b.CreateFMul(
        b.CreateFAdd(e, b.CreateFDiv(e, b.CreateFAdd(e, llvm::ConstantFP::get(x->getType(), 1.0)))),
        llvm::ConstantFP::get(x->getType(), 0.5));
    return b.CreateSelect(big, b.CreateFSub(a, c), small);
  }
  static const std::map<std::string, const char*> kLibm = {
      {"cbrt", "cbrt"},
      {"exponential", "exp"},
      {"exponential_minus_one", "expm1"},
      {"log", "log"},
      {"log_plus_one", "log1p"},
      {"sine", "sin"},
      {"cosine", "cos"},
      {"tan", "tan"},
      {"tanh", "tanh"},
      {"sinh", "sinh"},
      {"cosh", "cosh"},
      {"asin", "asin"},
      {"acos", "acos"},
      {"atan", "atan"},
      {"asinh", "asinh"},
      {"acosh", "acosh"},
      {"atanh", "atanh"},
      {"erf", "erf"},
      {"erfc", "erfc"},
      {"lgamma", "lgamma"},
      {"digamma", "tj_shlo_digamma"},
      {"erf_inv", "tj_shlo_erf_inv"},
      {"bessel_i1e", "tj_shlo_bessel_i1e"},
  };
  if (auto it = kLibm.find(n); it != kLibm.end()) return libm(it->second, t, {x});
  if (n == "real") return x;
  if (n == "imag") return llvm::ConstantFP::get(x->getType(), 0.0);
  return not_lowered(op, n);
}

Expected<Value*> Lowerer::binary(const Op& op, const std::string& n, ElemType t, Value* x,
                                 Value* y) {
  if (is_fp(t)) {
    if (n == "add") return round16(t, b.CreateFAdd(x, y));
    if (n == "subtract") return round16(t, b.CreateFSub(x, y));
    if (n == "multiply") return round16(t, b.CreateFMul(x, y));
    if (n == "divide") return round16(t, b.CreateFDiv(x, y));
    if (n == "remainder") return b.CreateFRem(x, y);  // exact: no rounding
    if (n == "maximum") return b.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, x, y);
    if (n == "minimum") return b.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, x, y);
    if (n == "power") return libm("pow", t, {x, y});
    if (n == "atan2") return libm("atan2", t, {x, y});
    if (n == "next_after") {
      Value* d = call("tj_shlo_next_after", b.getDoubleTy(),
                      {b.getInt32(int32_t(t)), to_double(t, x), to_double(t, y)});
      return t == ElemType::kF64 ? d : b.CreateFPTrunc(d, b.getFloatTy());
    }
    return not_lowered(op, n + " on floats");
  }
  unsigned w = unsigned(bit_width(t));
  bool u = is_unsigned(t) || t == ElemType::kBool;
  Value* zero = iconst(t, 0);
  if (n == "add") return b.CreateAdd(x, y);
  if (n == "subtract") return b.CreateSub(x, y);
  if (n == "multiply") return b.CreateMul(x, y);
  if (n == "and") return b.CreateAnd(x, y);
  if (n == "or") return b.CreateOr(x, y);
  if (n == "xor") return b.CreateXor(x, y);
  if (n == "maximum") return b.CreateSelect(b.CreateICmp(lt(t), x, y), y, x);
  if (n == "minimum") return b.CreateSelect(b.CreateICmp(lt(t), x, y), x, y);
  if (n == "divide" || n == "remainder") {
    // x / 0 = -1 and x % 0 = x; signed x / -1 = -x and x % -1 = 0 (no overflow trap).
    Value* by0 = b.CreateICmpEQ(y, zero);
    Value* bym1 = u ? b.getFalse() : b.CreateICmpEQ(y, iconst(t, -1));
    Value* safe = b.CreateSelect(b.CreateOr(by0, bym1), iconst(t, 1), y);
    bool div = n == "divide";
    Value* q = div ? (u ? b.CreateUDiv(x, safe) : b.CreateSDiv(x, safe))
                   : (u ? b.CreateURem(x, safe) : b.CreateSRem(x, safe));
    Value* at_m1 = div ? b.CreateNeg(x) : zero;
    Value* at_0 = div ? iconst(t, -1) : x;
    return b.CreateSelect(by0, at_0, b.CreateSelect(bym1, at_m1, q));
  }
  if (n == "shift_left" || n == "shift_right_logical" || n == "shift_right_arithmetic") {
    Value* big = b.CreateICmpUGE(y, iconst(t, int64_t(w)));
    Value* amt = b.CreateSelect(big, zero, y);
    if (n == "shift_left") return b.CreateSelect(big, zero, b.CreateShl(x, amt));
    if (n == "shift_right_logical") return b.CreateSelect(big, zero, b.CreateLShr(x, amt));
    Value* fill = b.CreateSelect(b.CreateICmpSLT(x, zero), iconst(t, -1), zero);
    return b.CreateSelect(big, fill, b.CreateAShr(x, amt));
  }
  if (n == "power") {
    Value* r = call("tj_shlo_ipow", i64(), {b.getInt32(int32_t(t)), to_i64(t, x), to_i64(t, y)});
    return b.CreateTrunc(r, val_ty(t));
  }
  return not_lowered(op, n + " on integers");
}

Value* Lowerer::convert(ElemType from, ElemType to, Value* x) {
  if (from == to) return x;
  if (to == ElemType::kBool) {
    return is_fp(from) ? b.CreateFCmpUNE(x, llvm::ConstantFP::get(x->getType(), 0.0))
                       : b.CreateICmpNE(x, llvm::ConstantInt::get(x->getType(), 0));
  }
  if (is_fp(to) && is_fp(from)) {
    if (to == ElemType::kF64) return to_double(from, x);  // widening is exact
    if (from == ElemType::kF64) return from_double(to, x);
    // Between f16, bf16 and f32, all held in float: one rounding (none to f32).
    return to == ElemType::kF32 ? x : round16(to, x);
  }
  if (is_fp(to)) {  // through double, as the evaluator converts
    Value* d = is_unsigned(from) || from == ElemType::kBool ? b.CreateUIToFP(x, b.getDoubleTy())
                                                            : b.CreateSIToFP(x, b.getDoubleTy());
    return from_double(to, d);
  }
  if (is_fp(from)) {  // truncate toward zero, saturate, NaN -> 0
    Value* d = to_double(from, x);
    auto id = is_unsigned(to) ? llvm::Intrinsic::fptoui_sat : llvm::Intrinsic::fptosi_sat;
    return b.CreateIntrinsic(id, {val_ty(to), b.getDoubleTy()}, {d});
  }
  Value* wide = to_i64(from, x);
  return b.CreateTrunc(wide, val_ty(to));
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
    std::string n = strip(op.name);
    if (n == "return") return operands_of(op, scope);
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

Expected<std::vector<TVal>> Lowerer::inline_call(const Op& site, const std::string& name,
                                                 std::vector<TVal> args) {
  const Func* f = nullptr;
  for (const Func& g : mod_.funcs)
    if (g.name == name) f = &g;
  if (f == nullptr) return err(site, ErrorCode::kInvalidInput, "call to unknown function @" + name);
  if (args.size() != f->args.size())
    return err(site, ErrorCode::kInvalidInput,
               "@" + name + " takes " + std::to_string(f->args.size()) + " arguments");
  if (inline_depth_ >= 32)
    return err(site, ErrorCode::kUnsupported, "calls nested over 32 deep (recursion?)");
  auto [it, fresh] = use_maps_.try_emplace(f);
  if (fresh) count_uses(f->body, it->second);
  const auto* saved = uses_;
  uses_ = &it->second;
  ++inline_depth_;
  Scope scope;
  for (size_t k = 0; k < args.size(); ++k) scope.vals[f->args[k].first] = {args[k]};
  auto r = f->body.blocks.empty() ? Expected<std::vector<TVal>>(std::vector<TVal>{})
                                  : lower_block(f->body.blocks[0], scope);
  --inline_depth_;
  uses_ = saved;
  if (!r.ok()) return r;
  // Lazy results may read the callee's values: those are all in `scope`, gone after this
  // return, but generators capture what they read by value, so they stay valid.
  return r;
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
      } else {
        full.i.assign(size_t(full.size()), t->i.at(0));
      }
      v.known = std::make_shared<const Tensor>(std::move(full));
    }
    v.scalar = t->floating() ? fconst(v.type, t->f[0]) : iconst(v.type, t->i[0]);
    return v;
  }
  v.known = std::make_shared<const Tensor>(*t);
  bool splat = true;
  for (int64_t k = 1; k < t->size() && splat; ++k) {
    splat = t->floating() ? float_bits(t->type, t->f.at(size_t(k))) == float_bits(t->type, t->f[0])
                          : t->i.at(size_t(k)) == t->i[0];
  }
  if (splat || t->size() == 0) {
    Value* c = t->size() == 0  ? llvm::UndefValue::get(val_ty(v.type))
               : t->floating() ? fconst(v.type, t->f[0])
                               : iconst(v.type, t->i[0]);
    v.scalar = c;
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
  std::string n = strip(op.name);
  TJ_ASSIGN_OR_RETURN(std::vector<TVal> in, operands_of(op, scope));
  auto need = [&](size_t count) -> Status {
    if (in.size() == count) return {};
    return err(op, ErrorCode::kInvalidInput,
               "takes " + std::to_string(count) + " operands, got " + std::to_string(in.size()));
  };
  auto one = [](TVal v) { return std::vector<TVal>{std::move(v)}; };
  if (op.name == "interpreter.run_parallel") return lower_run_parallel(op, std::move(in));
  if (op.name == "interpreter.probe") {  // hands the value to the runtime each time it runs
    const Attr* id = op.attr("probe_id");
    if (in.size() != 1 || in[0].is_tuple || id == nullptr || id->kind != Attr::Kind::kString)
      return err(op, ErrorCode::kInvalidInput, "needs one tensor and probe_id = \"...\"");
    TVal x = materialize(in[0]);
    touch(x.buf);
    entry_->probe_points.push_back({id->text, TensorShape{x.type, x.shape}});
    call("tj_shlo_probe", b.getVoidTy(),
         {ctx_, b.getInt32(int32_t(entry_->probe_points.size() - 1)), x.ptr});
    return one(std::move(x));
  }
  if (n == "after_all" || n == "create_token" || n == "infeed" || n == "outfeed" || n == "send" ||
      n == "recv" || is_collective(n))
    return lower_distribution(op, n, std::move(in), scope);
  for (const TVal& v : in)
    if (v.is_tuple && n != "tuple" && n != "get_tuple_element" && n != "call" &&
        n != "optimization_barrier")
      return not_lowered(op, "a tuple operand");

  if (n == "custom_call") {
    std::string target = op.args.empty() ? "" : op.args[0].text;
    if (const Attr* a = op.attr("call_target_name")) target = "@" + a->text;
    if (target.rfind("@check.", 0) == 0) {
      TJ_TRY(lower_check(op, target.substr(1), std::move(in)));
      return std::vector<TVal>{};
    }
    return err(op, ErrorCode::kUnsupported, "custom_call " + target + " is not supported");
  }
  if (op.name.rfind("check.", 0) == 0) {
    TJ_TRY(lower_check(op, op.name, std::move(in)));
    return std::vector<TVal>{};
  }
  if (n == "call" || n == "composite") {
    std::string callee;
    if (!op.args.empty() && op.args[0].kind == Attr::Kind::kSymbol) callee = op.args[0].text;
    if (const Attr* a = op.attr(n == "call" ? "callee" : "decomposition")) callee = a->text;
    if (callee.size() < 2) return err(op, ErrorCode::kInvalidInput, "call without a callee");
    return inline_call(op, callee.substr(1), std::move(in));
  }
  if (n == "optimization_barrier") return in;
  // Dynamic-shape forms with static result types: their shape and size operands must be
  // constants here; then they are their static counterparts (as in the evaluator).
  if (n == "dynamic_iota" || n == "dynamic_reshape" || n == "dynamic_broadcast_in_dim") {
    size_t at_ = n == "dynamic_iota" ? 0 : 1;
    if (in.size() <= at_ || op.result_types.size() != 1)
      return err(op, ErrorCode::kInvalidInput, "missing the output shape operand or result type");
    const Tensor* shape = in[at_].known.get();
    if (shape == nullptr) return not_lowered(op, "an output shape that is not a constant");
    if (shape->floating() || shape->i != op.result_types[0].dims)
      return err(op, ErrorCode::kInvalidInput,
                 "output shape operand does not match the result type " + op.result_types[0].text);
    Op stat = op;
    stat.set_name("stablehlo." + n.substr(std::string("dynamic_").size()));
    stat.operands.erase(stat.operands.begin() + std::ptrdiff_t(at_));
    CurrentOpGuard guard{current_, &op};  // `stat` dies here, also when an error unwinds
    return lower_op(stat, scope);
  }
  if (n == "dynamic_pad" || n == "dynamic_gather" || n == "dynamic_conv") {
    std::vector<const Tensor*> known;
    for (const TVal& v : in) known.push_back(v.known.get());
    TJ_ASSIGN_OR_RETURN(Op stat, dynamic_static_form(op, known, file_));
    CurrentOpGuard guard{current_, &op};
    return lower_op(stat, scope);
  }
  if (n == "constant") {
    TJ_ASSIGN_OR_RETURN(TVal v, lower_constant(op));
    return one(std::move(v));
  }
  if (n == "iota") {
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    auto d = op_ints(op, "dim", "iota_dimension");
    size_t dim = d.empty() ? 0 : size_t(d[0]);
    if (dim >= std::max<size_t>(1, r.shape.size()))
      return err(op, ErrorCode::kInvalidInput, "bad iota dimension");
    ElemType t = r.type;
    r.gen = [this, dim, t](const Idx& idx) -> Value* {
      Value* v = idx.empty() ? b.getInt64(0) : idx[dim];
      if (is_float(t)) return from_double(t, b.CreateSIToFP(v, b.getDoubleTy()));
      return b.CreateTrunc(v, val_ty(t));
    };
    return one(std::move(r));
  }
  if (n == "reshape") {
    TJ_TRY(need(1));
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    if (r.size() != in[0].size() || r.type != in[0].type)
      return err(op, ErrorCode::kInvalidInput, "reshape changes the element count or type");
    TVal x = in[0].size() == 1 ? scalarize(in[0]) : materialize(in[0]);
    x.shape = r.shape;
    return one(std::move(x));
  }
  if (n == "bitcast_convert") {
    TJ_TRY(need(1));
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    if (r.type == ElemType::kBool || in[0].type == ElemType::kBool ||
        r.size() * bit_width(r.type) != in[0].size() * bit_width(in[0].type))
      return not_lowered(op, "bitcast_convert with i1 or a changed bit count");
    // The same bytes read as the result type (little-endian; between widths, the narrower
    // type's last dimension spans one wider element: spec C2).
    TVal x = in[0];
    if (!x.ptr) {
      x = new_buffer(in[0].type, in[0].shape);
      store_into(x, in[0]);
    }
    x.type = r.type;
    x.shape = r.shape;
    return one(std::move(x));
  }
  if (n == "convert") {
    TJ_TRY(need(1));
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    TVal x = in[0];
    TJ_TRY(shape_is(op, r.shape, x.shape, "the result"));
    ElemType to = r.type;
    r.gen = [this, x, to](const Idx& idx) { return convert(x.type, to, at(x, idx)); };
    return one(std::move(r));
  }
  if (n == "broadcast_in_dim") {
    TJ_TRY(need(1));
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    auto dims = op_ints(op, "dims", "broadcast_dimensions");
    if (dims.size() != in[0].shape.size())
      return err(op, ErrorCode::kInvalidInput, "broadcast dims do not match the operand rank");
    for (size_t a = 0; a < dims.size(); ++a)
      if (dims[a] < 0 || dims[a] >= int64_t(r.shape.size()) ||
          (in[0].shape[a] != 1 && in[0].shape[a] != r.shape[size_t(dims[a])]))
        return err(op, ErrorCode::kInvalidInput, "broadcast dims do not match the result shape");
    TVal x = in[0].size() < r.size() ? stable(in[0]) : in[0];
    r.gen = [this, x, dims](const Idx& idx) {
      Idx src(dims.size());
      for (size_t a = 0; a < dims.size(); ++a)
        src[a] = x.shape[a] == 1 ? b.getInt64(0) : idx.at(size_t(dims.at(a)));
      return at(x, src);
    };
    return one(std::move(r));
  }
  if (n == "transpose") {
    TJ_TRY(need(1));
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    auto perm = op_ints(op, "dims", "permutation");
    if (perm.size() != in[0].shape.size())
      return err(op, ErrorCode::kInvalidInput, "bad permutation");
    std::vector<int64_t> want, sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    for (size_t a = 0; a < sorted.size(); ++a)
      if (sorted[a] != int64_t(a)) return err(op, ErrorCode::kInvalidInput, "bad permutation");
    for (int64_t d : perm) want.push_back(in[0].shape.at(size_t(d)));
    TJ_TRY(shape_is(op, r.shape, want, "the result"));
    TVal x = in[0];
    r.gen = [this, x, perm](const Idx& idx) {
      Idx src(perm.size());
      for (size_t a = 0; a < perm.size(); ++a) src.at(size_t(perm.at(a))) = idx[a];
      return at(x, src);
    };
    return one(std::move(r));
  }
  if (n == "slice") {
    TJ_TRY(need(1));
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    std::vector<int64_t> start, stride;
    if (!slice_spec(op, in[0].shape.size(), start, stride))
      return err(op, ErrorCode::kInvalidInput, "bad slice spec");
    if (r.shape.size() != start.size())
      return err(op, ErrorCode::kInvalidInput, "slice result rank differs from the operand's");
    for (size_t a = 0; a < start.size(); ++a)
      if (start[a] < 0 || stride[a] < 1 ||
          (r.shape[a] > 0 && start[a] + (r.shape[a] - 1) * stride[a] >= in[0].shape[a]))
        return err(op, ErrorCode::kInvalidInput, "slice reads past the operand");
    TVal x = in[0];
    r.gen = [this, x, start, stride](const Idx& idx) {
      Idx src(idx.size());
      for (size_t a = 0; a < idx.size(); ++a) {
        Value* v = stride[a] == 1 ? idx[a] : b.CreateMul(idx[a], b.getInt64(stride[a]));
        src[a] = start[a] == 0 ? v : b.CreateAdd(v, b.getInt64(start[a]));
      }
      return at(x, src);
    };
    return one(std::move(r));
  }
  if (n == "reverse") {
    TJ_TRY(need(1));
    auto dims = op_ints(op, "dims", "dimensions");
    TVal x = in[0], r = in[0];
    r.ptr = nullptr, r.scalar = nullptr, r.buf = -1;
    r.gen = [this, x, dims](const Idx& idx) {
      Idx src = idx;
      for (size_t a = 0; a < idx.size(); ++a)
        if (contains(dims, int64_t(a))) src[a] = b.CreateSub(b.getInt64(x.shape[a] - 1), idx[a]);
      return at(x, src);
    };
    return one(std::move(r));
  }
  if (n == "concatenate") {
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    auto d = op_ints(op, "dim", "dimension");
    size_t dim = d.empty() ? 0 : size_t(d[0]);
    if (dim >= r.shape.size())
      return err(op, ErrorCode::kInvalidInput, "bad concatenate dimension");
    {
      int64_t total = 0;
      for (const TVal& x : in) {
        std::vector<int64_t> want = r.shape;
        want[dim] = x.shape.size() == r.shape.size() ? x.shape[dim] : 0;
        TJ_TRY(shape_is(op, x.shape, want, "an operand"));
        if (x.type != r.type) return err(op, ErrorCode::kInvalidInput, "operand types differ");
        total += x.shape[dim];
      }
      if (total != r.shape[dim])
        return err(op, ErrorCode::kInvalidInput, "operands do not add up to the result");
    }
    TVal out = new_buffer(r.type, r.shape);
    int64_t offset = 0;
    for (const TVal& x : in) {
      loop_nest(x.shape, [&](const Idx& idx) {
        Idx dst = idx;
        dst[dim] = b.CreateAdd(idx[dim], b.getInt64(offset));
        store_at(out, linear(out.shape, dst), at(x, idx));
      });
      offset += x.shape[dim];
    }
    return one(std::move(out));
  }
  if (n == "pad") {
    TJ_TRY(need(2));
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    auto lo = op_ints(op, "low", "edge_padding_low");
    auto interior = op_ints(op, "interior", "interior_padding");
    size_t rank = in[0].shape.size();
    if (lo.size() != rank || interior.size() != rank)
      return err(op, ErrorCode::kInvalidInput, "bad padding");
    if (in[0].type != r.type || in[1].type != r.type || in[1].size() != 1)
      return err(op, ErrorCode::kInvalidInput,
                 "pad needs a scalar padding value of the operand's type");
    TVal out = new_buffer(r.type, r.shape);
    TVal pv = scalarize(in[1]);
    loop_nest(out.shape,
              [&](const Idx& idx) { store_at(out, linear(out.shape, idx), at(pv, {})); });
    TVal x = in[0];
    // Operand elements land at lo + i * (interior + 1); negative padding cuts them off.
    std::vector<int64_t> first(rank), count(rank);
    for (size_t a = 0; a < rank; ++a) {
      int64_t step = interior[a] + 1, f = 0;
      while (f < x.shape[a] && lo[a] + f * step < 0) ++f;
      int64_t l = f;
      while (l < x.shape[a] && lo[a] + l * step < r.shape[a]) ++l;
      first[a] = f;
      count[a] = l - f;
    }
    loop_nest(count, [&](const Idx& idx) {
      Idx src(rank), dst(rank);
      for (size_t a = 0; a < rank; ++a) {
        src[a] = b.CreateAdd(idx[a], b.getInt64(first[a]));
        dst[a] = b.CreateAdd(b.CreateMul(src[a], b.getInt64(interior[a] + 1)), b.getInt64(lo[a]));
      }
      store_at(out, linear(out.shape, dst), at(x, src));
    });
    return one(std::move(out));
  }
  if (n == "select") {
    TJ_TRY(need(3));
    TVal p = in[0], x = in[1], y = in[2], r = in[1];
    r.ptr = nullptr, r.scalar = nullptr, r.buf = -1;
    bool scalar_pred = p.shape.empty() && !x.shape.empty();
    if (scalar_pred) p = scalarize(p);
    r.gen = [this, p, x, y](const Idx& idx) {
      Value* c = at(p, p.shape.empty() ? Idx{} : idx);
      return b.CreateSelect(c, at(x, idx), at(y, idx));
    };
    return one(std::move(r));
  }
  if (n == "clamp") {
    TJ_TRY(need(3));
    TVal lo = in[0], x = in[1], hi = in[2], r = in[1];
    for (const TVal* bound : {&lo, &hi})
      if (bound->type != x.type || (!bound->shape.empty() && bound->shape != x.shape))
        return err(op, ErrorCode::kInvalidInput,
                   "min and max must be scalars or the operand's "
                   "shape, all of its element type (C1-C3)");
    r.ptr = nullptr, r.scalar = nullptr, r.buf = -1;
    if (lo.shape.empty()) lo = scalarize(lo);
    if (hi.shape.empty()) hi = scalarize(hi);
    r.gen = [this, lo, x, hi](const Idx& idx) -> Value* {
      Value* v = at(x, idx);
      Value* a = at(lo, lo.shape.empty() ? Idx{} : idx);
      Value* c = at(hi, hi.shape.empty() ? Idx{} : idx);
      if (is_float(x.type)) {  // min(max(v, a), c) as std::max/min; NaN anywhere -> NaN
        Value* m = b.CreateSelect(b.CreateFCmpOLT(v, a), a, v);
        m = b.CreateSelect(b.CreateFCmpOLT(c, m), c, m);
        Value* nan = b.CreateOr(b.CreateFCmpUNO(v, a), b.CreateFCmpUNO(c, c));
        return b.CreateSelect(nan, llvm::ConstantFP::getNaN(v->getType()), m);
      }
      Value* m = b.CreateSelect(b.CreateICmp(lt(x.type), v, a), a, v);
      return b.CreateSelect(b.CreateICmp(lt(x.type), c, m), c, m);
    };
    return one(std::move(r));
  }
  if (n == "compare") {
    TJ_TRY(need(2));
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    bool total = false;
    std::string dir = compare_direction(op, &total);
    static const std::map<std::string, std::array<llvm::CmpInst::Predicate, 3>> kPred = {
        {"EQ", {llvm::CmpInst::FCMP_OEQ, llvm::CmpInst::ICMP_EQ, llvm::CmpInst::ICMP_EQ}},
        {"NE", {llvm::CmpInst::FCMP_UNE, llvm::CmpInst::ICMP_NE, llvm::CmpInst::ICMP_NE}},
        {"LT", {llvm::CmpInst::FCMP_OLT, llvm::CmpInst::ICMP_SLT, llvm::CmpInst::ICMP_ULT}},
        {"LE", {llvm::CmpInst::FCMP_OLE, llvm::CmpInst::ICMP_SLE, llvm::CmpInst::ICMP_ULE}},
        {"GT", {llvm::CmpInst::FCMP_OGT, llvm::CmpInst::ICMP_SGT, llvm::CmpInst::ICMP_UGT}},
        {"GE", {llvm::CmpInst::FCMP_OGE, llvm::CmpInst::ICMP_SGE, llvm::CmpInst::ICMP_UGE}},
    };
    auto it = kPred.find(dir);
    if (it == kPred.end())
      return err(op, ErrorCode::kInvalidInput, "unknown comparison direction '" + dir + "'");
    auto preds = it->second;
    TVal x = in[0], y = in[1];
    TJ_TRY(shape_is(op, y.shape, x.shape, "rhs"));
    TJ_TRY(shape_is(op, r.shape, x.shape, "the result"));
    if (x.type != y.type) return err(op, ErrorCode::kInvalidInput, "operands differ in type");
    r.gen = [this, x, y, preds, total](const Idx& idx) -> Value* {
      Value* a = at(x, idx);
      Value* c = at(y, idx);
      if (is_float(x.type) && total) {
        return b.CreateICmp(preds[2], total_order_key(x.type, a), total_order_key(x.type, c));
      }
      if (is_float(x.type)) return b.CreateFCmp(preds[0], a, c);
      bool u = is_unsigned(x.type) || x.type == ElemType::kBool;
      return b.CreateICmp(preds[u ? 2 : 1], a, c);
    };
    return one(std::move(r));
  }
  if (n == "dynamic_slice") {
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    if (in.empty()) return err(op, ErrorCode::kInvalidInput, "dynamic_slice needs an operand");
    size_t rank = in[0].shape.size();
    if (in.size() != rank + 1)
      return err(op, ErrorCode::kInvalidInput, "dynamic_slice needs one start index per dimension");
    TJ_ASSIGN_OR_RETURN(std::vector<Value*> start, clamped_starts(op, in, 1, in[0].shape, r.shape));
    if (r.type != in[0].type) return err(op, ErrorCode::kInvalidInput, "result type differs");
    TVal x = in[0];
    r.gen = [this, x, start](const Idx& idx) {
      Idx src(idx.size());
      for (size_t d = 0; d < idx.size(); ++d) src[d] = b.CreateAdd(idx[d], start[d]);
      return at(x, src);
    };
    return one(std::move(r));
  }
  if (n == "dynamic_update_slice") {
    if (in.size() < 2)
      return err(op, ErrorCode::kInvalidInput, "dynamic_update_slice needs operand and update");
    size_t rank = in[0].shape.size();
    if (in.size() != rank + 2)
      return err(op, ErrorCode::kInvalidInput,
                 "dynamic_update_slice needs one start index per dimension");
    if (in[1].type != in[0].type)
      return err(op, ErrorCode::kInvalidInput, "update type differs from the operand's");
    TJ_ASSIGN_OR_RETURN(std::vector<Value*> start,
                        clamped_starts(op, in, 2, in[0].shape, in[1].shape));
    TVal out = new_buffer(in[0].type, in[0].shape);
    TVal u = stable(in[1]);
    store_into(out, in[0]);
    loop_nest(u.shape, [&](const Idx& idx) {
      Idx dst(rank);
      for (size_t d = 0; d < rank; ++d) dst[d] = b.CreateAdd(idx[d], start[d]);
      store_at(out, linear(out.shape, dst), at(u, idx));
    });
    return one(std::move(out));
  }
  if (n == "get_dimension_size") {
    TJ_TRY(need(1));
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    auto d = op_ints(op, "dim", "dimension");
    size_t dim = d.empty() ? 0 : size_t(d[0]);
    if (dim >= in[0].shape.size()) return err(op, ErrorCode::kInvalidInput, "bad dimension");
    r.scalar = iconst(r.type, in[0].shape[dim]);
    return one(std::move(r));
  }
  if (n == "dot_general" || n == "dot") {
    TJ_TRY(need(2));
    TJ_ASSIGN_OR_RETURN(TVal r, lower_dot(op, in[0], in[1]));
    return one(std::move(r));
  }
  if (n == "reduce") return lower_reduce(op, std::move(in), scope);
  if (n == "scatter") return lower_scatter(op, std::move(in), scope);
  if (n == "convolution") {
    TJ_TRY(need(2));
    TJ_ASSIGN_OR_RETURN(TVal r, lower_convolution(op, in[0], in[1]));
    return one(std::move(r));
  }
  if (n == "select_and_scatter") {
    TJ_ASSIGN_OR_RETURN(TVal r, lower_select_and_scatter(op, std::move(in), scope));
    return one(std::move(r));
  }
  if (n == "sort") return lower_sort(op, std::move(in), scope);
  if (n == "top_k") return lower_top_k(op, std::move(in));
  if (n == "map") {
    // Spec "map": the region applied to the operands' elements at each index.
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    if (in.empty() || op.regions.empty())
      return err(op, ErrorCode::kInvalidInput, "map operands/region");
    for (const TVal& v : in) TJ_TRY(shape_is(op, v.shape, r.shape, "an operand"));
    std::vector<ElemType> types;
    for (const TVal& v : in) types.push_back(v.type);
    TVal out = new_buffer(r.type, r.shape);
    Status status;
    ++control_;
    loop_nest(r.shape, [&](const Idx& i) {
      if (!status.ok()) return;
      std::vector<Value*> args;
      for (const TVal& v : in) args.push_back(at(v, i));
      auto res = body(op, "", scope, types, args);
      if (res.ok()) status = results_typed(op, *res, {out});
      if (!res.ok()) status = res.take_error();
      if (!status.ok()) return;
      store_at(out, linear(out.shape, i), (*res)[0]);
    });
    --control_;
    TJ_TRY(status);
    return one(std::move(out));
  }
  if (n == "gather") {
    TJ_ASSIGN_OR_RETURN(TVal r, lower_gather(op, std::move(in)));
    return one(std::move(r));
  }
  if (n == "replica_id" || n == "partition_id") {
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
    if (is_float(r.type) || r.size() != 1)
      return err(op, ErrorCode::kInvalidInput, "result must be an integer scalar");
    r.scalar = iconst(r.type, n == "replica_id" ? replica_ : partition_);
    return one(std::move(r));
  }
  if (n == "tuple") {
    TVal t;
    t.is_tuple = true;
    t.elems = std::move(in);
    return one(std::move(t));
  }
  if (n == "get_tuple_element") {
    TJ_TRY(need(1));
    std::vector<int64_t> idx = op_ints(op, "index");
    for (const Attr& a : op.args)
      if (idx.empty() && (a.kind == Attr::Kind::kOpaque || a.kind == Attr::Kind::kArray))
        idx = ints_of(a);
    if (!in[0].is_tuple) return err(op, ErrorCode::kInvalidInput, "operand is not a tuple");
    if (idx.size() != 1 || idx[0] < 0 || idx[0] >= int64_t(in[0].elems.size()))
      return err(op, ErrorCode::kInvalidInput, "tuple index out of range");
    return one(in[0].elems.at(size_t(idx.at(0))));
  }
  if (n == "reduce_precision") {
    TJ_TRY(need(1));
    int64_t eb = 0, mb = 0;
    if (!reduce_precision_bits(op, eb, mb) || !is_float(in[0].type))
      return err(op, ErrorCode::kInvalidInput,
                 "reduce_precision needs floats and 1..11 exponent, 0..52 mantissa bits");
    TVal x = in[0], r = in[0];
    r.ptr = nullptr, r.scalar = nullptr, r.buf = -1;
    r.gen = [this, x, eb, mb](const Idx& idx) -> Value* {
      Value* d = call("tj_shlo_reduce_precision", b.getDoubleTy(),
                      {b.getInt32(int32_t(x.type)), to_double(x.type, at(x, idx)),
                       b.getInt32(int32_t(eb)), b.getInt32(int32_t(mb))});
      return x.type == ElemType::kF64 ? d : b.CreateFPTrunc(d, b.getFloatTy());
    };
    return one(std::move(r));
  }
  if (n == "reduce_window") return lower_reduce_window(op, std::move(in), scope);
  if (n == "while") return lower_while(op, std::move(in), scope);
  if (n == "if" || n == "case") {
    TJ_TRY(need(1));
    if (in[0].size() != 1 || is_float(in[0].type) || (n == "if") != (in[0].type == ElemType::kBool))
      return err(op, ErrorCode::kInvalidInput, "if needs an i1 predicate, case an integer index");
    return lower_branches(op, scalarize(in[0]), scope);
  }
  if (is_elementwise_binary(n)) {
    TJ_TRY(need(2));
    TVal x = in[0], y = in[1], r = in[0];
    if (x.shape != y.shape || x.type != y.type)
      return err(op, ErrorCode::kInvalidInput, "operand shapes or types differ");
    r.ptr = nullptr, r.scalar = nullptr, r.buf = -1;
    const Op* o = &op;
    r.gen = [this, x, y, n, o](const Idx& idx) -> Value* {
      auto v = binary(*o, n, x.type, at(x, idx), at(y, idx));
      return v.ok() ? *v : llvm::UndefValue::get(val_ty(x.type));
    };
    TJ_TRY(try_emit([&](Value* u) { return binary(op, n, x.type, u, u); }, x.type));
    return one(std::move(r));
  }
  static const std::set<std::string> kUnary = {"abs",
                                               "negate",
                                               "sqrt",
                                               "rsqrt",
                                               "cbrt",
                                               "exponential",
                                               "exponential_minus_one",
                                               "log",
                                               "log_plus_one",
                                               "logistic",
                                               "sine",
                                               "cosine",
                                               "tan",
                                               "tanh",
                                               "floor",
                                               "ceil",
                                               "round_nearest_afz",
                                               "round_nearest_even",
                                               "sign",
                                               "sinh",
                                               "cosh",
                                               "asin",
                                               "acos",
                                               "atan",
                                               "asinh",
                                               "acosh",
                                               "atanh",
                                               "erf",
                                               "erfc",
                                               "lgamma",
                                               "digamma",
                                               "erf_inv",
                                               "bessel_i1e",
                                               "is_finite",
                                               "not",
                                               "popcnt",
                                               "count_leading_zeros",
                                               "real",
                                               "imag"};
  if (kUnary.count(n) && in.size() == 1) {
    // Unary elementwise ops (the result type is the operand's, except is_finite's i1).
    TVal x = in[0], r = in[0];
    r.ptr = nullptr, r.scalar = nullptr, r.buf = -1;
    if (n == "is_finite") {
      if (!is_float(x.type)) return err(op, ErrorCode::kInvalidInput, "is_finite needs floats");
      r.type = ElemType::kBool;
    }
    TJ_TRY(try_emit([&](Value* u) { return unary(op, n, x.type, u); }, x.type));
    const Op* o = &op;
    r.gen = [this, x, n, o](const Idx& idx) -> Value* {
      auto v = unary(*o, n, x.type, at(x, idx));
      return v.ok() ? *v : llvm::UndefValue::get(val_ty(x.type));
    };
    return one(std::move(r));
  }
  return not_lowered(op, "this operation");
}

// ---- checks ----

Status Lowerer::lower_check(const Op& op, const std::string& name, std::vector<TVal> in) {
  if (control_ > 0) return not_lowered(op, "a check inside a loop, branch or body");
  LoweredEntry::Probe p;
  p.op = &op;
  p.name = name;
  for (TVal& v : in) {
    size_t slot = own_results_ + entry_->probe_shapes.size();
    entry_->probe_shapes.push_back(TensorShape{v.type, v.shape});
    Value* ptr =
        b.CreateLoad(b.getPtrTy(), b.CreateConstInBoundsGEP1_64(b.getPtrTy(), results_, slot));
    TVal dst;
    dst.type = v.type;
    dst.shape = v.shape;
    dst.ptr = ptr;
    store_into(dst, v);
    p.slots.push_back(slot);
  }
  entry_->probes.push_back(std::move(p));
  return {};
}

// ---- reductions ----

Expected<std::vector<Value*>> Lowerer::body(const Op& op, const std::string& applies,
                                            const Scope& scope, const std::vector<ElemType>& types,
                                            const std::vector<Value*>& args) {
  std::vector<TVal> vals;
  for (size_t k = 0; k < args.size(); ++k) {
    TVal v;
    v.type = types[k];
    v.scalar = args[k];
    vals.push_back(v);
  }
  // The body sees the types the op passes: the region's declared argument types must agree
  // (else its scalar code would mix types).
  if (applies.empty() && !op.regions.empty() && !op.regions[0].blocks.empty()) {
    const auto& bargs = op.regions[0].blocks[0].args;
    if (!bargs.empty() && bargs.size() != types.size())
      return err(op, ErrorCode::kInvalidInput,
                 "the body takes " + std::to_string(bargs.size()) + " arguments, the op passes " +
                     std::to_string(types.size()));
    for (size_t k = 0; k < bargs.size(); ++k) {
      auto t = parse_elem_type(bargs[k].second.elem);
      if (!t.ok() || *t != types[k] || !bargs[k].second.dims.empty())
        return err(op, ErrorCode::kInvalidInput,
                   "body argument " + bargs[k].first + " is " + bargs[k].second.text +
                       ", the op passes tensor<" + elem_name(types[k]) + ">");
    }
  }
  if (!applies.empty() && (types.size() != 2 || types[0] != types[1]))
    return err(op, ErrorCode::kInvalidInput, "reduce applies: operand and init types differ");
  std::vector<TVal> res;
  ++control_;
  if (!applies.empty()) {
    if (!is_elementwise_binary(applies) || vals.size() != 2) {
      --control_;
      return not_lowered(op, "reduce applies " + applies);
    }
    auto v = binary(op, applies, types[0], args[0], args[1]);
    --control_;
    if (!v.ok()) return v.take_error();
    return std::vector<Value*>{*v};
  }
  auto r = lower_region(op.regions.at(0), vals, scope);
  --control_;
  if (!r.ok()) return r.take_error();
  std::vector<Value*> out;
  for (const TVal& v : *r) {
    if (v.is_tuple || v.size() != 1)
      return err(op, ErrorCode::kInvalidInput, "a body must return scalars");
    out.push_back(at(v, zeros(v.shape.size())));
  }
  return out;
}

Expected<std::vector<TVal>> Lowerer::lower_reduce(const Op& op, std::vector<TVal> in,
                                                  const Scope& scope) {
  size_t n = in.size() / 2;
  if (n == 0 || in.size() % 2 != 0)
    return err(op, ErrorCode::kInvalidInput, "reduce needs inputs and init values");
  auto dims = op_ints(op, "dimensions");
  std::string applies;
  for (size_t k = 0; k + 1 < op.args.size(); ++k)
    if (op.args[k].text == "applies") applies = strip(op.args[k + 1].text);
  if (applies.empty() && op.regions.empty())
    return err(op, ErrorCode::kInvalidInput, "reduce without a body");
  std::vector<TVal> outs;
  std::vector<ElemType> types;
  for (size_t k = 0; k < n; ++k) {
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, k));
    outs.push_back(new_buffer(r.type, r.shape));
    types.push_back(r.type);
  }
  for (size_t k = 0; k < n; ++k) types.push_back(in[k].type);
  for (size_t k = 0; k < n; ++k) in[n + k] = scalarize(in[n + k]);
  const std::vector<int64_t>& xshape = in[0].shape;
  std::vector<int64_t> kept = axes_except(xshape.size(), dims);
  {
    std::vector<int64_t> want;
    for (int64_t d : kept) want.push_back(xshape[size_t(d)]);
    for (int64_t d : dims)
      if (d < 0 || d >= int64_t(xshape.size()))
        return err(op, ErrorCode::kInvalidInput, "reduce dimension out of range");
    for (size_t k = 0; k < n; ++k) {
      TJ_TRY(shape_is(op, in[k].shape, xshape, "an input"));
      TJ_TRY(shape_is(op, outs[k].shape, want, "a result"));
      if (in[n + k].size() != 1 || in[n + k].type != in[k].type)
        return err(op, ErrorCode::kInvalidInput, "init values must be scalars of the input types");
    }
  }
  // The evaluator folds in row-major order of the operand: reduced axes ascending.
  std::sort(dims.begin(), dims.end());
  std::vector<int64_t> rshape;
  for (int64_t d : dims) rshape.push_back(xshape.at(size_t(d)));
  Status status;
  llvm::IRBuilder<> eb(entry_term_);
  std::vector<llvm::AllocaInst*> acc;
  for (size_t k = 0; k < n; ++k) acc.push_back(eb.CreateAlloca(val_ty(outs[k].type)));
  ++control_;
  loop_nest(outs[0].shape, [&](const Idx& oi) {
    for (size_t k = 0; k < n; ++k) b.CreateStore(at(in[n + k], {}), acc[k]);
    loop_nest(rshape, [&](const Idx& ri) {
      if (!status.ok()) return;
      Idx xi(xshape.size());
      for (size_t a = 0; a < kept.size(); ++a) xi.at(size_t(kept.at(a))) = oi[a];
      for (size_t a = 0; a < dims.size(); ++a) xi.at(size_t(dims.at(a))) = ri[a];
      std::vector<Value*> xs;
      for (size_t k = 0; k < n; ++k) xs.push_back(at(in[k], xi));
      status = fold(op, applies, scope, types, outs, acc, xs);
    });
    store_accumulators(outs, oi, acc);
  });
  --control_;
  TJ_TRY(status);
  return outs;
}

Expected<std::vector<TVal>> Lowerer::lower_reduce_window(const Op& op, std::vector<TVal> in,
                                                         const Scope& scope) {
  size_t n = in.size() / 2;
  if (n == 0 || in.size() % 2 != 0 || op.regions.empty())
    return err(op, ErrorCode::kInvalidInput, "reduce_window operands");
  size_t rank = in[0].shape.size();
  WindowAttrs w;
  if (!window_attrs(op, rank, w))
    return err(op, ErrorCode::kInvalidInput, "reduce_window attributes do not match the rank");
  const auto &wdims = w.dims, &wstr = w.strides, &bdil = w.base_dil, &wdil = w.win_dil,
             &pad = w.pad;
  std::vector<TVal> outs;
  std::vector<ElemType> types;
  for (size_t k = 0; k < n; ++k) {
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, k));
    outs.push_back(new_buffer(r.type, r.shape));
    types.push_back(r.type);
  }
  // Static facts per dimension: whether a window position can fall in padding or between
  // dilated elements (else the index is used as is), and whether windows overlap (else each
  // element is read once and the operand can stay fused, e.g. bias + relu + pooling).
  if (outs[0].shape.size() != rank)
    return err(op, ErrorCode::kInvalidInput, "reduce_window result rank differs from the input's");
  for (size_t k = 0; k < n; ++k) {
    TJ_TRY(shape_is(op, in[k].shape, in[0].shape, "an input"));
    TJ_TRY(shape_is(op, outs[k].shape, outs[0].shape, "a result"));
    if (in[n + k].size() != 1 || in[n + k].type != in[k].type)
      return err(op, ErrorCode::kInvalidInput, "init values must be scalars of the input types");
  }
  for (size_t d = 0; d < rank; ++d)
    if (wdims[d] < 1 || wstr[d] < 1 || bdil[d] < 1 || wdil[d] < 1)
      return err(op, ErrorCode::kInvalidInput,
                 "reduce_window windows, strides and dilations must be >= 1");
  std::vector<bool> may_hole(rank);
  bool overlap = false;
  for (size_t d = 0; d < rank; ++d) {
    int64_t out_d = outs[0].shape.empty() ? 1 : outs[0].shape[d];
    int64_t lo = -pad[2 * d], hi = (out_d - 1) * wstr[d] + (wdims[d] - 1) * wdil[d] - pad[2 * d];
    may_hole[d] = bdil[d] != 1 || lo < 0 || hi >= in[0].shape[d];
    overlap = overlap || bdil[d] != 1 || wstr[d] < (wdims[d] - 1) * wdil[d] + 1;
  }
  for (size_t k = 0; k < n; ++k) {
    types.push_back(in[k].type);
    if (overlap) in[k] = stable(in[k]);
    in[n + k] = scalarize(in[n + k]);
  }
  llvm::IRBuilder<> eb(entry_term_);
  std::vector<llvm::AllocaInst*> acc;
  for (size_t k = 0; k < n; ++k) acc.push_back(eb.CreateAlloca(val_ty(outs[k].type)));
  Status status;
  ++control_;
  loop_nest(outs[0].shape, [&](const Idx& oi) {
    for (size_t k = 0; k < n; ++k) b.CreateStore(at(in[n + k], {}), acc[k]);
    loop_nest(wdims, [&](const Idx& wi) {
      if (!status.ok()) return;
      Value* hole = b.getFalse();
      Idx src(rank);
      for (size_t d = 0; d < rank; ++d) {
        // p = o * stride + w * dilation - pad_lo, in the dilated, padded input.
        Value* p = b.CreateSub(b.CreateAdd(b.CreateMul(oi[d], b.getInt64(wstr[d])),
                                           b.CreateMul(wi[d], b.getInt64(wdil[d]))),
                               b.getInt64(pad[2 * d]));
        if (!may_hole[d]) {
          src[d] = p;
          continue;
        }
        Value* q = p;
        if (bdil[d] != 1) {
          hole =
              b.CreateOr(hole, b.CreateICmpNE(b.CreateSRem(p, b.getInt64(bdil[d])), b.getInt64(0)));
          q = b.CreateSDiv(p, b.getInt64(bdil[d]));
        }
        hole = b.CreateOr(hole, b.CreateICmpSLT(p, b.getInt64(0)));
        hole = b.CreateOr(hole, b.CreateICmpSGE(q, b.getInt64(in[0].shape[d])));
        // A clamped index keeps the load in bounds; the select discards it in a hole.
        Value* c = b.CreateSelect(b.CreateICmpSLT(q, b.getInt64(0)), b.getInt64(0), q);
        src[d] = b.CreateSelect(b.CreateICmpSGE(c, b.getInt64(in[0].shape[d])),
                                b.getInt64(std::max<int64_t>(0, in[0].shape[d] - 1)), c);
      }
      std::vector<Value*> xs;
      bool empty = in[0].size() == 0;
      for (size_t k = 0; k < n; ++k)
        xs.push_back(empty ? at(in[n + k], {})
                           : b.CreateSelect(hole, at(in[n + k], {}), at(in[k], src)));
      status = fold(op, "", scope, types, outs, acc, xs);
    });
    store_accumulators(outs, oi, acc);
  });
  --control_;
  TJ_TRY(status);
  return outs;
}

// ---- scatter, gather, sort ----

Expected<std::vector<TVal>> Lowerer::lower_scatter(const Op& op, std::vector<TVal> in,
                                                   const Scope& scope) {
  // Spec "scatter": inputs..., scatter_indices, updates... (N each); the body combines
  // (results..., updates...) element by element in row-major order of the updates;
  // out-of-bounds updates are skipped.
  if (in.size() < 3 || (in.size() - 1) % 2 != 0)
    return err(op, ErrorCode::kInvalidInput, "scatter operands");
  size_t n = (in.size() - 1) / 2;
  ScatterDims sd;
  if (!scatter_dims(op, sd) || op.regions.empty())
    return err(op, ErrorCode::kInvalidInput, "scatter without dimension numbers or body");
  const auto &uwd = sd.update_window, &iwd = sd.inserted_window;
  const auto &ibd = sd.input_batching, &sbd = sd.indices_batching, &sdod = sd.to_operand;
  int64_t ivd = sd.index_vector_dim;
  TVal idxs = stable(in[n]);
  std::vector<TVal> outs;
  std::vector<ElemType> types;
  for (size_t k = 0; k < n; ++k) {
    TVal o = new_buffer(in[k].type, in[k].shape);
    store_into(o, in[k]);
    outs.push_back(o);
    types.push_back(o.type);
  }
  for (size_t k = 0; k < n; ++k) types.push_back(in[n + 1 + k].type);
  const std::vector<int64_t>& ushape = in[n + 1].shape;
  size_t rank = outs[0].shape.size();
  std::vector<int64_t> scatter_dims = axes_except(ushape.size(), uwd);
  if (sdod.size() > rank || iwd.size() + ibd.size() + uwd.size() != rank)
    return err(op, ErrorCode::kInvalidInput, "scatter dimension numbers do not match the shapes");
  for (size_t k = 0; k < n; ++k) {
    TJ_TRY(shape_is(op, in[k].shape, in[0].shape, "an input"));
    TJ_TRY(shape_is(op, in[n + 1 + k].shape, ushape, "an update"));
  }
  for (int64_t d : sdod)
    if (d < 0 || d >= int64_t(rank)) return err(op, ErrorCode::kInvalidInput, "bad scatter dims");
  for (int64_t d : uwd)
    if (d < 0 || d >= int64_t(ushape.size()))
      return err(op, ErrorCode::kInvalidInput, "bad update_window_dims");
  {
    std::vector<int64_t> batch;
    for (int64_t d : scatter_dims) batch.push_back(ushape[size_t(d)]);
    TJ_TRY(check_indices(op, idxs, ivd, batch, sdod.size(), ibd, sbd, in[0].shape));
  }
  Status status;
  ++control_;
  loop_nest(ushape, [&](const Idx& ui) {
    if (!status.ok()) return;
    Idx usi;
    for (int64_t d : scatter_dims) usi.push_back(ui.at(size_t(d)));
    Idx ri(rank, b.getInt64(0));
    for (size_t j = 0; j < sdod.size(); ++j) {
      Value*& f = ri.at(size_t(sdod[j]));
      f = b.CreateAdd(f, index_component(idxs, ivd, usi, int64_t(j)));
    }
    add_batching(ri, ibd, sbd, ivd, usi);
    add_window(ri, iwd, ibd, uwd, ui);
    Value* inb = b.getTrue();
    for (size_t d = 0; d < rank; ++d)
      inb = b.CreateAnd(inb, b.CreateICmpULT(ri[d], b.getInt64(outs[0].shape[d])));
    auto* then = llvm::BasicBlock::Create(C, "scatter.in", fn_);
    auto* cont = llvm::BasicBlock::Create(C, "scatter.next", fn_);
    b.CreateCondBr(inb, then, cont);
    b.SetInsertPoint(then);
    Value* dst = linear(outs[0].shape, ri);
    std::vector<Value*> args;
    for (size_t k = 0; k < n; ++k) args.push_back(load_at(outs[k], dst));
    for (size_t k = 0; k < n; ++k) args.push_back(at(in[n + 1 + k], ui));
    auto res = body(op, "", scope, types, args);
    if (!res.ok()) {
      status = res.take_error();
    } else if (status = results_typed(op, *res, outs); status.ok()) {
      for (size_t k = 0; k < n && k < res->size(); ++k) store_at(outs[k], dst, (*res)[k]);
    }
    b.CreateBr(cont);
    b.SetInsertPoint(cont);
  });
  --control_;
  TJ_TRY(status);
  return outs;
}

Expected<TVal> Lowerer::lower_gather(const Op& op, std::vector<TVal> in) {
  if (in.size() != 2) return err(op, ErrorCode::kInvalidInput, "gather takes 2 operands");
  TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
  GatherDims gd;
  if (!gather_dims(op, gd))
    return err(op, ErrorCode::kInvalidInput, "gather without dimension_numbers");
  const auto &offset_dims = gd.offset_dims, &collapsed = gd.collapsed;
  const auto &obatch = gd.operand_batching, &sbatch = gd.indices_batching;
  const auto& start_map = gd.start_map;
  auto sizes = op_ints(op, "slice_sizes");
  int64_t ivd = gd.index_vector_dim;
  TVal x = stable(in[0]), idxs = stable(in[1]);
  size_t rank = x.shape.size();
  if (sizes.size() != rank || collapsed.size() + obatch.size() + offset_dims.size() != rank)
    return err(op, ErrorCode::kInvalidInput, "gather dimension numbers do not match the shapes");
  std::vector<int64_t> batch_dims = axes_except(r.shape.size(), offset_dims);
  {
    for (size_t d = 0; d < rank; ++d)
      if (sizes[d] < 0 || sizes[d] > x.shape[d])
        return err(op, ErrorCode::kInvalidInput, "slice_sizes exceed the operand");
    for (int64_t d : start_map)
      if (d < 0 || d >= int64_t(rank))
        return err(op, ErrorCode::kInvalidInput, "bad start_index_map");
    std::vector<int64_t> window = axes_except(rank, collapsed, obatch);
    if (window.size() != offset_dims.size())
      return err(op, ErrorCode::kInvalidInput, "offset_dims do not match the slice");
    for (size_t w = 0; w < window.size(); ++w) {
      int64_t od = offset_dims[w];
      if (od < 0 || od >= int64_t(r.shape.size()) || r.shape[size_t(od)] > sizes[size_t(window[w])])
        return err(op, ErrorCode::kInvalidInput,
                   "the result's offset dimensions exceed slice_sizes");
    }
    std::vector<int64_t> batch;
    for (int64_t d : batch_dims) batch.push_back(r.shape[size_t(d)]);
    TJ_TRY(check_indices(op, idxs, ivd, batch, start_map.size(), obatch, sbatch, x.shape));
    if (r.type != x.type) return err(op, ErrorCode::kInvalidInput, "result type differs");
  }
  r.gen = [=, this](const Idx& ri) {
    Idx batch;
    for (int64_t d : batch_dims) batch.push_back(ri.at(size_t(d)));
    Idx oi(rank, b.getInt64(0));
    for (size_t j = 0; j < start_map.size(); ++j) {
      size_t d = size_t(start_map[j]);
      Value* v = index_component(idxs, ivd, batch, int64_t(j));
      int64_t hi = std::max<int64_t>(0, x.shape[d] - sizes[d]);
      v = b.CreateSelect(b.CreateICmpSLT(v, b.getInt64(0)), b.getInt64(0), v);
      oi[d] = b.CreateSelect(b.CreateICmpSGT(v, b.getInt64(hi)), b.getInt64(hi), v);
    }
    add_batching(oi, obatch, sbatch, ivd, batch);
    add_window(oi, collapsed, obatch, offset_dims, ri);
    return at(x, oi);
  };
  return r;
}

// A stable insertion sort of every slice along `dim` of same-shaped buffers, in place:
// before(args) gets (lhs_0, rhs_0, lhs_1, rhs_1, ...) for the element at j and the one at
// j - 1 and says whether the element at j goes first (then they swap).
Status Lowerer::insertion_sort(
    const std::vector<TVal>& bufs, size_t dim,
    const std::function<Expected<Value*>(const std::vector<Value*>&)>& before) {
  std::vector<int64_t> outer = bufs[0].shape;
  int64_t len = outer[dim];
  outer[dim] = 1;
  if (len < 2) return {};
  llvm::IRBuilder<> eb(entry_term_);
  llvm::AllocaInst* jslot = eb.CreateAlloca(i64());
  Status status;
  loop_nest(outer, [&](const Idx& oi) {
    auto pos = [&](Value* j) {
      Idx at_ = oi;
      at_[dim] = j;
      return linear(bufs[0].shape, at_);
    };
    for_range(len - 1, [&](Value* i0) {
      if (!status.ok()) return;
      b.CreateStore(b.CreateAdd(i0, b.getInt64(1)), jslot);
      auto* check = llvm::BasicBlock::Create(C, "sort.check", fn_);
      auto* cmp = llvm::BasicBlock::Create(C, "sort.cmp", fn_);
      auto* swap = llvm::BasicBlock::Create(C, "sort.swap", fn_);
      auto* done = llvm::BasicBlock::Create(C, "sort.done", fn_);
      b.CreateBr(check);
      b.SetInsertPoint(check);
      Value* j = b.CreateLoad(i64(), jslot);
      b.CreateCondBr(b.CreateICmpSGT(j, b.getInt64(0)), cmp, done);
      b.SetInsertPoint(cmp);
      Value* jm1 = b.CreateSub(j, b.getInt64(1));
      Value *pj = pos(j), *pm = pos(jm1);
      std::vector<Value*> args;
      for (const TVal& o : bufs) {
        args.push_back(load_at(o, pj));
        args.push_back(load_at(o, pm));
      }
      auto first = before(args);
      if (!first.ok()) {
        status = first.take_error();
        b.CreateBr(done);
      } else {
        b.CreateCondBr(*first, swap, done);
      }
      b.SetInsertPoint(swap);
      for (size_t k = 0; k < bufs.size(); ++k) {
        store_at(bufs[k], pj, args[2 * k + 1]);
        store_at(bufs[k], pm, args[2 * k]);
      }
      b.CreateStore(jm1, jslot);
      b.CreateBr(check);
      b.SetInsertPoint(done);
    });
  });
  return status;
}

Expected<std::vector<TVal>> Lowerer::lower_top_k(const Op& op, std::vector<TVal> in) {
  // chlo.top_k: the k largest elements of each last-axis row, largest first, ties in index
  // order (a stable sort, descending; floats in IEEE total order, so NaN sorts first and
  // -0 < +0, as in the evaluator), with their indices.
  if (in.size() != 1 || op.result_types.size() != 2)
    return err(op, ErrorCode::kInvalidInput, "top_k takes one operand and has two results");
  TJ_ASSIGN_OR_RETURN(TVal vals, result_shape(op, 0));
  TJ_ASSIGN_OR_RETURN(TVal idxs, result_shape(op, 1));
  const TVal& x = in[0];
  if (x.shape.empty() || is_float(idxs.type) || vals.shape.size() != x.shape.size())
    return err(op, ErrorCode::kInvalidInput, "top_k needs a ranked operand and integer indices");
  {
    std::vector<int64_t> want = x.shape;
    want.back() = vals.shape.back();
    if (vals.shape.back() > x.shape.back() || vals.type != x.type)
      return err(op, ErrorCode::kInvalidInput, "top_k asks for more elements than a row has");
    TJ_TRY(shape_is(op, vals.shape, want, "the values result"));
    TJ_TRY(shape_is(op, idxs.shape, want, "the indices result"));
  }
  size_t last = x.shape.size() - 1;
  TVal keys = new_buffer(x.type, x.shape);
  store_into(keys, x);
  TVal pos = new_buffer(idxs.type, x.shape);
  ElemType it = idxs.type;
  loop_nest(x.shape, [&](const Idx& i) {
    store_at(pos, linear(x.shape, i), b.CreateTrunc(i[last], val_ty(it)));
  });
  ElemType t = x.type;
  TJ_TRY(insertion_sort({keys, pos}, last, [&](const std::vector<Value*>& a) -> Expected<Value*> {
    if (is_float(t)) return b.CreateICmpUGT(total_order_key(t, a[0]), total_order_key(t, a[1]));
    bool u = is_unsigned(t) || t == ElemType::kBool;
    return u ? b.CreateICmpUGT(a[0], a[1]) : b.CreateICmpSGT(a[0], a[1]);
  }));
  vals.gen = [this, keys](const Idx& i) { return at(keys, i); };
  idxs.gen = [this, pos](const Idx& i) { return at(pos, i); };
  return std::vector<TVal>{vals, idxs};
}

Expected<std::vector<TVal>> Lowerer::lower_sort(const Op& op, std::vector<TVal> in,
                                                const Scope& scope) {
  // Spec "sort": along `dimension`, the comparator gets (lhs_0, rhs_0, lhs_1, rhs_1, ...).
  // A stable insertion sort per slice: the comparator is the region, inlined.
  if (in.empty() || op.regions.empty()) return err(op, ErrorCode::kInvalidInput, "sort operands");
  int64_t rank = int64_t(in[0].shape.size());
  int64_t dim = 0;
  if (const Attr* a = op.attr("dimension")) dim = a->i;
  if (dim < 0) dim += rank;
  if (dim < 0 || dim >= rank) return err(op, ErrorCode::kInvalidInput, "bad sort dimension");
  std::vector<TVal> outs;
  std::vector<ElemType> types;
  for (const TVal& v : in) {
    TVal o = new_buffer(v.type, v.shape);
    store_into(o, v);
    outs.push_back(o);
    types.push_back(v.type);
    types.push_back(v.type);
  }
  std::vector<int64_t> outer = in[0].shape;
  int64_t len = outer.at(size_t(dim));
  outer.at(size_t(dim)) = 1;
  if (len < 2) return outs;
  ++control_;
  Status status = insertion_sort(outs, size_t(dim), [&](const std::vector<Value*>& args) {
    auto res = body(op, "", scope, types, args);
    if (res.ok() && res->empty())
      return Expected<Value*>(err(op, ErrorCode::kInvalidInput, "sort comparator returns nothing"));
    if (!res.ok()) return Expected<Value*>(res.take_error());
    if ((*res)[0]->getType() != b.getInt1Ty())
      return Expected<Value*>(err(op, ErrorCode::kInvalidInput, "the comparator must return i1"));
    return Expected<Value*>((*res)[0]);
  });
  --control_;
  TJ_TRY(status);
  return outs;
}

// ---- convolution ----

Expected<TVal> Lowerer::lower_convolution(const Op& op, TVal L, TVal K) {
  TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
  size_t rank = L.shape.size();
  if (rank < 2 || K.shape.size() != rank || r.shape.size() != rank)
    return err(op, ErrorCode::kInvalidInput, "convolution operands must have one rank >= 2");
  size_t ns = rank - 2;
  ConvDims cd;
  if (std::string why = conv_dims(op, rank, cd); !why.empty())
    return err(op, ErrorCode::kInvalidInput, why);
  const auto &li = cd.lay[0], &lk = cd.lay[1], &lo = cd.lay[2];
  int64_t chans = L.shape.at(size_t(li.feature)), NB = L.shape.at(size_t(li.batch));
  int64_t O = K.shape.at(size_t(lk.feature)), KC = K.shape.at(size_t(lk.batch));
  if (chans != KC * cd.fgc || O % cd.fgc != 0 || O % cd.bgc != 0 || NB % cd.bgc != 0)
    return err(op, ErrorCode::kInvalidInput,
               "convolution feature/batch group counts do not match the shapes");
  if (r.shape.at(size_t(lo.batch)) != NB / cd.bgc || r.shape.at(size_t(lo.feature)) != O ||
      L.type != K.type)
    return err(op, ErrorCode::kInvalidInput,
               "convolution result batch or feature size does not match the operands");
  for (size_t d = 0; d < ns; ++d)
    if (cd.stride[d] < 1 || cd.lhs_dil[d] < 1 || cd.rhs_dil[d] < 1)
      return err(op, ErrorCode::kInvalidInput, "convolution strides and dilations must be >= 1");
  L = stable(L);
  K = stable(K);
  TVal out = new_buffer(r.type, r.shape);
  std::vector<int64_t> kspatial(ns);
  for (size_t d = 0; d < ns; ++d) kspatial[d] = K.shape.at(size_t(lk.spatial.at(d)));

  // f32 NHWC x HWIO -> NHWC without dilation or groups (JAX's default layouts): im2col into
  // the arena, then one sgemm — the kernel is already the [KH*KW*C, O] matrix.
  bool nhwc = rank == 4 && li.batch == 0 && li.spatial == std::vector<int64_t>{1, 2} &&
              li.feature == 3 && lk.spatial == std::vector<int64_t>{0, 1} && lk.batch == 2 &&
              lk.feature == 3 && lo.batch == 0 && lo.spatial == std::vector<int64_t>{1, 2} &&
              lo.feature == 3;
  bool plain = cd.fgc == 1 && cd.bgc == 1;
  for (size_t d = 0; d < ns; ++d)
    plain = plain && cd.lhs_dil[d] == 1 && cd.rhs_dil[d] == 1 && cd.rev[d] == 0;
  int64_t m = r.size() / std::max<int64_t>(1, O), kk = nhwc ? kspatial[0] * kspatial[1] * chans : 0;
  if (nhwc && plain && r.type == ElemType::kF32 && L.type == ElemType::kF32 &&
      K.type == ElemType::kF32 && L.ptr && K.ptr && m * O * kk >= 32768) {
    Value* a = L.ptr;
    bool direct = kspatial[0] == 1 && kspatial[1] == 1 && cd.stride[0] == 1 && cd.stride[1] == 1 &&
                  cd.pad == std::vector<int64_t>{0, 0, 0, 0};
    if (!direct) {
      std::vector<int64_t> cols = {r.shape[0],  r.shape[1],  r.shape[2],
                                   kspatial[0], kspatial[1], chans};
      TVal xc = new_buffer(ElemType::kF32, cols);
      loop_nest(cols, [&](const Idx& i) {
        Value* valid = b.getTrue();
        Idx src = {i[0], nullptr, nullptr, i[5]};
        for (size_t d = 0; d < 2; ++d) {
          Value* p =
              b.CreateSub(b.CreateAdd(b.CreateMul(i[1 + d], b.getInt64(cd.stride[d])), i[3 + d]),
                          b.getInt64(cd.pad[2 * d]));
          int64_t hi = L.shape[1 + d];
          valid = b.CreateAnd(valid, b.CreateICmpULT(p, b.getInt64(hi)));
          // Clamped so the load stays in bounds; the select zeroes padding.
          Value* c = b.CreateSelect(b.CreateICmpSLT(p, b.getInt64(0)), b.getInt64(0), p);
          src[1 + d] = b.CreateSelect(b.CreateICmpSGE(c, b.getInt64(hi)), b.getInt64(hi - 1), c);
        }
        Value* v = b.CreateSelect(valid, at(L, src), llvm::ConstantFP::get(b.getFloatTy(), 0.0));
        store_at(xc, linear(cols, i), v);
      });
      a = xc.ptr;
      touch(xc.buf);
    }
    GemmCall g;
    g.m = m;
    g.n = O;
    g.k = kk;
    entry_->gemms.push_back(g);
    touch(L.buf);
    touch(K.buf);
    touch(out.buf);
    call("tj_shlo_sgemm", b.getVoidTy(),
         {ctx_, b.getInt64(g.m), b.getInt64(g.n), b.getInt64(g.k), b.getInt32(0), b.getInt32(0), a,
          K.ptr, out.ptr});
    return out;
  }

  // The direct formula (spec "convolution"), in the evaluator's order: kernel positions
  // row-major, then input channels.
  ElemType t = r.type;
  llvm::IRBuilder<> eb(entry_term_);
  llvm::AllocaInst* acc = eb.CreateAlloca(val_ty(t));
  int64_t per_fg = O / cd.fgc, per_bg = O / cd.bgc;
  loop_nest(out.shape, [&](const Idx& ri) {
    Value* bi = ri.at(size_t(lo.batch));
    Value* f = ri.at(size_t(lo.feature));
    Value* fg = b.CreateUDiv(f, b.getInt64(per_fg));
    Value* bg = b.CreateUDiv(f, b.getInt64(per_bg));
    Value* lb = b.CreateAdd(b.CreateMul(bg, b.getInt64(NB / cd.bgc)), bi);
    b.CreateStore(zero_of(t), acc);
    loop_nest(kspatial, [&](const Idx& kw) {
      Idx lidx(rank), kidx(rank);
      lidx.at(size_t(li.batch)) = lb;
      kidx.at(size_t(lk.feature)) = f;
      Value* valid = b.getTrue();
      for (size_t d = 0; d < ns; ++d) {
        Value* kd = cd.rev[d] ? b.CreateSub(b.getInt64(kspatial[d] - 1), kw[d]) : kw[d];
        Value* p = b.CreateSub(
            b.CreateAdd(b.CreateMul(ri.at(size_t(lo.spatial.at(d))), b.getInt64(cd.stride[d])),
                        b.CreateMul(kw[d], b.getInt64(cd.rhs_dil[d]))),
            b.getInt64(cd.pad[2 * d]));
        valid = b.CreateAnd(valid, b.CreateICmpSGE(p, b.getInt64(0)));
        if (cd.lhs_dil[d] != 1) {
          valid = b.CreateAnd(
              valid, b.CreateICmpEQ(b.CreateSRem(p, b.getInt64(cd.lhs_dil[d])), b.getInt64(0)));
          p = b.CreateSDiv(p, b.getInt64(cd.lhs_dil[d]));
        }
        valid = b.CreateAnd(valid,
                            b.CreateICmpSLT(p, b.getInt64(L.shape.at(size_t(li.spatial.at(d))))));
        lidx.at(size_t(li.spatial.at(d))) = p;
        kidx.at(size_t(lk.spatial.at(d))) = kd;
      }
      if (KC == 0) return;
      auto* then = llvm::BasicBlock::Create(C, "conv.in", fn_);
      auto* cont = llvm::BasicBlock::Create(C, "conv.next", fn_);
      b.CreateCondBr(valid, then, cont);
      b.SetInsertPoint(then);
      for_range(KC, [&](Value* c) {
        Idx l2 = lidx, k2 = kidx;
        l2.at(size_t(li.feature)) = b.CreateAdd(b.CreateMul(fg, b.getInt64(KC)), c);
        k2.at(size_t(lk.batch)) = c;
        Value* x = convert(L.type, t, at(L, l2));
        Value* y = convert(K.type, t, at(K, k2));
        b.CreateStore(mul_add(t, b.CreateLoad(val_ty(t), acc), x, y), acc);
      });
      b.CreateBr(cont);
      b.SetInsertPoint(cont);
    });
    store_at(out, linear(out.shape, ri), b.CreateLoad(val_ty(t), acc));
  });
  return out;
}

Expected<TVal> Lowerer::lower_select_and_scatter(const Op& op, std::vector<TVal> in,
                                                 const Scope& scope) {
  // Spec "select_and_scatter": per source element, the window element `select` prefers
  // (the first, replaced by each later one it does not prefer; padding never chosen) gets
  // the source combined into it with `scatter`; the result starts as init_value.
  if (in.size() != 3 || op.regions.size() != 2)
    return err(op, ErrorCode::kInvalidInput, "select_and_scatter operands/regions");
  if (in[2].type != in[0].type || in[2].size() != 1)
    return err(op, ErrorCode::kInvalidInput, "init_value must be a scalar of the operand's type");
  TVal x = stable(in[0]), src = in[1], init = scalarize(in[2]);
  size_t rank = x.shape.size();
  WindowAttrs w;
  if (!window_attrs(op, rank, w))
    return err(op, ErrorCode::kInvalidInput, "select_and_scatter attributes do not match the rank");
  const auto &wdims = w.dims, &wstr = w.strides, &pad = w.pad;
  TVal r = new_buffer(x.type, x.shape);
  loop_nest(r.shape, [&](const Idx& i) { store_at(r, linear(r.shape, i), at(init, {})); });
  llvm::IRBuilder<> eb(entry_term_);
  llvm::AllocaInst* chosen = eb.CreateAlloca(i64());
  std::vector<ElemType> sel_types = {x.type, x.type}, sc_types = {x.type, src.type};
  Status status;
  ++control_;
  loop_nest(src.shape, [&](const Idx& si) {
    if (!status.ok()) return;
    b.CreateStore(b.getInt64(-1), chosen);
    loop_nest(wdims, [&](const Idx& wi) {
      if (!status.ok()) return;
      Value* valid = b.getTrue();
      Idx p(rank);
      for (size_t d = 0; d < rank; ++d) {
        p[d] = b.CreateSub(b.CreateAdd(b.CreateMul(si[d], b.getInt64(wstr[d])), wi[d]),
                           b.getInt64(pad[2 * d]));
        valid = b.CreateAnd(valid, b.CreateICmpULT(p[d], b.getInt64(x.shape[d])));
      }
      auto* vbb = llvm::BasicBlock::Create(C, "sas.valid", fn_);
      auto* cmp = llvm::BasicBlock::Create(C, "sas.cmp", fn_);
      auto* set = llvm::BasicBlock::Create(C, "sas.set", fn_);
      auto* cont = llvm::BasicBlock::Create(C, "sas.next", fn_);
      b.CreateCondBr(valid, vbb, cont);
      b.SetInsertPoint(vbb);
      Value* here = linear(x.shape, p);
      Value* c = b.CreateLoad(i64(), chosen);
      b.CreateCondBr(b.CreateICmpSLT(c, b.getInt64(0)), set, cmp);
      b.SetInsertPoint(cmp);
      auto keep = body(op, "", scope, sel_types, {load_at(x, c), load_at(x, here)});
      if (keep.ok() && !keep->empty() && (*keep)[0]->getType() != b.getInt1Ty())
        keep = err(op, ErrorCode::kInvalidInput, "select must return i1");
      if (!keep.ok() || keep->empty()) {
        status = keep.ok() ? err(op, ErrorCode::kInvalidInput, "select returns nothing")
                           : keep.take_error();
        b.CreateBr(cont);
      } else {
        b.CreateCondBr((*keep)[0], cont, set);
      }
      b.SetInsertPoint(set);
      b.CreateStore(here, chosen);
      b.CreateBr(cont);
      b.SetInsertPoint(cont);
    });
    if (!status.ok()) return;
    auto* scat = llvm::BasicBlock::Create(C, "sas.scatter", fn_);
    auto* next = llvm::BasicBlock::Create(C, "sas.done", fn_);
    Value* c = b.CreateLoad(i64(), chosen);
    b.CreateCondBr(b.CreateICmpSGE(c, b.getInt64(0)), scat, next);
    b.SetInsertPoint(scat);
    Op second = op;  // the scatter region as the body
    second.regions = {op.regions[1]};
    auto v = body(second, "", scope, sc_types, {load_at(r, c), at(src, si)});
    if (v.ok()) {
      if (Status t = results_typed(op, *v, {r}); !t.ok()) v = t.error();
    }
    if (!v.ok() || v->empty()) {
      status =
          v.ok() ? err(op, ErrorCode::kInvalidInput, "scatter returns nothing") : v.take_error();
    } else {
      store_at(r, c, (*v)[0]);
    }
    b.CreateBr(next);
    b.SetInsertPoint(next);
  });
  --control_;
  TJ_TRY(status);
  return r;
}

// ---- dot_general ----

Expected<TVal> Lowerer::lower_dot(const Op& op, TVal L, TVal R) {
  TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
  auto [lb, rb, lc, rc] = dot_dims(op, L.shape.size());
  auto lf = axes_except(L.shape.size(), lb, lc), rf = axes_except(R.shape.size(), rb, rc);
  if (lb.size() != rb.size() || lc.size() != rc.size() ||
      r.shape.size() != lb.size() + lf.size() + rf.size())
    return err(op, ErrorCode::kInvalidInput, "dot dimension numbers do not match the shapes");
  {
    std::vector<int64_t> want;
    for (size_t a = 0; a < lb.size(); ++a) {
      if (L.shape.at(size_t(lb[a])) != R.shape.at(size_t(rb[a])))
        return err(op, ErrorCode::kInvalidInput, "batching dimensions differ in size");
      want.push_back(L.shape.at(size_t(lb[a])));
    }
    for (size_t a = 0; a < lc.size(); ++a)
      if (L.shape.at(size_t(lc[a])) != R.shape.at(size_t(rc[a])))
        return err(op, ErrorCode::kInvalidInput, "contracting dimensions differ in size");
    for (int64_t d : lf) want.push_back(L.shape.at(size_t(d)));
    for (int64_t d : rf) want.push_back(R.shape.at(size_t(d)));
    TJ_TRY(shape_is(op, r.shape, want, "the result"));
  }
  L = stable(L);
  R = stable(R);
  TVal out = new_buffer(r.type, r.shape);
  // f32 with enough work: the tensor kernels' sgemm (rank-2 operands, one contraction).
  int64_t work = r.size();
  for (int64_t d : lc) work *= L.shape.at(size_t(d));
  bool f32 = r.type == ElemType::kF32 && L.type == ElemType::kF32 && R.type == ElemType::kF32;
  bool mat = lb.empty() && L.shape.size() == 2 && R.shape.size() == 2 && lc.size() == 1;
  if (f32 && mat && work >= 32768 && lc[0] == 1 && rc[0] == 0 && L.shape[0] <= 4) {
    // A few rows (batch 1 inference): row-vector times matrix as axpy sweeps over the rows of
    // R, which LLVM vectorizes along N; no packing, and each output is summed over k in
    // order, exactly as the evaluator does.
    int64_t m = L.shape[0], k = L.shape[1], n = R.shape[1];
    loop_nest({m, n}, [&](const Idx& i) {
      store_at(out, linear(out.shape, i), llvm::ConstantFP::get(b.getFloatTy(), 0.0));
    });
    loop_nest({m, k}, [&](const Idx& mk) {
      Value* x = at(L, mk);
      for_range(n, [&](Value* j) {
        Value* o = linear(out.shape, {mk[0], j});
        Value* y = at(R, {mk[1], j});
        store_at(out, o, b.CreateFAdd(load_at(out, o), b.CreateFMul(x, y)));
      });
    });
    return out;
  }
  if (f32 && mat && work >= 32768 && L.ptr && R.ptr) {
    GemmCall g;
    g.trans_a = lc[0] == 0;
    g.trans_b = rc[0] == 1;
    g.m = L.shape.at(size_t(1 - lc[0]));
    g.k = L.shape.at(size_t(lc.at(0)));
    g.n = R.shape.at(size_t(1 - rc[0]));
    entry_->gemms.push_back(g);
    touch(L.buf);
    touch(R.buf);
    touch(out.buf);
    call("tj_shlo_sgemm", b.getVoidTy(),
         {ctx_, b.getInt64(g.m), b.getInt64(g.n), b.getInt64(g.k), b.getInt32(g.trans_a),
          b.getInt32(g.trans_b), L.ptr, R.ptr, out.ptr});
    return out;
  }
  // The general case, in the evaluator's order: products rounded to the result type, summed
  // one by one in it.
  std::vector<int64_t> cshape;
  for (int64_t d : lc) cshape.push_back(L.shape.at(size_t(d)));
  llvm::IRBuilder<> eb(entry_term_);
  llvm::AllocaInst* acc = eb.CreateAlloca(val_ty(r.type));
  ElemType t = r.type;
  loop_nest(out.shape, [&](const Idx& oi) {
    b.CreateStore(zero_of(t), acc);
    loop_nest(cshape, [&](const Idx& ci) {
      Idx li(L.shape.size()), ri(R.shape.size());
      size_t p = 0;
      for (size_t a = 0; a < lb.size(); ++a, ++p)
        li.at(size_t(lb.at(a))) = ri.at(size_t(rb.at(a))) = oi[p];
      for (int64_t d : lf) li.at(size_t(d)) = oi[p++];
      for (int64_t d : rf) ri.at(size_t(d)) = oi[p++];
      for (size_t a = 0; a < lc.size(); ++a)
        li.at(size_t(lc.at(a))) = ri.at(size_t(rc.at(a))) = ci[a];
      Value* x = convert(L.type, t, at(L, li));
      Value* y = convert(R.type, t, at(R, ri));
      b.CreateStore(mul_add(t, b.CreateLoad(val_ty(t), acc), x, y), acc);
    });
    store_at(out, linear(out.shape, oi), b.CreateLoad(val_ty(t), acc));
  });
  return out;
}

// ---- control flow ----

Expected<std::vector<TVal>> Lowerer::lower_while(const Op& op, std::vector<TVal> in,
                                                 const Scope& scope) {
  if (op.regions.size() != 2)
    return err(op, ErrorCode::kInvalidInput, "while needs cond and body regions");
  std::vector<TVal> state;
  for (const TVal& v : in) {
    TVal s = new_buffer(v.type, v.shape);
    store_into(s, v);
    state.push_back(s);
  }
  loops_.push_back(LoopMark{seq_, {}});
  ++control_;
  auto* cond_bb = llvm::BasicBlock::Create(C, "while.cond", fn_);
  auto* body_bb = llvm::BasicBlock::Create(C, "while.body", fn_);
  auto* exit_bb = llvm::BasicBlock::Create(C, "while.end", fn_);
  b.CreateBr(cond_bb);
  b.SetInsertPoint(cond_bb);
  Status status;
  auto c = lower_region(op.regions[0], state, scope, op.bound_names);
  if (!c.ok()) status = c.take_error();
  if (status.ok() && (c->size() != 1 || (*c)[0].type != ElemType::kBool))
    status = err(op, ErrorCode::kInvalidInput, "while condition must return tensor<i1>");
  if (status.ok()) {
    b.CreateCondBr(at((*c)[0], {}), body_bb, exit_bb);
    b.SetInsertPoint(body_bb);
    auto r = lower_region(op.regions[1], state, scope, op.bound_names);
    if (!r.ok()) status = r.take_error();
    if (status.ok() && r->size() != state.size())
      status = err(op, ErrorCode::kInvalidInput, "while body returns the wrong number of values");
    if (status.ok()) {
      // New values first (they may read the old state), then the state update.
      std::vector<TVal> next;
      for (size_t k = 0; k < state.size(); ++k) {
        const TVal& v = (*r)[k];
        bool other_state = false;
        for (size_t j = 0; j < state.size(); ++j) other_state |= j != k && v.ptr == state[j].ptr;
        if (v.ptr == state[k].ptr) {
          next.push_back(v);
        } else if (other_state) {  // (a, b) -> (b, a): copy before either is overwritten
          TVal tmp = new_buffer(v.type, v.shape);
          store_into(tmp, v);
          next.push_back(tmp);
        } else {
          next.push_back(stable(v));
        }
      }
      for (size_t k = 0; k < state.size(); ++k)
        if (next[k].ptr != state[k].ptr) store_into(state[k], next[k]);
      b.CreateBr(cond_bb);
    }
  }
  if (!status.ok()) {
    // Leave the function well formed for the error path.
    if (!b.GetInsertBlock()->getTerminator()) b.CreateBr(exit_bb);
  }
  b.SetInsertPoint(exit_bb);
  --control_;
  ++seq_;
  LoopMark mark = std::move(loops_.back());
  loops_.pop_back();
  for (int buf : mark.touched) {
    Buf& x = bufs_.at(size_t(buf));
    if (x.first <= mark.start) x.last = std::max(x.last, seq_);
  }
  TJ_TRY(status);
  return state;
}

Expected<std::vector<TVal>> Lowerer::lower_branches(const Op& op, const TVal& sel,
                                                    const Scope& scope) {
  bool is_if = strip(op.name) == "if";
  if (op.regions.empty() || (is_if && op.regions.size() != 2))
    return err(op, ErrorCode::kInvalidInput, "if needs two regions, case at least one");
  std::vector<TVal> outs;
  for (size_t k = 0; k < op.result_types.size(); ++k) {
    TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, k));
    outs.push_back(new_buffer(r.type, r.shape));
  }
  auto* done = llvm::BasicBlock::Create(C, "branch.end", fn_);
  std::vector<llvm::BasicBlock*> arms;
  for (size_t k = 0; k < op.regions.size(); ++k)
    arms.push_back(llvm::BasicBlock::Create(C, "branch", fn_));
  Value* s = sel.scalar;
  if (is_if) {
    b.CreateCondBr(s, arms[0], arms[1]);
  } else {  // out-of-range indices select the last region (spec "case")
    auto* sw = b.CreateSwitch(to_i64(sel.type, s), arms.back(), unsigned(arms.size()));
    for (size_t k = 0; k + 1 < arms.size(); ++k) sw->addCase(b.getInt64(int64_t(k)), arms[k]);
  }
  ++control_;
  Status status;
  for (size_t k = 0; k < arms.size(); ++k) {
    b.SetInsertPoint(arms[k]);
    auto r = lower_region(op.regions[k], {}, scope);
    if (!r.ok()) {
      status = r.take_error();
    } else if (r->size() != outs.size()) {
      status = err(op, ErrorCode::kInvalidInput, "a branch returns the wrong number of values");
    } else {
      for (size_t j = 0; j < outs.size(); ++j) store_into(outs[j], (*r)[j]);
    }
    b.CreateBr(done);
    if (!status.ok()) break;
  }
  --control_;
  for (llvm::BasicBlock* bb : arms)
    if (!bb->getTerminator()) {
      b.SetInsertPoint(bb);
      b.CreateBr(done);
    }
  b.SetInsertPoint(done);
  TJ_TRY(status);
  return outs;
}

// ---- entries ----

// run_parallel as the evaluator runs it (collectives.hpp), at compile time: the scheduler
// decides the order, and the programs' ops are emitted in that order into the one function,
// each under its own replica and partition ids.
Expected<std::vector<TVal>> Lowerer::lower_run_parallel(const Op& op, std::vector<TVal> in) {
  if (in_parallel_) return not_lowered(op, "run_parallel inside run_parallel");
  TJ_ASSIGN_OR_RETURN(ParallelSetup ps, parallel_setup(op, mod_, in.size(), file_));
  std::vector<ParallelProgram>& programs = ps.programs;
  std::vector<Scope> scopes(programs.size());
  for (size_t p = 0; p < programs.size(); ++p) {
    const Func* f = programs[p].func;
    for (size_t k = ps.operands[p].first; k < ps.operands[p].second; ++k)
      scopes[p].vals[f->args.at(k - ps.operands[p].first).first] = {in.at(k)};
    auto [it, fresh] = use_maps_.try_emplace(f);
    if (fresh) count_uses(f->body, it->second);
  }
  std::vector<std::vector<TVal>> results(programs.size());
  const auto* saved_uses = uses_;
  auto enter = [&](size_t p) {
    replica_ = programs[p].replica, partition_ = programs[p].partition;
    uses_ = &use_maps_.at(programs[p].func);
  };
  ParallelHooks hooks;
  hooks.step = [&](size_t p, const Op& o) -> Status {
    enter(p);
    return lower_one(o, scopes[p]);
  };
  hooks.finish = [&](size_t p, const Op& ret) -> Status {
    enter(p);
    TJ_ASSIGN_OR_RETURN(std::vector<TVal> vals, operands_of(ret, scopes[p]));
    for (const TVal& x : vals)
      results[p].push_back(x.is_tuple ? x : stable(x));  // computed under the program's ids
    return {};
  };
  hooks.collective = [&](const std::vector<size_t>& members,
                         const std::vector<const Op*>& ops) -> Status {
    std::vector<std::vector<TVal>> operands(members.size());
    std::vector<int64_t> group;
    for (size_t j = 0; j < members.size(); ++j) {
      group.push_back(int64_t(members[j]));
      TJ_ASSIGN_OR_RETURN(operands[j], operands_of(*ops[j], scopes[members[j]]));
    }
    ++seq_;
    TJ_ASSIGN_OR_RETURN(auto res, lower_collective(group, ops, operands, scopes[members[0]]));
    for (size_t j = 0; j < members.size(); ++j) {
      enter(members[j]);
      bind(*ops[j], scopes[members[j]], std::move(res[j]));
    }
    return {};
  };
  grid_ = ps.grid, in_parallel_ = true;
  mail_.reset(std::move(ps.infeed));
  Status st = run_lockstep(op, programs, ps.grid, file_, hooks);
  grid_ = Grid{}, in_parallel_ = false;
  mail_.reset({});
  replica_ = partition_ = 0;
  uses_ = saved_uses;
  current_ = &op;
  TJ_TRY(st);
  std::vector<TVal> out;
  for (auto& r : results)
    for (auto& v : r) out.push_back(std::move(v));
  return out;
}

// Tokens and data in and out of programs, as the evaluator defines them: messages and infeed
// values are known at compile time (the schedule is), so they are plain values here.
Expected<std::vector<TVal>> Lowerer::lower_distribution(const Op& op, const std::string& n,
                                                        std::vector<TVal> in, const Scope& scope) {
  if (n == "after_all" || n == "create_token" || n == "outfeed") return std::vector<TVal>{token()};
  if (n == "send") {
    if (!in.empty() && in.back().is_tuple) in.pop_back();
    for (TVal& v : in) {
      if (v.is_tuple) return not_lowered(op, "a tuple message");
      v = stable(v);
    }
    mail_.channels[channel_id(op)].push_back(std::move(in));
    return std::vector<TVal>{token()};
  }
  if (n == "recv" || n == "infeed") {
    std::vector<TVal> got;
    if (n == "recv") {
      TJ_ASSIGN_OR_RETURN(got, mail_.recv(op, file_));
    } else {
      TJ_ASSIGN_OR_RETURN(std::string fn, mail_.next_infeed(op, file_));
      TJ_ASSIGN_OR_RETURN(got, inline_call(op, fn, {}));
      current_ = &op;
    }
    std::vector<Type> want = op.result_types;
    if (!want.empty() && want.back().kind == Type::Kind::kOther) want.pop_back();
    if (got.size() != want.size())
      return err(op, ErrorCode::kInvalidInput,
                 "receives " + std::to_string(got.size()) + " values, declares " +
                     std::to_string(want.size()));
    for (size_t k = 0; k < want.size(); ++k) {
      TJ_ASSIGN_OR_RETURN(TVal t, result_shape(op, k));
      if (got[k].is_tuple || t.type != got[k].type || t.shape != got[k].shape)
        return err(op, ErrorCode::kInvalidInput,
                   "received a value of another type than result type " + want[k].text);
    }
    got.push_back(token());
    return got;
  }
  if (in_parallel_)
    return not_lowered(op,
                       "a collective inside a region or a called function of a "
                       "run_parallel program (only in the program's body)");
  TJ_ASSIGN_OR_RETURN(auto res, lower_collective({0}, {&op}, {std::move(in)}, scope));
  return std::move(res.at(0));
}

Expected<std::vector<std::vector<TVal>>> Lowerer::lower_collective(
    const std::vector<int64_t>& group, const std::vector<const Op*>& ops,
    const std::vector<std::vector<TVal>>& operands, const Scope& scope) {
  std::vector<std::vector<TVal>> out(group.size());
  for (size_t me = 0; me < group.size(); ++me) {
    const Op& op = *ops[me];
    current_ = &op;
    std::vector<std::vector<int64_t>> result_shapes;
    std::vector<TVal> results;
    for (size_t k = 0; k < op.result_types.size(); ++k) {
      TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, k));
      result_shapes.push_back(r.shape);
      results.push_back(std::move(r));
    }
    std::vector<std::vector<OperandType>> types(operands.size());
    for (size_t m = 0; m < operands.size(); ++m)
      for (const TVal& t : operands[m]) types[m].push_back({!t.is_tuple, t.type, t.shape});
    TJ_ASSIGN_OR_RETURN(CollectivePlan plan,
                        plan_collective(op, group, me, grid_, types, result_shapes, file_));
    for (size_t k = 0; k < plan.results.size(); ++k) {
      const CollectivePlan::Result& pr = plan.results[k];
      const TVal& want = results.at(k);
      if (want.type != operands[me].at(k).type)
        return err(op, ErrorCode::kInvalidInput, "result and operand element types differ");
      auto src_idx = [&](const BlockCopy& c, const Idx& idx) {
        Idx src(idx.size());
        for (size_t a = 0; a < idx.size(); ++a)
          src[a] = c.src_start[a] == 0 ? idx[a] : b.CreateAdd(idx[a], b.getInt64(c.src_start[a]));
        return src;
      };
      if (pr.kind == CollectivePlan::Kind::kDynamicRoot) {  // select by the root at run time
        TVal root = operands[me].back();
        std::vector<TVal> cands;
        for (const BlockCopy& c : pr.parts) cands.push_back(operands.at(c.member).at(k));
        TVal r = want;
        int64_t which = int64_t(k);
        r.gen = [this, root, cands, which](const Idx& idx) {
          Value* m = b.CreateSExtOrTrunc(at(root, {b.getInt64(which)}), i64());
          Value* v = at(cands.back(), idx);
          for (size_t c = cands.size() - 1; c-- > 0;)
            v = b.CreateSelect(b.CreateICmpEQ(m, b.getInt64(int64_t(c))), at(cands[c], idx), v);
          return v;
        };
        out[me].push_back(std::move(r));
        continue;
      }
      if (pr.kind == CollectivePlan::Kind::kCopy && pr.parts.size() == 1 &&
          pr.parts[0].shape == want.shape &&
          pr.parts[0].src_start == std::vector<int64_t>(want.shape.size(), 0)) {
        out[me].push_back(operands.at(pr.parts[0].member).at(pr.parts[0].operand));
        continue;  // the whole operand of one member (permute, broadcast)
      }
      TVal r = new_buffer(want.type, want.shape);
      Status status;
      ++control_;
      if (pr.kind == CollectivePlan::Kind::kCopy) {
        int64_t covered = 0;
        for (const BlockCopy& c : pr.parts) {
          int64_t e = 1;
          for (int64_t d : c.shape) e *= d;
          covered += e;
        }
        if (covered != r.size())  // zeros where no block lands
          loop_nest(r.shape, [&](const Idx& idx) {
            store_at(r, linear(r.shape, idx), llvm::Constant::getNullValue(val_ty(r.type)));
          });
        for (const BlockCopy& c : pr.parts) {
          const TVal& x = operands.at(c.member).at(c.operand);
          loop_nest(c.shape, [&](const Idx& idx) {
            Idx dst(idx.size());
            for (size_t a = 0; a < idx.size(); ++a)
              dst[a] =
                  c.dst_start[a] == 0 ? idx[a] : b.CreateAdd(idx[a], b.getInt64(c.dst_start[a]));
            store_at(r, linear(r.shape, dst), at(x, src_idx(c, idx)));
          });
        }
      } else {  // fold body(acc, x) over the members in group order, like the evaluator
        loop_nest(r.shape, [&](const Idx& idx) {
          const BlockCopy& c0 = pr.parts.at(0);
          Value* acc = at(operands.at(c0.member).at(c0.operand), src_idx(c0, idx));
          for (size_t m = 1; m < pr.parts.size() && status.ok(); ++m) {
            const BlockCopy& c = pr.parts[m];
            Value* x = at(operands.at(c.member).at(c.operand), src_idx(c, idx));
            auto v = body(op, "", scope, {r.type, r.type}, {acc, x});
            if (!v.ok()) {
              status = v.take_error();
              return;
            }
            if (v->size() != 1) {
              status = err(op, ErrorCode::kInvalidInput, "the body must return one value");
              return;
            }
            acc = v->at(0);
          }
          store_at(r, linear(r.shape, idx), acc);
        });
      }
      --control_;
      TJ_TRY(status);
      out[me].push_back(std::move(r));
    }
  }
  return out;
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

}  // namespace

namespace {
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
