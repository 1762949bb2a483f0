# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# The C API (include/tierjit/tierjit.h) from a C program linked against libtierjit.so in the
# build tree: tests/capi/capi_test.c on a riscv64 guest built here.
. "$(dirname "$0")/lib.sh"
read -r -a GFLAGS <<< "$("$TIERJIT" guest-cflags)"
"$CLANG" "${GFLAGS[@]}" -march=rv64gc_zbb -O2 -S -emit-llvm "$SRC/tests/sandbox/guests/api_guest.c" \
  -o "$WORK/api.ll" && "$TIERJIT" compile --target riscv64 "$WORK/api.ll" -o "$WORK/api.elf" ||
  { echo "FAIL building the guest"; exit 1; }
"$CAPI_TEST" "$WORK/api.elf" "$WORK/jit-cache"
