# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# --debug-info registers JIT code with GDB: a fault in JIT code shows function, file and line.
. "$(dirname "$0")/lib.sh"
command -v gdb >/dev/null || { echo "SKIP: gdb not installed"; exit 77; }
cat > "$WORK/crash.c" <<'C'
#include <stdio.h>
int crashme(int *p) { return *p; }
int main(void) { printf("about to crash\n"); return crashme(0); }
C
"$CLANG" -g -O0 -emit-llvm -c "$WORK/crash.c" -o "$WORK/crash.bc"
gdb -batch -ex run -ex bt --args "$TIERJIT" run --no-cache --debug-info "$WORK/crash.bc" > "$WORK/gdb.txt" 2>&1
checks=$((checks + 1))
if grep -Eq 'crashme \(p=0x0\) at .*crash.c:2' "$WORK/gdb.txt"; then echo "ok   gdb sees JIT frame with source line"
else echo "FAIL gdb backtrace"; grep -E '^#|SIG' "$WORK/gdb.txt" | head; failures=$((failures + 1)); fi
finish
