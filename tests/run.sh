#!/usr/bin/env bash
# The whole test suite, as `make test` runs it (BUILD=build bash tests/run.sh):
#   1. every unit test binary $BUILD/tests/test_*, then every fuzz corpus
#      tests/fuzz/corpus/TARGET/* replayed through $BUILD/fuzz-replay/TARGET
#   2. the real servers (tests/env/start.sh) in $BUILD/testenv, stopped on exit;
#      with TESTENV_REUSE=DIR the environment already running in DIR is used
#      instead, and neither started nor stopped (e.g. `make asan` while the
#      shared environment is up: the ports would clash otherwise)
#   3. every tests/integ/test_*.py and tests/fault/test_*.py (/usr/bin/python3)
#      with SMTP_PROBE=$BUILD/smtp-probe and TESTENV=$BUILD/testenv
# Tests print "ok NAME" / "FAIL NAME: why"; a program that exits non-zero
# without printing FAIL counts as one failure named after it. The FAIL lines
# are repeated at the end, and the last line is "N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 3
BUILD=${BUILD:-build}
mkdir -p "$BUILD"
build=$(cd "$BUILD" && pwd)
testenv=$build/testenv
logdir=$build/test-logs
rm -rf "$logdir"
mkdir -p "$logdir"
PY=/usr/bin/python3
PER_PROGRAM_TIMEOUT=${PER_PROGRAM_TIMEOUT:-300}

passed=0
failed=0
fails=$logdir/FAILS

# run_one NAME CMD...: run a test program, show and count its output.
run_one() {
	local name=$1; shift
	local log rc p f
	log=$logdir/$(echo "$name" | tr '/' '_').log
	echo "== $name"
	timeout -k 5 "$PER_PROGRAM_TIMEOUT" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	cat "$log"
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	grep '^FAIL ' "$log" | sed "s|^FAIL |FAIL $name: |" >>"$fails"
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			echo "FAIL $name: timed out after ${PER_PROGRAM_TIMEOUT}s" | tee -a "$fails"
		else
			echo "FAIL $name: exited with status $rc" | tee -a "$fails"
		fi
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

: >"$fails"

# 1. Unit tests.
for t in "$build"/tests/test_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done

# 1b. Fuzz corpus replay (seeds and past crashes as regression tests).
for t in "$build"/fuzz-replay/fuzz_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	n=$(basename "$t")
	corpus=(tests/fuzz/corpus/"$n"/*)
	run_one "replay/$n" "$t" "$n" "${corpus[@]}"
done

# 2. The real servers, stopped however this script ends.
if [ -n "${TESTENV_REUSE:-}" ]; then
	testenv=$(cd "$TESTENV_REUSE" && pwd) || exit 3
	echo "== reusing the test environment in $testenv (TESTENV_REUSE)"
	if [ ! -f "$testenv/env.json" ]; then
		echo "FAIL testenv: $testenv/env.json missing (TESTENV_REUSE)" | tee -a "$fails"
		failed=$((failed + 1))
	fi
	trap 'exit 130' INT TERM
else
	cleanup() { bash "$top/tests/env/stop.sh" "$testenv" >/dev/null 2>&1 || true; }
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	echo "== starting test environment in $testenv"
	if ! bash "$top/tests/env/start.sh" "$testenv" >"$logdir/env-start.log" 2>&1; then
		cat "$logdir/env-start.log"
		echo "FAIL testenv: tests/env/start.sh failed (log: $logdir/env-start.log)" | tee -a "$fails"
		failed=$((failed + 1))
	fi
fi

# 3. Integration and fault tests.
export SMTP_PROBE=$build/smtp-probe
export TESTENV=$testenv
for t in tests/integ/test_*.py tests/fault/test_*.py; do
	[ -f "$t" ] || continue
	run_one "${t%.py}" "$PY" "$t"
done
for t in tests/integ/test_*.sh tests/fault/test_*.sh; do
	[ -f "$t" ] || continue
	run_one "${t%.sh}" bash "$t"
done

if [ -s "$fails" ]; then
	echo
	echo "== failures"
	cat "$fails"
fi
echo "== suite time: ${SECONDS}s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
