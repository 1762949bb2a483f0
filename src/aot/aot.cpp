// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// AOT compilation to .o and .so.
#include "aot/aot.hpp"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>
#include <unistd.h>

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
  Status s = llvmir::run_lld({"-shared", "--eh-frame-hdr", "-o", out_tmp, tmp});
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
