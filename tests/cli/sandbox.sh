#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# RISC-V AOT + sandbox: C guests compiled through riscv64 IR give the same output and exit
# status in the sandbox as natively; hostile guests (endless loop, endless recursion, wild
# store, self-patching, jump into data, forbidden syscall, heap exhaustion) stop with a clear
# error and the host survives; x86-64 IR and broken ELFs are refused with located errors;
# -g keeps DWARF for addr2line and fault lines.
source "$(dirname "$0")/lib.sh"
G="$SRC/tests/sandbox/guests"
read -r -a GFLAGS <<< "$("$TIERJIT" guest-cflags)"

# build NAME [clang flags...]: C -> riscv64 IR -> ELF in $WORK/NAME.elf
build() {
  local name=$1
  shift
  "$CLANG" "${GFLAGS[@]}" -O2 "$@" -S -emit-llvm "$G/$name.c" -o "$WORK/$name.ll" &&
    "$TIERJIT" compile --target riscv64 "$WORK/$name.ll" -o "$WORK/$name.elf" "${EXTRA[@]}"
}
EXTRA=()
for g in basic hostile_loop hostile_recurse hostile_store hostile_text hostile_jump hostile_syscall hostile_memory; do
  build "$g" || { echo "FAIL build $g"; failures=$((failures + 1)); }
done

# basic: sandbox output == native output, exit status too.
"$CLANG" -O2 "$G/basic.c" -o "$WORK/basic-native" -lm
"$WORK/basic-native" a bc > "$WORK/native.out"; native_rc=$?
expect_stdout "basic: sandbox == native" "$WORK/native.out" -- "$TIERJIT" sandbox "$WORK/basic.elf" -- a bc
expect_run "basic: exit status" "$native_rc" "" -- "$TIERJIT" sandbox "$WORK/basic.elf" -- a bc
"$WORK/basic-native" > "$WORK/native0.out"
# The front door sends a riscv64 ELF given to `tierjit run` to the sandbox.
expect_stdout "basic: run dispatches to the sandbox" "$WORK/native.out" -- "$TIERJIT" run "$WORK/basic.elf" -- a bc
expect_stdout "basic: no args" "$WORK/native0.out" -- "$TIERJIT" sandbox "$WORK/basic.elf"

# Hostile guests: each stops with its own error; exit 124 (budget) or 125 (fault).
expect_run "endless loop -> budget" 124 "instruction budget of 50000000 exhausted" -- \
  "$TIERJIT" sandbox --max-instructions 50000000 "$WORK/hostile_loop.elf"
expect_run "endless recursion -> stack overflow" 125 "guest fault: stack-overflow at pc 0x[0-9a-f]+" -- \
  "$TIERJIT" sandbox "$WORK/hostile_recurse.elf"
expect_run "wild store" 125 "store-fault at pc 0x[0-9a-f]+ .*store to 0x7ff000000000 outside guest memory" -- \
  "$TIERJIT" sandbox "$WORK/hostile_store.elf"
expect_run "self-patching" 125 "store to read-only 0x10" -- "$TIERJIT" sandbox "$WORK/hostile_text.elf"
expect_run "jump into data" 125 "fetch-fault .*jump to 0x[0-9a-f]+ outside executable memory" -- \
  "$TIERJIT" sandbox "$WORK/hostile_jump.elf"
# A path nobody granted is refused as Linux refuses it; an unimplemented call is -ENOSYS, or
# a fault with --strict.
expect_run "ungranted open, unknown syscall" 0 "" -- "$TIERJIT" sandbox "$WORK/hostile_syscall.elf"
checks=$((checks + 1))
if [ "$(cat "$WORK/out")" = "$(printf 'open returned -1\nsocket returned -38')" ]; then
  echo "ok   -ENOENT and -ENOSYS"; else echo "FAIL errno results: $(cat "$WORK/out")"
  failures=$((failures + 1)); fi
expect_run "ENOSYS answers counted in --stats" 0 "^tierjit: sandbox: 1 unimplemented system calls answered -ENOSYS" -- \
  "$TIERJIT" sandbox --stats "$WORK/hostile_syscall.elf"
expect_run "forbidden syscall (--strict)" 125 \
  "syscall-denied .*system call 198 \(socket\) is not allowed" -- \
  "$TIERJIT" sandbox --strict "$WORK/hostile_syscall.elf"
expect_run "heap exhaustion" 0 "" -- "$TIERJIT" sandbox --max-memory 16777216 "$WORK/hostile_memory.elf"
grep -Eq '^heap exhausted after 1[0-9] MiB$' "$WORK/out" ||
  { echo "FAIL heap exhaustion output"; cat "$WORK/out"; failures=$((failures + 1)); }
expect_run "memory limit too small for the image" 65 "does not fit the guest memory" -- \
  "$TIERJIT" sandbox --max-memory 1048576 --stack 524288 "$WORK/basic.elf"

# Runs a guest in both tiers: they must stop alike (status, output, message, pc: translated code
# hands the faulting instruction to the interpreter and charges the budget block by block
# exactly), the translator must have run, its memory checks be MEMORY (the end of its --stats
# line) and, unless STATUS is empty, the status STATUS.
#   both_tiers LABEL MEMORY STATUS SANDBOX_ARGS...
both_tiers() {
  local label=$1 memory=$2 status=$3
  shift 3
  "$TIERJIT" sandbox --stats "$@" > "$WORK/j.out" 2> "$WORK/j.err"; local jrc=$?
  "$TIERJIT" sandbox --tier interp "$@" > "$WORK/i.out" 2> "$WORK/i.err"; local irc=$?
  checks=$((checks + 1))
  if [ "$jrc" != "$irc" ] || ! cmp -s "$WORK/j.out" "$WORK/i.out" ||
     ! diff <(grep -v '^tierjit: sandbox: ' "$WORK/j.err") "$WORK/i.err" >/dev/null; then
    echo "FAIL $label: translator ($jrc) and interpreter ($irc) stop differently"
    diff <(grep -v '^tierjit: sandbox: ' "$WORK/j.err") "$WORK/i.err" | head -5
    failures=$((failures + 1))
  elif [ -n "$status" ] && [ "$jrc" != "$status" ]; then
    echo "FAIL $label: status $jrc, expected $status"; failures=$((failures + 1))
  elif ! grep -Eq "tier jit: [1-9][0-9]* blocks" "$WORK/j.err"; then
    echo "FAIL $label: the translator did not run"; failures=$((failures + 1))
  elif ! grep -q "memory checks: $memory\$" "$WORK/j.err"; then
    echo "FAIL $label: expected memory checks: $memory"; grep 'tier jit' "$WORK/j.err"
    failures=$((failures + 1))
  else
    echo "ok   $label: same stop in both tiers (status $jrc)"
  fi
}

# Every hostile guest. Self-patching and the stack overflow are stopped by guard pages in
# translated code (a host fault resumed at the access's side exit): --stats must count them.
declare -A guard_faults=([hostile_text]=1 [hostile_recurse]=1)
for g in hostile_loop hostile_recurse hostile_store hostile_text hostile_jump hostile_syscall hostile_memory basic; do
  both_tiers "$g" "guard pages, ${guard_faults[$g]:-0} guard faults" "" \
    --max-instructions 50000000 --max-memory 16777216 "$WORK/$g.elf"
done

# Every load and store width, integer and floating point, faulting on a guard page in translated
# code (the hole above the heap, an access straddling the heap's end, the null page, a store to
# text): the interpreter and the translator stop alike, every register equal (rv_tier_diff),
# and the translator met the fault at a guard page.
for insn in lb:x:1 lh:x:2 lw:x:4 ld:x:8 lbu:x:1 lhu:x:2 lwu:x:4 sb:x:1 sh:x:2 sw:x:4 sd:x:8 \
            flw:f:4 fld:f:8 fsw:f:4 fsd:f:8; do
  IFS=: read -r op reg size <<< "$insn"
  "$CLANG" "${GFLAGS[@]}" -O2 "-DINSN=\"$op\"" "-DREG='$reg'" -S -emit-llvm \
    "$G/guard_access.c" -o "$WORK/ga_$op.ll" &&
    "$TIERJIT" compile --target riscv64 "$WORK/ga_$op.ll" -o "$WORK/ga_$op.elf" ||
    { echo "FAIL build guard_access $op"; failures=$((failures + 1)); continue; }
  for where in hole straddle null text ok; do
    store=0; [[ $op == s* || $op == fs* ]] && store=1
    want=1
    [ "$where" = ok ] && want=0
    [ "$where" = straddle ] && [ "$size" -le 2 ] && want=0
    [ "$where" = text ] && [ $store = 0 ] && want=0
    checks=$((checks + 1))
    "$RVDIFF" "$WORK/ga_$op.elf" 1000 -- "$where" > "$WORK/rvd.out" 2>&1
    if [ $? != 0 ]; then
      echo "FAIL $op $where: tiers differ"; head -3 "$WORK/rvd.out"; failures=$((failures + 1))
    elif ! grep -q "blocks translated, $want guard faults)" "$WORK/rvd.out"; then
      echo "FAIL $op $where: expected $want guard faults"; cat "$WORK/rvd.out"
      failures=$((failures + 1))
    fi
  done
done
echo "ok   guard pages: 15 access kinds x 5 places, both tiers alike"

# A stack size that is not a multiple of 4 KiB leaves the map's boundary off a page: translated
# code then checks every access in code (shown by --stats), and stops the guests the same way.
for g in hostile_text hostile_recurse; do
  both_tiers "$g (unaligned map)" "in code (the map is not page-aligned), 0 guard faults" 125 \
    --stack 1048560 --max-memory 16777216 "$WORK/$g.elf"
done

# -g: faults and addr2line name the source line.
EXTRA=(-g)
build hostile_store -g || { echo "FAIL build -g"; failures=$((failures + 1)); }
EXTRA=()
expect_run "fault with source line" 125 "\(main at .*hostile_store.c:5:" -- \
  "$TIERJIT" sandbox "$WORK/hostile_store.elf"
pc=$(grep -Eo 'pc 0x[0-9a-f]+' "$WORK/err" | head -1 | cut -d' ' -f2)
expect_run "addr2line" 0 "" -- "$TIERJIT" addr2line "$WORK/hostile_store.elf" "$pc"
grep -q "main at .*hostile_store.c:5" "$WORK/out" || { echo "FAIL addr2line output"; cat "$WORK/out"; failures=$((failures + 1)); }

# Refused inputs.
"$CLANG" -O2 -S -emit-llvm "$G/basic.c" -o "$WORK/x86.ll"
expect_run "x86-64 IR refused" 65 "targets 'x86_64.*not riscv64.*guest-cflags" -- \
  "$TIERJIT" compile --target riscv64 "$WORK/x86.ll" -o "$WORK/x.elf"
head -c 100 "$WORK/basic.elf" > "$WORK/trunc.elf"
expect_run "truncated ELF" 65 "trunc.elf" -- "$TIERJIT" sandbox "$WORK/trunc.elf"
printf 'not an elf at all, just text padding padding padding padding padding padding pad' > "$WORK/bad.elf"
expect_run "bad magic" 65 "bad.elf: offset 0: not a tierjit guest: no ELF magic" -- "$TIERJIT" sandbox "$WORK/bad.elf"
expect_run "host ELF refused" 65 "e_machine is not RISC-V" -- "$TIERJIT" sandbox "$WORK/basic-native"
expect_run "missing ELF" 66 "" -- "$TIERJIT" sandbox "$WORK/nope.elf"

# Bytecode through its LLVM IR translation for riscv64 + the guest runner: the examples' output
# and status match `tierjit run`; floats print identically; traps report the same way.
for f in "$SRC"/examples/bytecode/*.tjasm; do
  p=$(basename "$f" .tjasm)
  "$TIERJIT" compile --target riscv64 "$f" -o "$WORK/bc_$p.elf" || { echo "FAIL compile $p"; failures=$((failures + 1)); continue; }
  read -r -a bargs < "$SRC/examples/bytecode/$p.args"
  expect_stdout "bytecode $p in the sandbox" "$SRC/examples/bytecode/$p.expected" -- \
    "$TIERJIT" sandbox "$WORK/bc_$p.elf" -- "${bargs[@]}"
done
fl="$SRC/tests/sandbox/bytecode/floats.tjasm"
"$TIERJIT" run "$fl" -- 7 > "$WORK/floats.host"
"$TIERJIT" compile --target riscv64 "$fl" -o "$WORK/floats.elf"
expect_stdout "bytecode floats print as on the host" "$WORK/floats.host" -- "$TIERJIT" sandbox "$WORK/floats.elf" -- 7
expect_run "bytecode result is the exit status" 7 "" -- "$TIERJIT" sandbox "$WORK/floats.elf" -- 7
printf '.func main 1 3\n  li r1, 0\n  div r2, r0, r1\n  ret r2\n.end\n' > "$WORK/trap.tjasm"
"$TIERJIT" run "$WORK/trap.tjasm" -- 5 2> "$WORK/trap.host"; want=$?
"$TIERJIT" compile --target riscv64 "$WORK/trap.tjasm" -o "$WORK/trap.elf"
expect_run "bytecode trap status as on the host" "$want" "$(sed 's/+/\\+/' "$WORK/trap.host")" -- \
  "$TIERJIT" sandbox "$WORK/trap.elf" -- 5

# The ELF cache: a second compile of the same IR is a hit and gives the same bytes.
expect_run "second compile is a cache hit" 0 "riscv64 ELF cache: hit" -- \
  "$TIERJIT" compile --target riscv64 --stats "$WORK/basic.ll" -o "$WORK/again.elf"
cmp -s "$WORK/basic.elf" "$WORK/again.elf" || { echo "FAIL cached ELF differs"; failures=$((failures + 1)); }
checks=$((checks + 1))
finish
