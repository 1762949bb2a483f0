// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Internal to the ORC tier (orc_tier.cpp, code_bundle.cpp, process_exit.cpp): the engine's
// state and the helpers its files share. Not part of any public interface.
#pragma once

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/ExecutionEngine/JITLink/JITLink.h>
#include <llvm/ExecutionEngine/Orc/AbsoluteSymbols.h>
#include <llvm/ExecutionEngine/Orc/Debugging/DebuggerSupport.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "backend/codegen.hpp"
#include "backend/jit_session.hpp"
#include "baseline/compiler.hpp"
#include "llvmir/linker.hpp"
#include "llvmir/orc_tier.hpp"
#include "runtime/cache_key.hpp"
#include "runtime/object_cache.hpp"
#include "support/log.hpp"
#include "support/trace.hpp"
#include "tierup/compile_queue.hpp"
#include "tierup/entry_stubs.hpp"

namespace tierjit::llvmir {
namespace orc = llvm::orc;

namespace detail {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0);
/// An Error with `code` from an llvm::Error, prefixed by `what`.
Error from_llvm(llvm::Error e, ErrorCode code, const std::string& what);
/// A MemoryBuffer owning `bytes` (no copy).
std::unique_ptr<llvm::MemoryBuffer> own_buffer(std::string bytes, std::string name);
/// Host functions the JIT program sees instead of libc's (process_exit.cpp).
const std::map<std::string, void*>& host_shims();
constexpr size_t kMaxEngines = 64;
/// A baseline code image as bytes: instructions, code, relocations, OSR value slots
/// (code_bundle.cpp).
std::string serialize_baseline(uint32_t instructions, std::string_view code,
                               const std::vector<baseline::Relocation>& relocations,
                               const std::vector<uint32_t>& osr_slots);
/// Parses serialize_baseline's output; false if malformed (bounds-checked throughout).
bool parse_baseline(std::string_view bytes, uint32_t* instructions, std::string_view* code,
                    std::vector<baseline::Relocation>* relocations,
                    std::vector<uint32_t>* osr_slots);

struct FnState {
  uint64_t* cell = nullptr;        // the stub's pointer (entry cell)
  uint64_t trampoline = 0;         // initial cell value: the lazy entry
  std::atomic<int> opt_level{-1};  // level of installed code
  std::atomic<uint64_t> compile_us{0};
  std::atomic<uint32_t> tier_ups{0};
  std::atomic<bool> from_cache{false};
  orc::ResourceTrackerSP rt;  // owner of the installed code, when it can be freed alone
  int code_tier = -1;         // tier of the installed code (guarded by Impl::code_mu)
  std::string code;           // its object bytes when compiled or loaded one by one
  std::string fallback;       // why the last tier-up failed (guarded by Impl::code_mu)
  std::atomic<uint64_t> baseline_entry{0};   // baseline code, once compiled
  std::atomic<uint32_t> ir_instructions{0};  // its size, when the baseline tier compiled it
  // That code as a saveable image (code_bytes at baseline_code, in the compiler's memory,
  // and its relocations); serialized only when the bundle is written.
  const uint8_t* baseline_code = nullptr;
  uint32_t baseline_code_bytes = 0;
  std::vector<baseline::Relocation> baseline_relocations;
  bool baseline_tried = false;  // guarded by the program mutex
  // On-stack replacement of the baseline body: its OSR table (one cell per block, read by
  // its back-edges), the value slots of that body (osr_slots, empty when it has no loop
  // checks or was loaded from a saved image), and whether a continuation was tried.
  std::unique_ptr<uint64_t[]> osr_table;
  uint32_t osr_size = 0;  // cells in osr_table
  std::vector<uint32_t> osr_slots;
  std::atomic<bool> osr_tried{false};
};
}  // namespace detail

using detail::Clock;
using detail::FnState;
using detail::from_llvm;
using detail::host_shims;
using detail::kMaxEngines;
using detail::ms_since;
using detail::own_buffer;

class OrcEngine::Impl {
 public:
  std::unique_ptr<IrProgram> program;
  OrcOptions options;
  backend::TargetConfig target;
  // The process-wide JIT session (src/backend) and this program's JITDylibs in it: `main_jd`
  // holds the data object, the stubs and the base tier's bodies; tier k's bodies live in
  // tier_jds[k-1]. All are removed when the engine is destroyed.
  backend::JitSession* session = nullptr;
  orc::LLJIT* jit = nullptr;  // session->jit()
  orc::JITDylib* main_jd = nullptr;
  std::unique_ptr<tierup::EntryStubs> stubs;  // one stub and entry cell per function
  std::unique_ptr<FnState[]> fns;
  std::unique_ptr<uint64_t[]> counters;
  size_t slot = kMaxEngines;
  EngineStats stats;
  std::mutex stats_mu;
  std::map<int, std::unique_ptr<llvm::TargetMachine>> main_tms;    // guarded by program mutex
  std::map<int, std::unique_ptr<llvm::TargetMachine>> worker_tms;  // tier-up thread only
  bool dtors_done = false;
  std::function<void(int)> exit_hook;
  std::vector<orc::JITDylib*> tier_jds;
  std::mutex code_mu;
  uint32_t code_changes = 0;  // bodies compiled or installed outside the bundle this run
  uint32_t bundle_size = 0;   // functions in the bundle loaded at start (0 = none)
  std::vector<orc::ResourceTrackerSP> retired;  // superseded code, freed by reclaim (code_mu)

  // The baseline tier (policy.baseline): compiles first-tier bodies in place, under the
  // program mutex; addresses of globals it asked for are remembered.
  std::unique_ptr<baseline::Compiler> baseline;
  struct GlobalAddress {  // a global's address, and the name relocations refer to
    uint64_t value;
    baseline::SymbolKind kind;
    std::string name;
  };
  std::unordered_map<const llvm::GlobalValue*, GlobalAddress> global_addresses;  // program mutex
  std::string baseline_bundle_bytes;  // the loaded images: relocation names point into it
  std::map<std::string, uint64_t> baseline_reasons;  // stats_mu
  std::map<std::string, uint64_t> osr_reasons;       // stats_mu: continuations not built
  static constexpr uint64_t kOsrMaxCalls = 8;        // more calls: the next call gets the new tier
  uint64_t osr_entered = 0;  // incremented atomically by continuations on entry
  // Builds, links and publishes the OSR continuation of `id` (worker thread).
  void build_osr(uint32_t id);
  // --trace (no-ops without options.trace): a body's compile or cache load from t0 to now.
  void trace_compile(uint32_t id, const char* tier, const char* source, Clock::time_point t0,
                     std::vector<trace::Arg> more = {});
  static void on_osr_entry(void* impl, uint32_t id, uint32_t header);  // OsrEntryHook
  std::atomic<bool> worker_named{false};  // the tier-up thread is named in the trace
  // The baseline body of `id`, compiled now if need be; 0 when the tier does not cover it
  // (the reason is counted) or the function is better served by a cached higher tier.
  uint64_t baseline_entry(uint32_t id);
  Expected<baseline::Address> global_address(const llvm::GlobalValue& gv);
  // A relocation of a saved baseline image, in this process (by name; memoized).
  Expected<uint64_t> resolve_relocation(uint32_t id, const baseline::Relocation& r);
  std::unordered_map<std::string, uint64_t> resolved_names;  // setup thread only
  // Baseline images: saved with the code bundle, loaded before running (code_bundle.cpp).
  Hash128 baseline_bundle_key() const {
    CacheKey h("baseline-bundle");
    h.add(program->input().content_hash);
    h.add_u64(uint64_t(options.policy.fixed_opt + 1)).add_u64(tiered());
    for (size_t i = 0; i < options.policy.levels.size(); ++i)
      h.add_u64(options.policy.thresholds[i]).add_u64(uint64_t(options.policy.levels[i]));
    return h.target(target.key()).finish();
  }
  void load_baseline_bundle();
  void write_baseline_bundle();

  // Background tier-up: the shared tier-up service (src/tierup) runs install_tier.
  std::unique_ptr<tierup::CompileQueue> tier_ups;
  // Set when the run ends (stop_background): a tier-up compile finishing after that is never
  // installed, so it is neither counted nor traced (the trace and the stats are written then,
  // and must agree).
  std::atomic<bool> exiting{false};

  ~Impl();

  int tier_level(int tier) const {
    if (options.policy.fixed_opt >= 0) return options.policy.fixed_opt;
    return tier == 0 ? options.policy.base_opt : options.policy.levels[tier - 1];
  }
  bool tiered() const { return options.policy.fixed_opt < 0; }
  // LLVM levels as tiers are named in statistics and traces.
  static constexpr const char* kLevelNames[] = {"O0", "O1", "O2", "O3"};
  // Pinned functions (IrProgram) are compiled once, with the data, at the top tier's level.
  int pinned_level() const { return tier_level(tiered() ? int(options.policy.levels.size()) : 0); }

  ExtractOptions extract_options(const FunctionInfo& f, int tier) const {
    ExtractOptions o;
    o.symbol = f.name + "$impl";  // every tier's body has this name, in its tier's JITDylib
    // Only profiled tiers count (as in production JITs): the top tier and fixed-level code
    // run without counters, and cache keys do not depend on whether stats are shown.
    o.count_calls = false;
    if (tiered() && size_t(tier) < options.policy.thresholds.size()) {
      o.count_calls = true;
      o.heat_threshold = uint64_t(options.policy.thresholds[tier]) * kCallHeat;
      o.next_level = uint32_t(tier + 1);
    }
    return o;
  }

  Hash128 cache_key(const std::string& kind, const std::string& name, const ExtractOptions& o,
                    int level) const {
    CacheKey h("object");
    h.add(kind).add(program->input().content_hash);
    h.add(name).add(o.symbol).add(backend::pipeline_name(level)).add_u64(uint64_t(level));
    h.add_u64(o.count_calls).add_u64(o.heat_threshold).add_u64(o.next_level);
    return h.target(target.key()).finish();
  }

  Expected<llvm::TargetMachine*> main_tm(int level) {  // caller holds the program mutex
    auto& tm = main_tms[level];
    if (!tm) {
      TJ_ASSIGN_OR_RETURN(tm, backend::make_target_machine(target, level));
    }
    return tm.get();
  }

  // A body above the first may replace the running one only if no block address of the
  // function can outlive it (caller holds the program mutex, after an extraction).
  Status check_replaceable(uint32_t id, int tier) const {
    const FunctionInfo& f = program->functions()[id];
    if (tier == 0 || f.single_body_reason.empty()) return {};
    return make_error(ErrorCode::kUnsupported,
                      "'" + f.name + "' keeps its first body: " + f.single_body_reason);
  }

  // Compiles function `id` at `tier`; returns object bytes. Background compiles extract under
  // the program lock, then optimize and emit in a private context without it.
  Expected<std::string> compile_function(uint32_t id, int tier, bool background);

  // The first-tier body of one function, materialized on its first call.
  class FunctionMU final : public orc::MaterializationUnit {
   public:
    FunctionMU(Impl& impl, uint32_t id, orc::SymbolFlagsMap syms)
        : MaterializationUnit(Interface(std::move(syms), nullptr)), impl_(impl), id_(id) {}
    llvm::StringRef getName() const override { return "tierjit.function"; }
    void materialize(std::unique_ptr<orc::MaterializationResponsibility> r) override {
      // A body tiered up in an earlier run is in the cache: start with it.
      int tier = 0;
      Expected<std::string> obj = impl_.cached_top_tier(id_, &tier);
      if (obj.ok() && obj.value().empty()) obj = impl_.compile_function(id_, 0, false);
      if (!obj.ok()) {  // the lookup that asked fails; its caller reports this error
        impl_.note_compile_error(obj.error());
        r->failMaterialization();
        return;
      }
      impl_.fns[id_].opt_level = impl_.tier_level(tier);
      impl_.tier_ups->mark_requested(id_, uint32_t(tier));
      impl_.remember_code(id_, tier, obj.value());
      auto& layer = static_cast<orc::ObjectLinkingLayer&>(impl_.jit->getObjLinkingLayer());
      layer.emit(std::move(r), own_buffer(obj.value(), impl_.program->functions()[id_].name));
    }

   private:
    void discard(const orc::JITDylib&, const orc::SymbolStringPtr&) override {}
    Impl& impl_;
    uint32_t id_;
  };

  // The first error of a failed first-tier compile: the ORC lookup that triggered it only
  // says "failed to materialize", so whoever reports the failure asks for this one instead.
  void note_compile_error(const Error& e) {
    std::lock_guard<std::mutex> lock(stats_mu);
    if (!compile_error) compile_error = e;
  }
  Error compile_error_or(Error fallback) {
    std::lock_guard<std::mutex> lock(stats_mu);
    return compile_error ? *compile_error : fallback;
  }
  std::optional<Error> compile_error;  // guarded by stats_mu

  // The highest-tier object of `id` already in the disk cache, or "" (tier 0 = none found).
  Expected<std::string> cached_top_tier(uint32_t id, int* tier);

  void remember_code(uint32_t id, int tier, const std::string& obj) {
    std::lock_guard<std::mutex> lock(code_mu);
    fns[id].code_tier = tier;
    fns[id].code = obj;
    code_changes++;
  }

  Hash128 bundle_key() const {
    CacheKey h("bundle");
    h.add(program->input().content_hash);
    h.add_u64(uint64_t(options.policy.fixed_opt + 1)).add_u64(uint64_t(options.policy.base_opt));
    for (size_t i = 0; i < options.policy.levels.size(); ++i)
      h.add_u64(options.policy.thresholds[i]).add_u64(uint64_t(options.policy.levels[i]));
    return h.target(target.key()).finish();
  }

  Status load_bundle(orc::JITDylib& jd, std::vector<int>& bundled_tier);
  void prefetch_remote();
  void write_bundle();

  void set_cell(uint32_t id, uint64_t addr) { tierup::install_entry(*fns[id].cell, addr); }
  // The lazy entry's resolver: links (compiling if needed) the first-tier body of `id`,
  // installs it unless a newer tier got there first, and returns what the cell holds.
  uint64_t resolve_lazy(uint32_t id);

  // --- tier-up ---
  void request(uint32_t id, uint32_t tier);
  void record_tier_up_failure(uint32_t id, const std::string& why);

  void install_tier(uint32_t id, int tier);

  // Drops queued requests; waits for a compile in progress unless `wait` is false, in which
  // case it returns true when one is still running (the caller must then leave with _exit).
  bool stop_background(bool wait = true);

  Status setup();
  Status define_host_symbols(orc::JITDylib& jd);
  Status check_externals(orc::JITDylib& jd);
  Status add_data_object(orc::JITDylib& jd);
  Status define_functions(orc::JITDylib& jd);
};

}  // namespace tierjit::llvmir
