// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The bytecode verifier: every rule a tier relies on, checked once before any tier runs.
// Requires: a decoded Module. Produces: OK, or the first violation with its location.
#include <fmt/format.h>

#include <unordered_set>

#include "bytecode/module_io.hpp"

namespace tierjit::bytecode {
namespace {

class FunctionVerifier {
 public:
  FunctionVerifier(const Module& m, size_t index, const std::string& file, int64_t file_offset)
      : m_(m), f_(m.functions[index]), index_(index), file_(file), file_offset_(file_offset) {}

  Status run() {
    if (f_.nregs < 1 || f_.nregs > kMaxRegs)
      return fail(0, fmt::format("register count {} outside 1..{}", f_.nregs, kMaxRegs));
    if (f_.nargs > f_.nregs)
      return fail(
          0, fmt::format("{} arguments do not fit a frame of {} registers", f_.nargs, f_.nregs));
    if (f_.code.empty()) return fail(0, "function has no instructions");
    // Pass 1: instruction boundaries and per-instruction rules.
    std::vector<bool> start(f_.code.size() + 1, false);
    std::vector<std::pair<size_t, int64_t>> targets;  // (pc word, target word)
    size_t w = 0;
    Kind last = Kind::FENCE;
    while (w < f_.code.size()) {
      uint32_t word = f_.code[w];
      int opc = word & 0xff;
      if (opc == 0 || opc >= kNumOps) return fail(w, fmt::format("unknown opcode 0x{:02x}", opc));
      Kind k = kOpInfo[opc].kind;
      if (size_of(k) == 8 && w + 1 >= f_.code.size())
        return fail(w, fmt::format("truncated instruction '{}'", kOpInfo[opc].mnemonic));
      start[w] = true;
      Insn in = decode(f_.code.data(), w);
      TJ_TRY(check_insn(in, w));
      if (is_branch(k)) targets.emplace_back(w, static_cast<int64_t>(w) + in.simm() / 4);
      if (is_branch(k) && in.simm() % 4 != 0)
        return fail(w, "branch offset is not a multiple of 4 bytes");
      last = k;
      w += size_of(k) / 4;
    }
    for (auto [pc, t] : targets)
      if (t < 0 || t >= static_cast<int64_t>(f_.code.size()) || !start[t])
        return fail(pc, fmt::format("branch target {:+} bytes is outside the function or not "
                                    "an instruction boundary",
                                    (t - static_cast<int64_t>(pc)) * 4));
    if (!is_terminator(last))
      return fail(f_.code.size() - size_of(last) / 4,
                  "control falls through off the end of the function");
    return {};
  }

 private:
  Status fail(size_t word, std::string msg) {
    SourceLoc loc{file_};
    if (file_offset_ >= 0) loc.byte_offset = file_offset_ + static_cast<int64_t>(word) * 4;
    return make_error(
        ErrorCode::kInvalidInput,
        fmt::format("{}+{}: {}", f_.name.empty() ? fmt::format("#{}", index_) : f_.name, word * 4,
                    msg),
        loc);
  }
  Status reg(size_t w, uint32_t r, const char* what) {
    if (r >= f_.nregs)
      return fail(
          w, fmt::format("{} register r{} outside the frame of {} registers", what, r, f_.nregs));
    return {};
  }
  Status zero(size_t w, const Insn& in, bool a, bool b, bool c) {
    if ((a && in.a) || (b && in.b) || (c && in.c))
      return fail(w, fmt::format("'{}' has a non-zero unused operand field", in.info().mnemonic));
    return {};
  }
  Status args(size_t w, const Insn& in) {
    TJ_TRY(reg(w, in.a, "destination"));
    if (uint32_t{in.b} + in.c > f_.nregs)
      return fail(w, fmt::format("arguments r{}..r{} exceed the frame of {} registers", in.b,
                                 in.b + in.c, f_.nregs));
    return {};
  }

  Status check_insn(const Insn& in, size_t w) {
    switch (in.info().kind) {
      case Kind::BIN:
      case Kind::BINZ:
      case Kind::XCHG:
      case Kind::XADD:
        TJ_TRY(reg(w, in.a, "destination"));
        TJ_TRY(reg(w, in.b, "source"));
        return reg(w, in.c, "source");
      case Kind::BINI:
      case Kind::UN:
      case Kind::LD:
      case Kind::ST:
      case Kind::BR2:
        TJ_TRY(zero(w, in, false, false, true));
        TJ_TRY(reg(w, in.a, "operand"));
        TJ_TRY(reg(w, in.b, "operand"));
        if (in.info().kind == Kind::UN && in.imm) return fail(w, "non-zero immediate");
        return {};
      case Kind::BR1:
      case Kind::LDI:
      case Kind::RET:
      case Kind::HALT:
        TJ_TRY(zero(w, in, false, true, true));
        return reg(w, in.a, "operand");
      case Kind::JMP:
      case Kind::TRAP:
        return zero(w, in, true, true, true);
      case Kind::FENCE:
        return zero(w, in, true, true, true);
      case Kind::SEL:
      case Kind::CAS:
        TJ_TRY(reg(w, in.a, "operand"));
        TJ_TRY(reg(w, in.b, "operand"));
        TJ_TRY(reg(w, in.c, "operand"));
        if (in.imm >= f_.nregs) return reg(w, in.imm, "operand");
        return {};
      case Kind::CALL: {
        TJ_TRY(args(w, in));
        if (in.imm >= m_.functions.size())
          return fail(w, fmt::format("call to missing function #{}", in.imm));
        const Function& callee = m_.functions[in.imm];
        if (callee.nargs != in.c)
          return fail(w, fmt::format("call passes {} arguments, '{}' takes {}", in.c, callee.name,
                                     callee.nargs));
        return {};
      }
      case Kind::CALLR:
        TJ_TRY(args(w, in));
        return in.imm >= f_.nregs ? reg(w, in.imm, "callee") : Status{};
      case Kind::HCALL:
        TJ_TRY(args(w, in));
        if (in.imm >= m_.imports.size())
          return fail(w, fmt::format("host call to missing import #{}", in.imm));
        return {};
    }
    return fail(w, "unhandled operand kind");
  }

  const Module& m_;
  const Function& f_;
  size_t index_;
  const std::string& file_;
  int64_t file_offset_;
};

}  // namespace

Status verify(const Module& m, const std::string& file, const std::vector<uint64_t>* offsets) {
  auto err = [&](std::string msg) {
    return make_error(ErrorCode::kInvalidInput, std::move(msg), SourceLoc{file});
  };
  if (m.memory_size < kMinMemory || m.memory_size > kMaxMemory)
    return err(
        fmt::format("memory size {} outside {}..{} bytes", m.memory_size, kMinMemory, kMaxMemory));
  if (m.functions.empty()) return err("module has no functions");
  if (m.entry >= m.functions.size())
    return err(fmt::format("entry function #{} does not exist", m.entry));
  std::unordered_set<std::string_view> names;
  for (const auto& f : m.functions)
    if (!names.insert(f.name).second) return err(fmt::format("duplicate function '{}'", f.name));
  for (size_t i = 0; i < m.data.size(); ++i) {
    const auto& d = m.data[i];
    if (d.addr > m.memory_size || d.bytes.size() > m.memory_size - d.addr)
      return err(
          fmt::format("data segment {} at 0x{:x} (+{} bytes) lies outside memory of {} "
                      "bytes",
                      i, d.addr, d.bytes.size(), m.memory_size));
  }
  for (size_t i = 0; i < m.functions.size(); ++i) {
    int64_t off = offsets && i < offsets->size() ? static_cast<int64_t>((*offsets)[i]) : -1;
    TJ_TRY(FunctionVerifier(m, i, file, off).run());
  }
  return {};
}

}  // namespace tierjit::bytecode
