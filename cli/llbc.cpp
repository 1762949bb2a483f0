// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// `tierjit llbc wrap|inspect`: the LLBC container (128-byte header + bitcode).
#include "llvmir/llbc.hpp"

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "support/file.hpp"
#include "support/hash.hpp"

namespace tierjit::cli {
namespace {

Status wrap(const std::string& in, const std::string& out, llvmir::LlbcHeader h) {
  TJ_ASSIGN_OR_RETURN(std::string bc, read_file(in));
  if (!llvmir::is_bitcode(bc))
    return make_error(ErrorCode::kInvalidInput, "not LLVM bitcode (wrap takes a .bc file)", {in});
  TJ_ASSIGN_OR_RETURN(std::string bytes, llvmir::write_llbc(h, bc));
  return write_file_atomic(out, bytes);
}

Status inspect(const std::string& in) {
  TJ_ASSIGN_OR_RETURN(std::string bytes, read_file(in));
  std::string_view payload;
  TJ_ASSIGN_OR_RETURN(llvmir::LlbcHeader h, llvmir::parse_llbc(bytes, in, &payload));
  fmt::print(
      "file          {}\nmodule_name   {}\nentry_name    {}\nbitcode_size  {}\n"
      "version       {}\nopt_level     {}\npayload_hash  {:016x} (verified)\n",
      in, h.module_name, h.entry_name, h.bitcode_size, h.version, h.opt_level, h.payload_hash);
  return {};
}

}  // namespace

void register_llbc(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("llbc", "wrap bitcode in, or inspect, an LLBC container");
  sub->require_subcommand(1);
  struct WrapArgs {
    std::string in, out;
    llvmir::LlbcHeader h;
  };
  auto w = std::make_shared<WrapArgs>();
  CLI::App* ws = sub->add_subcommand("wrap", "wrap a .bc file in an LLBC header");
  ws->add_option("--input", w->in, "bitcode file")->required();
  ws->add_option("--output", w->out, "LLBC file to write")->required();
  ws->add_option("--name", w->h.module_name, "module name (<= 31 bytes)");
  ws->add_option("--entry", w->h.entry_name, "entry function (<= 63 bytes)")->default_val("main");
  ws->add_option("--opt", w->h.opt_level, "intended optimization level 0-3")
      ->default_val(2)
      ->check(CLI::Range(0, 3));
  ws->callback([w] {
    Status s = wrap(w->in, w->out, w->h);
    set_exit_code(s.ok() ? 0 : report(s.error()));
  });
  auto path = std::make_shared<std::string>();
  CLI::App* is = sub->add_subcommand("inspect", "print and verify an LLBC header");
  is->add_option("file", *path, "LLBC file")->required();
  is->callback([path] {
    Status s = inspect(*path);
    set_exit_code(s.ok() ? 0 : report(s.error()));
  });
}

}  // namespace tierjit::cli
