// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The lowering's linear algebra (ops.def family kLinalg): dot_general (the tensor kernels'
// sgemm for large f32 matrices, else loops in the evaluator's order) and convolution (the
// tensor kernels' conv2d_nhwc or im2col and sgemm for f32 NHWC x HWIO, else the direct formula).
#include <algorithm>

#include "stablehlo/fft.hpp"
#include "stablehlo/lower_impl.hpp"

namespace tierjit::shlo::lower_impl {

// The im2col block of a convolution (columns for a few output image rows), small enough to
// stay in a core's L2 for the sgemm that reads it right after it is written (ResNet block,
// 56x56x64: whole-image columns 4.6 ms, 1 MB blocks 3.0 ms, 256-512 KB 2.2 ms, 128 KB 2.5 ms).
constexpr int64_t kIm2colBytes = 1 << 19;

Expected<std::vector<TVal>> Lowerer::lower_linalg(const Op& op, TVals& in) {
  switch (op.code) {
    case OpCode::kDot:
    case OpCode::kDotGeneral: {
      TJ_TRY(need(op, in, 2));
      TJ_ASSIGN_OR_RETURN(TVal r, lower_dot(op, in[0], in[1]));
      return one(std::move(r));
    }
    case OpCode::kConvolution: {
      TJ_TRY(need(op, in, 2));
      TJ_ASSIGN_OR_RETURN(TVal r, lower_convolution(op, in[0], in[1]));
      return one(std::move(r));
    }
    case OpCode::kFft: {
      TJ_TRY(need(op, in, 1));
      TJ_ASSIGN_OR_RETURN(TVal r, lower_fft(op, in[0]));
      return one(std::move(r));
    }
    case OpCode::kTriangularSolve: {
      TJ_TRY(need(op, in, 2));
      TJ_ASSIGN_OR_RETURN(TVal r, lower_triangular_solve(op, in[0], in[1]));
      return one(std::move(r));
    }
    default:
      return not_lowered(op, "this operation");
  }
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

  // f32 NHWC x HWIO -> NHWC without dilation or groups (JAX's default layouts): the kernel is
  // already the [KH*KW*C, O] matrix of an im2col + sgemm.
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
    touch(L.buf);
    touch(K.buf);
    touch(out.buf);
    // Symmetric padding (SAME at stride 1, VALID): the tensor kernels' conv2d_nhwc, which
    // picks Winograd's F(4x4, 3x3) or im2col + sgemm by shape.
    if (cd.pad[0] == cd.pad[1] && cd.pad[2] == cd.pad[3] && cd.pad[0] >= 0 && cd.pad[2] >= 0) {
      ConvCall c;
      c.n = L.shape[0], c.h = L.shape[1], c.w = L.shape[2], c.c = chans, c.k = O;
      c.r = kspatial[0], c.s = kspatial[1];
      c.stride_h = cd.stride[0], c.stride_w = cd.stride[1], c.pad_h = cd.pad[0],
      c.pad_w = cd.pad[2];
      entry_->convs.push_back(c);
      call("tj_shlo_conv2d_nhwc", b.getVoidTy(),
           {ctx_, b.getInt64(int64_t(entry_->convs.size() - 1)), L.ptr, K.ptr, out.ptr});
      return out;
    }
    // Asymmetric padding (SAME at stride 2): im2col block by block in the generated code, a
    // few output image rows at a time (at most kIm2colBytes of columns, kept in cache for the
    // sgemm that reads them right after), one sgemm each.
    int64_t oh = r.shape[1], ow = r.shape[2];
    int64_t hb = 1;
    for (int64_t d = 1; d <= oh; ++d)
      if (oh % d == 0 && d * ow * kk * 4 <= kIm2colBytes) hb = d;
    GemmCall g;
    g.m = hb * ow;
    g.n = O;
    g.k = kk;
    entry_->gemms.push_back(g);
    std::vector<int64_t> cols = {hb, ow, kspatial[0], kspatial[1], chans};
    TVal xc = new_buffer(ElemType::kF32, cols);
    for_range(r.shape[0] * (oh / hb), [&](Value* blk) {
      Value* n = b.CreateUDiv(blk, b.getInt64(oh / hb));
      Value* h0 = b.CreateMul(b.CreateURem(blk, b.getInt64(oh / hb)), b.getInt64(hb));
      loop_nest(cols, [&](const Idx& i) {
        Value* valid = b.getTrue();
        Idx src = {n, nullptr, nullptr, i[4]};
        Idx o = {b.CreateAdd(h0, i[0]), i[1]};
        for (size_t d = 0; d < 2; ++d) {
          Value* p = b.CreateSub(b.CreateAdd(b.CreateMul(o[d], b.getInt64(cd.stride[d])), i[2 + d]),
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
      touch(xc.buf);
      Value* dst =
          b.CreateInBoundsGEP(b.getFloatTy(), out.ptr, b.CreateMul(blk, b.getInt64(g.m * O)));
      call_sgemm(g, xc.ptr, K.ptr, dst);
    });
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

// ---- fft: the transforms are a runtime helper's (fft.hpp), as the evaluator computes them ----

Expected<TVal> Lowerer::lower_fft(const Op& op, TVal x) {
  TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
  FftSpec spec;
  if (std::string why =
          fft_spec(op, x.shape, is_complex(x.type), r.shape, is_complex(r.type), spec);
      !why.empty())
    return err(op, ErrorCode::kInvalidInput, why);
  if (!(is_float(x.type) || is_complex(x.type)) || component(x.type) != component(r.type) ||
      (component(x.type) != ElemType::kF32 && component(x.type) != ElemType::kF64))
    return err(op, ErrorCode::kInvalidInput,
               "fft takes f32, f64 or complex parts of one of them (C2, C3)");
  TVal out = new_buffer(r.type, r.shape);
  if (r.size() == 0) return out;
  x = materialize(x);
  touch(x.buf);
  touch(out.buf);
  std::vector<int64_t> n = spec.length;
  n.resize(3, 1);
  call("tj_shlo_fft", b.getVoidTy(),
       {b.getInt32(int32_t(spec.type)), b.getInt32(int32_t(x.type)), b.getInt32(int32_t(r.type)),
        b.getInt64(int64_t(spec.length.size())), b.getInt64(n[0]), b.getInt64(n[1]),
        b.getInt64(n[2]), b.getInt64(spec.batch), x.ptr, out.ptr});
  return out;
}

// ---- triangular_solve: a runtime helper running the evaluator's substitution ----

Expected<TVal> Lowerer::lower_triangular_solve(const Op& op, TVal a, TVal x) {
  TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
  size_t rank = a.shape.size();
  if (!(is_float(a.type) || is_complex(a.type)) || a.type != x.type || r.type != x.type ||
      rank < 2 || x.shape.size() != rank || r.shape != x.shape ||
      a.shape[rank - 1] != a.shape[rank - 2])
    return err(op, ErrorCode::kInvalidInput,
               "triangular_solve needs float or complex a[..., m, m] and b of the result's "
               "shape and type");
  for (size_t d = 0; d + 2 < rank; ++d)
    if (a.shape[d] != x.shape[d])
      return err(op, ErrorCode::kInvalidInput, "a and b differ in a batch dimension");
  auto flag = [&](const char* k) {
    const Attr* v = op.attr(k);
    return v && v->b;
  };
  bool left = flag("left_side");
  if (x.shape[left ? rank - 2 : rank - 1] != a.shape[rank - 1])
    return err(op, ErrorCode::kInvalidInput, "b's solved dimension does not match a");
  const Attr* ta = op.attr("transpose_a");
  bool trans = ta && ta->source.find("NO_TRANSPOSE") == std::string::npos &&
               (ta->source.find("TRANSPOSE") != std::string::npos ||
                ta->source.find("ADJOINT") != std::string::npos);
  bool conj = trans && ta->source.find("ADJOINT") != std::string::npos;
  int32_t flags = (left ? 1 : 0) | (flag("lower") ? 2 : 0) | (flag("unit_diagonal") ? 4 : 0) |
                  (trans ? 8 : 0) | (conj ? 16 : 0);
  TVal out = new_buffer(r.type, r.shape);
  if (r.size() == 0) return out;
  a = materialize(a);
  x = materialize(x);
  // Both shapes go to the helper through the constant pool.
  size_t off = (pool_.size() + 63) / 64 * 64;
  pool_.resize(off);
  for (const auto* dims : {&a.shape, &x.shape})
    for (int64_t d : *dims)
      for (int byte = 0; byte < 8; ++byte) pool_.push_back(uint8_t(uint64_t(d) >> (8 * byte)));
  Value* a_dims = b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), consts_, off);
  Value* b_dims = b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), consts_, off + 8 * rank);
  touch(a.buf);
  touch(x.buf);
  touch(out.buf);
  call("tj_shlo_triangular_solve", b.getVoidTy(),
       {b.getInt32(int32_t(r.type)), b.getInt64(int64_t(rank)), a_dims, b_dims, b.getInt32(flags),
        a.ptr, x.ptr, out.ptr});
  return out;
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
  // sgemm forms, f32 with enough work and one contraction: matrices, batches of them with
  // leading batching dimensions on both sides (attention's q k^T and p v: one sgemm per
  // batch), and a stored lhs of rank > 2 contracted on its last dimension with a matrix
  // (dense layers on [batch, sequence, features]: its leading dimensions are the rows).
  size_t nb = lb.size();
  bool leading = L.shape.size() == nb + 2 && R.shape.size() == nb + 2;
  for (size_t a = 0; leading && a < nb; ++a) leading = lb[a] == int64_t(a) && rb[a] == int64_t(a);
  bool stacked = nb == 0 && L.shape.size() > 2 && R.shape.size() == 2 && lc.size() == 1 &&
                 lc[0] == int64_t(L.shape.size()) - 1;
  if (f32 && lc.size() == 1 && (leading || stacked) && L.ptr && R.ptr && work >= 32768) {
    GemmCall g;
    int64_t batches = 1;
    g.trans_b = rc[0] == int64_t(R.shape.size()) - 1;
    g.n = R.shape.at(g.trans_b ? R.shape.size() - 2 : R.shape.size() - 1);
    g.k = L.shape.at(size_t(lc[0]));
    if (stacked) {
      g.m = L.size() / std::max<int64_t>(1, g.k);
    } else {
      g.trans_a = lc[0] == int64_t(nb);
      g.m = L.shape.at(g.trans_a ? nb + 1 : nb);
      for (size_t a = 0; a < nb; ++a) batches *= L.shape[a];
    }
    entry_->gemms.push_back(g);
    touch(L.buf);
    touch(R.buf);
    touch(out.buf);
    if (batches == 1) {
      call_sgemm(g, L.ptr, R.ptr, out.ptr);
    } else {
      for_range(batches, [&](Value* bi) {
        auto at_batch = [&](Value* base, int64_t elems) {
          return b.CreateInBoundsGEP(b.getFloatTy(), base, b.CreateMul(bi, b.getInt64(elems)));
        };
        call_sgemm(g, at_batch(L.ptr, g.m * g.k), at_batch(R.ptr, g.k * g.n),
                   at_batch(out.ptr, g.m * g.n));
      });
    }
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

}  // namespace tierjit::shlo::lower_impl
