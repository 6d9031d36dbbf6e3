#!/usr/bin/env bash
# valgrind memcheck on representative runs of the probe (issue 6): Postfix
# with STARTTLS and the transcript, --mx against the suite's nsd, a batch of
# 20 targets, a refused port. Each run must report no memcheck error
# (invalid read/write, use of uninitialised memory, bad free) and
# "definitely lost: 0" (or no leak at all).
#
# valgrind is required: when it is missing this test FAILs (it installs
# nothing; `make test` installs valgrind: scripts/test-deps.sh). valgrind cannot run an
# ASan binary: under `make asan` the plain build/smtp-probe (built by the
# `make test` that runs first) is checked instead, or the test FAILs.
#
# Environment: SMTP_PROBE, TESTENV (as tests/run.sh sets them).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
PROBE=${SMTP_PROBE:-$top/build/smtp-probe}
TESTENV=${TESTENV:-$top/build/testenv}
failed=0

ok() { echo "ok valgrind: $*"; }
fail() { echo "FAIL valgrind: $*"; failed=1; }

if ! command -v valgrind >/dev/null 2>&1; then
	fail "valgrind is not installed (apt-get install valgrind; `make test` does it)"
	exit 1
fi
if grep -aq '__asan_init' "$PROBE" 2>/dev/null; then
	if [ -x "$top/build/smtp-probe" ] && ! grep -aq '__asan_init' "$top/build/smtp-probe"; then
		echo "# $PROBE is ASan-instrumented; checking $top/build/smtp-probe instead"
		PROBE=$top/build/smtp-probe
	else
		fail "$PROBE is ASan-instrumented and no plain build/smtp-probe exists"
		exit 1
	fi
fi
[ -x "$PROBE" ] || { fail "$PROBE not found"; exit 1; }
[ -f "$TESTENV/env.json" ] || { fail "no test environment at $TESTENV"; exit 1; }

port=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ports"]["starttls"])' "$TESTENV/env.json")
resolver=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dns"]["resolver"])' "$TESTENV/env.json")
ca=$TESTENV/certs/ca.pem

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# vg NAME PROBE-ARGS...: run under memcheck, check its summary.
vg() {
	local name=$1; shift
	local log=$tmp/$name.log rc
	timeout -k 5 120 valgrind --tool=memcheck --leak-check=full \
		--show-leak-kinds=definite --errors-for-leak-kinds=definite \
		--track-origins=yes --error-exitcode=99 --log-file="$log" \
		"$PROBE" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	if [ "$rc" = 99 ] || [ "$rc" = 124 ] || [ "$rc" -gt 3 ]; then
		fail "$name: exit $rc; $(grep -E 'Invalid|uninitialised|definitely lost|Mismatched|ERROR SUMMARY' "$log" | head -5 | tr '\n' ' ')"
		return
	fi
	if ! grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
		fail "$name: $(grep -E 'ERROR SUMMARY|Invalid' "$log" | head -3 | tr '\n' ' ')"
		return
	fi
	if grep -q 'definitely lost: [1-9]' "$log"; then
		fail "$name: $(grep 'definitely lost' "$log")"
		return
	fi
	if ! [ -s "$tmp/$name.out" ]; then
		fail "$name: no output (stderr: $(head -c 200 "$tmp/$name.err"))"
		return
	fi
	ok "$name (exit $rc, $(grep -oE 'total heap usage: [0-9,]+ allocs' "$log"))"
}

vg postfix-transcript -v --timeout 10 --cafile "$ca" --servername mx1.test -p "$port" 127.0.0.1
vg postfix-json -o json --timeout 10 --cafile "$ca" --servername mx1.test -p "$port" 127.0.0.1
vg mx --mx example.test --resolver "$resolver" --port "$port" --timeout 10 --cafile "$ca" -o json
vg refused -o json --timeout 5 127.0.0.1:9
: >"$tmp/targets"
for i in $(seq 1 20); do
	case $((i % 4)) in
	0) echo "127.0.0.1:$port" ;;
	1) echo "127.0.0.3:$port" ;;
	2) echo "127.0.$((20 + i)).1:9" ;;
	3) echo "127.0.0.4:$port" ;;
	esac >>"$tmp/targets"
done
vg batch20 -o json -f "$tmp/targets" -c 8 --per-host 4 --timeout 10 --cafile "$ca"
if [ -f "$tmp/batch20.out" ]; then
	n=$(grep -c '^{' "$tmp/batch20.out")
	if [ "$n" = 20 ]; then ok "batch20: 20 lines"; else fail "batch20: $n lines for 20 targets"; fi
fi
exit $failed
