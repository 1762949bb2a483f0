// Attribute helpers shared by the evaluator and the verifier.
#include "stablehlo/attrs.hpp"

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

bool is_elementwise_binary(const std::string& op) {
  static const char* const kBinary[] = {"add",
                                        "subtract",
                                        "multiply",
                                        "divide",
                                        "remainder",
                                        "maximum",
                                        "minimum",
                                        "power",
                                        "and",
                                        "or",
                                        "xor",
                                        "atan2",
                                        "shift_left",
                                        "shift_right_logical",
                                        "shift_right_arithmetic",
                                        "next_after"};
  for (const char* b : kBinary)
    if (op == b) return true;
  return false;
}

}  // namespace tierjit::shlo
