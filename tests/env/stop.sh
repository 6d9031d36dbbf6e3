#!/usr/bin/env bash
# Stop exactly what tests/env/start.sh STATEDIR started: the private Postfix
# (postfix -c DIR stop), Exim (tests/env/exim.sh stop), nsd and aiosmtpd (by their pidfiles, after checking
# the pid still belongs to that program). Safe to run when nothing is up.
#
#   tests/env/stop.sh STATEDIR
set -uo pipefail
PATH=$PATH:/usr/sbin:/sbin

state=${1:?usage: stop.sh STATEDIR}
[ -d "$state" ] || exit 0
state=$(cd "$state" && pwd)

# pid_is PID WORD: the process exists and its command line mentions WORD.
pid_is() {
	[ -n "$1" ] && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "$2"
}

# stop_pid PIDFILE WORD: TERM, wait up to 5 s, then KILL.
stop_pid() {
	local pid
	[ -s "$1" ] || return 0
	pid=$(head -n1 "$1" | tr -dc 0-9)
	if pid_is "$pid" "$2"; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 50); do
			pid_is "$pid" "$2" || break
			sleep 0.1
		done
		pid_is "$pid" "$2" && kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$1"
}

pf=$state/postfix
if [ -f "$pf/main.cf" ]; then
	mpid=$(head -n1 "$state/postfix-queue/pid/master.pid" 2>/dev/null | tr -dc 0-9)
	if pid_is "$mpid" master; then
		postfix -c "$pf" stop >/dev/null 2>&1 || true
		for _ in $(seq 100); do
			pid_is "$mpid" master || break
			sleep 0.1
		done
		if pid_is "$mpid" master; then
			postfix -c "$pf" abort >/dev/null 2>&1 || kill -KILL "$mpid" 2>/dev/null
		fi
	fi
fi

stop_pid "$state/aiosmtpd.pid" "$state/aiosmtpd.pid"
stop_pid "$state/aiosmtpd.spawn.pid" "$state/aiosmtpd.pid"
stop_pid "$state/nsd/nsd.pid" "$state/nsd/nsd.conf"
bash "$(dirname "$0")/exim.sh" stop "$state"
exit 0
