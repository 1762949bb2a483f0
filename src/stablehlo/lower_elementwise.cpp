// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The lowering's elementwise ops (ops.def families kUnary, kUnaryOther, kBinary and
// kElementwise): element arithmetic in LLVM IR computing what the evaluator computes, and
// generators that fuse into their consumers.
#include <array>
#include <cmath>

#include "stablehlo/lower_impl.hpp"

namespace tierjit::shlo::lower_impl {

namespace {

// The C library (or runtime helper) function computing a unary op in double, or null.
const char* libm_name(OpCode code) {
  switch (code) {
    case OpCode::kCbrt:
      return "cbrt";
    case OpCode::kExponential:
      return "exp";
    case OpCode::kExponentialMinusOne:
      return "expm1";
    case OpCode::kLog:
      return "log";
    case OpCode::kLogPlusOne:
      return "log1p";
    case OpCode::kSine:
      return "sin";
    case OpCode::kCosine:
      return "cos";
    case OpCode::kTan:
      return "tan";
    case OpCode::kTanh:
      return "tanh";
    case OpCode::kSinh:
      return "sinh";
    case OpCode::kCosh:
      return "cosh";
    case OpCode::kAsin:
      return "asin";
    case OpCode::kAcos:
      return "acos";
    case OpCode::kAtan:
      return "atan";
    case OpCode::kAsinh:
      return "asinh";
    case OpCode::kAcosh:
      return "acosh";
    case OpCode::kAtanh:
      return "atanh";
    case OpCode::kErf:
      return "erf";
    case OpCode::kErfc:
      return "erfc";
    case OpCode::kLgamma:
      return "lgamma";
    case OpCode::kDigamma:
      return "tj_shlo_digamma";
    case OpCode::kErfInv:
      return "tj_shlo_erf_inv";
    case OpCode::kBesselI1e:
      return "tj_shlo_bessel_i1e";
    default:
      return nullptr;
  }
}

}  // namespace

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

Expected<Value*> Lowerer::complex_unary_op(const Op& op, OpCode code, ElemType t, Value* z) {
  ElemType part = component(t);
  switch (code) {
    case OpCode::kNegate:
      return b.CreateFNeg(z);
    case OpCode::kReal:
      return re(z);
    case OpCode::kImag:
      return im(z);
    case OpCode::kAbs:  // the magnitude, of the part type
      return libm("hypot", part, {re(z), im(z)});
    default:
      if (complex_unary(code) == nullptr)
        return not_lowered(op, std::string(op_short_name(code)) + " on complex numbers");
      return complex_call("tj_shlo_complex_unary", code, t, {z});
  }
}

Expected<Value*> Lowerer::complex_binary_op(const Op& op, OpCode code, ElemType t, Value* x,
                                            Value* y) {
  switch (code) {
    case OpCode::kAdd:  // exact in the part type, as in double then rounded
      return b.CreateFAdd(x, y);
    case OpCode::kSubtract:
      return b.CreateFSub(x, y);
    case OpCode::kMultiply:
      return complex_mul(t, x, y);
    default: {
      Cplx v;
      if (!complex_binary(code, Cplx(0, 0), Cplx(1, 0), v))
        return not_lowered(op, std::string(op_short_name(code)) + " on complex numbers");
      return complex_call("tj_shlo_complex_binary", code, t, {x, y});
    }
  }
}

Expected<Value*> Lowerer::unary(const Op& op, OpCode code, ElemType t, Value* x) {
  if (is_complex(t)) return complex_unary_op(op, code, t, x);
  if (!is_fp(t)) {
    if (code == OpCode::kNegate) return b.CreateNeg(x);
    if (code == OpCode::kAbs)
      return is_unsigned(t) || t == ElemType::kBool
                 ? x
                 : b.CreateSelect(b.CreateICmpSLT(x, iconst(t, 0)), b.CreateNeg(x), x);
    if (code == OpCode::kSign) {
      if (is_unsigned(t) || t == ElemType::kBool)
        return b.CreateZExt(b.CreateICmpNE(x, iconst(t, 0)), val_ty(t));
      Value* pos = b.CreateZExt(b.CreateICmpSGT(x, iconst(t, 0)), val_ty(t));
      Value* neg = b.CreateZExt(b.CreateICmpSLT(x, iconst(t, 0)), val_ty(t));
      return b.CreateSub(pos, neg);
    }
    if (code == OpCode::kNot) return b.CreateNot(x);
    if (code == OpCode::kPopcnt) return b.CreateUnaryIntrinsic(llvm::Intrinsic::ctpop, x);
    if (code == OpCode::kCountLeadingZeros)
      return b.CreateBinaryIntrinsic(llvm::Intrinsic::ctlz, x, b.getFalse());
    return not_lowered(op, std::string(op_short_name(code)) + " on integers");
  }
  auto fun = [&](llvm::Intrinsic::ID id) { return b.CreateUnaryIntrinsic(id, x); };
  if (code == OpCode::kNegate) return b.CreateFNeg(x);
  if (code == OpCode::kAbs) return fun(llvm::Intrinsic::fabs);
  if (code == OpCode::kSqrt) return round16(t, fun(llvm::Intrinsic::sqrt));
  if (code == OpCode::kFloor) return fun(llvm::Intrinsic::floor);
  if (code == OpCode::kCeil) return fun(llvm::Intrinsic::ceil);
  if (code == OpCode::kRoundNearestAfz) return fun(llvm::Intrinsic::round);
  if (code == OpCode::kRoundNearestEven) return fun(llvm::Intrinsic::roundeven);
  if (code == OpCode::kIsFinite)
    return b.CreateFCmpOLT(fun(llvm::Intrinsic::fabs), llvm::ConstantFP::getInfinity(x->getType()));
  if (code == OpCode::kSign) {
    Value* one = llvm::ConstantFP::get(x->getType(), 1.0);
    Value* s = b.CreateSelect(b.CreateFCmpOGT(x, llvm::ConstantFP::get(x->getType(), 0.0)), one,
                              b.CreateFNeg(one));
    // NaN and +-0 are returned as they are.
    Value* keep = b.CreateFCmpUEQ(x, llvm::ConstantFP::get(x->getType(), 0.0));
    return b.CreateSelect(keep, x, s);
  }
  if (code == OpCode::kRsqrt) {
    Value* d = to_double(t, x);
    Value* s = b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, d);
    return from_double(t, b.CreateFDiv(llvm::ConstantFP::get(b.getDoubleTy(), 1.0), s));
  }
  if (code == OpCode::kLogistic) {
    Value* d = to_double(t, x);
    Value* e = libm_double("exp", t, {b.CreateFNeg(d)});
    Value* one = llvm::ConstantFP::get(b.getDoubleTy(), 1.0);
    return from_double(t, b.CreateFDiv(one, b.CreateFAdd(one, e)));
  }
  if ((code == OpCode::kCosh || code == OpCode::kSinh) && op.name.rfind("chlo.", 0) == 0 &&
      t == ElemType::kF32) {
    // JAX's f32 decomposition, as the evaluator computes it (see eval_elementwise.cpp).
    auto expf = [&](Value* v) { return call("expf", b.getFloatTy(), {v}); };
    Value* lh = llvm::ConstantFP::get(b.getFloatTy(), double(std::log(0.5f)));
    Value* a = expf(b.CreateFAdd(x, lh));
    Value* c = expf(b.CreateFAdd(b.CreateFNeg(x), lh));
    if (code == OpCode::kCosh) return b.CreateFAdd(a, c);
    Value* big =
        b.CreateFCmpOGE(fun(llvm::Intrinsic::fabs), llvm::ConstantFP::get(x->getType(), 1.0));
    Value* e = call("expm1f", b.getFloatTy(), {x});
    Value* small = b.CreateFMul(
        b.CreateFAdd(e, b.CreateFDiv(e, b.CreateFAdd(e, llvm::ConstantFP::get(x->getType(), 1.0)))),
        llvm::ConstantFP::get(x->getType(), 0.5));
    return b.CreateSelect(big, b.CreateFSub(a, c), small);
  }
  if (const char* fn = libm_name(code)) return libm(fn, t, {x});
  if (code == OpCode::kReal) return x;
  if (code == OpCode::kImag) return llvm::ConstantFP::get(x->getType(), 0.0);
  return not_lowered(op, std::string(op_short_name(code)));
}

Expected<Value*> Lowerer::binary(const Op& op, OpCode code, ElemType t, Value* x, Value* y) {
  if (is_complex(t)) return complex_binary_op(op, code, t, x, y);
  if (is_fp(t)) {
    if (code == OpCode::kAdd) return round16(t, b.CreateFAdd(x, y));
    if (code == OpCode::kSubtract) return round16(t, b.CreateFSub(x, y));
    if (code == OpCode::kMultiply) return round16(t, b.CreateFMul(x, y));
    if (code == OpCode::kDivide) return round16(t, b.CreateFDiv(x, y));
    if (code == OpCode::kRemainder) return b.CreateFRem(x, y);  // exact: no rounding
    if (code == OpCode::kMaximum) return b.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, x, y);
    if (code == OpCode::kMinimum) return b.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, x, y);
    if (code == OpCode::kPower) return libm("pow", t, {x, y});
    if (code == OpCode::kAtan2) return libm("atan2", t, {x, y});
    if (code == OpCode::kNextAfter) {
      Value* d = call("tj_shlo_next_after", b.getDoubleTy(),
                      {b.getInt32(int32_t(t)), to_double(t, x), to_double(t, y)});
      return t == ElemType::kF64 ? d : b.CreateFPTrunc(d, b.getFloatTy());
    }
    return not_lowered(op, std::string(op_short_name(code)) + " on floats");
  }
  unsigned w = unsigned(bit_width(t));
  bool u = is_unsigned(t) || t == ElemType::kBool;
  Value* zero = iconst(t, 0);
  if (code == OpCode::kAdd)  // on i1: logical or (spec, add)
    return t == ElemType::kBool ? b.CreateOr(x, y) : b.CreateAdd(x, y);
  if (code == OpCode::kSubtract) return b.CreateSub(x, y);
  if (code == OpCode::kMultiply) return b.CreateMul(x, y);
  if (code == OpCode::kAnd) return b.CreateAnd(x, y);
  if (code == OpCode::kOr) return b.CreateOr(x, y);
  if (code == OpCode::kXor) return b.CreateXor(x, y);
  if (code == OpCode::kMaximum) return b.CreateSelect(b.CreateICmp(lt(t), x, y), y, x);
  if (code == OpCode::kMinimum) return b.CreateSelect(b.CreateICmp(lt(t), x, y), x, y);
  if (code == OpCode::kDivide || code == OpCode::kRemainder) {
    // x / 0 = -1 and x % 0 = x; signed x / -1 = -x and x % -1 = 0 (no overflow trap).
    Value* by0 = b.CreateICmpEQ(y, zero);
    Value* bym1 = u ? b.getFalse() : b.CreateICmpEQ(y, iconst(t, -1));
    Value* safe = b.CreateSelect(b.CreateOr(by0, bym1), iconst(t, 1), y);
    bool div = code == OpCode::kDivide;
    Value* q = div ? (u ? b.CreateUDiv(x, safe) : b.CreateSDiv(x, safe))
                   : (u ? b.CreateURem(x, safe) : b.CreateSRem(x, safe));
    Value* at_m1 = div ? b.CreateNeg(x) : zero;
    Value* at_0 = div ? iconst(t, -1) : x;
    return b.CreateSelect(by0, at_0, b.CreateSelect(bym1, at_m1, q));
  }
  if (code == OpCode::kShiftLeft || code == OpCode::kShiftRightLogical ||
      code == OpCode::kShiftRightArithmetic) {
    Value* big = b.CreateICmpUGE(y, iconst(t, int64_t(w)));
    Value* amt = b.CreateSelect(big, zero, y);
    if (code == OpCode::kShiftLeft) return b.CreateSelect(big, zero, b.CreateShl(x, amt));
    if (code == OpCode::kShiftRightLogical) return b.CreateSelect(big, zero, b.CreateLShr(x, amt));
    Value* fill = b.CreateSelect(b.CreateICmpSLT(x, zero), iconst(t, -1), zero);
    return b.CreateSelect(big, fill, b.CreateAShr(x, amt));
  }
  if (code == OpCode::kPower) {
    Value* r = call("tj_shlo_ipow", i64(), {b.getInt32(int32_t(t)), to_i64(t, x), to_i64(t, y)});
    return b.CreateTrunc(r, val_ty(t));
  }
  return not_lowered(op, std::string(op_short_name(code)) + " on integers");
}

Value* Lowerer::convert(ElemType from, ElemType to, Value* x) {
  if (from == to) return x;
  if (is_complex(to)) {  // a real operand's imaginary part is 0
    ElemType part = component(to);
    if (is_complex(from))
      return make_complex(to, convert(component(from), part, re(x)),
                          convert(component(from), part, im(x)));
    return make_complex(to, convert(from, part, x), fconst(part, 0.0));
  }
  if (is_complex(from)) return convert(component(from), to, re(x));  // the real part
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

// ---- ops ----

// Unary elementwise ops (the result type is the operand's, except is_finite's i1).
Expected<std::vector<TVal>> Lowerer::lower_unary_op(const Op& op, TVals& in) {
  const OpCode code = op.code;
  if (in.size() != 1) return not_lowered(op, "this operation");
  TVal x = in[0], r = in[0];
  r.ptr = nullptr, r.scalar = nullptr, r.buf = -1;
  if (code == OpCode::kIsFinite) {
    if (!is_float(x.type)) return err(op, ErrorCode::kInvalidInput, "is_finite needs floats");
    r.type = ElemType::kBool;
  }
  if (is_complex(x.type) &&
      (code == OpCode::kAbs || code == OpCode::kReal || code == OpCode::kImag))
    r.type = component(x.type);  // a part, or the magnitude
  TJ_TRY(try_emit([&](Value* u) { return unary(op, code, x.type, u); }, x.type));
  const Op* o = &op;
  ElemType r_type = r.type;
  r.gen = [this, x, code, o, r_type](const Idx& idx) -> Value* {
    auto v = unary(*o, code, x.type, at(x, idx));
    return v.ok() ? *v : llvm::UndefValue::get(val_ty(r_type));
  };
  return one(std::move(r));
}

Expected<std::vector<TVal>> Lowerer::lower_binary_op(const Op& op, TVals& in) {
  const OpCode code = op.code;
  TJ_TRY(need(op, in, 2));
  TVal x = in[0], y = in[1], r = in[0];
  if (x.shape != y.shape || x.type != y.type)
    return err(op, ErrorCode::kInvalidInput, "operand shapes or types differ");
  r.ptr = nullptr, r.scalar = nullptr, r.buf = -1;
  const Op* o = &op;
  r.gen = [this, x, y, code, o](const Idx& idx) -> Value* {
    auto v = binary(*o, code, x.type, at(x, idx), at(y, idx));
    return v.ok() ? *v : llvm::UndefValue::get(val_ty(x.type));
  };
  TJ_TRY(try_emit([&](Value* u) { return binary(op, code, x.type, u, u); }, x.type));
  return one(std::move(r));
}

Expected<std::vector<TVal>> Lowerer::lower_elementwise(const Op& op, TVals& in) {
  switch (op.code) {
    case OpCode::kCompare:
      return lower_compare(op, in);
    case OpCode::kClamp:
      return lower_clamp(op, in);
    case OpCode::kReducePrecision:
      return lower_reduce_precision(op, in);
    case OpCode::kSelect: {
      TJ_TRY(need(op, in, 3));
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
    case OpCode::kComplex: {
      TJ_TRY(need(op, in, 2));
      TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
      TVal x = in[0], y = in[1];
      TJ_TRY(shape_is(op, y.shape, x.shape, "rhs"));
      TJ_TRY(shape_is(op, r.shape, x.shape, "the result"));
      if (!is_complex(r.type) || x.type != y.type || component(r.type) != x.type)
        return err(op, ErrorCode::kInvalidInput,
                   "takes two f32 or f64 tensors of one type to complex<that type>");
      ElemType t = r.type;
      r.gen = [this, x, y, t](const Idx& idx) { return make_complex(t, at(x, idx), at(y, idx)); };
      return one(std::move(r));
    }
    case OpCode::kConvert: {
      TJ_TRY(need(op, in, 1));
      TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
      TVal x = in[0];
      TJ_TRY(shape_is(op, r.shape, x.shape, "the result"));
      ElemType to = r.type;
      r.gen = [this, x, to](const Idx& idx) { return convert(x.type, to, at(x, idx)); };
      return one(std::move(r));
    }
    default:
      return not_lowered(op, "this operation");
  }
}

Expected<std::vector<TVal>> Lowerer::lower_clamp(const Op& op, TVals& in) {
  TJ_TRY(need(op, in, 3));
  if (is_complex(in[1].type))
    return err(op, ErrorCode::kInvalidInput, "clamp takes no complex operands (spec C4)");
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

Expected<std::vector<TVal>> Lowerer::lower_compare(const Op& op, TVals& in) {
  TJ_TRY(need(op, in, 2));
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
    if (is_complex(x.type)) {  // lexicographic (real, imaginary); NaN parts are unordered
      Value *ar = re(a), *ai = im(a), *cr = re(c), *ci = im(c);
      Value* ord = b.CreateAnd(b.CreateFCmpORD(ar, cr), b.CreateFCmpORD(ai, ci));
      Value* eq = b.CreateAnd(b.CreateFCmpOEQ(ar, cr), b.CreateFCmpOEQ(ai, ci));
      Value* lt = b.CreateAnd(
          ord, b.CreateOr(b.CreateFCmpOLT(ar, cr),
                          b.CreateAnd(b.CreateFCmpOEQ(ar, cr), b.CreateFCmpOLT(ai, ci))));
      Value* gt = b.CreateAnd(
          ord, b.CreateOr(b.CreateFCmpOGT(ar, cr),
                          b.CreateAnd(b.CreateFCmpOEQ(ar, cr), b.CreateFCmpOGT(ai, ci))));
      switch (preds[0]) {
        case llvm::CmpInst::FCMP_OEQ:
          return eq;
        case llvm::CmpInst::FCMP_UNE:
          return b.CreateNot(eq);
        case llvm::CmpInst::FCMP_OLT:
          return lt;
        case llvm::CmpInst::FCMP_OLE:
          return b.CreateOr(lt, eq);
        case llvm::CmpInst::FCMP_OGT:
          return gt;
        default:
          return b.CreateOr(gt, eq);
      }
    }
    if (is_float(x.type) && total) {
      return b.CreateICmp(preds[2], total_order_key(x.type, a), total_order_key(x.type, c));
    }
    if (is_float(x.type)) return b.CreateFCmp(preds[0], a, c);
    bool u = is_unsigned(x.type) || x.type == ElemType::kBool;
    return b.CreateICmp(preds[u ? 2 : 1], a, c);
  };
  return one(std::move(r));
}

Expected<std::vector<TVal>> Lowerer::lower_reduce_precision(const Op& op, TVals& in) {
  TJ_TRY(need(op, in, 1));
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

}  // namespace tierjit::shlo::lower_impl
