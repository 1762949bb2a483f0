// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The copy-and-patch emitter.
#include "cnp/compiler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <chrono>
#include <cstring>

#include "cnp/stencil.hpp"
#include "cnp/variants.h"
#include "stencils.inc"

namespace tierjit::cnp {
namespace {

using bytecode::Insn;
using bytecode::Kind;
using bytecode::Op;

// Per opcode: [0] forward/plain, [1] backward-branch variant.
struct Table {
  const Stencil* s[256][2] = {};
  // Pinned-register variants, by opcode, backward?, shape (cnp/variants.h).
  const Stencil* v[bytecode::kNumOps][2][TJ_SHAPES] = {};
  bool has_v[256] = {};
};
#define OPI(NAME) static_cast<int>(Op::NAME)
#define SHAPE(la, lb, lc) (LI_##la * 25 + LI_##lb * 5 + LI_##lc)
#define VF_BIN_C(lc, lb, la, NAME) \
  t.v[OPI(NAME)][0][SHAPE(la, lb, lc)] = &generated::kStencil_##NAME##__##la##lb##lc;
#define VF_BIN_B(lb, la, NAME) LOCS_C(VF_BIN_C, lb, la, NAME)
#define VF_BIN_A(la, NAME) LOCS_B(VF_BIN_B, la, NAME)
#define VF_AB_B(lb, la, NAME) \
  t.v[OPI(NAME)][0][SHAPE(la, lb, m)] = &generated::kStencil_##NAME##__##la##lb;
#define VF_AB_A(la, NAME) LOCS_B(VF_AB_B, la, NAME)
#define VF_A_A(la, NAME) t.v[OPI(NAME)][0][SHAPE(la, m, m)] = &generated::kStencil_##NAME##__##la;
#define VF_BR_B(lb, la, NAME)                                                    \
  t.v[OPI(NAME)][0][SHAPE(la, lb, m)] = &generated::kStencil_##NAME##__##la##lb; \
  t.v[OPI(NAME)][1][SHAPE(la, lb, m)] = &generated::kStencil_##NAME##_BACK__##la##lb;
#define VF_BR2_A(la, NAME) LOCS_B(VF_BR_B, la, NAME)
#define VF_BR1_A(la, NAME) VF_BR_B(m, la, NAME)
#define VF_KIND_BIN(NAME) LOCS_A(VF_BIN_A, NAME)
#define VF_KIND_BINI(NAME) LOCS_A(VF_AB_A, NAME)
#define VF_KIND_UN(NAME) LOCS_A(VF_AB_A, NAME)
#define VF_KIND_LD(NAME) LOCS_A(VF_AB_A, NAME)
#define VF_KIND_ST(NAME) LOCS_A(VF_AB_A, NAME)
#define VF_KIND_LDI(NAME) LOCS_A(VF_A_A, NAME)
#define VF_KIND_BR2(NAME) LOCS_A(VF_BR2_A, NAME)
#define VF_KIND_BR1(NAME) LOCS_A(VF_BR1_A, NAME)
#define VF_V(NAME, KIND) \
  VF_KIND_##KIND(NAME);  \
  t.has_v[OPI(NAME)] = true;
#define VF_N(NAME, KIND)

void fill_variants(Table& t) {
#define TJ_OP(NAME, MN, KIND, W, VAR, EXPR) VF_##VAR(NAME, KIND)
#include "bytecode/opcodes.def"
#undef TJ_OP
}

const Table& table() {
  static const Table t = [] {
    Table t;
#define TJ_OP(NAME, MN, KIND, W, VAR, EXPR) TJ_T_##KIND(NAME)
#define TJ_T_PLAIN(NAME)                                            \
  t.s[static_cast<int>(Op::NAME)][0] = &generated::kStencil_##NAME; \
  t.s[static_cast<int>(Op::NAME)][1] = &generated::kStencil_##NAME;
#define TJ_T_BRANCH(NAME)                                           \
  t.s[static_cast<int>(Op::NAME)][0] = &generated::kStencil_##NAME; \
  t.s[static_cast<int>(Op::NAME)][1] = &generated::kStencil_##NAME##_BACK;
#define TJ_T_BIN TJ_T_PLAIN
#define TJ_T_BINZ TJ_T_PLAIN
#define TJ_T_BINI TJ_T_PLAIN
#define TJ_T_UN TJ_T_PLAIN
#define TJ_T_LD TJ_T_PLAIN
#define TJ_T_ST TJ_T_PLAIN
#define TJ_T_LDI TJ_T_PLAIN
#define TJ_T_SEL TJ_T_PLAIN
#define TJ_T_CALL TJ_T_PLAIN
#define TJ_T_CALLR TJ_T_PLAIN
#define TJ_T_HCALL TJ_T_PLAIN
#define TJ_T_RET TJ_T_PLAIN
#define TJ_T_HALT TJ_T_PLAIN
#define TJ_T_TRAP TJ_T_PLAIN
#define TJ_T_FENCE TJ_T_PLAIN
#define TJ_T_CAS TJ_T_PLAIN
#define TJ_T_XCHG TJ_T_PLAIN
#define TJ_T_XADD TJ_T_PLAIN
#define TJ_T_BR2 TJ_T_BRANCH
#define TJ_T_BR1 TJ_T_BRANCH
#define TJ_T_JMP TJ_T_BRANCH
#include "bytecode/opcodes.def"
#undef TJ_OP
    fill_variants(t);
    return t;
  }();
  return t;
}

// The trap kind of a stencil's TRAP/TRAP2 hole; 0 = keep the status the callee/host set.
uint32_t trap_kind(Kind k, HoleKind h) {
  switch (k) {
    case Kind::LD:
    case Kind::ST:
      return TJ_TRAP_OUT_OF_BOUNDS;
    case Kind::BINZ:
      return TJ_TRAP_DIV_BY_ZERO;
    case Kind::BR1:
    case Kind::BR2:
    case Kind::JMP:
      return TJ_TRAP_BUDGET;
    case Kind::CALLR:
      return TJ_TRAP_BAD_CALL;
    case Kind::HCALL:
      return 0;
    case Kind::TRAP:
      return TJ_TRAP_USER;
    case Kind::CAS:
    case Kind::XCHG:
    case Kind::XADD:
      return h == HoleKind::kTrap ? TJ_TRAP_OUT_OF_BOUNDS : TJ_TRAP_MISALIGNED;
    default:
      return TJ_TRAP_STACK_OVERFLOW;
  }
}

inline void write32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void write64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

// Everything a hole can be patched with for one instruction.
struct Values {
  uint64_t v[static_cast<int>(HoleKind::kCount)] = {};
};

// Copies the first `len` bytes of `s` to rw+at and patches the holes inside them.
inline void copy_patch(const Stencil& s, size_t len, uint8_t* rw, uint64_t rx, size_t at,
                       const Values& vals) {
  std::memcpy(rw + at, s.code, len);
  for (uint16_t i = 0; i < s.nholes; ++i) {
    const Hole& h = s.holes[i];
    if (h.offset >= len) break;  // inside the dropped trailing jump
    uint64_t value = vals.v[static_cast<int>(h.kind)] + static_cast<int64_t>(h.addend);
    uint8_t* p = rw + at + h.offset;
    if (h.reloc == RelocKind::kAbs64) [[unlikely]] {
      write64(p, value);
      continue;
    }
    // 32-bit fields: absolute (low 32 bits) or PC-relative, selected without a branch.
    uint64_t place = h.reloc == RelocKind::kPcRel32 ? rx + at + h.offset : 0;
    write32(p, static_cast<uint32_t>(value - place));
  }
}

uint64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Precomputed by the extractor (trap/refuel holes are never in a dropped trailing jump).
inline bool has_refuel(const Stencil& s, size_t) { return s.refuel; }
inline int count_traps(const Stencil& s, size_t) { return s.ntraps; }

}  // namespace

size_t stencil_count() { return generated::kStencilCount; }
size_t stencil_bytes() { return generated::kStencilBytes; }

Compiler::Compiler(CodePool& pool) : pool_(pool) {
  const Stencil& s = generated::kStencil_ENTER_SHIM;
  auto b = pool_.acquire(s.size);
  TJ_ASSERT(b.ok(), "cannot map code memory for the entry shim");
  std::memcpy(b->rw, s.code, s.size);
  enter_ = reinterpret_cast<TjEnterFn>(b->rx);
  owned_.push_back(*b);
}

Expected<std::vector<void*>> Compiler::make_interp_thunks(size_t n) {
  const Stencil& s = generated::kStencil_INTERP_THUNK;
  TJ_ASSIGN_OR_RETURN(CodeBlock b, pool_.acquire(std::max<size_t>(1, n) * s.size));
  owned_.push_back(b);
  std::vector<void*> out(n);
  Values vals;
  for (size_t i = 0; i < n; ++i) {
    vals.v[static_cast<int>(HoleKind::kCallee)] = i;
    copy_patch(s, s.size, b.rw, reinterpret_cast<uint64_t>(b.rx), i * s.size, vals);
    out[i] = b.rx + i * s.size;
  }
  return out;
}

namespace {

// Register-field roles per kind for variant shapes: which of a/b/c are register operands.
struct Roles {
  bool a, b, c, writes_a;
};
constexpr Roles roles_of(Kind k) {
  switch (k) {
    case Kind::BIN:
    case Kind::BINZ:
      return {true, true, true, true};
    case Kind::BINI:
    case Kind::UN:
    case Kind::LD:
      return {true, true, false, true};
    case Kind::LDI:
      return {true, false, false, true};
    case Kind::ST:
    case Kind::BR2:
      return {true, true, false, false};
    case Kind::BR1:
      return {true, false, false, false};
    case Kind::SEL:
    case Kind::CALL:
    case Kind::CALLR:
    case Kind::HCALL:
    case Kind::CAS:
    case Kind::XCHG:
    case Kind::XADD:
      return {false, false, false, true};
    default:
      return {false, false, false, false};
  }
}
// Per opcode (not per kind) so the hot loops do one indexed load.
struct RolesTable {
  Roles r[256] = {};
  constexpr RolesTable() {
    for (int i = 1; i < bytecode::kNumOps; ++i) r[i] = roles_of(bytecode::kOpInfo[i].kind);
  }
};
const RolesTable kRoles;
inline const Roles& roles(Op op) { return kRoles.r[static_cast<int>(op)]; }

// One decoded instruction and its word index; the compile's scratch arrays are thread-local
// and reused, so compiling allocates nothing but the CompiledCode.
struct Decoded {
  Insn in;
  uint32_t w;
};
struct Choice {
  const Stencil* s;
  uint16_t len;
  int8_t reload;  // pinned slot to reload after a frame-only stencil, or -1
};
struct Scratch {
  std::vector<Decoded> insns;
  std::vector<int32_t> depth;     // loop-depth difference array, by word
  std::vector<uint32_t> offsets;  // native offset, by word
  std::vector<Choice> choice;     // by instruction
  std::vector<uint32_t> osr;      // loop headers (word indices)
};
thread_local Scratch scratch;

// The four virtual registers to keep in machine registers: most uses, a use inside a loop
// (between a backward branch and its target) counting 16x per enclosing loop, and a bonus for
// read-modify-write chains (accumulators, induction variables) never overwritten outright:
// those are the loop-carried values a frame slot would slow by a store-to-load forward.
std::array<int, TJ_PINNED_REGS> choose_pins(const bytecode::Function& f, Scratch& sc) {
  const uint32_t nregs = f.nregs;
  uint64_t count[256];
  bool pure_def[256];
  std::memset(count, 0, nregs * sizeof count[0]);
  std::memset(pure_def, 0, nregs);
  bool loops = !sc.osr.empty();
  if (loops) {
    sc.depth.assign(f.code.size() + 1, 0);
    for (const Decoded& d : sc.insns)
      if (bytecode::is_branch(d.in.info().kind) && d.in.simm() <= 0) {
        sc.depth[d.w + d.in.simm() / 4]++;
        sc.depth[d.w + 1]--;
      }
  }
  uint64_t rmw[256];
  std::memset(rmw, 0, nregs * sizeof rmw[0]);
  int32_t depth = 0;
  for (const Decoded& d : sc.insns) {
    const Insn& in = d.in;
    if (loops)
      for (uint32_t i = d.w; i < d.w + static_cast<uint32_t>(in.size()) / 4; ++i)
        depth += sc.depth[i];
    uint64_t weight = uint64_t{1} << (4 * std::min(depth, 8));
    Roles ro = roles(in.op);
    if (ro.a || ro.writes_a) count[in.a] += weight;
    if (ro.b) count[in.b] += weight;
    if (ro.c) count[in.c] += weight;
    if (ro.writes_a) {
      if ((ro.b && in.b == in.a) || (ro.c && in.c == in.a)) {
        rmw[in.a] += 4 * weight;
      } else {
        pure_def[in.a] = true;
      }
    }
  }
  for (uint32_t r = 0; r < nregs; ++r)
    if (!pure_def[r]) count[r] += rmw[r];
  std::array<int, TJ_PINNED_REGS> pins;
  pins.fill(-1);
  for (int k = 0; k < TJ_PINNED_REGS; ++k) {
    int best = -1;
    for (uint32_t r = 0; r < nregs; ++r)
      if (count[r] && (best < 0 || count[r] > count[best])) best = static_cast<int>(r);
    if (best < 0) break;
    pins[k] = best;
    count[best] = 0;
  }
  return pins;
}

const Stencil* const kReload[TJ_PINNED_REGS] = {
    &generated::kStencil_RELOAD_0, &generated::kStencil_RELOAD_1, &generated::kStencil_RELOAD_2,
    &generated::kStencil_RELOAD_3};

}  // namespace

namespace {

// Decodes `f` once into sc.insns and notes its loop headers (targets of backward branches:
// the OSR entries) in sc.osr.
void decode_function(const bytecode::Function& f, Scratch& sc) {
  const uint32_t* code = f.code.data();
  const size_t nwords = f.code.size();
  sc.insns.clear();
  sc.osr.clear();
  for (size_t w = 0; w < nwords;) {
    Insn in = bytecode::decode(code, w);
    sc.insns.push_back({in, static_cast<uint32_t>(w)});
    if (bytecode::is_branch(in.info().kind) && in.simm() <= 0)
      sc.osr.push_back(static_cast<uint32_t>(w + in.simm() / 4));
    w += in.size() / 4;
  }
}

// Where pass 1 put things: hot code [0, hot), cold stubs and refuel blocks [hot, osr_start),
// OSR entries [osr_start, total).
struct Layout {
  size_t hot = 0, osr_start = 0, total = 0;
};

// Pass 1: the stencil (and operand variant) of every instruction, its native offset
// (sc.offsets, by word) and length (sc.choice), and the sizes of the cold areas.
// `slot[r]` is the pinned machine-register slot of virtual register r, or -1.
Expected<Layout> layout_pass(const bytecode::Function& f, const Table& t,
                             const std::bitset<256>& disabled, const int8_t (&slot)[256],
                             bool osr_entries, Scratch& sc) {
  const Stencil& enter = generated::kStencil_ENTER;
  if (sc.offsets.size() < f.code.size() + 1) sc.offsets.resize(f.code.size() + 1);
  uint32_t* offsets = sc.offsets.data();
  sc.choice.clear();
  size_t pos = enter.body_size;  // ENTER's trailing jmp NEXT is dropped: insn 0 follows
  size_t stubs = 2;              // ENTER's two
  size_t refuels = 0;
  for (const Decoded& d : sc.insns) {
    const Insn& in = d.in;
    const size_t w = d.w;
    int words = in.size() / 4;
    Kind kind = in.info().kind;
    int op = static_cast<int>(in.op);
    bool back = bytecode::is_branch(kind) && in.simm() <= 0;
    const Stencil* s = t.s[op][back];
    if (!s || disabled.test(static_cast<size_t>(op)))
      return make_error(ErrorCode::kUnsupported,
                        fmt::format("MissingStencil: no stencil for '{}' ({}+{})",
                                    in.info().mnemonic, f.name, w * 4));
    Roles ro = roles(in.op);
    int8_t reload = -1;
    if (t.has_v[op]) {
      int shape = (ro.a ? slot[in.a] + 1 : 0) * 25 + (ro.b ? slot[in.b] + 1 : 0) * 5 +
                  (ro.c ? slot[in.c] + 1 : 0);
      s = t.v[op][back][shape];
    } else if (ro.writes_a) {
      reload = slot[in.a];
    }
    offsets[w] = static_cast<uint32_t>(pos);
    bool drop = s->tail == HoleKind::kNext ||
                (s->tail == HoleKind::kTarget && in.simm() == words * 4 && reload < 0);
    size_t len = drop ? s->body_size : s->size;
    sc.choice.push_back({s, static_cast<uint16_t>(len), reload});
    stubs += count_traps(*s, len);
    if (has_refuel(*s, len)) {
      refuels++;
      stubs++;  // its budget trap
    }
    pos += len + (reload >= 0 ? kReload[reload]->body_size : 0);
  }
  std::vector<uint32_t>& osr_targets = sc.osr;
  if (!osr_entries) osr_targets.clear();
  std::sort(osr_targets.begin(), osr_targets.end());
  osr_targets.erase(std::unique(osr_targets.begin(), osr_targets.end()), osr_targets.end());
  Layout l;
  l.hot = pos;
  l.osr_start = l.hot + stubs * generated::kStencil_TRAP_STUB.size +
                refuels * generated::kStencil_REFUEL_STUB.size;
  l.total = l.osr_start + osr_targets.size() * generated::kStencil_OSR_ENTRY.size;
  return l;
}

// Pass 2: copies every stencil into `out.block` and patches its holes: the entry, each
// instruction with its trap stubs and refuel block in the cold area, then the OSR entries.
void patch_pass(const bytecode::Function& f, uint32_t fn,
                const std::array<int, TJ_PINNED_REGS>& pins, const Layout& l, const Scratch& sc,
                CompiledCode& out) {
  const Stencil& enter = generated::kStencil_ENTER;
  const Stencil& stub = generated::kStencil_TRAP_STUB;
  const Stencil& stub_keep = generated::kStencil_TRAP_STUB_KEEP;
  const Stencil& osr = generated::kStencil_OSR_ENTRY;
  const Stencil& refuel = generated::kStencil_REFUEL_STUB;
  const uint32_t* offsets = sc.offsets.data();
  uint8_t* rw = out.block.rw;
  const uint64_t rx = reinterpret_cast<uint64_t>(out.block.rx);
  size_t cold = l.hot;
  Values vals;
  auto add_stub = [&](uint32_t kind, uint32_t pc) {
    vals.v[static_cast<int>(HoleKind::kKind)] = kind;
    vals.v[static_cast<int>(HoleKind::kPc)] = pc;
    const Stencil& st = kind ? stub : stub_keep;
    copy_patch(st, st.size, rw, rx, cold, vals);
    uint64_t addr = rx + cold;
    cold += stub.size;
    return addr;
  };
  for (int k = 0; k < TJ_PINNED_REGS; ++k)
    vals.v[static_cast<int>(HoleKind::kP0) + k] = pins[k] >= 0 ? uint64_t(pins[k]) * 8 : 0;
  vals.v[static_cast<int>(HoleKind::kFn)] = fn;
  vals.v[static_cast<int>(HoleKind::kFrame)] = uint64_t{f.nregs} * 8;
  vals.v[static_cast<int>(HoleKind::kNargs)] = f.nargs;
  vals.v[static_cast<int>(HoleKind::kNregs)] = f.nregs;
  vals.v[static_cast<int>(HoleKind::kNext)] = rx + enter.body_size;
  vals.v[static_cast<int>(HoleKind::kTrap)] = add_stub(TJ_TRAP_STACK_OVERFLOW, 0);
  vals.v[static_cast<int>(HoleKind::kTrap2)] = add_stub(TJ_TRAP_BUDGET, 0);
  copy_patch(enter, enter.body_size, rw, rx, 0, vals);
  for (size_t i = 0; i < sc.insns.size(); ++i) {
    const Insn& in = sc.insns[i].in;
    const size_t w = sc.insns[i].w;
    Kind kind = in.info().kind;
    const Choice& c = sc.choice[i];
    const Stencil& s = *c.s;
    size_t at = offsets[w];
    vals.v[static_cast<int>(HoleKind::kA)] = uint64_t{in.a} * 8;
    vals.v[static_cast<int>(HoleKind::kB)] = uint64_t{in.b} * 8;
    vals.v[static_cast<int>(HoleKind::kC)] = uint64_t{in.c} * 8;
    vals.v[static_cast<int>(HoleKind::kD)] = uint64_t{in.imm & 0xff} * 8;
    vals.v[static_cast<int>(HoleKind::kImm)] = in.imm;
    vals.v[static_cast<int>(HoleKind::kCallee)] = in.imm;
    vals.v[static_cast<int>(HoleKind::kImport)] = in.imm;
    vals.v[static_cast<int>(HoleKind::kNargs)] = in.c;
    vals.v[static_cast<int>(HoleKind::kNext)] = rx + at + c.len;
    if (bytecode::is_branch(kind))
      vals.v[static_cast<int>(HoleKind::kTarget)] =
          rx + offsets[w + static_cast<int64_t>(in.simm()) / 4];
    if (int n = count_traps(s, c.len)) {
      uint32_t pc = static_cast<uint32_t>(w * 4);
      vals.v[static_cast<int>(HoleKind::kTrap)] = add_stub(trap_kind(kind, HoleKind::kTrap), pc);
      if (n > 1)
        vals.v[static_cast<int>(HoleKind::kTrap2)] =
            add_stub(trap_kind(kind, HoleKind::kTrap2), pc);
    }
    if (has_refuel(s, c.len)) {  // re-runs this stencil after refilling; traps via its stub
      uint64_t budget_trap = add_stub(TJ_TRAP_BUDGET, static_cast<uint32_t>(w * 4));
      uint64_t& target = vals.v[static_cast<int>(HoleKind::kTarget)];
      uint64_t& trap = vals.v[static_cast<int>(HoleKind::kTrap)];
      uint64_t saved_target = target, saved_trap = trap;
      target = rx + at;
      trap = budget_trap;
      copy_patch(refuel, refuel.size, rw, rx, cold, vals);
      target = saved_target;
      trap = saved_trap;
      vals.v[static_cast<int>(HoleKind::kRefuel)] = rx + cold;
      cold += refuel.size;
    }
    copy_patch(s, c.len, rw, rx, at, vals);
    if (c.reload >= 0) {
      const Stencil& rl = *kReload[c.reload];
      vals.v[static_cast<int>(HoleKind::kNext)] = rx + at + c.len + rl.body_size;
      copy_patch(rl, rl.body_size, rw, rx, at + c.len, vals);
    }
  }
  // OSR entries: load the pinned registers, then jump to the loop header.
  TJ_ASSERT(cold <= l.osr_start, "cold area overflow");
  cold = l.osr_start;
  for (uint32_t target : sc.osr) {
    vals.v[static_cast<int>(HoleKind::kTarget)] = rx + offsets[target];
    copy_patch(osr, osr.size, rw, rx, cold, vals);
    out.osr.emplace_back(target, static_cast<uint32_t>(cold));
    cold += osr.size;
  }
  out.code_bytes = cold;
}

}  // namespace

Expected<CompiledCode> Compiler::compile(const bytecode::Module& m, uint32_t fn,
                                         const CompileOptions& opts, CompileProfile* profile) {
  const bytecode::Function& f = m.functions[fn];
  uint64_t t0 = profile ? now_ns() : 0;
  Scratch& sc = scratch;
  decode_function(f, sc);
  uint64_t t_decoded = profile ? now_ns() : 0;
  // Register pinning: slot of each virtual register (-1 = frame only).
  std::array<int, TJ_PINNED_REGS> pins;
  pins.fill(-1);
  if (opts.pin_registers) pins = choose_pins(f, sc);
  int8_t slot[256];
  std::memset(slot, -1, sizeof slot);
  for (int k = 0; k < TJ_PINNED_REGS; ++k)
    if (pins[k] >= 0) slot[pins[k]] = static_cast<int8_t>(k);

  TJ_ASSIGN_OR_RETURN(Layout l, layout_pass(f, table(), disabled, slot, opts.osr_entries, sc));
  uint64_t t1 = profile ? now_ns() : 0;
  CompiledCode out;
  TJ_ASSIGN_OR_RETURN(out.block, pool_.acquire(l.total));
  uint64_t t2 = profile ? now_ns() : 0;
  patch_pass(f, fn, pins, l, sc, out);
  out.entry = reinterpret_cast<TjFn>(out.block.rx);
  if (profile) {
    uint64_t t3 = now_ns();
    profile->decode_ns += t_decoded - t0;
    profile->layout_ns += t1 - t_decoded;
    profile->acquire_ns += t2 - t1;
    profile->copy_patch_ns += t3 - t2;
  }
  return out;
}

}  // namespace tierjit::cnp
