#!/usr/bin/env bash
# Make the test PKI: a CA and leaf certificates for mx1.test whose dates are
# relative to *now* (valid, expired, expiring in 5 and 20 days), plus a
# self-signed one and one for the wrong name. Integration tests, the demo and
# the benchmarks all use these.
#
#   scripts/gen-certs.sh OUTDIR
#
# OUTDIR gets, for NAME in valid expired soon5 soon20 selfsigned wrongname:
#   NAME.key        private key (EC P-256)
#   NAME.pem        the leaf certificate
#   NAME.chain.pem  leaf + CA (what the servers present; selfsigned: leaf only)
#   NAME.all.pem    key + leaf + CA, the form Postfix's smtpd_tls_chain_files takes
# and ca.pem / ca.key. For the Exim (GnuTLS) server, also:
#   rsa             RSA 2048 leaf for mx1.test (DHE-RSA and static RSA key exchange)
#   weak1024        RSA 1024 leaf for mx1.test, issued by the same trusted CA
#   nointer         leaf for mx1.test issued by an intermediate CA ("smtp-probe
#                   Test Intermediate"); nointer.chain.pem is the leaf ALONE, the
#                   common misconfiguration of a server that omits its
#                   intermediate; nointer.full.pem is leaf + intermediate
# Dates are relative to now, so the set is regenerated
# when it is older than MAX_AGE seconds (default 6 h) or incomplete; otherwise
# the run is a no-op. FORCE=1 regenerates unconditionally.
#
# OpenSSL 3.0 has no `x509 -not_before`, so past and exact dates come from
# `openssl ca -startdate/-enddate` with a throwaway CA database.
set -euo pipefail

out=${1:?usage: gen-certs.sh OUTDIR}
max_age=${MAX_AGE:-21600}
names="valid expired soon5 soon20 selfsigned wrongname rsa weak1024 nointer"

mkdir -p "$out"
out=$(cd "$out" && pwd)

fresh=1
[ "${FORCE:-0}" = 1 ] && fresh=0
for n in $names; do
	[ -s "$out/$n.all.pem" ] || fresh=0
done
[ -s "$out/ca.pem" ] || fresh=0
if [ "$fresh" = 1 ] && [ -f "$out/.stamp" ]; then
	age=$(( $(date +%s) - $(stat -c %Y "$out/.stamp") ))
	[ "$age" -lt "$max_age" ] && exit 0
fi

work=$(mktemp -d "$out/.gen.XXXXXX")
trap 'rm -rf "$work"' EXIT

# GeneralizedTime, UTC, for openssl ca -startdate/-enddate.
gt() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
# RSA keys of a given size (the weak-key case needs 1024 bits).
newrsa() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$1" 2>/dev/null; }

cat >"$work/ca.cnf" <<EOF
[ ca ]
default_ca = testca
[ testca ]
dir           = $work
database      = $work/index.txt
new_certs_dir = $work/newcerts
serial        = $work/serial
default_md    = sha256
policy        = anything
preserve      = yes
unique_subject = no
copy_extensions = none
email_in_dn   = no
[ anything ]
organizationName = optional
commonName    = supplied
[ req ]
distinguished_name = dn
prompt        = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:mx1.test, DNS:mail.test, IP:127.0.0.1, IP:::1
[ wrong ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:other.example
[ inter ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ self ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:mx1.test, DNS:mail.test, IP:127.0.0.1, IP:::1
EOF
mkdir -p "$work/newcerts"
: >"$work/index.txt"
openssl rand -hex 8 >"$work/serial"

# The CA: 10 years, started a year ago so the "expired" leaf lies inside it.
newkey "$work/ca.key"
openssl req -config "$work/ca.cnf" -new -key "$work/ca.key" \
	-subj "/O=smtp-probe test/CN=smtp-probe Test CA" -out "$work/ca.csr"
openssl ca -config "$work/ca.cnf" -batch -notext -selfsign -keyfile "$work/ca.key" \
	-extensions v3_ca -subj "/O=smtp-probe test/CN=smtp-probe Test CA" \
	-startdate "$(gt '400 days ago')" -enddate "$(gt '+3650 days')" \
	-in "$work/ca.csr" -out "$work/ca.pem" 2>/dev/null

# leaf NAME CN EXTSECTION START END [RSABITS]
leaf() {
	if [ -n "${6:-}" ]; then newrsa "$work/$1.key" "$6"; else newkey "$work/$1.key"; fi
	openssl req -config "$work/ca.cnf" -new -key "$work/$1.key" \
		-subj "/O=smtp-probe test/CN=$2" -out "$work/$1.csr"
	openssl ca -config "$work/ca.cnf" -batch -notext -cert "$work/ca.pem" \
		-keyfile "$work/ca.key" -extensions "$3" -subj "/O=smtp-probe test/CN=$2" \
		-startdate "$4" -enddate "$5" -in "$work/$1.csr" -out "$work/$1.pem" 2>/dev/null
	cat "$work/$1.pem" "$work/ca.pem" >"$work/$1.chain.pem"
}

now=$(gt '1 hour ago')
leaf valid     mx1.test      leaf  "$now"                   "$(gt '+365 days')"
leaf expired   mx1.test      leaf  "$(gt '375 days ago')"   "$(gt '10 days ago')"
leaf soon5     mx1.test      leaf  "$now"                   "$(gt '+5 days')"
leaf soon20    mx1.test      leaf  "$now"                   "$(gt '+20 days')"
leaf wrongname other.example wrong "$now"                   "$(gt '+365 days')"
leaf rsa       mx1.test      leaf  "$now"                   "$(gt '+365 days')" 2048
leaf weak1024  mx1.test      leaf  "$now"                   "$(gt '+365 days')" 1024

# An intermediate CA under the test CA, and a leaf it issued; the server
# that presents nointer.chain.pem sends the leaf without the intermediate.
newkey "$work/inter.key"
openssl req -config "$work/ca.cnf" -new -key "$work/inter.key" \
	-subj "/O=smtp-probe test/CN=smtp-probe Test Intermediate" -out "$work/inter.csr"
openssl ca -config "$work/ca.cnf" -batch -notext -cert "$work/ca.pem" -keyfile "$work/ca.key" \
	-extensions inter -subj "/O=smtp-probe test/CN=smtp-probe Test Intermediate" \
	-startdate "$now" -enddate "$(gt '+3000 days')" -in "$work/inter.csr" \
	-out "$work/inter.pem" 2>/dev/null
newkey "$work/nointer.key"
openssl req -config "$work/ca.cnf" -new -key "$work/nointer.key" \
	-subj "/O=smtp-probe test/CN=mx1.test" -out "$work/nointer.csr"
openssl ca -config "$work/ca.cnf" -batch -notext -cert "$work/inter.pem" \
	-keyfile "$work/inter.key" -extensions leaf -subj "/O=smtp-probe test/CN=mx1.test" \
	-startdate "$now" -enddate "$(gt '+365 days')" -in "$work/nointer.csr" \
	-out "$work/nointer.pem" 2>/dev/null
cp "$work/nointer.pem" "$work/nointer.chain.pem"
cat "$work/nointer.pem" "$work/inter.pem" >"$work/nointer.full.pem"

# Self-signed: not issued by the test CA, so untrusted with --cafile ca.pem.
newkey "$work/selfsigned.key"
openssl req -config "$work/ca.cnf" -new -x509 -key "$work/selfsigned.key" \
	-subj "/O=smtp-probe test/CN=mx1.test" -extensions self -days 365 \
	-out "$work/selfsigned.pem"
cp "$work/selfsigned.pem" "$work/selfsigned.chain.pem"

for n in $names; do
	cat "$work/$n.key" "$work/$n.chain.pem" >"$work/$n.all.pem"
done

# Postfix (unprivileged smtpd) reads the keys: readable by root and group
# postfix when that group exists, never world-readable.
for f in ca.key ca.pem inter.pem nointer.full.pem; do cp "$work/$f" "$out/$f"; done
for n in $names; do
	for s in key pem chain.pem all.pem; do cp "$work/$n.$s" "$out/$n.$s"; done
done
chmod 644 "$out"/*.pem
chmod 600 "$out"/*.key
chmod 640 "$out"/*.all.pem
if getent group postfix >/dev/null 2>&1; then
	chgrp postfix "$out"/*.all.pem 2>/dev/null || true
fi
touch "$out/.stamp"
