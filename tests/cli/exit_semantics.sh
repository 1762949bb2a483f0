# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# Whole-program semantics in every mode: ctors in priority order, argv, exit status, exit()
# from deep frames with atexit handlers and destructors in native order; W^X; perf map.
. "$(dirname "$0")/lib.sh"
"$CLANG" -O1 "$SRC/tests/data/hello.c" -o "$WORK/hello-native"
"$CLANG" -O1 "$SRC/tests/data/exit_codes.c" -o "$WORK/exit-native"
"$WORK/hello-native" 5 x > "$WORK/hello.expected"
"$WORK/exit-native" 9 > "$WORK/exit.expected"
for file in hello.ll hello.bc; do
  for mode in "" "--opt 0" "--opt 1" "--opt 2" "--opt 3" "--eager" "--tier-thresholds 1"; do
    expect_stdout "$file $mode output" "$WORK/hello.expected" -- "$TIERJIT" run --no-cache $mode "$DATA/$file" -- 5 x
    expect_run "$file $mode status" 5 "" -- "$TIERJIT" run --no-cache $mode "$DATA/$file" -- 5 x
  done
done
for mode in "" "--opt 2"; do
  expect_stdout "exit() $mode" "$WORK/exit.expected" -- "$TIERJIT" run --no-cache $mode "$DATA/exit_codes.bc" -- 9
  expect_run "exit() status $mode" 9 "" -- "$TIERJIT" run --no-cache $mode "$DATA/exit_codes.bc" -- 9
done
expect_run "stats after exit()" 9 "deep .* (O[0-3]|base) " -- "$TIERJIT" run --no-cache --stats "$DATA/exit_codes.bc" -- 9

# Thread-locals (emulated TLS in JIT objects) in every mode.
"$CLANG" -O1 "$SRC/tests/data/tls.c" -o "$WORK/tls-native"
"$WORK/tls-native" > "$WORK/tls.expected" || true
for mode in "" "--opt 0" "--opt 2"; do
  expect_stdout "thread-local $mode" "$WORK/tls.expected" -- "$TIERJIT" run --no-cache $mode "$DATA/tls.bc"
done

# Threads entering JIT code concurrently (lazy compiles and tier-ups race).
"$CLANG" -O1 "$SRC/tests/data/threads.c" -o "$WORK/threads-native" -lpthread
"$WORK/threads-native" > "$WORK/threads.expected"
for mode in "--tier-thresholds 10" "--tier-thresholds 10,100,1000" "--opt 2"; do
  for round in 1 2 3; do
    expect_stdout "threads $mode #$round" "$WORK/threads.expected" -- "$TIERJIT" run --no-cache $mode "$DATA/threads.bc"
  done
done

# LLVM's interpreter, forced, runs in a guarded child process.
expect_stdout "--interp output" "$WORK/hello.expected" -- "$TIERJIT" run --interp "$DATA/hello.bc" -- 5 x
expect_run "--interp status" 5 "" -- "$TIERJIT" run --interp "$DATA/hello.bc" -- 5 x

# No mapping is ever writable and executable at once.
cat > "$WORK/maps.c" <<'C'
#include <stdio.h>
#include <string.h>
static int work(int n) { return n < 2 ? n : work(n - 1) + work(n - 2); }
int main(void) {
  int r = work(22);
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  int rwx = 0;
  while (fgets(line, sizeof line, f)) {
    char perms[5];
    if (sscanf(line, "%*s %4s", perms) == 1 && perms[1] == 'w' && perms[2] == 'x') { rwx++; fputs(line, stderr); }
  }
  printf("work %d rwx %d\n", r, rwx);
  return rwx != 0;
}
C
"$CLANG" -O1 -emit-llvm -c "$WORK/maps.c" -o "$WORK/maps.bc"
echo "work 17711 rwx 0" > "$WORK/maps.expected"
expect_stdout "no W+X mapping (tiered)" "$WORK/maps.expected" -- "$TIERJIT" run --no-cache --tier-thresholds 1 "$WORK/maps.bc"

# The map is /tmp/perf-PID.map of this very run: the shell records its pid, then execs tierjit.
expect_run "perf map" 0 "" -- sh -c 'echo $$ > "$1"; shift; exec "$@"' sh "$WORK/pid" \
  "$TIERJIT" run --no-cache --perf-map --opt 1 "$DATA/hello.bc"
map="/tmp/perf-$(cat "$WORK/pid").map"
checks=$((checks + 1))
if grep -q 'main\$impl' "$map" 2>/dev/null; then echo "ok   perf map names JIT functions"; else echo "FAIL perf map $map"; failures=$((failures + 1)); fi
rm -f "$map"
finish
