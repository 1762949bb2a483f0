// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// AOT compilation to .o and .so.
#include "aot/aot.hpp"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "backend/codegen.hpp"
#include "llvmir/ir_loader.hpp"
#include "llvmir/linker.hpp"
#include "support/file.hpp"

namespace tierjit::aot {

OutputKind kind_for_output(const std::string& path) {
  return path.size() > 3 && path.compare(path.size() - 3, 3, ".so") == 0
             ? OutputKind::kSharedLibrary
             : OutputKind::kObject;
}

namespace {

Status link_shared(const std::string& object, const std::string& output) {
  std::string tmp = output + ".tmp." + std::to_string(::getpid()) + ".o";
  TJ_TRY(write_file_atomic(tmp, object));
  std::string out_tmp = output + ".tmp." + std::to_string(::getpid());
  // As `cc -shared` links: -Bsymbolic binds the program's own (dso_local) symbols inside the
  // library; libc's linker script adds libc_nonshared.a, where glibc keeps atexit and friends.
  Status s = llvmir::run_lld({"-shared", "-Bsymbolic", "--eh-frame-hdr", "-o", out_tmp, tmp,
                              "-L/usr/lib/x86_64-linux-gnu", "-L/lib/x86_64-linux-gnu",
                              "--as-needed", "-lm", "-lc"});
  ::unlink(tmp.c_str());
  if (!s.ok()) {
    ::unlink(out_tmp.c_str());
    Error e = s.take_error();
    e.where = {output};
    return e;
  }
  if (::rename(out_tmp.c_str(), output.c_str()) != 0)
    return make_error(ErrorCode::kIo, "cannot move the linked library into place", {output});
  return {};
}

}  // namespace

Expected<WarmImage> build_warm_image(std::string bytes, const std::string& name,
                                     const std::unordered_set<std::string>* profile) {
  llvm::LLVMContext ctx;
  TJ_ASSIGN_OR_RETURN(llvmir::LoadedIr ir,
                      llvmir::load_ir_bytes(std::move(bytes), name, ctx, false));
  llvm::Module& m = *ir.module;
  TJ_TRY(llvmir::verify_ir(m, name));
  llvm::Function* entry = m.getFunction("main");
  if (!entry || entry->isDeclaration())
    return make_error(ErrorCode::kMissingEntry, "a warm image needs a program with main", {name});
  WarmImage out;
  for (llvm::Function& f : m) {
    if (f.isDeclaration() || f.hasAvailableExternallyLinkage()) continue;
    if (!profile || profile->count(f.getName().str())) {
      out.hot_functions++;
      continue;
    }
    // Never ran: instruction selection at O0 (optnone requires noinline), and the optimized
    // callers do not inline it either.
    f.removeFnAttr(llvm::Attribute::AlwaysInline);
    f.removeFnAttr(llvm::Attribute::InlineHint);
    f.addFnAttr(llvm::Attribute::OptimizeNone);
    f.addFnAttr(llvm::Attribute::NoInline);
    out.cold_functions++;
  }
  backend::TargetConfig tc = backend::TargetConfig::host();
  tc.emulated_tls = false;
  TJ_ASSIGN_OR_RETURN(auto tm, backend::make_target_machine(tc, 2));
  m.setDataLayout(tm->createDataLayout());
  TJ_ASSIGN_OR_RETURN(std::string obj, backend::compile_to_object(m, *tm, 2));

  std::string tmpl = (std::filesystem::temp_directory_path() / "tierjit-image-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    return make_error(ErrorCode::kIo, "cannot create a temporary directory", {tmpl});
  std::string so_path = tmpl + "/image.so";
  Status linked = link_shared(obj, so_path);
  auto so = linked.ok() ? read_file(so_path) : Expected<std::string>(linked.take_error());
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  if (!so.ok()) return so.take_error();
  out.shared_object = std::move(*so);
  return out;
}

Status compile_file(const std::string& input, const CompileOptions& opts) {
  TJ_ASSIGN_OR_RETURN(std::string bytes, read_file(input));
  return compile_bytes(std::move(bytes), input, opts);
}

Status compile_bytes(std::string bytes, const std::string& input, const CompileOptions& opts) {
  llvm::LLVMContext ctx;
  TJ_ASSIGN_OR_RETURN(llvmir::LoadedIr ir,
                      llvmir::load_ir_bytes(std::move(bytes), input, ctx, false));
  llvm::Module& m = *ir.module;
  TJ_TRY(llvmir::verify_ir(m, input));
  std::string triple =
      m.getTargetTriple().empty() ? llvm::sys::getProcessTriple() : m.getTargetTriple().str();
  backend::TargetConfig tc =
      opts.native_cpu ? backend::TargetConfig::host() : backend::TargetConfig::generic(triple);
  tc.emulated_tls = false;  // a normal linker resolves native TLS
  TJ_ASSIGN_OR_RETURN(auto tm, backend::make_target_machine(tc, opts.opt_level));
  m.setDataLayout(tm->createDataLayout());
  TJ_ASSIGN_OR_RETURN(std::string obj, backend::compile_to_object(m, *tm, opts.opt_level));
  if (opts.kind == OutputKind::kObject) return write_file_atomic(opts.output, obj);
  return link_shared(obj, opts.output);
}

}  // namespace tierjit::aot
