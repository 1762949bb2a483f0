// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The riscv64 guest sysroot: tierjit's start-up code and system-call layer, picolibc and
// libgcc, plus the linker script (src/guest/runtime, built by src/guest/CMakeLists.txt).
// Located at run time; the engine needs no cross package installed. Used by the AOT compiler
// (src/aot/riscv.cpp links guests with it) and the CLI (`tierjit guest-cflags`).
#pragma once

#include <string>
#include <vector>

#include "support/error.hpp"

namespace tierjit::guest {

/// The target every guest is compiled for: RV64GC with the LP64D ABI, medany code model.
inline constexpr const char* kGuestTriple = "riscv64-unknown-elf";
inline constexpr const char* kGuestFeatures = "+m,+a,+f,+d,+c,+zicsr,+zifencei";
inline constexpr const char* kGuestAbi = "lp64d";

/// The sysroot directory (containing lib/ and include/). Searched in order: $TIERJIT_GUEST_SYSROOT,
/// <dir of the running executable>/../guest, <exe dir>/../share/tierjit/guest, the build tree.
/// Errors: kFileNotFound when none has lib/crt0.o.
Expected<std::string> guest_sysroot();

/// clang-22 flags that compile C to riscv64 LLVM IR for tierjit (`tierjit guest-cflags`).
std::vector<std::string> guest_cflags(const std::string& sysroot);

/// Linker inputs after the user's objects, in order (crt0 first is separate: guest_crt0).
std::string guest_crt0(const std::string& sysroot);
std::vector<std::string> guest_libraries(const std::string& sysroot);
std::string guest_linker_script(const std::string& sysroot);

}  // namespace tierjit::guest
