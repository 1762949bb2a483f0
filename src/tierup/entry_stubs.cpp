// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "tierup/entry_stubs.hpp"

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

// The stub template and the lazy entry, encoded by the assembler. The template's displacement
// is the magic 0x7f7f7f7f, found and patched per stub (a stencil with one hole).
//
// The lazy entry keeps every argument register of the System V ABI across the resolver call:
// rdi, rsi, rdx, rcx, r8, r9, rax (the vector count of a varargs call), r10 (the static
// chain), and the whole vector state (xmm/ymm/zmm and mask registers, which the compiler and
// libc's string functions may use) with XSAVE into a 64-byte-aligned area. XSAVE writes only
// the XSTATE_BV bits it saves, and XRSTOR faults on any other bit set in the header (Intel SDM
// Vol. 1, 13.4.2), so the 64-byte header is cleared first.
// Components saved: x87, SSE, AVX, AVX-512 (mask 0xe7); the area for them is at most 2,688
// bytes (Intel SDM Vol. 1, table 13-1), 3,072 are reserved.
asm(R"(
    .text
    .globl tierjit_stub_template
    .hidden tierjit_stub_template
    .type tierjit_stub_template, @function
    .p2align 4
tierjit_stub_template:
    leaq 0x7f7f7f7f(%rip), %r11
    jmpq *(%r11)
    .globl tierjit_stub_template_end
    .hidden tierjit_stub_template_end
tierjit_stub_template_end:
    .size tierjit_stub_template, tierjit_stub_template_end - tierjit_stub_template

    .globl tierjit_lazy_entry
    .hidden tierjit_lazy_entry
    .type tierjit_lazy_entry, @function
    .p2align 4
tierjit_lazy_entry:
    .cfi_startproc
    pushq %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    movq %rsp, %rbp
    .cfi_def_cfa_register %rbp
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %rcx
    pushq %r8
    pushq %r9
    pushq %rax
    pushq %r10
    subq $3072, %rsp
    andq $-64, %rsp
    movq $0, 512(%rsp)
    movq $0, 520(%rsp)
    movq $0, 528(%rsp)
    movq $0, 536(%rsp)
    movq $0, 544(%rsp)
    movq $0, 552(%rsp)
    movq $0, 560(%rsp)
    movq $0, 568(%rsp)
    movl $0xe7, %eax
    xorl %edx, %edx
    xsave64 (%rsp)
    movq %r11, %rdi
    call tierjit_lazy_resolve
    movq %rax, %r11
    movl $0xe7, %eax
    xorl %edx, %edx
    xrstor64 (%rsp)
    leaq -64(%rbp), %rsp
    popq %r10
    popq %rax
    popq %r9
    popq %r8
    popq %rcx
    popq %rdx
    popq %rsi
    popq %rdi
    popq %rbp
    .cfi_def_cfa %rsp, 8
    jmpq *%r11
    .cfi_endproc
    .size tierjit_lazy_entry, . - tierjit_lazy_entry
)");

extern "C" {
extern const uint8_t tierjit_stub_template[];
extern const uint8_t tierjit_stub_template_end[];
void tierjit_lazy_entry();
__attribute__((visibility("hidden"))) uint64_t tierjit_lazy_resolve(const uint64_t* cell_rx) {
  return tierjit::tierup::EntryStubs::resolve(cell_rx);
}
}

namespace tierjit::tierup {

namespace {

constexpr size_t kMaxLive = 1024;
std::array<std::atomic<EntryStubs*>, kMaxLive> g_live{};

struct Template {
  size_t size = 0;
  size_t hole = 0;  // offset of the 32-bit displacement; the next instruction follows it
};

const Template& stub_template() {
  static const Template t = [] {
    Template r;
    r.size = size_t(tierjit_stub_template_end - tierjit_stub_template);
    const uint8_t magic[4] = {0x7f, 0x7f, 0x7f, 0x7f};
    for (size_t i = 0; i + 4 <= r.size; ++i)
      if (std::memcmp(tierjit_stub_template + i, magic, 4) == 0) r.hole = i;
    return r;
  }();
  return t;
}

constexpr size_t kStubBytes = 16;  // slot per stub (the template is 10 bytes)

}  // namespace

uint64_t EntryStubs::lazy_entry() { return reinterpret_cast<uint64_t>(&tierjit_lazy_entry); }

namespace {
// A forked child gets its own copy of every stub set: the cells are shared memory otherwise,
// and an install in either process would redirect the other's calls.
void privatize_after_fork() {
  for (auto& live : g_live)
    if (EntryStubs* s = live.load(std::memory_order_acquire)) s->privatize();
}
}  // namespace

Expected<std::unique_ptr<EntryStubs>> EntryStubs::create(uint32_t count, Resolver resolve) {
  const Template& t = stub_template();
  TJ_ASSERT(t.hole > 0 && t.size <= kStubBytes, "stub template not found");
  std::unique_ptr<EntryStubs> s(new EntryStubs());
  s->count_ = count;
  s->resolve_ = std::move(resolve);
  s->cells_offset_ = (size_t(count) * kStubBytes + 63) & ~size_t(63);
  TJ_ASSIGN_OR_RETURN(s->mem_, map_dual(s->cells_offset_ + size_t(count) * 8 + 8));
  for (uint32_t id = 0; id < count; ++id) {
    uint8_t* stub = s->mem_.rw + size_t(id) * kStubBytes;
    std::memcpy(stub, tierjit_stub_template, t.size);
    std::memset(stub + t.size, 0xcc, kStubBytes - t.size);  // int3 padding
    int64_t next =
        int64_t(reinterpret_cast<uintptr_t>(s->mem_.rx + size_t(id) * kStubBytes + t.hole + 4));
    int64_t target =
        int64_t(reinterpret_cast<uintptr_t>(s->mem_.rx + s->cells_offset_ + size_t(id) * 8));
    int32_t disp = int32_t(target - next);  // same mapping: well within +-2 GiB
    std::memcpy(stub + t.hole, &disp, 4);
    *s->cell(id) = lazy_entry();
  }
  static std::once_flag fork_once;
  std::call_once(fork_once, [] { pthread_atfork(nullptr, nullptr, &privatize_after_fork); });
  for (size_t i = 0; i < kMaxLive; ++i) {
    EntryStubs* none = nullptr;
    if (g_live[i].compare_exchange_strong(none, s.get(), std::memory_order_acq_rel)) {
      s->slot_ = i;
      return s;
    }
  }
  return make_error(ErrorCode::kInternal, "too many live stub sets (max 1024)");
}

void EntryStubs::privatize() {
  if (Status st = privatize_dual(mem_); !st.ok()) {
    std::fprintf(stderr, "tierjit: fatal: %s\n", st.error().to_string().c_str());
    std::_Exit(70);
  }
}

EntryStubs::~EntryStubs() {
  if (slot_ < kMaxLive && g_live[slot_].load() == this) g_live[slot_].store(nullptr);
  unmap_dual(mem_);
}

void* EntryStubs::stub(uint32_t id) const { return mem_.rx + size_t(id) * kStubBytes; }

uint64_t* EntryStubs::cell(uint32_t id) const {
  return reinterpret_cast<uint64_t*>(mem_.rw + cells_offset_ + size_t(id) * 8);
}

uint64_t EntryStubs::resolve(const uint64_t* cell_rx) {
  auto at = reinterpret_cast<const uint8_t*>(cell_rx);
  for (auto& live : g_live) {
    EntryStubs* s = live.load(std::memory_order_acquire);
    if (!s) continue;
    const uint8_t* cells = s->mem_.rx + s->cells_offset_;
    if (at < cells || at >= cells + size_t(s->count_) * 8) continue;
    uint64_t code = s->resolve_(uint32_t((at - cells) / 8));
    if (code) return code;
    break;
  }
  std::fflush(stdout);
  std::fprintf(stderr, "tierjit: internal error: a call through an unknown entry cell\n");
  std::_Exit(70);
}

}  // namespace tierjit::tierup
