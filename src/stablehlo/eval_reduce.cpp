// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The evaluator's reductions and ops with bodies (ops.def family kReduction): reduce,
// reduce_window, scatter, select_and_scatter, sort, map and top_k (spec "Ops"); bodies run as
// regions on rank-0 tensors.
#include <algorithm>

#include "stablehlo/evaluator_impl.hpp"

namespace tierjit::shlo {

using eval_impl::add_batching;
using eval_impl::add_window;
using eval_impl::copy_elem;
using eval_impl::for_each_index;
using eval_impl::in_range;
using eval_impl::index_component;
using eval_impl::int_less;
using eval_impl::kMaxAttr;
using eval_impl::scalar_at;
using eval_impl::Scope;
using eval_impl::Values;

Expected<Values> Evaluator::Impl::eval_reduction(const Op& op, Values& in, const Scope& scope) {
  switch (op.code) {
    case OpCode::kReduce:
      return eval_reduce(op, in, scope);
    case OpCode::kScatter:
      return eval_scatter(op, in, scope);
    case OpCode::kReduceWindow:
      return eval_reduce_window(op, in, scope);
    case OpCode::kSelectAndScatter:
      return eval_select_and_scatter(op, in, scope);
    case OpCode::kSort:
      return eval_sort(op, in, scope);
    case OpCode::kMap:
      return eval_map(op, in, scope);
    case OpCode::kTopK:
      return eval_top_k(op, in);
    default:
      return unsupported(op);
  }
}

Expected<Values> Evaluator::Impl::eval_reduce(const Op& op, const Values& in, const Scope& scope) {
  size_t n = in.size() / 2;
  if (n == 0 || in.size() % 2 != 0)
    return err(op, ErrorCode::kInvalidInput, "reduce needs inputs and init values");
  const Attr* d = op.attr("dimensions");
  std::vector<int64_t> dims = d ? ints_of(*d) : std::vector<int64_t>{};
  // The reduction body: a region, or "applies stablehlo.OP".
  std::string applies;
  for (size_t k = 0; k + 1 < op.args.size(); ++k)
    if (op.args.at(k).text == "applies") applies = strip(op.args.at(k + 1).text);
  if (applies.empty() && op.regions.empty())
    return err(op, ErrorCode::kInvalidInput, "reduce without a body");
  Values out;
  for (size_t k = 0; k < n; ++k) {
    TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op, k));
    for (int64_t e = 0; e < r.size(); ++e) copy_elem(r, e, in.at(n + k), 0);
    out.push_back(std::move(r));
  }
  const Tensor& x0 = in.at(0);
  std::vector<int64_t> kept = axes_except(x0.shape.size(), dims);
  auto os = strides_of(out.at(0).shape);
  Op body;  // for "applies"
  body.set_name("stablehlo." + applies);
  body.loc = op.loc;
  body.operands = {ValueRef{"%lhs", -1, op.loc}, ValueRef{"%rhs", -1, op.loc}};
  Status status;
  for_each_index(x0.shape, [&](const std::vector<int64_t>& idx, int64_t k) {
    if (!status.ok()) return;
    int64_t o = 0;
    for (size_t a = 0; a < kept.size(); ++a) o += idx.at(size_t(kept.at(a))) * os.at(a);
    status = fold_into(op, applies.empty() ? nullptr : &body, out, o, in, 0, k, scope);
  });
  TJ_TRY(status);
  return out;
}

Status Evaluator::Impl::fold_into(const Op& op, const Op* applies, Values& out, int64_t at,
                                  const Values& xs, size_t first, int64_t k, const Scope& scope) {
  size_t n = out.size();
  Values args;
  for (size_t j = 0; j < n; ++j) args.push_back(scalar_at(out.at(j), at));
  for (size_t j = 0; j < n; ++j) args.push_back(scalar_at(xs.at(first + j), k));
  Expected<Values> res = Values{};
  if (applies) {
    Scope s;
    s.parent = &scope;
    s.vals["%lhs"] = {args.at(0)};
    s.vals["%rhs"] = {args.at(1)};
    CurrentOpGuard guard{current, &op};  // `applies` is a temporary op
    res = eval(*applies, s);
  } else {
    res = run_region(op.regions.at(0), std::move(args), scope);
  }
  if (!res.ok()) return res.take_error();
  for (size_t j = 0; j < n && j < res->size(); ++j) copy_elem(out.at(j), at, (*res).at(j), 0);
  return {};
}

Expected<Values> Evaluator::Impl::eval_scatter(const Op& op, const Values& in, const Scope& scope) {
  // Spec "scatter": inputs..., scatter_indices, updates... (N each); the region combines
  // (results..., updates...) element by element; out-of-bounds updates are skipped.
  ScatterForm form;
  if (std::string why = scatter_form(op, in.size(), form); !why.empty())
    return err(op, ErrorCode::kInvalidInput, why);
  size_t n = form.n;
  const Tensor& idxs = in.at(n);
  const ScatterDims& sd = form.dims;
  const auto &uwd = sd.update_window, &iwd = sd.inserted_window;
  const auto &ibd = sd.input_batching, &sbd = sd.indices_batching, &sdod = sd.to_operand;
  int64_t ivd = sd.index_vector_dim;
  Values out(in.begin(), in.begin() + long(n));
  const Tensor& u0 = in.at(n + 1);
  size_t rank = out.at(0).shape.size();
  auto os = strides_of(out.at(0).shape), is = strides_of(idxs.shape);
  std::vector<int64_t> scatter_dims = axes_except(u0.shape.size(), uwd);
  Status status;
  for_each_index(u0.shape, [&](const std::vector<int64_t>& ui, int64_t k) {
    if (!status.ok()) return;
    std::vector<int64_t> usi;
    for (int64_t d : scatter_dims) usi.push_back(ui.at(size_t(d)));
    std::vector<int64_t> ri(rank, 0);
    for (size_t j = 0; j < sdod.size(); ++j)
      ri.at(size_t(sdod.at(j))) += index_component(idxs, is, ivd, usi, int64_t(j));
    add_batching(ri, ibd, sbd, ivd, usi);
    add_window(ri, iwd, ibd, uwd, ui);
    int64_t dst = 0;
    for (size_t d = 0; d < rank; ++d) {
      if (ri.at(d) < 0 || ri.at(d) >= out.at(0).shape.at(d)) return;  // out of bounds: skipped
      dst += ri.at(d) * os.at(d);
    }
    status = fold_into(op, nullptr, out, dst, in, n + 1, k, scope);
  });
  TJ_TRY(status);
  return out;
}

Expected<Values> Evaluator::Impl::eval_reduce_window(const Op& op, const Values& in,
                                                     const Scope& scope) {
  // Spec "reduce_window": pad and dilate the inputs with the init values, then reduce each
  // window (init first, then the window's elements in row-major order) with the body.
  size_t n = in.size() / 2;
  if (n == 0 || in.size() % 2 != 0 || op.regions.empty())
    return err(op, ErrorCode::kInvalidInput, "reduce_window operands");
  const Tensor& x0 = in.at(0);
  size_t rank = x0.shape.size();
  WindowAttrs w;
  if (!window_attrs(op, rank, w))
    return err(op, ErrorCode::kInvalidInput, "reduce_window attributes do not match the rank");
  const auto &wdims = w.dims, &wstr = w.strides, &bdil = w.base_dil, &wdil = w.win_dil,
             &pad = w.pad;
  if (!in_range(wdims, 1, kMaxAttr) || !in_range(wstr, 1, kMaxAttr) ||
      !in_range(bdil, 1, kMaxAttr) || !in_range(wdil, 1, kMaxAttr) ||
      !in_range(pad, -kMaxAttr, kMaxAttr)) {
    return err(op, ErrorCode::kInvalidInput,
               "reduce_window window, strides, dilations or padding out of range");
  }
  Values out;
  for (size_t j = 0; j < n; ++j) {
    TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op, j));
    out.push_back(std::move(r));
  }
  auto xs = strides_of(x0.shape);
  Status status;
  for_each_index(out.at(0).shape, [&](const std::vector<int64_t>& ri, int64_t k) {
    if (!status.ok()) return;
    Values acc;
    for (size_t j = 0; j < n; ++j) acc.push_back(scalar_at(in.at(n + j), 0));
    for_each_index(wdims, [&](const std::vector<int64_t>& wi, int64_t) {
      if (!status.ok()) return;
      int64_t src = 0;
      bool hole = false;
      for (size_t d = 0; d < rank; ++d) {
        int64_t p = ri.at(d) * wstr.at(d) + wi.at(d) * wdil.at(d) - pad.at(2 * d);
        if (p < 0 || p % bdil.at(d) != 0 || p / bdil.at(d) >= x0.shape.at(d)) {
          hole = true;
        } else {
          src += (p / bdil.at(d)) * xs.at(d);
        }
      }
      Values args = acc;
      for (size_t j = 0; j < n; ++j)
        args.push_back(hole ? scalar_at(in.at(n + j), 0) : scalar_at(in.at(j), src));
      auto res = run_region(op.regions.at(0), std::move(args), scope);
      if (!res.ok()) {
        status = res.take_error();
        return;
      }
      acc = std::move(*res);
    });
    for (size_t j = 0; j < n && j < acc.size(); ++j) copy_elem(out.at(j), k, acc.at(j), 0);
  });
  TJ_TRY(status);
  return out;
}

Expected<Values> Evaluator::Impl::eval_sort(const Op& op, const Values& in, const Scope& scope) {
  // Spec "sort": along `dimension`, the comparator gets (lhs_0, rhs_0, lhs_1, rhs_1, ...).
  if (in.empty() || op.regions.empty()) return err(op, ErrorCode::kInvalidInput, "sort operands");
  int64_t dim = 0;
  if (const Attr* a = op.attr("dimension")) dim = a->i;
  const Tensor& x0 = in.at(0);
  int64_t rank = int64_t(x0.shape.size());
  if (dim < 0) dim += rank;
  if (dim < 0 || dim >= rank) return err(op, ErrorCode::kInvalidInput, "bad sort dimension");
  Values out = in;
  auto xs = strides_of(x0.shape);
  std::vector<int64_t> outer = x0.shape;
  int64_t len = outer.at(size_t(dim));
  outer.at(size_t(dim)) = 1;
  Status status;
  for_each_index(outer, [&](const std::vector<int64_t>& oi, int64_t) {
    int64_t base = 0;
    for (size_t d = 0; d < oi.size(); ++d) base += oi.at(d) * xs.at(d);
    int64_t step = xs.at(size_t(dim));
    std::vector<int64_t> order(static_cast<size_t>(len));
    for (int64_t j = 0; j < len; ++j) order.at(size_t(j)) = j;
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      if (!status.ok()) return false;
      Values args;
      for (const Tensor& t : in) {
        args.push_back(scalar_at(t, base + a * step));
        args.push_back(scalar_at(t, base + b * step));
      }
      auto res = run_region(op.regions.at(0), std::move(args), scope);
      if (!res.ok()) {
        status = res.take_error();
        return false;
      }
      return !res->empty() && !(*res).at(0).i.empty() && (*res).at(0).i.at(0) != 0;
    });
    for (size_t t = 0; t < in.size(); ++t)
      for (int64_t j = 0; j < len; ++j)
        copy_elem(out.at(t), base + j * step, in.at(t), base + order.at(size_t(j)) * step);
  });
  TJ_TRY(status);
  return out;
}

Expected<Values> Evaluator::Impl::eval_select_and_scatter(const Op& op, const Values& in,
                                                          const Scope& scope) {
  // Spec "select_and_scatter": for each source element, pick one element of its operand
  // window with `select` (the first element, replaced by each later one the selection does
  // not prefer; padding is never selected) and combine the source into the result there
  // with `scatter`; the result starts as init_value everywhere.
  if (in.size() != 3 || op.regions.size() != 2)
    return err(op, ErrorCode::kInvalidInput, "select_and_scatter operands/regions");
  const Tensor &x = in.at(0), &src = in.at(1);
  size_t rank = x.shape.size();
  WindowAttrs w;
  bool shaped = window_attrs(op, rank, w);
  const auto &wdims = w.dims, &wstr = w.strides, &pad = w.pad;
  if (!shaped || !in_range(wdims, 1, kMaxAttr) || !in_range(wstr, 1, kMaxAttr) ||
      !in_range(pad, -kMaxAttr, kMaxAttr)) {
    return err(op, ErrorCode::kInvalidInput,
               "select_and_scatter window, strides or padding out of range");
  }
  Tensor r = x;
  for (int64_t k = 0; k < r.size(); ++k) copy_elem(r, k, in.at(2), 0);
  auto xs = strides_of(x.shape);
  Status status;
  for_each_index(src.shape, [&](const std::vector<int64_t>& si, int64_t sk) {
    if (!status.ok()) return;
    int64_t chosen = -1;
    for_each_index(wdims, [&](const std::vector<int64_t>& wi, int64_t) {
      if (!status.ok()) return;
      int64_t at = 0;
      for (size_t d = 0; d < rank; ++d) {
        int64_t p = si.at(d) * wstr.at(d) + wi.at(d) - pad.at(2 * d);
        if (p < 0 || p >= x.shape.at(d)) return;  // padding
        at += p * xs.at(d);
      }
      if (chosen < 0) {
        chosen = at;
        return;
      }
      auto res = run_region(op.regions.at(0), {scalar_at(x, chosen), scalar_at(x, at)}, scope);
      if (!res.ok()) {
        status = res.take_error();
        return;
      }
      if (res->empty() || (*res).at(0).i.empty() || (*res).at(0).i.at(0) == 0) chosen = at;
    });
    if (chosen < 0 || !status.ok()) return;
    auto res = run_region(op.regions.at(1), {scalar_at(r, chosen), scalar_at(src, sk)}, scope);
    if (!res.ok()) {
      status = res.take_error();
      return;
    }
    if (!res->empty()) copy_elem(r, chosen, (*res).at(0), 0);
  });
  TJ_TRY(status);
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_map(const Op& op, const Values& in, const Scope& scope) {
  if (in.empty() || op.regions.empty())
    return err(op, ErrorCode::kInvalidInput, "map operands/region");
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  for (int64_t k = 0; k < r.size(); ++k) {
    Values args;
    for (const Tensor& t : in) args.push_back(scalar_at(t, k));
    TJ_ASSIGN_OR_RETURN(Values res, run_region(op.regions.at(0), std::move(args), scope));
    if (res.empty()) return err(op, ErrorCode::kInvalidInput, "map body returned nothing");
    copy_elem(r, k, res.at(0), 0);
  }
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_top_k(const Op& op, const Values& in) {
  TJ_TRY(need(op, in, 1));
  int64_t kk = 1;
  if (const Attr* a = op.attr("k")) kk = a->i;
  TJ_ASSIGN_OR_RETURN(Tensor vals, result_tensor(op, 0));
  TJ_ASSIGN_OR_RETURN(Tensor idx, result_tensor(op, 1));
  const Tensor& x = in.at(0);
  int64_t last = x.shape.empty() ? 1 : x.shape.back();
  int64_t rows = last == 0 ? 0 : x.size() / last;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<int64_t> order(static_cast<size_t>(last));
    for (int64_t j = 0; j < last; ++j) order.at(size_t(j)) = j;
    auto greater = [&](int64_t a, int64_t b) {
      if (x.floating()) {  // NaN sorts first (largest), -0 < +0
        double va = x.f.at(size_t(r * last + a)), vb = x.f.at(size_t(r * last + b));
        return ordered_bits(x.type, va) > ordered_bits(x.type, vb);
      }
      return int_less(x.type, x.i.at(size_t(r * last + b)), x.i.at(size_t(r * last + a)));
    };
    std::stable_sort(order.begin(), order.end(), greater);
    for (int64_t j = 0; j < kk && j < last; ++j) {
      copy_elem(vals, r * kk + j, x, r * last + order.at(size_t(j)));
      idx.i.at(size_t(r * kk + j)) = order.at(size_t(j));
    }
  }
  return Values{std::move(vals), std::move(idx)};
}

}  // namespace tierjit::shlo
