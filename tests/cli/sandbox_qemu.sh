#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# The sandbox against Debian's qemu-riscv64, instruction by instruction and on whole
# programs: random RV64GC+Zba/Zbb instruction streams (tests/sandbox/rv_stream_gen.cpp;
# registers, FP registers and fcsr dumped at the end) and the C guests must give identical
# bytes and exit statuses, in both of the sandbox's tiers (interpreter and translator). SEEDS
# (default 100) streams of 2,000 instructions per run. Each stream also runs through
# rv_tier_diff: translator against interpreter stopped at many budgets (every budget for the
# first five streams, every 17th after), which stops translated blocks in the middle.
source "$(dirname "$0")/lib.sh"
command -v qemu-riscv64 >/dev/null || { echo "qemu-riscv64 not installed (scripts/setup)"; exit 77; }
: "${RVGEN:?}" "${LLD:?}" "${RVDIFF:?}"
SEEDS=${SEEDS:-100}
SYSROOT=$("$TIERJIT" guest-cflags | grep -Eo '[^ ]+/include$' | sed 's,/include$,,')
QEMU=(qemu-riscv64 -cpu rv64,zba=true,zbb=true)
bad=0
tierbad=0
for s in $(seq 1 "$SEEDS"); do
  "$RVGEN" "$s" 2000 > "$WORK/t.S"
  "$CLANG" --target=riscv64-unknown-elf -march=rv64gc_zba_zbb -c "$WORK/t.S" -o "$WORK/t.o" &&
    "$LLD" -T "$SYSROOT/lib/tierjit.ld" -static -o "$WORK/t.elf" "$WORK/t.o" || { bad=$((bad + 1)); continue; }
  "${QEMU[@]}" "$WORK/t.elf" > "$WORK/t.qemu" 2>&1
  for tier in jit interp; do
    "$TIERJIT" sandbox --tier $tier "$WORK/t.elf" > "$WORK/t.sandbox" 2>&1
    if ! cmp -s "$WORK/t.sandbox" "$WORK/t.qemu"; then
      [ "$bad" -lt 3 ] && { echo "FAIL stream seed $s differs from qemu in tier $tier (reproduce: rv_stream_gen $s 2000)"; cp "$WORK/t.S" "/tmp/tierjit-rv-seed$s.S"; }
      bad=$((bad + 1))
    fi
  done
  step=17; [ "$s" -le 5 ] && step=1
  # Streams 6-10 run with one-instruction blocks (TIERJIT_SANDBOX_MAX_BLOCK): every
  # instruction then starts a block, entered from the run loop, a link or the table.
  max_block=256; [ "$s" -gt 5 ] && [ "$s" -le 10 ] && max_block=1
  if ! TIERJIT_SANDBOX_MAX_BLOCK=$max_block "$RVDIFF" "$WORK/t.elf" $step > "$WORK/t.diff"; then
    [ "$tierbad" -lt 3 ] && { cat "$WORK/t.diff"; cp "$WORK/t.S" "/tmp/tierjit-rv-seed$s.S"; }
    tierbad=$((tierbad + 1))
  fi
done
checks=$((checks + 1))
if [ "$tierbad" -eq 0 ]; then echo "ok   $SEEDS instruction streams: translator == interpreter at every budget checked"; else failures=$((failures + 1)); echo "FAIL $tierbad of $SEEDS streams: translator != interpreter"; fi
checks=$((checks + 1))
if [ "$bad" -eq 0 ]; then echo "ok   $SEEDS instruction streams identical to qemu"; else failures=$((failures + 1)); echo "FAIL $bad of $SEEDS streams"; fi

# Whole C programs: same stdout and status under qemu as in the sandbox.
read -r -a GFLAGS <<< "$("$TIERJIT" guest-cflags)"
for g in basic hostile_memory; do
  "$CLANG" "${GFLAGS[@]}" -O2 -S -emit-llvm "$SRC/tests/sandbox/guests/$g.c" -o "$WORK/$g.ll"
  "$TIERJIT" compile --target riscv64 "$WORK/$g.ll" -o "$WORK/$g.elf"
done
"${QEMU[@]}" "$WORK/basic.elf" x yz > "$WORK/q.out"; qrc=$?
expect_stdout "basic under qemu == sandbox" "$WORK/q.out" -- "$TIERJIT" sandbox "$WORK/basic.elf" -- x yz
expect_run "basic status under qemu == sandbox" "$qrc" "" -- "$TIERJIT" sandbox "$WORK/basic.elf" -- x yz
expect_stdout "basic under qemu == sandbox --tier interp" "$WORK/q.out" -- "$TIERJIT" sandbox --tier interp "$WORK/basic.elf" -- x yz
finish
