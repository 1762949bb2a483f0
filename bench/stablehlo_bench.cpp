// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// One StableHLO model through tierjit's compiled path and the reference evaluator:
//   bench_stablehlo MODEL.mlir IN.npy... --out OUT.npy [--iters N] [--ref-iters N]
// Prints "first_compile_ms W" (the process's first compile), "compile_ms X" (a second one;
// both without the object cache), "cached_compile_ms C" (a compile answered by the object
// cache, in a private directory the run fills first), "compiled_us Y" (median of N timed runs after
// one warm-up) and "reference_us Z" (median of
// --ref-iters runs; 0 skips it), and writes the compiled result (the first one) to OUT.npy for the
// caller to compare. bench/stablehlo/run drives it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tierjit/stablehlo.hpp"

namespace {

using tierjit::stablehlo::ExecutionPath;
using tierjit::stablehlo::Program;
using tierjit::stablehlo::Tensor;

int fail(const std::string& what) {
  std::fprintf(stderr, "bench_stablehlo: %s\n", what.c_str());
  return 1;
}

double median_us(Program& p, const std::vector<Tensor>& in, int iters, std::vector<Tensor>* out) {
  std::vector<double> t;
  for (int i = 0; i < iters; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = p.run("main", in);
    t.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    if (!r.ok()) {
      std::fprintf(stderr, "bench_stablehlo: %s\n", r.error().to_string().c_str());
      std::exit(1);
    }
    if (out) *out = std::move(*r);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, out_path;
  std::vector<std::string> inputs;
  int iters = 200, ref_iters = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--out" && i + 1 < argc) {
      out_path = argv[++i];
    } else if (a == "--iters" && i + 1 < argc) {
      iters = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--ref-iters" && i + 1 < argc) {
      ref_iters = std::max(0, std::atoi(argv[++i]));
    } else if (model.empty()) {
      model = a;
    } else {
      inputs.push_back(a);
    }
  }
  if (model.empty()) return fail("usage: bench_stablehlo MODEL.mlir IN.npy... --out OUT.npy");
  std::ifstream f(model);
  std::stringstream ss;
  ss << f.rdbuf();
  auto prog = Program::parse(ss.str(), model);
  if (!prog.ok()) return fail(prog.error().to_string());
  // As a user does: the compiled path is chosen, then the weights are read (LLVM's start-up
  // runs meanwhile on the other core, unless TIERJIT_NO_LLVM_WARM_UP is set).
  (*prog)->set_path(ExecutionPath::kCompiled);
  std::vector<Tensor> in;
  for (const auto& p : inputs) {
    auto t = tierjit::stablehlo::read_npy(p);
    if (!t.ok()) return fail(t.error().to_string());
    in.push_back(std::move(*t));
  }
  // The first compile in a process also pays whatever of LLVM's one-time start-up the
  // warm-up has not (target registration, cold code); a runtime compiles many models, so the
  // second compile is the steady state. Both are printed.
  double first_ms = 0;
  {
    auto warm = Program::parse(ss.str(), model);
    if (!warm.ok()) return fail(warm.error().to_string());
    (*warm)->set_object_cache(false);
    auto c = (*warm)->compile("main");
    if (!c.ok()) return fail(c.error().to_string());
    first_ms = *c;
  }
  double cached_ms = 0;
  {
    char dir[] = "/tmp/tierjit-bench-cache-XXXXXX";
    if (!mkdtemp(dir)) return fail("mkdtemp failed");
    for (int k = 0; k < 2; ++k) {  // the first compile stores, the second loads
      auto c = Program::parse(ss.str(), model);
      if (!c.ok()) return fail(c.error().to_string());
      (*c)->set_object_cache(true, dir);
      auto ms = (*c)->compile("main");
      if (!ms.ok()) return fail(ms.error().to_string());
      cached_ms = *ms;
    }
    std::filesystem::remove_all(dir);
  }
  Program& p = **prog;
  p.set_path(ExecutionPath::kCompiled);
  p.set_object_cache(false);
  auto ms = p.compile("main");
  if (!ms.ok()) return fail(ms.error().to_string());
  std::vector<Tensor> res;
  median_us(p, in, 1, &res);  // warm-up
  double us = median_us(p, in, iters, &res);
  double ref = 0;
  if (ref_iters > 0) {
    p.set_path(ExecutionPath::kReference);
    ref = median_us(p, in, ref_iters, nullptr);
  }
  std::printf(
      "first_compile_ms %.3f\ncompile_ms %.3f\ncached_compile_ms %.3f\ncompiled_us %.3f\n"
      "reference_us %.3f\n",
      first_ms, *ms, cached_ms, us, ref);
  if (!out_path.empty() && !res.empty()) {
    if (auto st = tierjit::stablehlo::write_npy(out_path, res[0]); !st.ok())
      return fail(st.error().to_string());
  }
  return 0;
}
