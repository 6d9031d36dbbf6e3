#!/usr/bin/env bash
# Builds the pinned mbedTLS 3.6 LTS and c-ares releases into a project-local
# prefix (deps/prefix) when the system has no new-enough versions.
# Sources: the upstream release URL first, then the same upstream tarball as
# carried by Debian's archive on the apt mirror this machine already uses.
# Every tarball is sha256-checked before it is unpacked. No third-party code
# is ever committed to this repository.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/deps"
prefix="$deps/prefix"
src="$deps/src"
mkdir -p "$src" "$prefix/lib" "$prefix/include"

MBEDTLS_VER=3.6.6
MBEDTLS_SHA=8fb65fae8dcae5840f793c0a334860a411f884cc537ea290ce1c52bb64ca007a
CARES_VER=1.34.5
CARES_SHA=7d935790e9af081c25c495fd13c2cfcda4792983418e96358ef6e7320ee06346

jobs=$(nproc 2>/dev/null || echo 2)

# The Debian mirror apt is configured with (never hard-coded here).
debian_mirror() {
  local uri=""
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
  fi
  printf '%s' "${uri%/}"
}

# fetch FILE SHA256 URL...: the first URL whose download matches the pin wins.
fetch() {
  local out="$1" sha="$2"; shift 2
  if [ -f "$out" ] && echo "$sha  $out" | sha256sum -c --status; then
    return 0
  fi
  local url
  for url in "$@"; do
    [ -n "$url" ] || continue
    echo "deps: fetching $(basename "$out") from ${url%%/pool/*}/..." >&2
    rm -f "$out.part"
    if curl -fsSL --connect-timeout 5 --max-time 120 -o "$out.part" "$url" 2>/dev/null; then
      if echo "$sha  $out.part" | sha256sum -c --status; then
        mv "$out.part" "$out"
        return 0
      fi
      echo "deps: checksum mismatch for $url, ignoring it" >&2
    fi
  done
  rm -f "$out.part"
  echo "deps: could not fetch $(basename "$out") with sha256 $sha" >&2
  return 1
}

mirror=$(debian_mirror)

build_mbedtls() {
  [ -f "$prefix/lib/libmbedtls.a" ] && [ -f "$prefix/.mbedtls-$MBEDTLS_VER" ] && \
    [ -f "$prefix/.mbedtls-patched" ] && return 0
  local tb="$src/mbedtls-$MBEDTLS_VER.tar.bz2"
  fetch "$tb" "$MBEDTLS_SHA" \
    "https://github.com/Mbed-TLS/mbedtls/releases/download/mbedtls-$MBEDTLS_VER/mbedtls-$MBEDTLS_VER.tar.bz2" \
    "${mirror:+$mirror/pool/main/m/mbedtls/mbedtls_$MBEDTLS_VER.orig.tar.bz2}"
  rm -rf "$src/mbedtls-$MBEDTLS_VER"
  tar -xjf "$tb" -C "$src"
  # Our own fixes, each explained in its file (upstream issue, why).
  local p
  for p in "$top"/scripts/patches/mbedtls-"$MBEDTLS_VER"-*.patch; do
    [ -f "$p" ] || continue
    patch -d "$src/mbedtls-$MBEDTLS_VER" -p1 -s < "$p"
  done
  # Default config of 3.6 has TLS 1.3, SNI and KEEP_PEER_CERTIFICATE.
  make -C "$src/mbedtls-$MBEDTLS_VER" -j"$jobs" lib \
    CFLAGS="-O2 -fPIC ${DEPS_CFLAGS:-}" >/dev/null
  cp "$src/mbedtls-$MBEDTLS_VER"/library/lib{mbedtls,mbedx509,mbedcrypto}.a "$prefix/lib/"
  rm -rf "$prefix/include/mbedtls" "$prefix/include/psa"
  cp -r "$src/mbedtls-$MBEDTLS_VER/include/mbedtls" "$src/mbedtls-$MBEDTLS_VER/include/psa" "$prefix/include/"
  touch "$prefix/.mbedtls-$MBEDTLS_VER" "$prefix/.mbedtls-patched"
}

build_cares() {
  [ -f "$prefix/lib/libcares.a" ] && [ -f "$prefix/.cares-$CARES_VER" ] && return 0
  local tb="$src/c-ares-$CARES_VER.tar.gz"
  fetch "$tb" "$CARES_SHA" \
    "https://github.com/c-ares/c-ares/releases/download/v$CARES_VER/c-ares-$CARES_VER.tar.gz" \
    "${mirror:+$mirror/pool/main/c/c-ares/c-ares_$CARES_VER.orig.tar.gz}"
  rm -rf "$src/c-ares-$CARES_VER" "$src/c-ares-build"
  tar -xzf "$tb" -C "$src"
  cmake -S "$src/c-ares-$CARES_VER" -B "$src/c-ares-build" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DCARES_STATIC=ON -DCARES_SHARED=OFF -DCARES_BUILD_TOOLS=OFF \
    -DCARES_BUILD_TESTS=OFF -DCARES_THREADS=OFF >/dev/null
  cmake --build "$src/c-ares-build" -j"$jobs" >/dev/null
  cmake --install "$src/c-ares-build" >/dev/null
  touch "$prefix/.cares-$CARES_VER"
}

need() { command -v "$1" >/dev/null 2>&1 || { echo "deps: $1 is needed (apt-get install -y $2)" >&2; exit 1; }; }
need curl curl; need cmake cmake; need bzip2 bzip2; need make make; need patch patch

build_mbedtls
build_cares
echo "deps: mbedTLS $MBEDTLS_VER and c-ares $CARES_VER ready in $prefix" >&2
