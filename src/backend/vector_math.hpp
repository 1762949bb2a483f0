// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// glibc's vector math library (libmvec) as the loop vectorizer sees it. A loop that calls
// tanh or exp on every element is scalar unless the optimizer knows a vector variant; LLVM's
// own LIBMVEC table lists only sin, cos, tan, exp, log and pow for x86, so this one lists what
// glibc 2.35 and later provide for double: the x86-64 vector function ABI variants
// _ZGVdN4v_NAME (AVX2, 4 lanes) and _ZGVeN8v_NAME (AVX-512, 8 lanes), "vv" for two arguments
// (Intel, "Vector Function Application Binary Interface Specification for OpenMP SIMD").
//
// Accuracy: glibc documents the vector variants within 4 ulp of the exact result in double
// (libm-test-ulps); callers that need the scalar function's exact bits mark their call sites
// nobuiltin, which keeps them out of the vectorizer's reach.
#pragma once

#include <string>
#include <vector>

namespace llvm {
class TargetLibraryInfoImpl;
}

namespace tierjit::backend {

/// One vector variant: `vector` computes `scalar` on `lanes` doubles at once.
struct VectorFunction {
  std::string scalar;       ///< "tanh"
  std::string vector;       ///< "_ZGVeN8v_tanh"
  std::string vabi_prefix;  ///< "_ZGV_LLVM_N8v": LLVM's name for the variant's shape
  unsigned lanes = 0;
  void* address = nullptr;  ///< in this process (libmvec.so.1, loaded once, never unloaded)
};

/// The variants this CPU can run (AVX2 and, where present, AVX-512), resolved in
/// libmvec.so.1 on the first call; empty when the library or the CPU features are missing,
/// or when TIERJIT_NO_VECTOR_MATH is set. Thread-safe; the list lives as long as the process.
const std::vector<VectorFunction>& libmvec_functions();

/// Registers `fns` with a TargetLibraryInfoImpl (which keeps pointers into them: they must
/// outlive it, as libmvec_functions()' do).
void add_vector_functions(llvm::TargetLibraryInfoImpl& tlii,
                          const std::vector<VectorFunction>& fns);

}  // namespace tierjit::backend
