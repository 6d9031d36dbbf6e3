#!/usr/bin/env bash
# `make demo`: probe a real Postfix on loopback and show the text report.
# Makes a test CA and certificate for mx1.test in build/demo, starts a private
# Postfix on 127.0.0.1:10025 (STARTTLS, SIZE 100 MiB), runs smtp-probe against
# it and stops the server again, whatever happens. Needs root and Postfix.
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
if ! command -v postfix >/dev/null && [ ! -x /usr/sbin/postfix ]; then
	if [ "${DEMO_INSTALL:-1}" = 1 ] && command -v apt-get >/dev/null; then
		echo "demo: installing Postfix (no system configuration)" >&2
		echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postfix openssl
	else
		echo "demo: Postfix is needed:" >&2
		echo "  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections" >&2
		echo "  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix" >&2
		exit 1
	fi
fi

bash scripts/gen-certs.sh "$demo"
trap 'bash tests/env/stop.sh "$demo/env" >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT TERM
CERTDIR=$demo bash tests/env/start.sh --minimal "$demo/env" >/dev/null

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
exit "$rc"
