#!/usr/bin/env bash
# A minimal private Postfix for the benchmarks, the same setup as the test
# suite's (tests/env/start.sh): STARTTLS (may) with the test PKI's valid
# EC P-256 certificate, SIZE 104857600, delivers nothing, no DNS lookups.
# scripts/bench.sh runs it inside its own network namespace, so the port
# never collides with the shared test environment.
#
#   postfix.sh start STATEDIR CERTDIR PORT
#   postfix.sh stop  STATEDIR
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin

cmd=${1:?usage: postfix.sh start|stop STATEDIR [CERTDIR PORT]}
state=${2:?STATEDIR}
pf=$state/postfix

if [ "$cmd" = stop ]; then
	[ -f "$pf/main.cf" ] || exit 0
	postfix -c "$pf" stop >/dev/null 2>&1 || postfix -c "$pf" abort >/dev/null 2>&1 || true
	exit 0
fi

certs=${3:?CERTDIR}
port=${4:?PORT}
pfq=$state/postfix-queue
pfd=$state/postfix-data
rm -rf "$pf" "$pfq" "$pfd"
mkdir -p "$pf" "$pfq" "$pfd"
chown postfix "$pfd"

cat >"$pf/main.cf" <<EOF
# Benchmark instance: namespace loopback only, delivers nothing, no DNS.
compatibility_level = 3.6
config_directory = $pf
queue_directory = $pfq
data_directory = $pfd
mail_owner = postfix
setgid_group = postdrop
myhostname = mx1.test
mydomain = test
myorigin = mx1.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8
local_recipient_maps =
alias_maps =
alias_database =
default_transport = error:bench instance delivers nothing
relay_transport = error:bench instance delivers nothing
local_transport = error:bench instance delivers nothing
virtual_transport = error:bench instance delivers nothing
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
biff = no
message_size_limit = 104857600
smtpd_banner = \$myhostname ESMTP Postfix (smtp-probe bench)
smtpd_tls_security_level = may
smtpd_tls_chain_files = $certs/valid.all.pem
smtpd_tls_loglevel = 0
# Each tool gets a fresh session: no resumption skews the comparison.
smtpd_tls_session_cache_database =
maillog_file_prefixes = $state
maillog_file = $state/postfix.log
EOF

cat >"$pf/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
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

: >"$state/postfix.log"
postfix -c "$pf" check >"$state/postfix-start.log" 2>&1 || { cat "$state/postfix-start.log" >&2; exit 1; }
postfix -c "$pf" start >>"$state/postfix-start.log" 2>&1 || { cat "$state/postfix-start.log" >&2; exit 1; }
