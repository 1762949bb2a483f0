#!/bin/bash
# `tierjit kernel`: info names the features and ISA; gemm generates, checks (against the
# generic kernel) and times shapes in every layout; TIERJIT_ISA lowers the ISA; bad arguments
# exit 64 with a message.
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

expect_run "negative M" 64 "must be >= 0" -- "$TIERJIT" kernel gemm --m -1 --n 4 --k 4
expect_run "unknown --isa" 64 "unknown ISA" -- "$TIERJIT" kernel gemm --m 4 --n 4 --k 4 --isa sse9
expect_run "unknown TIERJIT_ISA" 64 "TIERJIT_ISA" -- env TIERJIT_ISA=bogus "$TIERJIT" kernel info
finish
