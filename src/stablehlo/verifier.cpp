// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The StableHLO verifier (see verifier.hpp). Constraint labels (C1, C2, ...) refer to the
// op's "Constraints" list in the StableHLO specification.
#include "stablehlo/verifier.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "stablehlo/attrs.hpp"

namespace tierjit::shlo {
namespace {

bool static_tensor(const Type* t) {
  if (!t || t->kind != Type::Kind::kTensor || !t->ranked) return false;
  for (int64_t d : t->dims)
    if (d < 0) return false;
  return true;
}

int64_t elements(const Type& t) {
  int64_t n = 1;
  for (int64_t d : t.dims)
    if (__builtin_mul_overflow(n, d, &n)) return -1;
  return n;
}

std::string dims_text(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(v[i]);
  }
  return s + "]";
}

class Verifier {
 public:
  Verifier(const Module& m, const std::string& file) : m_(m), file_(file) {}

  Status run() {
    for (const Func& f : m_.funcs) TJ_TRY(func(f));
    return {};
  }

 private:
  const Module& m_;
  const std::string& file_;
  std::vector<std::unordered_map<std::string, Type>> scopes_;
  const Func* func_ = nullptr;

  Error err(const Op& op, const std::string& msg) const {
    return make_error(ErrorCode::kInvalidInput, op.name + ": " + msg,
                      SourceLoc{file_, op.loc.line, op.loc.col});
  }
  static std::string key(const ValueRef& v) {
    return v.index < 0 ? v.name : v.name + "#" + std::to_string(v.index);
  }
  const Type* find(const std::string& k) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(k);
      if (f != it->end()) return &f->second;
    }
    return nullptr;
  }
  void define(const std::string& k, Type t) { scopes_.back()[k] = std::move(t); }

  Status func(const Func& f) {
    func_ = &f;
    scopes_.clear();
    scopes_.emplace_back();
    for (const auto& [name, type] : f.args) define(name, type);
    return region(f.body, {}, {});
  }

  // A region's blocks; `bound`/`bound_types` are names the owning op binds in it (while's
  // iteration arguments).
  Status region(const Region& r, const std::vector<std::string>& bound,
                const std::vector<Type>& bound_types) {
    for (const Block& b : r.blocks) {
      scopes_.emplace_back();
      for (size_t i = 0; i < bound.size(); ++i)
        define(bound[i], i < bound_types.size() ? bound_types[i] : Type{});
      for (const auto& [name, type] : b.args) define(name, type);
      for (const Op& o : b.ops) {
        Status s = op(o, scopes_.size() == 2 && &r == &func_->body);
        if (!s.ok()) {
          scopes_.pop_back();
          return s;
        }
      }
      scopes_.pop_back();
    }
    return {};
  }

  Status op(const Op& o, bool top_level) {
    std::vector<const Type*> in;
    for (const ValueRef& v : o.operands) {
      const Type* t = find(key(v));
      if (!t && v.index < 0) t = find(v.name + "#0");
      if (!t) {
        return make_error(ErrorCode::kInvalidInput, o.name + ": use of undefined value " + key(v),
                          SourceLoc{file_, v.loc.line ? v.loc.line : o.loc.line,
                                    v.loc.line ? v.loc.col : o.loc.col});
      }
      in.push_back(t);
    }
    // The op's own signature, when it spells every operand type, must agree with the
    // definitions' (where both are known tensor types), then wins over them.
    if (o.operand_types.size() == in.size()) {
      for (size_t i = 0; i < in.size(); ++i) {
        const Type& d = *in[i];
        const Type& u = o.operand_types[i];
        if ((d.kind == Type::Kind::kTensor && u.kind != Type::Kind::kTensor) ||
            (d.kind == Type::Kind::kTensor && u.kind == Type::Kind::kTensor && d.ranked &&
             u.ranked && (d.elem != u.elem || d.dims != u.dims)))
          return make_error(ErrorCode::kInvalidInput,
                            o.name + ": operand " + std::to_string(i) + " is " + d.text +
                                ", the signature says " + u.text,
                            SourceLoc{file_, o.loc.line, o.loc.col});
        in[i] = &o.operand_types[i];
      }
    }
    const Type* res =
        o.result_types.size() == 1 && o.num_results <= 1 ? &o.result_types[0] : nullptr;
    TJ_TRY(rules(o, in, res, top_level));

    std::vector<Type> bound_types;
    for (const Type* t : in) bound_types.push_back(t ? *t : Type{});
    for (const Region& r : o.regions) TJ_TRY(region(r, o.bound_names, bound_types));

    // Results: "%a, %b:2 =" -> %a, %b#0, %b#1 (and "%b" for the first of a group).
    size_t k = 0;
    for (const auto& [name, count] : o.result_names) {
      for (int i = 0; i < count; ++i, ++k) {
        Type t = k < o.result_types.size() && o.result_types.size() == size_t(o.num_results)
                     ? o.result_types[k]
                     : Type{};
        // SSA: a name is defined once in a function (MLIR rejects redefinitions).
        if (find(name + "#" + std::to_string(i)) || (count == 1 && find(name)))
          return make_error(ErrorCode::kInvalidInput, o.name + ": " + name + " is defined twice",
                            SourceLoc{file_, o.loc.line, o.loc.col});
        if (count == 1) define(name, t);
        define(name + "#" + std::to_string(i), t);
      }
    }
    return {};
  }

  Status same_shape(const Op& o, const Type& a, const Type& b, const std::string& what) const {
    if (a.dims != b.dims)
      return err(o, what + " is " + a.text + ", expected the shape of " + b.text + " (C1)");
    return {};
  }

  // The rules of o's op (by o.code); `res` is its one result type, null when it has several.
  Status rules(const Op& o, const std::vector<const Type*>& in, const Type* res, bool top_level) {
    bool all_known = std::all_of(in.begin(), in.end(), static_tensor) && static_tensor(res);
    if (o.code == OpCode::kFuncReturn && top_level) return func_return(o, in);
    if (o.code == OpCode::kCall) return call(o, in);
    if (!all_known) return {};
    const Type& r = *res;
    // Elementwise unary ops of StableHLO keep the operand's element type (abs may take the
    // magnitude of a complex one); CHLO's are left to the evaluator.
    bool same_type_unary =
        op_family(o.code) == OpFamily::kUnary && op_dialect(o.code) == OpDialect::kStablehlo;
    if (op_family(o.code) == OpFamily::kBinary && in.size() == 2) return binary(o, in, r);
    if (same_type_unary && in.size() == 1) {
      TJ_TRY(same_shape(o, *in[0], r, "the operand"));
      if (o.code != OpCode::kAbs && in[0]->elem != r.elem && in[0]->elem.rfind("complex", 0) != 0)
        return err(o, "element type " + in[0]->elem + " -> " + r.elem + " (C1)");
      return {};
    }
    switch (o.code) {
      case OpCode::kConvert:
      case OpCode::kIsFinite:
        return in.size() == 1 ? same_shape(o, *in[0], r, "the operand") : Status{};
      case OpCode::kCompare:
        return in.size() == 2 ? compare(o, in, r) : Status{};
      case OpCode::kComplex:
        return in.size() == 2 ? complex(o, in, r) : Status{};
      case OpCode::kReal:
      case OpCode::kImag:
        return in.size() == 1 ? part(o, *in[0], r) : Status{};
      case OpCode::kSelect:
        return in.size() == 3 ? select(o, in, r) : Status{};
      case OpCode::kClamp:
        return in.size() == 3 ? clamp(o, in, r) : Status{};
      case OpCode::kBroadcastInDim:
        return in.size() == 1 ? broadcast_in_dim(o, *in[0], r) : Status{};
      case OpCode::kReshape:
        return in.size() == 1 ? reshape(o, *in[0], r) : Status{};
      case OpCode::kTranspose:
        return in.size() == 1 ? transpose(o, *in[0], r) : Status{};
      case OpCode::kConcatenate:
        return !in.empty() ? concatenate(o, in, r) : Status{};
      case OpCode::kSlice:
        return in.size() == 1 && o.attr("start_indices") && o.attr("limit_indices")
                   ? slice(o, *in[0], r)
                   : Status{};
      case OpCode::kIota:
        return in.empty() ? iota(o, r) : Status{};
      case OpCode::kDotGeneral:
        return in.size() == 2 ? dot_general(o, *in[0], *in[1], r) : Status{};
      default:
        return {};
    }
  }

  // func.return at a function's top level: what @f declares.
  Status func_return(const Op& o, const std::vector<const Type*>& in) const {
    if (in.size() != func_->results.size())
      return err(o, "returns " + std::to_string(in.size()) + " values, @" + func_->name +
                        " declares " + std::to_string(func_->results.size()));
    for (size_t i = 0; i < in.size(); ++i)
      if (static_tensor(in[i]) && static_tensor(&func_->results[i]) &&
          (in[i]->dims != func_->results[i].dims || in[i]->elem != func_->results[i].elem))
        return err(o, "result " + std::to_string(i) + " is " + in[i]->text + ", @" + func_->name +
                          " declares " + func_->results[i].text);
    return {};
  }

  // A call names a function of the module and passes it as many arguments as it takes.
  Status call(const Op& o, const std::vector<const Type*>& in) const {
    std::string callee;
    for (const Attr& a : o.args)
      if (a.kind == Attr::Kind::kSymbol) callee = a.text;
    if (const Attr* a = o.attr("callee")) callee = a->text;
    if (!callee.empty() && callee[0] == '@') callee = callee.substr(1);
    if (callee.empty()) return {};
    for (const Func& f : m_.funcs)
      if (f.name == callee) {
        if (f.args.size() != in.size())
          return err(o, "passes " + std::to_string(in.size()) + " arguments, @" + callee +
                            " takes " + std::to_string(f.args.size()));
        return {};
      }
    return err(o, "call to unknown function @" + callee);
  }

  // Elementwise binary ops: operands and result of one shape and element type (C1).
  Status binary(const Op& o, const std::vector<const Type*>& in, const Type& r) const {
    TJ_TRY(same_shape(o, *in[0], r, "operand 0"));
    TJ_TRY(same_shape(o, *in[1], r, "operand 1"));
    // Quantized operands may differ in scale and zero point (spec: C1 compares baseline
    // types); the evaluator reports quantized element types as unsupported.
    bool quantized = in[0]->elem.rfind("!quant.", 0) == 0 || in[1]->elem.rfind("!quant.", 0) == 0 ||
                     r.elem.rfind("!quant.", 0) == 0;
    if (!quantized && (in[0]->elem != r.elem || in[1]->elem != r.elem))
      return err(o, "element types differ: " + in[0]->text + ", " + in[1]->text + " -> " + r.text +
                        " (C1)");
    return {};
  }

  // compare: operands of one shape and element type (C1), an i1 result (C2).
  Status compare(const Op& o, const std::vector<const Type*>& in, const Type& r) const {
    TJ_TRY(same_shape(o, *in[0], r, "operand 0"));
    TJ_TRY(same_shape(o, *in[1], r, "operand 1"));
    if (in[0]->elem != in[1]->elem)
      return err(o, "compares " + in[0]->elem + " with " + in[1]->elem + " (C1)");
    if (r.elem != "i1") return err(o, "result element type is " + r.elem + ", expected i1 (C2)");
    return {};
  }

  // complex: two operands of one shape and type, f32 or f64 (C1); the result
  // complex<that type> of that shape (C2, C3).
  Status complex(const Op& o, const std::vector<const Type*>& in, const Type& r) const {
    TJ_TRY(same_shape(o, *in[0], r, "lhs"));
    TJ_TRY(same_shape(o, *in[1], r, "rhs"));
    if (in[0]->elem != in[1]->elem)
      return err(o, "lhs is " + in[0]->elem + ", rhs " + in[1]->elem + " (C1)");
    if (in[0]->elem != "f32" && in[0]->elem != "f64")
      return err(o, "operands are " + in[0]->elem + ", expected f32 or f64 (C1)");
    if (r.elem != "complex<" + in[0]->elem + ">")
      return err(
          o, "result element type is " + r.elem + ", expected complex<" + in[0]->elem + "> (C3)");
    return {};
  }

  // real, imag: the result has the operand's shape, and the part type of a complex operand
  // or the operand's type (C1, C2).
  Status part(const Op& o, const Type& x, const Type& r) const {
    TJ_TRY(same_shape(o, x, r, "the operand"));
    std::string want = x.elem == "complex<f32>" ? "f32" : x.elem == "complex<f64>" ? "f64" : x.elem;
    if (r.elem != want)
      return err(o, "result element type is " + r.elem + ", expected " + want + " (C2)");
    return {};
  }

  // select: an i1 predicate, scalar or of the result's shape; on_true/on_false of that shape.
  Status select(const Op& o, const std::vector<const Type*>& in, const Type& r) const {
    if (in[0]->elem != "i1")
      return err(o, "predicate is " + in[0]->text + ", expected i1 elements");
    if (!in[0]->dims.empty()) TJ_TRY(same_shape(o, *in[0], r, "the predicate"));
    TJ_TRY(same_shape(o, *in[1], r, "on_true"));
    TJ_TRY(same_shape(o, *in[2], r, "on_false"));
    return {};
  }

  // clamp: min and max scalars or shaped as the operand (C1, C2), one element type (C3).
  Status clamp(const Op& o, const std::vector<const Type*>& in, const Type& r) const {
    for (size_t i : {size_t(0), size_t(2)}) {
      const Type& bound = *in[i];
      if (!bound.dims.empty()) TJ_TRY(same_shape(o, bound, *in[1], i ? "max" : "min"));
      if (bound.elem != in[1]->elem)
        return err(o, std::string(i ? "max" : "min") + " is " + bound.text + ", the operand " +
                          in[1]->text + " (C3)");
    }
    if (r.dims != in[1]->dims || r.elem != in[1]->elem)
      return err(o, "result is " + r.text + ", the operand " + in[1]->text + " (C4)");
    return {};
  }

  // broadcast_in_dim (C2, C4-C6).
  Status broadcast_in_dim(const Op& o, const Type& x, const Type& r) const {
    const Attr* a = o.attr("dims") ? o.attr("dims") : o.attr("broadcast_dimensions");
    if (!a) return err(o, "missing broadcast_dimensions");
    std::vector<int64_t> d = ints_of(*a);
    if (d.size() != x.dims.size())
      return err(o, "broadcast_dimensions " + dims_text(d) + " has " + std::to_string(d.size()) +
                        " entries for an operand of rank " + std::to_string(x.dims.size()) +
                        " (C2)");
    std::set<int64_t> seen;
    for (size_t i = 0; i < d.size(); ++i) {
      if (d[i] < 0 || d[i] >= int64_t(r.dims.size()))
        return err(o, "broadcast dimension " + std::to_string(d[i]) +
                          " is outside the result's rank " + std::to_string(r.dims.size()) +
                          " (C4)");
      if (!seen.insert(d[i]).second)
        return err(o, "broadcast dimension " + std::to_string(d[i]) + " repeats (C5)");
      if (x.dims[i] != 1 && x.dims[i] != r.dims[size_t(d[i])])
        return err(o, "operand dimension " + std::to_string(i) + " (" + std::to_string(x.dims[i]) +
                          ") cannot broadcast to result dimension " + std::to_string(d[i]) + " (" +
                          std::to_string(r.dims[size_t(d[i])]) + ") (C6)");
    }
    return {};
  }

  // reshape keeps the element count (C1).
  Status reshape(const Op& o, const Type& x, const Type& r) const {
    if (elements(x) != elements(r))
      return err(o, "reshapes " + x.text + " (" + std::to_string(elements(x)) + " elements) to " +
                        r.text + " (" + std::to_string(elements(r)) + ") (C1)");
    return {};
  }

  // transpose: a permutation of the operand's dimensions (C2), the result permuted (C4).
  Status transpose(const Op& o, const Type& x, const Type& r) const {
    const Attr* a = o.attr("dims") ? o.attr("dims") : o.attr("permutation");
    if (!a) return err(o, "missing permutation");
    std::vector<int64_t> p = ints_of(*a);
    std::vector<int64_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i)
      if (sorted[i] != int64_t(i) || p.size() != x.dims.size())
        return err(o, "permutation " + dims_text(p) + " is not a permutation of the operand's " +
                          std::to_string(x.dims.size()) + " dimensions (C2)");
    if (p.size() != x.dims.size())
      return err(o, "permutation " + dims_text(p) + " does not match rank " +
                        std::to_string(x.dims.size()) + " (C2)");
    for (size_t i = 0; i < p.size(); ++i)
      if (r.dims.size() != p.size() || r.dims[i] != x.dims[size_t(p[i])])
        return err(
            o, "result " + r.text + " is not " + x.text + " permuted by " + dims_text(p) + " (C4)");
    return {};
  }

  // concatenate (C2, C4, C6).
  Status concatenate(const Op& o, const std::vector<const Type*>& in, const Type& r) const {
    const Attr* a = o.attr("dimension") ? o.attr("dimension") : o.attr("dim");
    if (!a) return {};
    std::vector<int64_t> dv = ints_of(*a);
    if (dv.size() != 1) return {};
    int64_t d = dv[0];
    size_t rank = in[0]->dims.size();
    if (d < 0 || d >= int64_t(rank))
      return err(o, "dimension " + std::to_string(d) + " is outside rank " + std::to_string(rank) +
                        " (C4)");
    int64_t sum = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i]->dims.size() != rank)
        return err(o, "operand " + std::to_string(i) + " has rank " +
                          std::to_string(in[i]->dims.size()) + ", expected " +
                          std::to_string(rank) + " (C2)");
      for (size_t j = 0; j < rank; ++j)
        if (int64_t(j) != d && in[i]->dims[j] != in[0]->dims[j])
          return err(o, "operand " + std::to_string(i) + " is " + in[i]->text +
                            ", which differs from " + in[0]->text + " outside dimension " +
                            std::to_string(d) + " (C2)");
      sum += in[i]->dims[size_t(d)];
    }
    if (r.dims.size() != rank || r.dims[size_t(d)] != sum)
      return err(o, "result " + r.text + " does not have " + std::to_string(sum) +
                        " elements along dimension " + std::to_string(d) + " (C6)");
    return {};
  }

  // slice (C2-C5).
  Status slice(const Op& o, const Type& x, const Type& r) const {
    std::vector<int64_t> s = ints_of(*o.attr("start_indices")),
                         l = ints_of(*o.attr("limit_indices"));
    std::vector<int64_t> st =
        o.attr("strides") ? ints_of(*o.attr("strides")) : std::vector<int64_t>(s.size(), 1);
    if (s.size() != x.dims.size() || l.size() != x.dims.size() || st.size() != x.dims.size())
      return err(o, "start/limit/strides do not have one entry per operand dimension (C2)");
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] < 0 || s[i] > l[i] || l[i] > x.dims[i])
        return err(o, "dimension " + std::to_string(i) + ": 0 <= start " + std::to_string(s[i]) +
                          " <= limit " + std::to_string(l[i]) + " <= " + std::to_string(x.dims[i]) +
                          " does not hold (C3)");
      if (st[i] <= 0) return err(o, "stride " + std::to_string(st[i]) + " is not positive (C4)");
      int64_t want = (l[i] - s[i] + st[i] - 1) / st[i];
      if (r.dims.size() != s.size() || r.dims[i] != want)
        return err(o, "result dimension " + std::to_string(i) + " should be " +
                          std::to_string(want) + ": " + r.text + " (C5)");
    }
    return {};
  }

  // iota's dimension is within the result's rank (C1).
  Status iota(const Op& o, const Type& r) const {
    const Attr* a = o.attr("dim") ? o.attr("dim") : o.attr("iota_dimension");
    if (!a) return {};
    std::vector<int64_t> d = ints_of(*a);
    if (d.size() == 1 && (d[0] < 0 || d[0] >= int64_t(r.dims.size())))
      return err(o, "iota_dimension " + std::to_string(d[0]) + " is outside the result's rank " +
                        std::to_string(r.dims.size()) + " (C1)");
    return {};
  }

  // dot_general (C1-C3, C5, C9, C10, C12).
  Status dot_general(const Op& o, const Type& L, const Type& R, const Type& r) {
    auto [lb, rb, lc, rc] = dot_dims(o, L.dims.size());
    if (lb.size() != rb.size())
      return err(o, "lhs and rhs batching dimensions differ in number (C1)");
    if (lc.size() != rc.size())
      return err(o, "lhs and rhs contracting dimensions differ in number (C2)");
    auto check = [&](const std::vector<int64_t>& a, const std::vector<int64_t>& b, size_t ra,
                     size_t rb_, const char* what, const char* c) -> Status {
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] < 0 || a[i] >= int64_t(ra) || b[i] < 0 || b[i] >= int64_t(rb_))
          return err(o, std::string(what) + " dimension out of range (" + c + ")");
        if (L.dims[size_t(a[i])] != R.dims[size_t(b[i])])
          return err(o, std::string(what) + " dimensions have different sizes: lhs " +
                            std::to_string(L.dims[size_t(a[i])]) + " vs rhs " +
                            std::to_string(R.dims[size_t(b[i])]) + " (" + c + ")");
      }
      return {};
    };
    TJ_TRY(check(lb, rb, L.dims.size(), R.dims.size(), "batching", "C9"));
    TJ_TRY(check(lc, rc, L.dims.size(), R.dims.size(), "contracting", "C10"));
    std::set<int64_t> ls(lb.begin(), lb.end()), rs(rb.begin(), rb.end());
    for (int64_t d : lc)
      if (!ls.insert(d).second)
        return err(o, "lhs dimension " + std::to_string(d) + " is used twice (C3)");
    for (int64_t d : rc)
      if (!rs.insert(d).second)
        return err(o, "rhs dimension " + std::to_string(d) + " is used twice (C5)");
    std::vector<int64_t> want;
    for (int64_t d : lb) want.push_back(L.dims[size_t(d)]);
    for (size_t d = 0; d < L.dims.size(); ++d)
      if (!ls.count(int64_t(d))) want.push_back(L.dims[d]);
    for (size_t d = 0; d < R.dims.size(); ++d)
      if (!rs.count(int64_t(d))) want.push_back(R.dims[d]);
    if (want != r.dims)
      return err(o, "result " + r.text + " should have dimensions " + dims_text(want) + " (C12)");
    return {};
  }
};

}  // namespace

Status verify_module(const Module& m, const std::string& file) { return Verifier(m, file).run(); }

}  // namespace tierjit::shlo
