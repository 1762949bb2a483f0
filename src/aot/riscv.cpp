// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// RISC-V 64 ELF executables: codegen with LLVM's RISC-V backend, link with lld, cache by
// content hash.
#include "aot/riscv.hpp"

#include <fmt/format.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Triple.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "backend/codegen.hpp"
#include "bytecode/isa.hpp"
#include "bytecode_llvm/bytecode_jit.hpp"
#include "guest/guest_sysroot.hpp"
#include "llvmir/ir_loader.hpp"
#include "llvmir/linker.hpp"
#include "runtime/cache_key.hpp"
#include "runtime/object_cache.hpp"
#include "support/file.hpp"
#include "support/hash.hpp"

namespace tierjit::aot {
namespace {

backend::TargetConfig guest_target() {
  backend::TargetConfig tc;
  tc.triple = guest::kGuestTriple;
  tc.cpu = "generic-rv64";
  tc.features = guest::kGuestFeatures;
  tc.pic = false;
  tc.emulated_tls = false;
  tc.abi = guest::kGuestAbi;
  tc.medium_code_model = true;
  return tc;
}

// Writes the executable with mode 0755 (less the umask), as a linker would.
Status write_executable(const std::string& path, std::string_view elf) {
  TJ_TRY(write_file_atomic(path, elf));
  mode_t mask = ::umask(0);
  ::umask(mask);
  if (::chmod(path.c_str(), 0755 & ~mask) != 0)
    return make_error(ErrorCode::kIo, "cannot make the output executable", {path});
  return {};
}

struct TempDir {
  std::string path;
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

Status link_guest(const std::string& object, const std::string& sysroot, bool debug,
                  const std::string& output, const std::vector<std::string>& extra_libs) {
  TempDir dir;
  char tmpl[] = "/tmp/tierjit-rv-XXXXXX";
  if (!::mkdtemp(tmpl)) return make_error(ErrorCode::kIo, "cannot create a temporary directory");
  dir.path = tmpl;
  std::string obj = dir.path + "/input.o", out = dir.path + "/out.elf";
  TJ_TRY(write_file_atomic(obj, object));
  std::vector<std::string> args = {"-m",
                                   "elf64lriscv",
                                   "-static",
                                   "-T",
                                   guest::guest_linker_script(sysroot),
                                   "--gc-sections",
                                   "-o",
                                   out,
                                   guest::guest_crt0(sysroot),
                                   obj,
                                   "--start-group"};
  for (const std::string& lib : extra_libs) args.push_back(sysroot + "/lib/" + lib);
  for (const std::string& lib : guest::guest_libraries(sysroot)) args.push_back(lib);
  args.push_back("--end-group");
  if (!debug) args.push_back("--strip-debug");
  Status s = llvmir::run_lld(args);
  if (!s.ok()) {
    Error e = s.take_error();
    e.where = {output};
    return e;
  }
  TJ_ASSIGN_OR_RETURN(std::string elf, read_file(out));
  return write_executable(output, elf);
}

// Everything the ELF depends on besides the input: versions, options, target, sysroot files.
Expected<Hash128> cache_key(std::string_view kind, std::string_view input,
                            const std::string& sysroot, const RiscvOptions& o) {
  CacheKey h("riscv-elf");
  h.add(kind).add(input).add_u64(static_cast<uint64_t>(o.opt_level)).add_u64(o.debug ? 1 : 0);
  h.target(guest_target().key());
  std::vector<std::string> files = guest::guest_libraries(sysroot);
  files.push_back(guest::guest_crt0(sysroot));
  files.push_back(guest::guest_linker_script(sysroot));
  if (kind == "bytecode") files.push_back(sysroot + "/lib/libtjbcrun.a");
  for (const std::string& f : files) {
    TJ_ASSIGN_OR_RETURN(std::string bytes, read_file(f));
    h.add(bytes);
  }
  return h.finish();
}

}  // namespace

// The tables the bytecode runner (bcrun.c) reads: memory size, entry point, import and
// function names.
void add_runner_tables(llvm::Module& mod, const bytecode::Module& m) {
  llvm::LLVMContext& ctx = mod.getContext();
  auto* i64 = llvm::Type::getInt64Ty(ctx);
  auto* i32 = llvm::Type::getInt32Ty(ctx);
  auto* ptr = llvm::PointerType::getUnqual(ctx);
  auto constant = [&](llvm::Type* ty, llvm::Constant* init, const char* name) {
    new llvm::GlobalVariable(mod, ty, true, llvm::GlobalValue::ExternalLinkage, init, name);
  };
  auto strings = [&](const std::vector<std::string>& names, const char* table, const char* count) {
    std::vector<llvm::Constant*> elems;
    for (const std::string& n : names) {
      auto* str = llvm::ConstantDataArray::getString(ctx, n, true);
      elems.push_back(new llvm::GlobalVariable(mod, str->getType(), true,
                                               llvm::GlobalValue::PrivateLinkage, str, "tj_name"));
    }
    auto* ty = llvm::ArrayType::get(ptr, elems.size());
    constant(ty, llvm::ConstantArray::get(ty, elems), table);
    constant(i32, llvm::ConstantInt::get(i32, names.size()), count);
  };
  constant(i64, llvm::ConstantInt::get(i64, m.memory_size), "tj_guest_memory_size");
  const bytecode::Function& entry = m.functions[m.entry];
  constant(i32, llvm::ConstantInt::get(i32, entry.nargs), "tj_guest_entry_nargs");
  constant(ptr, mod.getFunction("tj_" + entry.name), "tj_guest_entry");
  strings(m.imports, "tj_guest_imports", "tj_guest_num_imports");
  std::vector<std::string> fn_names;
  for (const auto& f : m.functions) fn_names.push_back(f.name);
  strings(fn_names, "tj_guest_functions", "tj_guest_num_functions");
}

Status compile_riscv_module(llvm::Module& m, const std::string& name, const RiscvOptions& opts,
                            const std::vector<std::string>& extra_libs) {
  llvm::Triple triple(m.getTargetTriple());
  if (triple.getArch() != llvm::Triple::riscv64)
    return make_error(ErrorCode::kInvalidInput,
                      fmt::format("the IR targets '{}', not riscv64: compile the source for the "
                                  "guest with the flags `tierjit guest-cflags` prints (retargeting "
                                  "IR made for another architecture is not sound)",
                                  m.getTargetTriple().str()),
                      {name});
  TJ_ASSIGN_OR_RETURN(std::string sysroot, guest::guest_sysroot());
  TJ_ASSIGN_OR_RETURN(auto tm, backend::make_target_machine(guest_target(), opts.opt_level));
  m.setDataLayout(tm->createDataLayout());
  TJ_ASSIGN_OR_RETURN(std::string obj, backend::compile_to_object(m, *tm, opts.opt_level));
  return link_guest(obj, sysroot, opts.debug, opts.output, extra_libs);
}

namespace {

// Writes opts.output from the ELF cache when an entry for (kind, source) exists, else runs
// `build` (which writes opts.output) and stores the result.
Status cached_build(std::string_view kind, std::string_view source, const RiscvOptions& opts,
                    const std::function<Status()>& build) {
  auto outcome = [&](ElfCacheOutcome o) {
    if (opts.cache_outcome) *opts.cache_outcome = o;
  };
  if (!opts.use_cache) {
    TJ_TRY(build());
    outcome(ElfCacheOutcome::kOff);
    return {};
  }
  TJ_ASSIGN_OR_RETURN(std::string sysroot, guest::guest_sysroot());
  TJ_ASSIGN_OR_RETURN(Hash128 key, cache_key(kind, source, sysroot, opts));
  ObjectCache cache;
  if (auto hit = cache.load(key)) {
    TJ_TRY(write_executable(opts.output, *hit));
    outcome(ElfCacheOutcome::kHit);
    return {};
  }
  TJ_TRY(build());
  TJ_ASSIGN_OR_RETURN(std::string elf, read_file(opts.output));
  cache.store(key, elf);
  outcome(ElfCacheOutcome::kStored);
  return {};
}

}  // namespace

Status compile_riscv_file(const std::string& input, const RiscvOptions& opts) {
  TJ_ASSIGN_OR_RETURN(std::string bytes, read_file(input));
  return compile_riscv_ir(bytes, input, opts);
}

Status compile_riscv_ir(std::string_view bytes, const std::string& input,
                        const RiscvOptions& opts) {
  return cached_build("ir", bytes, opts, [&]() -> Status {
    llvm::LLVMContext ctx;
    TJ_ASSIGN_OR_RETURN(llvmir::LoadedIr ir,
                        llvmir::load_ir_bytes(std::string(bytes), input, ctx, false));
    TJ_TRY(llvmir::verify_ir(*ir.module, input));
    return compile_riscv_module(*ir.module, input, opts);
  });
}

Status compile_riscv_bytecode(const bytecode::Module& m, std::string_view source,
                              const std::string& name, const RiscvOptions& opts) {
  if (m.functions.empty() || m.entry >= m.functions.size())
    return make_error(ErrorCode::kMissingEntry, "the module has no entry function", {name});
  return cached_build("bytecode", source, opts, [&]() -> Status {
    llvm::LLVMContext ctx;
    backend::TargetConfig tc = guest_target();
    TJ_ASSIGN_OR_RETURN(auto mod, bytecode_llvm::translate_bytecode_module(m, ctx, &tc));
    add_runner_tables(*mod, m);
    return compile_riscv_module(*mod, name, opts, {"libtjbcrun.a"});
  });
}

}  // namespace tierjit::aot
