# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# Long work shows progress on a terminal and nothing elsewhere: stablehlo-test over a
# directory, cache clear and compile, each run under a pseudo-terminal (util-linux `script`)
# and with stderr to a file.
. "$(dirname "$0")/lib.sh"
command -v script > /dev/null || { echo "skip: no script(1) (Debian: bsdutils)"; exit 77; }
script -qec "test -t 2" /dev/null > /dev/null 2>&1 < /dev/null ||
  { echo "skip: no pseudo-terminal here"; exit 77; }
export TERM=xterm
unset TIERJIT_NO_PROGRESS
# A directory of StableHLO files with their expectations.
mkdir -p "$WORK/shlo"
for i in 1 2 3 4 5; do
  cat > "$WORK/shlo/t$i.mlir" <<MLIR
func.func @main() {
  %0 = stablehlo.constant dense<$i> : tensor<i32>
  %1 = stablehlo.add %0, %0 : tensor<i32>
  check.expect_eq_const %1, dense<$((i * 2))> : tensor<i32>
  return
}
MLIR
done
# on_tty NAME -- CMD...: runs CMD with a terminal as stdin/stdout/stderr; the transcript in NAME.tty
on_tty() {
  local name=$1
  shift 2
  script -qec "$(printf '%q ' "$@")" /dev/null > "$WORK/$name.tty" 2>&1 < /dev/null
}
bar='\[#+\.*\] [0-9]+/[0-9]+'
check_tty() {  # NAME DESCRIPTION REGEX
  checks=$((checks + 1))
  if grep -aEq "$3" "$WORK/$1.tty"; then echo "ok   $2"; else
    echo "FAIL $2"; head -c 400 "$WORK/$1.tty" | cat -v; echo; failures=$((failures + 1)); fi
}
check_silent() {  # DESCRIPTION FILE: no carriage return or escape in a redirected stderr
  checks=$((checks + 1))
  if grep -q $'\r\|\033' "$2"; then echo "FAIL $1: progress in redirected output"; cat -v "$2" | head -3
    failures=$((failures + 1)); else echo "ok   $1"; fi
}

on_tty shlo -- "$TIERJIT" stablehlo-test "$WORK/shlo"
check_tty shlo "stablehlo-test: a bar on a terminal" "stablehlo-test .*$bar"
check_tty shlo "stablehlo-test: the summary after it, on a clean line" $'\r\033\\[K5 passed, 0 failed'
"$TIERJIT" stablehlo-test "$WORK/shlo" > "$WORK/shlo.out" 2> "$WORK/shlo.err" ||
  { echo "FAIL stablehlo-test"; failures=$((failures + 1)); }
check_silent "stablehlo-test: silent when stderr is a file" "$WORK/shlo.err"
grep -q "^5 passed, 0 failed, 0 skipped$" "$WORK/shlo.out" ||
  { echo "FAIL stablehlo-test summary"; failures=$((failures + 1)); }

"$TIERJIT" run --cache-dir "$WORK/c" "$DATA/hello.bc" > /dev/null
on_tty clear -- "$TIERJIT" cache --cache-dir "$WORK/c" clear
check_tty clear "cache clear: a bar on a terminal" "clearing the cache $bar"
"$TIERJIT" run --cache-dir "$WORK/c" "$DATA/hello.bc" > /dev/null
"$TIERJIT" cache --cache-dir "$WORK/c" clear > "$WORK/clear.out" 2> "$WORK/clear.err" ||
  { echo "FAIL cache clear"; failures=$((failures + 1)); }
check_silent "cache clear: silent when stderr is a file" "$WORK/clear.err"
grep -q "^cleared " "$WORK/clear.out" || { echo "FAIL cache clear output"; failures=$((failures + 1)); }

on_tty compile -- "$TIERJIT" compile "$DATA/hello.bc" -o "$WORK/h.o"
check_tty compile "compile: the time elapsed on a terminal" 'tierjit compile .*hello\.bc [0-9]+\.[0-9] s'
"$TIERJIT" compile "$DATA/hello.bc" -o "$WORK/h2.o" 2> "$WORK/compile.err" && test -s "$WORK/h2.o" ||
  { echo "FAIL compile"; failures=$((failures + 1)); }
check_silent "compile: silent when stderr is a file" "$WORK/compile.err"
on_tty off -- env TIERJIT_NO_PROGRESS=1 "$TIERJIT" stablehlo-test "$WORK/shlo"
checks=$((checks + 1))
if grep -aEq "$bar" "$WORK/off.tty"; then echo "FAIL TIERJIT_NO_PROGRESS=1 still shows a bar"
  failures=$((failures + 1)); else echo "ok   TIERJIT_NO_PROGRESS=1 turns it off"; fi
finish
