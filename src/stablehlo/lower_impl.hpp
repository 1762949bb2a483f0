// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The lowering's internals (see lower.hpp), shared by its files: tensor values while lowering
// (TVal: stored, a register, or an elemental generator), scopes, and the Lowerer with its
// buffers, loops and element arithmetic. lower.cpp lowers entries and blocks and dispatches
// each op by its family (ops.def) to the files that implement the families:
// lower_elementwise.cpp, lower_data.cpp, lower_reduce.cpp, lower_linalg.cpp and
// lower_control.cpp.
#pragma once

#include <llvm/IR/BasicBlock.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "stablehlo/attrs.hpp"
#include "stablehlo/collectives.hpp"
#include "stablehlo/lower.hpp"
#include "stablehlo/semantics.hpp"

namespace tierjit::shlo::lower_impl {

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

/// Counts the uses of every value named in `r` (nested regions included).
void count_uses(const Region& r, std::map<std::string, int>& uses);

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
  bool long_loop_made_ = false;  // a loop of 64 or more trips was emitted (see for_range)
  int control_ = 0;              // nesting of loops/branches/bodies (checks are refused inside)
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
      case ElemType::kI2:
      case ElemType::kI4:
      case ElemType::kU2:
      case ElemType::kU4:
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
      case ElemType::kC64:  // (real, imaginary) as a two-lane vector
        return llvm::FixedVectorType::get(b.getFloatTy(), 2);
      case ElemType::kC128:
        return llvm::FixedVectorType::get(b.getDoubleTy(), 2);
      default:  // the small floats: their bits, one per byte
        return b.getInt8Ty();
    }
  }
  llvm::Type* val_ty(ElemType t) {
    if (t == ElemType::kBool) return b.getInt1Ty();
    // f16, bf16 and the small floats are computed in float (exact for their values).
    if (t == ElemType::kF16 || t == ElemType::kBF16 || is_small_float(t)) return b.getFloatTy();
    if (bit_width(t) < 8) return b.getIntNTy(unsigned(bit_width(t)));  // i2, i4: LLVM wraps
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
    // Complex elements are aligned as their parts (a caller's complex128 array may be 8-aligned).
    Value* x = is_complex(v.type)
                   ? b.CreateAlignedLoad(mem_ty(v.type), p, llvm::Align(elem_bytes(v.type) / 2))
                   : b.CreateLoad(mem_ty(v.type), p);
    switch (v.type) {
      case ElemType::kBool:
      case ElemType::kI2:
      case ElemType::kI4:
      case ElemType::kU2:
      case ElemType::kU4:
        return b.CreateTrunc(x, val_ty(v.type));
      case ElemType::kF16:
        return b.CreateFPExt(x, b.getFloatTy());
      case ElemType::kBF16:
        return b.CreateBitCast(b.CreateShl(b.CreateZExt(x, b.getInt32Ty()), 16), b.getFloatTy());
      default:
        return is_small_float(v.type) ? from_bits(v.type, x) : x;
    }
  }
  void store_at(const TVal& v, Value* lin, Value* x) {
    touch(v.buf);
    switch (v.type) {
      case ElemType::kBool:
      case ElemType::kU2:
      case ElemType::kU4:
        x = b.CreateZExt(x, b.getInt8Ty());
        break;
      case ElemType::kI2:
      case ElemType::kI4:
        x = b.CreateSExt(x, b.getInt8Ty());
        break;
      case ElemType::kF16:
        x = b.CreateFPTrunc(x, b.getHalfTy());
        break;
      case ElemType::kBF16:
        x = b.CreateTrunc(b.CreateLShr(b.CreateBitCast(x, b.getInt32Ty()), 16), b.getInt16Ty());
        break;
      default:
        if (is_small_float(v.type)) x = b.CreateZExt(to_bits(v.type, x), b.getInt8Ty());
        break;
    }
    Value* p = b.CreateInBoundsGEP(mem_ty(v.type), v.ptr, lin);
    if (is_complex(v.type)) {
      b.CreateAlignedStore(x, p, llvm::Align(elem_bytes(v.type) / 2));
    } else {
      b.CreateStore(x, p);
    }
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
    bool long_before = long_loop_made_;
    long_loop_made_ = false;
    body(i);
    bool long_inside = long_loop_made_;  // the nest holds a loop the vectorizer widens
    long_loop_made_ = long_before || long_inside || n >= 64;
    Value* next = b.CreateAdd(i, b.getInt64(1), "", true, true);
    i->addIncoming(next, b.GetInsertBlock());
    auto* latch = b.CreateCondBr(b.CreateICmpULT(next, b.getInt64(n)), head, exit);
    bool nest = loops_made_ != loops_before;
    if ((nest && (n > 4 || long_inside)) || n >= 64) {
      // An outer loop: unrolling it would copy whole inner loop nests (compile time for
      // little gain). A long inner loop is still vectorized and interleaved (64 elements an
      // iteration at 16 lanes x 4); unrolling the vector loop on top only multiplies code
      // (measured on the MLP at batch 1: compile 30-37 -> 14 ms, run time unchanged). Short
      // inner loops (windows, kernel taps, channels) stay free to be unrolled, and so do short
      // outer loops around short ones (pooling windows, kernel taps: a 1.5-2x faster CNN); a short
      // outer loop around a long, vectorized one (a batch of 4 around a layer norm's rows) is
      // not: its copies cost compile time (BERT layer at batch 4: 156 -> 59 ms) for no gain.
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

  // The bit string of a register value of type t, as an integer of bit_width(t) bits, and
  // back (f16/bf16 values are held in float: their bits are those of the stored form).
  Value* to_bits(ElemType t, Value* v) {
    switch (t) {
      case ElemType::kF16:
        return b.CreateBitCast(b.CreateFPTrunc(v, b.getHalfTy()), b.getInt16Ty());
      case ElemType::kBF16:
        return b.CreateTrunc(b.CreateLShr(b.CreateBitCast(v, b.getInt32Ty()), 16), b.getInt16Ty());
      case ElemType::kF32:
        return b.CreateBitCast(v, b.getInt32Ty());
      case ElemType::kF64:
        return b.CreateBitCast(v, b.getInt64Ty());
      default:
        if (is_small_float(t)) {  // encoded by the evaluator's code (tensor.cpp)
          Value* bits =
              call("tj_shlo_small_bits", i64(), {b.getInt32(int32_t(t)), to_double(t, v)});
          return b.CreateTrunc(bits, b.getIntNTy(unsigned(bit_width(t))));
        }
        return v;  // integers and i1 are their bits
    }
  }
  Value* from_bits(ElemType t, Value* bits) {
    switch (t) {
      case ElemType::kF16:
        return b.CreateFPExt(b.CreateBitCast(bits, b.getHalfTy()), b.getFloatTy());
      case ElemType::kBF16:
        return b.CreateBitCast(b.CreateShl(b.CreateZExt(bits, b.getInt32Ty()), 16), b.getFloatTy());
      case ElemType::kF32:
        return b.CreateBitCast(bits, b.getFloatTy());
      case ElemType::kF64:
        return b.CreateBitCast(bits, b.getDoubleTy());
      default:
        if (is_small_float(t)) {
          Value* d = call("tj_shlo_small_value", b.getDoubleTy(),
                          {b.getInt32(int32_t(t)), b.CreateZExt(bits, i64())});
          return b.CreateFPTrunc(d, b.getFloatTy());
        }
        return bits;
    }
  }

  // ---- element arithmetic ----
  bool is_fp(ElemType t) const { return is_float(t); }
  // A float result of an op on f16/bf16 values (held in float), rounded to the type; the
  // small floats through the evaluator's rounding.
  Value* round16(ElemType t, Value* x) {
    if (is_small_float(t)) return from_double(t, to_double(t, x));
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
      // The C library's math and the value helpers take and return values only; a helper
      // given a pointer (sgemm, conv2d_nhwc, fft, probe, ...) reads or writes through it.
      bool pure = !ret->isVoidTy();
      for (llvm::Type* t : tys) pure = pure && !t->isPointerTy();
      if (pure) fn->setDoesNotAccessMemory();
    }
    return b.CreateCall(f, args);
  }
  // A C library function computed in double and rounded to t. For types narrower than f64 the
  // loop vectorizer may call glibc's vector variant instead (backend/vector_math.hpp: a few
  // ulp in double, which rounding to f32 or less almost never shows); f64 keeps the scalar
  // function, so it matches the evaluator bit for bit.
  Value* libm(const char* name, ElemType t, std::vector<Value*> xs) {
    std::vector<Value*> ds;
    for (Value* x : xs) ds.push_back(to_double(t, x));
    return from_double(t, libm_double(name, t, ds));
  }
  // The same call on double arguments, for an element type t.
  Value* libm_double(const char* name, ElemType t, std::vector<Value*> ds) {
    Value* r = call(name, b.getDoubleTy(), std::move(ds));
    if (t == ElemType::kF64 || is_complex(t))
      llvm::cast<llvm::CallInst>(r)->addFnAttr(llvm::Attribute::NoBuiltin);
    return r;
  }
  Value* fconst(ElemType t, double v) { return llvm::ConstantFP::get(val_ty(t), v); }
  // Element k of a known tensor as a constant of its value type.
  Value* elem_const(const Tensor& t, size_t k) {
    if (t.complex()) {
      llvm::Type* part = val_ty(component(t.type));
      return llvm::ConstantVector::get(
          {llvm::ConstantFP::get(part, t.f.at(k)), llvm::ConstantFP::get(part, t.im.at(k))});
    }
    return t.floating() ? fconst(t.type, t.f.at(k)) : iconst(t.type, t.i.at(k));
  }
  // ---- complex values: (real, imaginary) in a two-lane vector of the part type ----
  Value* re(Value* z) { return b.CreateExtractElement(z, uint64_t(0)); }
  Value* im(Value* z) { return b.CreateExtractElement(z, uint64_t(1)); }
  Value* make_complex(ElemType t, Value* r, Value* i) {
    Value* z = llvm::PoisonValue::get(val_ty(t));
    return b.CreateInsertElement(b.CreateInsertElement(z, r, uint64_t(0)), i, uint64_t(1));
  }
  // A runtime helper computing one complex op in double (semantics.hpp), its result rounded
  // to t's parts: both paths agree bit for bit.
  Value* complex_call(const char* helper, OpCode code, ElemType t, std::vector<Value*> zs) {
    ElemType part = component(t);
    std::vector<Value*> args{b.getInt32(int32_t(code))};
    for (Value* z : zs) {
      args.push_back(to_double(part, re(z)));
      args.push_back(to_double(part, im(z)));
    }
    Value* r = call(helper, llvm::StructType::get(C, {b.getDoubleTy(), b.getDoubleTy()}), args);
    return make_complex(t, from_double(part, b.CreateExtractValue(r, 0)),
                        from_double(part, b.CreateExtractValue(r, 1)));
  }
  // x * y as (ac - bd) + (ad + bc)i in double (semantics.hpp complex_mul), rounded to t's
  // parts.
  Value* complex_mul(ElemType t, Value* x, Value* y) {
    ElemType part = component(t);
    Value *a = to_double(part, re(x)), *bb = to_double(part, im(x));
    Value *c = to_double(part, re(y)), *d = to_double(part, im(y));
    Value* r = b.CreateFSub(b.CreateFMul(a, c), b.CreateFMul(bb, d));
    Value* i = b.CreateFAdd(b.CreateFMul(a, d), b.CreateFMul(bb, c));
    return make_complex(t, from_double(part, r), from_double(part, i));
  }
  Expected<Value*> complex_unary_op(const Op& op, OpCode code, ElemType t, Value* z);
  Expected<Value*> complex_binary_op(const Op& op, OpCode code, ElemType t, Value* x, Value* y);
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
  Expected<Value*> unary(const Op& op, OpCode code, ElemType t, Value* x);
  Expected<Value*> binary(const Op& op, OpCode code, ElemType t, Value* x, Value* y);
  Value* convert(ElemType from, ElemType to, Value* x);
  Value* total_order_key(ElemType t, Value* x);

  // ---- ops: lower_op dispatches by family (ops.def) to the files of the families ----
  using TVals = std::vector<TVal>;
  Expected<std::vector<TVal>> lower_block(const Block& blk, Scope& scope);
  Expected<std::vector<TVal>> lower_op(const Op& op, Scope& scope);
  Status need(const Op& op, const TVals& in, size_t count) const {
    if (in.size() == count) return {};
    return err(op, ErrorCode::kInvalidInput,
               "takes " + std::to_string(count) + " operands, got " + std::to_string(in.size()));
  }
  static TVals one(TVal v) { return TVals{std::move(v)}; }
  // lower_elementwise.cpp
  Expected<TVals> lower_unary_op(const Op& op, TVals& in);
  Expected<TVals> lower_binary_op(const Op& op, TVals& in);
  Expected<TVals> lower_elementwise(const Op& op, TVals& in);
  Expected<TVals> lower_clamp(const Op& op, TVals& in);
  Expected<TVals> lower_compare(const Op& op, TVals& in);
  Expected<TVals> lower_reduce_precision(const Op& op, TVals& in);
  // lower_data.cpp
  Expected<TVals> lower_data(const Op& op, TVals& in);
  Expected<TVals> lower_dynamic(const Op& op, TVals& in, Scope& scope);
  Expected<TVals> lower_iota(const Op& op);
  Expected<TVals> lower_bitcast_convert(const Op& op, TVals& in);
  Expected<TVals> bitcast_bits(const TVal& in, TVal r);
  Expected<TVals> lower_broadcast_in_dim(const Op& op, TVals& in);
  Expected<TVals> lower_transpose(const Op& op, TVals& in);
  Expected<TVals> lower_slice(const Op& op, TVals& in);
  Expected<TVals> lower_reverse(const Op& op, TVals& in);
  Expected<TVals> lower_concatenate(const Op& op, TVals& in);
  Expected<TVals> lower_pad(const Op& op, TVals& in);
  Expected<TVals> lower_dynamic_slice(const Op& op, TVals& in);
  Expected<TVals> lower_dynamic_update_slice(const Op& op, TVals& in);
  Expected<TVals> lower_get_tuple_element(const Op& op, TVals& in);
  // lower_reduce.cpp
  Expected<TVals> lower_reduction(const Op& op, TVals& in, const Scope& scope);
  Expected<TVals> lower_map(const Op& op, TVals& in, const Scope& scope);
  // lower_linalg.cpp
  Expected<TVals> lower_linalg(const Op& op, TVals& in);
  // lower_control.cpp
  Expected<TVals> lower_control(const Op& op, TVals& in, Scope& scope);
  Expected<TVals> lower_custom_call(const Op& op, TVals& in);
  Expected<TVals> lower_probe(const Op& op, TVals& in);
  Expected<TVals> lower_process_id(const Op& op);
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
  Expected<TVal> lower_fft(const Op& op, TVal x);
  // C[m x n] = op(A) op(B) through the tensor kernels' sgemm (row-major f32; g's shape is
  // recorded by the caller in entry_->gemms, so its kernel is made before the first run).
  void call_sgemm(const GemmCall& g, Value* a, Value* x, Value* c) {
    call("tj_shlo_sgemm", b.getVoidTy(),
         {ctx_, b.getInt64(g.m), b.getInt64(g.n), b.getInt64(g.k), b.getInt32(g.trans_a),
          b.getInt32(g.trans_b), a, x, c});
  }
  Expected<TVal> lower_triangular_solve(const Op& op, TVal a, TVal x);
  Expected<std::vector<TVal>> lower_scatter(const Op& op, std::vector<TVal> in, const Scope& scope);
  Expected<TVal> lower_gather(const Op& op, std::vector<TVal> in);
  Expected<TVal> lower_convolution(const Op& op, TVal L, TVal K);
  Expected<TVal> lower_select_and_scatter(const Op& op, std::vector<TVal> in, const Scope& scope);
  // acc = acc + x * y in type t, each step rounded as the evaluator does.
  Value* mul_add(ElemType t, Value* acc, Value* x, Value* y) {
    if (is_complex(t)) return b.CreateFAdd(acc, complex_mul(t, x, y));
    if (is_float(t)) return round16(t, b.CreateFAdd(acc, round16(t, b.CreateFMul(x, y))));
    if (t == ElemType::kBool) return b.CreateOr(acc, b.CreateAnd(x, y));
    return b.CreateAdd(acc, b.CreateMul(x, y));
  }
  Value* zero_of(ElemType t) {
    return is_float(t) || is_complex(t) ? static_cast<Value*>(llvm::ConstantFP::get(val_ty(t), 0.0))
                                        : iconst(t, 0);
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
  Expected<std::vector<TVal>> lower_distribution(const Op& op, std::vector<TVal> in,
                                                 const Scope& scope);
  Expected<std::vector<std::vector<TVal>>> lower_collective(
      const std::vector<int64_t>& group, const std::vector<const Op*>& ops,
      const std::vector<std::vector<TVal>>& operands, const Scope& scope);
  Expected<TVal> lower_constant(const Op& op);
  void plan_arena();
};

}  // namespace tierjit::shlo::lower_impl
