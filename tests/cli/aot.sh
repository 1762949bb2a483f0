# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# AOT outputs: an object linked into a C program, and a shared library a C program dlopens.
. "$(dirname "$0")/lib.sh"
cat > "$WORK/lib.c" <<'C'
int scale(int x) { return 3 * x + 1; }
const char *greeting(void) { return "hello from tierjit"; }
C
"$CLANG" -O0 -emit-llvm -S "$WORK/lib.c" -o "$WORK/lib.ll"
expect_run "compile .o" 0 "" -- "$TIERJIT" compile "$WORK/lib.ll" -o "$WORK/lib.o" --opt 2
expect_run "compile .so" 0 "" -- "$TIERJIT" compile "$WORK/lib.ll" -o "$WORK/libscale.so" --opt 2
file "$WORK/libscale.so" | grep -q "shared object" || { echo "FAIL not a shared object"; failures=$((failures + 1)); }
cat > "$WORK/use_o.c" <<'C'
#include <stdio.h>
int scale(int);
const char *greeting(void);
int main(void) { printf("%d %s\n", scale(13), greeting()); return 0; }
C
cat > "$WORK/use_so.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
  void *h = dlopen(argv[1], RTLD_NOW);
  if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
  int (*scale)(int) = (int (*)(int))dlsym(h, "scale");
  const char *(*greeting)(void) = (const char *(*)(void))dlsym(h, "greeting");
  if (!scale || !greeting) return 2;
  printf("%d %s\n", scale(13), greeting());
  return dlclose(h);
}
C
echo "40 hello from tierjit" > "$WORK/expected"
"$CLANG" "$WORK/use_o.c" "$WORK/lib.o" -o "$WORK/use_o"
expect_stdout "object links and runs" "$WORK/expected" -- "$WORK/use_o"
"$CLANG" "$WORK/use_so.c" -o "$WORK/use_so" -ldl
expect_stdout "shared library loads and runs" "$WORK/expected" -- "$WORK/use_so" "$WORK/libscale.so"
printf 'define i32 @f( {\n' > "$WORK/bad.ll"
expect_run "compile bad IR" 65 "bad.ll:[0-9]+:[0-9]+: invalid IR" -- "$TIERJIT" compile "$WORK/bad.ll" -o "$WORK/bad.o"
checks=$((checks + 1)); if [ -e "$WORK/bad.o" ]; then echo "FAIL partial output left"; failures=$((failures + 1)); else echo "ok   no partial output"; fi
finish
