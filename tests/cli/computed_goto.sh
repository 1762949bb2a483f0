# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# GNU labels as values (blockaddress/indirectbr) at every tier, across tier-ups, warm and from
# the bundle: a private dispatch table (tiers up: each body has its own copy), a label kept
# in a global across calls (keeps its first body), a published table (pinned with the data).
. "$(dirname "$0")/lib.sh"
C_SRC="$SRC/tests/data/computed_goto.c"
"$CLANG" -O1 "$C_SRC" -o "$WORK/cg-native"
"$CLANG" -O1 -emit-llvm -c "$C_SRC" -o "$WORK/cg.bc"
"$CLANG" -O0 -emit-llvm -S "$C_SRC" -o "$WORK/cg-O0.ll"
"$WORK/cg-native" 300000 > "$WORK/cg.expected"
for file in cg.bc cg-O0.ll; do
  for mode in "--opt 0" "--opt 2" "" "--eager" "--tier-thresholds 1" "--tier-thresholds 2,5,9"; do
    expect_stdout "$file $mode" "$WORK/cg.expected" -- "$TIERJIT" run --no-cache $mode "$WORK/$file" -- 300000
  done
  for round in cold warm bundle; do
    for mode in "--tier-thresholds 1" ""; do
      expect_stdout "$file $mode cached ($round)" "$WORK/cg.expected" -- \
        "$TIERJIT" run --cache-dir "$WORK/cache-$file" $mode "$WORK/$file" -- 300000
    done
  done
done
# The interpreter really tiered up; the other two are counted, with their reasons.
expect_run "interpreter tiers up" 0 "interpret +[0-9]+ +O2" -- \
  "$TIERJIT" run --no-cache --stats --tier-thresholds 1 "$WORK/cg-O0.ll" -- 3000000
expect_run "label kept in a global: first body kept" 0 \
  "next_value: keeps its first body: a block address escapes the frame" -- \
  "$TIERJIT" run --no-cache --stats --tier-thresholds 1 "$WORK/cg-O0.ll" -- 3000000
expect_run "published table: pinned" 0 "classify: pinned to one body: 'classify': block" -- \
  "$TIERJIT" run --no-cache --stats --tier-thresholds 1 "$WORK/cg-O0.ll" -- 3000000
expect_run "both counted" 0 "pinned 2 \(" -- \
  "$TIERJIT" run --no-cache --stats --tier-thresholds 1 "$WORK/cg-O0.ll" -- 3000000

# A block address used by another function: text IR pins both; lazily read bitcode cannot
# see the use before compiling it, and stops with a located error instead of a crash.
for mode in "--opt 0" "--opt 2" "" "--tier-thresholds 1"; do
  expect_run "cross-function block address $mode" 30 "" -- \
    "$TIERJIT" run --no-cache $mode "$SRC/tests/data/cross_blockaddress.ll"
done
expect_run "cross-function block address pinned" 30 "get: pinned to one body: 'f': a block address of 'f' is used by 'get'" -- \
  "$TIERJIT" run --no-cache --stats "$SRC/tests/data/cross_blockaddress.ll"
llvm-as-22 "$SRC/tests/data/cross_blockaddress.ll" -o "$WORK/xba.bc" 2>/dev/null ||
  "$CLANG" -c -emit-llvm -x ir "$SRC/tests/data/cross_blockaddress.ll" -o "$WORK/xba.bc"
expect_run "cross-function block address from bitcode: located error" 69 \
  "xba.bc: function 'get': block address of 'f' used where that function's body is not compiled" -- \
  "$TIERJIT" run --no-cache "$WORK/xba.bc"
finish
