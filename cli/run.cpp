// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// `tierjit run FILE [options] [-- ARGS...]`: run a program's entry point through the JIT.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/bytecode.hpp"
#include "cli/commands.hpp"
#include "cli/sandbox.hpp"
#include "cli/stablehlo.hpp"
#include "cli/warm_image_policy.hpp"
#include "driver/input.hpp"
#include "engine/interp_fallback.hpp"
#include "image/warm_image.hpp"
#include "support/jitdump.hpp"
#include "tierjit/engine.hpp"

namespace tierjit::cli {
namespace {

struct RunArgs {
  RunConfig cfg;
  bool no_cache = false;
  bool no_baseline = false;
  bool no_osr = false;
  bool sync_tier_up = false;
  bool perf_jitdump = false;
  bool eager = false;
  bool stats = false;      // --stats given (stats_mode: "text" or "json")
  std::string stats_mode;  // --stats=json: LLVM IR programs only (Engine::stats_json)
  bool no_fallback = false;
  bool interp = false;
  std::vector<std::string> args;
  BytecodeRunArgs bc;
  std::vector<std::string> inputs, outputs;  // StableHLO: .npy files
};

// `fallback_reason` is empty when the user asked for the interpreter (--interp); otherwise
// the run is a fallback from native code, which --stats counts.
int interpret(const RunArgs& a, const std::string& fallback_reason = {}) {
  std::vector<std::string> argv = {a.cfg.path};
  argv.insert(argv.end(), a.args.begin(), a.args.end());
  auto status = run_interpreted(a.cfg.path, a.cfg.entry.empty() ? "main" : a.cfg.entry, argv);
  if (a.stats) {
    if (fallback_reason.empty()) {
      std::fprintf(stderr, "tier: LLVM interpreter (--interp); fallbacks: 0\n");
    } else {
      std::fprintf(stderr,
                   "tier: LLVM interpreter; fallbacks: 1 (native code -> interpreter: %s)\n",
                   fallback_reason.c_str());
    }
  }
  return status.ok() ? status.value() : report(status.error());
}

int run_stablehlo_file(RunArgs& a, driver::InputFile& in) {
  StablehloRun r;
  r.path = a.cfg.path;
  r.text = std::move(in.bytes);
  r.entry = a.cfg.entry;
  r.inputs = a.inputs;
  r.outputs = a.outputs;
  r.tier = a.bc.tier;
  r.stats = a.stats;
  r.cache = !a.no_cache;
  r.cache_dir = a.cfg.cache_dir;
  return run_stablehlo(r);
}

int run_bytecode_file(RunArgs& a, const driver::InputFile& in) {
  a.bc.path = a.cfg.path;
  a.bc.stats = a.stats;
  a.bc.entry = a.cfg.entry;
  a.bc.args = a.args;
  a.bc.cache = !a.no_cache;
  a.bc.cache_dir = a.cfg.cache_dir;
  return run_bytecode(a.bc, in.bytes);
}

// A riscv64 ELF runs in the sandbox with its default limits (`tierjit sandbox` sets them).
int run_guest_file(const RunArgs& a, const driver::InputFile& in) {
  SandboxArgs s;
  s.elf = a.cfg.path;
  s.stats = a.stats;
  s.perf_jitdump = a.perf_jitdump;
  s.args = a.args;
  return run_sandbox(s, in.bytes);
}

int run_llvm_ir(RunArgs& a, driver::InputFile& in) {
  // --tier for LLVM IR: baseline (fixed: no tier-up), llvm-O0..llvm-O3 (fixed), auto (tiered)
  const std::string& t = a.bc.tier;
  if (t == "baseline") {
    a.cfg.baseline = true;
    a.cfg.opt_level = 0;
  } else if (t.size() == 7 && t.compare(0, 6, "llvm-O") == 0 && t[6] >= '0' && t[6] <= '3') {
    a.cfg.baseline = false;
    a.cfg.opt_level = t[6] - '0';
  } else if (t != "auto") {
    return report(make_error(ErrorCode::kUsage,
                             "--tier for LLVM IR is baseline, llvm-O0, llvm-O1, llvm-O2, "
                             "llvm-O3 or auto, not '" +
                                 t + "'"));
  }
  if (a.no_baseline) a.cfg.baseline = false;
  if (a.no_osr) a.cfg.osr = false;
  a.cfg.sync_tier_up = a.sync_tier_up;
  if (a.cfg.opt_level >= 0 && t == "auto") a.cfg.baseline = false;  // --opt N: LLVM only
  a.cfg.cache = !a.no_cache;
  a.cfg.lazy = !a.eager;
  if (a.interp) return interpret(a);
  // Only the plain command line (what the launcher maps an image for) builds warm images.
  bool plain = t == "auto" && a.cfg.opt_level < 0 && a.cfg.baseline && a.cfg.osr &&
               !a.cfg.sync_tier_up && a.cfg.cache && a.cfg.lazy && a.cfg.entry.empty() &&
               !a.cfg.debug_info && !a.cfg.perf_map && !a.perf_jitdump &&
               a.cfg.trace_path.empty() && a.cfg.tier_thresholds == RunConfig().tier_thresholds;
  bool images = plain && image::images_enabled();
  Hash128 image_key = images ? image::image_key(in.bytes) : Hash128{};
  Error err;
  std::unique_ptr<Engine> engine = Engine::load(a.cfg, std::move(in.bytes), &err);
  if (!engine) {
    bool native_impossible =
        err.code == ErrorCode::kUnsupported || err.code == ErrorCode::kCompileFailed;
    if (!native_impossible || a.no_fallback) return report(err);
    std::fprintf(stderr,
                 "tierjit: note: %s\ntierjit: note: native compilation is not possible; "
                 "running under LLVM's interpreter (slow)\n",
                 err.to_string().c_str());
    return interpret(a, err.to_string());
  }
  // The engine lives until the process ends: the program's exit handlers, destructors and the
  // stats table run in exit_process, also when the program calls exit() itself.
  Engine* e = engine.release();
  images = images && e->entry() == "main";
  std::string path = a.cfg.path, cache_dir = a.cfg.cache_dir;
  bool stats = a.stats, json = a.stats_mode == "json";
  if (stats || images) {
    e->set_exit_hook([=] {
      std::string line =
          images  ? start_image_build(path, cache_dir, image_key, e->function_reports())
          : plain ? "warm image: off (TIERJIT_WARM_IMAGE)"
                  : "warm image: not for this command line (options other than --stats, "
                    "--cache-dir)";
      if (stats && json)
        std::fprintf(stderr, "%s\n", e->stats_json().c_str());
      else if (stats)
        std::fprintf(stderr, "%s  %s\n", e->stats_text().c_str(), line.c_str());
    });
  }
  std::vector<std::string> argv = {a.cfg.path};
  argv.insert(argv.end(), a.args.begin(), a.args.end());
  int status = e->run(argv, &err);
  if (status == -1 && !err.message.empty()) return report(err);
  e->exit_process(status);
}

// The front door reads the file once; each kind goes to its own runner with the bytes.
int run(RunArgs& a) {
  a.stats = !a.stats_mode.empty();
  if (a.perf_jitdump) {  // before anything compiles: every tier writes to it from now on
    auto dump = JitDump::enable();
    if (!dump.ok()) return report(dump.error());
  }
  auto in = driver::read_input(a.cfg.path);
  if (!in.ok()) return report(in.error());
  driver::InputKind kind = in->kind;
  bool llvm_ir = kind == driver::InputKind::kLlvmIrText ||
                 kind == driver::InputKind::kLlvmBitcode || kind == driver::InputKind::kLlbc;
  if (a.stats_mode == "json" && (!llvm_ir || a.interp))
    std::fprintf(stderr,
                 "tierjit: --stats=json: JSON statistics cover LLVM IR programs run natively; "
                 "text statistics follow\n");
  if (!a.cfg.trace_path.empty() && (!llvm_ir || a.interp))
    std::fprintf(stderr,
                 "tierjit: --trace: traces cover LLVM IR programs run natively; none is written\n");
  if (kind == driver::InputKind::kStableHlo) return run_stablehlo_file(a, in.value());
  if (!a.inputs.empty() || !a.outputs.empty()) {
    return report(
        make_error(ErrorCode::kUsage, "--input/--output apply to StableHLO (.mlir) inputs"));
  }
  switch (kind) {
    case driver::InputKind::kTjbc:
    case driver::InputKind::kTjasm:
      return run_bytecode_file(a, in.value());
    case driver::InputKind::kRiscvElf:
      return run_guest_file(a, in.value());
    case driver::InputKind::kOtherElf:
      return report(make_error(ErrorCode::kInvalidInput,
                               "an ELF file but not for riscv64: not LLVM IR, bytecode, "
                               "StableHLO or a riscv64 guest",
                               {a.cfg.path}));
    default:
      return run_llvm_ir(a, in.value());
  }
}

}  // namespace

void register_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* sub =
      app.add_subcommand("run", "run a program (.ll, .bc, .llbc, .tjasm/.tjbc, StableHLO .mlir)");
  sub->add_option("file", a->cfg.path, "LLVM IR text, bitcode or LLBC container")->required();
  sub->add_option("--opt,-O", a->cfg.opt_level,
                  "compile every function at this level (0-3) instead of tiering up")
      ->check(CLI::Range(0, 3));
  sub->add_option("--tier-thresholds", a->cfg.tier_thresholds,
                  "tiered mode: calls before tier-up, e.g. 100 (O2) or 100,1000,10000 (O1,O2,O3)");
  sub->add_option("--entry", a->cfg.entry, "entry function (default: LLBC entry, else main)");
  sub->add_flag("--stats{text}", a->stats_mode,
                "print per-function calls, tier and compile time at exit; --stats=json: as one "
                "JSON object on stderr (LLVM IR programs; schema: include/tierjit/engine.hpp)")
      ->check(CLI::IsMember({"text", "json"}));
  sub->add_flag("--no-cache", a->no_cache, "bypass the persistent object cache");
  sub->add_option("--cache-dir", a->cfg.cache_dir, "object cache directory");
  add_remote_storage_option(sub);
  sub->add_flag("--no-fallback", a->no_fallback,
                "fail instead of interpreting when native compilation is impossible");
  sub->add_flag("--interp", a->interp,
                "run under LLVM's IR interpreter (in a guarded child process), no JIT");
  sub->add_flag("--eager", a->eager, "compile every function before running (no laziness)");
  sub->add_flag("--no-baseline", a->no_baseline,
                "LLVM IR: start every function in LLVM (O0) instead of the baseline tier");
  sub->add_flag("--no-osr", a->no_osr,
                "LLVM IR: no on-stack replacement of running baseline loops");
  sub->add_flag("--sync-tier-up", a->sync_tier_up,
                "LLVM IR: a call or loop that crosses a tier-up threshold waits for the compile "
                "(the tiers reached do not depend on timing; for tests and debugging)");
  sub->add_option("--trace", a->cfg.trace_path,
                  "LLVM IR: write Chrome trace-event JSON (chrome://tracing, Perfetto) of loads, "
                  "compiles, tier-ups and OSR to this file at exit");
  sub->add_flag("--perf-map", a->cfg.perf_map, "write /tmp/perf-PID.map for perf");
  sub->add_flag("--perf-jitdump", a->perf_jitdump,
                "write every tier's code (and source lines where the IR has debug info) to "
                "$JITDUMPDIR (else ~/.debug/jit)/jit-PID.dump for perf record -k 1 + perf inject "
                "--jit");
  sub->add_flag("--debug-info", a->cfg.debug_info, "register JIT code with GDB");
  sub->add_option("--tier", a->bc.tier,
                  "bytecode: interp, cnp, llvm or auto (tier-up); StableHLO: interp (reference "
                  "evaluator) or llvm/auto (compiled); LLVM IR: baseline, llvm-O0..llvm-O3 "
                  "(fixed) or auto (baseline, then O2)")
      ->check(CLI::IsMember({"interp", "cnp", "llvm", "auto", "baseline", "llvm-O0", "llvm-O1",
                             "llvm-O2", "llvm-O3"}));
  sub->add_option("--fuel", a->bc.fuel,
                  "bytecode: instruction budget in ticks (calls + loop "
                  "back-edges); exhausted = trap");
  sub->add_option("--memory", a->bc.memory, "bytecode: linear memory size in bytes");
  sub->add_option("--input", a->inputs, "StableHLO: a .npy file per entry argument, in order");
  sub->add_option("--output", a->outputs, "StableHLO: a .npy file per result (default: print)");
  sub->add_option("args", a->args, "arguments passed to the program (after --)");
  sub->callback([a] { set_exit_code(run(*a)); });
}

}  // namespace tierjit::cli
