# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# Every bad-input class: a one-line located error, a documented exit status, no crash.
. "$(dirname "$0")/lib.sh"

printf 'define i32 @main() {\n  %%x = add i32 1,\n  ret i32 0\n}\n' > "$WORK/syntax.ll"
expect_run "invalid IR names file:line:col" 65 "syntax.ll:3:[0-9]+: invalid IR" -- "$TIERJIT" run --no-cache "$WORK/syntax.ll"

printf 'define i32 @main() {\n  ret i64 0\n}\n' > "$WORK/verify.ll"
expect_run "verifier failure" 65 "verify.ll:.*invalid IR" -- "$TIERJIT" run --no-cache "$WORK/verify.ll"

printf 'define i32 @other() {\n  ret i32 0\n}\n' > "$WORK/noentry.ll"
expect_run "missing entry" 67 "entry function 'main' is not defined" -- "$TIERJIT" run --no-cache "$WORK/noentry.ll"
expect_run "missing --entry" 67 "entry function 'nope' is not defined" -- "$TIERJIT" run --no-cache --entry nope "$DATA/hello.ll"

printf 'declare i32 @tj_missing_fn(i32)\ndefine i32 @main() {\n  %%r = call i32 @tj_missing_fn(i32 1)\n  ret i32 %%r\n}\n' > "$WORK/unresolved.ll"
expect_run "unresolved symbol named" 69 "unresolved external symbol 'tj_missing_fn'" -- "$TIERJIT" run --no-cache "$WORK/unresolved.ll"

expect_run "unreadable file" 66 "nonexistent.ll: cannot open" -- "$TIERJIT" run "$WORK/nonexistent.ll"
: > "$WORK/empty.ll"
expect_run "empty file" 65 "empty input" -- "$TIERJIT" run "$WORK/empty.ll"

head -c 300 "$DATA/hello.bc" > "$WORK/truncated.bc"
expect_run "truncated bitcode" 65 "truncated.bc.*invalid bitcode" -- "$TIERJIT" run --no-cache "$WORK/truncated.bc"

printf 'BC\xc0\xde\x01\x02\x03garbage' > "$WORK/garbage.bc"
expect_run "garbage bitcode" 65 "invalid bitcode" -- "$TIERJIT" run --no-cache "$WORK/garbage.bc"

printf '\x7fELF\x02\x01\x01\x00\x00\x00' > "$WORK/elf.bin"
expect_run "binary non-IR" 65 "not LLVM IR" -- "$TIERJIT" run --no-cache "$WORK/elf.bin"

sed 's/^target triple = .*/target triple = "riscv64-unknown-linux-gnu"/' "$DATA/hello.ll" > "$WORK/riscv.ll"
expect_run "IR for another architecture" 65 "generated for riscv64" -- "$TIERJIT" run --no-cache "$WORK/riscv.ll"

expect_run "bad --opt" 64 "" -- "$TIERJIT" run --opt 7 "$DATA/hello.ll"
expect_run "bad --tier-thresholds" 64 "tier-thresholds" -- "$TIERJIT" run --tier-thresholds 100,5 "$DATA/hello.ll"
expect_run "unknown subcommand" 64 "" -- "$TIERJIT" frobnicate
finish
