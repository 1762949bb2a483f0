// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The sandbox's embedding API on a real guest (tests/sandbox/guests/api_guest.c compiled for
// riscv64 at test time through tierjit's own AOT path): run, vmcall with integer and float
// arguments, checked copies, guest_alloc, host functions (including one handed a bad
// pointer), unregistered host calls, budgets, reset, and the decoder on single encodings.
#include "tierjit/sandbox.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "aot/riscv.hpp"
#include "guest/guest_sysroot.hpp"
#include "sandbox/decode.hpp"
#include "support/file.hpp"

namespace tierjit::sandbox {
namespace {

class SandboxApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto root = guest::guest_sysroot();
    ASSERT_TRUE(root.ok()) << root.error().to_string();
    dir_ = std::filesystem::temp_directory_path() / ("tierjit-sbx-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::string ll = (dir_ / "api.ll").string(), elf = (dir_ / "api.elf").string();
    std::string cmd = std::string(TIERJIT_TEST_CLANG) + " -O2 -march=rv64gc_zbb";
    for (const std::string& f : guest::guest_cflags(root.value()))
      if (f.rfind("-march", 0) != 0) cmd += " " + f;
    cmd += " -S -emit-llvm " + std::string(TIERJIT_TEST_SRC) +
           "/tests/sandbox/guests/api_guest.c -o " + ll;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    aot::RiscvOptions o;
    o.output = elf;
    o.use_cache = false;
    Status s = aot::compile_riscv_file(ll, o);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    auto bytes = read_file(elf);
    ASSERT_TRUE(bytes.ok());
    elf_ = new std::string(std::move(bytes.value()));
  }
  static void TearDownTestSuite() {
    delete elf_;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void SetUp() override {
    ASSERT_NE(elf_, nullptr);
    auto s = Sandbox::load(*elf_, "api.elf", limits_);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    box_ = std::move(s.value());
  }
  uint64_t fn(const char* name) {
    uint64_t a = box_->symbol(name);
    EXPECT_NE(a, 0u) << name;
    return a;
  }

  static inline std::string* elf_ = nullptr;
  static inline std::filesystem::path dir_;
  Limits limits_;
  std::unique_ptr<Sandbox> box_;
};

TEST_F(SandboxApi, RunsMain) {
  RunResult r = box_->run({"api"});
  EXPECT_EQ(r.reason, StopReason::kExited) << describe(r);
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_GT(r.instructions, 0u);
}

TEST_F(SandboxApi, VmcallIntegerAndFloatArguments) {
  Arg ints[] = {Arg::integer(1), Arg::integer(2), Arg::integer(3), Arg::integer(4)};
  RunResult r = box_->vmcall(fn("add4"), ints);
  ASSERT_EQ(r.reason, StopReason::kReturned) << describe(r);
  EXPECT_EQ(r.value, 30u);
  Arg fl[] = {Arg::f64(2.5), Arg::f32(4.0f)};
  r = box_->vmcall(fn("scale"), fl);
  ASSERT_EQ(r.reason, StopReason::kReturned) << describe(r);
  EXPECT_EQ(r.fvalue, 10.0);
}

TEST_F(SandboxApi, BuffersInAndOut) {
  uint64_t buf = box_->guest_alloc(256);
  ASSERT_NE(buf, 0u);
  unsigned char data[256];
  for (int i = 0; i < 256; ++i) data[i] = static_cast<unsigned char>(i);
  ASSERT_TRUE(box_->copy_to_guest(buf, data, sizeof data));
  Arg args[] = {Arg::integer(buf), Arg::integer(256)};
  RunResult r = box_->vmcall(fn("sum_bytes"), args);
  ASSERT_EQ(r.reason, StopReason::kReturned) << describe(r);
  EXPECT_EQ(r.value, 255u * 256 / 2);
  unsigned char back[4];
  ASSERT_TRUE(box_->copy_from_guest(buf + 10, back, 4));
  EXPECT_EQ(back[0], 10);
  EXPECT_FALSE(box_->copy_to_guest(0x100, data, 4)) << "text/null area must not be writable";
  EXPECT_FALSE(box_->copy_to_guest(limits_.max_memory - 2, data, 4));
  EXPECT_FALSE(box_->copy_from_guest(~uint64_t{0} - 1, back, 4));
  EXPECT_EQ(box_->guest_alloc(limits_.max_memory), 0u);
}

TEST_F(SandboxApi, ResetRestoresState) {
  EXPECT_EQ(box_->vmcall(fn("bump"), {}).value, 1u);
  EXPECT_EQ(box_->vmcall(fn("bump"), {}).value, 2u);
  box_->reset();
  EXPECT_EQ(box_->vmcall(fn("bump"), {}).value, 1u);
}

TEST_F(SandboxApi, HostFunctions) {
  std::string said;
  ASSERT_TRUE(box_->register_host_function(500,
                                           [&](HostCall& c) {
                                             std::string s(c.arg(1), '\0');
                                             if (c.read(c.arg(0), s.data(), s.size())) {
                                               said = s;
                                               c.set_result(s.size());
                                             }
                                           })
                  .ok());
  uint64_t text = box_->guest_alloc(16);
  ASSERT_TRUE(box_->copy_to_guest(text, "hello host", 11));
  Arg a[] = {Arg::integer(text)};
  RunResult r = box_->vmcall(fn("say"), a);
  ASSERT_EQ(r.reason, StopReason::kReturned) << describe(r);
  EXPECT_EQ(said, "hello host");
  EXPECT_EQ(r.value, 10u);

  said = "unchanged";
  r = box_->vmcall(fn("say_bad_pointer"), {});
  EXPECT_EQ(r.reason, StopReason::kFault);
  EXPECT_EQ(r.fault, FaultKind::kHostCallFault);
  EXPECT_NE(r.message.find("outside guest memory"), std::string::npos) << r.message;
  EXPECT_EQ(said, "unchanged");
  // The sandbox keeps working after the fault.
  Arg ints[] = {Arg::integer(1), Arg::integer(1), Arg::integer(1), Arg::integer(1)};
  EXPECT_EQ(box_->vmcall(fn("add4"), ints).value, 10u);
}

TEST_F(SandboxApi, UnregisteredHostCallAndBadNumbers) {
  RunResult r = box_->vmcall(fn("call_unregistered"), {});
  EXPECT_EQ(r.fault, FaultKind::kSyscallDenied);
  EXPECT_EQ(r.addr, 577u);
  EXPECT_EQ(box_->register_host_function(42, [](HostCall&) {}).error().code, ErrorCode::kUsage);
  EXPECT_EQ(box_->register_host_function(600, [](HostCall&) {}).error().code, ErrorCode::kUsage);
}

TEST_F(SandboxApi, BudgetStopsASpinningCall) {
  limits_.max_instructions = 1'000'000;
  auto s = Sandbox::load(*elf_, "api.elf", limits_);
  ASSERT_TRUE(s.ok());
  RunResult r = s.value()->vmcall(fn("spin"), {});
  EXPECT_EQ(r.reason, StopReason::kBudget);
  EXPECT_EQ(r.instructions, 1'000'000u);
}

// The translation tier (the default) and the interpreter agree on vmcalls and on where a budget
// stops a call, and the translator really ran.
TEST_F(SandboxApi, BothTiersAgreeOnCallsAndBudgets) {
  for (uint64_t budget : {1ull, 7ull, 1000ull, 123457ull}) {
    RunResult r[2];
    TranslationStats stats[2];
    for (int t = 0; t < 2; ++t) {
      Limits l = limits_;
      l.tier = t == 0 ? ExecTier::kInterpret : ExecTier::kTranslate;
      l.max_instructions = budget;
      auto s = Sandbox::load(*elf_, "api.elf", l);
      ASSERT_TRUE(s.ok());
      Arg ints[] = {Arg::integer(1), Arg::integer(2), Arg::integer(3), Arg::integer(4)};
      EXPECT_EQ(s.value()->vmcall(s.value()->symbol("add4"), ints).value, budget > 8 ? 30u : 0u);
      r[t] = s.value()->vmcall(s.value()->symbol("spin"), {});
      stats[t] = s.value()->translation_stats();
    }
    EXPECT_EQ(r[0].reason, StopReason::kBudget);
    EXPECT_EQ(r[1].reason, r[0].reason);
    EXPECT_EQ(r[1].instructions, budget);
    EXPECT_EQ(r[1].pc, r[0].pc) << "budget " << budget;
    EXPECT_EQ(stats[0].blocks, 0u);
    EXPECT_GT(stats[1].blocks, 0u) << "the translator must have run";
    EXPECT_EQ(stats[1].unsupported_host_runs, 0u) << "no silent fall back to the interpreter";
  }
}

// Guard pages: faults in translated code on two threads at once, each with its own sandbox,
// each handled by its own translator (the handler finds the running one per thread): every
// fault is the interpreter's, with its pc and address, and counted as a guard fault; calls
// between the faults still return. A fault the guest does not cause (none here) would reach
// the previous SIGSEGV handler.
TEST_F(SandboxApi, GuardFaultsOnTwoThreads) {
  constexpr int kRounds = 200;
  auto worker = [&](uint64_t hole, std::string* failure) {
    auto s = Sandbox::load(*elf_, "api.elf", limits_);
    if (!s.ok()) return void(*failure = s.error().to_string());
    Sandbox& box = *s.value();
    uint64_t load = box.symbol("load_at"), store = box.symbol("store_at"), add = box.symbol("add4");
    for (int i = 0; i < kRounds; ++i) {
      Arg at[] = {Arg::integer(hole + 8 * (i % 64)), Arg::integer(i)};
      RunResult r = box.vmcall(i % 2 ? store : load, at);
      FaultKind want = i % 2 ? FaultKind::kStoreFault : FaultKind::kLoadFault;
      if (r.reason != StopReason::kFault || r.fault != want || r.addr != hole + 8 * (i % 64))
        return void(*failure = "round " + std::to_string(i) + ": " + describe(r));
      Arg ints[] = {Arg::integer(1), Arg::integer(2), Arg::integer(3), Arg::integer(4)};
      if (RunResult ok = box.vmcall(add, ints);
          ok.reason != StopReason::kReturned || ok.value != 30)
        return void(*failure = "add4 after round " + std::to_string(i) + ": " + describe(ok));
    }
    TranslationStats ts = box.translation_stats();
    if (!ts.guard_pages || ts.guard_faults != kRounds)
      *failure = "guard pages " + std::to_string(ts.guard_pages) + ", guard faults " +
                 std::to_string(ts.guard_faults) + " (want " + std::to_string(kRounds) + ")";
  };
  // Above the heap's end and below the stack: never mapped for these guests.
  uint64_t hole = box_->guest_alloc(16) + (4 << 20);
  std::string failure[2];
  std::thread a(worker, hole, &failure[0]), b(worker, hole + 4096, &failure[1]);
  a.join();
  b.join();
  EXPECT_EQ(failure[0], "");
  EXPECT_EQ(failure[1], "");
}

TEST_F(SandboxApi, CallToNonCodeFaults) {
  RunResult r = box_->vmcall(0x10, {});
  EXPECT_EQ(r.fault, FaultKind::kFetchFault);
  r = box_->vmcall(fn("add4") + 1, {});
  EXPECT_EQ(r.fault, FaultKind::kMisaligned);
}

// ctzw counts the zeros of the low word only (Zbb spec); qemu 7.2 gets this wrong, which is
// why the qemu differential test leaves ctzw out.
TEST_F(SandboxApi, CtzwUsesTheLowWord) {
  Arg a[] = {Arg::integer(0x0100000000000000ull)};
  RunResult r = box_->vmcall(fn("ctzw_of"), a);
  ASSERT_EQ(r.reason, StopReason::kReturned) << describe(r);
  EXPECT_EQ(r.value, 32u);
}

TEST(Decoder, SingleEncodings) {
  EXPECT_EQ(decode32(0x00000073).op, Op::ECALL);
  EXPECT_EQ(decode32(0x00100073).op, Op::EBREAK);
  Decoded d = decode32(0xfff00513);  // addi a0, zero, -1
  EXPECT_EQ(d.op, Op::ADDI);
  EXPECT_EQ(d.rd, 10);
  EXPECT_EQ(d.imm, -1);
  EXPECT_EQ(decode32(0x60051513).op, Op::CLZ);   // clz a0, a0
  EXPECT_EQ(decode32(0x6015151b).op, Op::CTZW);  // ctzw a0, a0
  EXPECT_EQ(decode16(0x0000).op, Op::ILLEGAL);   // the all-zero halfword is reserved
  d = decode16(0x8082);                          // c.jr ra == ret
  EXPECT_EQ(d.op, Op::JALR);
  EXPECT_EQ(d.rs1, 1);
  EXPECT_EQ(d.len, 2);
  d = decode16(0x1141);  // c.addi sp, -16
  EXPECT_EQ(d.op, Op::ADDI);
  EXPECT_EQ(d.rd, 2);
  EXPECT_EQ(d.imm, -16);
  EXPECT_EQ(decode32(0x0000707f).op, Op::ILLEGAL);
  EXPECT_EQ(decode32(0x02a5f553).op, Op::FADD_D);   // fadd.d fa0, fa1, fa0 (rm=dyn)
  EXPECT_EQ(decode32(0x02a5d553).op, Op::ILLEGAL);  // rm=5 is reserved
}

}  // namespace
}  // namespace tierjit::sandbox
