# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# Warm images: the second plain run of a program starts a background build of its warm image;
# later runs map it in the `tierjit` launcher and never map LLVM. Checked against a native
# build of the same program; the refused and corrupt cases fall back to the engine, visibly.
. "$(dirname "$0")/lib.sh"
export TIERJIT_WARM_IMAGE=on WARM_IMAGE_TEST=yes
P="$WORK/warm_image"
"$CLANG" -O1 "$SRC/tests/data/warm_image.c" -o "$P-native"
"$CLANG" -O1 -emit-llvm -c "$SRC/tests/data/warm_image.c" -o "$P.bc"
"$P-native" a "b c" > "$WORK/expected"
want=$?
# The engine's run of the program maps LLVM: its output differs from native in that line only.
sed 's/^llvm mappings 0$/llvm mappings N/' "$WORK/expected" > "$WORK/expected-engine"
grep -q "^llvm mappings 0$" "$WORK/expected" || { echo "FAIL native run maps LLVM?"; exit 1; }

engine_run() {  # NAME STATS_REGEX: a run the engine serves (output as native, LLVM mapped)
  expect_run "$1: status" "$want" "$2" -- "$TIERJIT" run --stats "$P.bc" -- a "b c"
  sed 's/^llvm mappings [1-9][0-9]*$/llvm mappings N/' "$WORK/out" > "$WORK/out-engine"
  checks=$((checks + 1))
  if diff -u "$WORK/expected-engine" "$WORK/out-engine"; then echo "ok   $1: output"; else
    echo "FAIL $1: output"; failures=$((failures + 1)); fi
}
image_run() {  # NAME: a run from the warm image: output and status exactly native
  expect_stdout "$1: output (no LLVM mapped)" "$WORK/expected" -- "$TIERJIT" run --stats "$P.bc" -- a "b c"
  expect_run "$1: status, launcher stats" "$want" \
    "warm image\), LLVM not loaded" -- "$TIERJIT" run --stats "$P.bc" -- a "b c"
}
wait_for_build() {  # waits for the background build named in the last stats (at most 300 s)
  local pid
  pid=$(sed -n 's/.*building in the background (pid \([0-9]*\)).*/\1/p' "$WORK/err")
  [ -n "$pid" ] || return 0
  for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  echo "FAIL the warm image build did not finish"; failures=$((failures + 1))
}

engine_run "first run" "warm image: none yet"
engine_run "second run" "warm image: building in the background \(pid [0-9]+\)"
wait_for_build
image_run "third run"

# Options other than --stats/--cache-dir, or TIERJIT_WARM_IMAGE=off: the engine runs it.
expect_run "--tier baseline: engine" "$want" "mode: fixed baseline" -- \
  "$TIERJIT" run --stats --tier baseline "$P.bc" -- a "b c"
TIERJIT_WARM_IMAGE=off engine_run "TIERJIT_WARM_IMAGE=off" "warm image: off"

# A damaged image (its shared object, beside the cache entry that holds its hash): reported,
# both files removed, the engine runs the program and starts a new build; the run after that
# maps the new image.
entry=$(grep -l "TJWI" "$TIERJIT_CACHE_DIR"/v1/*/*.obj | head -1)
[ -n "$entry" ] && [ -f "$entry.so" ] || { echo "FAIL no warm image in the cache"; failures=$((failures + 1)); }
printf 'X' | dd of="$entry.so" bs=1 seek=$(( $(stat -c %s "$entry.so") / 2 )) conv=notrunc 2>/dev/null
engine_run "corrupt image" "corrupt warm image .*content hash mismatch.*discarded"
checks=$((checks + 1))
if grep -q "warm image: building in the background" "$WORK/err"; then echo "ok   corrupt image: rebuild"
else echo "FAIL corrupt image: no rebuild started"; failures=$((failures + 1)); fi
wait_for_build
image_run "rebuilt image"

# `tierjit cache image` builds one now, every function at O2 (no profile).
expect_run "cache image" 0 "" -- "$TIERJIT" cache image "$P.bc"
checks=$((checks + 1))
if grep -Eq "warm image for .*: [1-9][0-9]* functions at O2, 0 at optnone" "$WORK/out"; then
  echo "ok   cache image: all functions at O2"; else echo "FAIL cache image: $(cat "$WORK/out")"
  failures=$((failures + 1)); fi

# An image the dynamic loader refuses (it needs zlib, which the launcher does not load but the
# engine's process does): the engine runs the program and --stats says why.
printf '%s\n' 'const char* zlibVersion(void);' '#include <stdio.h>' \
  'int main(void) { printf("zlib %c\n", zlibVersion()[0]); return 0; }' > "$WORK/z.c"
"$CLANG" -O1 -emit-llvm -c "$WORK/z.c" -o "$WORK/z.bc"
expect_run "zlib program: image" 0 "" -- "$TIERJIT" cache image "$WORK/z.bc"
expect_run "zlib program: refused image, engine runs it" 0 \
  "warm image: refused, the engine ran the program \(.*zlibVersion" -- \
  "$TIERJIT" run --stats "$WORK/z.bc"
checks=$((checks + 1))
if grep -q "^zlib 1$" "$WORK/out"; then echo "ok   zlib program output"; else
  echo "FAIL zlib program output: $(cat "$WORK/out")"; failures=$((failures + 1)); fi

# Background builds leave no profile or lock behind.
checks=$((checks + 1))
if ls "$TIERJIT_CACHE_DIR"/v1/*/*.profile "$TIERJIT_CACHE_DIR"/v1/*/*.building 2>/dev/null | grep -q .; then
  echo "FAIL leftovers: $(ls "$TIERJIT_CACHE_DIR"/v1/*/*.profile "$TIERJIT_CACHE_DIR"/v1/*/*.building 2>/dev/null)"
  failures=$((failures + 1)); else echo "ok   no profile or lock left behind"; fi

# The launcher itself links no LLVM.
checks=$((checks + 1))
if ldd "$TIERJIT" | grep -qi llvm; then echo "FAIL launcher links LLVM"; failures=$((failures + 1))
else echo "ok   launcher links no LLVM"; fi
finish
