# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# LLBC: wrap, inspect, run with the header's entry and opt level, and corrupt containers.
. "$(dirname "$0")/lib.sh"

"$TIERJIT" llbc wrap --input "$DATA/hello.bc" --output "$WORK/hello.llbc" --name hello --entry main --opt 3 || failures=$((failures + 1))
expect_run "inspect" 0 "" -- "$TIERJIT" llbc inspect "$WORK/hello.llbc"
grep -q "entry_name    main" "$WORK/out" && grep -q "opt_level     3" "$WORK/out" || { echo "FAIL inspect output"; failures=$((failures + 1)); }
[ "$(head -c 4 "$WORK/hello.llbc")" = LLBC ] || { echo "FAIL magic bytes"; failures=$((failures + 1)); }

printf 'ctors 12\narg 1 4\nfib(24) 46368\ndestructor ran\n' > "$WORK/expected"
expect_stdout "run LLBC" "$WORK/expected" -- "$TIERJIT" run --no-cache "$WORK/hello.llbc" -- 4
expect_run "run LLBC status" 4 "" -- "$TIERJIT" run --no-cache "$WORK/hello.llbc" -- 4
expect_run "LLBC opt level is the tier-up target" 0 "mode: tiered baseline \(else O0\) -> O3" -- "$TIERJIT" run --no-cache --stats "$WORK/hello.llbc"
"$TIERJIT" llbc wrap --input "$DATA/hello.bc" --output "$WORK/o0.llbc" --name hello --opt 0
expect_run "LLBC opt 0 runs at O0 only" 0 "mode: fixed baseline \(else O0\)" -- "$TIERJIT" run --no-cache --stats "$WORK/o0.llbc"

head -c 100 "$WORK/hello.llbc" > "$WORK/short.llbc"
expect_run "truncated header" 65 "short.llbc: offset 100: LLBC: truncated header" -- "$TIERJIT" run "$WORK/short.llbc"
head -c 400 "$WORK/hello.llbc" > "$WORK/cut.llbc"
expect_run "truncated payload" 65 "truncated payload" -- "$TIERJIT" run "$WORK/cut.llbc"
cp "$WORK/hello.llbc" "$WORK/long.llbc"; printf 'extra' >> "$WORK/long.llbc"
expect_run "oversized" 65 "trailing bytes" -- "$TIERJIT" run "$WORK/long.llbc"
cp "$WORK/hello.llbc" "$WORK/ver.llbc"; printf '\x09' | dd of="$WORK/ver.llbc" bs=1 seek=104 conv=notrunc 2>/dev/null
expect_run "bad version" 65 "offset 104: LLBC: unsupported version 9" -- "$TIERJIT" run "$WORK/ver.llbc"
cp "$WORK/hello.llbc" "$WORK/payload.llbc"; printf 'XX' | dd of="$WORK/payload.llbc" bs=1 seek=128 conv=notrunc 2>/dev/null
expect_run "non-bitcode payload" 65 "payload is not LLVM bitcode" -- "$TIERJIT" run "$WORK/payload.llbc"
cp "$WORK/hello.llbc" "$WORK/flip.llbc"; printf 'Z' | dd of="$WORK/flip.llbc" bs=1 seek=300 conv=notrunc 2>/dev/null
expect_run "corrupt payload (hash)" 65 "hash mismatch" -- "$TIERJIT" run "$WORK/flip.llbc"
expect_run "wrap non-bitcode" 65 "not LLVM bitcode" -- "$TIERJIT" llbc wrap --input "$DATA/hello.ll" --output "$WORK/x.llbc"
expect_run "wrap long name" 64 "longer than 31" -- "$TIERJIT" llbc wrap --input "$DATA/hello.bc" --output "$WORK/x.llbc" --name aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
finish
