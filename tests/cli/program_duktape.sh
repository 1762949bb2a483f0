# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# Duktape (a full JavaScript engine) through tierjit at every level, identical to native.
. "$(dirname "$0")/lib.sh"
"$EXAMPLES/jsrun-native" "$SRC/examples/workload.js" > "$WORK/native.txt"
for mode in "" "--opt 0" "--opt 1" "--opt 2" "--opt 3"; do
  expect_stdout "duktape $mode" "$WORK/native.txt" -- "$TIERJIT" run $mode "$EXAMPLES/jsrun.bc" -- "$SRC/examples/workload.js"
done
printf 'throw new Error("boom");\n' > "$WORK/throw.js"
expect_run "duktape uncaught error" 1 "Error: boom" -- "$TIERJIT" run "$EXAMPLES/jsrun.bc" -- "$WORK/throw.js"
finish
