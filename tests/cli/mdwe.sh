# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# Hardened hosts: under PR_SET_MDWE (MemoryDenyWriteExecute) every tier still runs natively —
# the LLVM IR engine at every level and tiered (SQLite, C++ exceptions), the bytecode tiers,
# the StableHLO compiled path — with no fallback to an interpreter.
. "$(dirname "$0")/lib.sh"
"$CLANG" -O1 "$SRC/tests/data/mdwe_exec.c" -o "$WORK/mdwe"
"$WORK/mdwe" true || { echo "skip: this kernel has no PR_SET_MDWE"; exit 77; }
# The guard works: a plain mprotect to executable is refused under it.
cat > "$WORK/probe.c" <<'C'
#include <stdio.h>
#include <sys/mman.h>
int main(void) {
  void *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int r = mprotect(p, 4096, PROT_READ | PROT_EXEC);
  printf("%s\n", r == 0 ? "exec gain allowed" : "exec gain refused");
  return 0;
}
C
"$CLANG" -O1 "$WORK/probe.c" -o "$WORK/probe"
echo "exec gain refused" > "$WORK/probe.expected"
expect_stdout "MDWE is in force" "$WORK/probe.expected" -- "$WORK/mdwe" "$WORK/probe"

if [ -f "$EXAMPLES/sqlrun.bc" ]; then
  "$EXAMPLES/sqlrun-native" < "$SRC/examples/workload.sql" > "$WORK/sqlite.expected"
  for mode in "--opt 0" "--opt 2" "" "--tier-thresholds 1"; do
    expect_stdout "sqlite $mode" "$WORK/sqlite.expected" -- \
      sh -c "'$WORK/mdwe' '$TIERJIT' run --no-cache $mode '$EXAMPLES/sqlrun.bc' < '$SRC/examples/workload.sql'"
    expect_run "sqlite $mode: LLVM tier, no fallback" 0 "fallbacks: 0 \(tier-up" -- \
      sh -c "'$WORK/mdwe' '$TIERJIT' run --no-cache --stats $mode '$EXAMPLES/sqlrun.bc' < '$SRC/examples/workload.sql'"
  done
  expect_stdout "sqlite warm" "$WORK/sqlite.expected" -- \
    sh -c "'$WORK/mdwe' '$TIERJIT' run --cache-dir '$WORK/c' '$EXAMPLES/sqlrun.bc' < '$SRC/examples/workload.sql'"
  expect_stdout "sqlite warm (bundle)" "$WORK/sqlite.expected" -- \
    sh -c "'$WORK/mdwe' '$TIERJIT' run --cache-dir '$WORK/c' '$EXAMPLES/sqlrun.bc' < '$SRC/examples/workload.sql'"
else
  echo "skip SQLite: examples not built (TIERJIT_EXAMPLES=OFF); the C++ program below covers every tier"
fi

"$CLANG" --driver-mode=g++ -O1 "$SRC/tests/data/exceptions.cpp" -o "$WORK/ex-native"
"$CLANG" --driver-mode=g++ -O1 -emit-llvm -c "$SRC/tests/data/exceptions.cpp" -o "$WORK/ex.bc"
"$WORK/ex-native" > "$WORK/ex.expected"
for mode in "--opt 0" "--opt 2" "--tier-thresholds 1"; do
  expect_stdout "C++ exceptions $mode" "$WORK/ex.expected" -- \
    "$WORK/mdwe" "$TIERJIT" run --no-cache $mode "$WORK/ex.bc"
  expect_run "C++ exceptions $mode: LLVM tier, no fallback" 0 "fallbacks: 0 \(tier-up" -- \
    "$WORK/mdwe" "$TIERJIT" run --no-cache --stats $mode "$WORK/ex.bc"
done

for tier in cnp llvm auto; do
  expect_stdout "bytecode fib --tier $tier" "$SRC/examples/bytecode/fib.expected" -- \
    "$WORK/mdwe" "$TIERJIT" run "$SRC/examples/bytecode/fib.tjasm" --tier $tier -- $(cat "$SRC/examples/bytecode/fib.args")
done
expect_run "bytecode LLVM tier ran" 0 "fallbacks: 0 \(missing stencil 0, tier-1 compile failed 0, LLVM compile failed 0\)" -- \
  "$WORK/mdwe" "$TIERJIT" run "$SRC/examples/bytecode/fib.tjasm" --tier llvm --stats -- $(cat "$SRC/examples/bytecode/fib.args")
d="$SRC/tests/stablehlo_run"
"$TIERJIT" run "$d/bias_sum.mlir" --tier interp --input "$d/x.npy" --input "$d/b.npy" > "$WORK/shlo.expected"
expect_stdout "StableHLO compiled" "$WORK/shlo.expected" -- \
  "$WORK/mdwe" "$TIERJIT" run "$d/bias_sum.mlir" --tier llvm --input "$d/x.npy" --input "$d/b.npy"
finish
