// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// KernelEngine internals shared by the GEMM front (kernel_engine.cpp) and the other kernels
// (ops_engine.cpp): per-shape profiles, compiled code, and one LRU bound over all of it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "kernels/gemm_plan.hpp"
#include "kernels/ops.hpp"

namespace tierjit::kernels {

constexpr size_t kMaxProfiles = 1 << 16;  // shapes profiled per engine; later ones run generic
constexpr uint64_t kCycleSample = 16;     // compiled calls are timed 1 in 16

struct Profile {
  GemmKey key;
  std::atomic<uint64_t> calls{0}, generic{0}, cycles{0}, last_use{0};
  std::shared_ptr<GemmPlan> plan;   // guarded by Impl::mu
  std::atomic<bool> failed{false};  // generation failed: stays generic (set under compile_mu)
};

/// One generated row kernel; its code returns to the pool with the last reference.
struct OpKernel {
  OpFn fn = nullptr;
  runtime::CodeBlock code;
  std::shared_ptr<runtime::CodePool> pool;
  uint64_t compile_ns = 0;
  ~OpKernel() {
    if (pool) pool->release(code);
  }
};

struct OpProfile {
  OpKey key;
  std::atomic<uint64_t> calls{0}, generic{0}, cycles{0}, last_use{0};
  std::shared_ptr<OpKernel> kernel;  // guarded by Impl::mu
  std::atomic<bool> failed{false};   // set under compile_mu
};

struct KernelEngine::Impl {
  KernelConfig cfg;
  Isa isa = Isa::kScalar;
  int threads = 1;
  uint64_t id = 0;
  std::shared_ptr<runtime::CodePool> pool;
  std::unique_ptr<ThreadPool> workers;

  mutable std::shared_mutex mu;  // both profile tables, every plan and kernel pointer
  std::unordered_map<GemmKey, std::unique_ptr<Profile>, GemmKeyHash> profiles;
  std::unordered_map<OpKey, std::unique_ptr<OpProfile>, OpKeyHash> op_profiles;
  size_t code_bytes = 0;
  std::atomic<uint64_t> epoch{0};  // bumped when a plan is evicted
  std::mutex compile_mu;

  // Calls are counted per profile (one atomic add on the hot path); these count the rest.
  std::atomic<uint64_t> unprofiled_calls{0}, unprofiled_generic{0};
  std::atomic<uint64_t> compiles{0}, compile_failures{0}, evictions{0}, compile_ns{0};
  std::atomic<uint64_t> clock{0};  // LRU clock: advanced with a plain load + store (approximate)

  Profile* profile_for(const GemmKey& key);
  std::shared_ptr<GemmPlan> compile(Profile& p);
  void install(Profile& p, std::shared_ptr<GemmPlan> plan);
  void evict_locked(const void* keep);
  GemmKey key_for(const RowMajorGemm& g) const;

  /// Counts a call of `key` and returns its kernel when there is one (compiling it at the
  /// threshold), else null: the caller runs run_op_generic. `prof` receives the profile.
  std::shared_ptr<OpKernel> op_dispatch(const OpKey& key, OpProfile*& prof);
  /// Runs one row-kernel call (generated or generic), with cycle accounting.
  void run_op(const OpKey& key, const float* x, const float* x2, float* y, int64_t rows,
              const float* p0 = nullptr, const float* p1 = nullptr);
};

}  // namespace tierjit::kernels
