// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The sandbox's translator against its interpreter, stopped at every budget: for a guest ELF,
// runs both tiers with instruction budgets 1, 1+STEP, 1+2*STEP, ... up to the whole run, and
// compares how each stopped (reason, pc, instructions, fault), every integer and
// floating-point register, fflags, and the output written so far. Budgets that end in the
// middle of a translated block check that translated code charges and refunds the budget
// exactly and leaves the interpreter the right instruction.
//   usage: rv_tier_diff ELF [STEP [BUDGET]] [-- GUEST_ARGS...]
//          (BUDGET: print both tiers' state there; GUEST_ARGS follow argv[0] "guest")
//   exit status 0: identical; 1: a difference (printed)
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sandbox/machine.hpp"
#include "tierjit/sandbox.hpp"

using namespace tierjit::sandbox;

namespace {

struct Snapshot {
  RunResult r;
  uint64_t x[32], f[32];
  uint32_t fflags;
  std::string out;
};

std::vector<std::string> guest_argv{"guest"};

Snapshot run(Sandbox& box, std::string& out, ExecTier tier, uint64_t budget) {
  Sandbox::Impl& m = box.impl();
  box.reset();
  out.clear();
  m.limits.tier = tier;
  m.limits.max_instructions = budget;
  Snapshot s;
  s.r = box.run(guest_argv);
  std::memcpy(s.x, m.x, sizeof s.x);
  std::memcpy(s.f, m.f, sizeof s.f);
  s.fflags = m.fflags;
  s.out = out;
  return s;
}

std::string differs(const Snapshot& a, const Snapshot& b) {
  std::string d;
  if (a.r.reason != b.r.reason)
    d += fmt::format(" reason {} vs {}", int(a.r.reason), int(b.r.reason));
  if (a.r.pc != b.r.pc) d += fmt::format(" pc 0x{:x} vs 0x{:x}", a.r.pc, b.r.pc);
  if (a.r.instructions != b.r.instructions)
    d += fmt::format(" instructions {} vs {}", a.r.instructions, b.r.instructions);
  if (a.r.fault != b.r.fault || a.r.message != b.r.message)
    d += fmt::format(" fault '{}' vs '{}'", a.r.message, b.r.message);
  if (a.r.exit_code != b.r.exit_code)
    d += fmt::format(" exit {} vs {}", a.r.exit_code, b.r.exit_code);
  for (int i = 0; i < 32; ++i)
    if (a.x[i] != b.x[i]) d += fmt::format(" x{} 0x{:x} vs 0x{:x}", i, a.x[i], b.x[i]);
  for (int i = 0; i < 32; ++i)
    if (a.f[i] != b.f[i]) d += fmt::format(" f{} 0x{:x} vs 0x{:x}", i, a.f[i], b.f[i]);
  if (a.fflags != b.fflags) d += fmt::format(" fflags {} vs {}", a.fflags, b.fflags);
  if (a.out != b.out) d += " output differs";
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--") == 0) {
      guest_argv.insert(guest_argv.end(), argv + i + 1, argv + argc);
      argc = i;
      break;
    }
  if (argc < 2) {
    std::fprintf(stderr, "usage: rv_tier_diff ELF [STEP [BUDGET]] [-- GUEST_ARGS...]\n");
    return 2;
  }
  uint64_t step = argc > 2 ? std::strtoull(argv[2], nullptr, 0) : 1;
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string elf = ss.str();
  auto box = Sandbox::load(elf, argv[1]);
  if (!box.ok()) {
    std::fprintf(stderr, "rv_tier_diff: %s\n", box.error().message.c_str());
    return 2;
  }
  Sandbox& b = *box.value();
  std::string out;
  b.set_output([&](int fd, std::string_view bytes) {
    out += std::to_string(fd) + ":" + std::string(bytes);
  });
  if (argc > 3) {  // debugging: both tiers' state at one budget
    uint64_t budget = std::strtoull(argv[3], nullptr, 0);
    for (ExecTier t : {ExecTier::kInterpret, ExecTier::kTranslate}) {
      Snapshot s = run(b, out, t, budget);
      std::printf("%s: pc 0x%llx fflags %u", t == ExecTier::kInterpret ? "interp" : "jit",
                  static_cast<unsigned long long>(s.r.pc), s.fflags);
      for (int i = 0; i < 32; ++i)
        std::printf(" f%d=%llx", i, static_cast<unsigned long long>(s.f[i]));
      std::printf("\n");
    }
    return 0;
  }
  // The whole run in both tiers first: with a budget to spare, translated code runs every block
  // to the guest's end (the budgets below end with the interpreter running the last blocks).
  Snapshot whole = run(b, out, ExecTier::kInterpret, 1'000'000'000);
  if (std::string d = differs(whole, run(b, out, ExecTier::kTranslate, 1'000'000'000));
      !d.empty()) {
    std::printf("rv_tier_diff: %s: the whole run: interpreter vs translator:%s\n", argv[1],
                d.c_str());
    return 1;
  }
  uint64_t total = whole.r.instructions;
  uint64_t checked = 0;
  for (uint64_t budget = 1;; budget += step) {
    if (budget > total + 1) budget = total + 1;  // the last check runs to the guest's own end
    Snapshot a = run(b, out, ExecTier::kInterpret, budget);
    Snapshot j = run(b, out, ExecTier::kTranslate, budget);
    ++checked;
    if (std::string d = differs(a, j); !d.empty()) {
      std::printf(
          "rv_tier_diff: %s: budget %llu (stopped at pc 0x%llx): interpreter vs "
          "translator:%s\n",
          argv[1], static_cast<unsigned long long>(budget), static_cast<unsigned long long>(a.r.pc),
          d.c_str());
      return 1;
    }
    if (budget == total + 1) break;
  }
  TranslationStats ts = b.translation_stats();
  std::printf(
      "rv_tier_diff: %s: %llu budgets up to %llu instructions identical (%llu blocks translated, "
      "%llu guard faults)\n",
      argv[1], static_cast<unsigned long long>(checked), static_cast<unsigned long long>(total),
      static_cast<unsigned long long>(ts.blocks), static_cast<unsigned long long>(ts.guard_faults));
  return ts.blocks > 0 ? 0 : 1;  // the translator must actually have run
}
