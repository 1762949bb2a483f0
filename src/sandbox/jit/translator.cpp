// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The sandbox's translation tier (translator.hpp): the operation-to-stencil table, the block
// emitter (copy, patch, side-exit stubs, links) and the run loop that alternates translated
// code and the interpreter.
#include "sandbox/jit/translator.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <ucontext.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/code_pool.hpp"
#include "runtime/stencil_table.hpp"
#include "sandbox/exec_fd.hpp"
#include "sandbox/jit/rv_jit_abi.h"
#include "sandbox/machine.hpp"
#include "support/jitdump.hpp"

namespace tierjit::sandbox {

/// The rv stencil family's holes (the TJR_<NAME> symbols of rv_stencils.c).
enum class HoleKind : uint8_t {
  kRD,
  kRS1,
  kRS2,
  kRS3,  ///< register byte offsets from x
  kIMM,  ///< 32-bit immediate
  kN,    ///< block length in instructions
  kID,   ///< an exit site's id
  kS0,
  kS1,
  kS2,
  kS3,
  kS4,  ///< x[] byte offsets of the pinned registers
  kK,   ///< 64-bit constant
  kNEXT,
  kTARGET,
  kEXIT,  ///< rel32 jumps
  kCount
};
using RelocKind = runtime::RelocKind;
using Hole = runtime::StencilHole<HoleKind>;
using Stencil = runtime::StencilCode<HoleKind>;
using NamedStencil = runtime::NamedStencil<HoleKind>;

}  // namespace tierjit::sandbox

#include "rv_stencils.inc"  // namespace tierjit::sandbox::generated

namespace tierjit::sandbox {
namespace {

namespace gen = generated;
using Clock = std::chrono::steady_clock;

constexpr unsigned kMaxBlock = 256;       // instructions per block
constexpr size_t kArenaBytes = 1u << 20;  // code memory taken from the pool at a time

// ---- the operation table -------------------------------------------------------------------

enum RegFile : uint8_t { kNoReg, kX, kF };
enum FormFlag : uint8_t {
  kFpState = 1,  // needs the host FPU in the guest's state (fp_check)
  kRne = 2,      // rounds: static rm must be RNE or dynamic
  kRtz = 4,      // float-to-integer conversion: translated for static rm = RTZ only
  kFma = 8,      // needs FMA3 on the host
  kFlow = 16,    // a jump or branch: ends the block
};
struct Form {
  const Stencil* st = nullptr;
  const Stencil* st_stack = nullptr;  // loads and stores: the variant that tries the stack first
  const Stencil* st_guard = nullptr;  // and the one that leaves the map to guard pages
  RegFile rd = kNoReg, rs1 = kNoReg, rs2 = kNoReg, rs3 = kNoReg;
  uint8_t flags = 0;
};

constexpr int kPinned = 5;  // guest registers held in host registers (rv_stencils.c: s0-s4)

const Stencil* stencil_named(std::string_view name) {
  for (const NamedStencil& s : gen::kAllStencils)
    if (name == s.name) return s.stencil;
  return nullptr;
}

struct FormTable {
  Form ops[static_cast<size_t>(Op::kCount)];
  const Stencil *block, *fp_check, *exit_site, *exit_common, *jmp, *li, *enter, *jalr_check,
      *jalr_go;
  const Stencil *geta_m, *getb_m, *puta_m;
  const Stencil *geta_s[kPinned], *getb_s[kPinned], *puta_s[kPinned];
  bool fma = false;

  FormTable() {
    block = stencil_named("block");
    fp_check = stencil_named("fp_check");
    exit_site = stencil_named("exit_site");
    exit_common = stencil_named("exit_common");
    jmp = stencil_named("jmp");
    li = stencil_named("LI");
    enter = stencil_named("enter");
    jalr_check = stencil_named("jalr_check");
    jalr_go = stencil_named("jalr_go");
    geta_m = stencil_named("geta_m");
    getb_m = stencil_named("getb_m");
    puta_m = stencil_named("puta_m");
    for (int k = 0; k < kPinned; ++k) {
      geta_s[k] = stencil_named("geta_s" + std::to_string(k));
      getb_s[k] = stencil_named("getb_s" + std::to_string(k));
      puta_s[k] = stencil_named("puta_s" + std::to_string(k));
    }
    fma = __builtin_cpu_supports("fma");
    for (size_t i = 0; i < static_cast<size_t>(Op::kCount); ++i) {
      Op op = static_cast<Op>(i);
      Form& f = ops[i];
      std::string name = op_name(op);
      classify(op, name, f);
      if (f.flags & kRtz) name += "_RTZ";
      f.st = stencil_named(name);
      f.st_stack = stencil_named(name + "_S");
      f.st_guard = stencil_named(name + "_G");
      if ((f.flags & kFma) && !fma) f.st = nullptr;
    }
  }

  // Register files and flags per operation (rv_ops.def order). Integer operations: every
  // named operand is an x register.
  static void classify(Op op, std::string_view name, Form& f) {
    auto set = [&](RegFile rd, RegFile a, RegFile b, RegFile c, uint8_t flags) {
      f.rd = rd, f.rs1 = a, f.rs2 = b, f.rs3 = c, f.flags = flags;
    };
    if (is_direct_jump(op) && op != Op::JAL)  // the conditional branches
      return set(kNoReg, kX, kX, kNoReg, kFlow);
    switch (op) {
      case Op::LUI:
      case Op::AUIPC:
        return set(kX, kNoReg, kNoReg, kNoReg, 0);
      case Op::FENCE:
      case Op::FENCE_I:
        return set(kNoReg, kNoReg, kNoReg, kNoReg, 0);
      case Op::JAL:
        return set(kX, kNoReg, kNoReg, kNoReg, kFlow);
      case Op::JALR:
        return set(kX, kX, kNoReg, kNoReg, kFlow);
      case Op::SB:
      case Op::SH:
      case Op::SW:
      case Op::SD:
        return set(kNoReg, kX, kX, kNoReg, 0);
      case Op::FLW:
      case Op::FLD:
        return set(kF, kX, kNoReg, kNoReg, 0);
      case Op::FSW:
      case Op::FSD:
        return set(kNoReg, kX, kF, kNoReg, 0);
      case Op::FMADD_S:
      case Op::FMSUB_S:
      case Op::FNMSUB_S:
      case Op::FNMADD_S:
      case Op::FMADD_D:
      case Op::FMSUB_D:
      case Op::FNMSUB_D:
      case Op::FNMADD_D:
        return set(kF, kF, kF, kF, kFpState | kRne | kFma);
      case Op::FADD_S:
      case Op::FSUB_S:
      case Op::FMUL_S:
      case Op::FDIV_S:
      case Op::FADD_D:
      case Op::FSUB_D:
      case Op::FMUL_D:
      case Op::FDIV_D:
        return set(kF, kF, kF, kNoReg, kFpState | kRne);
      case Op::FSQRT_S:
      case Op::FSQRT_D:
      case Op::FCVT_S_D:
      case Op::FCVT_D_S:
        return set(kF, kF, kNoReg, kNoReg, kFpState | kRne);
      case Op::FSGNJ_S:
      case Op::FSGNJN_S:
      case Op::FSGNJX_S:
      case Op::FSGNJ_D:
      case Op::FSGNJN_D:
      case Op::FSGNJX_D:
        return set(kF, kF, kF, kNoReg, 0);
      case Op::FCVT_W_S:
      case Op::FCVT_WU_S:
      case Op::FCVT_L_S:
      case Op::FCVT_LU_S:
      case Op::FCVT_W_D:
      case Op::FCVT_WU_D:
      case Op::FCVT_L_D:
      case Op::FCVT_LU_D:
        return set(kX, kF, kNoReg, kNoReg, kFpState | kRtz);
      case Op::FCVT_S_W:
      case Op::FCVT_S_WU:
      case Op::FCVT_S_L:
      case Op::FCVT_S_LU:
      case Op::FCVT_D_W:
      case Op::FCVT_D_WU:
      case Op::FCVT_D_L:
      case Op::FCVT_D_LU:
        return set(kF, kX, kNoReg, kNoReg, kFpState | kRne);
      case Op::FMV_X_W:
      case Op::FMV_X_D:
      case Op::FCLASS_S:
      case Op::FCLASS_D:
        return set(kX, kF, kNoReg, kNoReg, 0);
      case Op::FMIN_S:
      case Op::FMAX_S:
      case Op::FMIN_D:
      case Op::FMAX_D:
        return set(kF, kF, kF, kNoReg, kFpState);
      case Op::FMV_W_X:
      case Op::FMV_D_X:
        return set(kF, kX, kNoReg, kNoReg, 0);
      case Op::FEQ_S:
      case Op::FLT_S:
      case Op::FLE_S:
      case Op::FEQ_D:
      case Op::FLT_D:
      case Op::FLE_D:
        return set(kX, kF, kF, kNoReg, kFpState);
      default:
        break;
    }
    // Everything else is integer: rd and rs1 x registers, rs2 for the register-register forms.
    switch (op) {
      case Op::LB:
      case Op::LH:
      case Op::LW:
      case Op::LD:
      case Op::LBU:
      case Op::LHU:
      case Op::LWU:
      case Op::ADDI:
      case Op::SLTI:
      case Op::SLTIU:
      case Op::XORI:
      case Op::ORI:
      case Op::ANDI:
      case Op::SLLI:
      case Op::SRLI:
      case Op::SRAI:
      case Op::ADDIW:
      case Op::SLLIW:
      case Op::SRLIW:
      case Op::SRAIW:
      case Op::SLLI_UW:
      case Op::CLZ:
      case Op::CTZ:
      case Op::CPOP:
      case Op::CLZW:
      case Op::CTZW:
      case Op::CPOPW:
      case Op::SEXT_B:
      case Op::SEXT_H:
      case Op::ZEXT_H:
      case Op::RORI:
      case Op::RORIW:
      case Op::ORC_B:
      case Op::REV8:
        return set(kX, kX, kNoReg, kNoReg, 0);
      default:
        (void)name;
        return set(writes_xrd(op) ? kX : kNoReg, kX, kX, kNoReg, 0);
    }
  }
};

const FormTable& forms() {
  static const FormTable t;
  return t;
}

// ---- code memory ---------------------------------------------------------------------------

// Bump allocation from 1 MiB pool regions; blocks live as long as the translator. Each region
// starts with a copy of `prefix` (the common exit its exit sites jump to: always within a
// rel32's reach).
class Arena {
 public:
  ~Arena() {
    for (const runtime::CodeBlock& b : blocks_) pool_.release(b);
  }
  void set_prefix(std::vector<uint8_t> prefix) { prefix_ = std::move(prefix); }
  struct Space {
    uint8_t* rw = nullptr;      // writable view (nullptr: code memory exhausted)
    uint8_t* rx = nullptr;      // executable view
    uint8_t* prefix = nullptr;  // the region's prefix, executable view
  };
  // Reserves `n` bytes.
  Space take(size_t n) {
    size_t start = (prefix_.size() + 15) & ~size_t{15};
    if (blocks_.empty() || used_ + n > blocks_.back().size) {
      auto b = pool_.acquire(std::max(n + start, kArenaBytes));
      if (!b) return {};
      blocks_.push_back(*b);
      std::memcpy(b->rw, prefix_.data(), prefix_.size());
      used_ = start;
    }
    const runtime::CodeBlock& b = blocks_.back();
    Space r{b.rw + used_, b.rx + used_, b.rx};
    used_ += (n + 15) & ~size_t{15};
    return r;
  }

 private:
  runtime::CodePool pool_{runtime::CodePoolConfig{4096, 16, 256, 64u << 20, false}};
  std::vector<runtime::CodeBlock> blocks_;
  std::vector<uint8_t> prefix_;
  size_t used_ = 0;
};

// A jump in emitted code to patch once its destination is known.
struct Jump {
  enum Kind : uint8_t { kStub, kGuest, kCommonExit } kind = kStub;
  uint32_t site = 0;  // offset of the rel32 field in the block
  int32_t addend = 0;
  uint64_t to = 0;  // stub index, or guest pc
};
// What an exit id means (rv_jit_abi.h): the dispatcher's instructions for that exit.
struct ExitRec {
  uint8_t kind = TJ_RV_EXIT_MISS;
  uint8_t jalr_rd = 0xff;  // a JALR whose target left text (exit_pc): its rd; else 0xff
  uint8_t jalr_len = 0;    // and its length in bytes
  uint32_t refund = 0;     // instructions charged by the block but not run
  uint32_t link = 0;       // TJ_RV_EXIT_LINK: index into links
  uint64_t pc = 0;
};
// A guarded access's code (executable addresses): a fault between begin and end resumes at
// the exit site `exit` of the stencil's side exit.
struct GuardSite {
  uintptr_t begin, end, exit;
};
// The guarded accesses of one code region, in address order (code is bump-allocated).
struct GuardRegion {
  uintptr_t start;  // the region's first byte
  std::vector<GuardSite> sites;
};

// A direct jump to a guest pc that had no translation when emitted (the exit stub reports it).
struct Link {
  uint8_t* rw_site;  // the rel32 field, writable view
  uint8_t* rx_site;  // the same field, executable view
  int32_t addend;
  uint64_t target;
  bool done;
};

}  // namespace

struct Translator::State {
  Sandbox::Impl& m;
  const FormTable& t = forms();
  tj_rv_ctx ctx{};
  Arena arena;
  void** table = nullptr;  // translated code per 2-byte text position (calloc: lazily zeroed)
  std::vector<ExitRec> exits{ExitRec{}};  // by exit id; id 0: an indirect-jump miss
  void* enter = nullptr;                  // the trampoline, copied into code memory
  std::vector<Link> links;
  int64_t f_offset = 0;  // bytes from x to f
  // Instructions per block; TIERJIT_SANDBOX_MAX_BLOCK lowers it (1: every instruction a block
  // of its own, which makes a translator-vs-interpreter difference point at one instruction).
  unsigned max_block = kMaxBlock;
  int pinned[kPinned] = {};  // guest register held in host register s<k> (32: none)
  int pin_slot[33] = {};     // guest register -> k, or -1
  // What the operand registers hold while a block is emitted: a guest register, or -1.
  int a_holds = -1, b_holds = -1;
  // Guard pages (machine.hpp): loads and stores use the _G stencils, and a host fault in one
  // goes to its side exit through guard_regions.
  bool guarded = false;
  std::vector<GuardRegion> guard_regions;
  uint64_t guard_faults = 0;  // written by the fault handler, on this thread

  // The block being emitted.
  std::vector<uint8_t> code;
  std::vector<Jump> jumps;
  std::vector<uint32_t> stubs;    // exit ids of this block's exit sites
  std::vector<uint32_t> stub_at;  // where each exit site landed in `code`
  struct PendingGuard {
    uint32_t begin, end, stub;  // in `code`; the side exit's stub index
  };
  std::vector<PendingGuard> pending_guards;
  std::vector<std::pair<Decoded, uint64_t>> insns;

  explicit State(Sandbox::Impl& machine) : m(machine) {
    table = static_cast<void**>(std::calloc((m.exec_hi - m.exec_lo) / 2 + 1, sizeof(void*)));
    f_offset = reinterpret_cast<uint8_t*>(m.f) - reinterpret_cast<uint8_t*>(m.x);
    ctx.text_lo = m.exec_lo;
    ctx.text_size = m.exec_hi - m.exec_lo;
    ctx.table = table;
    if (const char* e = std::getenv("TIERJIT_SANDBOX_MAX_BLOCK"))
      max_block = std::clamp(unsigned(std::strtoul(e, nullptr, 10)), 1u, kMaxBlock);
    choose_pinned();
    for (int k = 0; k < 4; ++k) ctx.space_limit[k] = m.mem_size - (1u << k);
    if (!m.guard_refused && m.page_aligned_map()) {
      m.guard_pages = true;
      if (!install_fault_handler() || !m.protect_map()) m.drop_guard_pages();
      guarded = m.guard_pages;
    }
    // Every region's common exit, then the entry trampoline; both patched with the pinned
    // registers' offsets.
    code.clear();
    emit(t.exit_common, Vals(), nullptr, nullptr);
    arena.set_prefix(code);
    code.clear();
    emit(t.enter, Vals(), nullptr, nullptr);
    Arena::Space sp = arena.take(code.size());
    if (sp.rw && table) {
      std::memcpy(sp.rw, code.data(), code.size());
      enter = sp.rx;
    }
  }

  // Pins the integer registers the text uses most (a linear sweep of the executable range,
  // counting operands of the operations the translator handles); the stack pointer usually
  // leads. A register nobody uses keeps the x0 sink's slot.
  void choose_pinned() {
    uint64_t uses[32] = {};
    for (uint64_t at = m.exec_lo; at + 2 <= m.exec_hi;) {
      Decoded d;
      uint16_t lo;
      std::memcpy(&lo, m.mem + at, 2);
      unsigned len = insn_length(lo);
      if (len == 0) len = 2;
      if (decode_at(at, d)) {
        const Form& f = t.ops[static_cast<size_t>(d.op)];
        if (f.rd == kX) ++uses[d.rd];
        if (f.rs1 == kX) ++uses[d.rs1];
        if (f.rs2 == kX) ++uses[d.rs2];
      }
      at += len;
    }
    uses[0] = 0;
    for (int& p : pin_slot) p = -1;
    for (int k = 0; k < kPinned; ++k) {
      int best = 0;
      for (int r = 1; r < 32; ++r)
        if (pin_slot[r] < 0 && uses[r] > uses[best]) best = r;
      pinned[k] = best == 0 ? 32 : best;
      if (best != 0) pin_slot[best] = k;
    }
  }

  ~State() { std::free(table); }

  // The memory map into the context (after every interpreter run: brk and mmap move heap_hi).
  // A region smaller than 8 bytes is replaced by the stack's, so no limit wraps around.
  void sync_bounds() {
    if (guarded) return;  // the _G stencils read only space_limit (set once)
    uint64_t stack = m.mem_size - m.stack_lo;
    bool reads = m.heap_hi >= m.ro_lo + 8, writes = m.heap_hi >= m.rw_lo + 8;
    ctx.stack_lo = m.stack_lo;
    ctx.read_lo = reads ? m.ro_lo : m.stack_lo;
    ctx.write_lo = writes ? m.rw_lo : m.stack_lo;
    for (int k = 0; k < 4; ++k) {
      ctx.stack_limit[k] = stack - (1u << k);
      ctx.read_limit[k] = (reads ? m.heap_hi - m.ro_lo : stack) - (1u << k);
      ctx.write_limit[k] = (writes ? m.heap_hi - m.rw_lo : stack) - (1u << k);
    }
  }

  size_t slot(uint64_t pc) const { return static_cast<size_t>((pc - m.exec_lo) >> 1); }
  bool in_text(uint64_t pc) const { return pc - m.exec_lo < m.exec_hi - m.exec_lo && !(pc & 1); }

  int64_t reg(RegFile f, uint8_t r) const {
    return f == kF ? f_offset + 8 * int64_t(r) : 8 * int64_t(r);
  }

  struct Vals {
    int64_t v[size_t(HoleKind::kCount)] = {};
    Vals& set(HoleKind k, int64_t x) {
      v[size_t(k)] = x;
      return *this;
    }
  };

  // Copies stencil `s` with value holes from `p`. Jump holes: TARGET and EXIT to `target` and
  // `exit`; NEXT to `next` when given (the stencil is copied whole), else to the code that
  // follows (a trailing `jmp NEXT` is dropped).
  void emit(const Stencil* s, const Vals& p, const Jump* target, const Jump* exit,
            const Jump* next = nullptr) {
    if (next && !has_hole(s, HoleKind::kNEXT)) {  // it falls through: jump on from there
      emit(s, p, target, exit);
      emit(t.jmp, Vals(), next, nullptr);
      return;
    }
    size_t base = code.size();
    bool drop_tail = s->tail == HoleKind::kNEXT && !next;
    size_t len = drop_tail ? s->body_size : s->size;
    code.insert(code.end(), s->code, s->code + len);
    uint8_t* c = code.data() + base;
    for (uint16_t k = 0; k < s->nholes; ++k) {
      const Hole& h = s->holes[k];
      if (h.offset >= len) continue;
      switch (h.kind) {
        case HoleKind::kNEXT:
          if (next) {
            jumps.push_back({next->kind, uint32_t(base + h.offset), h.addend, next->to});
          } else {
            int32_t rel = int32_t(int64_t(len) + h.addend - int64_t(h.offset));
            std::memcpy(c + h.offset, &rel, 4);
          }
          break;
        case HoleKind::kTARGET:
        case HoleKind::kEXIT: {
          const Jump* j = h.kind == HoleKind::kTARGET ? target : exit;
          jumps.push_back({j->kind, uint32_t(base + h.offset), h.addend, j->to});
          break;
        }
        case HoleKind::kS0:
        case HoleKind::kS1:
        case HoleKind::kS2:
        case HoleKind::kS3:
        case HoleKind::kS4: {
          int k = int(h.kind) - int(HoleKind::kS0);
          uint32_t off = uint32_t(8 * pinned[k] + h.addend);
          std::memcpy(c + h.offset, &off, 4);
          break;
        }
        default: {
          int64_t v = p.v[size_t(h.kind)] + h.addend;
          if (h.reloc == RelocKind::kAbs64) {
            std::memcpy(c + h.offset, &v, 8);
          } else {
            uint32_t lo = uint32_t(uint64_t(v));
            std::memcpy(c + h.offset, &lo, 4);
          }
        }
      }
    }
  }

  static bool has_hole(const Stencil* s, HoleKind kind) {
    for (uint16_t k = 0; k < s->nholes; ++k)
      if (s->holes[k].kind == kind) return true;
    return false;
  }

  Jump stub(uint8_t kind, uint64_t pc, uint32_t refund) {
    exits.push_back({.kind = kind, .refund = refund, .pc = pc});
    stubs.push_back(uint32_t(exits.size() - 1));
    return {Jump::kStub, 0, 0, stubs.size() - 1};
  }

  // Whether decoded instruction `d` at `pc` can be translated.
  bool translatable(const Decoded& d, uint64_t pc) const {
    const Form& f = t.ops[static_cast<size_t>(d.op)];
    if (pc + d.len > m.exec_hi) return false;
    switch (d.op) {  // no stencil of their own (translate() composes them)
      case Op::LUI:
      case Op::AUIPC:
      case Op::FENCE:
      case Op::FENCE_I:
      case Op::JALR:
        return true;
      default:
        break;
    }
    if (!f.st && d.op != Op::JAL) return false;
    if ((f.flags & kRne) && d.rm != 0 && d.rm != 7) return false;
    if ((f.flags & kRtz) && d.rm != 1) return false;
    if (pc + d.len > m.exec_hi) return false;
    return !is_direct_jump(d.op) || in_text(pc + static_cast<int64_t>(d.imm));
  }

  bool decode_at(uint64_t pc, Decoded& d) const {
    if (!in_text(pc)) return false;
    uint16_t lo;
    std::memcpy(&lo, m.mem + pc, 2);
    unsigned len = insn_length(lo);
    if (len == 2) {
      d = decode16(lo);
    } else if (len == 4 && pc + 4 <= m.exec_hi) {
      uint32_t w;
      std::memcpy(&w, m.mem + pc, 4);
      d = decode32(w);
    } else {
      return false;
    }
    return d.op != Op::ILLEGAL;
  }

  // Operand moves (rv_stencils.c: a from rs1, b from rs2, a to rd), skipped when the operand
  // register already holds the guest register.
  void get(int& holds, uint8_t r, const Stencil* const* pinned_st, const Stencil* mem,
           HoleKind hole) {
    if (holds == r) return;
    if (pin_slot[r] >= 0)
      emit(pinned_st[pin_slot[r]], Vals(), nullptr, nullptr);
    else
      emit(mem, Vals().set(hole, 8 * int64_t(r)), nullptr, nullptr);
    holds = r;
  }
  void get_a(uint8_t r) { get(a_holds, r, t.geta_s, t.geta_m, HoleKind::kRS1); }
  void get_b(uint8_t r) { get(b_holds, r, t.getb_s, t.getb_m, HoleKind::kRS2); }
  void put_a(uint8_t r) {
    if (r == 0) {  // x0: the result is dropped
      a_holds = -1;
      return;
    }
    if (pin_slot[r] >= 0)
      emit(t.puta_s[pin_slot[r]], Vals(), nullptr, nullptr);
    else
      emit(t.puta_m, Vals().set(HoleKind::kRD, 8 * int64_t(r)), nullptr, nullptr);
    a_holds = r;
    if (b_holds == r) b_holds = -1;
  }

  // Emits one body instruction (i-th of n in the block at `pc`).
  void emit_insn(const Decoded& d, uint64_t pc, unsigned i, unsigned n) {
    const Form& f = t.ops[static_cast<size_t>(d.op)];
    // Floating-point operands stay in memory: their holes are f[] offsets.
    Vals p;
    p.set(HoleKind::kRD, f.rd == kF ? reg(kF, d.rd) : 0)
        .set(HoleKind::kRS1, f.rs1 == kF ? reg(kF, d.rs1) : 0)
        .set(HoleKind::kRS2, f.rs2 == kF ? reg(kF, d.rs2) : 0)
        .set(HoleKind::kRS3, f.rs3 == kF ? reg(kF, d.rs3) : 0)
        .set(HoleKind::kIMM, d.imm);
    uint64_t next = pc + d.len;
    auto side = [&] { return stub(TJ_RV_EXIT_INTERP, pc, n - i); };
    switch (d.op) {
      case Op::LUI:
      case Op::AUIPC:
        emit(t.li, p.set(HoleKind::kK, int64_t(d.op == Op::LUI ? 0 : pc) + int64_t(d.imm)), nullptr,
             nullptr);
        a_holds = -1;
        put_a(d.rd);
        return;
      case Op::FENCE:
      case Op::FENCE_I:
        return;  // one hart, text never written: nothing to order
      case Op::JAL: {
        Jump to{Jump::kGuest, 0, 0, pc + int64_t(d.imm)};
        if (d.rd != 0) {
          emit(t.li, p.set(HoleKind::kK, int64_t(next)), nullptr, nullptr);
          a_holds = -1;
          put_a(d.rd);
        }
        emit(t.jmp, Vals(), &to, nullptr);
        return;
      }
      case Op::JALR: {
        get_a(d.rs1);
        Jump e = side();
        exits.back().jalr_rd = d.rd;  // the run loop finishes a return from a vmcall itself
        exits.back().jalr_len = d.len;
        emit(t.jalr_check, p.set(HoleKind::kK, int64_t(next)), nullptr, &e);
        a_holds = b_holds = -1;
        put_a(d.rd);
        Jump common{Jump::kCommonExit, 0, 0, 0};
        emit(t.jalr_go, Vals(), &common, nullptr);
        return;
      }
      default:
        break;
    }
    if (f.rs1 == kX) get_a(d.rs1);
    if (f.rs2 == kX) get_b(d.rs2);
    if (f.flags & kFlow) {  // conditional branch
      Jump to{Jump::kGuest, 0, 0, pc + int64_t(d.imm)};
      Jump fall{Jump::kGuest, 0, 0, next};
      emit(f.st, p, &to, nullptr, &fall);
      return;
    }
    // Accesses based on sp check the stack range first.
    const Stencil* st = guarded && f.st_guard      ? f.st_guard
                        : f.st_stack && d.rs1 == 2 ? f.st_stack
                                                   : f.st;
    Jump e = has_hole(st, HoleKind::kEXIT) ? side() : Jump{};
    uint32_t begin = uint32_t(code.size());
    emit(st, p, nullptr, &e);
    if (st == f.st_guard) pending_guards.push_back({begin, uint32_t(code.size()), uint32_t(e.to)});
    if (f.rd == kX) {
      a_holds = -1;
      put_a(d.rd);
    }
  }

  // Translates the block at `pc` (in text); returns its executable address or nullptr.
  void* translate(uint64_t pc, Translator::Stats& st) {
    auto t0 = Clock::now();
    code.clear();
    jumps.clear();
    stubs.clear();
    pending_guards.clear();
    a_holds = b_holds = -1;
    // Decode the block: up to a jump/branch, an untranslatable instruction, or the limit.
    insns.clear();
    bool fp = false, ends_in_flow = false;
    uint64_t at = pc;
    while (insns.size() < max_block) {
      Decoded d;
      if (!decode_at(at, d) || !translatable(d, at)) break;
      const Form& f = t.ops[static_cast<size_t>(d.op)];
      // An instruction that is not a jump must be followed by text (else the interpreter
      // reports running off the end).
      if (!(f.flags & kFlow) && at + d.len >= m.exec_hi) break;
      fp |= (f.flags & kFpState) != 0;
      insns.push_back({d, at});
      at += d.len;
      if (f.flags & kFlow) {
        ends_in_flow = true;
        break;
      }
    }
    unsigned n = static_cast<unsigned>(insns.size());
    if (n == 0) {
      // Nothing to translate here: a block that hands this instruction to the interpreter.
      Jump e = stub(TJ_RV_EXIT_INTERP, pc, 0);
      emit(t.jmp, Vals(), &e, nullptr);
    } else {
      if (fp) {
        Jump e = stub(TJ_RV_EXIT_FP, pc, 0);
        emit(t.fp_check, Vals(), nullptr, &e);
      }
      Jump e = stub(TJ_RV_EXIT_BUDGET, pc, n);  // the block's charge is given back
      emit(t.block, Vals().set(HoleKind::kN, n), nullptr, &e);
      for (unsigned i = 0; i < n; ++i) emit_insn(insns[i].first, insns[i].second, i, n);
      if (!ends_in_flow) {
        Jump to{Jump::kGuest, 0, 0, at};
        emit(t.jmp, Vals(), &to, nullptr);
      }
    }
    // Exit sites after the body (cold); then jumps to untranslated guest code get exit sites
    // of their own. Sizes first: the region decides where the common exit is.
    size_t guest_jumps = 0;
    for (const Jump& j : jumps) guest_jumps += j.kind == Jump::kGuest && !table[slot(j.to)];
    size_t site_size = t.exit_site->size;
    Arena::Space sp = arena.take(code.size() + site_size * (stubs.size() + guest_jumps));
    if (!sp.rw) {
      ++st.failures;
      for (uint32_t id : stubs) exits[id].kind = TJ_RV_EXIT_INTERP;  // never reached
      return nullptr;
    }
    auto exit_site = [&](uint32_t id) {
      uint32_t where = uint32_t(code.size());
      Jump common{Jump::kCommonExit, 0, 0, 0};
      emit(t.exit_site, Vals().set(HoleKind::kID, id), &common, nullptr);
      return where;
    };
    auto put_rel = [&](uint32_t site, int32_t addend, const uint8_t* dest_rx) {
      int32_t rel = int32_t(dest_rx - (sp.rx + site) + addend);
      std::memcpy(code.data() + site, &rel, 4);
    };
    stub_at.resize(stubs.size());
    for (size_t i = 0; i < stubs.size(); ++i) stub_at[i] = exit_site(stubs[i]);
    // Resolving may append exit sites (and their jumps to the common exit): index, not iterate.
    for (size_t k = 0; k < jumps.size(); ++k) {
      Jump j = jumps[k];
      switch (j.kind) {
        case Jump::kStub:
          put_rel(j.site, j.addend, sp.rx + stub_at[j.to]);
          break;
        case Jump::kCommonExit:
          put_rel(j.site, j.addend, sp.prefix);
          break;
        case Jump::kGuest:
          if (void* dest = table[slot(j.to)]) {
            put_rel(j.site, j.addend, static_cast<uint8_t*>(dest));
          } else {
            // Not translated yet: an exit site that reports the link, patched once translated.
            exits.push_back({.kind = TJ_RV_EXIT_LINK, .link = uint32_t(links.size()), .pc = j.to});
            links.push_back({sp.rw + j.site, sp.rx + j.site, j.addend, j.to, false});
            put_rel(j.site, j.addend, sp.rx + exit_site(uint32_t(exits.size() - 1)));
          }
          break;
      }
    }
    std::memcpy(sp.rw, code.data(), code.size());
    if (JitDump* dump = JitDump::get())
      dump->code_load(fmt::format("riscv64 block 0x{:x}", pc), uint64_t(sp.rx), code.data(),
                      code.size());
    if (!pending_guards.empty()) {
      auto start = reinterpret_cast<uintptr_t>(sp.prefix);
      if (guard_regions.empty() || guard_regions.back().start != start)
        guard_regions.push_back({start, {}});
      for (const PendingGuard& g : pending_guards)
        guard_regions.back().sites.push_back(
            {reinterpret_cast<uintptr_t>(sp.rx + g.begin),
             reinterpret_cast<uintptr_t>(sp.rx + g.end),
             reinterpret_cast<uintptr_t>(sp.rx + stub_at[g.stub])});
    }
    table[slot(pc)] = sp.rx;
    st.blocks++;
    st.instructions += n;
    st.code_bytes += code.size();
    st.translate_ns +=
        uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
    return sp.rx;
  }

  // ---- guard pages: the host fault handler ----
  // The translator running on this thread (set for the whole of Translator::run), for the
  // handler.
  static thread_local State* running;
  static struct sigaction& previous() {
    static struct sigaction p;
    return p;
  }
  // Installed once per process (an embedder that installs its own SIGSEGV handler later must
  // chain to it, as for any runtime with guard pages). A fault in a guarded access of the
  // running translator's code, on guest memory, resumes at that access's side exit: the
  // interpreter then runs the instruction and reports the fault. Anything else goes to the
  // handler installed before, or the default action.
  static bool install_fault_handler() {
    static const bool ok = [] {
      struct sigaction sa {};
      sa.sa_sigaction = on_fault;
      sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
      sigemptyset(&sa.sa_mask);
      return ::sigaction(SIGSEGV, &sa, &previous()) == 0;
    }();
    return ok;
  }
  static void on_fault(int sig, siginfo_t* info, void* context) {
    auto* uc = static_cast<ucontext_t*>(context);
    if (State* s = running) {
      auto pc = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
      auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
      if (addr - reinterpret_cast<uintptr_t>(s->m.mem) < s->m.mem_size) {
        if (uintptr_t to = s->guard_exit(pc)) {
          uc->uc_mcontext.gregs[REG_RIP] = static_cast<greg_t>(to);
          ++s->guard_faults;
          return;
        }
      }
    }
    const struct sigaction& prev = previous();
    if (prev.sa_flags & SA_SIGINFO) {
      prev.sa_sigaction(sig, info, context);
    } else if (prev.sa_handler == SIG_DFL || prev.sa_handler == SIG_IGN) {
      ::signal(sig, SIG_DFL);  // the fault repeats on return and takes the default action
    } else {
      prev.sa_handler(sig);
    }
  }

  // The exit site for a host fault at `pc` in a guarded access, or 0. Called by the fault
  // handler: reads guard_regions only (no allocation, no lock).
  uintptr_t guard_exit(uintptr_t pc) const {
    const GuardRegion* in = nullptr;  // the region starting closest below pc
    for (const GuardRegion& r : guard_regions)
      if (r.start <= pc && (!in || r.start > in->start)) in = &r;
    if (!in) return 0;
    auto at = std::upper_bound(in->sites.begin(), in->sites.end(), pc,
                               [](uintptr_t v, const GuardSite& s) { return v < s.begin; });
    if (at == in->sites.begin()) return 0;
    --at;
    return pc < at->end ? at->exit : 0;
  }

  // Points link `id`'s jump at `dest` (executable address).
  void patch_link(size_t id, void* dest) {
    Link& l = links[id];
    if (l.done) return;
    int64_t rel = static_cast<uint8_t*>(dest) - l.rx_site + l.addend;
    int32_t r32 = int32_t(rel);
    std::memcpy(l.rw_site, &r32, 4);
    l.done = true;
  }
};

thread_local Translator::State* Translator::State::running = nullptr;

bool Translator::available() {
#if defined(__x86_64__) && defined(__linux__)
  return true;
#else
  return false;
#endif
}

Translator::Translator(Sandbox::Impl& machine) : s_(std::make_unique<State>(machine)) {}
Translator::~Translator() = default;

void Translator::run(uint64_t budget) {
  if (s_->guarded && !s_->m.guard_pages)  // the host refused a protection: start over
    s_ = std::make_unique<State>(s_->m);
  State& s = *s_;
  Sandbox::Impl& m = s.m;
  stats_.guard_pages = s.guarded;
  stats_.guard_refused = m.guard_refused;
  State::running = &s;  // for the fault handler (faults in the interpreter are not its own)
  using EnterFn = uint64_t (*)(tj_rv_ctx*, uint64_t*, uint8_t*, void*);
  auto enter = reinterpret_cast<EnterFn>(s.enter);
  uint64_t left = budget, interpreted = 0, unimplemented = 0;
  s.ctx.fp_ready = 0;
  s.ctx.soft_flags = 0;
  s.sync_bounds();
  // Hands the FPU state back before the interpreter runs (it keeps its own flags).
  auto fold_fp = [&] {
    if (s.ctx.fp_ready) {
      if (uint32_t hf = fp::host_flags(); hf != 0) {
        m.fflags |= hf;
        fp::clear_host_flags();
      }
    }
    m.fflags |= s.ctx.soft_flags;
    s.ctx.soft_flags = 0;
  };
  // Runs the interpreter for at most n instructions; false when the guest stopped.
  auto interpret = [&](uint64_t n) {
    bool was_ready = s.ctx.fp_ready != 0;
    fold_fp();
    m.interpret(n);
    interpreted += m.result.instructions;
    unimplemented += m.result.unimplemented_syscalls;
    left -= m.result.instructions;
    s.sync_bounds();
    s.ctx.fp_ready = was_ready && m.frm == 0;
    return m.result.reason == StopReason::kBudget && left > 0;
  };
  // The result starts as the interpreter's does (a run that never interprets keeps it).
  m.stop = false;
  m.result.reason = StopReason::kFault;
  m.result.exit_code = 0;
  m.result.value = 0;
  m.result.fvalue = 0;
  m.result.fault = FaultKind::kNone;
  m.result.pc = m.result.addr = 0;
  m.result.message.clear();
  bool stopped = false;
  while (!stopped) {
    if (left == 0) {
      m.result.reason = StopReason::kBudget;
      m.result.pc = m.pc;
      break;
    }
    uint64_t pc = m.pc;
    void* code = nullptr;
    if (s.enter && s.in_text(pc)) {
      code = s.table[s.slot(pc)];
      if (!code) code = s.translate(pc, stats_);
    }
    if (!code) {  // out of text (the interpreter faults or ends the vmcall) or no memory
      stopped = !interpret(left);
      continue;
    }
    s.ctx.left = static_cast<int64_t>(left);
    enter(&s.ctx, m.x, m.mem, code);
    const ExitRec& e = s.exits[s.ctx.exit_id];
    left = static_cast<uint64_t>(s.ctx.left) + e.refund;
    m.pc = s.ctx.exit_id == TJ_RV_EXIT_ID_MISS ? s.ctx.exit_pc : e.pc;
    // A block that used the budget up to its last instruction: the guest stops at pc (the top
    // of the loop), before the instruction the exit would have the interpreter run.
    if (left == 0) continue;
    switch (e.kind) {
      case TJ_RV_EXIT_LINK: {
        uint32_t id = e.link;
        void* dest = s.table[s.slot(m.pc)];
        if (!dest) dest = s.translate(m.pc, stats_);
        if (dest) {
          s.patch_link(id, dest);
          ++stats_.links;
        }
        break;
      }
      case TJ_RV_EXIT_MISS:
        break;  // translated at the top of the loop
      case TJ_RV_EXIT_BUDGET:
        stopped = !interpret(left);  // fewer than a block's instructions left: exact tail
        break;
      case TJ_RV_EXIT_FP:
        if (m.frm == 0) {
          fp::enter_fp_state();
          s.ctx.fp_ready = 1;
        } else {
          stopped = !interpret(1);  // a rounding mode translated code does not do
        }
        break;
      default:  // TJ_RV_EXIT_INTERP
        if (e.jalr_rd != 0xff && s.ctx.exit_pc == kVmcallReturn) {
          // A return to the vmcall sentinel: the JALR completes here, as the interpreter's
          // would (link, one instruction, the call's result), without entering it.
          if (e.jalr_rd != 0) m.x[e.jalr_rd] = m.pc + e.jalr_len;
          --left;
          m.pc = kVmcallReturn;
          m.result.reason = StopReason::kReturned;
          m.result.value = m.x[10];
          m.result.fvalue = fp::dbl(m.f[10]);
          stopped = true;
          break;
        }
        stopped = !interpret(1);
        break;
    }
  }
  fold_fp();
  if (m.result.reason == StopReason::kBudget) {
    m.result.pc = m.pc;
    m.result.message = fmt::format("instruction budget of {} exhausted", budget);
  }
  m.result.instructions = budget - left;
  m.result.unimplemented_syscalls = unimplemented;
  m.retired_total += (budget - left) - interpreted;
  stats_.interpreted += interpreted;
  stats_.guard_faults += s.guard_faults;
  s.guard_faults = 0;
  State::running = nullptr;
}

}  // namespace tierjit::sandbox
