# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# Linux guests: static executables built by Debian's riscv64-linux-gnu toolchain (glibc; gcc,
# and clang with the same sysroot) run in the sandbox as under qemu-riscv64 (the oracle, run
# with an empty environment as the sandbox gives none), exit status included; --strict runs
# them too (every call glibc makes is implemented); a position-independent image gets a
# located refusal.
. "$(dirname "$0")/lib.sh"
command -v riscv64-linux-gnu-gcc >/dev/null && command -v qemu-riscv64 >/dev/null ||
  { echo "SKIP: riscv64-linux-gnu-gcc or qemu-riscv64 missing (scripts/setup installs them)"; exit 77; }
G="$SRC/tests/sandbox/guests/linux_glibc.c"
for opt in -O0 -O2; do
  riscv64-linux-gnu-gcc $opt -static "$G" -o "$WORK/glibc$opt" -lm
  env -i qemu-riscv64 "$WORK/glibc$opt" "$G" > "$WORK/expected$opt"
  want=$?
  for mode in "" --strict; do
    expect_stdout "glibc $opt $mode: output as qemu" "$WORK/expected$opt" -- \
      "$TIERJIT" sandbox $mode --allow-read "$G" "$WORK/glibc$opt" "$G"
    expect_run "glibc $opt $mode: exit status $want" "$want" "" -- \
      "$TIERJIT" sandbox $mode --allow-read "$G" "$WORK/glibc$opt" "$G"
  done
done
# The same program from clang with Debian's cross sysroot, linked by lld.
"$CLANG" --target=riscv64-linux-gnu -O2 -static -fuse-ld=lld "$G" -o "$WORK/glibc-clang" -lm
env -i qemu-riscv64 "$WORK/glibc-clang" "$G" > "$WORK/expected-clang"
expect_stdout "clang --target=riscv64-linux-gnu: output as qemu" "$WORK/expected-clang" -- \
  "$TIERJIT" sandbox --strict --allow-read "$G" "$WORK/glibc-clang" "$G"
# Without the grant the file does not exist for the guest, as a missing file under qemu.
env -i qemu-riscv64 "$WORK/glibc-O2" /nonexistent/x > "$WORK/expected-nogrant"
expect_stdout "ungranted file" "$WORK/expected-nogrant" -- "$TIERJIT" sandbox "$WORK/glibc-O2" /nonexistent/x
grep -q "^fopen /nonexistent/x: No such file or directory$" "$WORK/expected-nogrant" ||
  { echo "FAIL the oracle did not see a missing file"; failures=$((failures + 1)); }
# Directory grants (--dir HOST[::GUEST]) and the environment (--env): what a grant covers
# reads as under qemu (same paths); escapes by "..", symbolic links and /proc are refused.
riscv64-linux-gnu-gcc -O2 -static "$SRC/tests/sandbox/guests/linux_files.c" -o "$WORK/files"
R="$WORK/root"
mkdir -p "$R/sub"
echo hello > "$R/a.txt"
echo nested > "$R/sub/b.txt"
ln -s /etc/passwd "$R/escape"
ln -s a.txt "$R/inside"
ln -s ../../etc/passwd "$R/sub/up"
env -i GREETING=hi qemu-riscv64 "$WORK/files" "$R/a.txt" "$R/sub/b.txt" "$R/inside" "$R/" "$R/sub/" \
  > "$WORK/files.expected"
expect_stdout "--dir: reads and listings as qemu" "$WORK/files.expected" -- \
  "$TIERJIT" sandbox --dir "$R" --env GREETING=hi "$WORK/files" "$R/a.txt" "$R/sub/b.txt" \
  "$R/inside" "$R/" "$R/sub/"
cat > "$WORK/escapes.expected" <<'OUT'
/data/a.txt: 6 bytes
/data/sub/../a.txt: 6 bytes
data/a.txt: 6 bytes
/data/escape: Permission denied
/data/sub/up: Permission denied
/data/../etc/passwd: No such file or directory
/etc/passwd: No such file or directory
/proc/self/maps: No such file or directory
GREETING=(unset)
OUT
expect_stdout "--dir HOST::/data: no escape" "$WORK/escapes.expected" -- \
  "$TIERJIT" sandbox --dir "$R::/data" "$WORK/files" /data/a.txt /data/sub/../a.txt data/a.txt \
  /data/escape /data/sub/up /data/../etc/passwd /etc/passwd /proc/self/maps
expect_run "--env needs KEY=VALUE" 64 "--env takes KEY=VALUE" -- \
  "$TIERJIT" sandbox --env NOVALUE "$WORK/files"
expect_run "--dir of a missing directory" 66 "not a directory for the guest" -- \
  "$TIERJIT" sandbox --dir "$WORK/nonexistent" "$WORK/files"
# Writable grants (--dir-rw): create, append, mkdir, unlink, rmdir beneath; nothing outside,
# also not through a symbolic link; a read-only grant refuses every write.
riscv64-linux-gnu-gcc -O2 -static "$SRC/tests/sandbox/guests/linux_write.c" -o "$WORK/write"
mkdir -p "$WORK/w/out"
ln -s "$WORK/w" "$WORK/w/out/link"
cat > "$WORK/write.expected" <<'OUT'
create: ok
append: ok
read back 14 bytes: line 1
line 2
mkdir: ok
create in sub: ok
unlink: ok
rmdir: ok
create outside: No such file or directory
OUT
expect_stdout "--dir-rw: writes beneath the grant" "$WORK/write.expected" -- \
  "$TIERJIT" sandbox --dir-rw "$WORK/w/out::/out" "$WORK/write" /out
checks=$((checks + 1))
if [ "$(cat "$WORK/w/out/result.txt")" = "$(printf 'line 1\nline 2')" ] && [ ! -e "$WORK/w/escaped.txt" ] &&
  [ ! -e "$WORK/w/out/sub" ]; then echo "ok   --dir-rw: the host sees the file, nothing else"
else echo "FAIL --dir-rw host state: $(ls -R "$WORK/w")"; failures=$((failures + 1)); fi
expect_run "--dir-rw: no write through a symbolic link" 0 "" -- \
  "$TIERJIT" sandbox --dir-rw "$WORK/w/out::/out" "$WORK/write" /out/link
checks=$((checks + 1))
if grep -q "^create: Permission denied$" "$WORK/out" && [ ! -e "$WORK/w/result.txt" ]; then
  echo "ok   --dir-rw: symbolic link refused"; else echo "FAIL symlink write: $(cat "$WORK/out")"
  failures=$((failures + 1)); fi
expect_run "--dir: read-only" 0 "" -- "$TIERJIT" sandbox --dir "$WORK/w/out::/out" "$WORK/write" /out
checks=$((checks + 1))
if [ "$(grep -c "Permission denied" "$WORK/out")" = 5 ]; then echo "ok   --dir: every write refused"
else echo "FAIL read-only grant: $(cat "$WORK/out")"; failures=$((failures + 1)); fi
# stdout redirected onto a file and back (dup, freopen = dup3 onto fd 1, dup2), as qemu does.
riscv64-linux-gnu-gcc -O2 -static "$SRC/tests/sandbox/guests/linux_redirect.c" -o "$WORK/redirect"
mkdir -p "$WORK/r"
env -i qemu-riscv64 "$WORK/redirect" "$WORK/r" > "$WORK/redirect.expected"
grep -q "the file held: into the file 42" "$WORK/redirect.expected" || echo "note: qemu output: $(cat "$WORK/redirect.expected")"
for tier in jit interp; do
  expect_stdout "dup/dup3: stdout onto a file and back ($tier)" "$WORK/redirect.expected" -- \
    "$TIERJIT" sandbox --tier $tier --dir-rw "$WORK/r" "$WORK/redirect" "$WORK/r"
done
# A position-independent image (ET_DYN: a shared object here; Debian's cross glibc has no
# static-PIE start file) is refused with a located error (exit 65), not run.
riscv64-linux-gnu-gcc -O2 -shared -fPIC "$G" -o "$WORK/glibc.so"
expect_run "ET_DYN refused" 65 "not an executable \(ET_EXEC\)" -- "$TIERJIT" sandbox "$WORK/glibc.so"
finish
