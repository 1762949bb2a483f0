# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# The persistent object cache: warm runs skip code generation, corruption is caught and
# rebuilt, concurrent processes share a directory safely, --no-cache bypasses it.
. "$(dirname "$0")/lib.sh"
printf 'ctors 12\nfib(24) 46368\ndestructor ran\n' > "$WORK/expected"

expect_stdout "cold run" "$WORK/expected" -- "$TIERJIT" run --opt 1 "$DATA/hello.bc"
expect_run "warm run skips codegen" 0 "\(0 compiles, 0.0 ms total\), cache hits [1-9]" -- "$TIERJIT" run --opt 1 --stats "$DATA/hello.bc"

"$TIERJIT" run --opt 1 "$DATA/hello.bc" > /dev/null  # the second run writes the bundle
expect_run "third run links the code bundle" 0 "\(3 from the bundle\)" -- "$TIERJIT" run --opt 1 --stats "$DATA/hello.bc"
# --stats=json: the same statistics as the text (a warm run: the same counts every time), one
# JSON object on stderr with the documented schema (include/tierjit/engine.hpp).
"$TIERJIT" run --opt 1 --stats=json "$DATA/hello.bc" > /dev/null 2> "$WORK/stats.json"
"$TIERJIT" run --opt 1 --stats "$DATA/hello.bc" > /dev/null 2> "$WORK/stats.txt"
checks=$((checks + 1))
if python3 - "$WORK/stats.json" "$WORK/stats.txt" <<'PY'
import json, re, sys
j = json.load(open(sys.argv[1]))
t = open(sys.argv[2]).read()
m = re.search(r"functions (\d+), compiled (\d+) \((\d+) compiles, [0-9.]+ ms total\), cache hits "
              r"(\d+) \((\d+) from the bundle\), tier-ups (\d+)", t)
want = dict(zip(["functions", "compiled", "compiles", "cache_hits", "bundled", "tier_ups"],
                map(int, m.groups())))
got = {k: j[k] for k in want}
assert j["schema"] == "tierjit-stats" and j["version"] == 1, j["schema"]
assert got == want, f"json {got} != text {want}"
assert j["cache_hits"] > 0 and j["object_cache"]["hits"] > 0, "a warm run hits the cache"
names = [f["name"] for f in j["function_reports"]]
assert "main" in names and all(f["tier"] in ("base", "O1", None) for f in j["function_reports"])
PY
then echo "ok   --stats=json agrees with --stats"; else echo "FAIL --stats=json"; failures=$((failures + 1)); fi

# Corrupt every entry: each is reported, discarded and rebuilt; the output stays right.
for f in $(find "$TIERJIT_CACHE_DIR" -name '*.obj'); do printf 'XXXX' | dd of="$f" bs=1 seek=60 conv=notrunc 2>/dev/null; done
expect_run "corrupt entries reported" 0 "corrupt cache entry .*payload hash mismatch.*rebuilding" -- "$TIERJIT" run --opt 1 "$DATA/hello.bc"
cmp -s "$WORK/out" "$WORK/expected" || { echo "FAIL output after corruption"; failures=$((failures + 1)); }
expect_run "rebuilt entries are good" 0 "\(0 compiles" -- "$TIERJIT" run --opt 1 --stats "$DATA/hello.bc"

# Changed IR never hits the old entry.
sed 's/i32 noundef 24)/i32 noundef 20)/' "$DATA/hello.ll" > "$WORK/changed.ll"
"$TIERJIT" run --opt 1 "$DATA/hello.ll" > /dev/null
expect_run "changed IR recompiles" 0 "\([1-9][0-9]* compiles" -- "$TIERJIT" run --opt 1 --stats "$WORK/changed.ll"
grep -q "fib(24) 6765" "$WORK/out" || { echo "FAIL stale code after IR change"; cat "$WORK/out"; failures=$((failures + 1)); }

# Two processes at once on one cache directory, several times.
export TIERJIT_CACHE_DIR="$WORK/shared-cache"
for round in 1 2 3; do
  "$TIERJIT" run "$DATA/hello.bc" > "$WORK/p1" 2>"$WORK/e1" &
  "$TIERJIT" run "$DATA/hello.bc" > "$WORK/p2" 2>"$WORK/e2" &
  wait
  checks=$((checks + 1))
  if cmp -s "$WORK/p1" "$WORK/expected" && cmp -s "$WORK/p2" "$WORK/expected" && ! grep -q corrupt "$WORK/e1" "$WORK/e2"; then
    echo "ok   concurrent round $round"
  else
    echo "FAIL concurrent round $round"; cat "$WORK/e1" "$WORK/e2"; failures=$((failures + 1))
  fi
done
expect_run "cache stats" 0 "" -- "$TIERJIT" cache stats
grep -Eq "entries [1-9]" "$WORK/out" || { echo "FAIL cache stats shows no entries"; failures=$((failures + 1)); }
expect_run "cache clear" 0 "" -- "$TIERJIT" cache clear
"$TIERJIT" cache stats | grep -q "entries 0" || { echo "FAIL clear left entries"; failures=$((failures + 1)); }

export TIERJIT_CACHE_DIR="$WORK/untouched"
"$TIERJIT" run --no-cache "$DATA/hello.bc" > /dev/null
checks=$((checks + 1))
if [ -e "$TIERJIT_CACHE_DIR" ]; then echo "FAIL --no-cache wrote a cache"; failures=$((failures + 1)); else echo "ok   --no-cache bypasses"; fi
finish
