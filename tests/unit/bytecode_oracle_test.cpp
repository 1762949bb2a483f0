// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// An oracle for the bytecode's arithmetic that does not share the opcode table's semantics:
// each ALU, float, conversion and branch opcode is written again here from the rules of
// docs/ISA.md ("Semantics rules") with the C++ standard library, and every tier (interpreter,
// copy-and-patch, LLVM) must agree with it on special and random operands. The differential
// test (bytecode_diff_test.cpp) compares the tiers with each other; they all expand one EXPR
// column of opcodes.def, so a wrong EXPR would pass there and fails here.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bytecode/host.hpp"
#include "bytecode/isa.hpp"
#include "bytecode/text.hpp"
#include "vm/vm.hpp"

namespace tierjit {
namespace {

using u64 = uint64_t;
using i64 = int64_t;

// nullopt: the instruction traps div_by_zero.
using Oracle = std::function<std::optional<u64>(u64 a, u64 b)>;

double f64(u64 a) { return std::bit_cast<double>(a); }
float f32(u64 a) { return std::bit_cast<float>(static_cast<uint32_t>(a)); }
// Float results: NaN is the canonical NaN; f32 in the low 32 bits, upper bits zero.
u64 d_bits(double d) { return std::isnan(d) ? 0x7ff8000000000000ull : std::bit_cast<u64>(d); }
u64 s_bits(float f) { return std::isnan(f) ? 0x7fc00000ull : std::bit_cast<uint32_t>(f); }
u64 flag(bool b) { return b ? 1 : 0; }

// RISC-V fmin/fmax: one NaN operand yields the other, two the canonical NaN, -0 < +0.
template <class F>
F risc_min(F x, F y, bool max) {
  if (std::isnan(x) && std::isnan(y)) return std::numeric_limits<F>::quiet_NaN();
  if (std::isnan(x)) return y;
  if (std::isnan(y)) return x;
  if (x == y) return (std::signbit(x) != max) ? x : y;  // equal: pick by sign
  return (x < y) != max ? x : y;
}

// Saturating float -> integer (WebAssembly trunc_sat): NaN -> 0.
u64 to_i64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9223372036854775808.0) return u64(std::numeric_limits<i64>::max());
  if (d < -9223372036854775808.0) return u64(std::numeric_limits<i64>::min());
  return u64(i64(std::trunc(d)));
}
u64 to_u64(double d) {
  if (std::isnan(d) || d <= -1.0) return 0;
  if (d >= 18446744073709551616.0) return std::numeric_limits<u64>::max();
  return u64(std::trunc(d));
}

u64 bswap(u64 a) {
  u64 r = 0;
  for (int i = 0; i < 8; ++i) r |= ((a >> (8 * i)) & 0xff) << (8 * (7 - i));
  return r;
}

std::optional<u64> sdiv(u64 a, u64 b, bool rem) {
  if (b == 0) return std::nullopt;
  if (i64(a) == std::numeric_limits<i64>::min() && i64(b) == -1) return rem ? 0 : a;
  return rem ? u64(i64(a) % i64(b)) : u64(i64(a) / i64(b));
}

// Two-operand opcodes (register or immediate second operand) and one-operand opcodes.
std::map<std::string, Oracle> binary_oracles() {
  std::map<std::string, Oracle> o;
  auto put = [&](const char* name, std::function<u64(u64, u64)> f) {
    o[name] = [f](u64 a, u64 b) { return std::optional<u64>(f(a, b)); };
  };
  put("add", [](u64 a, u64 b) { return a + b; });
  put("sub", [](u64 a, u64 b) { return a - b; });
  put("mul", [](u64 a, u64 b) { return a * b; });
  put("mulh", [](u64 a, u64 b) { return u64((__int128(i64(a)) * __int128(i64(b))) >> 64); });
  put("mulhu", [](u64 a, u64 b) {
    return u64((static_cast<unsigned __int128>(a) * static_cast<unsigned __int128>(b)) >> 64);
  });
  o["div"] = [](u64 a, u64 b) { return sdiv(a, b, false); };
  o["rem"] = [](u64 a, u64 b) { return sdiv(a, b, true); };
  o["divu"] = [](u64 a, u64 b) { return b ? std::optional<u64>(a / b) : std::nullopt; };
  o["remu"] = [](u64 a, u64 b) { return b ? std::optional<u64>(a % b) : std::nullopt; };
  put("and", [](u64 a, u64 b) { return a & b; });
  put("or", [](u64 a, u64 b) { return a | b; });
  put("xor", [](u64 a, u64 b) { return a ^ b; });
  put("shl", [](u64 a, u64 b) { return a << (b % 64); });
  put("shr", [](u64 a, u64 b) { return a >> (b % 64); });
  put("sar", [](u64 a, u64 b) { return u64(i64(a) >> (b % 64)); });
  put("eq", [](u64 a, u64 b) { return flag(a == b); });
  put("ne", [](u64 a, u64 b) { return flag(a != b); });
  put("lt", [](u64 a, u64 b) { return flag(i64(a) < i64(b)); });
  put("ltu", [](u64 a, u64 b) { return flag(a < b); });
  put("le", [](u64 a, u64 b) { return flag(i64(a) <= i64(b)); });
  put("leu", [](u64 a, u64 b) { return flag(a <= b); });
  put("gt", [](u64 a, u64 b) { return flag(i64(a) > i64(b)); });
  put("gtu", [](u64 a, u64 b) { return flag(a > b); });
  put("fadd.d", [](u64 a, u64 b) { return d_bits(f64(a) + f64(b)); });
  put("fsub.d", [](u64 a, u64 b) { return d_bits(f64(a) - f64(b)); });
  put("fmul.d", [](u64 a, u64 b) { return d_bits(f64(a) * f64(b)); });
  put("fdiv.d", [](u64 a, u64 b) { return d_bits(f64(a) / f64(b)); });
  put("fmin.d", [](u64 a, u64 b) { return d_bits(risc_min(f64(a), f64(b), false)); });
  put("fmax.d", [](u64 a, u64 b) { return d_bits(risc_min(f64(a), f64(b), true)); });
  put("feq.d", [](u64 a, u64 b) { return flag(f64(a) == f64(b)); });
  put("flt.d", [](u64 a, u64 b) { return flag(f64(a) < f64(b)); });
  put("fle.d", [](u64 a, u64 b) { return flag(f64(a) <= f64(b)); });
  put("fadd.s", [](u64 a, u64 b) { return s_bits(f32(a) + f32(b)); });
  put("fsub.s", [](u64 a, u64 b) { return s_bits(f32(a) - f32(b)); });
  put("fmul.s", [](u64 a, u64 b) { return s_bits(f32(a) * f32(b)); });
  put("fdiv.s", [](u64 a, u64 b) { return s_bits(f32(a) / f32(b)); });
  put("fmin.s", [](u64 a, u64 b) { return s_bits(risc_min(f32(a), f32(b), false)); });
  put("fmax.s", [](u64 a, u64 b) { return s_bits(risc_min(f32(a), f32(b), true)); });
  put("feq.s", [](u64 a, u64 b) { return flag(f32(a) == f32(b)); });
  put("flt.s", [](u64 a, u64 b) { return flag(f32(a) < f32(b)); });
  put("fle.s", [](u64 a, u64 b) { return flag(f32(a) <= f32(b)); });
  return o;
}

std::map<std::string, std::function<u64(u64)>> unary_oracles() {
  return {
      {"mov", [](u64 a) { return a; }},
      {"neg", [](u64 a) { return u64(0) - a; }},
      {"not", [](u64 a) { return ~a; }},
      {"sext8", [](u64 a) { return u64(i64(int8_t(a))); }},
      {"sext16", [](u64 a) { return u64(i64(int16_t(a))); }},
      {"sext32", [](u64 a) { return u64(i64(int32_t(a))); }},
      {"zext8", [](u64 a) { return a & 0xff; }},
      {"zext16", [](u64 a) { return a & 0xffff; }},
      {"zext32", [](u64 a) { return a & 0xffffffff; }},
      {"popcnt", [](u64 a) { return u64(std::popcount(a)); }},
      {"clz", [](u64 a) { return u64(std::countl_zero(a)); }},  // 64 for 0, as the ISA says
      {"ctz", [](u64 a) { return u64(std::countr_zero(a)); }},
      {"bswap", bswap},
      {"fsqrt.d", [](u64 a) { return d_bits(std::sqrt(f64(a))); }},
      {"fneg.d", [](u64 a) { return std::bit_cast<u64>(-f64(a)); }},
      {"fabs.d", [](u64 a) { return std::bit_cast<u64>(std::fabs(f64(a))); }},
      {"fsqrt.s", [](u64 a) { return s_bits(std::sqrt(f32(a))); }},
      {"fneg.s", [](u64 a) { return u64(std::bit_cast<uint32_t>(-f32(a))); }},
      {"fabs.s", [](u64 a) { return u64(std::bit_cast<uint32_t>(std::fabs(f32(a)))); }},
      {"cvt.d.l", [](u64 a) { return d_bits(double(i64(a))); }},
      {"cvt.d.lu", [](u64 a) { return d_bits(double(a)); }},
      {"cvt.l.d", [](u64 a) { return to_i64(f64(a)); }},
      {"cvt.lu.d", [](u64 a) { return to_u64(f64(a)); }},
      {"cvt.s.l", [](u64 a) { return s_bits(float(i64(a))); }},
      {"cvt.s.lu", [](u64 a) { return s_bits(float(a)); }},
      {"cvt.l.s", [](u64 a) { return to_i64(double(f32(a))); }},
      {"cvt.lu.s", [](u64 a) { return to_u64(double(f32(a))); }},
      {"cvt.d.s", [](u64 a) { return d_bits(double(f32(a))); }},
      {"cvt.s.d", [](u64 a) { return s_bits(float(f64(a))); }},
  };
}

std::map<std::string, std::function<bool(u64, u64)>> branch_oracles() {
  return {
      {"beq", [](u64 a, u64 b) { return a == b; }},
      {"bne", [](u64 a, u64 b) { return a != b; }},
      {"blt", [](u64 a, u64 b) { return i64(a) < i64(b); }},
      {"bltu", [](u64 a, u64 b) { return a < b; }},
      {"bge", [](u64 a, u64 b) { return i64(a) >= i64(b); }},
      {"bgeu", [](u64 a, u64 b) { return a >= b; }},
      {"bz", [](u64 a, u64) { return a == 0; }},
      {"bnz", [](u64 a, u64) { return a != 0; }},
  };
}

// Operands: integer edges, f64 and f32 edges (signed zeros, infinities, NaNs with payloads,
// subnormals, values at the integer conversion limits), then random bit patterns.
std::vector<u64> operands() {
  std::vector<u64> v = {0,
                        1,
                        2,
                        3,
                        63,
                        64,
                        65,
                        0x7f,
                        0x80,
                        0xff,
                        0x8000,
                        0xffff,
                        0x7fffffff,
                        0x80000000,
                        0xffffffff,
                        0x100000000,
                        u64(-1),
                        u64(-2),
                        u64(-7),
                        0x7fffffffffffffff,
                        0x8000000000000000,
                        std::bit_cast<u64>(0.0),
                        std::bit_cast<u64>(-0.0),
                        std::bit_cast<u64>(1.0),
                        std::bit_cast<u64>(-1.5),
                        std::bit_cast<u64>(0.75),
                        std::bit_cast<u64>(1e300),
                        std::bit_cast<u64>(-1e-300),
                        std::bit_cast<u64>(4.9e-324),
                        std::bit_cast<u64>(9223372036854775808.0),
                        std::bit_cast<u64>(-9223372036854775808.0),
                        std::bit_cast<u64>(18446744073709551616.0),
                        std::bit_cast<u64>(double(INFINITY)),
                        std::bit_cast<u64>(-double(INFINITY)),
                        0x7ff8000000000000,
                        0x7ff0000000000001,
                        0xfff8000000000123,
                        std::bit_cast<uint32_t>(1.0f),
                        std::bit_cast<uint32_t>(-0.0f),
                        std::bit_cast<uint32_t>(-2.5f),
                        std::bit_cast<uint32_t>(3e38f),
                        std::bit_cast<uint32_t>(1e-45f),
                        std::bit_cast<uint32_t>(INFINITY),
                        0x7fc00000,
                        0x7f800001,
                        0xffc00123,
                        std::bit_cast<uint32_t>(9.2233720e18f),
                        0xdeadbeef00000000 | std::bit_cast<uint32_t>(1.5f)};
  std::mt19937_64 rng(11);
  for (int i = 0; i < 24; ++i) v.push_back(rng());
  return v;
}

const int kImmediates[] = {0, 1, -1, 5, 31, 63, 64, 100, -2147483647 - 1, 2147483647};

struct OracleModule {
  bytecode::Module module;
  // Function name -> how to compute its expected result.
  std::map<std::string, Oracle> expect;
};

// One function per (opcode, immediate): r2 = OP(r0, r1 | imm); branches return 1 when taken.
OracleModule build() {
  std::string text;
  OracleModule p;
  auto func = [&](const std::string& name, const std::string& body) {
    text += ".func " + name + " 2 3\n" + body + ".end\n";
  };
  int n = 0;
  // Function names say what they test: "mulh_28", "addi_m1_40" (fadd.d -> fadd_d).
  auto name_for = [&](std::string what) {
    for (char& c : what)
      if (c == '.' || c == '-') c = c == '.' ? '_' : 'm';
    return what + "_" + std::to_string(n++);
  };
  for (const auto& [op, f] : binary_oracles()) {
    // gt/gtu exist only as immediates (gti/gtui).
    if (bytecode::op_from_mnemonic(op) == bytecode::Op::kInvalid) continue;
    std::string name = name_for(op);
    func(name, "  " + op + " r2, r0, r1\n  ret r2\n");
    p.expect[name] = f;
  }
  auto bin = binary_oracles();
  for (const char* op : {"addi", "muli", "andi", "ori", "xori", "shli", "shri", "sari", "eqi",
                         "nei", "lti", "ltui", "gti", "gtui"}) {
    std::string base(op, std::string(op).size() - 1);
    for (int imm : kImmediates) {
      std::string name = name_for(std::string(op) + "_" + std::to_string(imm));
      func(name, "  " + std::string(op) + " r2, r0, " + std::to_string(imm) + "\n  ret r2\n");
      Oracle f = bin.at(base);
      u64 b = u64(i64(imm));  // sext(imm32)
      p.expect[name] = [f, b](u64 a, u64) { return f(a, b); };
    }
  }
  for (const auto& [op, f] : unary_oracles()) {
    std::string name = name_for(op);
    func(name, "  " + op + " r2, r0\n  ret r2\n");
    p.expect[name] = [f](u64 a, u64) { return std::optional<u64>(f(a)); };
  }
  for (const auto& [op, f] : branch_oracles()) {
    std::string name = name_for(op);
    std::string args = op == "bz" || op == "bnz" ? "r0" : "r0, r1";
    func(name,
         "  " + op + " " + args + ", yes\n  ldi r2, 0\n  ret r2\nyes:\n  ldi r2, 1\n  ret r2\n");
    p.expect[name] = [f](u64 a, u64 b) { return std::optional<u64>(flag(f(a, b))); };
  }
  text += ".func main 2 3\n  ret r0\n.end\n.entry main\n";
  auto m = bytecode::assemble(text, "oracle.tjasm");
  EXPECT_TRUE(m.ok()) << m.error().to_string();
  if (m.ok()) p.module = std::move(m).value();
  return p;
}

class BytecodeOracle : public ::testing::TestWithParam<vm::Tier> {};

TEST_P(BytecodeOracle, EveryTierMatchesTheIsaRules) {
  OracleModule p = build();
  ASSERT_FALSE(p.module.functions.empty());
  vm::VmConfig cfg;
  cfg.tier = GetParam();
  cfg.background = false;
  auto v = vm::Vm::create(p.module, bytecode::HostRegistry::standard(), cfg);
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  int want_tier = GetParam() == vm::Tier::kInterp ? 0 : GetParam() == vm::Tier::kCnp ? 1 : 2;
  for (const auto& s : (*v)->function_stats()) ASSERT_EQ(s.tier, want_tier) << s.fallback;
  std::vector<u64> xs = operands();
  size_t checked = 0;
  for (const auto& [name, oracle] : p.expect) {
    uint32_t fn = uint32_t(p.module.find_function(name));
    for (u64 a : xs)
      for (u64 b : xs) {
        std::optional<u64> want = oracle(a, b);
        bytecode::Outcome got = (*v)->call(fn, {a, b});
        ++checked;
        if (!want) {
          ASSERT_EQ(got.status, TJ_TRAP_DIV_BY_ZERO) << name << " a=" << a << " b=" << b;
          continue;
        }
        ASSERT_EQ(got.status, TJ_RUNNING) << name << " a=" << a << " b=" << b;
        ASSERT_EQ(got.value, *want)
            << std::hex << "function " << name << " a=0x" << a << " b=0x" << b;
      }
  }
  EXPECT_GT(checked, 100000u);
}

INSTANTIATE_TEST_SUITE_P(Tiers, BytecodeOracle,
                         ::testing::Values(vm::Tier::kInterp, vm::Tier::kCnp, vm::Tier::kLlvm),
                         [](const auto& info) { return std::string(vm::tier_name(info.param)); });

}  // namespace
}  // namespace tierjit
