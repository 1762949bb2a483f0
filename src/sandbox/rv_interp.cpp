// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The sandbox's RV64 interpreter: a direct-threaded loop over the decoded-instruction cache
// (computed goto; one handler per operation of rv_ops.def). This file holds the loop: entry,
// lazy decoding into the cache, the handler vocabulary (the macros below) and the stop. The
// handlers are grouped by ISA extension in exec_rv64i.inc, exec_zicsr.inc, exec_m.inc,
// exec_a.inc, exec_fd.inc (helpers in exec_fd.hpp) and exec_zb.inc; compressed (C)
// instructions need none, the decoder expands them to their 32-bit operations (decode.cpp).
// The exits (faults, budget, vmcall return) are in exec_exits.inc.
//
// The fragments are included textually into the one function body, not compiled as functions
// of their own: computed goto only reaches labels of the same function, the decoded-cache
// entries store handler addresses as offsets from one base label, and the hot state
// (registers, memory bounds, budget, current entry) stays in host registers across handlers.
// A call per instruction would cost a call, a return and the spill of that state on every
// guest instruction. The decoding and the exits stay in the body too: moved into functions
// (even inlined again by GCC 12) they made the spin benchmark 2-3% slower; as written, the
// loop compiles to the same machine code as when every handler was written out here.
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "sandbox/exec_fd.hpp"
#include "sandbox/machine.hpp"

namespace tierjit::sandbox {
namespace {

inline uint64_t sx32(uint64_t v) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
}

}  // namespace

// The handler vocabulary, over execute()'s locals: X/F (integer and float registers), M (guest
// memory), C (the decoded cache), `in` (the current entry), `left` (remaining budget), the
// memory bounds slo/mend/rlo/wlo/hbrk, and the exits' operands fault_addr and target.
// Every handler exists twice (H(name): L_<name>_4 and L_<name>_2), for a 4-byte instruction
// and for a compressed one, so that NEXT steps by a constant (STEP entries): were the step
// loaded from the entry, each instruction would wait on that load before it could find the
// next one (a load-latency chain through the whole run; ~2x slower on simple loops).
// DISPATCH runs the entry `in` points at; NEXT steps to the following instruction; LOAD and
// STORE check the access against the memory map (sandbox.hpp) and leave through a fault exit.
#define FP_ENTER()                          \
  do {                                      \
    if (__builtin_expect(!fp_touched, 0)) { \
      fp::enter_fp_state();                 \
      fp_touched = true;                    \
    }                                       \
  } while (0)
#define PC_OF(p) (elo + static_cast<uint64_t>((p)-C) * 2)
// The budget: one subtraction whose borrow (left was 0) leaves; L_budget puts left back to 0.
#define DISPATCH()                                                                  \
  do {                                                                              \
    if (__builtin_expect(__builtin_sub_overflow(left, 1, &left), 0)) goto L_budget; \
    goto*(kBase + in->handler);                                                     \
  } while (0)
#define NEXT()  \
  do {          \
    in += STEP; \
    DISPATCH(); \
  } while (0)
#define CAN_READ(a, n) (((a) >= slo && (a) <= mend - (n)) || ((a) >= rlo && (a) <= hbrk - (n)))
#define CAN_WRITE(a, n) (((a) >= slo && (a) <= mend - (n)) || ((a) >= wlo && (a) <= hbrk - (n)))
#define LOAD(T, addr)                                    \
  ({                                                     \
    uint64_t a_ = (addr);                                \
    if (__builtin_expect(!CAN_READ(a_, sizeof(T)), 0)) { \
      fault_addr = a_;                                   \
      goto L_load_fault;                                 \
    }                                                    \
    T v_;                                                \
    std::memcpy(&v_, M + a_, sizeof(T));                 \
    v_;                                                  \
  })
#define STORE(T, addr, val)                               \
  do {                                                    \
    uint64_t a_ = (addr);                                 \
    if (__builtin_expect(!CAN_WRITE(a_, sizeof(T)), 0)) { \
      fault_addr = a_;                                    \
      goto L_store_fault;                                 \
    }                                                     \
    T v_ = static_cast<T>(val);                           \
    std::memcpy(M + a_, &v_, sizeof(T));                  \
  } while (0)
#define JUMP_TO(t)                                                                   \
  do {                                                                               \
    target = (t);                                                                    \
    if (__builtin_expect(target - elo >= esize || (target & 1), 0)) goto L_jump_out; \
    in = C + ((target - elo) >> 1);                                                  \
    DISPATCH();                                                                      \
  } while (0)
#define RD X[in->rd]
#define RS1 X[in->rs1]
#define RS2 X[in->rs2]
#define SRS1 static_cast<int64_t>(X[in->rs1])
#define SRS2 static_cast<int64_t>(X[in->rs2])

void Sandbox::Impl::interpret(uint64_t budget) {
  // Handlers as 32-bit offsets from one base label (GCC's label-difference extension), so a
  // cache entry is 16 bytes: big programs keep more of their decoded text in cache.
#define HOFF(label) \
  static_cast<int32_t>(reinterpret_cast<intptr_t>(&&label) - reinterpret_cast<intptr_t>(&&L_decode))
  static const int32_t kLabels[2][static_cast<int>(Op::kCount)] = {{
#define RV_OP(name, xrd) HOFF(L_##name##_4),
#include "sandbox/rv_ops.def"
#undef RV_OP
                                                                   },
                                                                   {
#define RV_OP(name, xrd) HOFF(L_##name##_2),
#include "sandbox/rv_ops.def"
#undef RV_OP
                                                                   }};
  char* const kBase = static_cast<char*>(&&L_decode);
  if (!cache_ready) {
    // Entries start all zero (calloc): handler 0 is L_decode (the base label). The sentinel after
    // the last instruction ends execution that runs off the end of text.
    cache[cache_size - 1].handler = HOFF(L_end_of_text);
    cache_ready = true;
  }
  stop = false;
  result.reason = StopReason::kFault;
  result.exit_code = 0;
  result.value = 0;
  result.fvalue = 0;
  result.fault = FaultKind::kNone;
  result.pc = result.addr = 0;
  result.message.clear();
  result.unimplemented_syscalls = 0;
  uint64_t* const X = x;
  uint64_t* const F = f;
  uint8_t* const M = mem;
  Insn* const C = cache.get();
  const uint64_t elo = exec_lo, esize = exec_hi - exec_lo;
  const uint64_t mend = mem_size, slo = stack_lo, rlo = ro_lo, wlo = rw_lo;
  uint64_t hbrk = heap_hi;
  uint64_t left = budget;
  uint64_t fault_addr = 0, target = 0;
  unsigned host_rm = 0;
  uint32_t soft_flags = 0;
  Insn* in = nullptr;
  // MXCSR is read and written only once the guest runs a floating-point instruction that can
  // set flags or round (FP_ENTER): reading it costs ~5 ns, a third of an empty vmcall.
  bool fp_touched = false;

  {
    if (pc - elo >= esize || (pc & 1)) {
      target = pc;
      in = nullptr;
      goto L_jump_out;
    }
    in = C + ((pc - elo) >> 1);
    DISPATCH();
  }

  // First execution of an entry: decode it, then run it through its handler from now on.
L_decode : {
  uint64_t at = PC_OF(in);
  uint16_t lo;
  std::memcpy(&lo, M + at, 2);
  unsigned len = insn_length(lo);
  Decoded d;
  if (len == 2) {
    d = decode16(lo);
  } else if (len == 4 && at + 4 <= exec_hi) {
    uint32_t w;
    std::memcpy(&w, M + at, 4);
    d = decode32(w);
  } else {
    d.op = Op::ILLEGAL;
    d.len = 2;
  }
  Insn& e = *in;
  e.op = d.op;
  e.rd = (writes_xrd(d.op) && d.rd == 0) ? 32 : d.rd;
  e.rs1 = d.rs1;
  e.rs2 = d.rs2;
  e.rs3 = d.rs3;
  e.rm = d.rm;
  e.step = static_cast<uint8_t>(d.len / 2);
  e.imm = d.imm;
  if (is_direct_jump(d.op)) {
    // Branch targets become entry offsets; a target outside text (or odd) keeps the byte
    // offset and takes the checked path when the branch is taken.
    uint64_t t = at + static_cast<int64_t>(d.imm);
    if (t - elo < esize && !(t & 1))
      e.imm = d.imm / 2, e.rs3 = 1;
    else
      e.rs3 = 0;
  }
  e.handler = kLabels[d.len == 2][static_cast<int>(d.op)];
  goto*(kBase + e.handler);
}

// The handlers, one label per operation of rv_ops.def, by extension (C needs none), once for
// 4-byte instructions and once for compressed ones (exec_handlers.inc).
#define CAT2_(a, b) a##b
#define CAT_(a, b) CAT2_(a, b)
#define H(name) CAT_(L_##name, VARIANT)
#define VARIANT _4
#define STEP 2
#include "sandbox/exec_handlers.inc"
#undef VARIANT
#undef STEP
#define VARIANT _2
#define STEP 1
#include "sandbox/exec_handlers.inc"
#undef VARIANT
#undef STEP

// Leaving the loop: faults, the budget, the return of a vmcall.
#include "sandbox/exec_exits.inc"
L_stopped:
  result.instructions = budget - left;
  retired_total += result.instructions;
  fflags |= soft_flags;
  if (fp_touched) {
    if (uint32_t hf = fp::host_flags(); hf != 0) {
      fflags |= hf;
      fp::clear_host_flags();
    }
    if (host_rm != 0) fp::set_host_rounding(0);
  }
  return;
}

}  // namespace tierjit::sandbox
