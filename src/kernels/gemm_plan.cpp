// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// GEMM plans: regime and blocking choice, kernel generation into the code pool, execution.
#include "kernels/gemm_plan.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "support/hash.hpp"
#include "support/jitdump.hpp"

namespace tierjit::kernels {
namespace {

int64_t l2_bytes() { return cpu_features().l2_bytes ? cpu_features().l2_bytes : 512 << 10; }

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Splits `total` into equal blocks of at most `max` (a multiple of `unit`, except the last).
int64_t balanced(int64_t total, int64_t max, int64_t unit) {
  int64_t blocks = ceil_div(total, std::max<int64_t>(max, unit));
  return std::min(total, round_up(ceil_div(total, blocks), unit));
}

struct Blocking {
  int64_t mc = 0, kc = 0, nc = 0;
};

// KC: an mr x KC sliver of A fills half of L1; NC: a KC x NC block of B fills half of L2;
// MC: the A block takes a quarter of L3 (or the rows one thread gets).
// TIERJIT_GEMM_BLOCKING=MC,KC,NC overrides the maxima (for tuning).
Blocking packed_blocking(const GemmKey& key, int mr, int nr) {
  const CpuFeatures& f = cpu_features();
  int64_t l1 = f.l1d_bytes ? f.l1d_bytes : 32 << 10;
  int64_t l2 = f.l2_bytes ? f.l2_bytes : 512 << 10;
  int64_t l3 = f.l3_bytes ? f.l3_bytes : 8 << 20;
  Blocking max;
  max.kc = std::clamp<int64_t>(l1 / 2 / (mr * 4) / 8 * 8, 64, 512);
  max.nc = std::max<int64_t>(l2 / 2 / (max.kc * 4) / nr * nr, nr);
  max.mc = std::max<int64_t>(l3 / 4 / (max.kc * 4) / mr * mr, mr);
  if (const char* env = std::getenv("TIERJIT_GEMM_BLOCKING")) {
    long long mc = 0, kc = 0, nc = 0;
    if (std::sscanf(env, "%lld,%lld,%lld", &mc, &kc, &nc) == 3 && mc > 0 && kc > 0 && nc > 0) {
      max = {round_up(mc, mr), kc, round_up(nc, nr)};
    }
  }
  if (key.threads > 1) max.mc = std::min(max.mc, round_up(ceil_div(key.m, key.threads), mr));
  Blocking b;
  b.kc = balanced(key.k, max.kc, 1);
  b.nc = balanced(key.n, max.nc, nr);
  b.mc = balanced(key.m, max.mc, mr);
  return b;
}

BlockSpec base_spec(const GemmKey& key, int32_t mr, int32_t nv) {
  BlockSpec s;
  s.isa = key.isa;
  s.mr = mr;
  s.nv = nv;
  s.ldc = key.ldc * 4;
  s.alpha_one = key.alpha_one;
  return s;
}

Status install(GemmPlan& plan, const BlockSpec& spec, GemmKernel kernel) {
  thread_local std::vector<uint8_t> code;
  TJ_TRY(generate_block(spec, code));
  auto block = plan.pool->acquire(code.size());
  if (!block.ok()) return block.take_error();
  std::memcpy(block->rw, code.data(), code.size());
  if (JitDump* dump = JitDump::get())
    dump->code_load("sgemm microkernel", uint64_t(block->rx), code.data(), code.size());
  kernel.code = *block;
  kernel.fn = reinterpret_cast<BlockFn>(block->rx);
  plan.code_bytes += block->size;
  plan.kernels.push_back(kernel);
  return {};
}

// The distinct sizes of blocks of `b` over `total`: {b} and the remainder.
std::vector<int64_t> block_sizes(int64_t total, int64_t b) {
  std::vector<int64_t> sizes;
  if (total >= b) sizes.push_back(b);
  if (total % b != 0) sizes.push_back(total % b);
  return sizes;
}

Status build_direct(GemmPlan& plan) {
  const GemmKey& k = plan.key;
  BlockSpec s = base_spec(k, plan.mr, plan.nv);
  s.m = int32_t(k.m), s.n = int32_t(k.n), s.k = int32_t(k.k);
  s.a_row = k.ta ? 4 : k.lda * 4;
  s.a_k = k.ta ? k.lda * 4 : 4;
  s.a_tile = s.a_row * plan.mr;
  s.b_k = (k.tb ? k.n : k.ldb) * 4;
  s.b_tile = int64_t(plan.nv) * vector_lanes(k.isa) * 4;
  s.beta = k.beta;
  // B does not fit in L2 but A does: walk B panels outermost, each read once from memory.
  int64_t l2 = l2_bytes();
  s.j_outer = k.m * k.k * 4 <= l2 / 4 && k.k * k.n * 4 > l2 / 2;
  return install(plan, s, GemmKernel{k.m, k.n, k.k, true, nullptr, {}});
}

Status build_packed(GemmPlan& plan) {
  const GemmKey& k = plan.key;
  int nr = plan.nv * vector_lanes(k.isa);
  Blocking bl = packed_blocking(k, plan.mr, nr);
  plan.mc = bl.mc, plan.kc = bl.kc, plan.nc = bl.nc;
  // (kb, first) pairs: the first K block carries the caller's beta.
  std::vector<std::pair<int64_t, bool>> kinds{{std::min(k.k, bl.kc), true}};
  for (int64_t kb : block_sizes(k.k - kinds[0].first, bl.kc)) kinds.push_back({kb, false});
  for (int64_t mb : block_sizes(k.m, bl.mc)) {
    for (int64_t nb : block_sizes(k.n, bl.nc)) {
      for (auto [kb, first] : kinds) {
        BlockSpec s = base_spec(k, plan.mr, plan.nv);
        s.m = int32_t(mb), s.n = int32_t(nb), s.k = int32_t(kb);
        s.a_row = 4, s.a_k = plan.mr * 4, s.a_tile = int64_t(plan.mr) * kb * 4;
        s.b_k = nr * 4, s.b_tile = int64_t(nr) * kb * 4;
        s.beta = first ? k.beta : BetaKind::kOne;
        TJ_TRY(install(plan, s, GemmKernel{mb, nb, kb, first, nullptr, {}}));
      }
    }
  }
  return {};
}

// 64-byte aligned per-thread scratch for packed operands.
struct Scratch {
  float* data = nullptr;
  size_t floats = 0;
  ~Scratch() { std::free(data); }
  float* get(size_t n) {
    if (n > floats) {
      std::free(data);
      floats = round_up(int64_t(n), 16);
      data = static_cast<float*>(std::aligned_alloc(64, floats * 4));
    }
    return data;
  }
};

void run_packed(const GemmPlan& plan, const RowMajorGemm& g, ThreadPool& threads) {
  int nr = plan.nv * vector_lanes(plan.key.isa);
  float ab[2] = {g.alpha, g.beta};
  int64_t mblocks = ceil_div(g.m, plan.mc);
  threads.run(int(mblocks), [&](int task) {
    thread_local Scratch apack, bpack;
    int64_t i0 = task * plan.mc, mb = std::min(plan.mc, g.m - i0);
    float* abuf = apack.get(size_t(round_up(plan.mc, plan.mr) * plan.kc));
    float* bbuf = bpack.get(size_t(plan.kc * round_up(plan.nc, nr)));
    for (int64_t p0 = 0; p0 < g.k; p0 += plan.kc) {
      int64_t kb = std::min(plan.kc, g.k - p0);
      pack_a(g, i0, p0, mb, kb, plan.mr, abuf);
      for (int64_t j0 = 0; j0 < g.n; j0 += plan.nc) {
        int64_t nb = std::min(plan.nc, g.n - j0);
        pack_b(g, p0, j0, kb, nb, nr, bbuf);
        const GemmKernel* kern = plan.find(mb, nb, kb, p0 == 0);
        kern->fn(abuf, bbuf, g.c + i0 * g.ldc + j0, ab);
      }
    }
  });
}

}  // namespace

std::string GemmKey::to_string() const {
  static const char* kBeta[] = {"b0", "b1", "b*"};
  char buf[192];
  std::snprintf(buf, sizeof buf, "%c%c %lldx%lldx%lld lda=%lld ldb=%lld ldc=%lld %s %s %s t%d",
                ta ? 'T' : 'N', tb ? 'T' : 'N', (long long)m, (long long)n, (long long)k,
                (long long)lda, (long long)ldb, (long long)ldc, alpha_one ? "a1" : "a*",
                kBeta[int(beta)], isa_name(isa), threads);
  return buf;
}

size_t GemmKeyHash::operator()(const GemmKey& k) const {
  int64_t fields[] = {int64_t(k.isa),  k.ta,        k.tb,     k.m, k.n, k.k, k.lda, k.ldb, k.ldc,
                      int64_t(k.beta), k.alpha_one, k.threads};
  return size_t(hash64(std::string_view(reinterpret_cast<const char*>(fields), sizeof fields)));
}

GemmRegime choose_regime(const GemmKey& key) {
  if (const char* env = std::getenv("TIERJIT_GEMM_PACK")) {
    if (std::strcmp(env, "always") == 0) return GemmRegime::kPacked;
    if (std::strcmp(env, "never") == 0) return GemmRegime::kDirect;
  }
  // Operands that fit in L2 need no packing; neither does a short M (each B element is used
  // by at most a couple of row tiles, so packing B would cost as much as the product), nor a
  // small A (up to 1/6 of L2: it stays cached while B streams past once, measured better on
  // 64..128 x 3136 x 256..576, the 1x1 and 3x3 convolution shapes; 256 KiB of A is not).
  int64_t footprint = (key.m * key.k + key.k * key.n + key.m * key.n) * 4;
  bool small_a = key.m * key.k * 4 <= l2_bytes() / 6;
  return footprint <= l2_bytes() || key.m <= 32 || small_a ? GemmRegime::kDirect
                                                           : GemmRegime::kPacked;
}

GemmPlan::~GemmPlan() {
  for (auto& k : kernels) pool->release(k.code);
}

const GemmKernel* GemmPlan::find(int64_t mb, int64_t nb, int64_t kb, bool first) const {
  for (const auto& k : kernels) {
    if (k.mb == mb && k.nb == nb && k.kb == kb && k.first == first) return &k;
  }
  return nullptr;
}

Expected<std::shared_ptr<GemmPlan>> build_gemm_plan(const GemmKey& key,
                                                    std::shared_ptr<runtime::CodePool> pool) {
  auto start = std::chrono::steady_clock::now();
  auto plan = std::make_shared<GemmPlan>();
  plan->key = key;
  plan->pool = std::move(pool);
  plan->regime = choose_regime(key);
  // B slivers stream from L2 when packed, or when K x 8 vectors of B exceed half of L1.
  int64_t l1 = cpu_features().l1d_bytes ? cpu_features().l1d_bytes : 32 << 10;
  bool b_from_l2 =
      plan->regime == GemmRegime::kPacked || key.k * 8 * vector_lanes(key.isa) * 4 > l1 / 2;
  choose_tile(key.isa, key.m, key.n, b_from_l2, plan->mr, plan->nv);
  if (const char* env = std::getenv("TIERJIT_GEMM_TILE")) {  // MR,NV override (for tuning)
    int mr = 0, nv = 0;
    if (std::sscanf(env, "%d,%d", &mr, &nv) == 2 && nv >= 1 && nv <= 8 && mr >= 1 &&
        mr * nv + nv + 1 <= (key.isa == Isa::kAvx512 ? 32 : 15)) {
      plan->mr = mr, plan->nv = nv;
    }
  }
  if (plan->regime == GemmRegime::kDirect) {
    BlockSpec probe = base_spec(key, plan->mr, plan->nv);
    probe.a_row = key.ta ? 4 : key.lda * 4;
    probe.a_k = key.ta ? key.lda * 4 : 4;
    probe.a_tile = probe.a_row * plan->mr;
    probe.b_k = (key.tb ? key.n : key.ldb) * 4;
    if (!encodable(probe) || key.m > INT32_MAX || key.n > INT32_MAX || key.k > INT32_MAX) {
      plan->regime = GemmRegime::kPacked;  // strides too large for displacements
    }
  }
  Status st = plan->regime == GemmRegime::kDirect ? build_direct(*plan) : build_packed(*plan);
  if (!st.ok()) return st.take_error();
  plan->compile_ns = uint64_t(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count());
  return plan;
}

void run_gemm_plan(const GemmPlan& plan, const RowMajorGemm& g, ThreadPool& threads) {
  if (plan.regime == GemmRegime::kPacked) {
    run_packed(plan, g, threads);
    return;
  }
  float ab[2] = {g.alpha, g.beta};
  const float* b = g.b;
  if (g.tb) {
    thread_local Scratch dense;
    float* buf = dense.get(size_t(g.k * g.n));
    pack_b(g, 0, 0, g.k, g.n, int(g.n), buf);
    b = buf;
  }
  plan.kernels[0].fn(g.a, b, g.c, ab);
}

}  // namespace tierjit::kernels
