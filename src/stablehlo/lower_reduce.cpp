// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The lowering's reductions and ops with bodies (ops.def family kReduction): reduce,
// reduce_window, scatter, select_and_scatter, sort, top_k and map; bodies are inlined on
// scalars, folding in the evaluator's order.
#include <algorithm>

#include "stablehlo/lower_impl.hpp"

namespace tierjit::shlo::lower_impl {

Expected<std::vector<TVal>> Lowerer::lower_reduction(const Op& op, TVals& in, const Scope& scope) {
  switch (op.code) {
    case OpCode::kReduce:
      return lower_reduce(op, std::move(in), scope);
    case OpCode::kReduceWindow:
      return lower_reduce_window(op, std::move(in), scope);
    case OpCode::kScatter:
      return lower_scatter(op, std::move(in), scope);
    case OpCode::kSelectAndScatter: {
      TJ_ASSIGN_OR_RETURN(TVal r, lower_select_and_scatter(op, std::move(in), scope));
      return one(std::move(r));
    }
    case OpCode::kSort:
      return lower_sort(op, std::move(in), scope);
    case OpCode::kTopK:
      return lower_top_k(op, std::move(in));
    case OpCode::kMap:
      return lower_map(op, in, scope);
    default:
      return not_lowered(op, "this operation");
  }
}

Expected<std::vector<TVal>> Lowerer::lower_map(const Op& op, TVals& in, const Scope& scope) {
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

// ---- bodies ----

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
    OpCode code = op_code("stablehlo." + applies);  // as the evaluator names the body
    if (op_family(code) != OpFamily::kBinary || vals.size() != 2) {
      --control_;
      return not_lowered(op, "reduce applies " + applies);
    }
    auto v = binary(op, code, types[0], args[0], args[1]);
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
  ScatterForm form;
  if (std::string why = scatter_form(op, in.size(), form); !why.empty())
    return err(op, ErrorCode::kInvalidInput, why);
  size_t n = form.n;
  const ScatterDims& sd = form.dims;
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

}  // namespace tierjit::shlo::lower_impl
