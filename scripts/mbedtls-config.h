/* smtp-probe's changes to mbedTLS 3.6's default configuration.
 *
 * scripts/deps.sh appends this file to the pinned release's
 * include/mbedtls/mbedtls_config.h before building it, so the library and
 * everything compiled against the installed headers see one configuration.
 * Each choice was measured with callgrind (instruction counts of a probe
 * and of a batch; docs/performance.md has the table, including the options
 * tried and rejected, and scripts/bench/mbedtls-variants.sh redoes it).
 * A system mbedTLS (pkg-config) is used with its own configuration. */

/* x25519 (the key exchange TLS 1.3 servers pick first) through the
 * Everest/HACL* implementation shipped in mbedTLS's 3rdparty/: the shared
 * secret costs ~1.1 M instructions instead of ~7.8 M, 15 % of a whole
 * probe. (Key generation goes through HACL* too, by
 * scripts/patches/mbedtls-3.6.6-x25519-everest-keygen.patch.) */
#define MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED

/* The probe's own records are SMTP commands and a ClientHello, far below
 * 4 KiB: a 4 KiB output buffer instead of 16 KiB saves 12 KiB per TLS
 * connection in flight. Incoming records stay at the protocol's 16 KiB
 * (a server may send a certificate chain of that size). */
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

/* ECDSA verification by probe/ecverify.c: P-256 in variable-time 64-bit
 * Montgomery arithmetic (a verification has no secret to protect), every
 * other curve through mbedTLS's own public ECP API. mbedTLS's code spends
 * ~13 M instructions per P-256 verification, ours ~1.8 M; a probe does
 * two. The program links it in (-Wl,-u in the Makefile). */
#define MBEDTLS_ECDSA_VERIFY_ALT
