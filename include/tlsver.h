/* Legacy TLS version detection (TLS 1.0 / 1.1): mbedTLS 3.6 cannot speak
 * them, so a minimal hand-written ClientHello of that version is sent and
 * only the server's first answer is read: a ServerHello naming the version
 * means "accepted", an alert or a higher version means "refused". Pure. */
#ifndef SP_TLSVER_H
#define SP_TLSVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLSVER_HELLO_MAX 512          /* bytes of the ClientHello record */
#define TLSVER_READ_MAX  4096         /* bytes read of the server's answer */

enum tlsver_rc {
	TLSVER_NEED_MORE = 0,
	TLSVER_SERVER_HELLO,          /* *version = ServerHello.server_version */
	TLSVER_ALERT,                 /* *alert = the alert's description */
	TLSVER_NOT_TLS                /* not a TLS handshake or alert record */
};

/* A ClientHello record offering exactly `version` (0x0301 TLS 1.0,
 * 0x0302 TLS 1.1) with common suites of that era, SNI (NULL or an IP
 * literal: none), supported_groups and ec_point_formats. No fallback SCSV:
 * the question is what a client that only speaks this version gets.
 * Returns the record length, 0 if out is too small. */
size_t tlsver_client_hello(unsigned char *out, size_t outlen, uint16_t version,
                           const char *sni, const unsigned char random[32]);

/* The server's first bytes -> what they say. Looks only at the first
 * record (a ServerHello must start it). */
enum tlsver_rc tlsver_parse(const unsigned char *p, size_t n, uint16_t *version,
                            unsigned *alert);

/* "TLSv1.0" for 0x0301 ... "TLSv1.3"; "" for anything else. */
const char *tlsver_name(uint16_t version);

/* "handshake_failure" for 40, ...; "unknown" for a code not registered. */
const char *tlsver_alert_name(unsigned alert);

/* An IANA suite name whose key exchange gives no forward secrecy: static
 * RSA key transport (TLS_RSA_WITH_*) or static (EC)DH (TLS_DH_*, TLS_ECDH_*). */
bool tlsver_suite_no_fs(const char *suite);

#endif
