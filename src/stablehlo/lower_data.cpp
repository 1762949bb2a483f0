// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The lowering's constants and data movement (ops.def families kData and kDynamic): index maps
// composed into generators (broadcast_in_dim, transpose, slice, reverse, dynamic_slice, gather)
// and buffers written by loop nests (concatenate, pad, dynamic_update_slice).
#include <algorithm>

#include "stablehlo/lower_impl.hpp"

namespace tierjit::shlo::lower_impl {

Expected<std::vector<TVal>> Lowerer::lower_data(const Op& op, TVals& in) {
  switch (op.code) {
    case OpCode::kConstant: {
      TJ_ASSIGN_OR_RETURN(TVal v, lower_constant(op));
      return one(std::move(v));
    }
    case OpCode::kIota:
      return lower_iota(op);
    case OpCode::kReshape: {
      TJ_TRY(need(op, in, 1));
      TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
      if (r.size() != in[0].size() || r.type != in[0].type)
        return err(op, ErrorCode::kInvalidInput, "reshape changes the element count or type");
      TVal x = in[0].size() == 1 ? scalarize(in[0]) : materialize(in[0]);
      x.shape = r.shape;
      return one(std::move(x));
    }
    case OpCode::kBitcastConvert:
      return lower_bitcast_convert(op, in);
    case OpCode::kBroadcastInDim:
      return lower_broadcast_in_dim(op, in);
    case OpCode::kTranspose:
      return lower_transpose(op, in);
    case OpCode::kSlice:
      return lower_slice(op, in);
    case OpCode::kReverse:
      return lower_reverse(op, in);
    case OpCode::kConcatenate:
      return lower_concatenate(op, in);
    case OpCode::kPad:
      return lower_pad(op, in);
    case OpCode::kDynamicSlice:
      return lower_dynamic_slice(op, in);
    case OpCode::kDynamicUpdateSlice:
      return lower_dynamic_update_slice(op, in);
    case OpCode::kGetDimensionSize: {
      TJ_TRY(need(op, in, 1));
      TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
      auto d = op_ints(op, "dim", "dimension");
      size_t dim = d.empty() ? 0 : size_t(d[0]);
      if (dim >= in[0].shape.size()) return err(op, ErrorCode::kInvalidInput, "bad dimension");
      r.scalar = iconst(r.type, in[0].shape[dim]);
      return one(std::move(r));
    }
    case OpCode::kGather: {
      TJ_ASSIGN_OR_RETURN(TVal r, lower_gather(op, std::move(in)));
      return one(std::move(r));
    }
    case OpCode::kTuple: {
      TVal t;
      t.is_tuple = true;
      t.elems = std::move(in);
      return one(std::move(t));
    }
    case OpCode::kGetTupleElement:
      return lower_get_tuple_element(op, in);
    default:
      return not_lowered(op, "this operation");
  }
}

// Dynamic-shape forms with static result types: their shape and size operands must be
// constants here; then they are their static counterparts (as in the evaluator).
Expected<std::vector<TVal>> Lowerer::lower_dynamic(const Op& op, TVals& in, Scope& scope) {
  if (op.code == OpCode::kDynamicPad || op.code == OpCode::kDynamicGather ||
      op.code == OpCode::kDynamicConv) {
    std::vector<const Tensor*> known;
    for (const TVal& v : in) known.push_back(v.known.get());
    TJ_ASSIGN_OR_RETURN(Op stat, dynamic_static_form(op, known, file_));
    CurrentOpGuard guard{current_, &op};
    return lower_op(stat, scope);
  }
  size_t at_ = op.code == OpCode::kDynamicIota ? 0 : 1;
  if (in.size() <= at_ || op.result_types.size() != 1)
    return err(op, ErrorCode::kInvalidInput, "missing the output shape operand or result type");
  const Tensor* shape = in[at_].known.get();
  if (shape == nullptr) return not_lowered(op, "an output shape that is not a constant");
  if (shape->floating() || shape->i != op.result_types[0].dims)
    return err(op, ErrorCode::kInvalidInput,
               "output shape operand does not match the result type " + op.result_types[0].text);
  Op stat = op;
  OpCode static_code = op.code == OpCode::kDynamicIota      ? OpCode::kIota
                       : op.code == OpCode::kDynamicReshape ? OpCode::kReshape
                                                            : OpCode::kBroadcastInDim;
  stat.set_name(std::string(op_name(static_code)));
  stat.operands.erase(stat.operands.begin() + std::ptrdiff_t(at_));
  CurrentOpGuard guard{current_, &op};  // `stat` dies here, also when an error unwinds
  return lower_op(stat, scope);
}

Expected<std::vector<TVal>> Lowerer::lower_iota(const Op& op) {
  TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
  auto d = op_ints(op, "dim", "iota_dimension");
  size_t dim = d.empty() ? 0 : size_t(d[0]);
  if (dim >= std::max<size_t>(1, r.shape.size()))
    return err(op, ErrorCode::kInvalidInput, "bad iota dimension");
  ElemType t = r.type;
  r.gen = [this, dim, t](const Idx& idx) -> Value* {
    Value* v = idx.empty() ? b.getInt64(0) : idx[dim];
    if (is_complex(t)) return convert(ElemType::kI64, t, v);  // imaginary part 0
    if (is_float(t)) return from_double(t, b.CreateSIToFP(v, b.getDoubleTy()));
    return b.CreateTrunc(v, val_ty(t));
  };
  return one(std::move(r));
}

Expected<std::vector<TVal>> Lowerer::lower_bitcast_convert(const Op& op, TVals& in) {
  TJ_TRY(need(op, in, 1));
  TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
  int wi = bit_width(in[0].type), wr = bit_width(r.type);
  if (r.size() * wr != in[0].size() * wi)
    return err(op, ErrorCode::kInvalidInput, "bitcast_convert changes the number of bits");
  if (wi % 8 != 0 || wr % 8 != 0) {  // i1, i2/i4, f4/f6: held one per byte, not packed
    if (is_complex(r.type) || is_complex(in[0].type))
      return err(op, ErrorCode::kInvalidInput,
                 "bitcast_convert of complex to or from a type narrower than a byte");
    return bitcast_bits(in[0], r);
  }
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

// bitcast_convert to or from a type narrower than a byte (i1, i2, i4, f4, f6), whose buffers
// hold one element per byte: each
// result element is assembled from, or cut out of, the operand's bit strings (least
// significant bit first; the narrower type's last dimension spans one wider element).
Expected<std::vector<TVal>> Lowerer::bitcast_bits(const TVal& in, TVal r) {
  int wi = bit_width(in.type), wr = bit_width(r.type);
  ElemType ti = in.type, tr = r.type;
  TVal x = stable(in);
  if (wi == wr) {
    r.gen = [this, x, ti, tr](const Idx& idx) { return from_bits(tr, to_bits(ti, at(x, idx))); };
  } else if (wi > wr) {  // result[..., j] = bits [j*wr, (j+1)*wr) of operand[...]
    r.gen = [this, x, ti, tr, wr](const Idx& idx) {
      Idx src(idx.begin(), idx.end() - 1);
      Value* bits = to_bits(ti, at(x, src));
      Value* shift =
          b.CreateZExtOrTrunc(b.CreateMul(idx.back(), b.getInt64(uint64_t(wr))), bits->getType());
      return from_bits(tr, b.CreateTrunc(b.CreateLShr(bits, shift), b.getIntNTy(unsigned(wr))));
    };
  } else {  // result[...] = operand[..., 0] | operand[..., 1] << wi | ...
    r.gen = [this, x, ti, tr, wi, wr](const Idx& idx) {
      llvm::Type* ty = b.getIntNTy(unsigned(wr));
      Value* acc = llvm::ConstantInt::get(ty, 0);
      for (int j = 0; j < wr / wi; ++j) {
        Idx src = idx;
        src.push_back(b.getInt64(uint64_t(j)));
        Value* part = b.CreateZExt(to_bits(ti, at(x, src)), ty);
        acc = b.CreateOr(acc, b.CreateShl(part, uint64_t(j * wi)));
      }
      return from_bits(tr, acc);
    };
  }
  return one(std::move(r));
}

Expected<std::vector<TVal>> Lowerer::lower_broadcast_in_dim(const Op& op, TVals& in) {
  TJ_TRY(need(op, in, 1));
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

Expected<std::vector<TVal>> Lowerer::lower_transpose(const Op& op, TVals& in) {
  TJ_TRY(need(op, in, 1));
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

Expected<std::vector<TVal>> Lowerer::lower_slice(const Op& op, TVals& in) {
  TJ_TRY(need(op, in, 1));
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

Expected<std::vector<TVal>> Lowerer::lower_reverse(const Op& op, TVals& in) {
  TJ_TRY(need(op, in, 1));
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

Expected<std::vector<TVal>> Lowerer::lower_concatenate(const Op& op, TVals& in) {
  TJ_ASSIGN_OR_RETURN(TVal r, result_shape(op, 0));
  auto d = op_ints(op, "dim", "dimension");
  size_t dim = d.empty() ? 0 : size_t(d[0]);
  if (dim >= r.shape.size()) return err(op, ErrorCode::kInvalidInput, "bad concatenate dimension");
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

Expected<std::vector<TVal>> Lowerer::lower_pad(const Op& op, TVals& in) {
  TJ_TRY(need(op, in, 2));
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
  loop_nest(out.shape, [&](const Idx& idx) { store_at(out, linear(out.shape, idx), at(pv, {})); });
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

Expected<std::vector<TVal>> Lowerer::lower_dynamic_slice(const Op& op, TVals& in) {
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

Expected<std::vector<TVal>> Lowerer::lower_dynamic_update_slice(const Op& op, TVals& in) {
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

Expected<std::vector<TVal>> Lowerer::lower_get_tuple_element(const Op& op, TVals& in) {
  TJ_TRY(need(op, in, 1));
  std::vector<int64_t> idx = op_ints(op, "index");
  for (const Attr& a : op.args)
    if (idx.empty() && (a.kind == Attr::Kind::kOpaque || a.kind == Attr::Kind::kArray))
      idx = ints_of(a);
  if (!in[0].is_tuple) return err(op, ErrorCode::kInvalidInput, "operand is not a tuple");
  if (idx.size() != 1 || idx[0] < 0 || idx[0] >= int64_t(in[0].elems.size()))
    return err(op, ErrorCode::kInvalidInput, "tuple index out of range");
  return one(in[0].elems.at(size_t(idx.at(0))));
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

}  // namespace tierjit::shlo::lower_impl
