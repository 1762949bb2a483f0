# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# Helpers for the CLI tests. Each test script sources this, then calls expect_* functions.
set -u
: "${TIERJIT:?}" "${DATA:?}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export TIERJIT_CACHE_DIR="$WORK/cache"
# No background warm-image builds outliving a test (tests/cli/warm_image.sh turns them on).
export TIERJIT_WARM_IMAGE=${TIERJIT_WARM_IMAGE:-off}
failures=0
checks=0

# expect_run NAME WANT_STATUS STDERR_REGEX -- CMD...: runs CMD, checks status and stderr.
expect_run() {
  local name=$1 want=$2 pattern=$3
  shift 4
  checks=$((checks + 1))
  "$@" >"$WORK/out" 2>"$WORK/err"
  local got=$?
  if [ "$got" != "$want" ] || { [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$WORK/err"; }; then
    echo "FAIL $name: status $got (want $want), stderr:"; sed 's/^/  /' "$WORK/err" | head -5
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

# expect_stdout NAME EXPECTED_FILE -- CMD...: runs CMD, compares stdout exactly.
expect_stdout() {
  local name=$1 expected=$2
  shift 3
  checks=$((checks + 1))
  "$@" >"$WORK/out" 2>"$WORK/err"
  local got=$?
  if ! diff -u "$expected" "$WORK/out" >"$WORK/diff"; then
    echo "FAIL $name (status $got): stdout differs"; head -20 "$WORK/diff"; sed 's/^/  /' "$WORK/err" | head -5
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

finish() {
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}
