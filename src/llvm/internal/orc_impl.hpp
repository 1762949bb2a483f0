// Internal to the ORC tier (orc_tier.cpp, code_bundle.cpp, process_exit.cpp): the engine's
// state and the helpers its files share. Not part of any public interface.
#pragma once

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/ExecutionEngine/JITLink/JITLink.h>
#include <llvm/ExecutionEngine/Orc/AbsoluteSymbols.h>
#include <llvm/ExecutionEngine/Orc/Debugging/DebuggerSupport.h>
#include <llvm/ExecutionEngine/Orc/IndirectionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/LazyReexports.h>
#include <llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <utility>

#include "llvm/codegen.hpp"
#include "llvm/linker.hpp"
#include "llvm/orc_tier.hpp"
#include "runtime/object_cache.hpp"
#include "support/log.hpp"
#include "tierjit/version.hpp"

namespace tierjit::llvmtier {
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

struct FnState {
  uint64_t* cell = nullptr;        // the stub's pointer (entry cell)
  uint64_t trampoline = 0;         // initial cell value: lazy call-through
  std::atomic<int> requested{0};   // highest tier index requested
  std::atomic<int> opt_level{-1};  // level of installed code
  std::atomic<uint64_t> compile_us{0};
  std::atomic<uint32_t> tier_ups{0};
  std::atomic<bool> from_cache{false};
  int code_tier = -1;  // tier of the installed code (guarded by Impl::code_mu)
  std::string code;    // its object bytes when compiled or loaded one by one
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
  std::unique_ptr<Program> program;
  OrcOptions options;
  TargetConfig target;
  std::unique_ptr<orc::LLJIT> jit;
  std::unique_ptr<orc::LazyCallThroughManager> lctm;
  std::unique_ptr<orc::IndirectStubsManager> ism;
  std::unique_ptr<FnState[]> fns;
  std::unique_ptr<uint64_t[]> counters;
  size_t slot = kMaxEngines;
  EngineStats stats;
  std::mutex stats_mu;
  std::map<int, std::unique_ptr<llvm::TargetMachine>> main_tms;    // guarded by program mutex
  std::map<int, std::unique_ptr<llvm::TargetMachine>> worker_tms;  // tier-up thread only
  bool dtors_done = false;
  std::function<void(int)> exit_hook;
  std::vector<orc::JITDylib*> tier_jds;  // tier k's bodies live in tier_jds[k-1]
  std::mutex code_mu;
  uint32_t code_changes = 0;  // bodies compiled or installed outside the bundle this run
  uint32_t bundle_size = 0;   // functions in the bundle loaded at start (0 = none)

  // Background tier-up.
  std::thread worker;
  std::mutex q_mu;
  std::condition_variable q_cv, idle_cv;
  std::deque<std::pair<uint32_t, uint32_t>> queue;
  bool stopping = false;
  int in_flight = 0;

  ~Impl();

  int tier_level(int tier) const {
    if (options.policy.fixed_opt >= 0) return options.policy.fixed_opt;
    return tier == 0 ? options.policy.base_opt : options.policy.levels[tier - 1];
  }
  bool tiered() const { return options.policy.fixed_opt < 0; }

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
    Hasher h;
    h.add("tierjit-object").add(kVersion).add(kLlvmVersion).add(kind);
    h.add_u64(program->input().content_hash.lo).add_u64(program->input().content_hash.hi);
    h.add(name).add(o.symbol).add(pipeline_name(level)).add_u64(uint64_t(level));
    h.add_u64(o.count_calls).add_u64(o.heat_threshold).add_u64(o.next_level);
    h.add(target.key());
    return h.finish();
  }

  Expected<llvm::TargetMachine*> main_tm(int level) {  // caller holds the program mutex
    auto& tm = main_tms[level];
    if (!tm) {
      TJ_ASSIGN_OR_RETURN(tm, make_target_machine(target, level));
    }
    return tm.get();
  }

  // Compiles function `id` at `tier`; returns object bytes. Background compiles extract under
  // the program lock, then optimize and emit in a private context without it.
  Expected<std::string> compile_function(uint32_t id, int tier, bool background) {
    const FunctionInfo& f = program->functions()[id];
    ExtractOptions o = extract_options(f, tier);
    int level = tier_level(tier);
    Hash128 key = cache_key("fn", f.name, o, level);
    // Function keys include the input's hash, so an input never seen before (no manifest)
    // has no entries: skip the lookups (each is a failed open, ~80 us on this VM's disk).
    if (options.cache && program->seen_before()) {
      if (auto obj = options.cache->load(key)) {
        fns[id].from_cache = true;
        std::lock_guard<std::mutex> lock(stats_mu);
        stats.cache_hits++;
        return std::move(*obj);
      }
    }
    auto t0 = Clock::now();
    std::string obj;
    if (!background) {
      std::lock_guard<std::mutex> lock(program->mutex());
      TJ_ASSIGN_OR_RETURN(std::unique_ptr<llvm::Module> m, program->extract_function(id, o));
      auto te = Clock::now();
      TJ_ASSIGN_OR_RETURN(llvm::TargetMachine * tm, main_tm(level));
      optimize_module(*m, *tm, level);
      auto topt = Clock::now();
      TJ_ASSIGN_OR_RETURN(obj, emit_object(*m, *tm));
      TJ_LOG(Channel::kLazy, "  extract {:.3f} ms, optimize {:.3f} ms, emit {:.3f} ms",
             std::chrono::duration<double, std::milli>(te - t0).count(),
             std::chrono::duration<double, std::milli>(topt - te).count(), ms_since(topt));
    } else {
      std::string bc;
      {
        std::lock_guard<std::mutex> lock(program->mutex());
        TJ_ASSIGN_OR_RETURN(bc, program->extract_function_bitcode(id, o));
      }
      llvm::LLVMContext ctx;
      auto m = llvm::parseBitcodeFile(llvm::MemoryBufferRef(bc, f.name), ctx);
      if (!m) return from_llvm(m.takeError(), ErrorCode::kInternal, "re-reading extracted IR: ");
      auto& tm = worker_tms[level];  // only the worker thread compiles in background mode
      if (!tm) {
        TJ_ASSIGN_OR_RETURN(tm, make_target_machine(target, level));
      }
      optimize_module(**m, *tm, level);
      TJ_ASSIGN_OR_RETURN(obj, emit_object(**m, *tm));
    }
    double ms = ms_since(t0);
    fns[id].compile_us += uint64_t(ms * 1000);
    fns[id].from_cache = false;
    {
      std::lock_guard<std::mutex> lock(stats_mu);
      stats.compiled++;
      stats.compile_ms += ms;
    }
    TJ_LOG(Channel::kLazy, "compiled {} at O{} in {:.3f} ms ({} bytes)", o.symbol, level, ms,
           obj.size());
    if (options.cache) options.cache->store(key, obj);
    return obj;
  }

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
      auto& es = impl_.jit->getExecutionSession();
      if (!obj.ok()) {
        es.reportError(llvm::make_error<llvm::StringError>(obj.error().to_string(),
                                                           llvm::inconvertibleErrorCode()));
        r->failMaterialization();
        return;
      }
      impl_.fns[id_].opt_level = impl_.tier_level(tier);
      impl_.fns[id_].requested = tier;
      impl_.remember_code(id_, tier, obj.value());
      auto& layer = static_cast<orc::ObjectLinkingLayer&>(impl_.jit->getObjLinkingLayer());
      layer.emit(std::move(r), own_buffer(obj.value(), impl_.program->functions()[id_].name));
    }

   private:
    void discard(const orc::JITDylib&, const orc::SymbolStringPtr&) override {}
    Impl& impl_;
    uint32_t id_;
  };

  // The highest-tier object of `id` already in the disk cache, or "" (tier 0 = none found).
  Expected<std::string> cached_top_tier(uint32_t id, int* tier) {
    *tier = 0;
    if (!options.cache || !tiered() || !program->seen_before()) return std::string();
    const FunctionInfo& f = program->functions()[id];
    for (int t = int(options.policy.levels.size()); t >= 1; --t) {
      ExtractOptions o = extract_options(f, t);
      if (auto obj = options.cache->load(cache_key("fn", f.name, o, tier_level(t)))) {
        *tier = t;
        fns[id].from_cache = true;
        std::lock_guard<std::mutex> lock(stats_mu);
        stats.cache_hits++;
        return std::move(*obj);
      }
    }
    return std::string();
  }

  void remember_code(uint32_t id, int tier, const std::string& obj) {
    std::lock_guard<std::mutex> lock(code_mu);
    fns[id].code_tier = tier;
    fns[id].code = obj;
    code_changes++;
  }

  Hash128 bundle_key() const {
    Hasher h;
    h.add("tierjit-bundle").add(kVersion).add(kLlvmVersion);
    h.add_u64(program->input().content_hash.lo).add_u64(program->input().content_hash.hi);
    h.add_u64(uint64_t(options.policy.fixed_opt + 1)).add_u64(uint64_t(options.policy.base_opt));
    for (size_t i = 0; i < options.policy.levels.size(); ++i)
      h.add_u64(options.policy.thresholds[i]).add_u64(uint64_t(options.policy.levels[i]));
    h.add(target.key());
    return h.finish();
  }

  Status load_bundle(orc::JITDylib& jd, std::vector<int>& bundled_tier);
  void write_bundle();

  void set_cell(uint32_t id, uint64_t addr) {
    std::atomic_ref<uint64_t>(*fns[id].cell).store(addr, std::memory_order_release);
  }

  // --- tier-up ---
  void request(uint32_t id, uint32_t tier) {
    if (!tiered() || tier == 0 || tier > options.policy.levels.size()) return;
    int prev = fns[id].requested.load();
    while (prev < int(tier))
      if (fns[id].requested.compare_exchange_weak(prev, int(tier))) {
        std::lock_guard<std::mutex> lock(q_mu);
        if (stopping) return;
        queue.emplace_back(id, tier);
        in_flight++;
        q_cv.notify_one();
        return;
      }
  }

  void worker_loop() {
    for (;;) {
      std::pair<uint32_t, uint32_t> job;
      {
        std::unique_lock<std::mutex> lock(q_mu);
        q_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) return;
        job = queue.front();
        queue.pop_front();
      }
      install_tier(job.first, int(job.second));
      std::lock_guard<std::mutex> lock(q_mu);
      in_flight--;
      idle_cv.notify_all();
    }
  }

  void install_tier(uint32_t id, int tier) {
    const FunctionInfo& f = program->functions()[id];
    auto obj = compile_function(id, tier, true);
    auto& es = jit->getExecutionSession();
    if (!obj.ok()) {  // tier-up failure is not fatal: the function keeps running its old code
      std::fprintf(stderr, "tierjit: warning: tier-up of '%s' failed: %s\n", f.name.c_str(),
                   obj.error().to_string().c_str());
      return;
    }
    orc::JITDylib& jd = *tier_jds[size_t(tier) - 1];
    orc::ResourceTrackerSP rt = jd.createResourceTracker();
    auto& layer = static_cast<orc::ObjectLinkingLayer&>(jit->getObjLinkingLayer());
    std::string sym = extract_options(f, tier).symbol;
    if (llvm::Error e = layer.add(rt, llvm::MemoryBuffer::getMemBufferCopy(obj.value(), sym))) {
      es.reportError(std::move(e));
      return;
    }
    auto addr = es.lookup({&jd}, es.intern(sym));
    if (!addr) {
      es.reportError(addr.takeError());
      return;
    }
    set_cell(id, addr->getAddress().getValue());
    remember_code(id, tier, obj.value());
    fns[id].opt_level = tier_level(tier);
    fns[id].tier_ups++;
    {
      std::lock_guard<std::mutex> lock(stats_mu);
      stats.tier_ups++;
    }
    TJ_LOG(Channel::kTier, "{} -> O{} (calls so far {})", f.name, tier_level(tier),
           counters[2 * id]);
    // Heat may have passed the next threshold while this tier compiled: the new code only
    // checks for the crossing, so ask for the next tier now.
    if (size_t(tier) < options.policy.thresholds.size()) {
      uint64_t heat =
          std::atomic_ref<uint64_t>(counters[2 * id + 1]).load(std::memory_order_relaxed);
      if (heat >= uint64_t(options.policy.thresholds[size_t(tier)]) * kCallHeat)
        request(id, uint32_t(tier + 1));
    }
    // The previous version stays mapped: a frame may still be executing it (see DESIGN.md).
  }

  // Drops queued requests; waits for a compile in progress unless `wait` is false, in which
  // case it returns true when one is still running (the caller must then leave with _exit).
  bool stop_background(bool wait = true) {
    bool busy;
    {
      std::lock_guard<std::mutex> lock(q_mu);
      stopping = true;
      in_flight -= int(queue.size());
      queue.clear();
      busy = in_flight > 0;
    }
    q_cv.notify_all();
    idle_cv.notify_all();
    if (!worker.joinable()) return false;
    if (busy && !wait) {
      worker.detach();
      return true;
    }
    worker.join();
    return false;
  }

  Status setup();
  Status define_host_symbols(orc::JITDylib& jd);
  Status check_externals(orc::JITDylib& jd);
  Status add_data_object(orc::JITDylib& jd);
  Status define_functions(orc::JITDylib& jd);
};

}  // namespace tierjit::llvmtier
