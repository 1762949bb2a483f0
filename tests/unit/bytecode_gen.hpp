// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// A seeded generator of random valid bytecode modules covering every opcode, with loops
// (ended by the fuel budget), calls, recursion, traps and memory traffic. Used by the
// differential tests (interpreter = oracle) and the benchmarks of compile latency.
#pragma once
#include <cstdint>
#include <random>

#include "bytecode/isa.hpp"

namespace tierjit::testing {

struct GenOptions {
  uint32_t max_functions = 4;
  uint32_t max_insns = 40;   ///< per function
  uint32_t words_exact = 0;  ///< if set: exactly this many instructions, no calls (benchmarks)
};

inline bytecode::Module generate_module(uint64_t seed, const GenOptions& opt = {}) {
  using namespace bytecode;
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t n) { return n ? rng() % n : 0; };
  Module m;
  m.memory_size = 65536;
  m.imports = {"print_i64"};
  DataSegment d;
  d.addr = 0;
  for (int i = 0; i < 256; ++i) d.bytes.push_back(static_cast<char>(rng()));
  m.data.push_back(d);
  uint32_t nf = opt.words_exact ? 1 : 1 + static_cast<uint32_t>(pick(opt.max_functions));
  for (uint32_t i = 0; i < nf; ++i) {
    Function f;
    f.name = i == 0 ? "main" : "f" + std::to_string(i);
    f.nregs = 8 + static_cast<uint32_t>(pick(9));
    f.nargs = i == 0 ? 2 : static_cast<uint32_t>(pick(4));
    m.functions.push_back(f);
  }
  const uint64_t interesting[] = {0,
                                  1,
                                  2,
                                  7,
                                  8,
                                  63,
                                  64,
                                  0xff,
                                  0x7fffffff,
                                  0x80000000,
                                  0xffffffffffffffffull,
                                  0x8000000000000000ull,
                                  0x7ff8000000000000ull,
                                  0x3ff0000000000000ull,
                                  0xbff8000000000000ull,
                                  0x7f800000u,
                                  0x3f800000u,
                                  0xfff0};
  for (uint32_t fi = 0; fi < nf; ++fi) {
    Function& f = m.functions[fi];
    uint32_t n = opt.words_exact ? opt.words_exact : 4 + static_cast<uint32_t>(pick(opt.max_insns));
    auto reg = [&] { return static_cast<uint8_t>(pick(f.nregs)); };
    std::vector<Insn> body;
    std::vector<size_t> word_at;
    size_t words = 0;
    for (uint32_t k = 0; k < n; ++k) {
      Insn in;
      int r = static_cast<int>(pick(100));
      if (r < 12) {  // a constant
        uint64_t v = pick(3) ? interesting[pick(std::size(interesting))] : rng();
        in = {Op::LDI, reg(), 0, 0, static_cast<uint32_t>(v)};
        if (pick(2)) {
          body.push_back(in);
          word_at.push_back(words);
          words += 2;
          in = {Op::LDHI, in.a, 0, 0, static_cast<uint32_t>(v >> 32)};
        }
      } else if (r < 20) {  // an in-bounds address: rX = rY & 0xfff8
        in = {Op::ANDI, reg(), reg(), 0, 0xfff8};
      } else {
        Op op;
        do {
          op = static_cast<Op>(1 + pick(kNumOps - 1));
        } while (opt.words_exact && (op == Op::CALL || op == Op::CALLR || op == Op::HALT ||
                                     op == Op::TRAP || op == Op::RET || op == Op::HCALL));
        in.op = op;
        Kind kind = in.info().kind;
        switch (kind) {
          case Kind::BIN:
          case Kind::BINZ:
          case Kind::XCHG:
          case Kind::XADD:
            in.a = reg();
            in.b = reg();
            in.c = reg();
            break;
          case Kind::BINI:
            in.a = reg();
            in.b = reg();
            in.imm = static_cast<uint32_t>(pick(2) ? pick(130) - 65 : rng());
            break;
          case Kind::UN:
            in.a = reg();
            in.b = reg();
            break;
          case Kind::LDI:
            in.a = reg();
            in.imm = static_cast<uint32_t>(rng());
            break;
          case Kind::LD:
          case Kind::ST:
            in.a = reg();
            in.b = reg();
            in.imm = static_cast<uint32_t>(pick(8) ? pick(64) : rng());
            break;
          case Kind::BR2:
          case Kind::BR1:
            in.a = reg();
            in.b = kind == Kind::BR2 ? reg() : 0;
            break;
          case Kind::JMP:
            break;
          case Kind::SEL:
          case Kind::CAS:
            in.a = reg();
            in.b = reg();
            in.c = reg();
            in.imm = reg();
            break;
          case Kind::CALL: {
            uint32_t callee = static_cast<uint32_t>(pick(nf));
            uint32_t na = m.functions[callee].nargs;
            in.a = reg();
            in.b = static_cast<uint8_t>(pick(f.nregs - na + 1));
            in.c = static_cast<uint8_t>(na);
            in.imm = callee;
            break;
          }
          case Kind::CALLR: {
            uint32_t na = static_cast<uint32_t>(pick(3));
            in.a = reg();
            in.b = static_cast<uint8_t>(pick(f.nregs - na + 1));
            in.c = static_cast<uint8_t>(na);
            in.imm = reg();
            break;
          }
          case Kind::HCALL:
            in.a = reg();
            in.b = reg();
            in.c = 1;
            in.imm = 0;
            break;
          case Kind::RET:
          case Kind::HALT:
            in.a = reg();
            if (pick(4)) continue;  // keep most programs running
            break;
          case Kind::TRAP:
            in.imm = static_cast<uint32_t>(pick(100));
            if (pick(4)) continue;
            break;
          case Kind::FENCE:
            break;
        }
      }
      body.push_back(in);
      word_at.push_back(words);
      words += in.size() / 4;
    }
    // Final ret, then branch targets to any instruction (forward or backward).
    body.push_back({Op::RET, static_cast<uint8_t>(pick(f.nregs)), 0, 0, 0});
    word_at.push_back(words);
    for (size_t i = 0; i < body.size(); ++i)
      if (is_branch(body[i].info().kind)) {
        size_t t = pick(body.size());
        body[i].imm = static_cast<uint32_t>(static_cast<int32_t>(
            (static_cast<int64_t>(word_at[t]) - static_cast<int64_t>(word_at[i])) * 4));
      }
    for (const Insn& in : body) encode(in, f.code);
  }
  return m;
}

}  // namespace tierjit::testing
