// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The evaluator's constants and data movement (ops.def family kData): constant, iota, reshape,
// bitcast_convert, broadcast_in_dim, transpose, slice, concatenate, reverse, pad, gather,
// dynamic_slice, dynamic_update_slice, get_dimension_size and tuples (spec "Ops").
#include <algorithm>

#include "stablehlo/evaluator_impl.hpp"

namespace tierjit::shlo {

using eval_impl::add_batching;
using eval_impl::add_window;
using eval_impl::copy_elem;
using eval_impl::for_each_index;
using eval_impl::in_range;
using eval_impl::index_component;
using eval_impl::kMaxAttr;
using eval_impl::Values;

Expected<Values> Evaluator::Impl::eval_data(const Op& op, OpCode code, Values& in) {
  switch (code) {
    case OpCode::kConstant:
      return eval_constant(op);
    case OpCode::kIota:
      return eval_iota(op);
    case OpCode::kReshape: {
      TJ_TRY(need(op, in, 1));
      TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
      if (r.size() != in.at(0).size() || r.type != in.at(0).type) {
        return err(op, ErrorCode::kInvalidInput, "reshape changes the element count or type");
      }
      in.at(0).shape = r.shape;
      return Values{std::move(in.at(0))};
    }
    case OpCode::kBitcastConvert:
      return eval_bitcast_convert(op, in);
    case OpCode::kBroadcastInDim:
      return eval_broadcast_in_dim(op, in);
    case OpCode::kTranspose:
      return eval_transpose(op, in);
    case OpCode::kSlice:
      return eval_slice(op, in);
    case OpCode::kConcatenate:
      return eval_concatenate(op, in);
    case OpCode::kReverse:
      return eval_reverse(op, in);
    case OpCode::kPad:
      return eval_pad(op, in);
    case OpCode::kGather:
      return eval_gather(op, in);
    case OpCode::kDynamicSlice:
      return eval_dynamic_slice(op, in);
    case OpCode::kDynamicUpdateSlice:
      return eval_dynamic_update_slice(op, in);
    case OpCode::kGetDimensionSize: {
      TJ_TRY(need(op, in, 1));
      TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
      const Attr* d = op.attr("dim") ? op.attr("dim") : op.attr("dimension");
      size_t dim = d ? size_t(d->i) : 0;
      if (dim >= in.at(0).shape.size() || r.i.size() != 1)
        return err(op, ErrorCode::kInvalidInput, "bad dimension");
      r.i.at(0) = wrap_int(r.type, in.at(0).shape.at(dim));
      return Values{std::move(r)};
    }
    case OpCode::kTuple:
      return eval_tuple(op, in);
    case OpCode::kGetTupleElement:
      return eval_get_tuple_element(op, in);
    default:
      return unsupported(op);
  }
}

Expected<Values> Evaluator::Impl::eval_constant(const Op& op) {
  const Attr* lit = nullptr;
  for (const auto& a : op.args)
    if (a.kind == Attr::Kind::kDense) lit = &a;
  if (const Attr* v = op.attr("value")) lit = v;
  if (lit == nullptr || lit->kind != Attr::Kind::kDense) {
    return err(op, ErrorCode::kUnsupported, "constant without a dense<...> literal");
  }
  if (op.result_types.empty()) return err(op, ErrorCode::kInvalidInput, "missing result type");
  auto t = parse_dense(lit->text, op.result_types.at(0));
  if (!t.ok()) return err(op, t.error().code, t.error().message);
  return Values{std::move(*t)};
}

Expected<Values> Evaluator::Impl::eval_iota(const Op& op) {
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  const Attr* d = op.attr("dim") ? op.attr("dim") : op.attr("iota_dimension");
  size_t dim = d ? size_t(d->i) : 0;
  if (dim >= std::max<size_t>(1, r.shape.size()))
    return err(op, ErrorCode::kInvalidInput, "bad iota dimension");
  for_each_index(r.shape, [&](const std::vector<int64_t>& idx, int64_t k) {
    int64_t v = idx.empty() ? 0 : idx.at(dim);
    if (r.floating()) {
      r.f.at(size_t(k)) = round_float(r.type, double(v));
    } else {
      r.i.at(size_t(k)) = wrap_int(r.type, v);
    }
  });
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_bitcast_convert(const Op& op, Values& in) {
  TJ_TRY(need(op, in, 1));
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  // Elements are bit strings laid end to end, least significant bit first; between widths
  // the narrower type's last dimension spans one element of the wider (spec C2).
  const Tensor& x = in.at(0);
  int wi = bit_width(x.type), wr = bit_width(r.type);
  if (x.size() * wi != r.size() * wr)
    return err(op, ErrorCode::kInvalidInput, "bitcast_convert changes the number of bits");
  if (x.complex() || r.complex()) {  // whole bytes: the packed form read back as the result
    if (wi % 8 != 0 || wr % 8 != 0)
      return err(op, ErrorCode::kInvalidInput,
                 "bitcast_convert of complex to or from a type narrower than a byte");
    std::vector<uint8_t> bytes = to_bytes(x);
    Tensor out = from_bytes(r.type, r.shape, bytes.data());
    return Values{std::move(out)};
  }
  std::vector<uint8_t> bits(size_t(x.size() * wi));
  for (int64_t k = 0; k < x.size(); ++k) {
    uint64_t b = x.floating() ? float_bits(x.type, x.f.at(size_t(k))) : uint64_t(x.i.at(size_t(k)));
    for (int j = 0; j < wi; ++j) bits.at(size_t(k * wi + j)) = (b >> j) & 1;
  }
  for (int64_t k = 0; k < r.size(); ++k) {
    uint64_t b = 0;
    for (int j = 0; j < wr; ++j) b |= uint64_t(bits.at(size_t(k * wr + j))) << j;
    if (r.floating()) {
      r.f.at(size_t(k)) = float_from_bits(r.type, b);
    } else {
      r.i.at(size_t(k)) = wrap_int(r.type, int64_t(b));
    }
  }
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_broadcast_in_dim(const Op& op, Values& in) {
  TJ_TRY(need(op, in, 1));
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  const Attr* d = op.attr("dims") ? op.attr("dims") : op.attr("broadcast_dimensions");
  std::vector<int64_t> dims = d ? ints_of(*d) : std::vector<int64_t>{};
  const Tensor& x = in.at(0);
  if (dims.size() != x.shape.size())
    return err(op, ErrorCode::kInvalidInput, "broadcast dims do not match the operand rank");
  auto xs = strides_of(x.shape);
  for_each_index(r.shape, [&](const std::vector<int64_t>& idx, int64_t k) {
    int64_t src = 0;
    for (size_t a = 0; a < dims.size(); ++a)
      if (x.shape.at(a) != 1) src += idx.at(size_t(dims.at(a))) * xs.at(a);
    copy_elem(r, k, x, src);
  });
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_transpose(const Op& op, Values& in) {
  TJ_TRY(need(op, in, 1));
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  const Attr* d = op.attr("dims") ? op.attr("dims") : op.attr("permutation");
  std::vector<int64_t> perm = d ? ints_of(*d) : std::vector<int64_t>{};
  if (perm.size() != in.at(0).shape.size())
    return err(op, ErrorCode::kInvalidInput, "bad permutation");
  auto xs = strides_of(in.at(0).shape);
  for_each_index(r.shape, [&](const std::vector<int64_t>& idx, int64_t k) {
    int64_t src = 0;
    for (size_t a = 0; a < perm.size(); ++a) src += idx.at(a) * xs.at(size_t(perm.at(a)));
    copy_elem(r, k, in.at(0), src);
  });
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_slice(const Op& op, Values& in) {
  TJ_TRY(need(op, in, 1));
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  size_t rank = in.at(0).shape.size();
  std::vector<int64_t> start, stride;
  if (!slice_spec(op, rank, start, stride))
    return err(op, ErrorCode::kInvalidInput, "bad slice spec");
  auto xs = strides_of(in.at(0).shape);
  if (!in_range(stride, 1, kMaxAttr) || !in_range(start, 0, kMaxAttr * kMaxAttr)) {
    return err(op, ErrorCode::kInvalidInput, "slice start or stride out of range");
  }
  for_each_index(r.shape, [&](const std::vector<int64_t>& idx, int64_t k) {
    int64_t src = 0;
    for (size_t a = 0; a < rank; ++a) src += (start.at(a) + idx.at(a) * stride.at(a)) * xs.at(a);
    copy_elem(r, k, in.at(0), src);
  });
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_concatenate(const Op& op, Values& in) {
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  const Attr* d = op.attr("dim") ? op.attr("dim") : op.attr("dimension");
  size_t dim = d ? size_t(d->i) : 0;
  if (dim >= r.shape.size()) return err(op, ErrorCode::kInvalidInput, "bad concatenate dimension");
  auto rs = strides_of(r.shape);
  int64_t offset = 0;
  for (const Tensor& x : in) {
    for_each_index(x.shape, [&](const std::vector<int64_t>& idx, int64_t k) {
      int64_t dst = 0;
      for (size_t a = 0; a < idx.size(); ++a)
        dst += (idx.at(a) + (a == dim ? offset : 0)) * rs.at(a);
      copy_elem(r, dst, x, k);
    });
    offset += x.shape.at(dim);
  }
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_reverse(const Op& op, Values& in) {
  TJ_TRY(need(op, in, 1));
  const Attr* d = op.attr("dims") ? op.attr("dims") : op.attr("dimensions");
  std::vector<int64_t> dims = d ? ints_of(*d) : std::vector<int64_t>{};
  Tensor r = in.at(0);
  auto xs = strides_of(r.shape);
  for_each_index(r.shape, [&](const std::vector<int64_t>& idx, int64_t k) {
    int64_t src = 0;
    for (size_t a = 0; a < idx.size(); ++a) {
      bool rev = contains(dims, int64_t(a));
      src += (rev ? r.shape.at(a) - 1 - idx.at(a) : idx.at(a)) * xs.at(a);
    }
    copy_elem(r, k, in.at(0), src);
  });
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_pad(const Op& op, Values& in) {
  TJ_TRY(need(op, in, 2));
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  std::vector<int64_t> lo, interior;
  if (const Attr* a = op.attr("low")) lo = ints_of(*a);
  if (const Attr* a = op.attr("edge_padding_low")) lo = ints_of(*a);
  if (const Attr* a = op.attr("interior")) interior = ints_of(*a);
  if (const Attr* a = op.attr("interior_padding")) interior = ints_of(*a);
  size_t rank = in.at(0).shape.size();
  if (!in_range(lo, -kMaxAttr, kMaxAttr) || !in_range(interior, 0, kMaxAttr))
    return err(op, ErrorCode::kInvalidInput, "padding out of range");
  if (lo.size() != rank || interior.size() != rank)
    return err(op, ErrorCode::kInvalidInput, "bad padding");
  for (int64_t k = 0; k < r.size(); ++k) copy_elem(r, k, in.at(1), 0);
  auto rs = strides_of(r.shape);
  for_each_index(in.at(0).shape, [&](const std::vector<int64_t>& idx, int64_t k) {
    int64_t dst = 0;
    for (size_t a = 0; a < rank; ++a) {
      int64_t p = lo.at(a) + idx.at(a) * (interior.at(a) + 1);
      if (p < 0 || p >= r.shape.at(a)) return;
      dst += p * rs.at(a);
    }
    copy_elem(r, dst, in.at(0), k);
  });
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_gather(const Op& op, Values& in) {
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  const Tensor& x = in.at(0);
  size_t rank = x.shape.size();
  auto xs = strides_of(x.shape);
  TJ_TRY(need(op, in, 2));
  GatherDims gd;
  if (!gather_dims(op, gd))
    return err(op, ErrorCode::kInvalidInput, "gather without dimension_numbers");
  const auto &offset_dims = gd.offset_dims, &collapsed = gd.collapsed;
  const auto &obatch = gd.operand_batching, &sbatch = gd.indices_batching;
  const auto& start_map = gd.start_map;
  std::vector<int64_t> sizes = op_ints(op, "slice_sizes");
  const Tensor& idxs = in.at(1);
  int64_t ivd = gd.index_vector_dim;
  if (sizes.size() != rank) return err(op, ErrorCode::kInvalidInput, "bad slice_sizes");
  auto is = strides_of(idxs.shape);
  std::vector<int64_t> batch_dims = axes_except(r.shape.size(), offset_dims);
  for_each_index(r.shape, [&](const std::vector<int64_t>& ri, int64_t k) {
    std::vector<int64_t> batch;
    for (int64_t d : batch_dims) batch.push_back(ri.at(size_t(d)));
    std::vector<int64_t> oi(rank, 0);
    for (size_t j = 0; j < start_map.size(); ++j) {
      size_t d = size_t(start_map.at(j));
      int64_t start = index_component(idxs, is, ivd, batch, int64_t(j));
      oi.at(d) = std::clamp<int64_t>(start, 0, x.shape.at(d) - sizes.at(d));
    }
    add_batching(oi, obatch, sbatch, ivd, batch);
    add_window(oi, collapsed, obatch, offset_dims, ri);
    int64_t src = 0;
    for (size_t d = 0; d < rank; ++d) src += oi.at(d) * xs.at(d);
    copy_elem(r, k, x, src);
  });
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_dynamic_slice(const Op& op, Values& in) {
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  const Tensor& x = in.at(0);
  size_t rank = x.shape.size();
  auto xs = strides_of(x.shape);
  if (in.size() != rank + 1)
    return err(op, ErrorCode::kInvalidInput, "dynamic_slice needs one start index per dimension");
  std::vector<int64_t> start(rank);
  for (size_t d = 0; d < rank; ++d) {
    int64_t v = in.at(d + 1).i.at(0);
    start.at(d) = std::clamp<int64_t>(v, 0, x.shape.at(d) - r.shape.at(d));
  }
  for_each_index(r.shape, [&](const std::vector<int64_t>& idx, int64_t k) {
    int64_t src = 0;
    for (size_t d = 0; d < rank; ++d) src += (start.at(d) + idx.at(d)) * xs.at(d);
    copy_elem(r, k, x, src);
  });
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_dynamic_update_slice(const Op& op, Values& in) {
  Tensor r = in.at(0);
  const Tensor& u = in.at(1);
  size_t rank = r.shape.size();
  if (in.size() != rank + 2)
    return err(op, ErrorCode::kInvalidInput,
               "dynamic_update_slice needs one start index per dimension");
  std::vector<int64_t> start(rank);
  for (size_t d = 0; d < rank; ++d)
    start.at(d) = std::clamp<int64_t>(in.at(d + 2).i.at(0), 0, r.shape.at(d) - u.shape.at(d));
  auto rs = strides_of(r.shape);
  for_each_index(u.shape, [&](const std::vector<int64_t>& idx, int64_t k) {
    int64_t dst = 0;
    for (size_t d = 0; d < rank; ++d) dst += (start.at(d) + idx.at(d)) * rs.at(d);
    copy_elem(r, dst, u, k);
  });
  return Values{std::move(r)};
}

// Tuples (spec: tuple, get_tuple_element): a value holding values.
Expected<Values> Evaluator::Impl::eval_tuple(const Op& op, Values& in) {
  // Nested tuples copy their elements: bound the total like any result.
  int64_t total = 1;
  for (const Tensor& x : in) {
    total += x.is_tuple ? x.tuple_elements : x.size();
    if (total > max_elements)
      return err(op, ErrorCode::kUnsupported, "tuple is larger than the evaluator's limit");
  }
  Tensor t;
  t.tuple_elements = total;
  t.is_tuple = true;
  t.tuple = std::move(in);
  return Values{std::move(t)};
}

Expected<Values> Evaluator::Impl::eval_get_tuple_element(const Op& op, Values& in) {
  TJ_TRY(need(op, in, 1));
  std::vector<int64_t> idx;
  if (const Attr* a = op.attr("index")) idx = ints_of(*a);
  for (const Attr& a : op.args)
    if (idx.empty() && (a.kind == Attr::Kind::kOpaque || a.kind == Attr::Kind::kArray))
      idx = ints_of(a);
  if (!in.at(0).is_tuple) return err(op, ErrorCode::kInvalidInput, "operand is not a tuple");
  if (idx.size() != 1 || idx[0] < 0 || idx[0] >= int64_t(in.at(0).tuple.size()))
    return err(op, ErrorCode::kInvalidInput, "tuple index out of range");
  return Values{in.at(0).tuple.at(size_t(idx[0]))};
}

}  // namespace tierjit::shlo
