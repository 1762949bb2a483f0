# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# On-stack replacement: functions entered once whose loops run long move from the baseline
# tier into O2 code while they run. Checked against native builds of the same program (IR
# from clang -O0, -O1, -O2), with --stats asserting that running frames entered
# continuations; --no-osr is the control.
. "$(dirname "$0")/lib.sh"
"$CLANG" -O1 "$SRC/tests/data/osr.c" -o "$WORK/osr-native"
"$WORK/osr-native" 10 > "$WORK/expected"

entered() {  # how many times running frames entered a continuation, from --stats
  sed -n 's/.*OSR: [0-9]* continuations .*, entered \([0-9]*\) times.*/\1/p' "$WORK/err"
}
check_entered() {  # NAME MIN
  checks=$((checks + 1))
  local n
  n=$(entered)
  if [ -n "$n" ] && [ "$n" -ge "$2" ]; then echo "ok   $1: entered $n continuations"
  else echo "FAIL $1: entered '${n}' continuations (want >= $2)"; grep OSR "$WORK/err"
    failures=$((failures + 1)); fi
}

for O in 0 1 2; do
  "$CLANG" -O$O -emit-llvm -c "$SRC/tests/data/osr.c" -o "$WORK/osr-O$O.bc"
  expect_stdout "IR -O$O tiered" "$WORK/expected" -- "$TIERJIT" run --no-cache --stats "$WORK/osr-O$O.bc" 10
  check_entered "IR -O$O tiered" 1
  expect_stdout "IR -O$O tier-up at once" "$WORK/expected" -- \
    "$TIERJIT" run --no-cache --stats --tier-thresholds 1 "$WORK/osr-O$O.bc" 10
  check_entered "IR -O$O tier-up at once" 1
  expect_stdout "IR -O$O three tiers" "$WORK/expected" -- \
    "$TIERJIT" run --no-cache --stats --tier-thresholds 2,4,8 "$WORK/osr-O$O.bc" 10
  check_entered "IR -O$O three tiers" 1
done
expect_stdout "--no-osr" "$WORK/expected" -- "$TIERJIT" run --no-cache --stats --no-osr "$WORK/osr-O1.bc" 10
checks=$((checks + 1))
if grep -q "OSR:" "$WORK/err"; then echo "FAIL --no-osr built continuations"; failures=$((failures + 1))
else echo "ok   --no-osr: no continuation"; fi

# Saved baseline images keep their OSR slot maps: a warm run from them transfers too.
expect_stdout "cold run" "$WORK/expected" -- "$TIERJIT" run --stats "$WORK/osr-O1.bc" 10
expect_stdout "warm run" "$WORK/expected" -- "$TIERJIT" run --stats "$WORK/osr-O1.bc" 10

# The program whose only hot code is a loop in main, entered once: main itself moves to O2.
printf '%s\n' '#include <stdio.h>' 'int main(int argc, char** argv) {' \
  '  unsigned h = 2166136261u; double acc = 0.5;' \
  '  for (long i = 0; i < 200000000L / argc; i++) { h = (h ^ (unsigned)i) * 16777619u; acc += (h & 7) * 0.25; }' \
  '  printf("%u %.2f\n", h, acc); return 0; }' > "$WORK/main_loop.c"
"$CLANG" -O1 "$WORK/main_loop.c" -o "$WORK/main_loop-native"
"$CLANG" -O1 -emit-llvm -c "$WORK/main_loop.c" -o "$WORK/main_loop.bc"
"$WORK/main_loop-native" > "$WORK/main_loop.expected"
expect_stdout "loop in main" "$WORK/main_loop.expected" -- "$TIERJIT" run --no-cache --stats "$WORK/main_loop.bc"
check_entered "loop in main" 1
checks=$((checks + 1))
if grep -Eq "^  main +1 +O2 " "$WORK/err"; then echo "ok   loop in main: main at O2"
else echo "FAIL loop in main: main not at O2"; grep -E "^  main" "$WORK/err"; failures=$((failures + 1)); fi
finish
