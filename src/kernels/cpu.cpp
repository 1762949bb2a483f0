// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// CPU feature and cache detection with cpuid + xgetbv, and the TIERJIT_ISA override.
// Sources: Intel SDM vol. 2A "CPUID" (leaves 1, 4, 7; XCR0 bits 1-2 and 5-7), AMD APM vol. 3
// appendix E (leaves 0x80000005/6 and 0x8000001D cache descriptors).
#include <cpuid.h>

#include <cstdlib>
#include <cstring>

#include "tierjit/kernels.hpp"

namespace tierjit::kernels {
namespace {

struct Regs {
  uint32_t a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(uint32_t leaf, uint32_t sub = 0) {
  Regs r;
  __cpuid_count(leaf, sub, r.a, r.b, r.c, r.d);
  return r;
}

uint64_t xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

bool bit(uint32_t v, int n) { return (v >> n) & 1u; }

// Deterministic cache parameters: leaf 4 (Intel) or 0x8000001D (AMD), same register layout.
void detect_caches(CpuFeatures& f, uint32_t leaf) {
  for (uint32_t sub = 0; sub < 16; ++sub) {
    Regs r = cpuid(leaf, sub);
    uint32_t type = r.a & 0x1f;  // 0 none, 1 data, 2 instruction, 3 unified
    if (type == 0) break;
    if (type == 2) continue;
    uint32_t level = (r.a >> 5) & 7;
    uint64_t ways = ((r.b >> 22) & 0x3ff) + 1, parts = ((r.b >> 12) & 0x3ff) + 1;
    uint64_t line = (r.b & 0xfff) + 1, sets = uint64_t(r.c) + 1;
    auto bytes = uint32_t(ways * parts * line * sets);
    if (level == 1) f.l1d_bytes = bytes;
    if (level == 2) f.l2_bytes = bytes;
    if (level == 3) f.l3_bytes = bytes;
  }
}

CpuFeatures detect() {
  CpuFeatures f;
  Regs v = cpuid(0);
  char vendor[13] = {};
  std::memcpy(vendor, &v.b, 4);
  std::memcpy(vendor + 4, &v.d, 4);
  std::memcpy(vendor + 8, &v.c, 4);
  f.vendor = vendor;
  uint32_t max_leaf = v.a;
  uint32_t max_ext = cpuid(0x80000000).a;
  if (max_ext >= 0x80000004) {
    char brand[49] = {};
    for (uint32_t i = 0; i < 3; ++i) {
      Regs r = cpuid(0x80000002 + i);
      std::memcpy(brand + 16 * i, &r, 16);
    }
    f.brand = brand;
    while (!f.brand.empty() && f.brand.back() == ' ') f.brand.pop_back();
  }
  Regs l1 = cpuid(1);
  f.sse2 = bit(l1.d, 26);
  bool osxsave = bit(l1.c, 27);
  uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  f.os_ymm = (xcr0 & 0x6) == 0x6;
  f.os_zmm = f.os_ymm && (xcr0 & 0xe0) == 0xe0;
  f.avx = bit(l1.c, 28) && f.os_ymm;
  f.fma = bit(l1.c, 12) && f.os_ymm;
  if (max_leaf >= 7) {
    Regs l7 = cpuid(7, 0);
    f.avx2 = bit(l7.b, 5) && f.os_ymm;
    f.avx512f = bit(l7.b, 16) && f.os_zmm;
    f.avx512dq = bit(l7.b, 17) && f.os_zmm;
    f.avx512bw = bit(l7.b, 30) && f.os_zmm;
    f.avx512vl = bit(l7.b, 31) && f.os_zmm;
    f.avx512vnni = bit(l7.c, 11) && f.os_zmm;
    if (l7.a >= 1) f.avx512bf16 = bit(cpuid(7, 1).a, 5) && f.os_zmm;
  }
  if (f.vendor == "AuthenticAMD" && max_ext >= 0x8000001D) {
    detect_caches(f, 0x8000001D);
  } else if (max_leaf >= 4) {
    detect_caches(f, 4);
  }
  if (f.l1d_bytes == 0 && max_ext >= 0x80000006) {  // older AMD: legacy descriptors
    f.l1d_bytes = (cpuid(0x80000005).c >> 24) * 1024;
    f.l2_bytes = (cpuid(0x80000006).c >> 16) * 1024;
  }
  if (f.avx2 && f.fma) f.best = Isa::kAvx2;
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq) f.best = Isa::kAvx512;
  return f;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "?";
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

Expected<Isa> parse_isa(const std::string& name) {
  Isa isa;
  if (name == "scalar") {
    isa = Isa::kScalar;
  } else if (name == "avx2") {
    isa = Isa::kAvx2;
  } else if (name == "avx512") {
    isa = Isa::kAvx512;
  } else {
    return make_error(ErrorCode::kUsage,
                      "unknown ISA '" + name + "' (expected scalar, avx2 or avx512)");
  }
  if (isa > cpu_features().best) {
    return make_error(ErrorCode::kUnsupported,
                      std::string("this CPU cannot run ") + isa_name(isa) +
                          " kernels (best: " + isa_name(cpu_features().best) + ")");
  }
  return isa;
}

Expected<Isa> default_isa() {
  const char* env = std::getenv("TIERJIT_ISA");
  if (env == nullptr || *env == '\0') return cpu_features().best;
  auto isa = parse_isa(env);
  if (!isa.ok()) {
    Error e = isa.take_error();
    e.message = "TIERJIT_ISA: " + e.message;
    return e;
  }
  return isa;
}

}  // namespace tierjit::kernels
