# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# The public compatibility corpus under ctest (compat.gcc_torture) and `--target compat`:
# fetches GCC 12's run tests into COMPAT_CORPUS once, then run-corpus compares tierjit with the
# native builds in every mode. COMPAT_SAMPLE=N runs every Nth program (1: all of them).
set -u
: "${TIERJIT:?}" "${SRC:?}" "${COMPAT_CORPUS:?}" "${COMPAT_WORK:?}"
if ! bash "$SRC/scripts/fetch-compat-corpus" "$COMPAT_CORPUS"; then
  echo "compat: the corpus (Debian's gcc-12-source) could not be fetched: skipped"
  exit 77
fi
exec /usr/bin/python3 "$SRC/tests/compat/run-corpus" --tierjit "$TIERJIT" \
  --clang "${CLANG:-clang-22}" --corpus "$COMPAT_CORPUS" --work "$COMPAT_WORK" \
  --sample "${COMPAT_SAMPLE:-1}" -j "${COMPAT_JOBS:-2}" "$@"
