# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# `cmake --install` into a temporary prefix, then what a user of the installed tree does:
# build the C API test (tests/capi/capi_test.c) with pkg-config (shared and static) and with
# CMake's find_package, build a C++ program against the C++ API with CMake, run them all, and
# run a program with the installed `tierjit` command. Also: only the API is exported, the
# SONAME is versioned, the man page renders.
. "$(dirname "$0")/lib.sh"
# A sanitizer build's library needs the sanitizer runtime first in every program that loads it;
# users' programs built here have none.
if [ "${TIERJIT_SANITIZE:-OFF}" = ON ]; then echo "skip: sanitizer build"; exit 77; fi
P="$WORK/prefix"
cmake --install "$BUILD_DIR" --prefix "$P" > "$WORK/install.log" 2>&1 ||
  { echo "FAIL cmake --install"; tail -5 "$WORK/install.log"; exit 1; }
check() {  # NAME COMMAND...: a check that passes when the command succeeds
  local name=$1
  shift
  checks=$((checks + 1))
  if "$@" > "$WORK/check.out" 2>&1; then echo "ok   $name"; else
    echo "FAIL $name"; sed 's/^/  /' "$WORK/check.out" | tail -8; failures=$((failures + 1)); fi
}
for f in lib/libtierjit.so.0.1.0 lib/libtierjit.a include/tierjit/tierjit.h include/tierjit/engine.hpp \
  include/tierjit/version.hpp lib/cmake/tierjit/tierjitConfig.cmake \
  lib/cmake/tierjit/tierjitConfigVersion.cmake lib/pkgconfig/tierjit.pc bin/tierjit \
  bin/tierjit-engine share/man/man1/tierjit.1 share/doc/tierjit/LICENSE; do
  check "installed $f" test -s "$P/$f"
done
check "SONAME libtierjit.so.0" sh -c "readelf -d '$P/lib/libtierjit.so.0.1.0' | grep -q 'SONAME.*\[libtierjit.so.0\]'"
# Every exported symbol is the C API (tierjit_*) or the C++ API (namespace tierjit).
nm -DC --defined-only "$P/lib/libtierjit.so" | awk '$2 != "A" {$1=$2=""; print substr($0, 3)}' \
  | grep -Ev '^(tierjit_|tierjit::)' > "$WORK/leaks"
check "only the API is exported" test ! -s "$WORK/leaks"
[ -s "$WORK/leaks" ] && head -5 "$WORK/leaks"
check "man page renders" sh -c "command -v man > /dev/null || exit 0; MANWIDTH=80 man -l '$P/share/man/man1/tierjit.1' 2>&1 | grep -q 'tierjit run'"

# The riscv64 guest for the sandbox part, built with the installed command.
read -r -a GFLAGS <<< "$("$P/bin/tierjit" guest-cflags)"
"$CLANG" "${GFLAGS[@]}" -march=rv64gc_zbb -O2 -S -emit-llvm "$SRC/tests/sandbox/guests/api_guest.c" \
  -o "$WORK/api.ll"
check "the installed command uses the installed guest sysroot" sh -c \
  "'$P/bin/tierjit' guest-cflags | grep -q -- '-isystem $P/share/tierjit/guest/include'"
check "installed tierjit compiles a guest" "$P/bin/tierjit" compile --target riscv64 "$WORK/api.ll" -o "$WORK/api.elf"
check "installed tierjit runs a program" sh -c "'$P/bin/tierjit' run --no-cache '$DATA/hello.bc' | grep -q 'fib(24) 46368'"

export PKG_CONFIG_PATH="$P/lib/pkgconfig"
export LD_LIBRARY_PATH="$P/lib"
# shellcheck disable=SC2046
check "C with pkg-config (shared)" cc -std=c11 -Wall -Werror "$SRC/tests/capi/capi_test.c" \
  $(pkg-config --cflags --libs tierjit) -lm -o "$WORK/capi_pc"
check "  runs" "$WORK/capi_pc" "$WORK/api.elf" "$WORK/cache1"
check "  links libtierjit.so from the prefix" sh -c "ldd '$WORK/capi_pc' | grep -q '$P/lib/libtierjit.so.0'"
# shellcheck disable=SC2046
check "C with pkg-config --static" cc -std=c11 "$SRC/tests/capi/capi_test.c" $(pkg-config --cflags tierjit) \
  "$P/lib/libtierjit.a" $(pkg-config --static --libs tierjit | sed 's/-ltierjit//') -lm -o "$WORK/capi_static"
check "  runs" "$WORK/capi_static" "$WORK/api.elf" "$WORK/cache2"
check "  has no libtierjit.so dependency" sh -c "test -x '$WORK/capi_static' && ! ldd '$WORK/capi_static' | grep -q libtierjit"

# CMake: find_package(tierjit), a C program (the C API) and a C++ program (the C++ API).
mkdir -p "$WORK/user"
cat > "$WORK/user/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.25)
project(user LANGUAGES C CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(tierjit 0.1 REQUIRED)
add_executable(capi $SRC/tests/capi/capi_test.c)
target_link_libraries(capi PRIVATE tierjit::tierjit m)
add_executable(cpp main.cpp)
target_link_libraries(cpp PRIVATE tierjit::tierjit)
CM
cat > "$WORK/user/main.cpp" <<'CPP'
// A C++ user of the installed headers: the function JIT and the kernels.
#include <tierjit/jit_compiler.hpp>
#include <tierjit/kernels.hpp>
#include <cstdio>
int main() {
  tierjit::JitConfig cfg;
  cfg.cache_enabled = false;
  tierjit::JitCompiler jit(cfg);
  auto f = jit.compile_llvm_ir("define i64 @sq(i64 %x) {\n  %y = mul i64 %x, %x\n  ret i64 %y\n}\n", "sq");
  if (!f.ok()) { std::printf("error: %s\n", f.error().to_string().c_str()); return 1; }
  long long r = f.value()->as<long long(long long)>()(12);
  auto k = tierjit::kernels::KernelEngine::create();
  if (!k.ok()) return 1;
  float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[4] = {};
  auto s = k.value()->sgemm(tierjit::kernels::GemmDesc::row_major(2, 2, 2), 1, a, b, 0, c);
  std::printf("sq(12) = %lld, c = %g %g %g %g, %s\n", r, c[0], c[1], c[2], c[3], s.ok() ? "ok" : "error");
  return r == 144 && c[0] == 19 && c[3] == 50 ? 0 : 1;
}
CPP
check "CMake find_package configures" cmake -S "$WORK/user" -B "$WORK/user/build" -G Ninja -DCMAKE_PREFIX_PATH="$P"
check "CMake builds the C and C++ programs" cmake --build "$WORK/user/build"
check "  C program runs" "$WORK/user/build/capi" "$WORK/api.elf" "$WORK/cache3"
check "  C++ program runs" "$WORK/user/build/cpp"
grep -q "sq(12) = 144, c = 19 22 43 50, ok" "$WORK/check.out" ||
  { echo "FAIL C++ program output: $(cat "$WORK/check.out")"; failures=$((failures + 1)); }

# The Python module, found in the prefix's site directory and libtierjit.so through its
# RPATH (no LD_LIBRARY_PATH).
if [ -n "$PYTHON_MODULE" ]; then
  site=$(cd "$P" && ls -d lib/python3*/*-packages 2>/dev/null | head -1)
  check "Python module installed ($site)" test -n "$site"
  check "  imports and runs from the prefix" env -u LD_LIBRARY_PATH PYTHONPATH="$P/$site" \
    "$PYTHON_MODULE" -c "import numpy as np, tierjit; a = np.ones((3, 4), np.float32); \
assert (tierjit.kernels.sgemm(a, a.T) == 4).all(); assert tierjit.__file__.startswith('$P')"
fi
finish
