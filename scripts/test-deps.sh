#!/usr/bin/env bash
# The Debian 12 packages the build and the tests need: the ONE list of them.
# `make test` runs `scripts/test-deps.sh test`, `make analyze` runs it with
# `analyze`, `make fuzz` with `fuzz`; .ci/run only calls those make targets.
#
#   scripts/test-deps.sh [SET...]    SET: build test analyze fuzz (default: build test)
#
# Only what is missing is installed: a package counts as installed when
# `dpkg-query -W -f='${Status}' PKG` says "install ok installed" (apt-get
# install of an installed package would upgrade it). As root the missing ones
# are installed with apt-get (Postfix preseeded to "No configuration", so it
# does not become the system's mailer); otherwise nothing is changed and the
# script stops at once (exit 1) printing the one command to run as root.
# Nothing to do: silent, exit 0.
#
# Adding a package: one line in the set that needs it, "name  # why (which
# test)". A package that is not in Debian 12's archive under that name (e.g.
# one fetched with `apt-get download`) needs its own step at the end of
# install(): say so next to it.
set -euo pipefail

pkgs_build() {
	cat <<'EOF'
build-essential  # gcc, make, libc headers
pkg-config       # the Makefile asks it for a system mbedTLS / c-ares
cmake            # scripts/deps.sh builds c-ares
curl             # scripts/deps.sh fetches the pinned mbedTLS / c-ares sources
bzip2            # the mbedTLS tarball
patch            # scripts/patches/
ca-certificates  # curl over HTTPS; the system trust store the probe defaults to
libexpat1-dev    # the autoconfig XML parser of --setup (pkg-config expat)
libidn2-dev      # international names, IDNA2008 (pkg-config libidn2)
EOF
}

pkgs_test() {
	cat <<'EOF'
postfix          # the real SMTP server of the integration tests (+ posttls-finger)
sasl2-bin        # saslpasswd2: the submission port's SASL users
libsasl2-modules # PLAIN/LOGIN/CRAM-MD5 for Postfix's Cyrus SASL
python3          # every integration and fault test
python3-aiosmtpd # the second real server (tests/env/aiosmtpd_server.py, SCRAM)
nsd              # the suite's DNS server (test zone: MX, TLSA, MTA-STS...)
openssl          # the test PKI (scripts/gen-certs.sh)
python3-jsonschema # tests/integ/test_schema.py validates output against the schema
python3-dnslib   # tests/fake/fakedns.py
python3-yaml     # tests/integ/test_blackbox.py reads the documented prometheus.yml
jq               # tests/integ/test_edges.py runs the documented jq expression
swaks            # cross-checks against another SMTP client
libio-socket-inet6-perl # swaks over ::1
libnet-ssleay-perl      # swaks with TLS
libio-socket-ssl-perl   # swaks with TLS
procps           # ps/pgrep in tests/env
valgrind         # tests/integ/test_valgrind.sh
iproute2         # network namespaces (Happy Eyeballs test)
time             # /usr/bin/time: max RSS in tests/integ/test_batch.py
prometheus       # promtool (metrics lint) and the server that scrapes the exporter
icinga2-bin      # Icinga 2's own perfdata parser and config check (tests/integ/test_nagios.py)
debhelper        # tests/integ/test_packaging.py builds the .deb
dpkg-dev         # dpkg-buildpackage
groff-base       # the man page renders without warnings
man-db           # man(1) on the installed page
zsh              # the zsh completion loads
bash-completion  # the bash completion loads with its helpers
msmtp            # tests/integ/test_setup.py runs the account --setup writes
microsocks       # the SOCKS5 proxy of --proxy (tests/integ/test_conn_controls.py)
unbound          # a validating resolver for DANE (tests/integ/test_dane_validating.py)
ldnsutils        # ldns-keygen/ldns-signzone: the DNSSEC-signed zone it validates
libgnutls30      # the next eight: shared libraries of Exim's binary (tests/env/exim.sh)
libgnutls-dane0
libidn12
libidn2-0
libnsl2
libpcre2-8-0
libdb5.3
libcrypt1
chromium         # headless browser: tests/integ/test_html.py loads the -o html pages
EOF
}

# Exim (the GnuTLS server of the tests) conflicts with Postfix as a package:
# tests/env/exim.sh fetches its .deb with `apt-get download` into a cache
# and unpacks it there. A no-op when the cache has it.
fetch_exim() {
	case " ${sets[*]} " in
	*" test "*) bash "$(dirname "$0")/../tests/env/exim.sh" fetch ;;
	esac
}

pkgs_analyze() {
	cat <<'EOF'
cppcheck         # make analyze
EOF
}

pkgs_fuzz() {
	cat <<'EOF'
clang            # make fuzz (libFuzzer targets)
libclang-rt-14-dev # the libFuzzer runtime of clang 14
EOF
}

sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(build test)

wanted=()
for s in "${sets[@]}"; do
	case $s in
	build|test|analyze|fuzz) ;;
	*) echo "test-deps: unknown set '$s' (want build, test, analyze or fuzz)" >&2; exit 3 ;;
	esac
	while read -r p _; do
		[ -n "$p" ] && wanted+=("$p")
	done < <("pkgs_$s" | sed 's/#.*//')
done

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${wanted[@]}"; do
	installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	fetch_exim
	exit 0
fi

preseed="echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections"
apt="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
needs_preseed=false
for p in "${missing[@]}"; do
	[ "$p" = postfix ] && needs_preseed=true
done

if [ "$(id -u)" != 0 ]; then
	echo "test-deps: missing Debian packages: ${missing[*]}" >&2
	echo "test-deps: as root, run:" >&2
	if $needs_preseed; then
		echo "  $preseed && $apt" >&2
	else
		echo "  $apt" >&2
	fi
	echo "test-deps: (or run this make target as root, which installs them)" >&2
	exit 1
fi

do_install() {
	echo "test-deps: installing ${missing[*]}" >&2
	if $needs_preseed; then
		# Postfix must not configure itself as the system's mailer.
		echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
do_install
fetch_exim
# The Debian packages may have started a system Postfix/nsd on their default
# ports; the suite runs its own private instances on 10025+/10053.
