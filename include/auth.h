/* SASL client encodings for the --auth test (RFC 4954): PLAIN (RFC 4616),
 * LOGIN, CRAM-MD5 (RFC 2195). Pure: no socket, no loop. Every buffer that
 * held a secret is wiped by the caller with auth_wipe. */
#ifndef SP_AUTH_H
#define SP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* Ordered weakest to strongest: auth_mech_pick takes the highest offered. */
enum auth_mech {
	AUTH_MECH_NONE = 0,
	AUTH_MECH_LOGIN,
	AUTH_MECH_PLAIN,
	AUTH_MECH_CRAM_MD5
};

#define AUTH_MAX_SECRET 256          /* bytes of a password, NUL included */
#define AUTH_MAX_MSG    1024         /* one encoded client message */

const char *auth_mech_name(enum auth_mech m);          /* "PLAIN", ... */
/* Case-insensitive; AUTH_MECH_NONE when unknown or unsupported. */
enum auth_mech auth_mech_parse(const char *name);
/* Is m among the space-separated EHLO AUTH parameters? */
bool auth_mech_offered(const char *offered, enum auth_mech m);
/* The strongest supported mechanism offered, AUTH_MECH_NONE if none. */
enum auth_mech auth_mech_pick(const char *offered);

/* base64 without line breaks into out (NUL-terminated); -1 if too small. */
int auth_b64(const unsigned char *in, size_t n, char *out, size_t outlen);
/* Lowercase hex; out needs 2n+1 bytes. */
void auth_hex(const unsigned char *in, size_t n, char *out);

/* RFC 4616 initial response: base64("" NUL user NUL password). */
int auth_plain(const char *user, const char *pw, char *out, size_t outlen);
/* RFC 2195: base64(user SP hex(HMAC-MD5(password, challenge))), from the
 * base64 challenge the server sent after 334. -1 on a malformed challenge. */
int auth_cram_md5(const char *user, const char *pw, const char *challenge_b64,
                  char *out, size_t outlen);

/* The password: first line of file (trailing CR/LF stripped) when file is
 * not NULL, else $SMTP_PROBE_PASSWORD. -1 with a one-line reason in err
 * when there is none (or it is empty or too long). */
int auth_password_load(const char *file, char *out, size_t outlen,
                       char *err, size_t errlen);

/* mbedtls_platform_zeroize: a memset the compiler may not drop. */
void auth_wipe(void *p, size_t n);

#endif
