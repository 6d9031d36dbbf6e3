#!/usr/bin/env bash
# `make demo`: probe a real Postfix on loopback and show the text report,
# then let the relay setup assistant configure a mail address.
# Makes a test CA and certificate for mx1.test in build/demo, starts the test
# suite's servers (a private Postfix on 127.0.0.1:10025 and the relay ports
# 11465/11587 with SASL, and nsd on 127.0.0.1:10053 serving the test. zone
# with example.test's SRV records: no name goes to the internet), runs
# smtp-probe against them and stops them again, whatever happens. Needs root,
# Postfix, Cyrus SASL's saslpasswd2, nsd, python3-aiosmtpd and python3-dnslib (from
# Debian when missing).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
demo=$BUILD/demo
probe=$BUILD/smtp-probe

if [ "$(id -u)" != 0 ]; then
	echo "demo: must run as root (it starts a private Postfix instance)" >&2
	exit 1
fi
if [ ! -x "$probe" ]; then
	echo "demo: $probe is missing; run 'make' first" >&2
	exit 1
fi
need=""
for p in postfix openssl sasl2-bin libsasl2-modules nsd python3-aiosmtpd python3-dnslib; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
		need="$need $p"
done
if [ -n "$need" ]; then
	if [ "${DEMO_INSTALL:-1}" = 1 ] && command -v apt-get >/dev/null; then
		echo "demo: installing$need (Postfix with no system configuration)" >&2
		echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need
	else
		echo "demo: needs$need:" >&2
		echo "  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections" >&2
		echo "  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$need" >&2
		exit 1
	fi
fi

bash scripts/gen-certs.sh "$demo"
trap 'bash tests/env/stop.sh "$demo/env" >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT TERM
CERTDIR=$demo bash tests/env/start.sh --no-exim "$demo/env" >/dev/null

cmd=("$probe" --cafile "$demo/ca.pem" --servername mx1.test 127.0.0.1:10025)
echo "\$ ${cmd[*]}"
rc=0
"${cmd[@]}" || rc=$?
echo
echo "(exit status $rc: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)"

# The same probe as a page to open in a browser or hand to someone else.
report=$demo/report.html
"${cmd[@]:0:1}" -o html "${cmd[@]:1}" >"$report" || true
echo
echo "The same report as a self-contained web page: $report"
echo "(open it in a browser: file://$(cd "$(dirname "$report")" && pwd)/report.html)"

# Second example: configure a mail address from scratch. The password of the
# demo's SASL user is in the environment, never on the command line.
echo
echo "--- Relay setup assistant ---"
export SMTP_PROBE_PASSWORD
SMTP_PROBE_PASSWORD=$(cat "$demo/env/sasl-password")
setup=("$probe" --setup you@example.test --auth you@example.test --resolver 127.0.0.1:10053
       --cafile "$demo/ca.pem")
echo "\$ SMTP_PROBE_PASSWORD=... ${setup[*]}"
rc2=0
"${setup[@]}" || rc2=$?
echo
echo "(exit status $rc2: 0 a configuration is recommended and every check passed, 1 with warnings, 2 nothing usable)"
[ "$rc2" -gt "$rc" ] && rc=$rc2
exit "$rc"
