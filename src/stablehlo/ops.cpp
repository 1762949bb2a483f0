// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The op table's names and families (ops.def) and name -> OpCode resolution.
#include "stablehlo/ops.hpp"

#include <array>
#include <string>
#include <unordered_map>
#include <utility>

#include "stablehlo/ast.hpp"

namespace tierjit::shlo {
namespace {

struct Row {
  std::string_view name, short_name;
  OpFamily family;
  OpDialect dialect;
};

constexpr std::string_view short_of(std::string_view name) {
  for (std::string_view p : {"stablehlo.", "func.", "chlo."})
    if (name.substr(0, p.size()) == p) return name.substr(p.size());
  return name;
}

constexpr OpDialect dialect_of(std::string_view name) {
  constexpr std::pair<std::string_view, OpDialect> kPrefixes[] = {
      {"stablehlo.", OpDialect::kStablehlo},
      {"chlo.", OpDialect::kChlo},
      {"func.", OpDialect::kFunc},
      {"check.", OpDialect::kCheck},
      {"interpreter.", OpDialect::kInterpreter}};
  for (const auto& [p, d] : kPrefixes)
    if (name.substr(0, p.size()) == p) return d;
  return OpDialect::kNone;
}

constexpr std::array kRows = {
    Row{"", "", OpFamily::kUnknown, OpDialect::kNone},
#define TJ_OP(ENUM, NAME, FAMILY) Row{NAME, short_of(NAME), OpFamily::FAMILY, dialect_of(NAME)},
#include "stablehlo/ops.def"
#undef TJ_OP
};

const Row& row(OpCode code) {
  size_t k = size_t(code);
  return kRows[k < kRows.size() ? k : 0];
}

struct Maps {
  std::unordered_map<std::string_view, OpCode> full, short_form;
  Maps() {
    for (size_t k = 1; k < kRows.size(); ++k) {
      full.emplace(kRows[k].name, OpCode(k));
      if (kRows[k].short_name != kRows[k].name)  // the first row of a short form wins
        short_form.emplace(kRows[k].short_name, OpCode(k));
    }
  }
};

}  // namespace

OpCode op_code(std::string_view name) {
  static const Maps maps;
  if (auto it = maps.full.find(name); it != maps.full.end()) return it->second;
  std::string_view s = short_of(name);
  if (s.find('.') != std::string_view::npos) return OpCode::kUnknown;
  auto it = maps.short_form.find(s);
  return it == maps.short_form.end() ? OpCode::kUnknown : it->second;
}

std::string_view op_name(OpCode code) { return row(code).name; }
std::string_view op_short_name(OpCode code) { return row(code).short_name; }
OpFamily op_family(OpCode code) { return row(code).family; }
OpDialect op_dialect(OpCode code) { return row(code).dialect; }

void Op::set_name(std::string n) {
  name = std::move(n);
  code = op_code(name);
}

}  // namespace tierjit::shlo
