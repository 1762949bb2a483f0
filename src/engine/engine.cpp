// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Engine: the whole-program driver over the LLVM tier (load → prepare → ORC → run).
#include "tierjit/engine.hpp"

#include <fmt/format.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>

#include "llvmir/ir_loader.hpp"
#include "llvmir/orc_tier.hpp"
#include "llvmir/program.hpp"
#include "runtime/cache_key.hpp"
#include "runtime/object_cache.hpp"
#include "runtime/remote_storage.hpp"
#include "support/error.hpp"
#include "support/file.hpp"
#include "support/hash.hpp"
#include "support/log.hpp"
#include "support/trace.hpp"

namespace tierjit {

struct Engine::Impl {
  RunConfig cfg;
  std::string entry;
  std::unique_ptr<trace::Recorder> trace;  // --trace; outlives the engine that records
  std::unique_ptr<ObjectCache> cache;
  std::unique_ptr<llvmir::OrcEngine> orc;
  double load_ms = 0, setup_ms = 0;
  std::string format;
  bool finished = false;
  std::function<void()> exit_hook;
  std::chrono::steady_clock::time_point run_start;

  // Closes the trace with the run's span and writes it (once; a failure is reported, the
  // program's exit status stays). The recorder lives as long as the engine: the tier-up
  // thread may still record (into nothing) until it stops.
  bool trace_written = false;
  void write_trace() {
    if (!trace || trace_written) return;
    trace_written = true;
    trace->complete("run", "engine", run_start, std::chrono::steady_clock::now(),
                    {{"entry", entry}});
    if (Status s = trace->write(); !s.ok())
      std::fprintf(stderr, "tierjit: warning: %s\n", s.error().to_string().c_str());
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() {
  if (impl_ && impl_->orc) impl_->orc->stop_background();
}

namespace {
Expected<std::unique_ptr<Engine::Impl>> load_impl(const RunConfig& cfg, std::string bytes) {
  using Clock = std::chrono::steady_clock;
  auto impl = std::make_unique<Engine::Impl>();
  impl->cfg = cfg;
  if (!cfg.trace_path.empty()) {  // first, so a bad path fails before any work
    TJ_ASSIGN_OR_RETURN(impl->trace, trace::Recorder::open(cfg.trace_path));
    impl->trace->name_thread("main");
  }
  auto t0 = Clock::now();
  if (cfg.cache) impl->cache = std::make_unique<ObjectCache>(cfg.cache_dir, cfg.cache_max_bytes);
  // A previous run left a manifest of this exact input: start without parsing it at all.
  Hash128 content = hash_bytes(bytes);
  Hash128 manifest_key = CacheKey("manifest").add(content).finish();
  std::unique_ptr<llvmir::IrProgram> program;
  std::optional<llvmir::LlbcHeader> llbc;
  if (llvmir::is_llbc(bytes)) {
    TJ_ASSIGN_OR_RETURN(llbc, llvmir::parse_llbc(bytes, cfg.path, nullptr));
  }
  if (impl->cache) {
    if (auto manifest = impl->cache->load(manifest_key)) {
      llvmir::LoadedIr header;
      header.format = llbc                        ? llvmir::IrFormat::kLlbc
                      : llvmir::is_bitcode(bytes) ? llvmir::IrFormat::kBitcode
                                                  : llvmir::IrFormat::kText;
      header.content_hash = content;
      header.llbc = llbc;
      auto p = llvmir::IrProgram::from_manifest(*manifest, std::move(header), std::move(bytes),
                                                cfg.path);
      if (p.ok()) program = std::move(p).value();
    }
  }
  if (!program) {
    auto ctx = std::make_unique<llvm::LLVMContext>();
    TJ_ASSIGN_OR_RETURN(llvmir::LoadedIr ir,
                        llvmir::load_ir_bytes(std::move(bytes), cfg.path, *ctx, true, &content));
    TJ_ASSIGN_OR_RETURN(program,
                        llvmir::IrProgram::prepare(std::move(ir), std::move(ctx), cfg.path));
    if (impl->cache) impl->cache->store(manifest_key, program->manifest());
  }
  impl->format = llvmir::format_name(program->input().format);
  int opt = cfg.opt_level;
  std::string entry = cfg.entry;
  int llbc_target = -1;  // LLBC's opt level: the level tier-up aims for
  if (llbc) {
    if (entry.empty()) entry = llbc->entry_name;
    if (opt < 0) llbc_target = int(llbc->opt_level);
    if (llbc_target == 0) opt = 0;
  }
  if (entry.empty()) entry = "main";
  impl->entry = entry;
  if (!program->find_function(entry))
    return make_error(ErrorCode::kMissingEntry, "entry function '" + entry + "' is not defined",
                      {cfg.path});
  auto t1 = Clock::now();
  impl->load_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  if (impl->trace)
    impl->trace->complete("load", "engine", t0, t1,
                          {{"program", cfg.path}, {"format", impl->format}});

  llvmir::OrcOptions o;
  if (opt >= 0) {
    o.policy.fixed_opt = opt;
  } else {
    TJ_ASSIGN_OR_RETURN(o.policy, llvmir::TierPolicy::parse_thresholds(
                                      cfg.tier_thresholds.empty() ? "100" : cfg.tier_thresholds));
    if (llbc_target > 0) o.policy.levels.back() = llbc_target;
  }
  // Baseline code carries no debug info yet: a run asked to be debuggable uses LLVM only.
  o.policy.baseline = cfg.baseline && !cfg.debug_info;
  o.policy.osr = cfg.osr;
  o.policy.sync = cfg.sync_tier_up;
  o.cache = impl->cache.get();
  o.lazy = cfg.lazy;
  o.perf_map = cfg.perf_map;
  o.debug_info = cfg.debug_info;
  o.trace = impl->trace.get();
  TJ_ASSIGN_OR_RETURN(impl->orc, llvmir::OrcEngine::create(std::move(program), std::move(o)));
  auto t2 = Clock::now();
  impl->setup_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  if (impl->trace) impl->trace->complete("JIT setup", "engine", t1, t2);
  return impl;
}
}  // namespace

std::unique_ptr<Engine> Engine::load(const RunConfig& cfg, Error* error) {
  auto bytes = read_file(cfg.path);
  if (!bytes.ok()) {
    if (error) *error = bytes.take_error();
    return nullptr;
  }
  return load(cfg, std::move(bytes).value(), error);
}

std::unique_ptr<Engine> Engine::load(const RunConfig& cfg, std::string bytes, Error* error) {
  auto impl = load_impl(cfg, std::move(bytes));
  if (!impl.ok()) {
    if (error) *error = impl.take_error();
    return nullptr;
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl).value()));
}

const std::string& Engine::entry() const { return impl_->entry; }

int Engine::run(const std::vector<std::string>& args, Error* error) {
  impl_->run_start = std::chrono::steady_clock::now();
  if (Status s = impl_->orc->run_constructors(); !s.ok()) {
    if (error) *error = s.take_error();
    return -1;
  }
  // The program's exit() (or ours, after main returns) comes back through exit_process.
  impl_->orc->set_exit_hook([impl = impl_.get()](int) {
    impl->finished = true;
    if (impl->cache) impl->cache->finish();
    impl->write_trace();
    if (impl->exit_hook) impl->exit_hook();
  });
  auto r = impl_->orc->run_main(impl_->entry, args);
  if (!r.ok()) {
    if (error) *error = r.take_error();
    return -1;
  }
  return r.value();
}

void Engine::finish() {
  if (impl_->finished) return;
  impl_->finished = true;
  impl_->orc->run_destructors();
  impl_->orc->stop_background();
  impl_->orc->save_bundle();
  if (impl_->cache) impl_->cache->finish();
  impl_->write_trace();
}

void Engine::set_exit_hook(std::function<void()> hook) { impl_->exit_hook = std::move(hook); }

void Engine::exit_process(int status) {
  impl_->finished = true;
  impl_->orc->exit_process(status);
}

void Engine::drain_tier_ups() { impl_->orc->drain_tier_ups(); }

size_t Engine::reclaim_retired_code() { return impl_->orc->reclaim_retired_code(); }

std::vector<FunctionReport> Engine::function_reports() const {
  std::vector<FunctionReport> out;
  for (const auto& s : impl_->orc->function_stats())
    out.push_back(
        {s.name, s.calls, s.opt_level, s.compile_ms(), s.tier_ups, s.from_cache, s.baseline});
  return out;
}

namespace {
// Whether the function ran compiled code, and at which tier ("base", "O0".."O3").
bool ran_compiled(const FunctionReport& r) { return r.opt_level >= 0 || r.baseline; }
std::string tier_name(const FunctionReport& r) {
  return r.baseline ? std::string("base") : fmt::format("O{}", r.opt_level);
}
}  // namespace

std::string Engine::stats_json() const {
  using nlohmann::json;
  llvmir::EngineStats es = impl_->orc->stats();
  auto reports = function_reports();
  auto by_reason = [](const std::vector<std::pair<std::string, uint64_t>>& v) {
    json o = json::object();
    for (const auto& [reason, n] : v) o[reason] = n;
    return o;
  };
  json fallbacks = json::array();
  for (const auto& s : impl_->orc->function_stats())
    if (!s.fallback.empty()) fallbacks.push_back({{"name", s.name}, {"reason", s.fallback}});
  size_t ran = std::count_if(reports.begin(), reports.end(), ran_compiled);
  json functions = json::array();
  for (const FunctionReport& r : reports) {
    json tier = ran_compiled(r) ? json(tier_name(r)) : json(nullptr);
    functions.push_back({{"name", r.name},
                         {"calls", r.calls},
                         {"tier", tier},
                         {"compile_ms", r.compile_ms},
                         {"tier_ups", r.tier_ups},
                         {"source", r.from_cache ? "cache" : "jit"}});
  }
  json cache = nullptr;
  if (impl_->cache) {
    ObjectCacheStats cs = impl_->cache->stats();
    cache = {{"dir", impl_->cache->dir()}, {"hits", cs.hits},
             {"misses", cs.misses},        {"stores", cs.stores},
             {"corrupt", cs.corrupt},      {"remote_hits", cs.remote_hits}};
    if (RemoteStorage* rs = impl_->cache->remote()) {
      json remotes = json::array();
      std::vector<RemoteCounters> rc = rs->counters();
      for (size_t i = 0; i < rc.size(); ++i)
        remotes.push_back({{"url", rs->specs()[i].url},
                           {"hits", rc[i].hits},
                           {"misses", rc[i].misses},
                           {"errors", rc[i].errors},
                           {"corrupt", rc[i].corrupt},
                           {"rejected", rc[i].rejected},
                           {"skipped", rc[i].skipped},
                           {"uploads", rc[i].uploads},
                           {"upload_errors", rc[i].upload_errors},
                           {"upload_dropped", rc[i].upload_dropped},
                           {"requests", rc[i].requests},
                           {"latency_us", rc[i].latency_us}});
      cache["remote"] = remotes;
      cache["signed"] = rs->signing();
    }
  }
  json out = {{"schema", "tierjit-stats"},
              {"version", 1},
              {"program", impl_->cfg.path},
              {"format", impl_->format},
              {"load_ms", impl_->load_ms},
              {"setup_ms", impl_->setup_ms},
              {"data_ms", es.data_ms},
              {"mode", impl_->orc->describe_policy()},
              {"functions", es.functions},
              {"compiled", ran},
              {"compiles", es.compiled},
              {"compile_ms", es.compile_ms},
              {"cache_hits", es.cache_hits},
              {"bundled", es.bundled},
              {"tier_ups", es.tier_ups},
              {"fallbacks",
               {{"tier_up_failures", es.tier_up_failures},
                {"pinned", es.pinned},
                {"functions", fallbacks}}},
              {"baseline",
               {{"functions", es.baseline},
                {"instructions", es.baseline_instructions},
                {"code_bytes", es.baseline_code_bytes},
                {"ms", es.baseline_ms},
                {"compile_ms", es.baseline_compile_ms},
                {"loaded", es.baseline_loaded},
                {"rejected", es.baseline_rejected},
                {"fallbacks", es.baseline_fallbacks},
                {"fallback_reasons", by_reason(es.baseline_fallback_reasons)}}},
              {"osr",
               {{"built", es.osr_built},
                {"ms", es.osr_ms},
                {"entered", es.osr_entered},
                {"not_built", by_reason(es.osr_not_built)}}},
              {"object_cache", cache},
              {"function_reports", functions}};
  // Names come from the program: invalid UTF-8 is replaced, never an exception.
  return out.dump(1, ' ', false, json::error_handler_t::replace);
}

std::string Engine::stats_text(size_t max_rows) const {
  auto reports = function_reports();
  llvmir::EngineStats es = impl_->orc->stats();
  std::string out =
      fmt::format("tierjit stats: {} ({}), load {:.1f} ms, JIT setup {:.1f} ms (data {:.1f} ms)\n",
                  impl_->cfg.path, impl_->format, impl_->load_ms, impl_->setup_ms, es.data_ms);
  out += "  mode: " + impl_->orc->describe_policy() + "\n";
  size_t ran = std::count_if(reports.begin(), reports.end(), ran_compiled);
  out += fmt::format(
      "  functions {}, compiled {} ({} compiles, {:.1f} ms total), cache hits {} ({} from the "
      "bundle), tier-ups {}\n",
      es.functions, ran, es.compiled, es.compile_ms, es.cache_hits, es.bundled, es.tier_ups);
  // Every way a function can end up below the tier asked for, always printed (zeros too).
  out += fmt::format(
      "  fallbacks: {} (tier-up compile or link failed: the function kept its code), "
      "pinned {} (block addresses used outside the function: one body, never "
      "tiered up)\n",
      es.tier_up_failures, es.pinned);
  for (const auto& s : impl_->orc->function_stats())
    if (!s.fallback.empty()) out += fmt::format("    {}: {}\n", s.name, s.fallback);
  if (es.baseline || es.baseline_fallbacks || es.baseline_loaded || es.baseline_rejected) {
    out += fmt::format(
        "  baseline {} ({} instructions, {} code bytes, {:.2f} ms: {:.2f} compiling), "
        "{} from the cache ({} saved images rejected), fallback {}",
        es.baseline, es.baseline_instructions, es.baseline_code_bytes, es.baseline_ms,
        es.baseline_compile_ms, es.baseline_loaded, es.baseline_rejected, es.baseline_fallbacks);
    for (size_t i = 0; i < es.baseline_fallback_reasons.size(); ++i)
      out += fmt::format("{} {} x{}", i ? "," : ":", es.baseline_fallback_reasons[i].first,
                         es.baseline_fallback_reasons[i].second);
    out += "\n";
  }
  if (es.osr_built || es.osr_entered || !es.osr_not_built.empty()) {
    out += fmt::format("  OSR: {} continuations ({:.1f} ms), entered {} times, not built {}",
                       es.osr_built, es.osr_ms, es.osr_entered, es.osr_not_built.size());
    for (size_t i = 0; i < es.osr_not_built.size(); ++i)
      out += fmt::format("{} {} x{}", i ? "," : ":", es.osr_not_built[i].first,
                         es.osr_not_built[i].second);
    out += "\n";
  }
  if (impl_->cache) {
    ObjectCacheStats cs = impl_->cache->stats();
    out += fmt::format("  object cache {}: hits {}, misses {}, stores {}, corrupt {}\n",
                       impl_->cache->dir(), cs.hits, cs.misses, cs.stores, cs.corrupt);
    if (RemoteStorage* rs = impl_->cache->remote()) {
      std::vector<RemoteCounters> rc = rs->counters();
      for (size_t i = 0; i < rc.size(); ++i)
        out += fmt::format("  remote storage {}{}: {}\n", rs->specs()[i].url,
                           rs->signing() ? " (signed)" : "", format_remote_counters(rc[i]));
    }
  }
  std::sort(reports.begin(), reports.end(), [](const FunctionReport& a, const FunctionReport& b) {
    return a.calls != b.calls ? a.calls > b.calls : a.opt_level > b.opt_level;
  });
  out +=
      "  (calls are counted by profiled tiers only; top-tier and fixed-level code runs "
      "without counters)\n";
  out += fmt::format("  {:<40} {:>14} {:>6} {:>12} {:>8}\n", "function", "calls", "tier",
                     "compile ms", "source");
  for (size_t i = 0; i < reports.size() && i < max_rows; ++i) {
    const FunctionReport& r = reports[i];
    if (!ran_compiled(r)) continue;
    out += fmt::format("  {:<40} {:>14} {:>6} {:>12.3f} {:>8}\n", r.name.substr(0, 40), r.calls,
                       tier_name(r), r.compile_ms, r.from_cache ? "cache" : "jit");
  }
  return out;
}

}  // namespace tierjit
