#!/usr/bin/env bash
# Start the integration-test servers: a private Postfix instance, an aiosmtpd
# server and an nsd DNS server, all on loopback only, all state under STATEDIR.
#
#   tests/env/start.sh [--minimal] [--no-exim] STATEDIR
#
# --minimal: only Postfix on 127.0.0.1:10025 (STARTTLS, valid certificate).
# --no-exim: everything but Exim (scripts/demo.sh: a machine that ran only
#            `make demo` has neither Exim's .deb nor its shared libraries).
# CERTDIR=DIR: take the certificates from DIR (default STATEDIR/certs, made
#            by scripts/gen-certs.sh when needed).
#
# Ports (IPv4 127.0.0.1 and IPv6 ::1 unless noted):
#   10025 STARTTLS (may), valid cert, SIZE 104857600
#   10587 submission: STARTTLS required (encrypt), SASL AUTH only after TLS
#   10589 the same with CRAM-MD5 as the only SASL mechanism (127.0.0.1 only)
#   10465 implicit TLS (wrappermode), valid cert
#   10026 expired, 10027 expires in 5 days, 10028 in 20 days,
#   10029 self-signed, 10030 wrong name (all STARTTLS, may)
#   10031 no TLS at all (STARTTLS not offered)
#   10032 STARTTLS, TLS 1.0 and 1.1 only (OpenSSL at @SECLEVEL=0)
#   10125 aiosmtpd (127.0.0.1 only): STARTTLS, AUTH PLAIN LOGIN after TLS, SIZE 10485760
#   11465 / 11587 relay for --setup: implicit TLS / STARTTLS required, SASL
#         (probe@test and you@example.test), SIZE 20971520 enforced at MAIL
#   10053 nsd (udp+tcp): zones test., 0.0.127.in-addr.arpa. and ::/124's ip6.arpa
#   10040-10045 Exim with GnuTLS (tests/env/exim.sh: default, TLS 1.2 DHE,
#         TLS 1.2 static RSA, TLS 1.0/1.1 only, RSA 1024 leaf, leaf without
#         its intermediate); the .deb must be fetched first (exim.sh fetch)
# Writes STATEDIR/env.sh and STATEDIR/env.json, then waits (max ~20 s) until
# every listener answers. Re-runnable: an instance already running from the
# same STATEDIR is stopped first. Needs root (Postfix's master runs as root).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

minimal=0 exim=1
while :; do
	case ${1:-} in
	--minimal) minimal=1; shift ;;
	--no-exim) exim=0; shift ;;
	*) break ;;
	esac
done
state=${1:?usage: start.sh [--minimal] [--no-exim] STATEDIR}
mkdir -p "$state"
state=$(cd "$state" && pwd)

if [ "$(id -u)" != 0 ]; then
	echo "start.sh: must run as root (Postfix master needs it)" >&2
	exit 1
fi
for cmd in postfix openssl; do
	command -v "$cmd" >/dev/null || [ -x "/usr/sbin/$cmd" ] || {
		echo "start.sh: $cmd is not installed (`make test` installs it: scripts/test-deps.sh)" >&2; exit 1; }
done
PATH=$PATH:/usr/sbin:/sbin
PY=/usr/bin/python3

V4=127.0.0.1
V6=::1
P_STARTTLS=10025 P_SUBMISSION=10587 P_SMTPS=10465
P_EXPIRED=10026 P_SOON5=10027 P_SOON20=10028 P_SELFSIGNED=10029 P_WRONGNAME=10030
P_NOTLS=10031 P_LEGACY=10032 P_AIOSMTPD=10125 P_DNS=10053 P_CRAM=10589
P_EXIM="10040 10041 10042 10043 10044 10045"
[ "$exim" = 1 ] || P_EXIM=""
P_RELAY_SMTPS=11465 P_RELAY_SUB=11587
SIZE_LIMIT=104857600 AIO_SIZE=10485760 RELAY_SIZE=20971520
SASL_USER=probe@test SETUP_USER=you@example.test

# A previous run from this STATEDIR may still be up.
bash "$here/stop.sh" "$state" >/dev/null 2>&1 || true

# Another program (or an instance from another STATEDIR) on our ports would
# answer in our place: refuse to start rather than test the wrong server.
ports="$P_STARTTLS"
[ "$minimal" = 1 ] || ports="$P_STARTTLS $P_SUBMISSION $P_SMTPS $P_EXPIRED $P_SOON5 $P_SOON20 $P_SELFSIGNED $P_WRONGNAME $P_NOTLS $P_LEGACY $P_AIOSMTPD $P_DNS $P_EXIM $P_CRAM $P_RELAY_SMTPS $P_RELAY_SUB"
free=""
for p in $ports; do
	free="$free $V4,$p"
	[ "$minimal" = 1 ] || free="$free $V6,$p"
done
# shellcheck disable=SC2086
"$PY" "$here/wait_ready.py" --free $free || {
	echo "start.sh: stop whatever holds those ports (another test environment?)" >&2; exit 1; }

certs=${CERTDIR:-$state/certs}
bash "$top/scripts/gen-certs.sh" "$certs"
certs=$(cd "$certs" && pwd)


# ---------------------------------------------------------------- Postfix
# Queue and data live beside, not inside, the config directory: Postfix
# wants everything under config_directory owned by root.
pf=$state/postfix
pfq=$state/postfix-queue
pfd=$state/postfix-data
rm -rf "$pf" "$pfq" "$pfd"
mkdir -p "$pf/sasl" "$pfq" "$pfd"
chown postfix "$pfd"

pwfile=$state/sasl-password
if [ ! -s "$pwfile" ]; then
	(umask 077; openssl rand -hex 12 >"$pwfile")
fi
password=$(cat "$pwfile")

cat >"$pf/main.cf" <<EOF
# Private test instance: loopback only, delivers nothing, no DNS lookups.
compatibility_level = 3.6
config_directory = $pf
queue_directory = $pfq
data_directory = $pfd
mail_owner = postfix
setgid_group = postdrop
myhostname = mx1.test
mydomain = test
myorigin = mx1.test
inet_interfaces = 127.0.0.1, [::1]
inet_protocols = all
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8, [::1]/128
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
local_recipient_maps =
alias_maps =
alias_database =
default_transport = error:test instance delivers nothing
relay_transport = error:test instance delivers nothing
local_transport = error:test instance delivers nothing
virtual_transport = error:test instance delivers nothing
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
biff = no
message_size_limit = $SIZE_LIMIT
smtpd_banner = \$myhostname ESMTP Postfix (smtp-probe test)
smtpd_tls_security_level = may
smtpd_tls_chain_files = $certs/valid.all.pem
smtpd_tls_loglevel = 0
smtpd_sasl_auth_enable = no
# Mail to example.test (the snippets --setup writes are proven by sending
# through the relay ports) is accepted and thrown away, never delivered.
transport_maps = inline:{ example.test=discard:test }
maillog_file_prefixes = $state
maillog_file = $state/postfix.log
EOF

# master.cf: one smtpd per port per address; the rest are the internal
# services smtpd needs (cleanup and rewrite for MAIL/RCPT, anvil, tlsmgr...).
{
	listen() { # PORT OPTIONS... (IPv4 and, unless minimal, IPv6)
		local port=$1; shift
		local addrs="$V4"
		[ "$minimal" = 1 ] || addrs="$V4 [$V6]"
		for a in $addrs; do
			printf '%s:%s inet n - n - - smtpd' "$a" "$port"
			for o in "$@"; do printf ' -o %s' "$o"; done
			printf '\n'
		done
	}
	listen $P_STARTTLS
	if [ "$minimal" = 0 ]; then
		listen $P_SUBMISSION smtpd_tls_security_level=encrypt smtpd_sasl_auth_enable=yes \
			smtpd_tls_auth_only=yes smtpd_sasl_type=cyrus smtpd_sasl_path=smtpd \
			syslog_name=postfix/submission
		printf '%s:%s inet n - n - - smtpd -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes -o smtpd_sasl_type=cyrus -o smtpd_sasl_path=smtpd-cram -o syslog_name=postfix/cram\n' "$V4" "$P_CRAM"
		listen $P_SMTPS smtpd_tls_wrappermode=yes smtpd_tls_security_level=encrypt \
			syslog_name=postfix/smtps
		# The relay --setup recommends (SRV of example.test): SASL on both,
		# a smaller limit than the instance's, enforced at MAIL FROM SIZE=.
		listen $P_RELAY_SMTPS smtpd_tls_wrappermode=yes smtpd_tls_security_level=encrypt \
			smtpd_sasl_auth_enable=yes smtpd_sasl_type=cyrus smtpd_sasl_path=smtpd \
			message_size_limit=$RELAY_SIZE syslog_name=postfix/relay-smtps
		listen $P_RELAY_SUB smtpd_tls_security_level=encrypt smtpd_sasl_auth_enable=yes \
			smtpd_tls_auth_only=yes smtpd_sasl_type=cyrus smtpd_sasl_path=smtpd \
			message_size_limit=$RELAY_SIZE syslog_name=postfix/relay-submission
		listen $P_EXPIRED smtpd_tls_chain_files=$certs/expired.all.pem
		listen $P_SOON5 smtpd_tls_chain_files=$certs/soon5.all.pem
		listen $P_SOON20 smtpd_tls_chain_files=$certs/soon20.all.pem
		listen $P_SELFSIGNED smtpd_tls_chain_files=$certs/selfsigned.all.pem
		listen $P_WRONGNAME smtpd_tls_chain_files=$certs/wrongname.all.pem
		listen $P_NOTLS smtpd_tls_security_level=none
		# TLS 1.0 and 1.1 only. Debian 12's OpenSSL refuses both below
		# security level 0, hence the cipher list.
		listen $P_LEGACY 'smtpd_tls_protocols=!SSLv2,!SSLv3,!TLSv1.2,!TLSv1.3' \
			tls_medium_cipherlist=DEFAULT:@SECLEVEL=0 syslog_name=postfix/legacy
		# Extra MX hosts for the --mx tests: mx3 differs (smaller SIZE, no
		# STARTTLS) and its PTR does not resolve back; mx4 has no PTR.
		printf '127.0.0.3:%s inet n - n - - smtpd -o message_size_limit=52428800 -o smtpd_tls_security_level=none\n' "$P_STARTTLS"
		printf '127.0.0.4:%s inet n - n - - smtpd\n' "$P_STARTTLS"
	fi
	cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
} >"$pf/master.cf"

if [ "$minimal" = 0 ]; then
	# Debian's Postfix reads $config_directory/sasl/smtpd.conf, and ignores cyrus_sasl_config_path.
	cat >"$pf/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $pf/sasl/sasldb2
EOF
	# The CRAM-MD5 listener's own SASL application name (smtpd_sasl_path).
	sed 's/^mech_list:.*/mech_list: CRAM-MD5/' "$pf/sasl/smtpd.conf" >"$pf/sasl/smtpd-cram.conf"
	rm -f "$pf/sasl/sasldb2"
	printf '%s' "$password" | saslpasswd2 -p -c -f "$pf/sasl/sasldb2" -u "${SASL_USER#*@}" "${SASL_USER%@*}"
	printf '%s' "$password" | saslpasswd2 -p -c -f "$pf/sasl/sasldb2" -u "${SETUP_USER#*@}" "${SETUP_USER%@*}"
	chgrp postfix "$pf/sasl/sasldb2"
	chmod 640 "$pf/sasl/sasldb2"
fi

: >"$state/postfix.log"
postfix -c "$pf" check >"$state/postfix-start.log" 2>&1 || {
	cat "$state/postfix-start.log" >&2; exit 1; }
postfix -c "$pf" start >>"$state/postfix-start.log" 2>&1 || {
	cat "$state/postfix-start.log" >&2; exit 1; }

specs="smtp,$V4,$P_STARTTLS"

# ---------------------------------------------------------------- aiosmtpd, nsd
if [ "$minimal" = 0 ]; then
	specs="$specs smtp,$V6,$P_STARTTLS"
	for p in $P_SUBMISSION $P_EXPIRED $P_SOON5 $P_SOON20 $P_SELFSIGNED $P_WRONGNAME $P_NOTLS; do
		specs="$specs smtp,$V4,$p smtp,$V6,$p"
	done
	specs="$specs smtp,$V4,$P_CRAM tls,$V4,$P_SMTPS tls,$V6,$P_SMTPS smtp,$V4,$P_AIOSMTPD dns,$V4,$P_DNS dns,$V6,$P_DNS"
	specs="$specs tls,$V4,$P_RELAY_SMTPS smtp,$V4,$P_RELAY_SUB"

	rm -f "$state/aiosmtpd.pid"
	setsid "$PY" "$here/aiosmtpd_server.py" --host $V4 --port $P_AIOSMTPD \
		--cert "$certs/valid.chain.pem" --key "$certs/valid.key" \
		--user "$SASL_USER" --password-file "$pwfile" --size $AIO_SIZE \
		--pidfile "$state/aiosmtpd.pid" </dev/null >"$state/aiosmtpd.log" 2>&1 &
	echo $! >"$state/aiosmtpd.spawn.pid"

	ns=$state/nsd
	rm -rf "$ns"
	mkdir -p "$ns/xfr"
	# TLSA 3 1 1 of the valid leaf, for --dane tests.
	tlsa=$(openssl x509 -in "$certs/valid.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -hex | sed 's/.*= //')
	serial=$(date +%s)
	cat >"$ns/test.zone" <<EOF
\$ORIGIN test.
\$TTL 300
@            SOA   ns.test. hostmaster.test. ( $serial 3600 600 86400 300 )
@            NS    ns.test.
ns           A     127.0.0.1
mx1          A     127.0.0.1
mx1          AAAA  ::1
mail         A     127.0.0.1
v4only       A     127.0.0.1
v6only       AAAA  ::1
example      MX    10 mx1.test.
example      MX    20 mx2.test.
mx2          A     127.0.0.2
nullmx       MX    0 .
nomx         A     127.0.0.1
cname-mx     MX    10 alias.test.
alias        CNAME mx1.test.
dead6        AAAA  ::1
dead6        A     127.0.0.1
_25._tcp.mx1     TLSA 3 1 1 $tlsa
_$P_STARTTLS._tcp.mx1  TLSA 3 1 1 $tlsa
_$P_SELFSIGNED._tcp.mx1  TLSA 3 1 1 $tlsa
mx3          A     127.0.0.3
; International names (IDNA2008): bücher.test, and a domain whose mail
; goes to mx1.test.
xn--bcher-kva A    127.0.0.1
xn--bcher-kva MX   10 mx1.test.
mx4          A     127.0.0.4
mixed        MX    10 mx1.test.
mixed        MX    20 mx3.test.
noptr        MX    10 mx4.test.
dead6mx      MX    10 dead6.test.
ipmx         MX    10 127.0.0.1.
_mta-sts.example TXT "v=STSv1; id=20240101T000000"
_smtp._tls.example TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.test"
mta-sts.example A   127.0.0.1
; --setup: RFC 6186/8314 SRV (priorities, a "." target), autoconfig hosts
; (served by the test's own HTTPS server), a certificate that does not match.
_submissions._tcp.example SRV 0 1 $P_RELAY_SMTPS mx1.test.
_submission._tcp.example  SRV 0 1 $P_RELAY_SUB mx1.test.
_submission._tcp.example  SRV 10 1 $P_SUBMISSION mx1.test.
_submissions._tcp.refused SRV 0 0 0 .
_submission._tcp.refused  SRV 0 0 0 .
_submission._tcp.wrongcert SRV 0 1 $P_WRONGNAME mx1.test.
_submission._tcp.notls    SRV 0 1 $P_NOTLS mx1.test.
autoconfig.ac       A 127.0.0.1
ac                  A 127.0.0.1
autoconfig.acplain  A 127.0.0.1
autoconfig.acbad    A 127.0.0.1
autoconfig.acbig    A 127.0.0.1
autoconfig.acbomb   A 127.0.0.1
autoconfig.acdeep   A 127.0.0.1
autoconfig.acredir  A 127.0.0.1
EOF
	# 1,000 SRV targets for one name: one good (priority 0), the rest
	# nowhere; the assistant keeps the best four and says how many there were.
	{
		echo "_submission._tcp.many SRV 0 1 $P_RELAY_SUB mx1.test."
		for i in $(seq 1 999); do
			echo "_submission._tcp.many SRV $((i % 50 + 1)) $i $P_RELAY_SUB t$i.many.test."
		done
	} >>"$ns/test.zone"
	# 1,000 MX records naming one host, in both cases (an RRset holds no
	# identical records, so the preferences differ): --mx probes it once.
	for i in $(seq 1 1000); do
		if [ $((i % 2)) = 0 ]; then echo "dupmx MX $i mx1.test."; else echo "dupmx MX $i MX1.TEST."; fi
	done >>"$ns/test.zone"
	cat >"$ns/rev.zone" <<EOF
\$ORIGIN 0.0.127.in-addr.arpa.
\$TTL 300
@            SOA   ns.test. hostmaster.test. ( $serial 3600 600 86400 300 )
@            NS    ns.test.
1            PTR   mx1.test.
3            PTR   nowhere.test.
EOF
	cat >"$ns/rev6.zone" <<EOF
\$ORIGIN 0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.
\$TTL 300
@            SOA   ns.test. hostmaster.test. ( $serial 3600 600 86400 300 )
@            NS    ns.test.
1            PTR   mx1.test.
EOF
	cat >"$ns/nsd.conf" <<EOF
server:
	ip-address: $V4
	ip-address: $V6
	port: $P_DNS
	do-ip4: yes
	do-ip6: yes
	username: ""
	chroot: ""
	zonesdir: "$ns"
	database: ""
	pidfile: "$ns/nsd.pid"
	xfrdfile: "$ns/xfrd.state"
	zonelistfile: "$ns/zone.list"
	xfrdir: "$ns/xfr"
	logfile: "$ns/nsd.log"
	server-count: 1
	verbosity: 1
	hide-version: yes
remote-control:
	control-enable: no
zone:
	name: "test"
	zonefile: "$ns/test.zone"
zone:
	name: "0.0.127.in-addr.arpa"
	zonefile: "$ns/rev.zone"
zone:
	name: "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa"
	zonefile: "$ns/rev6.zone"
EOF
	nsd-checkconf "$ns/nsd.conf"
	nsd-checkzone test "$ns/test.zone" >/dev/null
	nsd-checkzone 0.0.127.in-addr.arpa "$ns/rev.zone" >/dev/null
	nsd-checkzone 0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa "$ns/rev6.zone" >/dev/null
	nsd -c "$ns/nsd.conf"

	[ -z "$P_EXIM" ] || bash "$here/exim.sh" start "$state" "$certs"
	for p in $P_EXIM; do
		specs="$specs smtp,$V4,$p smtp,$V6,$p"
	done
fi

# ---------------------------------------------------------------- env.sh / env.json
cat >"$state/env.sh" <<EOF
# Written by tests/env/start.sh; source it.
TESTENV=$state
TESTENV_CERTS=$certs
TESTENV_CA=$certs/ca.pem
TESTENV_SERVERNAME=mx1.test
TESTENV_V4=$V4
TESTENV_V6=$V6
TESTENV_PORT_STARTTLS=$P_STARTTLS
TESTENV_MINIMAL=$minimal
EOF
if [ "$minimal" = 0 ]; then
	cat >>"$state/env.sh" <<EOF
TESTENV_PORT_SUBMISSION=$P_SUBMISSION
TESTENV_PORT_SMTPS=$P_SMTPS
TESTENV_PORT_EXPIRED=$P_EXPIRED
TESTENV_PORT_SOON5=$P_SOON5
TESTENV_PORT_SOON20=$P_SOON20
TESTENV_PORT_SELFSIGNED=$P_SELFSIGNED
TESTENV_PORT_WRONGNAME=$P_WRONGNAME
TESTENV_PORT_NOTLS=$P_NOTLS
TESTENV_PORT_AIOSMTPD=$P_AIOSMTPD
TESTENV_PORT_CRAM=$P_CRAM
TESTENV_DNS=$V4:$P_DNS
TESTENV_SASL_USER=$SASL_USER
TESTENV_SASL_PASSWORD_FILE=$pwfile
TESTENV_PORT_RELAY_SMTPS=$P_RELAY_SMTPS
TESTENV_PORT_RELAY_SUBMISSION=$P_RELAY_SUB
TESTENV_SETUP_USER=$SETUP_USER
EOF
fi
"$PY" - "$state/env.json" "$state" "$certs" "$minimal" <<EOF
import json, sys
out, state, certs, minimal = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
names = ["valid", "expired", "soon5", "soon20", "selfsigned", "wrongname", "rsa", "weak1024",
         "nointer"]
env = {
    "statedir": state,
    "minimal": minimal,
    "servername": "mx1.test",
    "v4": "$V4", "v6": "$V6",
    "ca": certs + "/ca.pem",
    "certs": {n: {"pem": "%s/%s.pem" % (certs, n), "chain": "%s/%s.chain.pem" % (certs, n),
                  "key": "%s/%s.key" % (certs, n)} for n in names},
    "ports": {"starttls": $P_STARTTLS},
    "size_limit": $SIZE_LIMIT,
    "postfix_config": state + "/postfix",
}
if not minimal:
    env["ports"].update({
        "submission": $P_SUBMISSION, "smtps": $P_SMTPS, "expired": $P_EXPIRED,
        "soon5": $P_SOON5, "soon20": $P_SOON20, "selfsigned": $P_SELFSIGNED,
        "wrongname": $P_WRONGNAME, "notls": $P_NOTLS, "legacy": $P_LEGACY,
        "aiosmtpd": $P_AIOSMTPD,
        "dns": $P_DNS, "cram": $P_CRAM, "relay_smtps": $P_RELAY_SMTPS,
        "relay_submission": $P_RELAY_SUB,
    })
    env["relay_size_limit"] = $RELAY_SIZE
    env["setup_user"] = "$SETUP_USER"
    env["port_cert"] = {"$P_STARTTLS": "valid", "$P_SUBMISSION": "valid", "$P_SMTPS": "valid",
                        "$P_EXPIRED": "expired", "$P_SOON5": "soon5", "$P_SOON20": "soon20",
                        "$P_SELFSIGNED": "selfsigned", "$P_WRONGNAME": "wrongname",
                        "$P_AIOSMTPD": "valid"}
    env["aiosmtpd_size_limit"] = $AIO_SIZE
    env["dns"] = {"address": "$V4", "port": $P_DNS, "resolver": "$V4:$P_DNS",
                  "resolver6": "[$V6]:$P_DNS"}
    env["sasl"] = {"user": "$SASL_USER", "password_file": state + "/sasl-password"}
    env["exim"] = dict(zip(["default", "tls12_dhe", "tls12_rsa_kx", "legacy_only",
                            "rsa1024", "leaf_only"], [int(p) for p in "$P_EXIM".split()]))
with open(out + ".tmp", "w") as f:
    json.dump(env, f, indent=2, sort_keys=True)
    f.write("\n")
import os
os.rename(out + ".tmp", out)
EOF

# ---------------------------------------------------------------- wait
# shellcheck disable=SC2086
if ! "$PY" "$here/wait_ready.py" 20 $specs; then
	echo "start.sh: environment did not come up; logs in $state" >&2
	tail -n 20 "$state/postfix.log" "$state/aiosmtpd.log" "$state/nsd/nsd.log" >&2 2>/dev/null || true
	exit 1
fi
echo "test environment up in $state"
