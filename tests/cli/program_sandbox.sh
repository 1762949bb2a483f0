# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# The real programs as riscv64 guests (examples/CMakeLists.txt, example_riscv): SQLite and
# Duktape compiled for riscv64, linked by `tierjit compile --target riscv64`, run in the
# sandbox with output identical to the native builds (and to qemu-riscv64 when installed).
# SQLite runs the demo workload at 20k rows instead of 200k (the interpreter is ~35x native).
. "$(dirname "$0")/lib.sh"
sed 's/200000/20000/' "$SRC/examples/workload.sql" > "$WORK/w.sql"
"$EXAMPLES/sqlrun-native" < "$WORK/w.sql" > "$WORK/sql.native"
expect_stdout "sqlite in the sandbox" "$WORK/sql.native" -- \
  sh -c "'$TIERJIT' sandbox --stdin '$EXAMPLES/sqlrun.elf' < '$WORK/w.sql'"
expect_run "sqlite error status" 1 "syntax error" -- "$TIERJIT" sandbox "$EXAMPLES/sqlrun.elf" -- "SELEKT 1"
expect_run "sqlite cannot open files" 1 "unable to open database" -- \
  "$TIERJIT" sandbox "$EXAMPLES/sqlrun.elf" -- -d /tmp/x.db "select 1;"
"$EXAMPLES/jsrun-native" "$SRC/examples/workload.js" > "$WORK/js.native"
expect_stdout "duktape in the sandbox" "$WORK/js.native" -- \
  "$TIERJIT" sandbox --allow-read "$SRC/examples/workload.js" "$EXAMPLES/jsrun.elf" -- "$SRC/examples/workload.js"
# Without a grant the file does not exist for the guest (ENOENT): the program says so itself.
expect_run "duktape without the file grant" 1 "cannot read" -- \
  "$TIERJIT" sandbox "$EXAMPLES/jsrun.elf" -- "$SRC/examples/workload.js"
printf 'throw new Error("boom");\n' > "$WORK/throw.js"
expect_run "duktape uncaught error" 1 "Error: boom" -- \
  "$TIERJIT" sandbox --allow-read "$WORK/throw.js" "$EXAMPLES/jsrun.elf" -- "$WORK/throw.js"
expect_run "another path is refused" 1 "cannot read" -- \
  "$TIERJIT" sandbox --allow-read "$WORK/throw.js" "$EXAMPLES/jsrun.elf" -- /etc/passwd
if command -v qemu-riscv64 >/dev/null; then
  expect_stdout "sqlite under qemu-riscv64" "$WORK/sql.native" -- \
    sh -c "qemu-riscv64 '$EXAMPLES/sqlrun.elf' < '$WORK/w.sql'"
fi
finish
