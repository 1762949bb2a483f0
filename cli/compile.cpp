// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// `tierjit compile FILE -o out.o|out.so [--opt N]`: ahead-of-time object or shared library.
// Bytecode inputs (.tjasm/.tjbc) give an object with one C entry point per function
// (include/tierjit/bytecode_abi.h) or, with --format raw, tier-1 machine code.
#include <fmt/format.h>

#include "aot/aot.hpp"
#include "aot/riscv.hpp"
#include "bytecode_llvm/bytecode_jit.hpp"
#include "cli/bytecode.hpp"
#include "cli/commands.hpp"
#include "cnp/compiler.hpp"
#include "driver/input.hpp"
#include "llvmir/compile_timing.hpp"
#include "support/file.hpp"
#include "support/progress.hpp"

namespace tierjit::cli {
namespace {

// Raw tier-1 code: each function's copy-and-patch code back to back (position-independent:
// stencils reach everything through ctx and rel32 jumps inside the function), plus OUT.map
// listing "name offset size" per function.
Status write_raw(const bytecode::Module& m, const std::string& out) {
  runtime::CodePool pool;
  cnp::Compiler compiler(pool);
  std::string bytes, map;
  for (uint32_t i = 0; i < m.functions.size(); ++i) {
    TJ_ASSIGN_OR_RETURN(cnp::CompiledCode code, compiler.compile(m, i));
    map += fmt::format("{} {} {}\n", m.functions[i].name, bytes.size(), code.code_bytes);
    bytes.append(reinterpret_cast<const char*>(code.block.rx), code.code_bytes);
    bytes.resize((bytes.size() + 15) & ~size_t{15}, '\xcc');
  }
  TJ_TRY(write_file_atomic(out, bytes));
  return write_file_atomic(out + ".map", map);
}

Status compile_bytecode(const driver::InputFile& in, const aot::CompileOptions& opts,
                        const std::string& format) {
  TJ_ASSIGN_OR_RETURN(bytecode::Module m, parse_bytecode(in.bytes, in.path));
  if (format == "raw") return write_raw(m, opts.output);
  if (opts.kind != aot::OutputKind::kObject)
    return make_error(ErrorCode::kUsage, "bytecode compiles to an object (.o) or --format raw");
  TJ_ASSIGN_OR_RETURN(std::string obj,
                      bytecode_llvm::compile_bytecode_object(m, opts.opt_level, opts.native_cpu));
  return write_file_atomic(opts.output, obj);
}

}  // namespace

// `compile --tier baseline --time`: per function and in total, the baseline tier against LLVM
// -O0 on the same bodies (llvmir/compile_timing.hpp).
int print_compile_timing(std::string bytes, const std::string& path) {
  auto t = llvmir::time_first_tier(std::move(bytes), path);
  if (!t.ok()) return report(t.error());
  double base_us = 0, o0_us = 0, o0_all_us = 0;
  uint64_t covered = 0, instructions = 0, fallbacks = 0;
  fmt::print("{:<40} {:>8} {:>12} {:>12} {:>8}  {}\n", "function", "instrs", "baseline us",
             "LLVM O0 us", "ratio", "fallback");
  for (const auto& f : t->functions) {
    o0_all_us += f.llvm_o0_us;
    if (f.fallback.empty()) {
      base_us += f.baseline_us;
      o0_us += f.llvm_o0_us;
      instructions += f.instructions;
      ++covered;
    } else {
      ++fallbacks;
    }
    fmt::print("{:<40} {:>8} {:>12.1f} {:>12.1f} {:>8.1f}  {}\n", f.name.substr(0, 40),
               f.instructions, f.baseline_us, f.llvm_o0_us,
               f.fallback.empty() && f.baseline_us > 0 ? f.llvm_o0_us / f.baseline_us : 0.0,
               f.fallback);
  }
  fmt::print(
      "\ntotal: {} functions, {} compiled by the baseline tier ({} IR instructions), {} fell "
      "back\n"
      "  reading the bodies (bitcode): {:.1f} ms\n"
      "  baseline tier: {:.1f} ms ({:.0f} ns per instruction)\n"
      "  LLVM -O0, the same functions: {:.1f} ms; all functions: {:.1f} ms\n"
      "  ratio (LLVM -O0 / baseline, same functions): {:.1f}x\n",
      t->functions.size(), covered, instructions, fallbacks, t->read_ms, base_us / 1000,
      instructions ? base_us * 1000 / double(instructions) : 0.0, o0_us / 1000, o0_all_us / 1000,
      base_us > 0 ? o0_us / base_us : 0.0);
  return 0;
}

void register_compile(CLI::App& app) {
  struct Args {
    std::string input;
    aot::CompileOptions opts;
    std::string format = "object";
    std::string target = "host";
    bool debug = false;
    bool no_cache = false;
    bool stats = false;
    std::string tier;
    bool time = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* sub =
      app.add_subcommand("compile", "compile LLVM IR to an object (.o) or shared library (.so)");
  sub->add_option("file", a->input, "LLVM IR text, bitcode or LLBC")->required();
  sub->add_option("-o,--output", a->opts.output, "output file; .so links a shared library");
  sub->add_option("--tier", a->tier,
                  "baseline: compile every function with the baseline tier in memory (with "
                  "--time)")
      ->check(CLI::IsMember({"baseline"}));
  sub->add_flag("--time", a->time,
                "with --tier baseline: time every function's baseline and LLVM -O0 compile");
  sub->add_option("--opt,-O", a->opts.opt_level, "optimization level 0-3")->check(CLI::Range(0, 3));
  sub->add_flag("--native", a->opts.native_cpu, "tune for this machine's CPU");
  sub->add_option("--format", a->format, "bytecode: object (ELF .o, default) or raw (tier-1 code)")
      ->check(CLI::IsMember({"object", "raw"}));
  sub->add_option("--target", a->target,
                  "host (object or .so) or riscv64 (a static ELF for `tierjit sandbox`)")
      ->check(CLI::IsMember({"host", "riscv64"}));
  sub->add_flag("-g", a->debug, "riscv64: keep DWARF for source lines (addr2line, faults)");
  sub->add_flag("--no-cache", a->no_cache, "riscv64: do not reuse a cached ELF");
  sub->add_flag("--stats", a->stats, "riscv64: print what the ELF cache did (stderr)");
  add_remote_storage_option(sub);
  sub->callback([a] {
    auto in = driver::read_input(a->input);
    if (!in.ok()) return set_exit_code(report(in.error()));
    bool bc = in->kind == driver::InputKind::kTjbc || in->kind == driver::InputKind::kTjasm;
    if (!a->tier.empty() || a->time) {
      if (a->tier != "baseline" || !a->time || bc || !a->opts.output.empty())
        return set_exit_code(report(
            make_error(ErrorCode::kUsage,
                       "--tier baseline --time times LLVM IR compiles; it writes no output")));
      return set_exit_code(print_compile_timing(std::move(in->bytes), a->input));
    }
    if (a->opts.output.empty())
      return set_exit_code(report(make_error(ErrorCode::kUsage, "--output is required")));
    if (a->target == "riscv64") {
      aot::RiscvOptions ro;
      ro.opt_level = a->opts.opt_level;
      ro.debug = a->debug;
      ro.output = a->opts.output;
      ro.use_cache = !a->no_cache;
      aot::ElfCacheOutcome outcome = aot::ElfCacheOutcome::kOff;
      ro.cache_outcome = &outcome;
      Status s;
      if (bc) {
        auto m = parse_bytecode(in->bytes, a->input);
        if (!m.ok()) return set_exit_code(report(m.error()));
        s = aot::compile_riscv_bytecode(m.value(), in->bytes, a->input, ro);
      } else {
        s = aot::compile_riscv_ir(in->bytes, a->input, ro);
      }
      if (s.ok() && a->stats) {
        const char* what[] = {"off", "hit", "miss (compiled, linked and stored)"};
        fmt::print(stderr, "tierjit: riscv64 ELF cache: {}\n", what[int(outcome)]);
      }
      return set_exit_code(s.ok() ? 0 : report(s.error()));
    }
    a->opts.kind = aot::kind_for_output(a->opts.output);
    std::optional<Progress> bar(std::in_place, "tierjit compile " + a->input, 0);
    Status s = bc ? compile_bytecode(in.value(), a->opts, a->format)
                  : aot::compile_bytes(std::move(in->bytes), a->input, a->opts);
    bar.reset();
    set_exit_code(s.ok() ? 0 : report(s.error()));
  });
}

}  // namespace tierjit::cli
