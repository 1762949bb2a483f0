// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "backend/vector_math.hpp"

#include <dlfcn.h>
#include <llvm/Analysis/TargetLibraryInfo.h>

#include <cstdlib>
#include <mutex>
#include <tuple>

namespace tierjit::backend {

namespace {

// libm functions of one double argument with libmvec variants (glibc 2.35+), and of two.
constexpr const char* kUnary[] = {
    "exp",  "expm1", "exp2", "log",  "log1p", "log2",  "log10", "sin",   "cos",  "tan", "sinh",
    "cosh", "tanh",  "asin", "acos", "atan",  "asinh", "acosh", "atanh", "cbrt", "erf", "erfc"};
constexpr const char* kBinary[] = {"pow", "atan2", "hypot"};

std::vector<VectorFunction> load() {
  std::vector<VectorFunction> out;
  if (std::getenv("TIERJIT_NO_VECTOR_MATH") != nullptr) return out;
  __builtin_cpu_init();
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  bool avx512 = avx2 && __builtin_cpu_supports("avx512f");
  if (!avx2) return out;
  // Never closed: the JIT's code keeps calling into it.
  void* lib = dlopen("libmvec.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return out;
  auto add = [&](const char* name, bool two) {
    const char* params = two ? "vv" : "v";
    for (auto [isa, lanes, ok] : {std::tuple{'d', 4u, avx2}, std::tuple{'e', 8u, avx512}}) {
      if (!ok) continue;
      std::string n = std::to_string(lanes);
      VectorFunction f;
      f.scalar = name;
      f.vector = std::string("_ZGV") + isa + "N" + n + params + "_" + name;
      f.vabi_prefix = "_ZGV_LLVM_N" + n + params;
      f.lanes = lanes;
      f.address = dlsym(lib, f.vector.c_str());
      if (f.address != nullptr) out.push_back(std::move(f));
    }
  };
  for (const char* name : kUnary) add(name, false);
  for (const char* name : kBinary) add(name, true);
  return out;
}

}  // namespace

const std::vector<VectorFunction>& libmvec_functions() {
  static const std::vector<VectorFunction> fns = load();
  return fns;
}

void add_vector_functions(llvm::TargetLibraryInfoImpl& tlii,
                          const std::vector<VectorFunction>& fns) {
  std::vector<llvm::VecDesc> descs;
  descs.reserve(fns.size());
  for (const VectorFunction& f : fns)
    descs.emplace_back(f.scalar, f.vector, llvm::ElementCount::getFixed(f.lanes), false,
                       f.vabi_prefix, std::nullopt);
  tlii.addVectorizableFunctions(descs);
}

}  // namespace tierjit::backend
