// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Build-time tool: reads a stencil object file (clang-22 output of src/cnp/stencils.c or
// src/baseline/stencils.c, src/sandbox/jit/rv_stencils.c) with LLVM's Object library and writes the
// stencil table (C++ header). Fails on anything it does not understand: unknown relocation types,
// relocations against non-hole symbols, data sections, absolute relocations on jump holes, or
// PC-relative ones on value holes.
//   usage: stencil_extract [--family cnp|baseline|rv] stencils.o out.inc
#include <llvm/BinaryFormat/ELF.h>
#include <llvm/MC/MCAsmInfo.h>
#include <llvm/MC/MCContext.h>
#include <llvm/MC/MCDisassembler/MCDisassembler.h>
#include <llvm/MC/MCInst.h>
#include <llvm/MC/MCInstrInfo.h>
#include <llvm/MC/MCRegisterInfo.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/MCTargetOptions.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Object/ELFObjectFile.h>
#include <llvm/Object/ObjectFile.h>
#include <llvm/Support/Format.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

using namespace llvm;

namespace {

const std::map<std::string, std::string> kHoles = {
    {"TJ_HOLE_A", "kA"},           {"TJ_HOLE_B", "kB"},         {"TJ_HOLE_C", "kC"},
    {"TJ_HOLE_D", "kD"},           {"TJ_HOLE_IMM", "kImm"},     {"TJ_HOLE_FN", "kFn"},
    {"TJ_HOLE_PC", "kPc"},         {"TJ_HOLE_KIND", "kKind"},   {"TJ_HOLE_FRAME", "kFrame"},
    {"TJ_HOLE_NARGS", "kNargs"},   {"TJ_HOLE_NREGS", "kNregs"}, {"TJ_HOLE_CALLEE", "kCallee"},
    {"TJ_HOLE_IMPORT", "kImport"}, {"TJ_HOLE_NEXT", "kNext"},   {"TJ_HOLE_TARGET", "kTarget"},
    {"TJ_HOLE_TRAP", "kTrap"},     {"TJ_HOLE_TRAP2", "kTrap2"}, {"TJ_HOLE_P0", "kP0"},
    {"TJ_HOLE_P1", "kP1"},         {"TJ_HOLE_P2", "kP2"},       {"TJ_HOLE_P3", "kP3"},
    {"TJ_HOLE_REFUEL", "kRefuel"}};
// The baseline tier's holes (src/baseline/stencils.c): TJB_<NAME> becomes HoleKind::k<NAME>.
const char* const kBaselineHoles[] = {"A",  "B",   "C",   "D",  "I",  "J",    "N",     "P0",
                                      "P1", "P2",  "P3",  "P4", "P5", "P6",   "P7",    "P8",
                                      "P9", "P10", "P11", "Q0", "Q1", "Q2",   "Q3",    "Q4",
                                      "Q5", "Q6",  "Q7",  "K",  "K2", "NEXT", "TARGET"};
// The sandbox translator's holes (src/sandbox/jit/rv_stencils.c): TJR_<NAME> -> k<NAME>.
const char* const kRvHoles[] = {"RD", "RS1", "RS2", "RS3", "IMM", "N",    "ID",     "S0",
                                "S1", "S2",  "S3",  "S4",  "K",   "NEXT", "TARGET", "EXIT"};

struct Family {
  std::string section_prefix, symbol_prefix, ns, source;
  std::map<std::string, std::string> holes;
};

Family family_named(const std::string& name) {
  Family f;
  if (name == "cnp") {
    f = {".text.tj_st_", "tj_st_", "tierjit::cnp::generated", "src/cnp/stencils.c", kHoles};
  } else if (name == "baseline") {
    f = {".text.tjb_st_", "tjb_st_", "tierjit::baseline::generated", "src/baseline/stencils.c", {}};
    for (const char* h : kBaselineHoles) f.holes[std::string("TJB_") + h] = std::string("k") + h;
  } else if (name == "rv") {
    f = {".text.tjr_st_",
         "tjr_st_",
         "tierjit::sandbox::generated",
         "src/sandbox/jit/rv_stencils.c",
         {}};
    for (const char* h : kRvHoles) f.holes[std::string("TJR_") + h] = std::string("k") + h;
  } else {
    errs() << "stencil_extract: error: unknown family '" << name << "'\n";
    std::exit(1);
  }
  return f;
}

// Baseline stencils that take an immediate as the raw `(i64)TJB_I` (addresses, 64-bit
// add/and/or/xor/compare) rely on clang folding it into a sign-extended imm32/disp32
// (R_X86_64_32S). A zero-extending R_X86_64_32 field there would turn a negative value
// positive: fail the build instead.
bool needs_sign_extended(const std::string& stencil, const std::string& hole) {
  static const std::regex addr("(ld|ldF|ldS|st|stP|stF|stKX|stKF)(8|16|32|64)|lea_F");
  static const std::regex wide("add_64_XI|stK[XF]64");
  if (stencil.rfind("gep", 0) == 0) return hole == "kJ";  // kI: the scale, never negative
  if (std::regex_match(stencil, addr)) return hole == "kI" || std::regex_match(stencil, wide);
  return std::regex_match(stencil, wide);
}

// Sandbox stencils (rv) fold the guest immediate as a sign-extended field; only those that use
// its low bits alone (shift amounts, 32-bit results) or extend it by hand (IMMSX: the logic
// operations) may get a zero-extending one.
bool rv_imm_may_zero_extend(const std::string& stencil) {
  static const std::regex low_bits("(SLL|SRL|SRA|ROR)IW?|SLLI_UW|ADDIW|XORI|ORI|ANDI");
  return std::regex_match(stencil, low_bits);
}

bool is_jump_hole(const std::string& k) {
  return k == "kNext" || k == "kTarget" || k == "kTrap" || k == "kTrap2" || k == "kRefuel" ||
         k == "kNEXT" || k == "kTARGET" || k == "kEXIT";
}

[[noreturn]] void die(const std::string& msg) {
  errs() << "stencil_extract: error: " << msg << "\n";
  std::exit(1);
}

struct HoleRec {
  uint64_t offset;
  std::string kind, reloc, sym;
  int64_t addend;
};

struct StencilRec {
  std::string name;
  std::vector<uint8_t> code;
  std::vector<HoleRec> holes;
  std::string tail = "kCount";
  size_t body = 0;
};

// Trap and refuel holes never sit in the trailing jump (that is NEXT or TARGET), so the
// counts hold whether or not the emitter drops it.
int ntraps(const StencilRec& s) {
  int n = 0;
  for (const auto& h : s.holes) n += h.kind == "kTrap" || h.kind == "kTrap2";
  return n;
}
bool has_hole(const StencilRec& s, const std::string& kind) {
  for (const auto& h : s.holes)
    if (h.kind == kind) return true;
  return false;
}

// x86-64 code read with LLVM's disassembler: instruction boundaries, and the registers an
// instruction reads and writes.
class X86Code {
 public:
  X86Code() {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86Disassembler();
    Triple tt("x86_64-unknown-linux-gnu");
    std::string err;
    const Target* t = TargetRegistry::lookupTarget(tt, err);
    if (!t) die("no x86-64 target in LLVM: " + err);
    mri_.reset(t->createMCRegInfo(tt));
    mai_.reset(t->createMCAsmInfo(*mri_, tt, MCTargetOptions()));
    sti_.reset(t->createMCSubtargetInfo(tt, "x86-64", ""));
    ctx_ = std::make_unique<MCContext>(tt, mai_.get(), mri_.get(), sti_.get());
    dis_.reset(t->createMCDisassembler(*sti_, *ctx_));
    mii_.reset(t->createMCInstrInfo());
    if (!mri_ || !mai_ || !sti_ || !dis_ || !mii_) die("cannot set up LLVM's x86-64 disassembler");
  }

  // A guarded access stencil (rv family, _G): the sandbox's fault handler resumes a host fault
  // in it at its side exit, which expects the state registers as they were on entry. So no
  // instruction before the guest access (the first to read m, the guest memory base) may
  // write one of them: the registers of clang's preserve_none convention that carry the
  // stencil arguments (rv_stencils.c ARGS: x m left c a b s0-s4).
  struct Insn {
    size_t at;
    MCInst inst;
  };
  // Every instruction of `code`, in order (fails the build on bytes it cannot decode).
  std::vector<Insn> decode(const std::string& name, const std::vector<uint8_t>& code) const {
    std::vector<Insn> out;
    for (size_t at = 0; at < code.size();) {
      MCInst inst;
      uint64_t size = 0;
      ArrayRef<uint8_t> bytes(code.data() + at, code.size() - at);
      if (dis_->getInstruction(inst, size, bytes, at, nulls()) != MCDisassembler::Success ||
          size == 0)
        die("stencil '" + name + "': cannot decode the instruction at +" + std::to_string(at));
      out.push_back({at, inst});
      at += size;
    }
    return out;
  }

  void check_guarded(const std::string& name, const std::vector<uint8_t>& code) const {
    static const char* const kState[] = {"R12", "R13", "R14", "R15", "RDI", "RSI",
                                         "RDX", "RCX", "R8",  "R9",  "R11"};
    std::vector<MCRegister> state;
    MCRegister m;
    for (unsigned r = 1; r < mri_->getNumRegs(); ++r)
      for (const char* n : kState)
        if (StringRef(mri_->getName(r)) == n) {
          state.push_back(r);
          if (StringRef(n) == "R13") m = r;
        }
    if (state.size() != std::size(kState)) die("x86-64 register names not found in LLVM");
    auto overlaps = [&](MCRegister r) {
      for (MCRegister s : state)
        if (mri_->regsOverlap(r, s)) return true;
      return false;
    };
    for (const Insn& in : decode(name, code)) {
      const MCInst& inst = in.inst;
      size_t at = in.at;
      const MCInstrDesc& desc = mii_->get(inst.getOpcode());
      for (unsigned i = desc.getNumDefs(); i < inst.getNumOperands(); ++i)
        if (inst.getOperand(i).isReg() && mri_->regsOverlap(inst.getOperand(i).getReg(), m))
          return;  // the guest access: the state is intact up to here
      for (unsigned i = 0; i < desc.getNumDefs(); ++i)
        if (inst.getOperand(i).isReg() && overlaps(inst.getOperand(i).getReg()))
          die("stencil '" + name + "': the instruction at +" + std::to_string(at) +
              " writes a state register before the guest access (a fault there would resume "
              "at the side exit with it changed)");
      for (MCPhysReg r : desc.implicit_defs())
        if (overlaps(r))
          die("stencil '" + name + "': the instruction at +" + std::to_string(at) +
              " implicitly writes a state register before the guest access");
    }
    die("stencil '" + name + "': no guest access (a read of m, r13) found");
  }
  // Start offsets of the instructions of `code`, in order.
  std::vector<size_t> starts(const std::string& name, const std::vector<uint8_t>& code) const {
    std::vector<size_t> out;
    for (const Insn& in : decode(name, code)) out.push_back(in.at);
    return out;
  }

 private:
  std::unique_ptr<MCRegisterInfo> mri_;
  std::unique_ptr<MCAsmInfo> mai_;
  std::unique_ptr<MCSubtargetInfo> sti_;
  std::unique_ptr<MCContext> ctx_;
  std::unique_ptr<MCDisassembler> dis_;
  std::unique_ptr<MCInstrInfo> mii_;
};

const HoleRec* hole_at(const StencilRec& s, uint64_t offset) {
  for (const auto& h : s.holes)
    if (h.offset == offset) return &h;
  return nullptr;
}

// A relative jump of `len` bytes at `p`: jcc/jmp rel8, jcc rel32 (0F 8x), jmp rel32 (E9).
struct RelJump {
  bool is = false, rel32 = false, conditional = false;
  int64_t rel = 0;  // from the end of the instruction (the rel32 field as the bytes hold it)
};
RelJump rel_jump(const uint8_t* p, size_t len) {
  RelJump j;
  if (len == 2 && ((p[0] & 0xF0) == 0x70 || p[0] == 0xEB)) {
    j = {true, false, p[0] != 0xEB, int8_t(p[1])};
  } else if ((len == 6 && p[0] == 0x0F && (p[1] & 0xF0) == 0x80) || (len == 5 && p[0] == 0xE9)) {
    int32_t r;
    std::memcpy(&r, p + len - 4, 4);
    j = {true, true, len == 6, r};
  }
  return j;
}

// Side exits out of the straight line (rv family; its stencils are assembled with every
// branch in rel32 form, -mrelax-all). clang lays a stencil with a rare exit out as
//     ...  jcc L  ...  jmp NEXT ; L: jmp EXIT        or        jcc NEXT ; jmp EXIT
// so the common path takes a jump (over the exit, or to NEXT). Both become a conditional
// jump straight to the exit hole, and the common path falls through to the next stencil:
//     ...  jcc EXIT  ...  jmp NEXT (the droppable tail)   or   j!cc EXIT
// Offsets do not move: branches are retargeted in place and the last jump is cut off.
void straighten_exits(StencilRec& s, const X86Code& dis) {
  const size_t n = s.code.size();
  if (n < 10 || s.code[n - 5] != 0xE9) return;
  const HoleRec* last = hole_at(s, n - 4);
  if (!last || last->kind == "kNEXT" || last->addend != -4) return;
  const HoleRec exit = *last;
  const size_t end = n - 5;  // the exit jump's offset: everything from here is cut off
  std::vector<size_t> starts = dis.starts(s.name, s.code);
  // The code before the exit jump must not fall into it: it ends in a jump (to NEXT: the
  // conditional one is inverted below).
  auto prev = std::find(starts.begin(), starts.end(), end);
  if (prev == starts.begin() || prev == starts.end()) return;
  size_t prev_at = *(prev - 1);
  RelJump pj = rel_jump(s.code.data() + prev_at, end - prev_at);
  const HoleRec* prev_hole = hole_at(s, end - 4);
  bool falls_in =
      !(pj.rel32 && !pj.conditional) && !(pj.rel32 && prev_hole && prev_hole->kind == "kNEXT");
  if (falls_in) return;
  bool changed = false;
  for (size_t i = 0; i + 1 < starts.size(); ++i) {
    size_t at = starts[i], len = starts[i + 1] - at;
    uint8_t* p = s.code.data() + at;
    RelJump j = rel_jump(p, len);
    if (!j.is) continue;
    size_t field = at + len - 4;
    if (const HoleRec* h = j.rel32 ? hole_at(s, field) : nullptr) {
      // jcc NEXT right before the exit jump: invert it towards the exit.
      if (j.conditional && h->kind == "kNEXT" && at + len == end) {
        p[1] ^= 1;
        for (auto& hr : s.holes)
          if (hr.offset == field) hr = {field, exit.kind, exit.reloc, exit.sym, exit.addend};
        changed = true;
      }
      continue;
    }
    if (at + len + j.rel != end) continue;
    if (!j.rel32 || !j.conditional)
      die("stencil '" + s.name + "': a " + (j.rel32 ? "direct" : "short") +
          " jump reaches the side exit; assemble with -mrelax-all");
    std::memset(p + 2, 0, 4);
    s.holes.push_back({field, exit.kind, exit.reloc, exit.sym, exit.addend});
    changed = true;
  }
  if (!changed) return;
  // Nothing may still reach the cut-off jump (it would fall off the stencil).
  s.code.resize(end);
  s.holes.erase(std::remove_if(s.holes.begin(), s.holes.end(),
                               [&](const HoleRec& h) { return h.offset >= end; }),
                s.holes.end());
  std::sort(s.holes.begin(), s.holes.end(),
            [](const HoleRec& a, const HoleRec& b) { return a.offset < b.offset; });
  for (size_t i = 0; i + 1 < starts.size() && starts[i] < end; ++i) {
    size_t at = starts[i], len = starts[i + 1] - at;
    RelJump j = rel_jump(s.code.data() + at, len);
    if (j.is && !(j.rel32 && hole_at(s, at + len - 4)) && at + len + j.rel >= end)
      die("stencil '" + s.name + "': a jump reaches past the straightened exit");
  }
}

bool allowed_empty_or_meta(StringRef name) {
  return name.empty() || name == ".text" || name == ".comment" || name == ".note.GNU-stack" ||
         name == ".llvm_addrsig" || name == ".symtab" || name == ".strtab" || name == ".shstrtab" ||
         name.starts_with(".rela") || name == ".note.gnu.property";
}

}  // namespace

int main(int argc, char** argv) {
  std::string family_name = "cnp";
  if (argc == 5 && std::string(argv[1]) == "--family") {
    family_name = argv[2];
    argv += 2;
    argc -= 2;
  }
  if (argc != 3) die("usage: stencil_extract [--family cnp|baseline|rv] stencils.o out.inc");
  const Family fam = family_named(family_name);
  auto obj_or = object::ObjectFile::createObjectFile(argv[1]);
  if (!obj_or) die(toString(obj_or.takeError()));
  auto* obj = dyn_cast<object::ELF64LEObjectFile>(obj_or->getBinary());
  if (!obj || obj->getArch() != Triple::x86_64) die("expected an x86-64 ELF object");

  std::map<uint64_t, StencilRec> by_section;  // section index -> stencil
  for (const object::SectionRef& sec : obj->sections()) {
    StringRef name = cantFail(sec.getName());
    // clang puts cold functions (e.g. a lone trap) in .text.unlikely.<name>
    std::string norm = name.str();
    if (name.starts_with(".text.unlikely."))
      norm = ".text" + name.drop_front(strlen(".text.unlikely")).str();
    if (StringRef(norm).starts_with(fam.section_prefix)) {
      StencilRec s;
      s.name = norm.substr(fam.section_prefix.size());
      StringRef data = cantFail(sec.getContents());
      s.code.assign(data.bytes_begin(), data.bytes_end());
      by_section[sec.getIndex()] = std::move(s);
    } else if (!allowed_empty_or_meta(name) || (name == ".text" && sec.getSize() != 0)) {
      if (sec.getSize() != 0)
        die("unexpected section '" + name.str() + "' (" + std::to_string(sec.getSize()) +
            " bytes): stencils must not use data, constant pools or shared code");
    }
  }
  for (const object::SectionRef& sec : obj->sections()) {
    Expected<object::section_iterator> target = sec.getRelocatedSection();
    if (!target) die(toString(target.takeError()));
    if (*target == obj->section_end()) continue;
    uint64_t idx = (*target)->getIndex();
    auto it = by_section.find(idx);
    if (it == by_section.end()) {
      if (!sec.relocations().empty())
        die("relocations for a non-stencil section '" + cantFail((*target)->getName()).str() + "'");
      continue;
    }
    StencilRec& s = it->second;
    for (const object::RelocationRef& rel : sec.relocations()) {
      object::symbol_iterator sym = rel.getSymbol();
      std::string sname = sym == obj->symbol_end() ? "" : cantFail(sym->getName()).str();
      auto h = fam.holes.find(sname);
      if (h == fam.holes.end())
        die("stencil '" + s.name + "': relocation against '" + sname +
            "', which is not one of its family's hole symbols");
      std::string reloc;
      switch (rel.getType()) {
        case ELF::R_X86_64_32:
          reloc = "kAbs32";
          break;
        case ELF::R_X86_64_32S:
          reloc = "kAbs32S";
          break;
        case ELF::R_X86_64_64:
          reloc = "kAbs64";
          break;
        case ELF::R_X86_64_PC32:
        case ELF::R_X86_64_PLT32:
          reloc = "kPcRel32";
          break;
        default: {
          SmallString<32> tn;
          rel.getTypeName(tn);
          die("stencil '" + s.name + "': unsupported relocation " + tn.str().str());
        }
      }
      if (is_jump_hole(h->second) != (reloc == "kPcRel32"))
        die("stencil '" + s.name + "': hole " + sname + " used with relocation " + reloc);
      if (family_name == "baseline" && reloc == "kAbs32" &&
          (h->second == "kI" || h->second == "kJ") && needs_sign_extended(s.name, h->second))
        die("stencil '" + s.name + "': immediate " + sname +
            " is zero-extended (R_X86_64_32) in a 64-bit context; spell the sign extension "
            "out (IMMSX)");
      if (family_name == "rv" && reloc == "kAbs32" && h->second == "kIMM" &&
          !rv_imm_may_zero_extend(s.name))
        die("stencil '" + s.name + "': immediate " + sname +
            " is zero-extended (R_X86_64_32) in a 64-bit context; spell the sign extension "
            "out (IMMSX)");
      int64_t addend = cantFail(object::ELFRelocationRef(rel).getAddend());
      s.holes.push_back({rel.getOffset(), h->second, reloc, sname, addend});
    }
  }
  std::unique_ptr<X86Code> dis;
  if (family_name == "rv") dis = std::make_unique<X86Code>();
  // Trailing `jmp rel32` (E9) to a jump hole: the emitter drops it when the target follows.
  for (auto& [idx, s] : by_section) {
    std::sort(s.holes.begin(), s.holes.end(),
              [](const HoleRec& a, const HoleRec& b) { return a.offset < b.offset; });
    if (dis && s.name.size() > 2 && s.name.compare(s.name.size() - 2, 2, "_G") == 0)
      dis->check_guarded(s.name, s.code);
    if (dis) straighten_exits(s, *dis);
    s.body = s.code.size();
    if (s.code.size() >= 5 && s.code[s.code.size() - 5] == 0xE9 && !s.holes.empty() &&
        s.holes.back().offset == s.code.size() - 4 && s.holes.back().reloc == "kPcRel32" &&
        s.holes.back().addend == -4) {
      s.tail = s.holes.back().kind;
      s.body = s.code.size() - 5;
    }
    if (s.code.size() > 65535) die("stencil '" + s.name + "' is larger than 64 KiB");
  }

  std::error_code ec;
  raw_fd_ostream out(argv[2], ec);
  if (ec) die(std::string("cannot write ") + argv[2] + ": " + ec.message());
  out << "// Generated by tools/stencil_extract from " << sys::path::filename(argv[1]) << " ("
      << fam.source << "). Do not edit.\n"
      << "// One entry per stencil: code bytes, holes (offset, kind, relocation, addend), and\n"
      << "// the trailing jump the emitter may drop.\n"
      << "namespace " << fam.ns << " {\n";
  size_t total = 0;
  for (auto& [idx, s] : by_section) {
    total += s.code.size();
    out << "\n// tj_st_" << s.name << ": " << s.code.size() << " bytes, " << s.holes.size()
        << " holes, trailing jump: " << (s.tail == "kCount" ? "none" : s.tail) << "\n";
    for (const auto& h : s.holes)
      out << "//   +" << h.offset << " " << h.sym << " " << h.reloc << " " << h.addend << "\n";
    out << "inline constexpr uint8_t kCode_" << s.name << "[] = {";
    for (size_t i = 0; i < s.code.size(); ++i)
      out << (i % 16 ? " " : "\n    ") << format("0x%02x,", s.code[i]);
    out << "};\n";
    out << "inline constexpr Hole kHoles_" << s.name << "[] = {";
    for (const auto& h : s.holes)
      out << "{" << h.offset << ", HoleKind::" << h.kind << ", RelocKind::" << h.reloc << ", "
          << h.addend << "}, ";
    if (s.holes.empty()) out << "{0, HoleKind::kCount, RelocKind::kAbs32, 0}";
    out << "};\n";
    out << "inline constexpr Stencil kStencil_" << s.name << " = {kCode_" << s.name << ", "
        << s.code.size() << ", " << s.body << ", HoleKind::" << s.tail << ", " << s.holes.size()
        << ", kHoles_" << s.name << ", " << ntraps(s) << ", "
        << (has_hole(s, "kRefuel") ? "true" : "false") << "};\n";
  }
  out << "\ninline constexpr size_t kStencilCount = " << by_section.size()
      << ";\ninline constexpr size_t kStencilBytes = " << total << ";\n";
  if (family_name != "cnp") {  // a table by name, for variant lookup at start-up
    out << "inline constexpr NamedStencil kAllStencils[] = {\n";
    for (auto& [idx, s] : by_section)
      out << "    {\"" << s.name << "\", &kStencil_" << s.name << "},\n";
    out << "};\n";
  }
  out << "}  // namespace " << fam.ns << "\n";
  return 0;
}
