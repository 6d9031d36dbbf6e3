#!/usr/bin/env bash
# Redo the mbedTLS configuration table of docs/performance.md: build the
# pinned mbedTLS (from deps/src, with scripts/patches/) once per variant
# below, link smtp-probe against each, and count callgrind instructions of
# one probe and of a 20-probe batch of the same server (the added cost per
# probe). Run inside a network namespace where the test environment is up:
#
#   ip netns exec NS bash scripts/bench/mbedtls-variants.sh TESTENV_DIR [OUT_DIR]
#
# Takes ~2 minutes per variant on 2 cores. Prints one line per variant.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
env=${1:?usage: mbedtls-variants.sh TESTENV_DIR [OUT_DIR]}
out=${2:-/tmp/sp-mbedtls-variants}
tb=$(ls "$top"/deps/src/mbedtls-3.*.tar.bz2 | head -n1)
ca=$env/certs/ca.pem
mkdir -p "$out"

# name | CFLAGS | config.py arguments, ';'-separated
variants='default|-O2|
everest|-O2|set MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED
everest-O3|-O3|set MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED
everest-window2|-O2|set MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED;set MBEDTLS_ECP_WINDOW_SIZE 2
window6|-O2|set MBEDTLS_ECP_WINDOW_SIZE 6
psa-p256m|-O2|set MBEDTLS_USE_PSA_CRYPTO;set MBEDTLS_PSA_P256M_DRIVER_ENABLED
psa-p256m-everest|-O2|set MBEDTLS_USE_PSA_CRYPTO;set MBEDTLS_PSA_P256M_DRIVER_ENABLED;set MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED'

while IFS='|' read -r name cflags cfg; do
	d=$out/$name
	rm -rf "$d"; mkdir -p "$d"
	tar -xjf "$tb" -C "$d"
	src=$(ls -d "$d"/mbedtls-3.*)
	for p in "$top"/scripts/patches/mbedtls-*.patch; do
		[ -f "$p" ] && patch -d "$src" -p1 -s <"$p"
	done
	IFS=';' read -ra sets <<<"$cfg"
	for s in "${sets[@]}"; do
		# shellcheck disable=SC2086
		[ -n "$s" ] && python3 "$src/scripts/config.py" -f "$src/include/mbedtls/mbedtls_config.h" $s
	done
	make -C "$src" -j2 lib CFLAGS="$cflags -fPIC" >"$d/build.log" 2>&1
	L=$src/library
	make -C "$top" -s BUILD="$d/build" DEP_STAMP= \
		DEP_CFLAGS="-I$src/include -I$src/3rdparty/everest/include -I$top/deps/prefix/include -DCARES_STATICLIB" \
		DEP_LIBS="$L/libmbedtls.a $L/libmbedx509.a $L/libmbedcrypto.a $top/deps/prefix/lib/libcares.a" \
		"$d/build/smtp-probe" >"$d/probe-build.log" 2>&1
	probe=$d/build/smtp-probe
	valgrind --tool=callgrind --callgrind-out-file="$d/one.out" "$probe" --cafile "$ca" \
		--servername mx1.test --timeout 10 -o json 127.0.0.1:10025 >/dev/null 2>"$d/one.err"
	for _ in $(seq 20); do echo 127.0.0.1:10025; done >"$d/t20"
	valgrind --tool=callgrind --callgrind-out-file="$d/b20.out" "$probe" --cafile "$ca" \
		--servername mx1.test --timeout 20 -c 4 -o json -f "$d/t20" >"$d/b20.json" 2>"$d/b20.err"
	one=$(grep -o 'Collected : [0-9]*' "$d/one.err" | awk '{print $3}')
	b20=$(grep -o 'Collected : [0-9]*' "$d/b20.err" | awk '{print $3}')
	echo "$name: one probe $one instructions; each further batch probe $(( (b20 - one) / 19 ))"
done <<<"$variants"
