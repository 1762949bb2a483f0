// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The host function registry and tierjit's standard host functions.
#include "bytecode/host.hpp"

#include <fmt/format.h>

#include <cstring>

#include "bytecode/instance.hpp"

namespace tierjit::bytecode {
namespace {

uint64_t print_i64(Instance& in, const uint64_t* a, uint64_t, void*) {
  fmt::format_to(std::back_inserter(in.output()), "{}\n", static_cast<int64_t>(a[0]));
  return 0;
}
uint64_t print_u64(Instance& in, const uint64_t* a, uint64_t, void*) {
  fmt::format_to(std::back_inserter(in.output()), "{}\n", a[0]);
  return 0;
}
uint64_t print_f64(Instance& in, const uint64_t* a, uint64_t, void*) {
  double d;
  std::memcpy(&d, &a[0], 8);
  fmt::format_to(std::back_inserter(in.output()), "{}\n", d);
  return 0;
}
uint64_t print_f32(Instance& in, const uint64_t* a, uint64_t, void*) {
  float f;
  uint32_t w = static_cast<uint32_t>(a[0]);
  std::memcpy(&f, &w, 4);
  fmt::format_to(std::back_inserter(in.output()), "{}\n", f);
  return 0;
}
uint64_t put_char(Instance& in, const uint64_t* a, uint64_t, void*) {
  in.output() += static_cast<char>(a[0]);
  return a[0] & 0xff;
}
uint64_t write_bytes(Instance& in, const uint64_t* a, uint64_t, void*) {
  uint64_t addr = a[0], len = a[1];
  if (addr > in.memory_size() || len > in.memory_size() - addr) {
    in.host_trap(TJ_TRAP_OUT_OF_BOUNDS);
    return 0;
  }
  in.output().append(reinterpret_cast<const char*>(in.memory() + addr), len);
  return len;
}

}  // namespace

void HostRegistry::add(HostFunction f) {
  for (auto& g : fns_)
    if (g.name == f.name) {
      g = std::move(f);
      return;
    }
  fns_.push_back(std::move(f));
}

const HostFunction* HostRegistry::find(const std::string& name) const {
  for (const auto& f : fns_)
    if (f.name == name) return &f;
  return nullptr;
}

HostRegistry HostRegistry::standard() {
  HostRegistry r;
  r.add({"print_i64", 1, print_i64});
  r.add({"print_u64", 1, print_u64});
  r.add({"print_f64", 1, print_f64});
  r.add({"print_f32", 1, print_f32});
  r.add({"putchar", 1, put_char});
  r.add({"write", 2, write_bytes});
  return r;
}

}  // namespace tierjit::bytecode
