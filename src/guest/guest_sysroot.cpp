// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Locating the guest sysroot.
#include "guest/guest_sysroot.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace tierjit::guest {
namespace {

bool has_sysroot(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir / "lib" / "crt0.o", ec);
}

}  // namespace

Expected<std::string> guest_sysroot() {
  if (const char* env = std::getenv("TIERJIT_GUEST_SYSROOT"); env && *env) {
    if (has_sysroot(env)) return std::string(env);
    return make_error(ErrorCode::kFileNotFound,
                      std::string("TIERJIT_GUEST_SYSROOT=") + env + " has no lib/crt0.o");
  }
  std::vector<std::filesystem::path> candidates;
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    std::filesystem::path dir = std::filesystem::path(exe).parent_path();
    candidates.push_back(dir.parent_path() / "guest");
    candidates.push_back(dir.parent_path().parent_path() / "guest");
    candidates.push_back(dir.parent_path() / "share" / "tierjit" / "guest");
  }
  // An installed libtierjit.so in PREFIX/lib, loaded by a program that lives elsewhere.
  Dl_info info;
  if (::dladdr(reinterpret_cast<void*>(&guest_sysroot), &info) && info.dli_fname)
    candidates.push_back(std::filesystem::path(info.dli_fname).parent_path().parent_path() /
                         "share" / "tierjit" / "guest");
  candidates.emplace_back(TIERJIT_GUEST_BUILD_DIR);
  for (const auto& c : candidates)
    if (has_sysroot(c)) return std::filesystem::weakly_canonical(c).string();
  return make_error(ErrorCode::kFileNotFound,
                    "the riscv64 guest sysroot was not found (set TIERJIT_GUEST_SYSROOT)");
}

std::vector<std::string> guest_cflags(const std::string& sysroot) {
  return {"--target=riscv64-unknown-elf",
          "-march=rv64imafdc",
          "-mabi=lp64d",
          "-mcmodel=medany",
          "-nostdlibinc",
          "-isystem",
          sysroot + "/include"};
}

std::string guest_crt0(const std::string& sysroot) { return sysroot + "/lib/crt0.o"; }

std::vector<std::string> guest_libraries(const std::string& sysroot) {
  return {sysroot + "/lib/libtjguest.a", sysroot + "/lib/libc.a", sysroot + "/lib/libm.a",
          sysroot + "/lib/libgcc.a"};
}

std::string guest_linker_script(const std::string& sysroot) { return sysroot + "/lib/tierjit.ld"; }

}  // namespace tierjit::guest
