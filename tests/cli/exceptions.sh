# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# C++ exceptions through JIT code at every tier, across tier-ups, and from a warm cache and
# code bundle; an uncaught exception ends like the native build (message, SIGABRT status).
. "$(dirname "$0")/lib.sh"
CXX_SRC="$SRC/tests/data/exceptions.cpp"
"$CLANG" --driver-mode=g++ -O1 "$CXX_SRC" -o "$WORK/ex-native"
"$CLANG" --driver-mode=g++ -O1 -emit-llvm -c "$CXX_SRC" -o "$WORK/ex.bc"
"$CLANG" --driver-mode=g++ -O0 -emit-llvm -S "$CXX_SRC" -o "$WORK/ex-O0.ll"
"$WORK/ex-native" > "$WORK/ex.expected"
for file in ex.bc ex-O0.ll; do
  for mode in "--opt 0" "--opt 2" "--opt 3" "" "--eager" "--tier-thresholds 1" "--tier-thresholds 2,5,9"; do
    expect_stdout "$file $mode" "$WORK/ex.expected" -- "$TIERJIT" run --no-cache $mode "$WORK/$file"
  done
  for round in cold warm bundle; do
    expect_stdout "$file cached ($round)" "$WORK/ex.expected" -- "$TIERJIT" run --cache-dir "$WORK/cache-$file" "$WORK/$file"
  done
done
# The run from the cache really used cached code (no compiles).
expect_run "warm run compiled nothing" 0 "\(0 compiles" -- "$TIERJIT" run --stats --cache-dir "$WORK/cache-ex.bc" "$WORK/ex.bc"

"$WORK/ex-native" uncaught > "$WORK/uncaught.expected" 2>"$WORK/uncaught.native-err"
native_status=$?
for mode in "--opt 0" "--opt 2" ""; do
  expect_stdout "uncaught $mode stdout" "$WORK/uncaught.expected" -- "$TIERJIT" run --no-cache $mode "$WORK/ex.bc" -- uncaught
  expect_run "uncaught $mode status" "$native_status" \
    "terminate called after throwing an instance of 'MyError'" -- "$TIERJIT" run --no-cache $mode "$WORK/ex.bc" -- uncaught
done
finish
