#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# Bytecode CLI: every example in every tier matches its expected output (made by the C version
# of the same algorithm); asm -> bin -> asm is the identity on golden files; disasm -> asm
# reproduces the binary; traps report KIND at FUNC+PC with exit 100+kind; bad input is rejected
# with file and offset.
source "$(dirname "$0")/lib.sh"
TMP=$WORK
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
pass() { echo "ok   $*"; checks=$((checks + 1)); }
# expect_fail STATUS STDERR_SUBSTRING CMD...
expect_fail() {
  local want=$1 pattern=$2
  shift 2
  expect_run "${*:2:3}" "$want" "$(printf '%s' "$pattern" | sed 's/[][().*+?^$|]/\\&/g')" -- "$@"
}
EX=$SRC/examples/bytecode
GOLD=$SRC/tests/golden/bytecode

for f in $EX/*.tjasm; do
  name=$(basename "$f" .tjasm)
  args=$(cat "$EX/$name.args" 2>/dev/null)
  for tier in interp cnp llvm auto; do
    out=$("$TIERJIT" run "$f" --tier $tier -- $args) || fail "$name --tier $tier exited $?"
    [ "$out" = "$(cat "$EX/$name.expected")" ] || fail "$name --tier $tier printed '$out'"
  done
  "$TIERJIT" asm "$f" -o "$TMP/$name.tjbc" || fail "asm $name"
  "$TIERJIT" disasm "$TMP/$name.tjbc" -o "$TMP/$name.dis.tjasm" || fail "disasm $name"
  "$TIERJIT" asm "$TMP/$name.dis.tjasm" -o "$TMP/$name.2.tjbc" || fail "re-asm $name"
  cmp -s "$TMP/$name.tjbc" "$TMP/$name.2.tjbc" || fail "asm(disasm(bin)) != bin for $name"
  out=$("$TIERJIT" run "$TMP/$name.tjbc" --tier cnp -- $args)
  [ "$out" = "$(cat "$EX/$name.expected")" ] || fail "$name.tjbc printed '$out'"
done
pass "examples in all tiers; asm/disasm round trips"

for g in $GOLD/*.tjasm; do
  "$TIERJIT" asm "$g" -o "$TMP/g.tjbc" || fail "asm $(basename $g)"
  "$TIERJIT" disasm "$TMP/g.tjbc" > "$TMP/g.tjasm"
  if ! diff -u "$g" "$TMP/g.tjasm"; then
    [ -n "$UPDATE_GOLDEN" ] && cp "$TMP/g.tjasm" "$g" ||
      fail "golden $(basename $g) differs (UPDATE_GOLDEN=1 ctest -R cli.bytecode rewrites it)"
  fi
done
pass "golden disassembly"

# Traps: message, location and exit status, identical in every tier.
cat > "$TMP/trap.tjasm" <<'ASM'
.memory 65536
.func poke 1 2
  ldi r1, 7
  st64 [r0+0], r1
  ret r1
.end
.func main 0 3
  li r0, 65530
  call r1, poke, r0, 1
  ret r1
.end
ASM
for tier in interp cnp llvm; do
  expect_fail 102 "trap: out_of_bounds at poke+8" "$TIERJIT" run "$TMP/trap.tjasm" --tier $tier
done
cat > "$TMP/div.tjasm" <<'ASM'
.func main 0 3
  ldi r0, 5
  div r2, r0, r1
  ret r2
.end
ASM
for tier in interp cnp llvm; do
  expect_fail 103 "trap: div_by_zero at main+8" "$TIERJIT" run "$TMP/div.tjasm" --tier $tier
done
cat > "$TMP/loop.tjasm" <<'ASM'
.func main 0 1
top:
  addi r0, r0, 1
  jmp top
.end
ASM
for tier in interp cnp llvm; do
  expect_fail 105 "trap: budget_exhausted at main+8" "$TIERJIT" run "$TMP/loop.tjasm" --tier $tier --fuel 100000
done
cat > "$TMP/rec.tjasm" <<'ASM'
.func f 1 2
  call r1, f, r0, 1
  ret r1
.end
.func main 0 1
  call r0, f, r0, 1
  ret r0
.end
ASM
for tier in interp cnp llvm; do
  expect_fail 104 "trap: stack_overflow at f+0" "$TIERJIT" run "$TMP/rec.tjasm" --tier $tier
done
cat > "$TMP/halt.tjasm" <<'ASM'
.func main 0 1
  ldi r0, 3
  halt r0
.end
ASM
"$TIERJIT" run "$TMP/halt.tjasm" --tier cnp; [ $? = 3 ] || fail "halt 3 should exit 3"
pass "traps and halt"

# Bad input: located errors, exit 65, no crash.
printf 'TJBX\1\0\0\0' > "$TMP/badmagic.tjbc"
expect_fail 65 "offset 0: bad magic" "$TIERJIT" disasm "$TMP/badmagic.tjbc"
head -c 30 "$TMP/fib.tjbc" > "$TMP/trunc.tjbc"
expect_fail 65 "truncated input" "$TIERJIT" disasm "$TMP/trunc.tjbc"
printf '.func main 0 2\n  add r0, r1, r9\n  ret r0\n.end\n' > "$TMP/badreg.tjasm"
expect_fail 65 "register r9 outside the frame" "$TIERJIT" run "$TMP/badreg.tjasm"
printf '.func main 0 2\n  frob r0\n.end\n' > "$TMP/badop.tjasm"
expect_fail 65 "badop.tjasm:2:3: unknown instruction 'frob'" "$TIERJIT" asm "$TMP/badop.tjasm" -o "$TMP/x"
printf '.func main 0 2\n  addi r0, r0, 1\n.end\n' > "$TMP/fall.tjasm"
expect_fail 65 "falls through off the end" "$TIERJIT" asm "$TMP/fall.tjasm" -o "$TMP/x"
printf '.func main 0 2\n  jmp nowhere\n.end\n' > "$TMP/lbl.tjasm"
expect_fail 65 "undefined label 'nowhere'" "$TIERJIT" asm "$TMP/lbl.tjasm" -o "$TMP/x"
pass "bad input"
# AOT: an ELF object a C program links and calls; raw tier-1 code with a map.
"$TIERJIT" compile "$EX/fib.tjasm" -o "$TMP/fib.o" || fail "compile fib.tjasm -o fib.o"
"$CLANG" -I"$SRC/include" "$SRC/tests/cli/bytecode_aot.c" "$TMP/fib.o" -o "$TMP/aot" ||
  fail "linking the AOT object"
out=$("$TMP/aot" 20)
[ "$out" = "$(printf 'tj_fib: 6765\nhost print_i64: 55\ntj_main returned 0, status 0')" ] ||
  fail "AOT object printed '$out'"
"$TIERJIT" compile "$EX/fib.tjasm" --format raw -o "$TMP/fib.bin" || fail "compile --format raw"
grep -q "^fib 0 " "$TMP/fib.bin.map" && [ -s "$TMP/fib.bin" ] || fail "raw map/bytes missing"
pass "AOT object and raw code"
finish
