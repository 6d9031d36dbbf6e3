/* A small HTTPS GET client on the loop, for the MTA-STS policy: HTTP/1.1
 * with Connection: close, certificate verified (system store or --cafile)
 * for the host name sent as SNI, redirects reported but never followed,
 * the response bounded in size and time. */
#ifndef SP_HTTPS_H
#define SP_HTTPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dns.h"
#include "loop.h"
#include "tlsio.h"

#define HTTPS_HEAD_MAX 16384          /* bytes of status line + headers */

struct https_response {
	char error[200];                  /* transport/TLS/HTTP failure, "" none */
	bool tls_ok;                      /* handshake completed */
	bool cert_valid;                  /* trusted and matches the host name */
	char cert_error[160];             /* why not, "" when valid */
	int status;                       /* HTTP status, 0 none */
	char content_type[96];            /* media type, lower-cased, no parameters */
	char location[256];               /* Location of a redirect, "" none */
	bool too_large;                   /* the body passed the limit */
	bool framed;                      /* Content-Length or chunked: the end is known */
	const char *body;                 /* borrowed (lives as long as the request) */
	size_t body_len;
};

/* Parses a complete response held in buf (status line, headers, body with
 * Content-Length, chunked or up to the end). Pure; the body points into
 * buf (decoded in place when chunked). 0, or -1 with r->error set. */
int https_parse_response(char *buf, size_t len, size_t body_max, struct https_response *r);

struct https_get;
typedef void (*https_cb)(void *arg, const struct https_response *r);

/* GET https://host:port/path. cb runs from the loop, once. body_max bounds
 * the body, timeout_ms the whole request. */
struct https_get *https_get_start(struct loop *l, struct dns *dns, struct tlsio_cfg *tls,
                                  const char *host, uint16_t port, const char *path,
                                  size_t body_max, double timeout_ms,
                                  https_cb cb, void *arg);
void https_get_free(struct https_get *g);

#endif
