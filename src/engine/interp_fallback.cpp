// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// LLVM interpreter fallback, guarded by fork().
#include "engine/interp_fallback.hpp"

#include <llvm/ExecutionEngine/ExecutionEngine.h>
#include <llvm/ExecutionEngine/GenericValue.h>
#include <llvm/ExecutionEngine/Interpreter.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "llvmir/ir_loader.hpp"

namespace tierjit {

Expected<int> run_interpreted(const std::string& path, const std::string& entry,
                              const std::vector<std::string>& args) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0)
    return make_error(ErrorCode::kInternal, "fork failed: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    llvm::LLVMContext ctx;
    auto ir = llvmir::load_ir_file(path, ctx, false);
    if (!ir.ok()) {
      std::fprintf(stderr, "tierjit: %s\n", ir.error().to_string().c_str());
      std::_Exit(exit_status(ir.error().code));
    }
    llvm::Module* m = ir.value().module.get();
    llvm::Function* f = m->getFunction(entry);
    if (!f || f->isDeclaration()) {
      std::fprintf(stderr, "tierjit: %s: entry function '%s' is not defined\n", path.c_str(),
                   entry.c_str());
      std::_Exit(exit_status(ErrorCode::kMissingEntry));
    }
    std::string err;
    std::unique_ptr<llvm::ExecutionEngine> ee(llvm::EngineBuilder(std::move(ir.value().module))
                                                  .setEngineKind(llvm::EngineKind::Interpreter)
                                                  .setErrorStr(&err)
                                                  .create());
    if (!ee) {
      std::fprintf(stderr, "tierjit: cannot create the interpreter: %s\n", err.c_str());
      std::_Exit(70);
    }
    ee->runStaticConstructorsDestructors(false);
    int status = ee->runFunctionAsMain(f, args, environ);
    ee->runStaticConstructorsDestructors(true);
    llvm::outs().flush();  // the interpreter's printf writes through llvm::outs()
    std::fflush(nullptr);
    std::_Exit(status);
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) return make_error(ErrorCode::kInternal, "waitpid failed");
  }
  if (WIFSIGNALED(wstatus))
    return make_error(ErrorCode::kCompileFailed,
                      std::string("LLVM's interpreter crashed on this program (signal ") +
                          strsignal(WTERMSIG(wstatus)) + ")",
                      {path});
  return WEXITSTATUS(wstatus);
}

}  // namespace tierjit
