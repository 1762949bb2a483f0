// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// In-process lld.
#include "llvmir/linker.hpp"

#include <lld/Common/Driver.h>
#include <llvm/Support/raw_ostream.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "support/file.hpp"

LLD_HAS_DRIVER(elf)

namespace tierjit::llvmir {

Status run_lld(const std::vector<std::string>& args) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::vector<const char*> argv = {"ld.lld"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::string diag;
  llvm::raw_string_ostream err(diag), out(diag);
  lld::Result r = lld::lldMain(argv, out, err, {{lld::Gnu, &lld::elf::link}});
  if (r.retCode != 0) return make_error(ErrorCode::kCompileFailed, "lld: " + diag);
  return {};
}

Expected<std::string> merge_objects(const std::vector<std::string>& objects) {
  char tmpl[] = "/tmp/tierjit-merge-XXXXXX";
  if (!::mkdtemp(tmpl)) return make_error(ErrorCode::kIo, "cannot create a temporary directory");
  std::string dir = tmpl;
  struct Cleanup {
    std::string d;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
  } cleanup{dir};
  std::vector<std::string> args = {"-r", "-o", dir + "/merged.o"};
  for (size_t i = 0; i < objects.size(); ++i) {
    std::string path = dir + "/" + std::to_string(i) + ".o";
    TJ_TRY(write_file_atomic(path, objects[i]));
    args.push_back(path);
  }
  TJ_TRY(run_lld(args));
  return read_file(dir + "/merged.o");
}

}  // namespace tierjit::llvmir
