// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// `tierjit stablehlo-test DIR`: the StableHLO conformance runner. Every .mlir file under DIR
// (the StableHLO project's testdata/ and interpret/ forms) is parsed and every argument-less
// public function in it is run by the reference evaluator; the file passes when all of its
// check ops pass. One line per failure or skip with the reason, then the counts.
#include "cli/stablehlo.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/commands.hpp"
#include "stablehlo/compiled.hpp"
#include "stablehlo/evaluator.hpp"
#include "stablehlo/verifier.hpp"
#include "support/file.hpp"
#include "support/progress.hpp"
#include "tierjit/stablehlo.hpp"

namespace tierjit::cli {
namespace {

namespace fs = std::filesystem;

struct TestArgs {
  std::string dir;
  std::string path = "reference";
  long expect_passed = -1;
};

enum class Outcome { kPass, kFail, kSkip };

// Element types the front end does not support yet: their files are skips, not failures.
bool unsupported_type(const Error& e) {
  return e.code == ErrorCode::kUnsupported &&
         (e.message.find("element type") != std::string::npos ||
          e.message.find("complex") != std::string::npos);
}

// `path`: "reference", "compiled" or "both" (a file passes only when every path passes).
Outcome run_file(const fs::path& p, const std::string& path, std::string& reason) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::string head = text.substr(0, 2000);
  if (head.find("RUN-DISABLED") != std::string::npos) {
    reason = "RUN-DISABLED in the file";
    return Outcome::kSkip;
  }
  auto modules = shlo::parse_mlir(text, p.filename().string());
  if (!modules.ok()) {
    reason = modules.error().to_string();
    return Outcome::kFail;
  }
  for (const auto& m : *modules) {
    if (Status v = shlo::verify_module(m, p.filename().string()); !v.ok()) {
      reason = v.error().to_string();
      return Outcome::kFail;
    }
  }
  bool ref = path != "compiled", comp = path != "reference";
  for (int pass = 0; pass < 2; ++pass) {
    if ((pass == 0 && !ref) || (pass == 1 && !comp)) continue;
    const char* tag = pass == 0 ? "" : "[compiled] ";
    int ran = 0, checks = 0;
    for (const auto& m : *modules) {
      std::vector<std::string> entries;
      for (const auto& f : m.funcs)
        if (f.is_public && f.args.empty()) entries.push_back(f.name);
      ran += int(entries.size());
      if (entries.empty()) continue;
      const shlo::CheckOutcome* outcome = nullptr;
      std::unique_ptr<shlo::Evaluator> ev;
      std::unique_ptr<shlo::CompiledModule> cm;
      Status st;
      if (pass == 0) {
        ev = std::make_unique<shlo::Evaluator>(m, p.filename().string());
        for (const auto& name : entries) {
          auto r = ev->call(name, {});
          if (!r.ok()) {
            st = r.take_error();
            break;
          }
        }
        outcome = &ev->checks();
      } else {
        auto c = shlo::CompiledModule::create(m, p.filename().string(), entries);
        if (!c.ok()) {
          st = c.take_error();
        } else {
          cm = std::move(*c);
          for (const auto& name : entries) {
            auto r = cm->call(name, {});
            if (!r.ok()) {
              st = r.take_error();
              break;
            }
          }
          outcome = &cm->checks();
        }
      }
      if (!st.ok()) {
        reason = tag + st.error().to_string();
        return unsupported_type(st.error()) ? Outcome::kSkip : Outcome::kFail;
      }
      checks += outcome->checks;
      if (!outcome->failures.empty()) {
        reason = tag + outcome->failures.front();
        if (outcome->failures.size() > 1) {
          reason += " (and " + std::to_string(outcome->failures.size() - 1) + " more)";
        }
        return Outcome::kFail;
      }
    }
    if (ran == 0) {
      reason = "no argument-less public function to run";
      return Outcome::kSkip;
    }
    // A file without check ops (interpret/after_all.mlir) passes by running without error,
    // as in the StableHLO project's own test runs; one with checks must run some.
    if (checks == 0 && text.find("check.") != std::string::npos) {
      reason = std::string(tag) + "no check op ran";
      return Outcome::kFail;
    }
  }
  return Outcome::kPass;
}

// A skip's reason without its path tag, location and op name, so that skips group by cause:
// "[compiled] f.mlir:3:5: stablehlo.add: element type 'i4' is not supported" (or "call: ...")
// becomes
// "element type 'i4' is not supported".
std::string skip_class(std::string reason) {
  if (reason.rfind("[compiled] ", 0) == 0) reason.erase(0, 11);
  size_t loc = reason.find(": ");
  if (loc != std::string::npos && reason.find(".mlir:") < loc) reason.erase(0, loc + 2);
  if (size_t type = reason.find("element type '"); type != std::string::npos)
    return reason.substr(type);   // "result tensor<4xf6E2M3FN>: element type ..." too
  size_t op = reason.find(": ");  // an op name: one word, no quotes
  if (op != std::string::npos && reason.find_first_of(" '\"") > op) reason.erase(0, op + 2);
  return reason;
}

int stablehlo_test(const TestArgs& a) {
  if (a.path != "reference" && a.path != "compiled" && a.path != "both") {
    return report(make_error(ErrorCode::kUsage,
                             "stablehlo-test: --path must be reference, "
                             "compiled or both, not '" +
                                 a.path + "'"));
  }
  std::error_code ec;
  if (!fs::is_directory(a.dir, ec)) {
    return report(
        make_error(ErrorCode::kFileNotFound, "stablehlo-test: " + a.dir + ": not a directory"));
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(a.dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".mlir") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  long passed = 0, failed = 0, skipped = 0;
  std::map<std::string, long> skip_reasons;
  Progress bar("stablehlo-test " + a.dir, files.size());
  for (const auto& p : files) {
    std::string reason;
    Outcome o = run_file(p, a.path, reason);
    bar.update(uint64_t(passed + failed + skipped + 1));
    if (o != Outcome::kPass) bar.clear();  // a FAIL/SKIP line starts on a clean line
    std::string rel = fs::relative(p, a.dir, ec).string();
    if (o == Outcome::kPass) {
      ++passed;
    } else if (o == Outcome::kFail) {
      ++failed;
      std::printf("FAIL %s: %s\n", rel.c_str(), reason.c_str());
    } else {
      ++skipped;
      ++skip_reasons[skip_class(reason)];
      std::printf("SKIP %s: %s\n", rel.c_str(), reason.c_str());
    }
  }
  bar.clear();
  if (!skip_reasons.empty()) {
    std::vector<std::pair<long, std::string>> by_count;
    for (const auto& [why, n] : skip_reasons) by_count.emplace_back(-n, why);
    std::sort(by_count.begin(), by_count.end());
    std::printf("skipped, by reason:\n");
    for (const auto& [n, why] : by_count) std::printf("%7ld %s\n", -n, why.c_str());
  }
  std::printf("%ld passed, %ld failed, %ld skipped\n", passed, failed, skipped);
  std::fflush(stdout);
  if (a.expect_passed >= 0) {
    if (passed >= a.expect_passed) return 0;
    std::fprintf(stderr, "tierjit: stablehlo-test: %ld passed, fewer than the expected %ld\n",
                 passed, a.expect_passed);
    return 1;
  }
  return failed == 0 ? 0 : 1;
}

// Prints a tensor as "tensor<2x3xf32> [[1, 2, 3], [4, 5, 6]]", at most 64 elements.
void print_tensor(const stablehlo::Tensor& t) {
  std::string type = "tensor<";
  for (int64_t d : t.shape) type += std::to_string(d) + "x";
  type += std::string(stablehlo::dtype_name(t.dtype)) + ">";
  std::printf("%s", type.c_str());
  // Decode through the evaluator's element rules.
  int w = stablehlo::dtype_size(t.dtype);
  int64_t n = t.size();
  std::printf(" [");
  for (int64_t k = 0; k < n && k < 64; ++k) {
    uint64_t bits = 0;
    for (int b = w - 1; b >= 0; --b) bits = (bits << 8) | t.data[size_t(k) * size_t(w) + size_t(b)];
    auto et = shlo::parse_elem_type(stablehlo::dtype_name(t.dtype));
    if (!et.ok()) break;
    if (shlo::is_float(*et)) {
      std::printf("%s%.9g", k ? ", " : "", shlo::float_from_bits(*et, bits));
    } else {
      std::printf("%s%lld", k ? ", " : "", (long long)shlo::wrap_int(*et, int64_t(bits)));
    }
  }
  std::printf("%s]\n", n > 64 ? ", ..." : "");
}

}  // namespace

int run_stablehlo(const StablehloRun& r) {
  const std::string &path = r.path, &entry = r.entry, &tier = r.tier;
  const std::vector<std::string>&inputs = r.inputs, &outputs = r.outputs;
  auto prog = stablehlo::Program::parse(r.text, path);
  if (!prog.ok()) return report(prog.error());
  std::string fn = entry.empty() ? "main" : entry;
  auto sig = (*prog)->signature(fn);
  if (!sig.ok()) return report(sig.error());
  if (inputs.size() != sig->size()) {
    return report(
        make_error(ErrorCode::kUsage, "@" + fn + " takes " + std::to_string(sig->size()) +
                                          " inputs; give one --input FILE.npy for each (" +
                                          std::to_string(inputs.size()) + " given)"));
  }
  // Chosen before the inputs are read: LLVM's start-up overlaps the reading.
  if (tier != "interp") (*prog)->set_path(stablehlo::ExecutionPath::kCompiled);
  std::vector<stablehlo::Tensor> args;
  for (size_t k = 0; k < inputs.size(); ++k) {
    auto t = stablehlo::read_npy(inputs[k], &(*sig)[k].dtype);
    if (!t.ok()) return report(t.error());
    args.push_back(std::move(*t));
  }
  if (tier != "interp") {
    (*prog)->set_object_cache(r.cache, r.cache_dir);
    auto ms = (*prog)->compile(fn);
    if (!ms.ok()) return report(ms.error());
    if (r.stats) std::fprintf(stderr, "tierjit: @%s compiled in %.2f ms\n", fn.c_str(), *ms);
  }
  auto res = (*prog)->run(fn, args);
  if (!res.ok()) return report(res.error());
  if (r.stats && tier != "interp") {
    if (auto kc = (*prog)->kernel_counts(fn); kc.ok())
      std::fprintf(stderr,
                   "tierjit: kernels: %llu sgemm call(s); convolutions: %llu by Winograd "
                   "F(4x4, 3x3), %llu by im2col\n",
                   (unsigned long long)kc->sgemm_calls, (unsigned long long)kc->winograd_convs,
                   (unsigned long long)kc->im2col_convs);
  }
  if (!outputs.empty() && outputs.size() != res->size()) {
    return report(make_error(ErrorCode::kUsage, "@" + fn + " returns " +
                                                    std::to_string(res->size()) +
                                                    " results; give that many --output files"));
  }
  for (size_t k = 0; k < res->size(); ++k) {
    if (outputs.empty()) {
      print_tensor((*res)[k]);
      continue;
    }
    Status st = stablehlo::write_npy(outputs[k], (*res)[k]);
    if (!st.ok()) return report(st.error());
  }
  return 0;
}

void register_stablehlo(CLI::App& app) {
  auto a = std::make_shared<TestArgs>();
  CLI::App* t = app.add_subcommand(
      "stablehlo-test", "run a StableHLO conformance directory (testdata/ and interpret/ forms)");
  t->add_option("dir", a->dir, "directory searched recursively for .mlir files")->required();
  t->add_option("--path", a->path,
                "reference (the evaluator), compiled (LLVM, the ORC tier) or both");
  t->add_option("--expect-passed", a->expect_passed,
                "exit 0 when at least this many files pass (a regression gate), else 1");
  t->callback([a] { set_exit_code(stablehlo_test(*a)); });
}

}  // namespace tierjit::cli
