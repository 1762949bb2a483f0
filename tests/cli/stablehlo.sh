#!/bin/bash
# `tierjit stablehlo-test`: a wrong expectation fails with its location and values, a right
# one passes, the counts line is last; on the shared StableHLO corpus (when present) the
# reference evaluator passes at least the recorded number of files (a regression gate,
# docs/BENCHMARKS.md has the current counts).
source "$(dirname "$0")/lib.sh"

expect_run "mini corpus" 1 "" -- "$TIERJIT" stablehlo-test "$SRC/tests/stablehlo"
grep -q "^FAIL wrong_expectation.mlir: wrong_expectation.mlir:4:3: check.expect_eq_const: element 1 is 4, expected 5$" "$WORK/out" ||
  { echo "FAIL: no located failure line"; cat "$WORK/out"; failures=$((failures + 1)); }
[ "$(tail -1 "$WORK/out")" = "1 passed, 1 failed, 0 skipped" ] ||
  { echo "FAIL: counts line"; tail -1 "$WORK/out"; failures=$((failures + 1)); }
expect_run "not a directory" 66 "not a directory" -- "$TIERJIT" stablehlo-test "$SRC/nonexistent"
expect_run "compiled path" 69 "not built yet" -- "$TIERJIT" stablehlo-test "$SRC/tests/stablehlo" --path compiled

corpus="$SRC/../shared/stablehlo"
if [ -d "$corpus" ]; then
  expect_run "shared corpus" 0 "" -- "$TIERJIT" stablehlo-test "$corpus" --expect-passed 1610
  tail -1 "$WORK/out"
fi
finish
