// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The evaluator's linear algebra (ops.def family kLinalg): dot_general (and its legacy form
// dot), convolution and triangular_solve, each by its direct formula in the result type
// (spec "Ops").
#include <type_traits>
#include <vector>

#include "stablehlo/evaluator_impl.hpp"
#include "stablehlo/fft.hpp"

namespace tierjit::shlo {

using eval_impl::cget;
using eval_impl::Cplx;
using eval_impl::cround;
using eval_impl::cset;
using eval_impl::for_each_index;
using eval_impl::get_f;
using eval_impl::in_range;
using eval_impl::kMaxAttr;
using eval_impl::Values;

Expected<Values> Evaluator::Impl::eval_linalg(const Op& op, Values& in) {
  switch (op.code) {
    case OpCode::kDot:
    case OpCode::kDotGeneral:
      return eval_dot_general(op, in);
    case OpCode::kConvolution:
      return eval_convolution(op, in);
    case OpCode::kTriangularSolve:
      return eval_triangular_solve(op, in);
    case OpCode::kFft:
      return eval_fft(op, in);
    default:
      return unsupported(op);
  }
}

Expected<Values> Evaluator::Impl::eval_dot_general(const Op& op, const Values& in) {
  TJ_TRY(need(op, in, 2));
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  auto [lb, rb, lc, rc] = dot_dims(op, in.at(0).shape.size());
  const Tensor &L = in.at(0), &R = in.at(1);
  auto lf = axes_except(L.shape.size(), lb, lc), rf = axes_except(R.shape.size(), rb, rc);
  if (lb.size() != rb.size() || lc.size() != rc.size() ||
      r.shape.size() != lb.size() + lf.size() + rf.size()) {
    return err(op, ErrorCode::kInvalidInput, "dot dimension numbers do not match the shapes");
  }
  auto ls = strides_of(L.shape), rs = strides_of(R.shape);
  std::vector<int64_t> cshape;
  for (int64_t d : lc) cshape.push_back(L.shape.at(size_t(d)));
  for_each_index(r.shape, [&](const std::vector<int64_t>& idx, int64_t k) {
    int64_t lbase = 0, rbase = 0;
    size_t p = 0;
    for (size_t a = 0; a < lb.size(); ++a, ++p) {
      lbase += idx.at(p) * ls.at(size_t(lb.at(a)));
      rbase += idx.at(p) * rs.at(size_t(rb.at(a)));
    }
    for (int64_t d : lf) lbase += idx.at(p++) * ls.at(size_t(d));
    for (int64_t d : rf) rbase += idx.at(p++) * rs.at(size_t(d));
    double accf = 0;
    int64_t acci = 0;
    Cplx accc = 0;
    for_each_index(cshape, [&](const std::vector<int64_t>& c, int64_t) {
      int64_t lo = lbase, ro = rbase;
      for (size_t a = 0; a < c.size(); ++a) {
        lo += c.at(a) * ls.at(size_t(lc.at(a)));
        ro += c.at(a) * rs.at(size_t(rc.at(a)));
      }
      if (r.complex()) {
        Cplx a = cround(r.type, cget(L, lo)), b = cround(r.type, cget(R, ro));
        accc = cround(r.type, accc + cround(r.type, complex_mul(a, b)));
      } else if (r.floating()) {  // in the result type, step by step, as the reference does
        double a = round_float(r.type, get_f(L, lo)), b = round_float(r.type, get_f(R, ro));
        accf = round_float(r.type, accf + round_float(r.type, a * b));
      } else if (r.type == ElemType::kBool) {
        acci |= (L.i.at(size_t(lo)) & R.i.at(size_t(ro)));
      } else {
        acci =
            int64_t(uint64_t(acci) + uint64_t(L.i.at(size_t(lo))) * uint64_t(R.i.at(size_t(ro))));
      }
    });
    if (r.complex()) {
      cset(r, k, accc);
    } else if (r.floating()) {
      r.f.at(size_t(k)) = round_float(r.type, accf);
    } else {
      r.i.at(size_t(k)) = wrap_int(r.type, acci);
    }
  });
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_convolution(const Op& op, const Values& in) {
  // Spec "convolution", by its direct formula: feature and batch groups, lhs (input) and
  // rhs (window) dilation, padding, strides and window reversal.
  if (in.size() != 2) return err(op, ErrorCode::kInvalidInput, "convolution takes two operands");
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  const Tensor &L = in.at(0), &K = in.at(1);
  size_t rank = L.shape.size(), ns = rank - 2;
  ConvDims cd;
  if (std::string why = conv_dims(op, rank, cd); !why.empty())
    return err(op, ErrorCode::kInvalidInput, why);
  if (!in_range(cd.stride, 1, kMaxAttr) || !in_range(cd.lhs_dil, 1, kMaxAttr) ||
      !in_range(cd.rhs_dil, 1, kMaxAttr) || !in_range(cd.pad, -kMaxAttr, kMaxAttr)) {
    return err(op, ErrorCode::kInvalidInput,
               "convolution strides, dilations or padding out of range");
  }
  const auto &stride = cd.stride, &lhs_dil = cd.lhs_dil, &rhs_dil = cd.rhs_dil, &pad = cd.pad,
             &rev = cd.rev;
  int64_t fgc = cd.fgc, bgc = cd.bgc;
  const auto &li = cd.lay[0], &lk = cd.lay[1], &lo = cd.lay[2];
  int64_t C = L.shape.at(size_t(li.feature)), NB = L.shape.at(size_t(li.batch));
  int64_t O = K.shape.at(size_t(lk.feature)), KC = K.shape.at(size_t(lk.batch));
  if (C != KC * fgc || O % fgc != 0 || O % bgc != 0 || NB % bgc != 0) {
    return err(op, ErrorCode::kInvalidInput,
               "convolution feature/batch group counts do not match the shapes");
  }
  auto ls = strides_of(L.shape), ks = strides_of(K.shape);
  std::vector<int64_t> kspatial(ns);
  for (size_t d = 0; d < ns; ++d) kspatial.at(d) = K.shape.at(size_t(lk.spatial.at(d)));
  for_each_index(r.shape, [&](const std::vector<int64_t>& ri, int64_t k) {
    int64_t b = ri.at(size_t(lo.batch)), f = ri.at(size_t(lo.feature));
    int64_t fg = f / (O / fgc), bg = f / (O / bgc);
    int64_t lb = bg * (NB / bgc) + b;
    double accf = 0;
    int64_t acci = 0;
    Cplx accc = 0;
    for_each_index(kspatial, [&](const std::vector<int64_t>& kw, int64_t) {
      int64_t lbase = lb * ls.at(size_t(li.batch)), kbase = f * ks.at(size_t(lk.feature));
      for (size_t d = 0; d < ns; ++d) {
        int64_t kd = rev.at(d) ? kspatial.at(d) - 1 - kw.at(d) : kw.at(d);
        int64_t p = ri.at(size_t(lo.spatial.at(d))) * stride.at(d) + kw.at(d) * rhs_dil.at(d) -
                    pad.at(2 * d);
        if (p < 0 || p % lhs_dil.at(d) != 0) return;
        p /= lhs_dil.at(d);
        if (p >= L.shape.at(size_t(li.spatial.at(d)))) return;
        lbase += p * ls.at(size_t(li.spatial.at(d)));
        kbase += kd * ks.at(size_t(lk.spatial.at(d)));
      }
      for (int64_t c = 0; c < KC; ++c) {
        int64_t lo_ = lbase + (fg * KC + c) * ls.at(size_t(li.feature));
        int64_t ko = kbase + c * ks.at(size_t(lk.batch));
        if (r.complex()) {
          Cplx a = cround(r.type, cget(L, lo_)), bb = cround(r.type, cget(K, ko));
          accc = cround(r.type, accc + cround(r.type, complex_mul(a, bb)));
        } else if (r.floating()) {
          double a = round_float(r.type, get_f(L, lo_)), bb = round_float(r.type, get_f(K, ko));
          accf = round_float(r.type, accf + round_float(r.type, a * bb));
        } else if (r.type == ElemType::kBool) {
          acci |= L.i.at(size_t(lo_)) & K.i.at(size_t(ko));
        } else {
          acci = int64_t(uint64_t(acci) +
                         uint64_t(L.i.at(size_t(lo_))) * uint64_t(K.i.at(size_t(ko))));
        }
      }
    });
    if (r.complex()) {
      cset(r, k, accc);
    } else if (r.floating()) {
      r.f.at(size_t(k)) = accf;
    } else {
      r.i.at(size_t(k)) = wrap_int(r.type, acci);
    }
  });
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_triangular_solve(const Op& op, const Values& in) {
  TJ_TRY(need(op, in, 2));
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  const Tensor &a = in.at(0), &b = in.at(1);
  auto flag = [&](const char* k) {
    const Attr* x = op.attr(k);
    return x && x->b;
  };
  bool left = flag("left_side"), lower = flag("lower"), unit = flag("unit_diagonal");
  const Attr* ta = op.attr("transpose_a");
  bool trans = ta && ta->source.find("NO_TRANSPOSE") == std::string::npos &&
               (ta->source.find("TRANSPOSE") != std::string::npos ||
                ta->source.find("ADJOINT") != std::string::npos);
  bool conj = trans && ta->source.find("ADJOINT") != std::string::npos;
  size_t rank = a.shape.size();
  if (!a.floating() || a.type != b.type || rank < 2 || b.shape.size() != rank ||
      r.shape != b.shape || r.type != b.type || a.shape.at(rank - 1) != a.shape.at(rank - 2))
    return err(op, ErrorCode::kInvalidInput,
               "triangular_solve needs float or complex a[..., m, m] and b of the result's "
               "shape and type");
  for (size_t d = 0; d + 2 < rank; ++d)
    if (a.shape.at(d) != b.shape.at(d))
      return err(op, ErrorCode::kInvalidInput, "a and b differ in a batch dimension");
  int64_t m = a.shape.at(rank - 1);
  int64_t rows = b.shape.at(rank - 2), cols = b.shape.at(rank - 1);
  if ((left ? rows : cols) != m)
    return err(op, ErrorCode::kInvalidInput, "b's solved dimension does not match a");
  triangular_solve(a, b, r, TriangularSolve{left, lower, unit, trans, conj});
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_fft(const Op& op, const Values& in) {
  TJ_TRY(need(op, in, 1));
  TJ_ASSIGN_OR_RETURN(Tensor r, result_tensor(op));
  const Tensor& x = in.at(0);
  FftSpec spec;
  if (std::string why = fft_spec(op, x.shape, x.complex(), r.shape, r.complex(), spec);
      !why.empty())
    return err(op, ErrorCode::kInvalidInput, why);
  if (!x.floating() || component(x.type) != component(r.type))
    return err(op, ErrorCode::kInvalidInput, "operand and result parts differ in type (C2, C3)");
  std::vector<Cplx> src(size_t(x.size())), dst(size_t(r.size()));
  for (int64_t k = 0; k < x.size(); ++k) src[size_t(k)] = cget(x, k);
  if (r.size() > 0) run_fft(spec, src.data(), dst.data());
  for (int64_t k = 0; k < r.size(); ++k) {
    if (r.complex()) {
      cset(r, k, dst[size_t(k)]);
    } else {
      r.f.at(size_t(k)) = round_float(r.type, dst[size_t(k)].real());
    }
  }
  return Values{std::move(r)};
}

}  // namespace tierjit::shlo
