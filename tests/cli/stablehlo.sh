#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# `tierjit stablehlo-test`: a wrong expectation fails with its location and values, a right
# one passes, the counts line is last; on the shared StableHLO corpus (when present) the
# reference evaluator passes at least the recorded number of files (a regression gate,
# docs/BENCHMARKS.md has the current counts).
source "$(dirname "$0")/lib.sh"

expect_run "mini corpus" 1 "" -- "$TIERJIT" stablehlo-test "$SRC/tests/stablehlo"
grep -q "^FAIL wrong_expectation.mlir: wrong_expectation.mlir:4:3: check.expect_eq_const: element 1 is 4, expected 5$" "$WORK/out" ||
  { echo "FAIL: no located failure line"; cat "$WORK/out"; failures=$((failures + 1)); }
[ "$(tail -1 "$WORK/out")" = "5 passed, 1 failed, 0 skipped" ] ||
  { echo "FAIL: counts line"; tail -1 "$WORK/out"; failures=$((failures + 1)); }
expect_run "not a directory" 66 "not a directory" -- "$TIERJIT" stablehlo-test "$SRC/nonexistent"
# The compiled path reports the same located failure, tagged.
expect_run "compiled path" 1 "" -- "$TIERJIT" stablehlo-test "$SRC/tests/stablehlo" --path compiled
grep -q "^FAIL wrong_expectation.mlir: \[compiled\] wrong_expectation.mlir:4:3: check.expect_eq_const: element 1 is 4, expected 5$" "$WORK/out" ||
  { echo "FAIL: no located compiled failure line"; cat "$WORK/out"; failures=$((failures + 1)); }
expect_run "both paths" 1 "" -- "$TIERJIT" stablehlo-test "$SRC/tests/stablehlo" --path both
[ "$(tail -1 "$WORK/out")" = "5 passed, 1 failed, 0 skipped" ] ||
  { echo "FAIL: both counts line"; tail -1 "$WORK/out"; failures=$((failures + 1)); }
# Skips are grouped by cause, without path tags, locations or op names.
mkdir -p "$WORK/skips"
for i in 1 2; do
  printf 'func.func @q%s() {\n  %%0 = stablehlo.constant dense<1> : tensor<!quant.uniform<i8:f32, 0.5:3>>\n  func.return\n}\n' "$i" > "$WORK/skips/q$i.mlir"
done
expect_run "skips by reason" 0 "" -- "$TIERJIT" stablehlo-test "$WORK/skips" --path both
if ! grep -q "^skipped, by reason:$" "$WORK/out" || ! grep -q "^      2 element type '!quant.uniform<i8:f32, 0.5:3>' is not supported$" "$WORK/out" ||
   [ "$(tail -1 "$WORK/out")" != "0 passed, 0 failed, 2 skipped" ]; then
  echo "FAIL: skips by reason"; cat "$WORK/out"; failures=$((failures + 1)); fi
expect_run "bad --path" 64 "must be reference, compiled or both" -- "$TIERJIT" stablehlo-test "$SRC/tests/stablehlo" --path fast

# tierjit run model.mlir with .npy inputs and outputs.
d="$SRC/tests/stablehlo_run"
expect_run "run mlir" 0 "" -- "$TIERJIT" run "$d/bias_sum.mlir" --input "$d/x.npy" --input "$d/b.npy"
printf 'tensor<2x3xf32> [1.5, 3, 5, 4.5, 6, 8]\ntensor<2xf32> [9.5, 18.5]\n' > "$WORK/want"
cmp -s "$WORK/out" "$WORK/want" || { echo "FAIL run mlir output"; cat "$WORK/out"; failures=$((failures + 1)); }
expect_run "run mlir (evaluator)" 0 "" -- "$TIERJIT" run "$d/bias_sum.mlir" --tier interp --input "$d/x.npy" --input "$d/b.npy"
cmp -s "$WORK/out" "$WORK/want" || { echo "FAIL run mlir --tier interp output"; cat "$WORK/out"; failures=$((failures + 1)); }
expect_run "run mlir --stats" 0 "compiled in" -- "$TIERJIT" run "$d/bias_sum.mlir" --stats --input "$d/x.npy" --input "$d/b.npy"
# --stats names the convolution algorithm the tensor kernels ran (SAME 3x3, 32 channels).
cat > "$WORK/conv.mlir" <<'EOF'
func.func @main() -> tensor<1x8x8x32xf32> {
  %x = stablehlo.iota dim = 3 : tensor<1x8x8x32xf32>
  %w = stablehlo.constant dense<0.25> : tensor<3x3x32x32xf32>
  %c = stablehlo.convolution(%x, %w) dim_numbers = [b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f], window = {stride = [1, 1], pad = [[1, 1], [1, 1]]} {batch_group_count = 1 : i64, feature_group_count = 1 : i64} : (tensor<1x8x8x32xf32>, tensor<3x3x32x32xf32>) -> tensor<1x8x8x32xf32>
  return %c : tensor<1x8x8x32xf32>
}
EOF
expect_run "run conv --stats" 0 "convolutions: 1 by Winograd F\\(4x4, 3x3\\), 0 by im2col" -- \
  "$TIERJIT" run "$WORK/conv.mlir" --stats --no-cache
# A corner output sees 2x2 pixels of channels 0..31: 4 x 0.25 x 496 = 496.
grep -q '^tensor<1x8x8x32xf32> \[496, 496,' "$WORK/out" ||
  { echo "FAIL: conv values"; head -c 300 "$WORK/out"; failures=$((failures + 1)); }
# f32 tanh over a tensor: the loop vectorizer calls glibc's vector tanh (in double), unless
# TIERJIT_NO_VECTOR_MATH is set; f64 keeps the scalar call (the evaluator's bits).
cat > "$WORK/tanh.mlir" <<'EOF'
func.func @main() -> (tensor<1024xf32>, tensor<1024xf64>) {
  %x = stablehlo.iota dim = 0 : tensor<1024xf32>
  %y = stablehlo.tanh %x : tensor<1024xf32>
  %d = stablehlo.iota dim = 0 : tensor<1024xf64>
  %e = stablehlo.tanh %d : tensor<1024xf64>
  return %y, %e : tensor<1024xf32>, tensor<1024xf64>
}
EOF
expect_run "vector tanh" 0 "call .*@_ZGV[de]N[48]v_tanh\\(" -- env TIERJIT_DUMP_STABLEHLO_IR=after \
  "$TIERJIT" run "$WORK/tanh.mlir" --no-cache
n=$(grep -c "call double @tanh(" "$WORK/err")
[ "$n" = 1 ] || { echo "FAIL: f64 tanh calls: $n, want 1 scalar call"; failures=$((failures + 1)); }
expect_run "no vector math" 0 "" -- env TIERJIT_DUMP_STABLEHLO_IR=after TIERJIT_NO_VECTOR_MATH=1 \
  "$TIERJIT" run "$WORK/tanh.mlir" --no-cache
! grep -q "_ZGV" "$WORK/err" || { echo "FAIL: vector math with TIERJIT_NO_VECTOR_MATH"; failures=$((failures + 1)); }
expect_run "run mlir --output" 0 "" -- "$TIERJIT" run "$d/bias_sum.mlir" --input "$d/x.npy" \
  --input "$d/b.npy" --output "$WORK/y.npy" --output "$WORK/s.npy"
# Results written as .npy read back as inputs: y (2x3) + b again.
expect_run "npy round trip" 0 "" -- "$TIERJIT" run "$d/bias_sum.mlir" --input "$WORK/y.npy" --input "$d/b.npy"
head -1 "$WORK/out" | grep -q '^tensor<2x3xf32> \[2, 4, 7, 5, 7, 10\]$' ||
  { echo "FAIL npy round trip"; cat "$WORK/out"; failures=$((failures + 1)); }
expect_run "wrong input shape" 65 "input 0 is f32x3, @main wants f32x2x3" -- \
  "$TIERJIT" run "$d/bias_sum.mlir" --input "$d/b.npy" --input "$d/b.npy"
expect_run "missing inputs" 64 "takes 2 inputs" -- "$TIERJIT" run "$d/bias_sum.mlir"
expect_run "bad npy" 65 "bad magic" -- "$TIERJIT" run "$d/bias_sum.mlir" --input "$d/bad.npy" --input "$d/b.npy"
expect_run "missing entry" 67 "no function @nope" -- "$TIERJIT" run "$d/bias_sum.mlir" --entry nope
# The compiled path's object cache: the second run loads the object the first one stored.
rm -rf "$TIERJIT_CACHE_DIR"
expect_run "run mlir, cache store" 0 "" -- "$TIERJIT" run "$d/bias_sum.mlir" --input "$d/x.npy" --input "$d/b.npy"
n=$(find "$TIERJIT_CACHE_DIR" -type f 2>/dev/null | wc -l)
[ "$n" -ge 1 ] || { echo "FAIL run mlir stored no object"; failures=$((failures + 1)); }
expect_run "run mlir, cache hit" 0 "" -- "$TIERJIT" run "$d/bias_sum.mlir" --input "$d/x.npy" --input "$d/b.npy"
cmp -s "$WORK/out" "$WORK/want" || { echo "FAIL run mlir cached output"; cat "$WORK/out"; failures=$((failures + 1)); }
expect_run "run mlir --no-cache" 0 "" -- "$TIERJIT" run "$d/bias_sum.mlir" --no-cache \
  --cache-dir "$WORK/untouched" --input "$d/x.npy" --input "$d/b.npy"
[ ! -e "$WORK/untouched" ] || { echo "FAIL --no-cache wrote a cache"; failures=$((failures + 1)); }
expect_run "--input on IR" 64 "apply to StableHLO" -- "$TIERJIT" run "$DATA/hello.ll" --input x.npy

corpus="${TIERJIT_STABLEHLO_DIR:-$SRC/../shared/stablehlo}"
if [ ! -d "$corpus" ]; then
  if [ "${TIERJIT_NO_STABLEHLO_CORPUS:-}" = 1 ]; then
    echo "skip shared corpus: none at $corpus (TIERJIT_NO_STABLEHLO_CORPUS=1)"
  else
    echo "FAIL shared corpus: none at $corpus (set TIERJIT_STABLEHLO_DIR, or TIERJIT_NO_STABLEHLO_CORPUS=1 to skip)"
    failures=$((failures + 1)); checks=$((checks + 1))
  fi
else
  expect_run "shared corpus" 0 "" -- "$TIERJIT" stablehlo-test "$corpus" --expect-passed 1807
  tail -1 "$WORK/out"
  # Both paths: a file counts only when the evaluator and the compiled code pass it.
  expect_run "shared corpus, both paths" 0 "" -- "$TIERJIT" stablehlo-test "$corpus" --path both --expect-passed 1807
  tail -1 "$WORK/out"
  # No file fails on either path (skips are the types the front end does not take).
  grep -q ' 0 failed,' "$WORK/out" || { echo "FAIL shared corpus has failures"; failures=$((failures + 1)); }
fi
# Complex numbers through .npy files (complex64 in, complex64 out), against NumPy.
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  printf 'func.func @main(%%a: tensor<3xcomplex<f32>>) -> tensor<3xcomplex<f32>> {\n  %%0 = stablehlo.multiply %%a, %%a : tensor<3xcomplex<f32>>\n  %%1 = stablehlo.fft %%0, type = FFT, length = [3] : (tensor<3xcomplex<f32>>) -> tensor<3xcomplex<f32>>\n  return %%1 : tensor<3xcomplex<f32>>\n}\n' > "$WORK/csq.mlir"
  /usr/bin/python3 -c "import numpy as np; np.save('$WORK/c.npy', np.array([1+2j, -0.5+0.25j, 3-1j], np.complex64)); np.save('$WORK/c128.npy', np.zeros(3, np.complex128)); np.save('$WORK/c2.npy', np.zeros(2, np.complex64)); np.save('$WORK/c4.npy', np.ones(4, np.complex64))"
  for path in auto interp; do
    expect_run "complex .npy ($path)" 0 "" -- "$TIERJIT" run "$WORK/csq.mlir" --tier "$path" --input "$WORK/c.npy" --output "$WORK/cout-$path.npy"
    checks=$((checks + 1))
    if /usr/bin/python3 -c "
import numpy as np, sys
a = np.load('$WORK/c.npy'); got = np.load('$WORK/cout-$path.npy')
sys.exit(0 if got.dtype == np.complex64 and np.allclose(got, np.fft.fft(a * a), rtol=1e-5) else 1)"; then
      echo "ok   complex .npy ($path): as NumPy"; else
      echo "FAIL complex .npy ($path)"; failures=$((failures + 1)); fi
  done
  expect_run "complex .npy of another dtype" 65 "input 0 is complex<f64>x3, @main wants complex<f32>x3" -- \
    "$TIERJIT" run "$WORK/csq.mlir" --input "$WORK/c128.npy"
  expect_run "complex .npy of another shape" 65 "input 0 is complex<f32>x2, @main wants complex<f32>x3" -- \
    "$TIERJIT" run "$WORK/csq.mlir" --input "$WORK/c2.npy"
  # int8 .npy files: i8 where the signature says i8 (i2/i4 share NumPy's int8); f8 bits as uint8.
  printf 'func.func @main(%%a: tensor<3xi8>, %%b: tensor<3xf8E4M3FN>) -> (tensor<3xi8>, tensor<3xf8E4M3FN>) {\n  %%0 = stablehlo.add %%a, %%a : tensor<3xi8>\n  %%1 = stablehlo.add %%b, %%b : tensor<3xf8E4M3FN>\n  return %%0, %%1 : tensor<3xi8>, tensor<3xf8E4M3FN>\n}\n' > "$WORK/i8.mlir"
  /usr/bin/python3 -c "import numpy as np; np.save('$WORK/i8.npy', np.array([1, -2, 100], np.int8)); np.save('$WORK/f8.npy', np.array([0x38, 0x40, 0x7E], np.uint8))"
  expect_run "int8 and f8 .npy inputs" 0 "" -- "$TIERJIT" run "$WORK/i8.mlir" --input "$WORK/i8.npy" --input "$WORK/f8.npy"
  printf 'tensor<3xi8> [2, -4, -56]\ntensor<3xf8E4M3FN> [2, 4, nan]\n' > "$WORK/want8"
  cmp -s "$WORK/out" "$WORK/want8" || { echo "FAIL int8/f8 .npy output"; cat "$WORK/out"; failures=$((failures + 1)); }
  printf 'func.func @main(%%a: tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>> {\n  %%0 = stablehlo.fft %%a, type = FFT, length = [5] : (tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>>\n  return %%0 : tensor<4xcomplex<f32>>\n}\n' > "$WORK/bad_fft.mlir"
  for path in auto interp; do
    expect_run "fft with a length that is not the operand's ($path)" 65 "bad_fft.mlir:2:3: stablehlo.fft: operand dimension 0 is 4, fft_length asks for 5 \(C4\)" -- \
      "$TIERJIT" run "$WORK/bad_fft.mlir" --tier "$path" --input "$WORK/c4.npy"
  done
fi
printf 'func.func @main(%%a: tensor<2xf32>, %%b: tensor<2xf64>) -> tensor<2xcomplex<f32>> {\n  %%0 = stablehlo.complex %%a, %%b : (tensor<2xf32>, tensor<2xf64>) -> tensor<2xcomplex<f32>>\n  return %%0 : tensor<2xcomplex<f32>>\n}\n' > "$WORK/bad_complex.mlir"
expect_run "verifier: complex of two types" 65 "bad_complex.mlir:2:3: stablehlo.complex: lhs is f32, rhs f64 \(C1\)" -- \
  "$TIERJIT" run "$WORK/bad_complex.mlir" --input "$d/b.npy" --input "$d/b.npy"
# The verifier rejects ill-typed programs before anything runs, located.
printf 'func.func @main(%%a: tensor<2xf32>, %%b: tensor<3xf32>) -> tensor<2xf32> {\n  %%0 = "stablehlo.add"(%%a, %%b) : (tensor<2xf32>, tensor<3xf32>) -> tensor<2xf32>\n  return %%0 : tensor<2xf32>\n}\n' > "$WORK/bad_add.mlir"
expect_run "verifier: shape mismatch" 65 "bad_add.mlir:2:3: stablehlo.add: operand 1 is tensor<3xf32>, expected the shape of tensor<2xf32> \(C1\)" -- \
  "$TIERJIT" run "$WORK/bad_add.mlir" --input "$d/b.npy" --input "$d/b.npy"
finish
