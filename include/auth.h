/* SASL client encodings for the --auth test (RFC 4954): PLAIN (RFC 4616),
 * LOGIN, CRAM-MD5 (RFC 2195), SCRAM-SHA-256 (RFC 5802, RFC 7677). Pure: no socket, no loop. Every buffer that
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
	AUTH_MECH_CRAM_MD5,
	AUTH_MECH_SCRAM_SHA256
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

/* SCRAM-SHA-256 client: the password never leaves the client, and the
 * server proves it knows the password too (its signature is checked). */
#define AUTH_SCRAM_MAX_ITER 100000   /* a hostile server could ask for 2^31 */
struct auth_scram {
	char bare[AUTH_MAX_MSG];         /* client-first-message-bare */
	char nonce[64];                  /* our nonce */
	unsigned char server_sig[32];    /* what the server must send as v= */
	bool have_sig;
	bool verified;                   /* the server's v= was received and right */
};

/* The client-first message (base64) for user with nonce (printable, no
 * comma). -1 when it does not fit. */
int auth_scram_first(struct auth_scram *sc, const char *user, const char *nonce,
                     char *out, size_t outlen);
/* From the server-first message (base64), the client-final message
 * (base64). -1 with a reason in err when the server's message is malformed:
 * a nonce that does not extend ours, a bad salt, an iteration count below
 * 1 or above AUTH_SCRAM_MAX_ITER. */
int auth_scram_final(struct auth_scram *sc, const char *pw, const char *server_first_b64,
                     char *out, size_t outlen, char *err, size_t errlen);
/* The server-final message (base64 "v=..."): 0 when the server's signature
 * is right, -1 otherwise. */
int auth_scram_verify(const struct auth_scram *sc, const char *server_final_b64);

/* The password: first line of file (trailing CR/LF stripped) when file is
 * not NULL, else $SMTP_PROBE_PASSWORD. -1 with a one-line reason in err
 * when there is none (or it is empty or too long). */
int auth_password_load(const char *file, char *out, size_t outlen,
                       char *err, size_t errlen);

/* mbedtls_platform_zeroize: a memset the compiler may not drop. */
void auth_wipe(void *p, size_t n);

#endif
