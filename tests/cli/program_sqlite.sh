# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# SQLite (real code nobody here wrote) through tierjit at every level, identical to native.
. "$(dirname "$0")/lib.sh"
"$EXAMPLES/sqlrun-native" < "$SRC/examples/workload.sql" > "$WORK/native.txt"
for mode in "" "--opt 0" "--opt 1" "--opt 2" "--opt 3"; do
  expect_stdout "sqlite $mode" "$WORK/native.txt" -- sh -c "'$TIERJIT' run $mode '$EXAMPLES/sqlrun.bc' < '$SRC/examples/workload.sql'"
done
expect_stdout "sqlite warm cache" "$WORK/native.txt" -- sh -c "'$TIERJIT' run '$EXAMPLES/sqlrun.bc' < '$SRC/examples/workload.sql'"
echo "error: near \"SELEKT\": syntax error" > "$WORK/err.expected"
expect_run "sqlite error status" 1 "syntax error" -- "$TIERJIT" run "$EXAMPLES/sqlrun.bc" -- "SELEKT 1"
# LLVM's interpreter crashes on SQLite (as lli -force-interpreter does): contained, reported.
expect_run "interpreter crash is contained" 70 "LLVM's interpreter crashed on this program" -- "$TIERJIT" run --interp "$EXAMPLES/sqlrun.bc" -- "select 1;"
finish
