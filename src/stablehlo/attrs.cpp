// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Attribute helpers shared by the evaluator and the verifier.
#include "stablehlo/attrs.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace tierjit::shlo {

std::string strip(const std::string& name) {
  for (const char* p : {"stablehlo.", "func.", "chlo."})
    if (name.rfind(p, 0) == 0) return name.substr(std::strlen(p));
  return name;
}

// Integer list from an attribute: [1, 2], array<i64: 1, 2>, dense<[1, 2]> : tensor<2xi64>.
std::vector<int64_t> ints_of(const Attr& a) {
  std::vector<int64_t> out;
  if (a.kind == Attr::Kind::kArray) {  // nested arrays flatten: [[1, 2], [3, 4]]
    for (const auto& e : a.items) {
      if (e.kind == Attr::Kind::kInt) {
        out.push_back(e.i);
      } else if (e.kind == Attr::Kind::kArray || e.kind == Attr::Kind::kDense) {
        auto sub = ints_of(e);
        out.insert(out.end(), sub.begin(), sub.end());
      }
    }
    return out;
  }
  if (a.kind == Attr::Kind::kInt) return {a.i};
  std::string_view t = a.kind == Attr::Kind::kDense ? std::string_view(a.text) : a.source;
  size_t colon = t.find(':');
  if (a.kind == Attr::Kind::kOpaque && colon != std::string_view::npos) t = t.substr(colon + 1);
  // An empty dense array, `array<i64>`: its element type's width is not an element.
  if (a.kind == Attr::Kind::kOpaque && colon == std::string_view::npos && t.rfind("array<", 0) == 0)
    return out;
  size_t i = 0;
  while (i < t.size()) {
    if (t.at(i) == '-' || std::isdigit(static_cast<unsigned char>(t.at(i)))) {
      size_t b = i++;
      while (i < t.size() && std::isdigit(static_cast<unsigned char>(t.at(i)))) ++i;
      out.push_back(std::strtoll(std::string(t.substr(b, i - b)).c_str(), nullptr, 10));
    } else {
      ++i;
    }
  }
  return out;
}

// A field of a structured attribute's text (#stablehlo.scatter<a = [1], b = 2>): the
// integers of `key = [...]` or `key = N`; empty when the field is absent (its default).
std::vector<int64_t> field_ints(const Attr& a, const std::string& key, bool* present) {
  std::string_view t = a.source;
  size_t p = 0;
  if (present) *present = false;
  while ((p = t.find(key, p)) != std::string_view::npos) {
    bool start_ok =
        p == 0 || !(std::isalnum(static_cast<unsigned char>(t.at(p - 1))) || t.at(p - 1) == '_');
    size_t q = p + key.size();
    while (q < t.size() && t.at(q) == ' ') ++q;
    if (start_ok && q < t.size() && t.at(q) == '=') {
      ++q;
      while (q < t.size() && t.at(q) == ' ') ++q;
      size_t e = q;
      if (q < t.size() && t.at(q) == '[') {
        e = t.find(']', q);
      } else {
        while (e < t.size() &&
               (std::isdigit(static_cast<unsigned char>(t.at(e))) || t.at(e) == '-'))
          ++e;
      }
      Attr tmp;
      tmp.kind = Attr::Kind::kOpaque;
      tmp.source = std::string(t.substr(q, e == std::string_view::npos ? t.size() - q : e - q + 1));
      if (present) *present = true;
      return ints_of(tmp);
    }
    p = q;
  }
  return {};
}

std::vector<int64_t> strides_of(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

bool contains(const std::vector<int64_t>& v, int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::vector<int64_t> axes_except(size_t rank, const std::vector<int64_t>& a,
                                 const std::vector<int64_t>& b) {
  std::vector<int64_t> out;
  for (size_t d = 0; d < rank; ++d)
    if (!contains(a, int64_t(d)) && !contains(b, int64_t(d))) out.push_back(int64_t(d));
  return out;
}

std::vector<int64_t> op_ints(const Op& op, const char* a, const char* b) {
  const Attr* x = op.attr(a);
  if (x == nullptr && b != nullptr) x = op.attr(b);
  return x ? ints_of(*x) : std::vector<int64_t>{};
}

bool reduce_precision_bits(const Op& op, int64_t& eb, int64_t& mb) {
  eb = 8, mb = 23;
  if (const Attr* a = op.attr("format")) {  // e5m10
    std::string f = a->text.empty() ? a->source : a->text;
    size_t m = f.find('m');
    if (f.size() > 1 && f[0] == 'e' && m != std::string::npos) {
      eb = std::atoll(f.substr(1, m - 1).c_str());
      mb = std::atoll(f.substr(m + 1).c_str());
    }
  }
  if (const Attr* a = op.attr("exponent_bits")) eb = a->i;
  if (const Attr* a = op.attr("mantissa_bits")) mb = a->i;
  return eb >= 1 && eb <= 11 && mb >= 0 && mb <= 52;
}

bool window_attrs(const Op& op, size_t rank, WindowAttrs& out) {
  auto attr_or = [&](const char* key, int64_t def) {
    std::vector<int64_t> v = op_ints(op, key);
    if (v.empty()) v.assign(rank, def);
    return v;
  };
  out.dims = attr_or("window_dimensions", 1);
  out.strides = attr_or("window_strides", 1);
  out.base_dil = attr_or("base_dilations", 1);
  out.win_dil = attr_or("window_dilations", 1);
  out.pad = attr_or("padding", 0);
  if (out.pad.size() == rank || out.pad.size() == 1)
    out.pad.assign(2 * rank, out.pad.size() == 1 && rank != 1 ? out.pad.at(0) : 0);
  return out.dims.size() == rank && out.strides.size() == rank && out.base_dil.size() == rank &&
         out.win_dil.size() == rank && out.pad.size() == 2 * rank;
}

bool gather_dims(const Op& op, GatherDims& out) {
  const Attr* dn = op.attr("dimension_numbers");
  if (dn == nullptr) return false;
  out.offset_dims = field_ints(*dn, "offset_dims");
  out.collapsed = field_ints(*dn, "collapsed_slice_dims");
  out.operand_batching = field_ints(*dn, "operand_batching_dims");
  out.indices_batching = field_ints(*dn, "start_indices_batching_dims");
  out.start_map = field_ints(*dn, "start_index_map");
  std::vector<int64_t> ivd = field_ints(*dn, "index_vector_dim");
  out.index_vector_dim = ivd.empty() ? 0 : ivd[0];
  return true;
}

bool scatter_dims(const Op& op, ScatterDims& out) {
  const Attr* dn = op.attr("scatter_dimension_numbers");
  if (dn == nullptr) return false;
  out.update_window = field_ints(*dn, "update_window_dims");
  out.inserted_window = field_ints(*dn, "inserted_window_dims");
  out.input_batching = field_ints(*dn, "input_batching_dims");
  out.indices_batching = field_ints(*dn, "scatter_indices_batching_dims");
  out.to_operand = field_ints(*dn, "scatter_dims_to_operand_dims");
  std::vector<int64_t> ivd = field_ints(*dn, "index_vector_dim");
  out.index_vector_dim = ivd.empty() ? 0 : ivd[0];
  return true;
}

std::string scatter_form(const Op& op, size_t operands, ScatterForm& out) {
  if (operands < 3 || (operands - 1) % 2 != 0) return "scatter operands";
  out.n = (operands - 1) / 2;
  if (!scatter_dims(op, out.dims) || op.regions.empty())
    return "scatter without dimension numbers or body";
  return "";
}

DotDims dot_dims(const Op& op, size_t lhs_rank) {
  DotDims d;
  if (op.code == OpCode::kDot) {
    d.lc = {int64_t(lhs_rank) - 1};
    d.rc = {0};
  }
  if (const Attr* a = op.attr("batching_dims"); a && a->items.size() == 2)
    d.lb = ints_of(a->items.at(0)), d.rb = ints_of(a->items.at(1));
  if (const Attr* a = op.attr("contracting_dims"); a && a->items.size() == 2)
    d.lc = ints_of(a->items.at(0)), d.rc = ints_of(a->items.at(1));
  if (const Attr* a = op.attr("dot_dimension_numbers")) {
    d.lb = field_ints(*a, "lhs_batching_dimensions");
    d.rb = field_ints(*a, "rhs_batching_dimensions");
    d.lc = field_ints(*a, "lhs_contracting_dimensions");
    d.rc = field_ints(*a, "rhs_contracting_dimensions");
  }
  return d;
}

bool slice_spec(const Op& op, size_t rank, std::vector<int64_t>& start,
                std::vector<int64_t>& stride) {
  start.assign(rank, 0);
  stride.assign(rank, 1);
  if (const Attr* s = op.attr("start_indices")) start = ints_of(*s);
  if (const Attr* s = op.attr("strides")) stride = ints_of(*s);
  for (const auto& a : op.args) {  // pretty "[a:b:s, ...]"
    if (a.kind != Attr::Kind::kOpaque || a.text.empty() || a.text.at(0) != '[') continue;
    std::string_view t = std::string_view(a.text).substr(1, a.text.size() - 2);
    size_t d = 0;
    while (!t.empty() && d < rank) {
      size_t comma = t.find(',');
      std::string_view part = t.substr(0, comma);
      std::vector<int64_t> nums;
      size_t i = 0;
      while (i < part.size()) {
        if (std::isdigit(static_cast<unsigned char>(part.at(i))) || part.at(i) == '-') {
          size_t b = i++;
          while (i < part.size() && std::isdigit(static_cast<unsigned char>(part.at(i)))) ++i;
          nums.push_back(std::strtoll(std::string(part.substr(b, i - b)).c_str(), nullptr, 10));
        } else {
          ++i;
        }
      }
      if (!nums.empty()) start.at(d) = nums.at(0);
      if (nums.size() > 2) stride.at(d) = nums.at(2);
      ++d;
      if (comma == std::string_view::npos) break;
      t.remove_prefix(comma + 1);
    }
  }
  return start.size() == rank && stride.size() == rank;
}

std::string compare_direction(const Op& op, bool* total_order) {
  std::string dir, kind;
  for (const auto& a : op.args) {
    if (a.kind != Attr::Kind::kWord) continue;
    if (dir.empty()) {
      dir = a.text;
    } else {
      kind = a.text;
    }
  }
  if (const Attr* a = op.attr("comparison_direction")) {
    dir = a->source.substr(a->source.find_last_of(' ') + 1);
    if (!dir.empty() && dir.back() == '>') dir.pop_back();
  }
  if (const Attr* a = op.attr("compare_type")) kind = a->source;
  if (total_order) *total_order = kind.find("TOTALORDER") != std::string::npos;
  return dir;
}

std::string conv_dims(const Op& op, size_t rank, ConvDims& out) {
  size_t ns = rank < 2 ? 0 : rank - 2;
  const Attr* dn = op.attr("dim_numbers") ? op.attr("dim_numbers") : op.attr("dimension_numbers");
  if (dn == nullptr) return "convolution without dimension numbers";
  std::string_view t = dn->source;
  size_t g = 0, pos = 0;
  while (g < 3 && (pos = t.find('[', pos)) != std::string_view::npos) {
    size_t end = t.find(']', pos);
    if (end == std::string_view::npos) break;
    std::string_view body = t.substr(pos + 1, end - pos - 1);
    ConvDims::Layout& l = out.lay[g];
    l.spatial.assign(ns, -1);
    int64_t p = 0;
    size_t i = 0;
    while (i <= body.size()) {
      size_t comma = body.find(',', i);
      if (comma == std::string_view::npos) comma = body.size();
      std::string_view tok = body.substr(i, comma - i);
      while (!tok.empty() && tok.front() == ' ') tok.remove_prefix(1);
      while (!tok.empty() && tok.back() == ' ') tok.remove_suffix(1);
      if (tok == "b" || tok == "i") {
        l.batch = p;
      } else if (tok == "f" || tok == "o") {
        l.feature = p;
      } else if (!tok.empty() && std::isdigit(static_cast<unsigned char>(tok.at(0)))) {
        size_t d = size_t(std::atoi(std::string(tok).c_str()));
        if (d < ns) l.spatial.at(d) = p;
      }
      ++p;
      i = comma + 1;
    }
    pos = end + 1;
    ++g;
  }
  for (const auto& l : out.lay)
    if (l.batch < 0 || l.feature < 0 || l.spatial.size() != ns ||
        std::count(l.spatial.begin(), l.spatial.end(), -1) != 0)
      return "malformed convolution dimension numbers";
  out.stride.assign(ns, 1);
  out.lhs_dil.assign(ns, 1);
  out.rhs_dil.assign(ns, 1);
  out.pad.assign(2 * ns, 0);
  out.rev.assign(ns, 0);
  // Window attributes: pretty `window = {stride = .., pad = .., lhs_dilate = .., rhs_dilate
  // = .., reverse = ..}` or the generic names.
  auto take = [&](const Attr& a, std::vector<int64_t>& dst) {
    std::vector<int64_t> v;
    if (a.kind == Attr::Kind::kArray && !a.items.empty() &&
        a.items.at(0).kind == Attr::Kind::kBool) {
      for (const auto& e : a.items) v.push_back(e.b);
    } else if (a.source.find("true") != std::string::npos ||
               a.source.find("false") != std::string::npos) {
      std::string_view s = a.source;
      for (size_t p = 0; p < s.size(); ++p) {
        if (s.substr(p, 4) == "true") v.push_back(1);
        if (s.substr(p, 5) == "false") v.push_back(0);
      }
    } else {
      v = ints_of(a);
    }
    if (v.size() == dst.size()) dst = v;
  };
  if (const Attr* w = op.attr("window"); w && w->kind == Attr::Kind::kDict) {
    for (const auto& f : w->fields) {
      if (f.name == "stride") take(f.value, out.stride);
      if (f.name == "pad") take(f.value, out.pad);
      if (f.name == "lhs_dilate") take(f.value, out.lhs_dil);
      if (f.name == "rhs_dilate") take(f.value, out.rhs_dil);
      if (f.name == "reverse") take(f.value, out.rev);
    }
  }
  if (const Attr* a = op.attr("window_strides")) take(*a, out.stride);
  if (const Attr* a = op.attr("padding")) take(*a, out.pad);
  if (const Attr* a = op.attr("lhs_dilation")) take(*a, out.lhs_dil);
  if (const Attr* a = op.attr("rhs_dilation")) take(*a, out.rhs_dil);
  if (const Attr* a = op.attr("window_reversal")) take(*a, out.rev);
  if (const Attr* a = op.attr("feature_group_count")) out.fgc = std::max<int64_t>(1, a->i);
  if (const Attr* a = op.attr("batch_group_count")) out.bgc = std::max<int64_t>(1, a->i);
  return "";
}

}  // namespace tierjit::shlo
