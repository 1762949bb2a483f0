// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The evaluator's linear algebra (ops.def family kLinalg): dot_general (and its legacy form
// dot), convolution and triangular_solve, each by its direct formula in the result type
// (spec "Ops").
#include <vector>

#include "stablehlo/evaluator_impl.hpp"

namespace tierjit::shlo {

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
    for_each_index(cshape, [&](const std::vector<int64_t>& c, int64_t) {
      int64_t lo = lbase, ro = rbase;
      for (size_t a = 0; a < c.size(); ++a) {
        lo += c.at(a) * ls.at(size_t(lc.at(a)));
        ro += c.at(a) * rs.at(size_t(rc.at(a)));
      }
      if (r.floating()) {  // in the result type, step by step, as the reference does
        double a = round_float(r.type, get_f(L, lo)), b = round_float(r.type, get_f(R, ro));
        accf = round_float(r.type, accf + round_float(r.type, a * b));
      } else if (r.type == ElemType::kBool) {
        acci |= (L.i.at(size_t(lo)) & R.i.at(size_t(ro)));
      } else {
        acci =
            int64_t(uint64_t(acci) + uint64_t(L.i.at(size_t(lo))) * uint64_t(R.i.at(size_t(ro))));
      }
    });
    if (r.floating()) {
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
        if (r.floating()) {
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
    if (r.floating()) {
      r.f.at(size_t(k)) = accf;
    } else {
      r.i.at(size_t(k)) = wrap_int(r.type, acci);
    }
  });
  return Values{std::move(r)};
}

Expected<Values> Evaluator::Impl::eval_triangular_solve(const Op& op, const Values& in) {
  // Solves op(a) x = b (left_side) or x op(a) = b for each batch; only a's `lower` or upper
  // triangle is read, its diagonal taken as ones with unit_diagonal; op = transpose for
  // TRANSPOSE and ADJOINT (real types). Spec: triangular_solve.
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
  size_t rank = a.shape.size();
  if (!a.floating() || rank < 2 || b.shape.size() != rank || r.shape != b.shape ||
      a.shape.at(rank - 1) != a.shape.at(rank - 2))
    return err(op, ErrorCode::kInvalidInput,
               "triangular_solve needs float a[..., m, m] and b of the result's shape");
  int64_t m = a.shape.at(rank - 1);
  int64_t rows = b.shape.at(rank - 2), cols = b.shape.at(rank - 1);
  if ((left ? rows : cols) != m)
    return err(op, ErrorCode::kInvalidInput, "b's solved dimension does not match a");
  int64_t batches = a.size() / (m * m);
  // M = op(triangle of a); M is lower triangular iff lower != trans.
  bool m_lower = lower != trans;
  std::vector<double> M(static_cast<size_t>(m * m));
  std::vector<double> x(static_cast<size_t>(m));
  for (int64_t bt = 0; bt < batches; ++bt) {
    const double* A = a.f.data() + bt * m * m;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < m; ++j) {
        int64_t si = trans ? j : i, sj = trans ? i : j;
        bool in_tri = lower ? sj <= si : sj >= si;
        M.at(size_t(i * m + j)) = si == sj && unit ? 1.0 : in_tri ? A[si * m + sj] : 0.0;
      }
    // left: M X = B column by column; right: X M = B <=> M^T X^T = B^T row by row.
    int64_t systems = left ? cols : rows;
    for (int64_t s = 0; s < systems; ++s) {
      auto bval = [&](int64_t i) {
        int64_t row = left ? i : s, col = left ? s : i;
        return b.f.at(size_t(bt * rows * cols + row * cols + col));
      };
      auto mval = [&](int64_t i, int64_t j) {
        return left ? M.at(size_t(i * m + j)) : M.at(size_t(j * m + i));
      };
      bool forward = left ? m_lower : !m_lower;
      for (int64_t t = 0; t < m; ++t) {
        int64_t i = forward ? t : m - 1 - t;
        double acc = bval(i);
        for (int64_t u = 0; u < t; ++u) {
          int64_t j = forward ? u : m - 1 - u;
          acc -= mval(i, j) * x.at(size_t(j));
        }
        x.at(size_t(i)) = acc / mval(i, i);
      }
      for (int64_t i = 0; i < m; ++i) {
        int64_t row = left ? i : s, col = left ? s : i;
        r.f.at(size_t(bt * rows * cols + row * cols + col)) = round_float(r.type, x.at(size_t(i)));
      }
    }
  }
  return Values{std::move(r)};
}

}  // namespace tierjit::shlo
