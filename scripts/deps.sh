#!/usr/bin/env bash
# Builds the pinned mbedTLS 3.6 LTS and c-ares releases into a project-local
# prefix (deps/prefix) when the system has no new-enough versions.
# Sources: the upstream release URL first, then the same upstream tarball as
# carried by Debian's archive on the apt mirror this machine already uses.
# Every tarball is sha256-checked before it is unpacked. No third-party code
# is ever committed to this repository.
#
#   scripts/deps.sh            build what is missing or stale, then write the stamp
#   scripts/deps.sh --stamp    print the stamp file the Makefile waits for
#
# The stamp, DEPS/prefix/.ready-KEY, is keyed to what the build is made of:
# both versions and pins, the content of scripts/patches/* and of
# scripts/mbedtls-config.h, and mbedTLS's compiler flags. Changing a
# patch changes KEY, so `make` runs this script again, which rebuilds mbedTLS
# with the new patches. One stamp file, so `make -j` runs this script once;
# a lock (DEPS/.lock) keeps two makes from building into one DEPS at once.
# DEPS (default: deps in the tree) is where sources and prefix go.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
deps_arg=${DEPS:-deps}
case $deps_arg in
/*) deps=$deps_arg ;;
*) deps=$top/$deps_arg ;;
esac
prefix="$deps/prefix"
src="$deps/src"

MBEDTLS_VER=3.6.6
MBEDTLS_SHA=8fb65fae8dcae5840f793c0a334860a411f884cc537ea290ce1c52bb64ca007a
CARES_VER=1.34.5
CARES_SHA=7d935790e9af081c25c495fd13c2cfcda4792983418e96358ef6e7320ee06346

# mbedTLS is built with our configuration (scripts/mbedtls-config.h,
# appended to its mbedtls_config.h) and these flags; docs/performance.md has
# the measurements behind both.
MBEDTLS_CONFIG=$top/scripts/mbedtls-config.h
MBEDTLS_CFLAGS="-O3 -fPIC"

# KEY: a hash of the mbedTLS pin, our configuration and flags, every patch
# (name and content, in C sort order), and of the c-ares pin.
mbedtls_key=$(
  {
    printf 'mbedtls %s %s\n' "$MBEDTLS_VER" "$MBEDTLS_SHA"
    printf 'cflags %s\nconfig\n' "$MBEDTLS_CFLAGS"
    cat "$MBEDTLS_CONFIG"
    for p in $(cd "$top/scripts/patches" 2>/dev/null && LC_ALL=C ls -- *.patch 2>/dev/null); do
      printf 'patch %s\n' "$p"
      cat "$top/scripts/patches/$p"
    done
  } | sha256sum | cut -c1-16)
key=$(printf '%s' "$mbedtls_key" | sha256sum | cut -c1-16)
key=$(printf 'mbedtls %s cares %s %s' "$mbedtls_key" "$CARES_VER" "$CARES_SHA" | sha256sum | cut -c1-16)

# Trees built before the stamp was keyed (one stamp per library, with the
# one patch that existed then) are used as they are, never rebuilt for that.
LEGACY_KEY=275818cfb4bd37e9
if [ "${1:-}" = --stamp ]; then
  if [ ! -f "$prefix/.ready-$key" ] && [ "$key" = "$LEGACY_KEY" ] &&
     [ -f "$prefix/.mbedtls-patched" ] && [ -f "$prefix/.mbedtls-$MBEDTLS_VER" ] &&
     [ -f "$prefix/.cares-$CARES_VER" ] && [ -f "$prefix/lib/libmbedtls.a" ] &&
     [ -f "$prefix/lib/libcares.a" ]; then
    printf '%s/prefix/.mbedtls-patched\n' "$deps_arg"
  else
    printf '%s/prefix/.ready-%s\n' "$deps_arg" "$key"
  fi
  exit 0
fi

# The libraries' own builds get their own -j (below), not the calling make's.
unset MAKEFLAGS MFLAGS MAKELEVEL
mkdir -p "$src" "$prefix/lib" "$prefix/include"
exec 9>"$deps/.lock"
flock 9

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
  [ -f "$prefix/lib/libmbedtls.a" ] && [ -f "$prefix/.mbedtls-$MBEDTLS_VER-$mbedtls_key" ] && \
    return 0
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
  # The default config of 3.6 has TLS 1.3, SNI and KEEP_PEER_CERTIFICATE;
  # ours is appended (it has no include guard), so the library and whatever
  # includes the installed headers agree on it.
  cat "$MBEDTLS_CONFIG" >>"$src/mbedtls-$MBEDTLS_VER/include/mbedtls/mbedtls_config.h"
  make -C "$src/mbedtls-$MBEDTLS_VER" -j"$jobs" lib \
    CFLAGS="$MBEDTLS_CFLAGS ${DEPS_CFLAGS:-}" >/dev/null
  cp "$src/mbedtls-$MBEDTLS_VER"/library/lib{mbedtls,mbedx509,mbedcrypto}.a "$prefix/lib/"
  rm -rf "$prefix/include/mbedtls" "$prefix/include/psa" "$prefix/include/everest"
  # everest/: the x25519 headers mbedtls/ecdh.h includes with Everest on.
  cp -r "$src/mbedtls-$MBEDTLS_VER/include/mbedtls" "$src/mbedtls-$MBEDTLS_VER/include/psa" \
    "$src/mbedtls-$MBEDTLS_VER/3rdparty/everest/include/everest" "$prefix/include/"
  rm -f "$prefix"/.mbedtls-*
  touch "$prefix/.mbedtls-$MBEDTLS_VER-$mbedtls_key"
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
rm -f "$prefix"/.ready-*
touch "$prefix/.ready-$key"
echo "deps: mbedTLS $MBEDTLS_VER and c-ares $CARES_VER ready in $prefix" >&2
