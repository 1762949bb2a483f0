# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# Remote storage against real servers: a redis-server and an HTTP store (http_store.py) on
# loopback ports, started here. Each "machine" is an empty local cache directory. Every run's
# output is compared with a native build of the same program, and every remote outcome (hits,
# corrupt, rejected, errors, skipped, uploads) is read from that run's own --stats=json.
. "$(dirname "$0")/lib.sh"
command -v redis-server >/dev/null || { echo "SKIP: no redis-server (Debian: redis-server)"; exit 77; }
command -v redis-cli >/dev/null || { echo "SKIP: no redis-cli"; exit 77; }
PY=${TIERJIT_PYTHON3:-/usr/bin/python3}
[ "${TIERJIT_SANITIZE:-}" = "ON" ] && export TIERJIT_REMOTE_FLUSH_MS=20000  # slow uploads

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

export TIERJIT_REMOTE_STATE_DIR="$WORK/state"  # the circuit breaker's markers
RPORT=$(free_port)
start_redis() {
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
    --maxmemory 256mb --maxmemory-policy allkeys-lru >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  for _ in $(seq 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "FAIL redis-server did not start"; cat "$WORK/redis.log"; exit 1
}
start_redis
R() { redis-cli -p "$RPORT" "$@"; }
REDIS="redis://127.0.0.1:$RPORT"

P="$WORK/prog"
"$CLANG" -O1 "$SRC/tests/data/baseline_ops.c" -o "$P-native"
"$CLANG" -O1 -emit-llvm -c "$SRC/tests/data/baseline_ops.c" -o "$P.bc"
"$P-native" > "$WORK/expected"
want=$?

# check NAME MACHINE JQ_EXPR -- ENV...: runs the program as MACHINE (a local cache dir),
# compares output and status with native, then asserts JQ_EXPR (python) over --stats=json.
run_as() {  # MACHINE [ENV=V...]: one run, output in $WORK/out, stats in $WORK/stats.json
  local m=$1
  shift
  env "$@" "$TIERJIT" run --stats=json --cache-dir "$WORK/$m" "$P.bc" >"$WORK/out" 2>"$WORK/err"
  local got=$?
  sed -n '/^{$/,$p' "$WORK/err" > "$WORK/stats.json"
  checks=$((checks + 1))
  if [ "$got" != "$want" ] || ! cmp -s "$WORK/out" "$WORK/expected"; then
    echo "FAIL $m: output or status ($got) differs from native"; sed 's/^/  /' "$WORK/err" | grep -v '^  {' | head -5
    failures=$((failures + 1))
  else
    echo "ok   $m: output as native"
  fi
}
# expect_stat NAME PY_EXPR: PY_EXPR over c (the stats' "cache" object) and r (its first remote)
expect_stat() {
  checks=$((checks + 1))
  if "$PY" - "$WORK/stats.json" "$2" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["object_cache"]
r = (c.get("remote") or [{}])[0]
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
  then echo "ok   $1"; else
    echo "FAIL $1: $2 is false in:"; "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["object_cache"])' "$WORK/stats.json" | head -5
    failures=$((failures + 1)); fi
}
expect_err() {  # NAME REGEX: the last run's stderr matches
  checks=$((checks + 1))
  if grep -Eq -- "$2" "$WORK/err"; then echo "ok   $1"; else
    echo "FAIL $1: stderr lacks /$2/"; grep -v '^{' "$WORK/err" | head -5; failures=$((failures + 1)); fi
}

export TIERJIT_REMOTE_STORAGE="$REDIS"
# ---- one machine fills the remote; a second, empty one starts from it
run_as a
expect_stat "a, cold: uploads what it compiled" 'r["uploads"] > 0 and r["errors"] == 0 and r["url"].startswith("redis://")'
run_as a
expect_stat "a, second run: bundles uploaded" 'r["uploads"] > 0'
keys=$(R dbsize)
run_as b
expect_stat "b (empty local cache): served by the remote" 'c["remote_hits"] >= 3 and r["hits"] >= 3 and r["corrupt"] == 0'
run_as b
expect_stat "b, again: local hits, the remote asked for nothing new" 'c["hits"] > 0 and c["remote_hits"] == 0'

# ---- push and pull: a remote emptied and warmed again from a machine's cache
R flushall >/dev/null
expect_run "cache push" 0 "" -- "$TIERJIT" cache --cache-dir "$WORK/a" push
checks=$((checks + 1))
if [ "$(R dbsize)" -ge "$keys" ]; then echo "ok   push restored $(R dbsize) keys"; else
  echo "FAIL push restored $(R dbsize) of $keys keys"; failures=$((failures + 1)); fi
expect_run "cache pull" 0 "" -- "$TIERJIT" cache --cache-dir "$WORK/p" pull
a_entries=$("$TIERJIT" cache --cache-dir "$WORK/a" stats | sed -n 's/^entries //p')
p_entries=$("$TIERJIT" cache --cache-dir "$WORK/p" stats | sed -n 's/^entries //p')
checks=$((checks + 1))
if [ "$a_entries" = "$p_entries" ] && [ "$p_entries" -gt 0 ]; then echo "ok   pull: $p_entries entries, as a has"; else
  echo "FAIL pull: $p_entries entries, a has $a_entries"; failures=$((failures + 1)); fi
expect_run "cache stats: totals and a live probe" 0 "" -- "$TIERJIT" cache --cache-dir "$WORK/b" stats
checks=$((checks + 1))
if grep -q "^remote $REDIS: hits [1-9]" "$WORK/out" && grep -q "^remote $REDIS: reachable" "$WORK/out"; then
  echo "ok   cache stats shows b's remote hits"; else echo "FAIL cache stats:"; cat "$WORK/out"; failures=$((failures + 1)); fi

# ---- read-only: a machine that reads but never writes
before=$(R dbsize)
run_as ro TIERJIT_REMOTE_STORAGE="$REDIS|read-only|prefix=tenant2"
expect_stat "read-only: nothing uploaded" 'r["uploads"] == 0 and r["misses"] > 0'
checks=$((checks + 1))
if [ "$(R dbsize)" = "$before" ]; then echo "ok   read-only: the remote is unchanged"; else
  echo "FAIL read-only: $before keys became $(R dbsize)"; failures=$((failures + 1)); fi

# ---- tenants: a prefix sees only its own entries
run_as t1 TIERJIT_REMOTE_STORAGE="$REDIS|prefix=tenant1"
expect_stat "prefix: another tenant's entries are not seen" 'r["hits"] == 0 and r["uploads"] > 0'
checks=$((checks + 1))
if [ "$(R --scan --pattern 'tierjit:tenant1:*' | wc -l)" -gt 0 ]; then echo "ok   prefix: keys under tierjit:tenant1:"; else
  echo "FAIL prefix: no tierjit:tenant1: keys"; failures=$((failures + 1)); fi

# ---- a poisoned remote: damaged and truncated entries are misses, never run
poison() { for k in $(R --scan --pattern 'tierjit:[0-9a-f]*'); do R setrange "$k" 60 "POISONED" >/dev/null; done; }
poison
run_as c
expect_stat "damaged entries: counted corrupt, none used" 'r["corrupt"] > 0 and c["remote_hits"] == 0'
expect_err "damaged entries: warned about" "remote storage .* is corrupt \(payload hash mismatch\)"
# A machine that has the program's manifest (entry payload "TJM2") but nothing else: the
# batched read of everything else meets damaged entries only.
for f in $(find "$WORK/a/v1" -name '*.obj'); do
  if [ "$(dd if="$f" bs=1 skip=48 count=4 2>/dev/null)" = TJM2 ]; then
    mkdir -p "$WORK/c2/v1/$(basename "$(dirname "$f")")"; cp "$f" "$WORK/c2/v1/$(basename "$(dirname "$f")")/"
  fi
done
poison  # c's run uploaded good entries again
run_as c2
expect_stat "damaged entries, batched read: all refused" 'r["corrupt"] >= 3 and c["remote_hits"] == 0 and c["corrupt"] == 0'
R eval "for _, k in ipairs(redis.call('keys', ARGV[1])) do
  local v = redis.call('get', k); redis.call('set', k, string.sub(v, 1, math.floor(#v / 2))) end" \
  0 'tierjit:[0-9a-f]*' >/dev/null
run_as d
expect_stat "truncated entries: counted corrupt or refused" 'r["corrupt"] + r["rejected"] > 0 and c["remote_hits"] == 0'
R flushall >/dev/null
"$TIERJIT" cache --cache-dir "$WORK/a" push >/dev/null

# ---- signed entries (TIERJIT_REMOTE_KEY)
run_as s0 TIERJIT_REMOTE_KEY=k1
expect_stat "key set, unsigned entries: refused" 'r["rejected"] > 0 and r["hits"] == 0 and c["signed"]'
expect_err "key set, unsigned entries: warned about" "refused \(unsigned entry\)"
R flushall >/dev/null
TIERJIT_REMOTE_KEY=k1 "$TIERJIT" cache --cache-dir "$WORK/a" push >/dev/null
run_as s1 TIERJIT_REMOTE_KEY=k1
expect_stat "signed with the reader's key: used" 'r["hits"] >= 3 and r["rejected"] == 0'
run_as s2 TIERJIT_REMOTE_KEY=k2
expect_stat "signed with another key: refused" 'r["rejected"] > 0 and r["hits"] == 0'
expect_err "signed with another key: warned about" "signature does not match"
run_as s3
expect_stat "no key, signed entries: used (unverified)" 'r["hits"] >= 3'

# ---- 16 machines at once on one remote
R flushall >/dev/null
for i in $(seq 16); do
  "$TIERJIT" run --cache-dir "$WORK/m$i" "$P.bc" >"$WORK/c$i.out" 2>"$WORK/c$i.err" &
  echo $! > "$WORK/c$i.pid"
done
bad=0
for i in $(seq 16); do
  wait "$(cat "$WORK/c$i.pid")"; st=$?
  if [ "$st" != "$want" ] || ! cmp -s "$WORK/c$i.out" "$WORK/expected"; then bad=$((bad + 1)); fi
done
checks=$((checks + 1))
if [ "$bad" = 0 ] && [ "$(R dbsize)" -gt 0 ]; then echo "ok   16 concurrent machines: all as native"; else
  echo "FAIL 16 concurrent machines: $bad differ"; failures=$((failures + 1)); fi
run_as m17
expect_stat "after them, a 17th machine hits" 'r["hits"] >= 1 and r["corrupt"] == 0'

# ---- the server dies mid-run (SQLite, compiling and uploading), stays down, and the breaker
# keeps later runs from waiting
R flushall >/dev/null
if [ -f "$EXAMPLES/sqlrun.bc" ]; then
  "$EXAMPLES/sqlrun-native" < "$SRC/examples/workload.sql" > "$WORK/sql.expected"
  "$TIERJIT" run --cache-dir "$WORK/k" "$EXAMPLES/sqlrun.bc" < "$SRC/examples/workload.sql" \
    >"$WORK/kill.out" 2>"$WORK/kill.err" &
  runner=$!
  sleep 0.5
  kill -9 "$REDIS_PID"
  wait "$runner"; st=$?
  checks=$((checks + 1))
  if [ "$st" = 0 ] && cmp -s "$WORK/kill.out" "$WORK/sql.expected"; then echo "ok   server killed mid-run: output as native"; else
    echo "FAIL server killed mid-run: status $st"; head -5 "$WORK/kill.err"; failures=$((failures + 1)); fi
  run_as down0
  expect_stat "server down, after the run that saw it die: skipped at once" 'r["errors"] == 0 and r["skipped"] > 0'
else  # builds without the examples (sanitizer builds): killed between runs
  echo "     (no SQLite example in this build: the server is killed between runs)"
  kill -9 "$REDIS_PID"
  wait "$REDIS_PID" 2>/dev/null
fi
rm -rf "$TIERJIT_REMOTE_STATE_DIR"
run_as down
expect_stat "server down: an error, the run goes on" 'r["errors"] >= 1 and r["hits"] == 0'
expect_err "server down: warned about, with the breaker" "remote storage $REDIS: cannot connect.*not used for 30 s"
run_as down
expect_stat "server down, next process: skipped by the breaker" 'r["errors"] == 0 and r["skipped"] > 0'
start_redis
run_as up
expect_stat "server back, breaker still open: skipped" 'r["skipped"] > 0 and r["hits"] == 0'
rm -rf "$TIERJIT_REMOTE_STATE_DIR"
run_as up
expect_stat "breaker closed: the remote is used again" 'r["skipped"] == 0 and r["errors"] == 0 and r["uploads"] > 0'

# ---- a server that accepts and never answers: the per-request timeout bounds the wait
SPORT=$(free_port)
"$PY" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$SPORT" &
PIDS+=($!)
sleep 0.3
t0=$(date +%s%N)
run_as slow TIERJIT_REMOTE_STORAGE="redis://127.0.0.1:$SPORT|operation-timeout=300"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_stat "silent server: a timeout error, counted" 'r["errors"] >= 1'
expect_err "silent server: warned about" "timed out|Resource temporarily unavailable"
echo "     (silent server run: $ms ms)"

# ---- HTTP: PUT and GET through libcurl against a real server
mkdir -p "$WORK/http"
"$PY" "$SRC/tests/cli/http_store.py" "$WORK/http" "$WORK/http.port" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/http.port" ] && break; sleep 0.05; done
HTTP="http://127.0.0.1:$(cat "$WORK/http.port")/cache"
run_as h1 TIERJIT_REMOTE_STORAGE="$HTTP|layout=subdirs"
expect_stat "http, first machine: uploads" 'r["uploads"] > 0 and r["errors"] == 0'
run_as h1 TIERJIT_REMOTE_STORAGE="$HTTP|layout=subdirs"
run_as h2 TIERJIT_REMOTE_STORAGE="$HTTP|layout=subdirs"
expect_stat "http, second machine: served by the server" 'r["hits"] >= 3 and r["corrupt"] == 0'
checks=$((checks + 1))
if [ "$(find "$WORK/http/cache" -mindepth 2 -type f | wc -l)" -gt 0 ]; then echo "ok   http: entries stored in subdirectories"; else
  echo "FAIL http: nothing stored under $WORK/http/cache/XX/"; failures=$((failures + 1)); fi
mkdir -p "$WORK/slowhttp"
"$PY" "$SRC/tests/cli/http_store.py" "$WORK/slowhttp" "$WORK/slowhttp.port" --delay 5 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/slowhttp.port" ] && break; sleep 0.05; done
run_as h3 TIERJIT_REMOTE_STORAGE="http://127.0.0.1:$(cat "$WORK/slowhttp.port")|operation-timeout=300"
expect_stat "slow http server: a timeout error, counted" 'r["errors"] >= 1 and r["hits"] == 0'

# ---- a second back end: the first one down, the second serves
run_as f1 TIERJIT_REMOTE_STORAGE="file://$WORK/shared"
run_as f1 TIERJIT_REMOTE_STORAGE="file://$WORK/shared"
run_as f2 TIERJIT_REMOTE_STORAGE="redis://127.0.0.1:$(free_port)|connect-timeout=50 file://$WORK/shared"
expect_stat "two back ends, the first down: the second serves" 'c["remote"][0]["errors"] == 1 and c["remote"][1]["hits"] >= 3'

# ---- riscv64 ELFs come from the remote too
export TIERJIT_REMOTE_STORAGE="$REDIS"
read -r -a GFLAGS <<< "$("$TIERJIT" guest-cflags)"
"$CLANG" "${GFLAGS[@]}" -O1 -S -emit-llvm "$SRC/tests/data/hello.c" -o "$WORK/guest.ll"
expect_run "riscv64 ELF, machine a: stored" 0 "ELF cache: miss \(compiled, linked and stored\)" -- \
  "$TIERJIT" compile --stats --target riscv64 "$WORK/guest.ll" -o "$WORK/a.elf" --remote-storage "$REDIS"
expect_run "riscv64 ELF, machine b: a hit" 0 "ELF cache: hit" -- \
  env TIERJIT_CACHE_DIR="$WORK/rv-b" "$TIERJIT" compile --stats --target riscv64 "$WORK/guest.ll" -o "$WORK/b.elf"
checks=$((checks + 1))
if cmp -s "$WORK/a.elf" "$WORK/b.elf"; then echo "ok   riscv64 ELF: the same bytes"; else
  echo "FAIL riscv64 ELF differs"; failures=$((failures + 1)); fi

# ---- bytecode LLVM-tier objects and StableHLO modules come from the remote too
fib="$SRC/examples/bytecode/fib.tjasm"
expect_run "bytecode LLVM tier, machine a: compiled and stored" 0 "0 from the object cache, 1 compiled" -- \
  "$TIERJIT" run --cache-dir "$WORK/bc-a" --tier llvm --stats "$fib" -- 25
expect_run "bytecode LLVM tier, machine b: from the remote" 0 "1 from the object cache, 0 compiled" -- \
  "$TIERJIT" run --cache-dir "$WORK/bc-b" --tier llvm --stats "$fib" -- 25
checks=$((checks + 1))
if [ "$(cat "$WORK/out")" = 75025 ]; then echo "ok   bytecode: fib(25)"; else echo "FAIL bytecode output"; failures=$((failures + 1)); fi
d="$SRC/tests/stablehlo_run"
for m in sh-a sh-b; do
  expect_run "StableHLO, machine $m" 0 "" -- "$TIERJIT" run --cache-dir "$WORK/$m" "$d/bias_sum.mlir" \
    --input "$d/x.npy" --input "$d/b.npy" --output "$WORK/$m.npy" --output "$WORK/$m-2.npy"
done
expect_run "StableHLO, machine b's totals" 0 "" -- "$TIERJIT" cache --cache-dir "$WORK/sh-b" stats
checks=$((checks + 1))
if grep -q "^remote $REDIS: hits 1," "$WORK/out" && cmp -s "$WORK/sh-a.npy" "$WORK/sh-b.npy"; then
  echo "ok   StableHLO: b's module came from the remote, same result"; else
  echo "FAIL StableHLO:"; cat "$WORK/out"; failures=$((failures + 1)); fi

# ---- a program that forks: the child's exit neither waits for the parent's upload thread
# nor writes on the parent's connections
cat > "$WORK/fork.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int work(int n) { int s = 0; for (int i = 0; i < n; i++) s += i % 7; return s; }
int main(void) {
  pid_t p = fork();
  if (p == 0) { printf("child %d\n", work(1000)); exit(3); }
  int st = 0;
  waitpid(p, &st, 0);
  printf("parent %d, child status %d\n", work(2000), WEXITSTATUS(st));
  return 0;
}
EOF
"$CLANG" -O1 "$WORK/fork.c" -o "$WORK/fork-native" && "$WORK/fork-native" > "$WORK/fork.expected"
"$CLANG" -O1 -emit-llvm -c "$WORK/fork.c" -o "$WORK/fork.bc"
for m in fork-a fork-b; do
  expect_stdout "fork, machine $m: output as native, no hang" "$WORK/fork.expected" -- \
    timeout 60 "$TIERJIT" run --cache-dir "$WORK/$m" "$WORK/fork.bc"
done

# ---- bad configuration
expect_run "--remote-storage with an unknown scheme" 64 "unknown scheme" -- \
  "$TIERJIT" run --remote-storage "ftp://x" "$P.bc"
expect_run "--remote-storage with a bad attribute" 64 "unknown attribute 'fast'" -- \
  "$TIERJIT" run --remote-storage "$REDIS|fast" "$P.bc"
expect_run "a bad TIERJIT_REMOTE_STORAGE: warned, runs" "$want" \
  "TIERJIT_REMOTE_STORAGE: .*bad port; no remote storage" -- \
  env TIERJIT_REMOTE_STORAGE="redis://:99999" "$TIERJIT" run --cache-dir "$WORK/bad" "$P.bc"
finish
