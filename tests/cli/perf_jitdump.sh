# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# `--perf-jitdump` with the real perf: SQLite built with -g runs through tierjit under
# `perf record -k 1`; `perf inject --jit` turns the dump into ELF images, and `perf report`
# must name JIT functions of SQLite with their source lines (from the IR's debug info), at
# the baseline tier and at O2. The sandbox's translated blocks are named too. Skipped (77)
# where perf is missing or the kernel forbids it.
. "$(dirname "$0")/lib.sh"
command -v perf > /dev/null || { echo "skip: no perf (Debian: linux-perf)"; exit 77; }
perf record -k 1 -q -o "$WORK/probe.data" -- true > /dev/null 2>&1 ||
  { echo "skip: perf record is not allowed here (perf_event_paranoid)"; exit 77; }
SQL="$BUILD_DIR/_deps/sqlite3"
[ -f "$SQL/sqlite3.c" ] || { echo "skip: no SQLite amalgamation (examples not built)"; exit 77; }
LINK=$(command -v llvm-link-22) || { echo "FAIL no llvm-link-22"; exit 1; }
"$CLANG" -O1 -g -w -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_DQS=0 -I"$SQL" -emit-llvm -c \
  "$SQL/sqlite3.c" -o "$WORK/sqlite3.bc" &&
  "$CLANG" -O1 -g -w -I"$SQL" -emit-llvm -c "$SRC/examples/sqlrun.c" -o "$WORK/sqlrun.bc" &&
  "$LINK" "$WORK/sqlite3.bc" "$WORK/sqlrun.bc" -o "$WORK/sqlite-g.bc" ||
  { echo "FAIL building SQLite with -g"; exit 1; }

# profile NAME -- TIERJIT ARGS...: perf record + inject; NAME.txt: the report by DSO and symbol
profile() {
  local name=$1
  shift 2
  export JITDUMPDIR="$WORK/$name.jit"
  perf record -k 1 -q -o "$WORK/$name.data" -- "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" < "$SRC/examples/workload.sql"
  perf inject --jit -i "$WORK/$name.data" -o "$WORK/$name.jit.data" 2>> "$WORK/$name.err"
  perf report -i "$WORK/$name.jit.data" --stdio --sort dso,sym 2>> "$WORK/$name.err" |
    grep -v '^#' | grep -v '^$' > "$WORK/$name.txt"
}
# lines NAME SYMBOL_REGEX: the decoded line table of the hottest JIT image (an ELF file perf
# inject wrote from the dump) whose symbol matches. (`perf report --sort srcline` would say
# the same through addr2line, but takes minutes per image here.)
lines() {
  local dso
  dso=$(grep -E "jitted-[0-9]+-[0-9]+\.so .*$2" "$WORK/$1.txt" | head -1 | grep -Eo 'jitted-[0-9]+-[0-9]+\.so')
  [ -n "$dso" ] || return 0
  readelf --debug-dump=decodedline "$WORK/$1.jit/$dso" > "$WORK/$1.lines.txt" 2>&1
}
# check_report FILE DESCRIPTION REGEX: some report line matches
check_report() {
  checks=$((checks + 1))
  if grep -Eq "$3" "$WORK/$1" 2>/dev/null; then
    echo "ok   $2: $(grep -Em1 "$3" "$WORK/$1" | tr -s ' ' | cut -c1-100)"
  else
    echo "FAIL $2"; head -8 "$WORK/$1" 2>/dev/null | tr -s ' '
    failures=$((failures + 1))
  fi
}

"$BUILD_DIR/examples/sqlrun-native" < "$SRC/examples/workload.sql" > "$WORK/expected"
# Tiered: every function starts in the baseline tier, the hot ones reach O2 (--sync-tier-up:
# at their 50th call, whatever the machine's speed).
profile tiered -- "$TIERJIT" run --no-cache --perf-jitdump --sync-tier-up --tier-thresholds 50 "$WORK/sqlite-g.bc"
cmp -s "$WORK/tiered.out" "$WORK/expected" || { echo "FAIL SQLite output under perf differs"; failures=$((failures + 1)); }
ls "$WORK/tiered.jit"/jit-*.dump > /dev/null 2>&1 || { echo "FAIL no jit-PID.dump in JITDUMPDIR"; failures=$((failures + 1)); }
check_report tiered.txt "O2 code of SQLite named" 'jitted-.* sqlite3[A-Za-z0-9_]*\$impl'
check_report tiered.txt "baseline code of SQLite named" 'jitted-.* [A-Za-z0-9_]+\$baseline'
lines tiered '\$impl'
check_report tiered.lines.txt "O2 code with its source lines" 'sqlite3\.c +[0-9]+ +0x[0-9a-f]+'

# The sandbox: translated blocks of a guest.
read -r -a GFLAGS <<< "$("$TIERJIT" guest-cflags)"
"$CLANG" "${GFLAGS[@]}" -O2 -S -emit-llvm "$SRC/tests/sandbox/guests/basic.c" -o "$WORK/g.ll" &&
  "$TIERJIT" compile --target riscv64 "$WORK/g.ll" -o "$WORK/g.elf"
export JITDUMPDIR="$WORK/guest.jit"
"$TIERJIT" sandbox --perf-jitdump "$WORK/g.elf" > /dev/null 2>&1
checks=$((checks + 1))
if strings "$JITDUMPDIR"/jit-*.dump 2>/dev/null | grep -q "riscv64 block 0x"; then
  echo "ok   sandbox: translated blocks in the jitdump"
else echo "FAIL sandbox: no translated block in the jitdump"; failures=$((failures + 1)); fi
# A directory that cannot be made: a located error before anything runs.
expect_run "unwritable jitdump directory" 74 "jitdump: cannot create '/proc/tierjit'" -- \
  env JITDUMPDIR=/proc/tierjit "$TIERJIT" run --no-cache --perf-jitdump "$WORK/sqlite-g.bc"
finish
