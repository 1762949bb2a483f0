# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# The Debian programs corpus under ctest (compat.debian_programs) and `--target compat-programs`:
# fetches the source packages into PROGRAMS_CORPUS once, then run-programs builds each program
# and compares tierjit with its native build in every mode. PROGRAMS_SAMPLE=N runs every Nth case.
set -u
: "${TIERJIT:?}" "${SRC:?}" "${PROGRAMS_CORPUS:?}" "${PROGRAMS_WORK:?}"
if ! bash "$SRC/scripts/fetch-debian-programs" "$PROGRAMS_CORPUS"; then
  echo "compat: the Debian source packages could not be fetched (apt-get source): skipped"
  exit 77
fi
exec /usr/bin/python3 "$SRC/tests/compat/run-programs" --tierjit "$TIERJIT" \
  --clang "${CLANG:-clang-22}" --corpus "$PROGRAMS_CORPUS" --work "$PROGRAMS_WORK" \
  --sample "${PROGRAMS_SAMPLE:-1}" -j "${PROGRAMS_JOBS:-2}" "$@"
