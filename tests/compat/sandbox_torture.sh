# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# The sandbox corpus under ctest (compat.sandbox_torture): GCC 12's C torture execute tests
# built with Debian's riscv64 glibc cross compiler, run by `tierjit sandbox` (both tiers)
# against qemu-riscv64 (tests/compat/sandbox-corpus). SANDBOX_SAMPLE=N runs every Nth program.
set -u
: "${TIERJIT:?}" "${SRC:?}" "${COMPAT_CORPUS:?}" "${SANDBOX_WORK:?}"
command -v riscv64-linux-gnu-gcc >/dev/null && command -v qemu-riscv64 >/dev/null ||
  { echo "sandbox corpus: riscv64-linux-gnu-gcc or qemu-riscv64 missing (scripts/setup)"; exit 77; }
if ! bash "$SRC/scripts/fetch-compat-corpus" "$COMPAT_CORPUS"; then
  echo "sandbox corpus: the corpus (Debian's gcc-12-source) could not be fetched: skipped"
  exit 77
fi
exec /usr/bin/python3 "$SRC/tests/compat/sandbox-corpus" --tierjit "$TIERJIT" \
  --corpus "$COMPAT_CORPUS" --work "$SANDBOX_WORK" --sample "${SANDBOX_SAMPLE:-1}" \
  --min "${SANDBOX_MIN:-200}" -j 2
