# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# `tierjit run --trace FILE.json`: Chrome trace-event JSON of one run, checked against the
# same run's --stats=json: every baseline compile, LLVM compile, cache load, tier-up and OSR
# entry the statistics count is one event, on the thread that did it.
. "$(dirname "$0")/lib.sh"
"$CLANG" -O1 -emit-llvm -c "$SRC/tests/data/baseline_ops.c" -o "$WORK/ops.bc"
"$CLANG" -O1 -emit-llvm -c "$SRC/tests/data/osr.c" -o "$WORK/osr.bc"
"$CLANG" -O1 "$SRC/tests/data/baseline_ops.c" -o "$WORK/ops"
"$WORK/ops" 1000 > "$WORK/ops.expected"
ops_status=$?

# check_trace NAME TRACE STATS: the events agree with the statistics.
check_trace() {
  checks=$((checks + 1))
  if python3 - "$2" "$3" > "$WORK/check" 2>&1 <<'PY'
import json, sys
from collections import Counter
events = json.load(open(sys.argv[1]))["traceEvents"]
stats = json.load(open(sys.argv[2]))
for e in events:
    assert {"name", "ph", "pid", "tid"} <= e.keys(), e
    if e["ph"] == "X":
        assert e["dur"] >= 0 and e["ts"] >= 0, e
threads = {e["args"]["name"]: e["tid"] for e in events if e["ph"] == "M"}
assert "main" in threads, threads
def of(cat, ph="X"):
    return [e for e in events if e.get("cat") == cat and e["ph"] == ph]
compiles = of("compile")
base = [e for e in compiles if e["args"]["tier"] == "baseline"]
llvm = [e for e in compiles if e["args"]["tier"] != "baseline" and e["args"]["source"] == "compiled"]
cached = [e for e in compiles if e["args"]["source"] == "cache"]
bundle = sum(e["args"]["bodies"] for e in of("cache"))
assert len(base) == stats["baseline"]["functions"], (len(base), stats["baseline"])
assert len(llvm) == stats["compiles"], (len(llvm), stats["compiles"])
assert len(cached) + bundle == stats["cache_hits"], (len(cached), bundle, stats["cache_hits"])
falls = Counter(e["args"]["reason"] for e in of("compile", "i"))
assert falls == Counter(stats["baseline"]["fallback_reasons"]), falls
installs = of("tier-up")
assert len(installs) == stats["tier_ups"], (len(installs), stats["tier_ups"])
requested = {e["args"]["function"] for e in of("tier-up", "i")}
for e in installs:  # compiled on the tier-up thread, after the request
    assert e["tid"] == threads["tier-up"] != threads["main"], e
    assert e["args"]["function"] in requested, e
tiered = {f["name"] for f in stats["function_reports"] if f["tier"] in ("O1", "O2", "O3")}
assert tiered <= {e["args"]["function"] for e in installs} | {e["args"]["function"] for e in cached}, tiered
assert len(of("osr")) == stats["osr"]["built"], (len(of("osr")), stats["osr"])
assert len(of("osr", "i")) == stats["osr"]["entered"], (len(of("osr", "i")), stats["osr"])
spans = {e["name"] for e in of("engine")}
assert {"load", "JIT setup", "run"} <= spans, spans
print(f"{len(events)} events: {len(base)} baseline, {len(llvm)} LLVM, {len(cached)} + {bundle} "
      f"from the cache, {len(installs)} tier-ups, {len(of('osr', 'i'))} OSR entries")
PY
  then echo "ok   $1: $(cat "$WORK/check")"
  else echo "FAIL $1"; sed 's/^/  /' "$WORK/check" | tail -5; failures=$((failures + 1)); fi
}

# Tiered, every function tier-up at its first call (--sync-tier-up: the same tiers each run).
expect_stdout "tiered: output" "$WORK/ops.expected" -- "$TIERJIT" run --no-cache --stats=json \
  --sync-tier-up --tier-thresholds 1 --no-osr --trace "$WORK/t1.json" "$WORK/ops.bc" -- 1000
cp "$WORK/err" "$WORK/s1.json"
check_trace "tiered" "$WORK/t1.json" "$WORK/s1.json"
# OSR: the continuation built and every entry into it.
"$TIERJIT" run --no-cache --stats=json --trace "$WORK/t2.json" "$WORK/osr.bc" 10 \
  > /dev/null 2> "$WORK/s2.json"
check_trace "OSR" "$WORK/t2.json" "$WORK/s2.json"
grep -q '"entered": [1-9]' "$WORK/s2.json" ||
  { echo "FAIL OSR run entered no continuation"; failures=$((failures + 1)); }
# Cached: the first run compiles, the second loads bodies, the third the bundle and images.
for round in 1 2 3; do
  "$TIERJIT" run --cache-dir "$WORK/cache" --stats=json --trace "$WORK/c$round.json" \
    "$WORK/ops.bc" -- 1000 > /dev/null 2> "$WORK/cs$round.json"
  check_trace "cached run $round" "$WORK/c$round.json" "$WORK/cs$round.json"
done
grep -q '"source": "cache"' "$WORK/c3.json" ||
  { echo "FAIL the third cached run loaded nothing from the cache"; failures=$((failures + 1)); }
# A trace that cannot be written fails before the program runs (EX_IOERR), and nothing is
# printed by the program.
expect_run "unwritable trace path" 74 "--trace: cannot write '$WORK/none/t.json'" -- \
  "$TIERJIT" run --no-cache --trace "$WORK/none/t.json" "$WORK/ops.bc" -- 1000
[ -s "$WORK/out" ] && { echo "FAIL the program ran despite the bad --trace"; failures=$((failures + 1)); }
finish
