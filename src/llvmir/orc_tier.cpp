// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The ORC tier: lazy per-function compilation through stubs and entry cells, tier-up on a
// background thread, perf map and GDB registration. Warm starts: code_bundle.cpp; process
// exit: process_exit.cpp.
#include <dlfcn.h>
#include <unistd.h>

#include "llvmir/internal/orc_impl.hpp"
#include "llvmir/osr.hpp"
#include "support/jitdump.hpp"

namespace tierjit::llvmir {

namespace detail {
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

Error from_llvm(llvm::Error e, ErrorCode code, const std::string& what) {
  return make_error(code, what + llvm::toString(std::move(e)));
}

}  // namespace detail

namespace {
// Engines reachable from the __tj_hot hook (one distinct hook function per slot, so cached
// code never embeds an engine pointer).
std::array<std::atomic<OrcEngine::Impl*>, kMaxEngines> g_engines{};
void on_hot(size_t slot, uint32_t id, uint32_t level);
template <size_t K>
void hot_hook(uint32_t id, uint32_t level) {
  on_hot(K, id, level);
}
template <size_t... K>
constexpr std::array<void (*)(uint32_t, uint32_t), kMaxEngines> make_hooks(
    std::index_sequence<K...>) {
  return {&hot_hook<K>...};
}
constexpr auto kHotHooks = make_hooks(std::make_index_sequence<kMaxEngines>());

// A MemoryBuffer that owns a std::string: object bytes go to JITLink without another copy.
class StringBuffer final : public llvm::MemoryBuffer {
 public:
  StringBuffer(std::string bytes, std::string name)
      : bytes_(std::move(bytes)), name_(std::move(name)) {
    init(bytes_.data(), bytes_.data() + bytes_.size(), false);
  }
  BufferKind getBufferKind() const override { return MemoryBuffer_Malloc; }
  llvm::StringRef getBufferIdentifier() const override { return name_; }

 private:
  std::string bytes_;
  std::string name_;
};
}  // namespace

std::unique_ptr<llvm::MemoryBuffer> detail::own_buffer(std::string bytes, std::string name) {
  return std::make_unique<StringBuffer>(std::move(bytes), std::move(name));
}

namespace {

void on_hot(size_t slot, uint32_t id, uint32_t level) {
  if (OrcEngine::Impl* impl = g_engines[slot].load(std::memory_order_acquire))
    impl->request(id, level);
}
}  // namespace

Expected<baseline::Address> OrcEngine::Impl::global_address(const llvm::GlobalValue& gv) {
  if (auto it = global_addresses.find(&gv); it != global_addresses.end())
    return baseline::Address{it->second.value, it->second.kind, it->second.name};
  if (gv.isThreadLocal()) return make_error(ErrorCode::kUnsupported, "thread-local variable");
  std::string name = gv.getName().str();
  uint64_t addr = 0;
  baseline::SymbolKind kind = baseline::SymbolKind::kData;
  if (const FunctionInfo* f = program->find_function(name); f && !f->pinned) {
    addr = uint64_t(stubs->stub(f->id));
    kind = baseline::SymbolKind::kStub;
  } else if (gv.isDeclaration() && !program->find_function(name)) {
    kind = baseline::SymbolKind::kHost;
    // a host symbol, found as the JIT's own resolution does (check_externals)
    auto shim = host_shims().find(name);
    void* p = shim != host_shims().end() ? shim->second : ::dlsym(RTLD_DEFAULT, name.c_str());
    if (!p && !gv.hasExternalWeakLinkage())
      return make_error(ErrorCode::kUnsupported, "unresolved symbol " + name);
    addr = uint64_t(p);  // an undefined weak symbol is null
  } else {
    auto a = session->lookup(*main_jd, name);
    if (!a) return make_error(ErrorCode::kUnsupported, "unresolved symbol " + name);
    addr = uint64_t(a.value());
  }
  GlobalAddress& g = global_addresses[&gv];
  g = {addr, kind, std::move(name)};
  return baseline::Address{g.value, g.kind, g.name};
}

Expected<uint64_t> OrcEngine::Impl::resolve_relocation(uint32_t id, const baseline::Relocation& r) {
  using K = baseline::SymbolKind;
  switch (r.kind) {
    case K::kCounters:
      return uint64_t(&counters[2 * size_t(id)]);
    case K::kHook:
      return uint64_t(kHotHooks[slot]);
    case K::kSelf:
      return make_error(ErrorCode::kInternal, "self relocation");
    case K::kOsr:
      if (!fns[id].osr_table) return make_error(ErrorCode::kCacheCorrupt, "no OSR table");
      return uint64_t(fns[id].osr_table.get());
    default:
      break;
  }
  std::string key = std::to_string(int(r.kind));
  key += r.name;
  if (auto it = resolved_names.find(key); it != resolved_names.end()) return it->second;
  uint64_t addr = 0;
  if (r.kind == K::kStub) {
    const FunctionInfo* f = program->find_function(std::string(r.name));
    if (!f || f->pinned)
      return make_error(ErrorCode::kCacheCorrupt, "no function " + std::string(r.name));
    addr = uint64_t(stubs->stub(f->id));
  } else if (r.kind == K::kHost) {
    std::string name(r.name);
    auto shim = host_shims().find(name);
    void* p = shim != host_shims().end() ? shim->second : ::dlsym(RTLD_DEFAULT, name.c_str());
    addr = uint64_t(p);  // an undefined weak symbol is null
  } else {
    auto a = session->lookup(*main_jd, r.name);
    if (!a) return make_error(ErrorCode::kCacheCorrupt, "no data symbol " + std::string(r.name));
    addr = uint64_t(a.value());
  }
  resolved_names[key] = addr;
  return addr;
}

uint64_t OrcEngine::Impl::baseline_entry(uint32_t id) {
  FnState& st = fns[id];
  if (uint64_t e = st.baseline_entry.load(std::memory_order_acquire)) return e;
  const FunctionInfo& f = program->functions()[id];
  if (f.pinned) return 0;
  if (program->seen_before() && options.cache) {
    // A body tiered up in an earlier run is in the cache: start with it. So is the LLVM
    // body of a function the baseline tier did not cover: no need to read its IR again.
    int tier = 0;
    if (cached_top_tier(id, &tier).ok() && tier > 0) return 0;
    const FunctionInfo& fi = program->functions()[id];
    Hash128 key = cache_key("fn", fi.name, extract_options(fi, 0), tier_level(0));
    if (options.cache->contains_local(key)) return 0;
  }
  std::lock_guard<std::mutex> lock(program->mutex());
  if (st.baseline_tried) return st.baseline_entry.load(std::memory_order_acquire);
  st.baseline_tried = true;
  // Debugging aid for bisecting a miscompile: TIERJIT_BASELINE_LIMIT=N compiles only the
  // first N functions with the baseline tier (the rest go to LLVM, counted as "limit").
  static const long limit = [] {
    const char* e = std::getenv("TIERJIT_BASELINE_LIMIT");
    return e ? std::atol(e) : -1L;
  }();
  if (limit >= 0) {
    std::lock_guard<std::mutex> slock(stats_mu);
    if (long(stats.baseline) >= limit) {
      stats.baseline_fallbacks++;
      baseline_reasons["TIERJIT_BASELINE_LIMIT"]++;
      return 0;
    }
  }
  auto t0 = Clock::now();
  baseline::Profile prof;
  if (tiered()) {
    prof.counters = &counters[2 * id];
    prof.call_heat = kCallHeat;
    prof.threshold = uint64_t(options.policy.thresholds[0]) * kCallHeat;
    prof.hook = kHotHooks[slot];
    prof.id = id;
    prof.next_level = 1;
  }
  Expected<baseline::Compiled> c = make_error(ErrorCode::kInternal, "");
  auto body = program->body(id);  // reads the function's bitcode (lazy modules)
  auto t1 = Clock::now();
  if (!body.ok()) {
    c = body.take_error();
  } else {
    if (tiered() && options.policy.osr) {
      st.osr_size = uint32_t(body.value()->size());
      st.osr_table = std::make_unique<uint64_t[]>(st.osr_size);
      prof.osr_table = st.osr_table.get();
    }
    c = baseline->compile(*body.value(), prof);
  }
  double ms = ms_since(t0), compile_ms = ms_since(t1);
  std::lock_guard<std::mutex> slock(stats_mu);
  if (!c.ok()) {
    stats.baseline_fallbacks++;
    baseline_reasons[c.error().message]++;
    if (options.trace)
      options.trace->instant("baseline fallback", "compile",
                             {{"function", f.name}, {"reason", c.error().message}});
    TJ_LOG(Channel::kLazy, "baseline: {} falls back to LLVM: {}", f.name, c.error().message);
    return 0;
  }
  if (JitDump* dump = JitDump::get())
    dump->code_load(f.name + "$baseline", c.value().entry, c.value().code, c.value().code_bytes);
  trace_compile(id, "baseline", "compiled", t0,
                {{"instructions", int64_t(c.value().instructions)},
                 {"code_bytes", int64_t(c.value().code_bytes)}});
  stats.baseline++;
  stats.baseline_instructions += c.value().instructions;
  stats.baseline_code_bytes += c.value().code_bytes;
  stats.baseline_ms += ms;
  stats.baseline_compile_ms += compile_ms;
  st.compile_us += uint64_t(ms * 1000);
  {
    std::lock_guard<std::mutex> clock(code_mu);
    st.code_tier = 0;
  }
  TJ_LOG(Channel::kLazy, "baseline: {} in {:.3f} ms ({} instructions, {} bytes)", f.name, ms,
         c.value().instructions, c.value().code_bytes);
  st.ir_instructions.store(c.value().instructions, std::memory_order_relaxed);
  st.osr_slots = std::move(c.value().osr_slots);
  if (options.cache && c.value().saveable) {
    st.baseline_code = c.value().code;
    st.baseline_code_bytes = c.value().code_bytes;
    st.baseline_relocations = std::move(c.value().relocations);
  }
  st.baseline_entry.store(c.value().entry, std::memory_order_release);
  return c.value().entry;
}

uint64_t OrcEngine::Impl::resolve_lazy(uint32_t id) {
  if (baseline) {
    if (uint64_t entry = baseline_entry(id)) {
      tierup::install_entry_if(*fns[id].cell, fns[id].trampoline, entry);
      return tierup::load_entry(*fns[id].cell);
    }
  }
  auto& es = jit->getExecutionSession();
  auto addr = es.lookup({main_jd}, es.intern(program->functions()[id].name + "$impl"));
  if (!addr) {  // a call cannot go on without code: report the cause and end the process
    Error e = compile_error_or(from_llvm(addr.takeError(), ErrorCode::kCompileFailed, ""));
    std::fflush(stdout);
    std::fprintf(stderr, "tierjit: error: %s\n", e.to_string().c_str());
    std::_Exit(exit_status(e.code));
  }
  tierup::install_entry_if(*fns[id].cell, fns[id].trampoline, addr->getAddress().getValue());
  return tierup::load_entry(*fns[id].cell);
}

OrcEngine::Impl::~Impl() {
  stop_background();
  if (slot < kMaxEngines) g_engines[slot].store(nullptr);
  if (session) {  // tier JITDylibs first: they search the main one
    for (auto it = tier_jds.rbegin(); it != tier_jds.rend(); ++it) session->remove(*it);
    session->remove(main_jd);
  }
}

Expected<std::string> OrcEngine::Impl::compile_function(uint32_t id, int tier, bool background) {
  const FunctionInfo& f = program->functions()[id];
  ExtractOptions o = extract_options(f, tier);
  int level = tier_level(tier);
  Hash128 key = cache_key("fn", f.name, o, level);
  const char* tier_name = kLevelNames[level];
  // Function keys include the input's hash, so an input never seen before (no manifest)
  // has no entries: skip the lookups (each is a failed open, ~80 us on this VM's disk).
  if (options.cache && program->seen_before()) {
    auto tc = Clock::now();
    if (auto obj = options.cache->load(key)) {
      trace_compile(id, tier_name, "cache", tc);
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
    TJ_TRY(check_replaceable(id, tier));
    auto te = Clock::now();
    TJ_ASSIGN_OR_RETURN(llvm::TargetMachine * tm, main_tm(level));
    auto topt = te;
    TJ_ASSIGN_OR_RETURN(obj, backend::compile_to_object(
                                 *m, *tm, level, [&](llvm::Module&) { topt = Clock::now(); }));
    TJ_LOG(Channel::kLazy, "  extract {:.3f} ms, optimize {:.3f} ms, emit {:.3f} ms",
           std::chrono::duration<double, std::milli>(te - t0).count(),
           std::chrono::duration<double, std::milli>(topt - te).count(), ms_since(topt));
  } else {
    std::string bc;
    {
      std::lock_guard<std::mutex> lock(program->mutex());
      TJ_ASSIGN_OR_RETURN(bc, program->extract_function_bitcode(id, o));
      TJ_TRY(check_replaceable(id, tier));
    }
    llvm::LLVMContext ctx;
    auto m = llvm::parseBitcodeFile(llvm::MemoryBufferRef(bc, f.name), ctx);
    if (!m) return from_llvm(m.takeError(), ErrorCode::kInternal, "re-reading extracted IR: ");
    auto& tm = worker_tms[level];  // only the worker thread compiles in background mode
    if (!tm) {
      TJ_ASSIGN_OR_RETURN(tm, backend::make_target_machine(target, level));
    }
    TJ_ASSIGN_OR_RETURN(obj, backend::compile_to_object(**m, *tm, level));
  }
  double ms = ms_since(t0);
  if (!(background && exiting.load())) {
    trace_compile(id, tier_name, "compiled", t0, {{"object_bytes", int64_t(obj.size())}});
    fns[id].compile_us += uint64_t(ms * 1000);
    fns[id].from_cache = false;
    std::lock_guard<std::mutex> lock(stats_mu);
    stats.compiled++;
    stats.compile_ms += ms;
  }
  TJ_LOG(Channel::kLazy, "compiled {} at O{} in {:.3f} ms ({} bytes)", o.symbol, level, ms,
         obj.size());
  if (options.cache) options.cache->store(key, obj);
  return obj;
}

Expected<std::string> OrcEngine::Impl::cached_top_tier(uint32_t id, int* tier) {
  *tier = 0;
  if (!options.cache || !tiered() || !program->seen_before()) return std::string();
  const FunctionInfo& f = program->functions()[id];
  for (int t = int(options.policy.levels.size()); t >= 1; --t) {
    ExtractOptions o = extract_options(f, t);
    auto tc = Clock::now();
    if (auto obj = options.cache->load(cache_key("fn", f.name, o, tier_level(t)))) {
      trace_compile(id, kLevelNames[tier_level(t)], "cache", tc);
      *tier = t;
      fns[id].from_cache = true;
      std::lock_guard<std::mutex> lock(stats_mu);
      stats.cache_hits++;
      return std::move(*obj);
    }
  }
  return std::string();
}

void OrcEngine::Impl::request(uint32_t id, uint32_t tier) {
  if (!tiered() || tier == 0 || tier > options.policy.levels.size()) return;
  bool queued = tier_ups->request(id, tier);
  if (queued && options.trace) {
    uint64_t calls = std::atomic_ref<uint64_t>(counters[2 * id]).load(std::memory_order_relaxed);
    uint64_t heat = std::atomic_ref<uint64_t>(counters[2 * id + 1]).load(std::memory_order_relaxed);
    options.trace->instant("tier-up request", "tier-up",
                           {{"function", program->functions()[id].name},
                            {"to", kLevelNames[tier_level(int(tier))]},
                            {"calls", int64_t(calls)},
                            {"heat_calls", double(heat) / kCallHeat}});
  }
  // A job's own request (the next tier, asked for from install_tier) cannot wait for itself.
  if (queued && options.policy.sync && !tierup::CompileQueue::on_worker_thread()) tier_ups->drain();
  TJ_LOG(Channel::kTier, "request {} -> tier {}{}", program->functions()[id].name, tier,
         queued ? "" : " (already requested)");
}

void OrcEngine::Impl::install_tier(uint32_t id, int tier) {
  const FunctionInfo& f = program->functions()[id];
  TJ_LOG(Channel::kTier, "compiling {} at tier {}", f.name, tier);
  auto t0 = Clock::now();
  if (options.trace && !worker_named.exchange(true)) options.trace->name_thread("tier-up");
  auto obj = compile_function(id, tier, true);
  if (exiting.load()) return;  // the run has ended: its trace and stats are being written
  auto& es = jit->getExecutionSession();
  if (!obj.ok() && !f.single_body_reason.empty()) {  // by design, not a failure
    std::lock_guard<std::mutex> lock(code_mu);
    if (fns[id].fallback.empty()) {
      fns[id].fallback = "keeps its first body: " + f.single_body_reason;
      std::lock_guard<std::mutex> slock(stats_mu);
      stats.pinned++;
    }
    return;
  }
  if (!obj.ok()) {  // tier-up failure is not fatal: the function keeps running its old code
    std::fprintf(stderr, "tierjit: warning: tier-up of '%s' failed: %s\n", f.name.c_str(),
                 obj.error().to_string().c_str());
    return record_tier_up_failure(id, obj.error().to_string());
  }
  orc::JITDylib& jd = *tier_jds[size_t(tier) - 1];
  orc::ResourceTrackerSP rt = jd.createResourceTracker();
  auto& layer = static_cast<orc::ObjectLinkingLayer&>(jit->getObjLinkingLayer());
  std::string sym = extract_options(f, tier).symbol;
  if (llvm::Error e = layer.add(rt, llvm::MemoryBuffer::getMemBufferCopy(obj.value(), sym)))
    return record_tier_up_failure(id, llvm::toString(std::move(e)));
  auto addr = es.lookup({&jd}, es.intern(sym));
  if (!addr) return record_tier_up_failure(id, llvm::toString(addr.takeError()));
  set_cell(id, addr->getAddress().getValue());
  remember_code(id, tier, obj.value());
  {
    std::lock_guard<std::mutex> lock(code_mu);
    if (fns[id].rt) retired.push_back(std::move(fns[id].rt));
    fns[id].rt = rt;
  }
  fns[id].opt_level = tier_level(tier);
  fns[id].tier_ups++;
  if (options.trace)
    options.trace->complete(f.name, "tier-up", t0, Clock::now(),
                            {{"function", f.name}, {"to", kLevelNames[tier_level(tier)]}});
  {
    std::lock_guard<std::mutex> lock(stats_mu);
    stats.tier_ups++;
  }
  TJ_LOG(Channel::kTier, "{} -> O{} (calls so far {})", f.name, tier_level(tier), counters[2 * id]);
  // A baseline body entered a few times whose invocations run long loops (heat far above
  // its calls' share) is probably running one now: give its loops an entry into optimized
  // code. A function called often gets its optimized code at its next call anyway.
  if (!fns[id].osr_slots.empty() && !fns[id].osr_tried.exchange(true)) {
    uint64_t calls = std::atomic_ref<uint64_t>(counters[2 * id]).load(std::memory_order_relaxed);
    uint64_t heat = std::atomic_ref<uint64_t>(counters[2 * id + 1]).load(std::memory_order_relaxed);
    if (calls <= kOsrMaxCalls && heat > (calls + 1) * kCallHeat * 64) build_osr(id);
  }
  // Heat may have passed the next threshold while this tier compiled: the new code only
  // checks for the crossing, so ask for the next tier now.
  if (size_t(tier) < options.policy.thresholds.size()) {
    uint64_t heat = std::atomic_ref<uint64_t>(counters[2 * id + 1]).load(std::memory_order_relaxed);
    if (heat >= uint64_t(options.policy.thresholds[size_t(tier)]) * kCallHeat)
      request(id, uint32_t(tier + 1));
  }
  // The previous version stays mapped: a frame may still be executing it (see DESIGN.md).
}

void OrcEngine::Impl::build_osr(uint32_t id) {
  const FunctionInfo& f = program->functions()[id];
  FnState& st = fns[id];
  auto t0 = Clock::now();
  auto fail = [&](const std::string& why) {
    TJ_LOG(Channel::kTier, "no OSR continuation for {}: {}", f.name, why);
    if (options.trace)
      options.trace->instant("OSR not built", "osr", {{"function", f.name}, {"reason", why}});
    std::lock_guard<std::mutex> lock(stats_mu);
    osr_reasons[why]++;
  };
  ExtractOptions o;
  o.symbol = f.name + "$osr.body";
  o.count_calls = false;
  std::string bc;
  {
    std::lock_guard<std::mutex> lock(program->mutex());
    auto b = program->extract_function_bitcode(id, o);
    if (!b.ok()) return fail(b.error().message);
    bc = std::move(*b);
  }
  llvm::LLVMContext ctx;
  auto m = llvm::parseBitcodeFile(llvm::MemoryBufferRef(bc, f.name), ctx);
  if (!m) return fail("re-reading extracted IR: " + llvm::toString(m.takeError()));
  llvm::Function* body = (*m)->getFunction(o.symbol);
  std::string name = f.name + "$osr";
  std::vector<uint32_t> headers;
  OsrEntryHook hook{&Impl::on_osr_entry, this, id};
  auto g = build_osr_continuation(*body, name, st.osr_slots, &headers, &osr_entered,
                                  options.trace ? &hook : nullptr);
  if (!g.ok()) return fail(g.error().message);
  // The continuation calls the function through its stub, like every other caller.
  llvm::FunctionCallee self = (*m)->getOrInsertFunction(f.name, body->getFunctionType());
  body->replaceAllUsesWith(self.getCallee());
  body->eraseFromParent();
  int level = tier_level(int(options.policy.levels.size()));
  auto& tm = worker_tms[level];
  if (!tm) {
    auto made = backend::make_target_machine(target, level);
    if (!made.ok()) return fail(made.error().message);
    tm = std::move(*made);
  }
  auto obj = backend::compile_to_object(**m, *tm, level);
  if (!obj.ok()) return fail(obj.error().message);
  orc::JITDylib& jd = *tier_jds.back();
  auto& es = jit->getExecutionSession();
  auto& layer = static_cast<orc::ObjectLinkingLayer&>(jit->getObjLinkingLayer());
  if (llvm::Error e = layer.add(jd.createResourceTracker(),
                                llvm::MemoryBuffer::getMemBufferCopy(obj.value(), name)))
    return fail("link: " + llvm::toString(std::move(e)));
  auto addr = es.lookup({&jd}, es.intern(name));
  if (!addr) return fail("link: " + llvm::toString(addr.takeError()));
  for (uint32_t h : headers)
    if (h < st.osr_size)
      std::atomic_ref<uint64_t>(st.osr_table[h])
          .store(addr->getAddress().getValue(), std::memory_order_release);
  double ms = ms_since(t0);
  if (options.trace)
    options.trace->complete(name, "osr", t0, Clock::now(),
                            {{"function", f.name}, {"loop_headers", int64_t(headers.size())}});
  TJ_LOG(Channel::kTier, "OSR continuation for {}: {} loop headers, {:.2f} ms", f.name,
         headers.size(), ms);
  std::lock_guard<std::mutex> lock(stats_mu);
  stats.osr_built++;
  stats.osr_ms += ms;
}

void OrcEngine::Impl::on_osr_entry(void* impl, uint32_t id, uint32_t header) {
  auto* self = static_cast<Impl*>(impl);
  self->options.trace->instant(
      "OSR entry", "osr",
      {{"function", self->program->functions()[id].name}, {"loop_header", int64_t(header)}});
}

void OrcEngine::Impl::trace_compile(uint32_t id, const char* tier, const char* source,
                                    Clock::time_point t0, std::vector<trace::Arg> more) {
  if (!options.trace) return;
  const std::string& name = program->functions()[id].name;
  more.insert(more.begin(), {{"function", name}, {"tier", tier}, {"source", source}});
  options.trace->complete(name, "compile", t0, Clock::now(), std::move(more));
}

// The function keeps its current code; the failure is counted and shown by --stats.
void OrcEngine::Impl::record_tier_up_failure(uint32_t id, const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(code_mu);
    fns[id].fallback = why;
  }
  std::lock_guard<std::mutex> lock(stats_mu);
  stats.tier_up_failures++;
}

bool OrcEngine::Impl::stop_background(bool wait) {
  exiting.store(true);
  return tier_ups ? tier_ups->stop(wait) : false;
}

Expected<TierPolicy> TierPolicy::parse_thresholds(const std::string& list) {
  TierPolicy p;
  p.thresholds.clear();
  p.levels.clear();
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string item =
        list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char* end = nullptr;
    unsigned long v = std::strtoul(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v == 0 || v > 1000000000ul ||
        (!p.thresholds.empty() && v <= p.thresholds.back()))
      return make_error(ErrorCode::kUsage,
                        "--tier-thresholds wants increasing positive counts like 100 or "
                        "100,1000,10000; got '" +
                            list + "'");
    p.thresholds.push_back(uint32_t(v));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (p.thresholds.size() > 3)
    return make_error(ErrorCode::kUsage, "--tier-thresholds takes at most 3 levels");
  if (p.thresholds.size() == 1) p.levels = {2};
  if (p.thresholds.size() == 2) p.levels = {1, 2};
  if (p.thresholds.size() == 3) p.levels = {1, 2, 3};
  return p;
}

Status OrcEngine::Impl::define_host_symbols(orc::JITDylib& jd) {
  auto& es = jit->getExecutionSession();
  orc::SymbolMap syms;
  auto flags = llvm::JITSymbolFlags::Exported;
  syms[es.intern("__tj_counters")] = {orc::ExecutorAddr::fromPtr(counters.get()), flags};
  syms[es.intern("__tj_hot")] = {orc::ExecutorAddr::fromPtr(kHotHooks[slot]),
                                 flags | llvm::JITSymbolFlags::Callable};
  for (auto& [name, addr] : host_shims())
    syms[es.intern(name)] = {orc::ExecutorAddr::fromPtr(addr), flags};
  if (llvm::Error e = jd.define(orc::absoluteSymbols(std::move(syms))))
    return from_llvm(std::move(e), ErrorCode::kInternal, "defining host symbols: ");
  return {};
}

Status OrcEngine::Impl::check_externals(orc::JITDylib&) {
  std::vector<std::string> missing;
  for (const std::string& name : program->external_symbols()) {
    if (host_shims().count(name)) continue;
    if (!::dlsym(RTLD_DEFAULT, name.c_str())) missing.push_back(name);
  }
  if (missing.empty()) return {};
  std::string list;
  for (size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", '" : "'") + missing[i] + "'";
  if (missing.size() > 5) list += " and " + std::to_string(missing.size() - 5) + " more";
  return make_error(ErrorCode::kUnresolvedSymbol, "unresolved external symbol " + list,
                    {program->path()});
}

// With remote storage, everything a warm start may read (the data object, both bundles, every
// function's body at every tier) is asked for in one batch: each lookup on its own would be a
// round trip, and most of them (tiers a function never reached) miss. A back end that pays a
// round trip per name (HTTP) is asked for the first three only: the bundles hold the bodies
// the last run ended with.
void OrcEngine::Impl::prefetch_remote() {
  auto t0 = Clock::now();
  ExtractOptions data;
  data.symbol = "<data>";
  int level = program->has_pinned() ? pinned_level() : 0;
  std::vector<Hash128> keys = {cache_key("data", "", data, level), bundle_key(),
                               baseline_bundle_key()};
  for (const FunctionInfo& f : program->functions())
    for (int t = 0; t <= int(options.policy.levels.size()); ++t)
      keys.push_back(cache_key("fn", f.name, extract_options(f, t), tier_level(t)));
  options.cache->prefetch(keys, 3);  // the function bodies are speculative
  TJ_LOG(Channel::kCache, "remote prefetch of {} keys in {:.2f} ms", keys.size(), ms_since(t0));
}

Status OrcEngine::Impl::add_data_object(orc::JITDylib& jd) {
  auto t0 = Clock::now();
  ExtractOptions o;
  o.symbol = "<data>";
  // Pinned functions are compiled here, once, at the level tier-up would end at.
  int level = program->has_pinned() ? pinned_level() : 0;
  Hash128 key = cache_key("data", "", o, level);
  std::string obj;
  std::optional<std::string> cached;
  if (options.cache && program->seen_before()) cached = options.cache->load(key);
  if (cached) {
    obj = std::move(*cached);
  } else {
    std::lock_guard<std::mutex> lock(program->mutex());
    TJ_ASSIGN_OR_RETURN(std::unique_ptr<llvm::Module> m, program->build_data_module());
    TJ_ASSIGN_OR_RETURN(llvm::TargetMachine * tm, main_tm(level));
    TJ_ASSIGN_OR_RETURN(obj, backend::compile_to_object(*m, *tm, level));
    if (options.cache) options.cache->store(key, obj);
  }
  if (llvm::Error e = jit->getObjLinkingLayer().add(
          jd, llvm::MemoryBuffer::getMemBufferCopy(obj, program->path() + ".data")))
    return from_llvm(std::move(e), ErrorCode::kCompileFailed, "adding the data object: ");
  stats.data_ms = ms_since(t0);
  return {};
}

Status OrcEngine::Impl::define_functions(orc::JITDylib& jd) {
  auto& es = jit->getExecutionSession();
  const auto& functions = program->functions();
  size_t n = functions.size();
  fns = std::make_unique<FnState[]>(n);
  std::vector<int> bundled(n, -1);
  TJ_TRY(load_bundle(jd, bundled));
  TJ_ASSIGN_OR_RETURN(stubs, tierup::EntryStubs::create(
                                 uint32_t(n), [this](uint32_t id) { return resolve_lazy(id); }));
  auto callable = llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable;
  orc::SymbolMap stub_syms;
  for (const FunctionInfo& f : functions) {
    fns[f.id].cell = stubs->cell(f.id);
    fns[f.id].trampoline = tierup::EntryStubs::lazy_entry();
    stub_syms[es.intern(f.name)] = {orc::ExecutorAddr::fromPtr(stubs->stub(f.id)), callable};
  }
  for (auto& [alias, id] : program->function_aliases())
    stub_syms[es.intern(alias)] = stub_syms[es.intern(functions[id].name)];
  if (llvm::Error e = jd.define(orc::absoluteSymbols(std::move(stub_syms))))
    return from_llvm(std::move(e), ErrorCode::kInvalidInput, "defining stubs: ");
  for (const FunctionInfo& f : functions) {
    if (f.pinned) {  // F$impl is defined by the data object; it never tiers up
      fns[f.id].opt_level = pinned_level();
      tier_ups->mark_requested(f.id, uint32_t(options.policy.levels.size()));
      std::lock_guard<std::mutex> lock(code_mu);
      fns[f.id].fallback = "pinned to one body: " + program->pin_reason();
      stats.pinned++;
      continue;
    }
    if (bundled[f.id] >= 0) {
      FnState& st = fns[f.id];
      st.code_tier = bundled[f.id];
      tier_ups->mark_requested(f.id, uint32_t(bundled[f.id]));
      st.opt_level = tier_level(bundled[f.id]);
      st.from_cache = true;
      continue;
    }
    orc::SymbolFlagsMap syms;
    syms[es.intern(f.name + "$impl")] = callable;
    // In tiered mode each base body gets its own tracker so that it can be freed once it is
    // superseded (reclaim_retired_code).
    orc::ResourceTrackerSP rt = tiered() ? jd.createResourceTracker() : nullptr;
    fns[f.id].rt = rt;
    if (llvm::Error e =
            jd.define(std::make_unique<FunctionMU>(*this, f.id, std::move(syms)), std::move(rt)))
      return from_llvm(std::move(e), ErrorCode::kInvalidInput, "defining function: ");
  }
  stats.functions = n;
  return {};
}

Status OrcEngine::Impl::setup() {
  TJ_ASSIGN_OR_RETURN(session, backend::JitSession::get());
  target = session->target();
  jit = &session->jit();
  auto& es = jit->getExecutionSession();
  if (options.perf_map) session->enable_perf_map();
  if (options.debug_info) TJ_TRY(session->enable_debugger_support());

  for (size_t i = 0; i < kMaxEngines; ++i) {
    Impl* none = nullptr;
    if (g_engines[i].compare_exchange_strong(none, this)) {
      slot = i;
      break;
    }
  }
  if (slot == kMaxEngines)
    return make_error(ErrorCode::kInternal, "too many live engines (max 64)");
  counters = std::make_unique<uint64_t[]>(2 * program->functions().size() + 2);
  tier_ups = std::make_unique<tierup::CompileQueue>(
      program->functions().size(),
      [this](uint32_t id, uint32_t tier) { install_tier(id, int(tier)); });
  // Hottest per unit of compile cost first: a big function (an interpreter's dispatch loop,
  // a parser's reduce routine) must not keep small hot ones waiting. O2 time grows faster
  // than linearly with size (a 10,000-instruction function takes seconds), hence the cost
  // model size * (1 + size / 1000).
  tier_ups->set_priority([this](uint32_t id) {
    uint64_t heat = std::atomic_ref<uint64_t>(counters[2 * id + 1]).load(std::memory_order_relaxed);
    uint64_t size = fns[id].ir_instructions.load(std::memory_order_relaxed);
    if (size == 0) size = 256;  // not compiled by the baseline tier: size unknown
    uint64_t cost = (size + 32) * (1000 + size) / 1000;
    // Functions this big take longer at O2 than most runs last: they go after every other
    // request, or their compile would hold the queue to the end of the run (and be lost).
    if (size > 4000) cost *= 1024;
    return heat * 256 / cost;
  });

  if (options.policy.baseline) {
    baseline::Environment env;
    env.address_of = [this](const llvm::GlobalValue& gv) { return global_address(gv); };
    {
      std::lock_guard<std::mutex> lock(program->mutex());
      env.module_has_eh = program->has_eh();
    }
    baseline = std::make_unique<baseline::Compiler>(std::move(env));
  }
  TJ_ASSIGN_OR_RETURN(main_jd, session->create_dylib("program"));
  orc::JITDylib& jd = *main_jd;
  TJ_TRY(check_externals(jd));
  TJ_TRY(define_host_symbols(jd));
  if (options.cache && options.cache->remote() && program->seen_before()) prefetch_remote();
  TJ_TRY(add_data_object(jd));
  TJ_TRY(define_functions(jd));
  load_baseline_bundle();
  if (tiered()) {
    for (size_t k = 1; k <= options.policy.levels.size(); ++k) {
      TJ_ASSIGN_OR_RETURN(orc::JITDylib * tjd,
                          session->create_dylib("tier" + std::to_string(k), {&jd}));
      tier_jds.push_back(tjd);
    }
    tier_ups->start();
    // Heat carried over in the bundle may already be past a threshold: the code only checks
    // for crossings, so ask now (served from the per-function cache when compiled before).
    for (const FunctionInfo& f : program->functions()) {
      int tier = int(tier_ups->requested(f.id));
      if (fns[f.id].code_tier < 0 || size_t(tier) >= options.policy.thresholds.size()) continue;
      if (counters[2 * f.id + 1] >= uint64_t(options.policy.thresholds[size_t(tier)]) * kCallHeat)
        request(f.id, uint32_t(tier + 1));
    }
  }
  if (!options.lazy) {
    for (const FunctionInfo& f : program->functions()) {
      if (baseline && fns[f.id].code_tier < 0) {
        if (uint64_t entry = baseline_entry(f.id)) {
          set_cell(f.id, entry);
          continue;
        }
      }
      auto addr = es.lookup({&jd}, es.intern(f.name + "$impl"));
      if (!addr)
        return compile_error_or(from_llvm(addr.takeError(), ErrorCode::kCompileFailed, ""));
      set_cell(f.id, addr->getAddress().getValue());
    }
  }
  return {};
}

OrcEngine::OrcEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OrcEngine::~OrcEngine() = default;

Expected<std::unique_ptr<OrcEngine>> OrcEngine::create(std::unique_ptr<IrProgram> program,
                                                       OrcOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->program = std::move(program);
  impl->options = std::move(options);
  TJ_TRY(impl->setup());
  return std::unique_ptr<OrcEngine>(new OrcEngine(std::move(impl)));
}

IrProgram& OrcEngine::program() { return *impl_->program; }

std::string OrcEngine::describe_policy() const {
  const TierPolicy& p = impl_->options.policy;
  std::string base =
      p.baseline ? "baseline (else O" + std::to_string(std::max(p.fixed_opt, p.base_opt)) + ")"
                 : "O" + std::to_string(std::max(p.fixed_opt, p.base_opt));
  if (p.fixed_opt >= 0) return "fixed " + base;
  std::string s = "tiered " + base;
  for (size_t i = 0; i < p.levels.size(); ++i)
    s +=
        " -> O" + std::to_string(p.levels[i]) + " at " + std::to_string(p.thresholds[i]) + " calls";
  return s;
}

Expected<void*> OrcEngine::lookup(const std::string& name) {
  auto addr = impl_->session->lookup(*impl_->main_jd, name);
  if (!addr && impl_->program->find_function(name))  // defined: its compile failed
    return impl_->compile_error_or(addr.error());
  if (!addr)
    return make_error(ErrorCode::kMissingEntry, "symbol '" + name + "': " + addr.error().message);
  return addr.value();
}

Status OrcEngine::run_constructors() {
  for (const InitEntry& c : impl_->program->ctors()) {
    TJ_ASSIGN_OR_RETURN(void* fn, lookup(c.function));
    reinterpret_cast<void (*)()>(fn)();
  }
  return {};
}

void OrcEngine::run_destructors() {
  if (impl_->dtors_done) return;
  impl_->dtors_done = true;
  const auto& dtors = impl_->program->dtors();
  for (auto it = dtors.rbegin(); it != dtors.rend(); ++it) {
    auto fn = lookup(it->function);
    if (fn.ok()) reinterpret_cast<void (*)()>(fn.value())();
  }
}

Expected<int> OrcEngine::run_main(const std::string& entry, const std::vector<std::string>& args) {
  const FunctionInfo* f = impl_->program->find_function(entry);
  if (!f)
    return make_error(ErrorCode::kMissingEntry, "entry function '" + entry + "' is not defined",
                      {impl_->program->path()});
  TJ_ASSIGN_OR_RETURN(void* fn, lookup(entry));
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  bool returns_int = impl_->program->entry_returns_int(*f);
  if (impl_->program->entry_takes_args(*f)) {
    int r =
        reinterpret_cast<int (*)(int, char**, char**)>(fn)(int(args.size()), argv.data(), environ);
    return returns_int ? r : 0;
  }
  int r = reinterpret_cast<int (*)()>(fn)();
  return returns_int ? r : 0;
}

void OrcEngine::drain_tier_ups() { impl_->tier_ups->drain(); }

void OrcEngine::stop_background() { impl_->stop_background(); }

void OrcEngine::save_bundle() {
  impl_->write_baseline_bundle();
  impl_->write_bundle();
}

size_t OrcEngine::reclaim_retired_code() {
  std::vector<orc::ResourceTrackerSP> victims;
  {
    std::lock_guard<std::mutex> lock(impl_->code_mu);
    victims.swap(impl_->retired);
  }
  size_t freed = 0;
  for (orc::ResourceTrackerSP& rt : victims) {
    if (llvm::Error e = rt->remove())
      impl_->jit->getExecutionSession().reportError(std::move(e));
    else
      freed++;
  }
  return freed;
}

uint64_t OrcEngine::entry_target(const std::string& function) const {
  const FunctionInfo* f = impl_->program->find_function(function);
  if (!f) return 0;
  return std::atomic_ref<uint64_t>(*impl_->fns[f->id].cell).load(std::memory_order_acquire);
}

std::vector<FunctionStats> OrcEngine::function_stats() const {
  std::vector<FunctionStats> out;
  for (const FunctionInfo& f : impl_->program->functions()) {
    FnState& s = impl_->fns[f.id];
    FunctionStats fs;
    fs.name = f.name;
    fs.calls = std::atomic_ref<uint64_t>(impl_->counters[2 * f.id]).load(std::memory_order_relaxed);
    fs.opt_level = s.opt_level.load();
    fs.compile_ns[0] = s.compile_us.load() * 1000;
    fs.tier_ups = s.tier_ups.load();
    fs.from_cache = s.from_cache.load();
    std::lock_guard<std::mutex> lock(impl_->code_mu);
    fs.tier = s.code_tier;
    fs.baseline = s.code_tier == 0 && s.baseline_entry.load() != 0;
    fs.llvm_failed = !s.fallback.empty() && !f.pinned;
    fs.fallback = s.fallback;
    out.push_back(std::move(fs));
  }
  return out;
}

EngineStats OrcEngine::stats() const {
  std::lock_guard<std::mutex> lock(impl_->stats_mu);
  EngineStats s = impl_->stats;
  for (auto& [why, n] : impl_->baseline_reasons) s.baseline_fallback_reasons.push_back({why, n});
  for (auto& [why, n] : impl_->osr_reasons) s.osr_not_built.push_back({why, n});
  s.osr_entered = std::atomic_ref<uint64_t>(impl_->osr_entered).load(std::memory_order_relaxed);
  std::sort(s.baseline_fallback_reasons.begin(), s.baseline_fallback_reasons.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  return s;
}

}  // namespace tierjit::llvmir
