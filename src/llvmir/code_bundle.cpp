// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Warm starts: the code bundle (a run's bodies merged into one object, with heat).
#include <cstdio>
#include <cstring>

#include "llvmir/internal/orc_impl.hpp"
#include "support/jitdump.hpp"

namespace tierjit::llvmir {

// The bundle: every function body a previous run ended with, merged by lld into one object
// so that a warm start links one object instead of hundreds, with each function's heat so
// that profiles accumulate across runs (a function warm in every run eventually tiers up).
// Payload: "TJB2", u32 count, count x (u32 function id, u32 tier, u64 heat), then the merged
// ELF object.
Status OrcEngine::Impl::load_bundle(orc::JITDylib& jd, std::vector<int>& bundled_tier) {
  if (!options.cache || !options.lazy) return {};
  auto t0 = Clock::now();
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
  if (options.trace)
    options.trace->complete("code bundle", "cache", t0, Clock::now(),
                            {{"bodies", int64_t(count)}, {"source", "cache"}});
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

namespace tierjit::llvmir {

// ---- baseline images ---------------------------------------------------------------------
// Per function: u32 instructions, u32 code size, code, u32 relocations, then per relocation
// u32 offset, u8 kind, i64 addend, u16 name length, name. Little-endian, no padding.
namespace {
template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
bool get(std::string_view& in, T* v) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(v, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}
}  // namespace

std::string detail::serialize_baseline(uint32_t instructions, std::string_view code,
                                       const std::vector<baseline::Relocation>& relocations,
                                       const std::vector<uint32_t>& osr_slots) {
  std::string out;
  put(out, instructions);
  put(out, uint32_t(code.size()));
  out.append(code.data(), code.size());
  put(out, uint32_t(relocations.size()));
  for (const baseline::Relocation& r : relocations) {
    put(out, r.offset);
    put(out, uint8_t(r.kind));
    put(out, r.addend);
    put(out, uint16_t(r.name.size()));
    out.append(r.name.data(), r.name.size());
  }
  put(out, uint32_t(osr_slots.size()));
  for (uint32_t v : osr_slots) put(out, v);
  return out;
}

bool detail::parse_baseline(std::string_view in, uint32_t* instructions, std::string_view* code,
                            std::vector<baseline::Relocation>* relocations,
                            std::vector<uint32_t>* osr_slots) {
  uint32_t size = 0, n = 0;
  if (!get(in, instructions) || !get(in, &size) || in.size() < size) return false;
  *code = in.substr(0, size);
  in.remove_prefix(size);
  if (!get(in, &n) || n > in.size()) return false;
  relocations->resize(n);
  for (baseline::Relocation& r : *relocations) {
    uint8_t kind = 0;
    uint16_t len = 0;
    if (!get(in, &r.offset) || !get(in, &kind) || !get(in, &r.addend) || !get(in, &len) ||
        kind > uint8_t(baseline::SymbolKind::kOsr) || in.size() < len)
      return false;
    r.kind = baseline::SymbolKind(kind);
    r.name = in.substr(0, len);
    in.remove_prefix(len);
  }
  if (!get(in, &n) || n > in.size() / 4) return false;
  osr_slots->resize(n);
  for (uint32_t& v : *osr_slots)
    if (!get(in, &v)) return false;
  return in.empty();
}

// Bundle: "TJBB" u32 count, then per function u32 id, u64 heat, u32 length, image. The heat
// carries over (as the code bundle's does) so that hot functions ask for their higher tier
// at once in the next run instead of counting up again.
void OrcEngine::Impl::write_baseline_bundle() {
  if (!options.cache || !baseline || !program->seen_before()) return;
  std::string payload = "TJBB";
  uint32_t count = 0, fresh = 0;
  payload.append(4, '\0');
  {
    std::lock_guard<std::mutex> lock(program->mutex());
    for (const FunctionInfo& f : program->functions()) {
      FnState& st = fns[f.id];
      std::lock_guard<std::mutex> clock(code_mu);
      // a function that tiered up starts from its cached higher tier next time instead
      if (!st.baseline_code || st.code_tier != 0) continue;
      std::string image = detail::serialize_baseline(
          st.ir_instructions.load(),
          std::string_view(reinterpret_cast<const char*>(st.baseline_code), st.baseline_code_bytes),
          st.baseline_relocations, st.osr_slots);
      put(payload, f.id);
      put(payload, std::atomic_ref<uint64_t>(counters[2 * size_t(f.id) + 1]).load());
      put(payload, uint32_t(image.size()));
      payload += image;
      ++count;
      fresh += !st.from_cache.load();
    }
  }
  // Rewritten when this run compiled new images or tiered some up (the heat and the set
  // changed); a run that only loaded images and left them as they were writes nothing.
  uint64_t tier_ups_now;
  {
    std::lock_guard<std::mutex> lock(stats_mu);
    tier_ups_now = stats.tier_ups;
  }
  if (fresh == 0 && tier_ups_now == 0) return;
  std::memcpy(payload.data() + 4, &count, 4);
  options.cache->store(baseline_bundle_key(), payload);
  TJ_LOG(Channel::kCache, "baseline bundle with {} functions", count);
}

void OrcEngine::Impl::load_baseline_bundle() {
  if (!options.cache || !baseline || !program->seen_before()) return;
  auto t0 = Clock::now();
  std::optional<std::string> payload = options.cache->load(baseline_bundle_key());
  if (!payload) return;
  baseline_bundle_bytes = std::move(*payload);  // relocation names are views into it
  TJ_LOG(Channel::kCache, "baseline bundle read in {:.2f} ms", ms_since(t0));
  std::string_view in(baseline_bundle_bytes);
  uint32_t count = 0;
  if (in.size() < 8 || in.substr(0, 4) != "TJBB") return;
  in.remove_prefix(4);
  get(in, &count);
  // Every data symbol the images name, looked up in one query (one ORC lookup per name
  // would cost more than loading the code).
  {
    std::string_view scan = in;
    std::vector<std::string> names;
    for (uint32_t k = 0; k < count; ++k) {
      uint32_t id = 0, len = 0;
      uint64_t heat = 0;
      if (!get(scan, &id) || !get(scan, &heat) || !get(scan, &len) || scan.size() < len) break;
      uint32_t instructions = 0;
      std::string_view code;
      std::vector<baseline::Relocation> relocs;
      std::vector<uint32_t> slots;
      if (detail::parse_baseline(scan.substr(0, len), &instructions, &code, &relocs, &slots))
        for (const baseline::Relocation& r : relocs)
          if (r.kind == baseline::SymbolKind::kData &&
              !resolved_names.count(std::to_string(int(r.kind)) + std::string(r.name)))
            names.push_back(std::string(r.name));
      scan.remove_prefix(len);
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    auto& es = jit->getExecutionSession();
    orc::SymbolLookupSet set;
    for (const std::string& n : names)
      set.add(es.intern(n), orc::SymbolLookupFlags::WeaklyReferencedSymbol);
    auto found = es.lookup(orc::makeJITDylibSearchOrder(main_jd), std::move(set));
    if (found) {
      for (const std::string& n : names) {
        auto it = found->find(es.intern(n));
        if (it != found->end() && it->second.getAddress())
          resolved_names[std::to_string(int(baseline::SymbolKind::kData)) + n] =
              it->second.getAddress().getValue();
      }
    } else {
      llvm::consumeError(found.takeError());
    }
    TJ_LOG(Channel::kCache, "baseline bundle: {} data symbols looked up at {:.2f} ms", names.size(),
           ms_since(t0));
  }
  uint64_t loaded = 0;
  uint64_t rejected = 0;  // images not used (their functions compile instead): counted
  for (uint32_t k = 0; k < count; ++k) {
    uint32_t id = 0, len = 0;
    uint64_t heat = 0;
    if (!get(in, &id) || !get(in, &heat) || !get(in, &len) || in.size() < len ||
        id >= program->functions().size()) {
      TJ_LOG(Channel::kCache, "baseline bundle malformed: ignored from entry {}", k);
      rejected += count - k;
      break;
    }
    std::string_view image = in.substr(0, len);
    in.remove_prefix(len);
    FnState& st = fns[id];
    if (program->functions()[id].pinned || st.code_tier >= 0) continue;  // bundled objects win
    uint32_t instructions = 0;
    std::string_view code;
    std::vector<baseline::Relocation> relocs;
    std::vector<uint32_t> slots;
    if (!detail::parse_baseline(image, &instructions, &code, &relocs, &slots)) {
      ++rejected;
      continue;
    }
    // Its OSR table: one cell per loop header index the image's checks name.
    uint64_t osr_cells = 0;
    bool bad = false;
    for (const baseline::Relocation& r : relocs)
      if (r.kind == baseline::SymbolKind::kOsr) {
        bad |= r.addend < 0 || r.addend % 8 != 0 || r.addend >= (int64_t(1) << 27);
        osr_cells = std::max<uint64_t>(osr_cells, uint64_t(r.addend / 8) + 1);
      }
    if (bad) {
      ++rejected;
      continue;
    }
    if (osr_cells) {
      st.osr_table = std::make_unique<uint64_t[]>(osr_cells);
      st.osr_size = uint32_t(osr_cells);
    }
    auto entry =
        baseline->load(reinterpret_cast<const uint8_t*>(code.data()), code.size(), relocs,
                       [&](const baseline::Relocation& r) { return resolve_relocation(id, r); });
    if (!entry.ok()) {
      TJ_LOG(Channel::kCache, "baseline image of {} not loaded: {}", program->functions()[id].name,
             entry.error().message);
      ++rejected;
      continue;
    }
    set_cell(id, entry.value().entry);
    if (JitDump* dump = JitDump::get())
      dump->code_load(program->functions()[id].name + "$baseline", entry.value().entry,
                      entry.value().code, entry.value().code_bytes);
    counters[2 * size_t(id) + 1] = heat;
    st.baseline_entry.store(entry.value().entry, std::memory_order_release);
    st.baseline_tried = true;
    st.ir_instructions = instructions;
    st.baseline_code = entry.value().code;
    st.baseline_code_bytes = entry.value().code_bytes;
    st.baseline_relocations = std::move(relocs);
    if (osr_cells) st.osr_slots = std::move(slots);
    st.from_cache = true;
    st.code_tier = 0;
    ++loaded;
  }
  TJ_LOG(Channel::kCache, "baseline bundle: {} functions loaded at {:.2f} ms", loaded,
         ms_since(t0));
  if (options.trace)
    options.trace->complete(
        "baseline images", "cache", t0, Clock::now(),
        {{"bodies", int64_t(loaded)}, {"rejected", int64_t(rejected)}, {"source", "cache"}});
  std::lock_guard<std::mutex> lock(stats_mu);
  stats.baseline_loaded = loaded;
  stats.baseline_rejected = rejected;
  stats.cache_hits += loaded;
}

}  // namespace tierjit::llvmir
