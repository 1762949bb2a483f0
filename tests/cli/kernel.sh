#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# `tierjit kernel`: info names the features and ISA; gemm, op and conv2d generate, check
# (against the generic kernels) and time shapes; TIERJIT_ISA lowers the ISA; bad arguments
# exit 64 (usage) or 65 (invalid input) with a message.
source "$(dirname "$0")/lib.sh"

expect_run "kernel info" 0 "" -- "$TIERJIT" kernel info
grep -q "^best isa: " "$WORK/out" || { echo "FAIL info: no 'best isa' line"; failures=$((failures + 1)); }
grep -q "^caches: L1d" "$WORK/out" || { echo "FAIL info: no caches line"; failures=$((failures + 1)); }

for shape in "1 1 1" "17 33 9" "64 64 64" "100 37 250"; do
  set -- $shape
  for flags in "" "--trans-a" "--trans-b --beta 0.5" "--col-major --alpha 2" "--threads 2"; do
    expect_run "kernel gemm $shape $flags" 0 "" -- "$TIERJIT" kernel gemm --m $1 --n $2 --k $3 $flags
  done
done
expect_run "kernel gemm --bench" 0 "" -- "$TIERJIT" kernel gemm --m 64 --n 64 --k 64 --bench --seconds 0.05
grep -Eq "[0-9.]+ GFLOP/s, [0-9.]+% of measured peak" "$WORK/out" ||
  { echo "FAIL --bench: no GFLOP/s line"; cat "$WORK/out"; failures=$((failures + 1)); }

# Every ISA level this CPU supports, forced from the environment.
for isa in scalar avx2 avx512; do
  if "$TIERJIT" kernel info | grep -Eq "^best isa: (avx512|$isa)"; then
    expect_run "TIERJIT_ISA=$isa" 0 "" -- env TIERJIT_ISA=$isa "$TIERJIT" kernel gemm --m 45 --n 70 --k 33
    grep -q "isa=$isa" "$WORK/out" || { echo "FAIL TIERJIT_ISA=$isa not used"; failures=$((failures + 1)); }
  fi
done

# stdout_has NAME REGEX: the last command's stdout matches.
stdout_has() {
  grep -Eq -- "$2" "$WORK/out" || { echo "FAIL $1: stdout lacks /$2/"; head -5 "$WORK/out"; failures=$((failures + 1)); }
}

# The other kernels: every op on a shape with tails, each ISA, checked against the generic
# kernel by the CLI itself (non-zero exit on a mismatch).
for op in relu exp tanh sigmoid gelu add sub mul div max min reduce_sum reduce_max reduce_mean \
  softmax layer_norm; do
  expect_run "kernel op $op" 0 "" -- "$TIERJIT" kernel op $op --rows 7 --cols 45
  stdout_has "kernel op $op" "max relative difference"
done
expect_run "kernel op axis 0" 0 "" -- "$TIERJIT" kernel op reduce_sum --rows 19 --cols 33 --axis 0
expect_run "kernel op --bench" 0 "" -- "$TIERJIT" kernel op exp --cols 1000 --bench --seconds 0.05
stdout_has "kernel op --bench" "ns/element"
for isa in scalar avx2; do
  if "$TIERJIT" kernel info | grep -Eq "^best isa: (avx512|$isa)"; then
    expect_run "kernel op --isa $isa" 0 "" -- "$TIERJIT" kernel op gelu --cols 77 --isa $isa
    stdout_has "kernel op --isa $isa" "isa=$isa"
  fi
done
expect_run "kernel conv2d" 0 "" -- \
  "$TIERJIT" kernel conv2d --n 2 --c 3 --h 11 --w 9 --k 5 --r 3 --s 3 --stride 2 --pad 1
stdout_has "kernel conv2d" "max relative difference"
expect_run "kernel conv2d --bench" 0 "" -- \
  "$TIERJIT" kernel conv2d --c 16 --h 14 --w 14 --k 16 --r 3 --s 3 --pad 1 --bench --seconds 0.05
stdout_has "kernel conv2d --bench" "GFLOP/s"
expect_run "unknown op" 64 "unknown op 'softmin'" -- "$TIERJIT" kernel op softmin --cols 4
expect_run "conv2d too small" 65 "does not fit" -- \
  "$TIERJIT" kernel conv2d --c 1 --h 2 --w 2 --k 1 --r 3 --s 3

expect_run "negative M" 64 "must be >= 0" -- "$TIERJIT" kernel gemm --m -1 --n 4 --k 4
expect_run "unknown --isa" 64 "unknown ISA" -- "$TIERJIT" kernel gemm --m 4 --n 4 --k 4 --isa sse9
expect_run "unknown TIERJIT_ISA" 64 "TIERJIT_ISA" -- env TIERJIT_ISA=bogus "$TIERJIT" kernel info
finish
