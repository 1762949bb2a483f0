// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Warm starts: the code bundle (a run's bodies merged into one object, with heat).
#include <cstdio>
#include <cstring>

#include "llvmir/internal/orc_impl.hpp"

namespace tierjit::llvmir {

// The bundle: every function body a previous run ended with, merged by lld into one object
// so that a warm start links one object instead of hundreds, with each function's heat so
// that profiles accumulate across runs (a function warm in every run eventually tiers up).
// Payload: "TJB2", u32 count, count x (u32 function id, u32 tier, u64 heat), then the merged
// ELF object.
Status OrcEngine::Impl::load_bundle(orc::JITDylib& jd, std::vector<int>& bundled_tier) {
  if (!options.cache || !options.lazy) return {};
  std::optional<std::string> payload = options.cache->load(bundle_key());
  if (!payload) return {};
  std::string& b = *payload;
  uint32_t count = 0;
  if (b.size() < 8 || b.compare(0, 4, "TJB2") != 0) return {};
  std::memcpy(&count, b.data() + 4, 4);
  constexpr size_t kRow = 16;
  size_t table_end = 8 + size_t(count) * kRow;
  if (table_end > b.size()) return {};
  std::vector<std::pair<uint32_t, uint32_t>> table(count);
  std::vector<uint64_t> heat(count);
  for (uint32_t i = 0; i < count; ++i) {
    std::memcpy(&table[i].first, b.data() + 8 + i * kRow, 4);
    std::memcpy(&table[i].second, b.data() + 12 + i * kRow, 4);
    std::memcpy(&heat[i], b.data() + 16 + i * kRow, 8);
    if (table[i].first >= program->functions().size() ||
        table[i].second > options.policy.levels.size())
      return {};  // not ours (the hash matched, so this would be a tierjit bug): ignore it
  }
  b.erase(0, table_end);
  if (llvm::Error e =
          jit->getObjLinkingLayer().add(jd, own_buffer(std::move(b), "tierjit.bundle"))) {
    // Nothing was defined (definition is atomic): run without the bundle.
    std::fprintf(stderr, "tierjit: warning: code bundle rejected (%s); compiling instead\n",
                 llvm::toString(std::move(e)).c_str());
    return {};
  }
  for (uint32_t i = 0; i < count; ++i) counters[2 * size_t(table[i].first) + 1] = heat[i];
  for (auto& [id, tier] : table) bundled_tier[id] = int(tier);
  bundle_size = count;
  {
    std::lock_guard<std::mutex> lock(stats_mu);
    stats.cache_hits += count;
    stats.bundled = count;
  }
  TJ_LOG(Channel::kCache, "bundle with {} functions", count);
  return {};
}

void OrcEngine::Impl::write_bundle() {
  // Like V8's code cache (produced on a script's second run, consumed from the third), a
  // program's first run does not pay for a bundle: it may never run again.
  if (!options.cache || !options.lazy || !program->seen_before()) return;
  std::vector<std::pair<uint32_t, uint32_t>> table;
  std::vector<std::string> objects;
  {
    std::lock_guard<std::mutex> lock(code_mu);
    // Rewriting costs one lld -r over every body (~0.15 ms each): only when the bundle is
    // missing or 5% of it is stale. Bodies tiered up since come back from the per-function
    // cache when they get hot again.
    if (code_changes == 0) return;
    if (bundle_size && code_changes < std::max<uint32_t>(8, bundle_size / 20)) return;
    for (const FunctionInfo& f : program->functions()) {
      FnState& st = fns[f.id];
      if (st.code_tier < 0 || (st.code_tier == 0 && st.baseline_entry.load() != 0)) continue;
      std::string obj = st.code;
      if (obj.empty()) {  // came from the previous bundle: its own entry is in the cache
        auto cached = options.cache->load(
            cache_key("fn", f.name, extract_options(f, st.code_tier), tier_level(st.code_tier)));
        if (!cached) continue;
        obj = std::move(*cached);
      }
      table.push_back({f.id, uint32_t(st.code_tier)});
      objects.push_back(std::move(obj));
    }
  }
  if (objects.size() < 2) return;
  auto t0 = Clock::now();
  auto merged = merge_objects(objects);
  if (!merged.ok()) {
    TJ_LOG(Channel::kCache, "bundle not written: {}", merged.error().to_string());
    return;
  }
  std::string payload = "TJB2";
  uint32_t count = uint32_t(table.size());
  payload.append(reinterpret_cast<const char*>(&count), 4);
  for (auto& [id, tier] : table) {
    uint64_t heat = std::atomic_ref<uint64_t>(counters[2 * size_t(id) + 1]).load();
    payload.append(reinterpret_cast<const char*>(&id), 4);
    payload.append(reinterpret_cast<const char*>(&tier), 4);
    payload.append(reinterpret_cast<const char*>(&heat), 8);
  }
  payload += merged.value();
  options.cache->store(bundle_key(), payload);
  TJ_LOG(Channel::kCache, "bundle of {} functions written in {:.1f} ms", count, ms_since(t0));
}

}  // namespace tierjit::llvmir
