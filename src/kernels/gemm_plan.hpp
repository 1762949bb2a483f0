// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// A GEMM plan: the generated kernels and blocking for one shape, and how to run them.
// Two regimes (chosen per shape in build_gemm_plan):
//   direct  - small operands: one block kernel reads A and B in place (libxsmm's model);
//             transposed B is first copied dense (K x N).
//   packed  - large operands: Goto/BLIS blocking. For each MC x KC block of A (packed into
//             mr-row slivers, L1-resident per sliver) and each KC x NC block of B (packed
//             into nr-column slivers, L2-resident), one block kernel sweeps the tiles.
//             MC/KC/NC come from the detected cache sizes. Threads split the MC blocks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/gemm_jit.hpp"
#include "kernels/gemm_ops.hpp"
#include "kernels/thread_pool.hpp"
#include "runtime/code_pool.hpp"

namespace tierjit::kernels {

/// Everything a generated GEMM depends on.
struct GemmKey {
  Isa isa = Isa::kAvx512;
  bool ta = false, tb = false;
  int64_t m = 0, n = 0, k = 0, lda = 0, ldb = 0, ldc = 0;
  BetaKind beta = BetaKind::kZero;
  bool alpha_one = true;
  int threads = 1;
  bool operator==(const GemmKey&) const = default;
  std::string to_string() const;
};

struct GemmKeyHash {
  size_t operator()(const GemmKey& k) const;
};

enum class GemmRegime : uint8_t { kDirect, kPacked };

/// Forces a regime for tests: TIERJIT_GEMM_PACK=never|always (default: by size).
GemmRegime choose_regime(const GemmKey& key);

struct GemmKernel {
  int64_t mb = 0, nb = 0, kb = 0;
  bool first = true;  ///< first K block: the caller's beta; later blocks accumulate
  BlockFn fn = nullptr;
  runtime::CodeBlock code;
};

struct GemmPlan {
  GemmKey key;
  GemmRegime regime = GemmRegime::kDirect;
  int32_t mr = 0, nv = 0;
  int64_t mc = 0, kc = 0, nc = 0;  ///< packed-regime blocking
  std::vector<GemmKernel> kernels;
  std::shared_ptr<runtime::CodePool> pool;  ///< keeps the code alive as long as the plan
  size_t code_bytes = 0;
  uint64_t compile_ns = 0;

  ~GemmPlan();
  const GemmKernel* find(int64_t mb, int64_t nb, int64_t kb, bool first) const;
};

/// Generates every kernel the shape needs. Errors: kCompileFailed (code pool exhausted,
/// displacements out of range).
Expected<std::shared_ptr<GemmPlan>> build_gemm_plan(const GemmKey& key,
                                                    std::shared_ptr<runtime::CodePool> pool);

/// Runs a plan on operands matching its key.
void run_gemm_plan(const GemmPlan& plan, const RowMajorGemm& g, ThreadPool& threads);

}  // namespace tierjit::kernels
