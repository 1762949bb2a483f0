// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// KernelEngine: per-shape profiles, threshold compilation, the LRU kernel cache and stats.
// Hot path: a thread-local one-entry cache (engine id, eviction epoch, key) finds the plan
// without taking a lock; otherwise a shared lock on the profile table.
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "kernels/engine_impl.hpp"
#include "kernels/gemm_check.hpp"

namespace tierjit::kernels {
namespace {

std::atomic<uint64_t> next_engine_id{1};

struct TlsEntry {
  uint64_t engine = 0, epoch = 0;
  GemmKey key;
  Profile* profile = nullptr;
  std::shared_ptr<GemmPlan> plan;
};
thread_local TlsEntry tls_last;

}  // namespace

GemmKey KernelEngine::Impl::key_for(const RowMajorGemm& g) const {
  GemmKey k;
  k.isa = isa;
  k.ta = g.ta, k.tb = g.tb;
  k.m = g.m, k.n = g.n, k.k = g.k, k.lda = g.lda, k.ldb = g.ldb, k.ldc = g.ldc;
  k.beta = g.beta == 0.0f ? BetaKind::kZero : g.beta == 1.0f ? BetaKind::kOne : BetaKind::kGeneral;
  k.alpha_one = g.alpha == 1.0f;
  k.threads = threads;
  return k;
}

Profile* KernelEngine::Impl::profile_for(const GemmKey& key) {
  {
    std::shared_lock lock(mu);
    auto it = profiles.find(key);
    if (it != profiles.end()) return it->second.get();
  }
  std::unique_lock lock(mu);
  auto it = profiles.find(key);
  if (it != profiles.end()) return it->second.get();
  if (profiles.size() >= kMaxProfiles) return nullptr;
  auto p = std::make_unique<Profile>();
  p->key = key;
  return profiles.emplace(key, std::move(p)).first->second.get();
}

// Installs a plan and evicts least recently used plans past the byte bound.
void KernelEngine::Impl::install(Profile& p, std::shared_ptr<GemmPlan> plan) {
  std::unique_lock lock(mu);
  code_bytes += plan->code_bytes;
  p.plan = std::move(plan);
  evict_locked(&p);
}

// Evicts least recently used code (GEMM plans and row kernels alike) until the cache is within
// its byte bound; `keep` (the entry just installed) stays even when it alone is over.
void KernelEngine::Impl::evict_locked(const void* keep) {
  while (code_bytes > cfg.cache_bytes) {
    Profile* gv = nullptr;
    OpProfile* ov = nullptr;
    uint64_t oldest = UINT64_MAX;
    for (auto& [k, q] : profiles) {
      if (q.get() == keep || !q->plan || q->last_use.load() >= oldest) continue;
      gv = q.get(), ov = nullptr, oldest = q->last_use.load();
    }
    for (auto& [k, q] : op_profiles) {
      if (q.get() == keep || !q->kernel || q->last_use.load() >= oldest) continue;
      ov = q.get(), gv = nullptr, oldest = q->last_use.load();
    }
    if (gv != nullptr) {
      code_bytes -= gv->plan->code_bytes;
      gv->plan.reset();  // the code is freed when the last caller drops its reference
    } else if (ov != nullptr) {
      code_bytes -= ov->kernel->code.size;
      ov->kernel.reset();
    } else {
      break;  // only the new entry is left: it stays, over the bound
    }
    evictions.fetch_add(1, std::memory_order_relaxed);
    epoch.fetch_add(1, std::memory_order_release);
  }
}

std::shared_ptr<GemmPlan> KernelEngine::Impl::compile(Profile& p) {
  std::lock_guard guard(compile_mu);
  {
    std::shared_lock lock(mu);
    if (p.plan) return p.plan;
  }
  if (p.failed) return nullptr;
  auto plan = build_gemm_plan(p.key, pool);
  if (!plan.ok()) {
    p.failed = true;  // e.g. code pool exhausted: this shape keeps the generic kernel
    compile_failures.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  compiles.fetch_add(1, std::memory_order_relaxed);
  compile_ns.fetch_add((*plan)->compile_ns, std::memory_order_relaxed);
  std::shared_ptr<GemmPlan> result = *plan;
  install(p, result);
  return result;
}

Expected<std::unique_ptr<KernelEngine>> KernelEngine::create(const KernelConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->id = next_engine_id.fetch_add(1);
  impl->cfg = config;
  if (config.isa_set) {
    if (config.isa > cpu_features().best) {
      return make_error(ErrorCode::kUnsupported,
                        std::string("this CPU cannot run ") + isa_name(config.isa) + " kernels");
    }
    impl->isa = config.isa;
  } else {
    auto isa = default_isa();
    if (!isa.ok()) return isa.take_error();
    impl->isa = *isa;
  }
  int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  impl->threads = config.threads <= 0 ? cores : config.threads;
  runtime::CodePoolConfig pc;
  pc.buffer_size = 16 << 10;
  pc.buffers_per_region = 64;
  pc.prefault = true;
  pc.max_regions = std::max<size_t>(2, config.cache_bytes / (pc.buffer_size * 64) + 2);
  impl->pool = std::make_shared<runtime::CodePool>(pc);
  // Map (and prefault) the first code region now, so the first kernel's generation time is
  // the generator's, not the kernel's share of an mmap.
  if (auto first = impl->pool->acquire(1); first.ok()) impl->pool->release(*first);
  impl->workers = std::make_unique<ThreadPool>(impl->threads);
  return std::unique_ptr<KernelEngine>(new KernelEngine(std::move(impl)));
}

KernelEngine::KernelEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KernelEngine::~KernelEngine() {
  if (tls_last.engine == impl_->id) tls_last = TlsEntry{};
}

Isa KernelEngine::isa() const { return impl_->isa; }
int KernelEngine::threads() const { return impl_->threads; }

Status KernelEngine::sgemm(const GemmDesc& desc, float alpha, const float* a, const float* b,
                           float beta, float* c) {
  Impl& im = *impl_;
  RowMajorGemm g;
  TJ_TRY(check_gemm(desc, a, b, c, g));
  g.alpha = alpha, g.beta = beta;
  if (g.m == 0 || g.n == 0 || g.k == 0 || alpha == 0.0f) {  // BLAS: A and B are not read
    im.unprofiled_calls.fetch_add(1, std::memory_order_relaxed);
    if (g.m != 0 && g.n != 0) scale_c(g);
    return {};
  }
  GemmKey key = im.key_for(g);
  uint64_t tick = im.clock.load(std::memory_order_relaxed) + 1;
  im.clock.store(tick, std::memory_order_relaxed);
  TlsEntry& t = tls_last;
  if (t.engine == im.id && t.plan && t.epoch == im.epoch.load(std::memory_order_acquire) &&
      t.key == key) {
    uint64_t n = t.profile->calls.fetch_add(1, std::memory_order_relaxed);
    t.profile->last_use.store(tick, std::memory_order_relaxed);
    if (n % kCycleSample != 0) {
      run_gemm_plan(*t.plan, g, *im.workers);
      return {};
    }
    uint64_t t0 = __rdtsc();
    run_gemm_plan(*t.plan, g, *im.workers);
    t.profile->cycles.fetch_add((__rdtsc() - t0) * kCycleSample, std::memory_order_relaxed);
    return {};
  }
  Profile* p = im.profile_for(key);
  std::shared_ptr<GemmPlan> plan;
  if (p != nullptr) {
    uint64_t n = p->calls.fetch_add(1, std::memory_order_relaxed) + 1;
    p->last_use.store(tick, std::memory_order_relaxed);
    if (im.isa != Isa::kScalar) {
      {
        std::shared_lock lock(im.mu);
        plan = p->plan;
      }
      if (!plan && n >= im.cfg.compile_threshold) plan = im.compile(*p);
    }
  } else {
    im.unprofiled_calls.fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t t0 = __rdtsc();
  if (plan) {
    run_gemm_plan(*plan, g, *im.workers);
    t = TlsEntry{im.id, im.epoch.load(std::memory_order_acquire), key, p, plan};
  } else {
    (p != nullptr ? p->generic : im.unprofiled_generic).fetch_add(1, std::memory_order_relaxed);
    gemm_generic(g);
  }
  if (p != nullptr) p->cycles.fetch_add(__rdtsc() - t0, std::memory_order_relaxed);
  return {};
}

Expected<uint64_t> KernelEngine::prepare_sgemm(const GemmDesc& desc, float alpha, float beta) {
  TJ_TRY(check_gemm_shape(desc));
  if (impl_->isa == Isa::kScalar) return uint64_t(0);
  RowMajorGemm g = row_major_form(desc, nullptr, nullptr, nullptr);
  g.alpha = alpha, g.beta = beta;
  if (g.m == 0 || g.n == 0 || g.k == 0 || alpha == 0.0f) return uint64_t(0);
  Profile* p = impl_->profile_for(impl_->key_for(g));
  if (p == nullptr) return make_error(ErrorCode::kCompileFailed, "sgemm: profile table is full");
  {
    std::shared_lock lock(impl_->mu);
    if (p->plan) return uint64_t(0);
  }
  auto plan = impl_->compile(*p);
  if (!plan) {
    return make_error(ErrorCode::kCompileFailed,
                      "sgemm: kernel generation failed for " + p->key.to_string());
  }
  return plan->compile_ns;
}

KernelStats KernelEngine::stats() const {
  const Impl& im = *impl_;
  KernelStats s;
  s.calls = im.unprofiled_calls.load(), s.generic_calls = im.unprofiled_generic.load();
  s.compiles = im.compiles.load(), s.evictions = im.evictions.load();
  s.compile_failures = im.compile_failures.load();
  s.compile_ns = im.compile_ns.load();
  s.winograd_convs = im.winograd_convs.load(), s.im2col_convs = im.im2col_convs.load();
  std::shared_lock lock(im.mu);
  s.code_bytes = im.code_bytes;
  for (const auto& [key, p] : im.profiles) {
    uint64_t calls = p->calls.load(), generic = p->generic.load();
    s.calls += calls, s.generic_calls += generic, s.hits += calls - generic;
    s.shapes.push_back(ShapeProfile{"sgemm", key.to_string(), calls, p->cycles.load(),
                                    p->plan != nullptr, p->failed});
  }
  for (const auto& [key, p] : im.op_profiles) {
    uint64_t calls = p->calls.load(), generic = p->generic.load();
    s.calls += calls, s.generic_calls += generic, s.hits += calls - generic;
    s.shapes.push_back(ShapeProfile{key.name(), key.to_string(), calls, p->cycles.load(),
                                    p->kernel != nullptr, p->failed});
  }
  std::sort(s.shapes.begin(), s.shapes.end(),
            [](const ShapeProfile& x, const ShapeProfile& y) { return x.cycles > y.cycles; });
  return s;
}

std::string KernelEngine::stats_text() const {
  KernelStats s = stats();
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line,
                "kernels: isa %s, %d thread(s), threshold %u, cache %zu of %zu bytes\n"
                "calls %llu (generic %llu, compiled %llu), %llu kernel(s) generated in %.1f us, "
                "%llu evicted, %llu generation failure(s) (generic kernel used)\n"
                "conv2d_nhwc: %llu by Winograd F(4x4, 3x3), %llu by im2col\n",
                isa_name(impl_->isa), impl_->threads, impl_->cfg.compile_threshold, s.code_bytes,
                impl_->cfg.cache_bytes, (unsigned long long)s.calls,
                (unsigned long long)s.generic_calls, (unsigned long long)s.hits,
                (unsigned long long)s.compiles, s.compile_ns / 1e3, (unsigned long long)s.evictions,
                (unsigned long long)s.compile_failures, (unsigned long long)s.winograd_convs,
                (unsigned long long)s.im2col_convs);
  out += line;
  for (const auto& sp : s.shapes) {
    std::snprintf(line, sizeof line, "  %s %s: %llu calls, %.0f cycles/call%s\n", sp.op.c_str(),
                  sp.shape.c_str(), (unsigned long long)sp.calls,
                  sp.calls ? double(sp.cycles) / double(sp.calls) : 0.0,
                  sp.compiled ? ", compiled"
                  : sp.failed ? ", generation failed (generic)"
                              : "");
    out += line;
  }
  return out;
}

}  // namespace tierjit::kernels
