// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The disassembler: canonical .tjasm for a verified module (labels L<byte pc>).
#include <fmt/format.h>

#include <set>

#include "bytecode/text.hpp"

namespace tierjit::bytecode {
namespace {

std::string escape(std::string_view bytes) {
  std::string s;
  for (unsigned char c : bytes) {
    switch (c) {
      case '\n':
        s += "\\n";
        break;
      case '\t':
        s += "\\t";
        break;
      case '\\':
        s += "\\\\";
        break;
      case '"':
        s += "\\\"";
        break;
      default:
        if (c >= 0x20 && c < 0x7f && c != '#' && c != ';')
          s += static_cast<char>(c);
        else
          s += fmt::format("\\x{:02x}", c);
    }
  }
  return s;
}

std::string operands(const Module& m, const Insn& in, size_t pc) {
  auto r = [](unsigned x) { return fmt::format("r{}", x); };
  auto label = [&] { return fmt::format("L{}", static_cast<int64_t>(pc) + in.simm()); };
  switch (in.info().kind) {
    case Kind::BIN:
    case Kind::BINZ:
      return fmt::format("{}, {}, {}", r(in.a), r(in.b), r(in.c));
    case Kind::BINI:
      return fmt::format("{}, {}, {}", r(in.a), r(in.b), in.simm());
    case Kind::UN:
      return fmt::format("{}, {}", r(in.a), r(in.b));
    case Kind::LDI:
      return in.op == Op::LDHI ? fmt::format("{}, 0x{:x}", r(in.a), in.imm)
                               : fmt::format("{}, {}", r(in.a), in.simm());
    case Kind::LD:
      return fmt::format("{}, [{}{:+}]", r(in.a), r(in.b), in.simm());
    case Kind::ST:
      return fmt::format("[{}{:+}], {}", r(in.a), in.simm(), r(in.b));
    case Kind::BR2:
      return fmt::format("{}, {}, {}", r(in.a), r(in.b), label());
    case Kind::BR1:
      return fmt::format("{}, {}", r(in.a), label());
    case Kind::JMP:
      return label();
    case Kind::SEL:
      return fmt::format("{}, {}, {}, {}", r(in.a), r(in.b), r(in.c), r(in.imm));
    case Kind::CALL:
      return fmt::format("{}, {}, {}, {}", r(in.a), m.functions[in.imm].name, r(in.b), in.c);
    case Kind::CALLR:
      return fmt::format("{}, {}, {}, {}", r(in.a), r(in.imm), r(in.b), in.c);
    case Kind::HCALL:
      return fmt::format("{}, {}, {}, {}", r(in.a), m.imports[in.imm], r(in.b), in.c);
    case Kind::RET:
    case Kind::HALT:
      return r(in.a);
    case Kind::TRAP:
      return fmt::format("{}", in.imm);
    case Kind::FENCE:
      return "";
    case Kind::CAS:
      return fmt::format("{}, [{}], {}, {}", r(in.a), r(in.b), r(in.c), r(in.imm));
    case Kind::XCHG:
    case Kind::XADD:
      return fmt::format("{}, [{}], {}", r(in.a), r(in.b), r(in.c));
  }
  return "";
}

}  // namespace

std::string disassemble(const Module& m) {
  std::string out =
      fmt::format(".memory {}\n.entry {}\n", m.memory_size, m.functions[m.entry].name);
  for (const auto& name : m.imports) out += fmt::format(".import {}\n", name);
  for (const auto& d : m.data) {
    out += fmt::format("\n.data 0x{:x}\n", d.addr);
    for (size_t i = 0; i < d.bytes.size(); i += 48)
      out += fmt::format("  .ascii \"{}\"\n", escape(std::string_view(d.bytes).substr(i, 48)));
  }
  for (const auto& f : m.functions) {
    out += fmt::format("\n.func {} {} {}\n", f.name, f.nargs, f.nregs);
    std::set<size_t> targets;
    for (size_t w = 0; w < f.code.size();) {
      Insn in = decode(f.code.data(), w);
      if (is_branch(in.info().kind)) targets.insert(w * 4 + in.simm());
      w += in.size() / 4;
    }
    for (size_t w = 0; w < f.code.size();) {
      Insn in = decode(f.code.data(), w);
      if (targets.count(w * 4)) out += fmt::format("L{}:\n", w * 4);
      std::string ops = operands(m, in, w * 4);
      out += fmt::format("  {}{}{}\n", in.info().mnemonic, ops.empty() ? "" : " ", ops);
      w += in.size() / 4;
    }
    out += ".end\n";
  }
  return out;
}

}  // namespace tierjit::bytecode
