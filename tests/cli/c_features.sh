# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# What ordinary C programs use (tests/data/libc_features.c: setjmp/longjmp, constructor and
# destructor priorities, atexit, signal handlers, alloca/VLAs, varargs, long double, __int128,
# weak symbols, qsort callbacks, stdin, fork while tier-up compiles, exec), identical to the
# native build in every mode, warm and from the bundle.
. "$(dirname "$0")/lib.sh"
C_SRC="$SRC/tests/data/libc_features.c"
"$CLANG" -O1 "$C_SRC" -o "$WORK/native"
"$CLANG" -O1 -emit-llvm -c "$C_SRC" -o "$WORK/f.bc"
"$CLANG" -O0 -emit-llvm -S "$C_SRC" -o "$WORK/f-O0.ll"
printf 'one\ntwo\nthree\n' > "$WORK/stdin.txt"
"$WORK/native" 3 < "$WORK/stdin.txt" > "$WORK/expected"
native_status=$?
for file in f.bc f-O0.ll; do
  for mode in "--opt 0" "--opt 2" "" "--eager" "--tier-thresholds 1" "--tier-thresholds 1,2,3"; do
    expect_stdout "$file $mode" "$WORK/expected" -- sh -c "timeout 60 '$TIERJIT' run --no-cache $mode '$WORK/$file' 3 < '$WORK/stdin.txt'"
    expect_run "$file $mode status" "$native_status" "" -- sh -c "timeout 60 '$TIERJIT' run --no-cache $mode '$WORK/$file' 3 < '$WORK/stdin.txt'"
  done
  for round in cold warm bundle; do
    expect_stdout "$file cached ($round)" "$WORK/expected" -- \
      sh -c "timeout 60 '$TIERJIT' run --cache-dir '$WORK/cache-$file' --tier-thresholds 1 '$WORK/$file' 3 < '$WORK/stdin.txt'"
  done
done
finish
