// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Tier 0 interpreter: computed-goto dispatch over encoded instructions; handlers are generated
// from opcodes.def (BIN/BINI/UN/LD/ST/branches) or written once per operand kind.
#include "interp/interp.hpp"

#include <cstring>
#include <vector>

#include "bytecode/semantics.h"

namespace tierjit::interp {
Interpreter::Interpreter(bytecode::Instance& inst, NativeHooks hooks) : inst_(inst), hooks_(hooks) {
  for (const auto& f : inst.module().functions) info_.push_back({f.code.data(), f.nregs, f.nargs});
  frames_.reserve(256);
}

uint64_t Interpreter::run(uint32_t entry_fn, uint64_t* r) {
  TjCtx* const ctx = inst_.ctx();
  const FnInfo* const info = info_.data();
  const NativeHooks& hooks = hooks_;
  uint8_t* const mem = inst_.memory();
  const uint64_t msize = inst_.memory_size();
  void** const cells = ctx->cells;
  auto& frames = frames_;
  // Frames below `base` belong to outer activations (native code called back into us).
  const size_t base = frames.size();

  static void* const kLabels[] = {
      &&op_invalid,
#define TJ_OP(NAME, MN, KIND, W, VAR, EXPR) &&op_##NAME,
#include "bytecode/opcodes.def"
#undef TJ_OP
  };

  uint32_t f = entry_fn;
  const uint32_t* code = info[f].code;
  const uint32_t* pc = code;
  uint64_t ret = 0;
  uint32_t callee = 0;
  uint64_t* nr = nullptr;

#define PCOFF static_cast<uint32_t>((pc - code) * 4)
#define FA ((*pc >> 8) & 0xff)
#define FB ((*pc >> 16) & 0xff)
#define FC (*pc >> 24)
#define IMM (pc[1])
#define SIMM (static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(pc[1]))))
#define DISPATCH() goto* kLabels[*pc & 0xff]
#define TRAP_AT(fn_, pc_, kind) \
  do {                          \
    ctx->status = (kind);       \
    ctx->trap_fn = (fn_);       \
    ctx->trap_pc = (pc_);       \
    frames.resize(base);        \
    return 0;                   \
  } while (0)
#define TRAP(kind) TRAP_AT(f, PCOFF, kind)

  // Function entry for (f, r, code): stack, fuel, zeroing, heat. Jumps to `entered`.
enter:
  if (ctx->depth >= ctx->max_depth || r + info[f].nregs > ctx->reg_limit)
    TRAP_AT(f, 0, TJ_TRAP_STACK_OVERFLOW);
  ctx->depth++;
  if (ctx->fuel == 0 && (!ctx->refuel || ctx->refuel(ctx, f))) TRAP_AT(f, 0, TJ_TRAP_BUDGET);
  ctx->fuel--;
  for (uint32_t i = info[f].nargs; i < info[f].nregs; ++i) r[i] = 0;
  if (++ctx->heat[f] == ctx->interp_threshold && ctx->hot) ctx->hot(ctx, f);
  DISPATCH();

op_invalid:
  TRAP(TJ_TRAP_BAD_CALL);  // unreachable for verified code

#include "interp/handlers.inc"

op_SEL:
  r[FA] = r[FB] ? r[FC] : r[IMM];
  pc += 2;
  DISPATCH();

op_CALLR : {
  uint64_t idx = r[IMM];
  if (idx >= ctx->num_functions || ctx->nargs_of[idx] != FC) TRAP(TJ_TRAP_BAD_CALL);
  callee = static_cast<uint32_t>(idx);
  goto do_call;
}
op_CALL:
  callee = IMM;
do_call : {
  nr = r + info[f].nregs;
  uint32_t base = FB, n = FC;
  for (uint32_t i = 0; i < n; ++i) nr[i] = r[base + i];
  void* cell = __atomic_load_n(&cells[callee], __ATOMIC_ACQUIRE);
  if (cell && !(hooks.interp_thunks && cell == hooks.interp_thunks[callee])) {
    uint64_t v = hooks.enter(ctx, nr, mem, msize, cell);
    if (ctx->status) {
      frames.resize(base);
      return 0;
    }
    r[FA] = v;
    pc += 2;
    DISPATCH();
  }
  frames.push_back({pc + 2, code, r, f, static_cast<uint8_t>(FA)});
  f = callee;
  r = nr;
  code = pc = info[f].code;
  goto enter;
}

op_HCALL : {
  uint64_t v = ctx->host_call(ctx, IMM, &r[FB], FC);
  if (ctx->status) TRAP(ctx->status);
  r[FA] = v;
  pc += 2;
  DISPATCH();
}

op_RET:
  ret = r[FA];
  ctx->depth--;
returned:
  if (frames.size() == base) return ret;
  {
    Frame fr = frames.back();
    frames.pop_back();
    pc = fr.ret_pc;
    code = fr.code;
    r = fr.r;
    f = fr.fn;
    r[fr.dst] = ret;
  }
  DISPATCH();

op_HALT:
  ctx->trap_code = r[FA];
  ctx->status = TJ_HALTED;
  frames.resize(base);
  return 0;

op_TRAP:
  ctx->trap_code = IMM;
  TRAP(TJ_TRAP_USER);

op_FENCE:
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  pc += 1;
  DISPATCH();

#define ATOMIC_ADDR()                              \
  uint64_t ea = r[FB];                             \
  if (ea > msize - 8) TRAP(TJ_TRAP_OUT_OF_BOUNDS); \
  if (ea & 7) TRAP(TJ_TRAP_MISALIGNED);            \
  auto* p = reinterpret_cast<uint64_t*>(mem + ea)

op_CAS : {
  ATOMIC_ADDR();
  uint64_t old = r[FC], desired = r[IMM];
  __atomic_compare_exchange_n(p, &old, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  r[FA] = old;
  pc += 2;
  DISPATCH();
}
op_XCHG : {
  ATOMIC_ADDR();
  r[FA] = __atomic_exchange_n(p, r[FC], __ATOMIC_SEQ_CST);
  pc += 1;
  DISPATCH();
}
op_XADD : {
  ATOMIC_ADDR();
  r[FA] = __atomic_fetch_add(p, r[FC], __ATOMIC_SEQ_CST);
  pc += 1;
  DISPATCH();
}
}

}  // namespace tierjit::interp
