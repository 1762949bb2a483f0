// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// KernelEngine internals shared by the GEMM front (kernel_engine.cpp) and the other kernels
// (ops_engine.cpp, conv_nhwc.cpp): per-shape profiles, compiled code, and one LRU bound over
// all of it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

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
  std::atomic<uint64_t> winograd_convs{0}, im2col_convs{0};  // conv2d_nhwc calls by algorithm

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

// Argument checks shared by the kernels (errors are kInvalidInput "OP: ...").
Error bad(const char* op, const std::string& msg);
/// Elements of a shape; errors for a bad rank, a negative dimension or more than 2^58.
Expected<int64_t> numel(const char* op, const char* what, std::span<const int64_t> shape);
/// A null buffer is an error when it should hold n > 0 elements.
Status need(const char* op, const char* what, const void* p, int64_t n);
/// An output may be exactly an input of the same size (in place) but not overlap it otherwise.
Status no_overlap(const char* op, const char* what, const float* y, int64_t ny, const float* x,
                  int64_t nx, bool in_place_ok);

/// Element counts of a convolution's operands (either layout: the products are the same).
struct ConvSizes {
  int64_t x = 0, w = 0, y = 0;
};
/// A Conv2dDesc's own checks: strides, dilations, padding, sizes, a non-empty output.
Expected<ConvSizes> conv2d_sizes(const char* op, const Conv2dDesc& d);
/// Buffers present for non-empty operands and y overlapping none of them.
Status check_conv2d_buffers(const char* op, const Conv2dDesc& d, const ConvSizes& sz,
                            const float* x, const float* w, const float* bias, const float* y);

/// A 1x1 stride-1 unpadded filter: the input is the GEMM operand as it is (no im2col).
inline bool pointwise(const Conv2dDesc& d) {
  return d.r == 1 && d.s == 1 && d.stride_h == 1 && d.stride_w == 1 && d.pad_h == 0 && d.pad_w == 0;
}

/// Input and output channels from which conv2d_nhwc takes Winograd's F(4x4, 3x3): below, the
/// transforms cost more than the 4x fewer multiplies save (CNN, 14x14x16 -> 32 at batch 16:
/// 378 us end to end with Winograd at 16 channels, 335 us with im2col).
constexpr int64_t kWinogradMinChannels = 32;
/// Whether conv2d_nhwc runs `d` by Winograd's F(4x4, 3x3).
bool winograd_eligible(const Conv2dDesc& d);
/// The sgemm shapes conv2d_nhwc calls for `d` (what prepare_conv2d_nhwc generates).
std::vector<GemmDesc> conv2d_nhwc_gemms(const Conv2dDesc& d);

}  // namespace tierjit::kernels
