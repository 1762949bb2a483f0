// The copy-and-patch emitter.
#include "cnp/compiler.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstring>

#include "cnp/stencil.hpp"
#include "stencils.inc"

namespace tierjit::cnp {
namespace {

using bytecode::Insn;
using bytecode::Kind;
using bytecode::Op;

// Per opcode: [0] forward/plain, [1] backward-branch variant.
struct Table {
  const Stencil* s[256][2] = {};
};
const Table& table() {
  static const Table t = [] {
    Table t;
#define TJ_OP(NAME, MN, KIND, W, EXPR) TJ_T_##KIND(NAME)
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
    switch (h.reloc) {
      case RelocKind::kAbs32:
      case RelocKind::kAbs32S:
        write32(p, static_cast<uint32_t>(value));
        break;
      case RelocKind::kAbs64:
        write64(p, value);
        break;
      case RelocKind::kPcRel32:
        write32(p, static_cast<uint32_t>(value - (rx + at + h.offset)));
        break;
    }
  }
}

uint64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int count_traps(const Stencil& s, size_t len) {
  int n = 0;
  for (uint16_t i = 0; i < s.nholes && s.holes[i].offset < len; ++i)
    if (s.holes[i].kind == HoleKind::kTrap || s.holes[i].kind == HoleKind::kTrap2) ++n;
  return n;
}

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

Expected<CompiledCode> Compiler::compile(const bytecode::Module& m, uint32_t fn,
                                         CompileProfile* profile) {
  const bytecode::Function& f = m.functions[fn];
  const Table& t = table();
  const uint32_t* code = f.code.data();
  const size_t nwords = f.code.size();
  const Stencil& enter = generated::kStencil_ENTER;
  const Stencil& stub = generated::kStencil_TRAP_STUB;
  const Stencil& stub_keep = generated::kStencil_TRAP_STUB_KEEP;
  uint64_t t0 = profile ? now_ns() : 0;

  // Pass 1: layout. Native offset per instruction; trap stubs counted for the cold area.
  CompiledCode out;
  out.offsets.assign(nwords + 1, UINT32_MAX);
  size_t pos = enter.body_size;  // ENTER's trailing jmp NEXT is dropped: insn 0 follows
  size_t stubs = 2;              // ENTER's two
  for (size_t w = 0; w < nwords;) {
    Insn in = bytecode::decode(code, w);
    int words = in.size() / 4;
    bool back = bytecode::is_branch(in.info().kind) && in.simm() <= 0;
    const Stencil* s = t.s[static_cast<int>(in.op)][back];
    if (!s || disabled.test(static_cast<size_t>(in.op)))
      return make_error(ErrorCode::kUnsupported,
                        fmt::format("MissingStencil: no stencil for '{}' ({}+{})",
                                    in.info().mnemonic, f.name, w * 4));
    out.offsets[w] = static_cast<uint32_t>(pos);
    bool drop =
        s->tail == HoleKind::kNext || (s->tail == HoleKind::kTarget && in.simm() == words * 4);
    size_t len = drop ? s->body_size : s->size;
    stubs += count_traps(*s, len);
    pos += len;
    w += words;
  }
  const size_t hot = pos;
  const size_t total = hot + stubs * stub.size;
  uint64_t t1 = profile ? now_ns() : 0;
  TJ_ASSIGN_OR_RETURN(out.block, pool_.acquire(total));
  uint64_t t2 = profile ? now_ns() : 0;

  // Pass 2: copy and patch.
  uint8_t* rw = out.block.rw;
  const uint64_t rx = reinterpret_cast<uint64_t>(out.block.rx);
  size_t cold = hot;
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
  vals.v[static_cast<int>(HoleKind::kFn)] = fn;
  vals.v[static_cast<int>(HoleKind::kFrame)] = uint64_t{f.nregs} * 8;
  vals.v[static_cast<int>(HoleKind::kNargs)] = f.nargs;
  vals.v[static_cast<int>(HoleKind::kNregs)] = f.nregs;
  vals.v[static_cast<int>(HoleKind::kNext)] = rx + enter.body_size;
  vals.v[static_cast<int>(HoleKind::kTrap)] = add_stub(TJ_TRAP_STACK_OVERFLOW, 0);
  vals.v[static_cast<int>(HoleKind::kTrap2)] = add_stub(TJ_TRAP_BUDGET, 0);
  copy_patch(enter, enter.body_size, rw, rx, 0, vals);
  for (size_t w = 0; w < nwords;) {
    Insn in = bytecode::decode(code, w);
    int words = in.size() / 4;
    Kind kind = in.info().kind;
    bool back = bytecode::is_branch(kind) && in.simm() <= 0;
    const Stencil& s = *t.s[static_cast<int>(in.op)][back];
    size_t at = out.offsets[w];
    bool drop =
        s.tail == HoleKind::kNext || (s.tail == HoleKind::kTarget && in.simm() == words * 4);
    size_t len = drop ? s.body_size : s.size;
    vals.v[static_cast<int>(HoleKind::kA)] = uint64_t{in.a} * 8;
    vals.v[static_cast<int>(HoleKind::kB)] = uint64_t{in.b} * 8;
    vals.v[static_cast<int>(HoleKind::kC)] = uint64_t{in.c} * 8;
    vals.v[static_cast<int>(HoleKind::kD)] = uint64_t{in.imm & 0xff} * 8;
    vals.v[static_cast<int>(HoleKind::kImm)] = in.imm;
    vals.v[static_cast<int>(HoleKind::kCallee)] = in.imm;
    vals.v[static_cast<int>(HoleKind::kImport)] = in.imm;
    vals.v[static_cast<int>(HoleKind::kNargs)] = in.c;
    vals.v[static_cast<int>(HoleKind::kNext)] = rx + at + len;
    if (bytecode::is_branch(kind))
      vals.v[static_cast<int>(HoleKind::kTarget)] =
          rx + out.offsets[w + static_cast<int64_t>(in.simm()) / 4];
    if (int n = count_traps(s, len)) {
      uint32_t pc = static_cast<uint32_t>(w * 4);
      vals.v[static_cast<int>(HoleKind::kTrap)] = add_stub(trap_kind(kind, HoleKind::kTrap), pc);
      if (n > 1)
        vals.v[static_cast<int>(HoleKind::kTrap2)] =
            add_stub(trap_kind(kind, HoleKind::kTrap2), pc);
    }
    copy_patch(s, len, rw, rx, at, vals);
    w += words;
  }
  out.entry = reinterpret_cast<TjFn>(out.block.rx);
  out.code_bytes = cold;
  if (profile) {
    uint64_t t3 = now_ns();
    profile->layout_ns += t1 - t0;
    profile->acquire_ns += t2 - t1;
    profile->copy_patch_ns += t3 - t2;
  }
  return out;
}

}  // namespace tierjit::cnp
