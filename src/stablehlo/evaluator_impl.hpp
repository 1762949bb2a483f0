// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The reference evaluator's internals (see evaluator.hpp), shared by its files: the scope of
// named values, element and index helpers, and Evaluator::Impl. evaluator.cpp runs functions
// and blocks and dispatches each op by its family (ops.def) to the files that implement the
// families: eval_elementwise.cpp, eval_data.cpp, eval_reduce.cpp, eval_linalg.cpp and
// eval_control.cpp.
#pragma once

#include <complex>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "stablehlo/attrs.hpp"
#include "stablehlo/collectives.hpp"
#include "stablehlo/evaluator.hpp"

namespace tierjit::shlo {
namespace eval_impl {

using Values = std::vector<Tensor>;

struct Scope {
  std::unordered_map<std::string, Values> vals;
  const Scope* parent = nullptr;
  const Values* find(const std::string& n) const {
    for (const Scope* s = this; s; s = s->parent) {
      auto it = s->vals.find(n);
      if (it != s->vals.end()) return &it->second;
    }
    return nullptr;
  }
};

// Window, stride and dilation attributes are bounded so index arithmetic cannot overflow.
inline constexpr int64_t kMaxAttr = int64_t(1) << 20;
inline bool in_range(const std::vector<int64_t>& v, int64_t lo, int64_t hi) {
  for (int64_t x : v)
    if (x < lo || x > hi) return false;
  return true;
}

// Calls fn(index vector, flat position) over every element of `shape` in row-major order.
inline void for_each_index(const std::vector<int64_t>& shape,
                           const std::function<void(const std::vector<int64_t>&, int64_t)>& fn) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    fn(idx, flat);
    for (int k = int(shape.size()) - 1; k >= 0; --k) {
      if (++idx.at(size_t(k)) < shape.at(size_t(k))) break;
      idx.at(size_t(k)) = 0;
    }
  }
}

// Element access across float/int storage.
inline double get_f(const Tensor& t, int64_t k) {
  if (t.floating()) return t.f.at(size_t(k));
  if (t.type == ElemType::kU64) return double(uint64_t(t.i.at(size_t(k))));
  return double(t.i.at(size_t(k)));
}
// Complex elements: computed in complex<double>, each part rounded once to the part type.
using shlo::Cplx;
inline Cplx cget(const Tensor& t, int64_t k) {  // a real element has imaginary part 0
  if (t.complex()) return {t.f.at(size_t(k)), t.im.at(size_t(k))};
  return {get_f(t, k), 0.0};
}
inline Cplx cround(ElemType t, Cplx v) {
  return {round_float(t, v.real()), round_float(t, v.imag())};
}
inline void cset(Tensor& t, int64_t k, Cplx v) {
  t.f.at(size_t(k)) = round_float(t.type, v.real());
  t.im.at(size_t(k)) = round_float(t.type, v.imag());
}
inline void copy_elem(Tensor& dst, int64_t dk, const Tensor& src, int64_t sk) {
  if (dst.floating()) {
    dst.f.at(size_t(dk)) = src.f.at(size_t(sk));
    if (dst.complex()) dst.im.at(size_t(dk)) = src.im.at(size_t(sk));
  } else {
    dst.i.at(size_t(dk)) = src.i.at(size_t(sk));
  }
}

// Element k of t as a rank-0 tensor (the argument form of region bodies).
inline Tensor scalar_at(const Tensor& t, int64_t k) {
  Tensor s;
  s.type = t.type;
  if (t.floating()) {
    s.f = {t.f.at(size_t(k))};
    if (t.complex()) s.im = {t.im.at(size_t(k))};
  } else {
    s.i = {t.i.at(size_t(k))};
  }
  return s;
}

// Gather/scatter index arithmetic (spec "gather" and "scatter"): component `comp` of the
// start index at batch position `batch` of the index tensor, index_vector_dim left out.
inline int64_t index_component(const Tensor& idxs, const std::vector<int64_t>& strides, int64_t ivd,
                               const std::vector<int64_t>& batch, int64_t comp) {
  int64_t off = 0;
  size_t b = 0;
  for (size_t d = 0; d < idxs.shape.size(); ++d)
    off += (int64_t(d) == ivd ? comp : batch.at(b++)) * strides.at(d);
  return idxs.i.at(size_t(off));
}
// full[operand batching dim j] += the batch position of index batching dim j.
inline void add_batching(std::vector<int64_t>& full, const std::vector<int64_t>& operand_dims,
                         const std::vector<int64_t>& index_dims, int64_t ivd,
                         const std::vector<int64_t>& batch) {
  for (size_t j = 0; j < operand_dims.size(); ++j) {
    int64_t sd = index_dims.at(j);
    full.at(size_t(operand_dims.at(j))) += batch.at(size_t(sd < ivd ? sd : sd - 1));
  }
}
// full[d] += outer[window_dims[w++]] for each axis d not in `skip_a`/`skip_b` (the window
// index with zeros inserted at the collapsed/inserted and batching axes).
inline void add_window(std::vector<int64_t>& full, const std::vector<int64_t>& skip_a,
                       const std::vector<int64_t>& skip_b, const std::vector<int64_t>& window_dims,
                       const std::vector<int64_t>& outer) {
  size_t w = 0;
  for (int64_t d : axes_except(full.size(), skip_a, skip_b))
    full.at(size_t(d)) += outer.at(size_t(window_dims.at(w++)));
}
inline bool int_less(ElemType t, int64_t a, int64_t b) {
  return t == ElemType::kU64 ? uint64_t(a) < uint64_t(b) : a < b;
}

}  // namespace eval_impl

struct Evaluator::Impl {
  using Values = eval_impl::Values;
  using Scope = eval_impl::Scope;

  const Module& module;
  std::string file;
  CheckOutcome checks;
  int depth = 0;
  const Op* current = nullptr;  // the op being evaluated (for errors)
  int64_t max_elements = int64_t(1) << 28;
  int64_t ops_left = int64_t(1) << 40;
  int64_t replica = 0, partition = 0;  // of the program interpreter.run_parallel is running

  Error err(const Op& op, ErrorCode code, const std::string& msg) {
    return make_error(code, op.name + ": " + msg, SourceLoc{file, op.loc.line, op.loc.col});
  }
  const Func* find_func(const std::string& name) {
    for (const auto& f : module.funcs)
      if (f.name == name) return &f;
    return nullptr;
  }

  Expected<Values> call(const std::string& name, Values args, const Op* site) {
    const Func* f = find_func(name);
    if (f == nullptr) {
      Error e = make_error(ErrorCode::kInvalidInput, "call to unknown function @" + name);
      if (site) e.where = SourceLoc{file, site->loc.line, site->loc.col};
      return e;
    }
    if (++depth > 64) {  // eval frames are large (ASan: ~40 KB); 64 fits any 8 MB stack
      --depth;
      return make_error(ErrorCode::kInvalidInput, "call depth over 64 at @" + name);
    }
    Scope scope;
    if (args.size() != f->args.size()) {
      --depth;
      return make_error(ErrorCode::kInvalidInput,
                        "@" + name + " takes " + std::to_string(f->args.size()) +
                            " arguments, got " + std::to_string(args.size()),
                        SourceLoc{file, f->loc.line, f->loc.col});
    }
    for (size_t k = 0; k < args.size(); ++k)
      scope.vals[f->args.at(k).first] = {std::move(args.at(k))};
    auto r = run_block(f->body.blocks.at(0), scope);
    --depth;
    return r;
  }

  // Runs the ops of a block; returns the operands of its terminator (return).
  Expected<Values> run_block(const Block& b, Scope& scope) {
    for (const Op& op : b.ops) {
      if (is_return(op.code)) {
        Values out;
        for (const auto& v : op.operands) {
          TJ_ASSIGN_OR_RETURN(Tensor t, get(op, scope, v));
          out.push_back(std::move(t));
        }
        return out;
      }
      TJ_ASSIGN_OR_RETURN(Values res, eval(op, scope));
      bind(op, scope, std::move(res));
    }
    return Values{};
  }

  // Names an op's results in `scope`.
  static void bind(const Op& op, Scope& scope, Values res) {
    for_each_result(op, std::move(res),
                    [&](const std::string& name, Values v) { scope.vals[name] = std::move(v); });
  }

  // ---- distribution ops (collectives.hpp) ----
  Grid grid{};               // of the run_parallel being run (1 x 1 outside one)
  bool in_parallel = false;  // run_lockstep is running programs
  Mailbox<Tensor> mail{};    // send/recv channels and the infeed queue

  static Tensor token() {  // a token carries no data: an empty tuple
    Tensor t;
    t.is_tuple = true;
    return t;
  }

  Expected<Values> run_region(const Region& r, Values args, const Scope& outer,
                              const std::vector<std::string>& names = {}) {
    Scope scope;
    scope.parent = &outer;
    if (r.blocks.empty()) return Values{};
    const Block& b = r.blocks.at(0);
    const auto* arg_names = &names;
    std::vector<std::string> block_names;
    if (!b.args.empty()) {
      for (const auto& a : b.args) block_names.push_back(a.first);
      arg_names = &block_names;
    }
    for (size_t k = 0; k < args.size() && k < arg_names->size(); ++k)
      scope.vals[(*arg_names).at(k)] = {std::move(args.at(k))};
    return run_block(b, scope);
  }

  Expected<Tensor> get(const Op& op, const Scope& scope, const ValueRef& v) {
    const Values* vals = scope.find(v.name);
    size_t k = v.index < 0 ? 0 : size_t(v.index);
    if (vals == nullptr || k >= vals->size()) {
      std::string what = op.name + ": unknown value " + v.name;
      if (v.index >= 0) what += '#' + std::to_string(v.index);
      return make_error(ErrorCode::kInvalidInput, what, SourceLoc{file, v.loc.line, v.loc.col});
    }
    return (*vals).at(k);
  }

  Expected<Tensor> result_tensor(const Op& op, size_t k = 0) {
    if (k >= op.result_types.size()) {
      return err(op, ErrorCode::kInvalidInput, "missing result type");
    }
    auto t = make_tensor(op.result_types.at(k));
    if (!t.ok()) return err(op, t.error().code, t.error().message);
    return t;
  }

  // Operand-count and shape checks shared by the ops (errors located at `op`).
  Status need(const Op& op, const Values& in, size_t count) {
    if (in.size() == count) return {};
    return err(op, ErrorCode::kInvalidInput,
               "takes " + std::to_string(count) + " operands, got " + std::to_string(in.size()));
  }
  Status same_shape(const Op& op, const Tensor& a, const Tensor& b) {
    if (a.shape == b.shape) return {};
    return err(op, ErrorCode::kInvalidInput,
               "operand shapes differ: " + a.type_text() + " vs " + b.type_text());
  }
  Error unsupported(const Op& op) {
    return err(op, ErrorCode::kUnsupported, "operation is not supported by the evaluator yet");
  }

  // ---- dispatch (evaluator.cpp): one op, by its family (ops.def), then its code ----
  Expected<Values> eval(const Op& op, Scope& scope);
  /// `op` evaluated as the op `code` (its own, or a dynamic form's static counterpart).
  Expected<Values> dispatch(const Op& op, OpCode code, Values in, Scope& scope);
  Expected<Values> eval_dynamic(const Op& op, Values in, Scope& scope);

  // ---- eval_elementwise.cpp ----
  Expected<Values> eval_unary(const Op& op, Values& in);
  Expected<Values> eval_binary(const Op& op, Values& in);
  Expected<Values> eval_elementwise(const Op& op, Values& in);
  Expected<Values> eval_compare(const Op& op, Values& in);
  Expected<Values> eval_convert(const Op& op, Values& in);
  Expected<Values> eval_clamp(const Op& op, Values& in);

  // ---- eval_data.cpp ----
  Expected<Values> eval_data(const Op& op, OpCode code, Values& in);
  Expected<Values> eval_constant(const Op& op);
  Expected<Values> eval_iota(const Op& op);
  Expected<Values> eval_bitcast_convert(const Op& op, Values& in);
  Expected<Values> eval_broadcast_in_dim(const Op& op, Values& in);
  Expected<Values> eval_transpose(const Op& op, Values& in);
  Expected<Values> eval_slice(const Op& op, Values& in);
  Expected<Values> eval_concatenate(const Op& op, Values& in);
  Expected<Values> eval_reverse(const Op& op, Values& in);
  Expected<Values> eval_pad(const Op& op, Values& in);
  Expected<Values> eval_gather(const Op& op, Values& in);
  Expected<Values> eval_dynamic_slice(const Op& op, Values& in);
  Expected<Values> eval_dynamic_update_slice(const Op& op, Values& in);
  Expected<Values> eval_tuple(const Op& op, Values& in);
  Expected<Values> eval_get_tuple_element(const Op& op, Values& in);

  // ---- eval_reduce.cpp ----
  Expected<Values> eval_reduction(const Op& op, Values& in, const Scope& scope);
  Expected<Values> eval_reduce(const Op& op, const Values& in, const Scope& scope);
  /// One step of a reduction body (reduce, scatter): out[j][at] = body(out[0..n)[at],
  /// xs[first..first+n)[k]) for j < n. `applies` (reduce's "applies stablehlo.OP" form, one
  /// operand) replaces the op's region when not null.
  Status fold_into(const Op& op, const Op* applies, Values& out, int64_t at, const Values& xs,
                   size_t first, int64_t k, const Scope& scope);
  Expected<Values> eval_scatter(const Op& op, const Values& in, const Scope& scope);
  Expected<Values> eval_reduce_window(const Op& op, const Values& in, const Scope& scope);
  Expected<Values> eval_sort(const Op& op, const Values& in, const Scope& scope);
  Expected<Values> eval_select_and_scatter(const Op& op, const Values& in, const Scope& scope);
  Expected<Values> eval_map(const Op& op, const Values& in, const Scope& scope);
  Expected<Values> eval_top_k(const Op& op, const Values& in);

  // ---- eval_linalg.cpp ----
  Expected<Values> eval_linalg(const Op& op, Values& in);
  Expected<Values> eval_dot_general(const Op& op, const Values& in);
  Expected<Values> eval_convolution(const Op& op, const Values& in);
  Expected<Values> eval_triangular_solve(const Op& op, const Values& in);
  Expected<Values> eval_fft(const Op& op, const Values& in);

  // ---- eval_control.cpp: calls, control flow, checks, distribution ----
  Expected<Values> eval_control(const Op& op, Values& in, Scope& scope);
  Expected<Values> eval_custom_call(const Op& op, const Values& in);
  Expected<Values> eval_while(const Op& op, Values& in, Scope& scope);
  Expected<Values> eval_check(const Op& op, const std::string& name, const Values& in);
  Expected<Values> eval_probe(const Op& op, Values& in);
  Expected<Values> eval_run_parallel(const Op& op, Values in);
  Expected<Values> eval_distribution(const Op& op, Values in);
  Expected<Values> eval_process_id(const Op& op);
  /// Results of collective `ops[j]` for each member j (operands[j] its operands).
  Expected<std::vector<Values>> eval_collective(const std::vector<int64_t>& group,
                                                const std::vector<const Op*>& ops,
                                                const std::vector<Values>& operands,
                                                const Scope& scope);
};

}  // namespace tierjit::shlo
