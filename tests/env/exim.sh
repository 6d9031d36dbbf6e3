#!/usr/bin/env bash
# Exim 4 (Debian's exim4-daemon-light, TLS by GnuTLS) as a second TLS stack
# for the integration tests. The package conflicts with Postfix, so it is
# never installed: its .deb is fetched once with `apt-get download` into a
# cache and unpacked there with `dpkg -x`; the binary runs with its own
# configuration on loopback ports only.
#
#   tests/env/exim.sh fetch                     download + unpack (cached)
#   tests/env/exim.sh start STATEDIR CERTDIR    one daemon, ports below
#   tests/env/exim.sh stop STATEDIR
#
# Cache: $SMTP_PROBE_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/smtp-probe);
# the .deb is downloaded only when it is not there yet.
#
# Ports (127.0.0.1 and ::1), every one STARTTLS, certificate for mx1.test:
#   10040 GnuTLS defaults (TLS 1.2 + 1.3), EC P-256 leaf + CA
#   10041 TLS 1.2 only, DHE-RSA key exchange only (RSA 2048 leaf)
#   10042 TLS 1.2 only, static RSA key exchange only (TLS_RSA_WITH_*)
#   10043 TLS 1.0 and 1.1 only
#   10044 RSA 1024 leaf issued by the trusted test CA
#   10045 the leaf alone, its intermediate CA omitted
#
# The binary looks up its compiled-in user "Debian-exim" by name. Rather
# than adding a system user, the daemon runs in a private mount namespace
# (unshare -m) where /etc/passwd and /etc/group are copies that name it
# (mapped to nobody/nogroup). Needs root, like the rest of the environment.
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin

# The shared libraries the binary links against (Depends of the .deb);
# .ci/run installs them as ordinary packages.
EXIM_LIB_PKGS="libgnutls30 libgnutls-dane0 libidn12 libidn2-0 libnsl2 libpcre2-8-0 libdb5.3 libcrypt1"
P_DEFAULT=10040 P_DHE=10041 P_RSAKX=10042 P_LEGACY=10043 P_WEAK=10044 P_NOINTER=10045
EXIM_PORTS="$P_DEFAULT $P_DHE $P_RSAKX $P_LEGACY $P_WEAK $P_NOINTER"

cache=${SMTP_PROBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smtp-probe}/exim4
bin=$cache/root/usr/sbin/exim4

fetch() {
	mkdir -p "$cache"
	if ! ls "$cache"/exim4-daemon-light_*.deb >/dev/null 2>&1; then
		# apt drops privileges to _apt for downloads: give it a directory
		# it may write, then keep the file in the cache.
		local tmp
		tmp=$(mktemp -d)
		chmod 777 "$tmp"
		(cd "$tmp" && apt-get download -q exim4-daemon-light >/dev/null) || {
			rm -rf "$tmp"
			echo "exim.sh: apt-get download exim4-daemon-light failed" >&2
			return 1
		}
		mv "$tmp"/exim4-daemon-light_*.deb "$cache/"
		rm -rf "$tmp"
	fi
	if [ ! -x "$bin" ]; then
		rm -rf "$cache/root"
		dpkg -x "$(ls "$cache"/exim4-daemon-light_*.deb | tail -n1)" "$cache/root"
	fi
	if ldd "$bin" | grep -q 'not found'; then
		echo "exim.sh: the exim binary misses shared libraries:" >&2
		ldd "$bin" | grep 'not found' >&2
		echo "exim.sh: install them: apt-get install $EXIM_LIB_PKGS" >&2
		return 1
	fi
}

start() {
	local state=$1 certs=$2 ex
	ex=$state/exim
	stop "$state"
	fetch
	rm -rf "$ex"
	mkdir -p "$ex/spool" "$ex/log"
	chown nobody:nogroup "$ex/spool" "$ex/log"

	# The daemon's private view of the user database (see the top).
	cp /etc/passwd "$ex/passwd"
	cp /etc/group "$ex/group"
	grep -q '^Debian-exim:' "$ex/passwd" ||
		echo "Debian-exim:x:$(id -u nobody):$(id -g nobody)::/nonexistent:/usr/sbin/nologin" >>"$ex/passwd"
	grep -q '^Debian-exim:' "$ex/group" ||
		echo "Debian-exim:x:$(id -g nobody):" >>"$ex/group"

	# Keys are read after the daemon dropped to Debian-exim (nobody): copies
	# readable by that user, inside the state directory only.
	mkdir -p "$ex/certs"
	for n in valid rsa weak1024 nointer; do
		cp "$certs/$n.chain.pem" "$certs/$n.key" "$ex/certs/"
	done
	chown -R nobody:nogroup "$ex/certs"
	chmod 700 "$ex/certs"

	local ports
	ports=$(echo "$EXIM_PORTS" | sed 's/ / : /g')
	# GnuTLS priority strings per port: versions and key exchange.
	cat >"$ex/exim.conf" <<EOF
# Private test instance (tests/env/exim.sh): loopback only, accepts no mail.
primary_hostname = mx1.test
spool_directory = $ex/spool
log_file_path = $ex/log/%slog
pid_file_path = $ex/exim.pid
local_interfaces = <; 127.0.0.1 ; ::1
daemon_smtp_ports = $ports
keep_environment =
host_lookup =
rfc1413_hosts =
dns_cname_loops = 0
smtp_banner = \$primary_hostname ESMTP Exim \$version_number (smtp-probe test)
message_size_limit = 50M
tls_advertise_hosts = *
tls_certificate = ${ex}/certs/\${if eq{\$received_port}{$P_DHE}{rsa}{\${if eq{\$received_port}{$P_RSAKX}{rsa}{\${if eq{\$received_port}{$P_WEAK}{weak1024}{\${if eq{\$received_port}{$P_NOINTER}{nointer}{valid}}}}}}}}.chain.pem
tls_privatekey = ${ex}/certs/\${if eq{\$received_port}{$P_DHE}{rsa}{\${if eq{\$received_port}{$P_RSAKX}{rsa}{\${if eq{\$received_port}{$P_WEAK}{weak1024}{\${if eq{\$received_port}{$P_NOINTER}{nointer}{valid}}}}}}}}.key
tls_require_ciphers = \${if eq{\$received_port}{$P_DHE}{NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+DHE-RSA}{\${if eq{\$received_port}{$P_RSAKX}{NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA}{\${if eq{\$received_port}{$P_LEGACY}{NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0}{NORMAL}}}}}}
acl_smtp_mail = acl_check_mail
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_mail:
  accept
acl_check_rcpt:
  deny message = this test instance accepts no mail

begin routers
begin transports
begin retry
*  *  F,1m,1m
begin rewrite
begin authenticators
EOF
	rm -f "$ex/exim.pid"
	# -bd daemon, -oX ports (already in the config), -C private config.
	unshare -m sh -c '
		mount --bind "$1/passwd" /etc/passwd && mount --bind "$1/group" /etc/group &&
		exec "$2" -C "$1/exim.conf" -bd' sh "$ex" "$bin" </dev/null >"$ex/start.log" 2>&1 || {
		cat "$ex/start.log" "$ex"/log/paniclog 2>/dev/null >&2
		return 1
	}
	# exim -bd forks and the parent returns once the daemon is set up.
	for _ in $(seq 50); do
		[ -s "$ex/exim.pid" ] && break
		sleep 0.1
	done
	[ -s "$ex/exim.pid" ] || { echo "exim.sh: no pid file; see $ex/log" >&2; return 1; }
}

# The pid file's process, if it is still this state directory's exim.
stop() {
	local ex=$1/exim pid
	[ -s "$ex/exim.pid" ] || return 0
	pid=$(head -n1 "$ex/exim.pid" | tr -dc 0-9)
	if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
	   tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$ex/exim.conf"; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			[ -d "/proc/$pid" ] || break
			sleep 0.1
		done
		[ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$ex/exim.pid"
}

case "${1:-}" in
fetch) fetch ;;
start) start "${2:?usage: exim.sh start STATEDIR CERTDIR}" "${3:?usage: exim.sh start STATEDIR CERTDIR}" ;;
stop)  stop "${2:?usage: exim.sh stop STATEDIR}" ;;
ports) echo "$EXIM_PORTS" ;;
*) echo "usage: exim.sh fetch | start STATEDIR CERTDIR | stop STATEDIR | ports" >&2; exit 3 ;;
esac
