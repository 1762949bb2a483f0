// `tierjit compile FILE -o out.o|out.so [--opt N]`: ahead-of-time object or shared library.
#include "aot/aot.hpp"
#include "cli/commands.hpp"

namespace tierjit::cli {

void register_compile(CLI::App& app) {
  struct Args {
    std::string input;
    aot::CompileOptions opts;
  };
  auto a = std::make_shared<Args>();
  CLI::App* sub =
      app.add_subcommand("compile", "compile LLVM IR to an object (.o) or shared library (.so)");
  sub->add_option("file", a->input, "LLVM IR text, bitcode or LLBC")->required();
  sub->add_option("-o,--output", a->opts.output, "output file; .so links a shared library")
      ->required();
  sub->add_option("--opt,-O", a->opts.opt_level, "optimization level 0-3")->check(CLI::Range(0, 3));
  sub->add_flag("--native", a->opts.native_cpu, "tune for this machine's CPU");
  sub->callback([a] {
    a->opts.kind = aot::kind_for_output(a->opts.output);
    Status s = aot::compile_file(a->input, a->opts);
    set_exit_code(s.ok() ? 0 : report(s.error()));
  });
}

}  // namespace tierjit::cli
