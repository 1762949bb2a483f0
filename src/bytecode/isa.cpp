// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The opcode table (from opcodes.def) and Module helpers.
#include "bytecode/isa.hpp"

#include <unordered_map>

namespace tierjit::bytecode {

const std::array<OpInfo, kNumOps> kOpInfo = {{
    {"<invalid>", Kind::TRAP, 0},
#define TJ_OP(NAME, MN, KIND, W, VAR, EXPR) {MN, Kind::KIND, W},
#include "bytecode/opcodes.def"
#undef TJ_OP
}};

Op op_from_mnemonic(std::string_view mnemonic) {
  static const auto* table = [] {
    auto* t = new std::unordered_map<std::string_view, Op>();
    for (int i = 1; i < kNumOps; ++i) (*t)[kOpInfo[i].mnemonic] = static_cast<Op>(i);
    return t;
  }();
  auto it = table->find(mnemonic);
  return it == table->end() ? Op::kInvalid : it->second;
}

int Module::find_function(std::string_view name) const {
  for (size_t i = 0; i < functions.size(); ++i)
    if (functions[i].name == name) return static_cast<int>(i);
  return -1;
}

}  // namespace tierjit::bytecode
