// RISC-V 64 ELF executables: codegen with LLVM's RISC-V backend, link with lld, cache by
// content hash.
#include "aot/riscv.hpp"

#include <fmt/format.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Triple.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "llvm/codegen.hpp"
#include "llvm/ir_loader.hpp"
#include "llvm/linker.hpp"
#include "runtime/object_cache.hpp"
#include "sandbox/guest_sysroot.hpp"
#include "support/file.hpp"
#include "support/hash.hpp"
#include "tierjit/version.hpp"

namespace tierjit::aot {
namespace {

llvmtier::TargetConfig guest_target() {
  llvmtier::TargetConfig tc;
  tc.triple = sandbox::kGuestTriple;
  tc.cpu = "generic-rv64";
  tc.features = sandbox::kGuestFeatures;
  tc.pic = false;
  tc.emulated_tls = false;
  tc.abi = sandbox::kGuestAbi;
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
                  const std::string& output) {
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
                                   sandbox::guest_linker_script(sysroot),
                                   "--gc-sections",
                                   "-o",
                                   out,
                                   sandbox::guest_crt0(sysroot),
                                   obj,
                                   "--start-group"};
  for (const std::string& lib : sandbox::guest_libraries(sysroot)) args.push_back(lib);
  args.push_back("--end-group");
  if (!debug) args.push_back("--strip-debug");
  Status s = llvmtier::run_lld(args);
  if (!s.ok()) {
    Error e = s.take_error();
    e.where = {output};
    return e;
  }
  TJ_ASSIGN_OR_RETURN(std::string elf, read_file(out));
  return write_executable(output, elf);
}

// Everything the ELF depends on besides the input: versions, options, target, sysroot files.
Expected<Hash128> cache_key(std::string_view input, const std::string& sysroot,
                            const RiscvOptions& o) {
  Hasher h;
  h.add("tierjit-riscv-elf").add(kVersion).add(kLlvmVersion).add(input);
  h.add_u64(static_cast<uint64_t>(o.opt_level)).add_u64(o.debug ? 1 : 0).add(guest_target().key());
  std::vector<std::string> files = sandbox::guest_libraries(sysroot);
  files.push_back(sandbox::guest_crt0(sysroot));
  files.push_back(sandbox::guest_linker_script(sysroot));
  for (const std::string& f : files) {
    TJ_ASSIGN_OR_RETURN(std::string bytes, read_file(f));
    h.add(bytes);
  }
  return h.finish();
}

}  // namespace

Status compile_riscv_module(llvm::Module& m, const std::string& name, const RiscvOptions& opts) {
  llvm::Triple triple(m.getTargetTriple());
  if (triple.getArch() != llvm::Triple::riscv64)
    return make_error(ErrorCode::kInvalidInput,
                      fmt::format("the IR targets '{}', not riscv64: compile the source for the "
                                  "guest with the flags `tierjit guest-cflags` prints (retargeting "
                                  "IR made for another architecture is not sound)",
                                  m.getTargetTriple().str()),
                      {name});
  TJ_ASSIGN_OR_RETURN(std::string sysroot, sandbox::guest_sysroot());
  TJ_ASSIGN_OR_RETURN(auto tm, llvmtier::make_target_machine(guest_target(), opts.opt_level));
  m.setDataLayout(tm->createDataLayout());
  llvmtier::optimize_module(m, *tm, opts.opt_level);
  TJ_ASSIGN_OR_RETURN(std::string obj, llvmtier::emit_object(m, *tm));
  return link_guest(obj, sysroot, opts.debug, opts.output);
}

Status compile_riscv_file(const std::string& input, const RiscvOptions& opts) {
  TJ_ASSIGN_OR_RETURN(std::string bytes, read_file(input));
  TJ_ASSIGN_OR_RETURN(std::string sysroot, sandbox::guest_sysroot());
  std::optional<ObjectCache> cache;
  Hash128 key;
  if (opts.use_cache) {
    TJ_ASSIGN_OR_RETURN(key, cache_key(bytes, sysroot, opts));
    cache.emplace(ObjectCache::default_dir());
    if (auto hit = cache->load(key)) return write_executable(opts.output, *hit);
  }
  llvm::LLVMContext ctx;
  TJ_ASSIGN_OR_RETURN(llvmtier::LoadedIr ir, llvmtier::load_ir_file(input, ctx, false));
  TJ_TRY(llvmtier::verify_ir(*ir.module, input));
  TJ_TRY(compile_riscv_module(*ir.module, input, opts));
  if (cache) {
    TJ_ASSIGN_OR_RETURN(std::string elf, read_file(opts.output));
    cache->store(key, elf);
  }
  return {};
}

}  // namespace tierjit::aot
