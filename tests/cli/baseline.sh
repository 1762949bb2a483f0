# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# The baseline tier for LLVM IR: the same program built by clang at -O0, -O1 and -O2, run at
# `--tier baseline` (fixed), tiered (baseline, then O2 mid-run) and warm, must print what the
# native build prints, and --stats must show that the baseline tier compiled the functions
# (not the LLVM fallback) and why any function fell back.
. "$(dirname "$0")/lib.sh"
C_SRC="$SRC/tests/data/baseline_ops.c"
for o in O0 O1 O2; do
  "$CLANG" -$o "$C_SRC" -o "$WORK/bl-$o"
  "$CLANG" -$o -emit-llvm -c "$C_SRC" -o "$WORK/bl-$o.bc"
  "$WORK/bl-$o" 1000 > "$WORK/bl-$o.expected"
  status=$?
  for mode in "--tier baseline" "" "--tier-thresholds 1" "--tier-thresholds 2,5,9"; do
    expect_run "-$o $mode" $status "" -- "$TIERJIT" run --no-cache $mode "$WORK/bl-$o.bc" -- 1000
    expect_stdout "-$o $mode output" "$WORK/bl-$o.expected" -- \
      "$TIERJIT" run --no-cache $mode "$WORK/bl-$o.bc" -- 1000
  done
  for round in cold warm bundle; do
    expect_stdout "-$o cached ($round)" "$WORK/bl-$o.expected" -- \
      "$TIERJIT" run --cache-dir "$WORK/cache-$o" "$WORK/bl-$o.bc" -- 1000
  done
  # From the third run the baseline code comes from the cache (saved images), not compiled.
  expect_run "-$o baseline code loaded from the cache" $status \
    "baseline 0 \(.*\), [1-9][0-9]* from the cache" -- \
    "$TIERJIT" run --stats --cache-dir "$WORK/cache-$o" "$WORK/bl-$o.bc" -- 1000
  expect_stdout "-$o cached (images)" "$WORK/bl-$o.expected" -- \
    "$TIERJIT" run --cache-dir "$WORK/cache-$o" "$WORK/bl-$o.bc" -- 1000
  # A damaged cache entry (here: every entry, one byte each) is discarded and counted; the
  # run compiles instead and prints the same.
  find "$WORK/cache-$o" -name '*.obj' | while read -r f; do
    printf '\xff' | dd of="$f" bs=1 seek=60 conv=notrunc status=none
  done
  expect_run "-$o damaged cache entries counted" $status "corrupt [1-9][0-9]*" -- \
    "$TIERJIT" run --stats --cache-dir "$WORK/cache-$o" "$WORK/bl-$o.bc" -- 1000
  expect_stdout "-$o damaged cache: same output" "$WORK/bl-$o.expected" -- \
    "$TIERJIT" run --cache-dir "$WORK/cache-$o" "$WORK/bl-$o.bc" -- 1000
  # The functions really ran baseline code: each of these rows says "base".
  fns="widths bits fp sparse dense phis items atomics vsum vec sum_bytes"
  [ $o = O0 ] && fns="$fns divs many"  # clang folds these calls away at -O1 and -O2
  for fn in $fns; do
    expect_run "-$o $fn compiled by the baseline tier" $status "^  $fn +[0-9]+ +base " -- \
      "$TIERJIT" run --no-cache --stats --tier baseline "$WORK/bl-$o.bc" -- 1000
  done
  expect_run "-$o baseline count" $status "baseline [1-9][0-9]* \(" -- \
    "$TIERJIT" run --no-cache --stats --tier baseline "$WORK/bl-$o.bc" -- 1000
done
# Only the function with 128-bit integers falls back at -O1, and its reason is shown.
expect_run "fallback counted with its reason" 0 "fallback 1: i128 x1" -- \
  "$TIERJIT" run --no-cache --stats --tier baseline "$WORK/bl-O1.bc" -- 1000
# Tiered: the hot functions leave the baseline tier for O2 at calls. --sync-tier-up makes the
# call that crosses the threshold wait for the compile, so a slow build (sanitizers) reaches
# the same tiers as a fast one; without it, the program may end before the compile does.
"$WORK/bl-O1" 3000000 > /dev/null
expect_run "tier-up from the baseline" $? "^  dense +[0-9]+ +O2 " -- \
  "$TIERJIT" run --no-cache --stats --no-osr --sync-tier-up --tier-thresholds 1 "$WORK/bl-O1.bc" -- 3000000
# --no-baseline and --opt start every function in LLVM.
expect_run "--no-baseline" 0 "^  dense +[0-9]+ +O0 " -- \
  "$TIERJIT" run --no-cache --stats --no-baseline --tier-thresholds 100000 "$WORK/bl-O1.bc" -- 1000
# Compile speed, per function and in total, against LLVM -O0 on the same functions.
"$TIERJIT" compile --tier baseline --time "$WORK/bl-O2.bc" > "$WORK/timing.txt" 2>&1
checks=$((checks + 1))
if grep -Eq "^dense +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ *$" "$WORK/timing.txt" &&
   grep -Eq "compiled by the baseline tier \([1-9][0-9]* IR instructions\), 1 fell back" "$WORK/timing.txt" &&
   grep -Eq "^  ratio \(LLVM -O0 / baseline, same functions\): [0-9.]+x" "$WORK/timing.txt"; then
  echo "ok   compile --tier baseline --time"
else
  echo "FAIL compile --tier baseline --time"; head -5 "$WORK/timing.txt"; tail -6 "$WORK/timing.txt"
  failures=$((failures + 1))
fi
expect_run "compile --time needs --tier baseline" 64 "--tier baseline --time" -- \
  "$TIERJIT" compile --time "$WORK/bl-O2.bc"
expect_run "bad --tier" 64 "--tier for LLVM IR is baseline" -- \
  "$TIERJIT" run --no-cache --tier cnp "$WORK/bl-O1.bc"
finish
