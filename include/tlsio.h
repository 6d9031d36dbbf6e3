/* mbedTLS over a non-blocking socket. One config per run (trust anchors
 * indexed once, each parsed when a chain first needs it; chain verdicts
 * cached, probe/castore.c), one context per probe. Verification is never enforced:
 * VERIFY_OPTIONAL, and the verdict is read back into struct tls_info. */
#ifndef SP_TLSIO_H
#define SP_TLSIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "result.h"

enum tlsio_rc {
	TLSIO_OK = 0,
	TLSIO_WANT_READ,
	TLSIO_WANT_WRITE,
	TLSIO_CLOSED,            /* peer closed (close_notify or EOF) */
	TLSIO_FAIL               /* detail in err */
};

struct tlsio_cfg;
struct tlsio;

/* Loads trust anchors: cafile and/or capath, else the system store
 * (/etc/ssl/certs/ca-certificates.crt, then /etc/ssl/certs). A PEM file is
 * indexed, not parsed (but a named one must hold a certificate that parses). NULL with a
 * one-line reason in err when a named file cannot be read or parsed.
 * Calls psa_crypto_init() once. */
struct tlsio_cfg *tlsio_cfg_new(const char *cafile, const char *capath,
                                char *err, size_t errlen);
void tlsio_cfg_free(struct tlsio_cfg *cfg);
/* Offer only this version (0x0303 TLS 1.2, 0x0304 TLS 1.3) on a config of
 * its own (--tls-versions); -1 for any other value. */
int tlsio_cfg_pin_version(struct tlsio_cfg *cfg, uint16_t version);

/* --no-sni: connections of this config send no server_name extension;
 * the name is still verified (tlsio_info). */
void tlsio_cfg_no_sni(struct tlsio_cfg *cfg);
/* --client-cert/--client-key (keyfile NULL: the key is in certfile): sent
 * when a server asks for a certificate. -1 with a reason in err. */
int tlsio_cfg_client_cert(struct tlsio_cfg *cfg, const char *certfile, const char *keyfile,
                          char *err, size_t errlen);

/* servername: SNI and the name verified (NULL or an IP literal: no SNI,
 * name checked against IP SANs). */
struct tlsio *tlsio_new(struct tlsio_cfg *cfg, int fd, const char *servername,
                        char *err, size_t errlen);
void tlsio_free(struct tlsio *t);

enum tlsio_rc tlsio_handshake(struct tlsio *t, char *err, size_t errlen);
/* *got = bytes read; TLS 1.3 session tickets are consumed silently. */
enum tlsio_rc tlsio_read(struct tlsio *t, void *buf, size_t len, size_t *got,
                         char *err, size_t errlen);
enum tlsio_rc tlsio_write(struct tlsio *t, const void *buf, size_t len,
                          size_t *put, char *err, size_t errlen);
/* Bytes already decrypted and waiting (poll won't tell). */
size_t tlsio_pending(const struct tlsio *t);

/* After the handshake: version, cipher, group, ALPN, chain (at most
 * RESULT_MAX_CHAIN kept, chain_total counts all), trusted, hostname_match,
 * errors. servername is copied into ti->servername. */
void tlsio_info(struct tlsio *t, const char *servername, time_t now,
                struct tls_info *ti);

/* After a failure: the mbedTLS code (tls.error_code in JSON, never its
 * text) and the version of the server's ServerHello, if one was seen. */
void tlsio_fail_info(const struct tlsio *t, struct tls_info *ti);
/* The ServerHello's version when it is older than TLS 1.2 (0x0300-0x0302:
 * the server speaks nothing newer), else 0. */
uint16_t tlsio_legacy_version(const struct tlsio *t);
/* The server name goes out as SNI (not for IP literals, not with --no-sni). */
bool tlsio_sends_sni(const struct tlsio *t);
/* The server asked for a client certificate (seen only where the request
 * travels in clear: TLS 1.2; TLS 1.3 encrypts it). */
bool tlsio_cert_requested(const struct tlsio *t);
/* The last failure was mbedTLS giving up on a message the protocol allows
 * (a TLS 1.3 KeyUpdate): the probe's limit, not the server's fault. */
bool tlsio_gave_up(const struct tlsio *t);

/* "mbed TLS 3.6.6" */
const char *tlsio_version(void);

#endif
