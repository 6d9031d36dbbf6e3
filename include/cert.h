/* Certificates: mbedTLS chain -> plain structs, RFC 6125 name matching,
 * verification flags -> readable problems, SPKI pins. */
#ifndef SP_CERT_H
#define SP_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <mbedtls/x509_crt.h>
#include "result.h"

/* Fills c from one certificate (days_left relative to now). 0, or -1 on no
 * memory. Field text is bounded (subject/issuer cut at 1024 bytes). */
int cert_extract(const mbedtls_x509_crt *crt, time_t now, struct cert_info *c);
void cert_info_clear(struct cert_info *c);

/* Frees the DER kept for DANE matching (the rest stays). */
void cert_info_drop_der(struct cert_info *c);

/* Same, but from DER bytes (for tests and fuzzing). 0, -1 parse error. */
int cert_extract_der(const unsigned char *der, size_t len, time_t now,
                     struct cert_info *c);

/* RFC 6125: case-insensitive, a wildcard only as the whole leftmost label
 * ("*.example.com" matches "a.example.com", not "example.com" nor
 * "a.b.example.com"); no wildcard matching of IP literals. */
bool cert_name_match(const char *pattern, const char *host);

/* Does the leaf match host? DNS SANs (or IP SANs for literals); the subject
 * CN is consulted only when the certificate has no DNS SAN. */
bool cert_matches_host(const mbedtls_x509_crt *crt, const char *host);

/* mbedTLS verify flags -> short phrases ("certificate has expired", ...),
 * strdup'ed into errors[], at most max. Name mismatch is reported by the
 * caller, not here (MBEDTLS_X509_BADCERT_CN_MISMATCH is skipped). */
size_t cert_verify_errors(uint32_t flags, char **errors, size_t max);

/* A key below what current clients accept (RSA < 2048 bits, EC below
 * 256 bits): true, and why names the size and the floor. */
bool cert_key_weak(const struct cert_info *c, char *why, size_t whylen);

/* "sha256//BASE64" -> 0 and the base64 text (44 chars) in out; -1 if bad. */
int cert_pin_parse(const char *spec, char out[45]);

#endif
