// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Bytecode subcommands: `tierjit asm`, `tierjit disasm`, and the bytecode half of `tierjit run`.
#include "cli/bytecode.hpp"

#include <cstdio>

#include "bytecode/module_io.hpp"
#include "bytecode/text.hpp"
#include "cli/commands.hpp"
#include "runtime/object_cache.hpp"
#include "support/file.hpp"
#include "vm/vm.hpp"

namespace tierjit::cli {

Expected<bytecode::Module> parse_bytecode(std::string_view bytes, const std::string& path) {
  if (bytecode::is_tjbc(bytes)) return bytecode::read_module(bytes, path);
  return bytecode::assemble(bytes, path);
}

Expected<bytecode::Module> load_bytecode(const std::string& path) {
  TJ_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  return parse_bytecode(bytes, path);
}

int run_bytecode(const BytecodeRunArgs& a, std::string_view bytes) {
  auto m = parse_bytecode(bytes, a.path);
  if (!m.ok()) return report(m.error());
  vm::VmConfig cfg;
  auto tier = vm::parse_tier(a.tier);
  if (!tier.ok()) return report(tier.error());
  cfg.tier = tier.value();
  if (a.fuel) cfg.instance.fuel = a.fuel;
  if (a.memory) cfg.instance.memory_size = a.memory;
  uint32_t entry = m->entry;
  if (!a.entry.empty()) {
    int i = m->find_function(a.entry);
    if (i < 0)
      return report(
          make_error(ErrorCode::kMissingEntry, "no function '" + a.entry + "' in " + a.path));
    entry = static_cast<uint32_t>(i);
  }
  std::vector<uint64_t> args;
  for (const auto& s : a.args) {
    try {
      args.push_back(static_cast<uint64_t>(std::stoll(s, nullptr, 0)));
    } catch (...) {
      return report(
          make_error(ErrorCode::kUsage, "program argument '" + s + "' is not an integer"));
    }
  }
  std::unique_ptr<ObjectCache> cache;
  if (a.cache) {
    cache = std::make_unique<ObjectCache>(a.cache_dir);
    cfg.cache = cache.get();
  }
  auto vm = vm::Vm::create(m.value(), bytecode::HostRegistry::standard(), cfg);
  if (!vm.ok()) {
    Error e = vm.take_error();
    if (e.where.file.empty()) e.where.file = a.path;  // binding errors: name the program
    return report(e);
  }
  (*vm)->instance().set_stream_output(true);
  bytecode::Outcome o = (*vm)->call(entry, args);
  (*vm)->instance().flush_output();
  if (a.stats) std::fputs((*vm)->stats_text().c_str(), stderr);
  if (o.status != TJ_RUNNING && o.status != TJ_HALTED) {
    std::fflush(stdout);
    std::fprintf(stderr, "tierjit: %s\n", o.describe(m.value()).c_str());
  }
  return o.exit_status();
}

void register_bytecode(CLI::App& app) {
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  CLI::App* as = app.add_subcommand("asm", "assemble .tjasm text into a .tjbc bytecode module");
  as->add_option("input", *in, ".tjasm file")->required();
  as->add_option("-o,--output", *out, "output .tjbc file")->required();
  as->callback([in, out] {
    auto text = read_file(*in);
    if (!text.ok()) return set_exit_code(report(text.error()));
    auto m = bytecode::assemble(text.value(), *in);
    if (!m.ok()) return set_exit_code(report(m.error()));
    Status s = write_file_atomic(*out, bytecode::write_module(m.value()));
    set_exit_code(s.ok() ? 0 : report(s.error()));
  });
  auto din = std::make_shared<std::string>();
  auto dout = std::make_shared<std::string>();
  CLI::App* ds = app.add_subcommand("disasm", "disassemble a .tjbc module to .tjasm text");
  ds->add_option("input", *din, ".tjbc file")->required();
  ds->add_option("-o,--output", *dout, "output file (default: stdout)");
  ds->callback([din, dout] {
    auto bytes = read_file(*din);
    if (!bytes.ok()) return set_exit_code(report(bytes.error()));
    auto m = bytecode::read_module(bytes.value(), *din);
    if (!m.ok()) return set_exit_code(report(m.error()));
    std::string text = bytecode::disassemble(m.value());
    if (dout->empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      return set_exit_code(0);
    }
    Status s = write_file_atomic(*dout, text);
    set_exit_code(s.ok() ? 0 : report(s.error()));
  });
}

}  // namespace tierjit::cli
