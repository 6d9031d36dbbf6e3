#!/usr/bin/env bash
# Benchmark smtp-probe against its peers (swaks, openssl s_client,
# posttls-finger, curl, testssl.sh) on the same target in the same run,
# tools alternating run by run. Prints Markdown tables; --write-docs also
# writes them to docs/benchmarks.md.
#
#   sudo scripts/bench.sh [--write-docs]
#
# Needs root (network namespace, Postfix's master). On Debian 12 it installs
# whatever is missing (checked with dpkg-query first), builds smtp-probe
# (`make`, BUILD=DIR to build elsewhere) and then, all inside a network
# namespace of its own (so nothing it starts can reach or collide with
# anything outside; the shared test environment's ports stay untouched):
#   - a private Postfix (scripts/bench/postfix.sh) on 127.0.0.1:11025,
#   - a delaying TCP/UDP proxy (scripts/bench/delayproxy.py) adding 50 ms and
#     100 ms of round-trip time in front of it and of two NSD instances
#     (one answers MX with the addresses in the additional section, one with
#     minimal responses), since this kernel has no netem,
#   - a fast fake STARTTLS server (scripts/bench/fakesmtp.py) for batches.
# It measures: 1. one probe on loopback (wall, user+sys CPU, peak RSS,
# medians of BENCH_RUNS, testssl.sh fewer: BENCH_SLOW_RUNS); 2. round trips
# per tool = (wall at 100 ms - wall at 50 ms) / 50 ms; 3. batch -f with
# 1,000 and 10,000 targets at -c 10/100/1000; 4. callgrind instruction
# counts of one probe; 5. mbedTLS's own benchmark of x25519 and ECDSA P-256
# verify, the public-key floor of a TLS 1.3 handshake.
# Everything it starts is stopped on exit (trap), the namespace deleted.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PATH=$PATH:/usr/sbin:/sbin
PY=/usr/bin/python3
export DEBIAN_FRONTEND=noninteractive

write_docs=0
for arg in "$@"; do
	case $arg in
	--write-docs) write_docs=1 ;;
	-h|--help) sed -n '2,27p' "$0"; exit 0 ;;
	*) echo "bench: unknown argument $arg" >&2; exit 3 ;;
	esac
done

BUILD=${BUILD:-build}
RUNS=${BENCH_RUNS:-21}
SLOW_RUNS=${BENCH_SLOW_RUNS:-3}
RTT_RUNS=${BENCH_RTT_RUNS:-5}
SIZES=${BENCH_SIZES:-1000,10000}
CONC=${BENCH_CONC:-10,100,1000}
# 10,000 targets at -c 10 adds ~50 s and no information (same CPU/probe, same
# RSS as 1,000 at -c 10): left out so a fresh machine finishes in 10 minutes.
BATCH_SKIP=${BENCH_BATCH_SKIP-10000x10}
P_POSTFIX=11025 P_D50=11125 P_D100=11225 P_FAKE=12025
P_NSD_ADD=10053 P_NSD_MIN=10054
# DNS through the proxy: additional-section server at 50/100 ms, minimal one at 50/100 ms.
P_DNS_ADD50=10153 P_DNS_ADD100=10253 P_DNS_MIN50=10154 P_DNS_MIN100=10254
NS=smtpbench$$

if [ "$(id -u)" != 0 ]; then
	echo "bench: must run as root (network namespace, Postfix)" >&2
	exit 3
fi
t_start=$(date +%s)

# ---------------------------------------------------------------- packages
pkgs="build-essential make cmake pkg-config curl bzip2 patch ca-certificates
	postfix openssl swaks testssl.sh libio-socket-inet6-perl libnet-ssleay-perl
	libio-socket-ssl-perl valgrind nsd iproute2 python3 procps"
missing=""
for p in $pkgs; do
	if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "bench: installing:$missing" >&2
	# Postfix must not configure itself as the system's mailer.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# ---------------------------------------------------------------- build
# BENCH_NO_BUILD=1 measures the binary already in BUILD (e.g. while the tree
# is mid-edit).
[ "${BENCH_NO_BUILD:-0}" = 1 ] || make -s BUILD="$BUILD" >/dev/null
mkdir -p "$BUILD"
B=$(cd "$BUILD" && pwd)
probe=$B/smtp-probe
state=$B/bench
rm -rf "$state"
mkdir -p "$state/logs"
cc -O2 -Wall -Wextra -o "$B/bench-runstat" scripts/bench/runstat.c
export RUNSTAT=$B/bench-runstat

# mbedTLS's own benchmark program and its record-buffer sizes, built against
# the same library smtp-probe links (deps/prefix, or the system's).
mb=$(ls -d deps/src/mbedtls-3.* 2>/dev/null | head -n1 || true)
benchmark="" recbuf=33530
if [ -n "$mb" ] && [ -f "$mb/programs/test/benchmark.c" ]; then
	libs="deps/prefix/lib/libmbedtls.a deps/prefix/lib/libmbedx509.a deps/prefix/lib/libmbedcrypto.a"
	[ -f deps/prefix/lib/libmbedcrypto.a ] || libs="-lmbedtls -lmbedx509 -lmbedcrypto"
	# shellcheck disable=SC2086
	# With probe/ecverify.c: the pinned library leaves ECDSA verification
	# to it (MBEDTLS_ECDSA_VERIFY_ALT), so the floor is this configuration's
	# (at -O3, as the Makefile compiles that file).
	if cc -O3 -I"$mb/include" -I"$mb/3rdparty/everest/include" -I"$mb/library" -Iinclude \
		-o "$B/bench-mbedtls" "$mb/programs/test/benchmark.c" probe/ecverify.c $libs \
		2>"$state/logs/mbedtls-benchmark-build.log"; then
		benchmark=$B/bench-mbedtls
	fi
	printf '#include "common.h"\n#include "ssl_misc.h"\n#include <stdio.h>\nint main(void) { printf("%%lu\\n", (unsigned long)(MBEDTLS_SSL_IN_BUFFER_LEN + MBEDTLS_SSL_OUT_BUFFER_LEN)); return 0; }\n' >"$B/bench-recbuf.c"
	if cc -I"$mb/include" -I"$mb/3rdparty/everest/include" -I"$mb/library" -o "$B/bench-recbuf" "$B/bench-recbuf.c" 2>/dev/null; then
		recbuf=$("$B/bench-recbuf")
	fi
fi

bash scripts/gen-certs.sh "$state/certs" >/dev/null
certs=$state/certs
ca=$certs/ca.pem
mkdir -p "$state/ptf"
echo "smtp_tls_loglevel = 0" >"$state/ptf/main.cf"

# ---------------------------------------------------------------- namespace
in_ns() { ip netns exec "$NS" "$@"; }

# stop_pidfile FILE: TERM the pid in FILE if it still runs inside our namespace.
stop_pidfile() {
	local pid
	[ -s "$1" ] || return 0
	pid=$(head -n1 "$1" | tr -dc 0-9)
	if [ -n "$pid" ] && ip netns pids "$NS" 2>/dev/null | grep -qx "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
	fi
}

cleanup() {
	set +e
	if ip netns list 2>/dev/null | grep -qw "$NS"; then
		in_ns bash scripts/bench/postfix.sh stop "$state" 2>/dev/null
		stop_pidfile "$state/proxy.pid"
		stop_pidfile "$state/fake.pid"
		stop_pidfile "$state/nsd-add/nsd.pid"
		stop_pidfile "$state/nsd-min/nsd.pid"
		for _ in $(seq 50); do
			[ -z "$(ip netns pids "$NS" 2>/dev/null)" ] && break
			sleep 0.1
		done
		# Whatever is still in the namespace was started by this script.
		for pid in $(ip netns pids "$NS" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$NS"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
in_ns ip link set lo up

in_ns bash scripts/bench/postfix.sh start "$state" "$certs" "$P_POSTFIX"

# Two NSD instances on the namespace's loopback, same zone: one answers MX
# queries with mx1.test's address in the additional section (NSD's default),
# one with minimal responses (no additional section), so --mx must ask.
# mx1.test has A and AAAA (::1, reached through the proxy too): smtp-probe
# takes additional-section addresses only when both families are there.
start_nsd() { # NAME PORT MINIMAL
	local d=$state/nsd-$1
	local rev6=0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa
	mkdir -p "$d/xfr"
	cat >"$d/test.zone" <<-EOF
	\$ORIGIN test.
	\$TTL 300
	@    SOA  ns.test. hostmaster.test. ( 1 3600 600 86400 300 )
	@    NS   ns.test.
	ns   A    127.0.0.1
	mx1  A    127.0.0.1
	mx1  AAAA ::1
	dom  MX   10 mx1.test.
	EOF
	cat >"$d/rev.zone" <<-EOF
	\$ORIGIN 0.0.127.in-addr.arpa.
	\$TTL 300
	@    SOA  ns.test. hostmaster.test. ( 1 3600 600 86400 300 )
	@    NS   ns.test.
	1    PTR  mx1.test.
	EOF
	cat >"$d/rev6.zone" <<-EOF
	\$ORIGIN $rev6.
	\$TTL 300
	@    SOA  ns.test. hostmaster.test. ( 1 3600 600 86400 300 )
	@    NS   ns.test.
	1    PTR  mx1.test.
	EOF
	cat >"$d/nsd.conf" <<-EOF
	server:
		ip-address: 127.0.0.1
		port: $2
		do-ip6: no
		username: ""
		chroot: ""
		zonesdir: "$d"
		database: ""
		pidfile: "$d/nsd.pid"
		xfrdfile: "$d/xfrd.state"
		zonelistfile: "$d/zone.list"
		xfrdir: "$d/xfr"
		logfile: "$d/nsd.log"
		server-count: 1
		minimal-responses: $3
	remote-control:
		control-enable: no
	zone:
		name: "test"
		zonefile: "$d/test.zone"
	zone:
		name: "0.0.127.in-addr.arpa"
		zonefile: "$d/rev.zone"
	zone:
		name: "$rev6"
		zonefile: "$d/rev6.zone"
	EOF
	in_ns nsd -c "$d/nsd.conf"
}
start_nsd add $P_NSD_ADD no
start_nsd min $P_NSD_MIN yes

# Delays are per direction: 25 ms each way = 50 ms RTT, 50 ms = 100 ms.
in_ns setsid "$PY" scripts/bench/delayproxy.py --pidfile "$state/proxy.pid" \
	tcp:127.0.0.1:$P_D50:127.0.0.1:$P_POSTFIX:25 \
	tcp:127.0.0.1:$P_D100:127.0.0.1:$P_POSTFIX:50 \
	tcp:[::1]:$P_D50:127.0.0.1:$P_POSTFIX:25 \
	tcp:[::1]:$P_D100:127.0.0.1:$P_POSTFIX:50 \
	udp:127.0.0.1:$P_DNS_ADD50:127.0.0.1:$P_NSD_ADD:25 \
	udp:127.0.0.1:$P_DNS_ADD100:127.0.0.1:$P_NSD_ADD:50 \
	udp:127.0.0.1:$P_DNS_MIN50:127.0.0.1:$P_NSD_MIN:25 \
	udp:127.0.0.1:$P_DNS_MIN100:127.0.0.1:$P_NSD_MIN:50 \
	</dev/null >"$state/logs/proxy.log" 2>&1 &
in_ns setsid "$PY" scripts/bench/fakesmtp.py --port $P_FAKE --cert "$certs/valid.chain.pem" \
	--key "$certs/valid.key" --workers "$(nproc)" --pidfile "$state/fake.pid" \
	</dev/null >"$state/logs/fake.log" 2>&1 &

in_ns "$PY" tests/env/wait_ready.py 20 smtp,127.0.0.1,$P_POSTFIX smtp,127.0.0.1,$P_D50 \
	smtp,127.0.0.1,$P_D100 smtp,127.0.0.1,$P_FAKE dns,127.0.0.1,$P_NSD_ADD \
	dns,127.0.0.1,$P_NSD_MIN >/dev/null || {
	echo "bench: servers did not come up; logs in $state" >&2; exit 1; }
for _ in $(seq 50); do [ -s "$state/proxy.pid" ] && [ -s "$state/fake.pid" ] && break; sleep 0.1; done

# ---------------------------------------------------------------- measure
res=$state/results.json
m() { in_ns "$PY" scripts/bench/measure.py "$res" "$@" --probe "$probe" --ca "$ca" \
	--ptf-config "$state/ptf" --logdir "$state/logs"; }

SECTIONS=" ${BENCH_SECTIONS:-single rtt batch callgrind floor} "
want() { case $SECTIONS in *" $1 "*) return 0 ;; esac; return 1; }
want single && {
echo "bench: 1/5 one probe on loopback ($RUNS runs each, testssl.sh $SLOW_RUNS)" >&2
m single --port $P_POSTFIX --runs "$RUNS" --slow-runs "$SLOW_RUNS"
}
want rtt && {
echo "bench: 2/5 round trips through the delaying proxy ($RTT_RUNS runs each, testssl.sh 1)" >&2
m rtt --runs "$RTT_RUNS" --slow-runs "${BENCH_RTT_SLOW_RUNS:-1}" \
	--delay 50:$P_D50:$P_DNS_ADD50:$P_DNS_MIN50 --delay 100:$P_D100:$P_DNS_ADD100:$P_DNS_MIN100
}
want batch && {
echo "bench: 3/5 batch ($SIZES targets, -c $CONC)" >&2
m batch --port $P_FAKE --sizes "$SIZES" --conc "$CONC" --skip "$BATCH_SKIP" \
	--record-buffers "$recbuf"
}
want callgrind && {
echo "bench: 4/5 callgrind" >&2
m callgrind --port $P_POSTFIX
}
if want floor && [ -n "$benchmark" ]; then
	echo "bench: 5/5 mbedTLS benchmark (x25519, ECDSA P-256)" >&2
	m floor --benchmark "$benchmark"
fi

# ---------------------------------------------------------------- report
"$PY" - "$state/machine.json" "$probe" "$(( $(date +%s) - t_start ))" <<'EOF'
import json, os, platform, subprocess, sys, time
def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""
cpu = ""
with open("/proc/cpuinfo") as f:
    for ln in f:
        if ln.startswith("model name"):
            cpu = ln.split(":", 1)[1].strip(); break
osr = ""
try:
    with open("/etc/os-release") as f:
        osr = dict(l.rstrip().split("=", 1) for l in f if "=" in l).get("PRETTY_NAME", "").strip('"')
except OSError:
    pass
pkg = lambda p: sh("dpkg-query", "-W", "-f=${Version}", p)
m = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": cpu,
     "nproc": os.cpu_count(), "kernel": platform.release(), "os": osr,
     "smtp_probe": sh(sys.argv[2], "--version").splitlines()[0] if sh(sys.argv[2], "--version") else "",
     "openssl": pkg("openssl"), "swaks": pkg("swaks"), "curl": pkg("curl"),
     "postfix": pkg("postfix"), "testssl": pkg("testssl.sh"),
     "bench_seconds": int(sys.argv[3])}
with open(sys.argv[1], "w") as f:
    json.dump(m, f)
EOF
out=$state/benchmarks.md
"$PY" scripts/bench/measure.py "$res" report --machine "$state/machine.json" --out "$out"
if [ "$write_docs" = 1 ]; then
	cp "$out" docs/benchmarks.md
	echo "bench: wrote docs/benchmarks.md" >&2
fi
echo "bench: done in $(( $(date +%s) - t_start )) s; raw results in $res" >&2
