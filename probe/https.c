/* HTTPS GET for the MTA-STS policy, driven by the loop: resolve, connect
 * (Happy Eyeballs via conn.c), TLS with the run's trust anchors, one
 * request, read to the end or to the limit. RFC 8461 3.3: the certificate
 * must be valid for the policy host, and redirects must not be followed,
 * so a 3xx is an answer to report, not a place to go. */
#include "https.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "conn.h"
#include "xmalloc.h"

enum https_state { HS_RESOLVE = 0, HS_CONNECT, HS_HANDSHAKE, HS_WRITE, HS_READ, HS_DONE };

struct https_get {
	struct loop *loop;                /* borrowed */
	struct dns *dns;                  /* borrowed */
	struct tlsio_cfg *cfg;            /* borrowed */
	char host[256];
	uint16_t port;
	char req[800];
	size_t req_len, req_put;
	size_t body_max, cap;
	char *buf;                        /* owned, at most cap bytes */
	size_t len;
	struct dns_query *dq;             /* owned until its callback */
	struct conn *conn;                /* owned until its callback */
	int fd;                           /* owned, -1 none */
	bool fd_watched;
	struct tlsio *tls;                /* owned */
	struct attempt att[4];
	size_t natt;
	struct loop_timer timeout, deliver;
	https_cb cb;
	void *arg;
	struct https_response resp;
	enum https_state st;
	bool resolved;
};

/* ---- the response parser (pure) ---- */

static bool https_hdr_is(const char *line, size_t n, const char *name, const char **val,
                         size_t *vlen)
{
	size_t k = strlen(name);
	const char *v, *e = line + n;

	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return false;
	v = line + k + 1;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	*val = v;
	*vlen = (size_t)(e - v);
	return true;
}

/* A decimal number of at most 10 digits, whole string. */
static bool https_num(const char *s, size_t n, size_t *out)
{
	size_t v = 0;

	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* Decodes a chunked body in place; 0, or -1 when malformed or truncated. */
static int https_dechunk(char *p, size_t n, size_t max, size_t *out_len, bool *too_large)
{
	size_t in = 0, out = 0;

	for (;;) {
		size_t size = 0, digits = 0;

		while (in < n && isxdigit((unsigned char)p[in])) {
			if (++digits > 8)
				return -1;
			size = size * 16 + (size_t)(isdigit((unsigned char)p[in]) ? p[in] - '0' :
			                            (tolower((unsigned char)p[in]) - 'a' + 10));
			in++;
		}
		if (digits == 0)
			return -1;
		while (in < n && p[in] != '\n')      /* chunk extensions */
			in++;
		if (in >= n)
			return -1;
		in++;
		if (size == 0)
			break;
		if (size > n - in)
			return -1;
		if (out + size > max) {
			*too_large = true;
			return -1;
		}
		memmove(p + out, p + in, size);
		out += size;
		in += size;
		if (in < n && p[in] == '\r')
			in++;
		if (in >= n || p[in] != '\n')
			return -1;
		in++;
	}
	*out_len = out;
	return 0;
}

int https_parse_response(char *buf, size_t len, size_t body_max, struct https_response *r)
{
	size_t head = 0, i, line_start, clen = 0;
	bool have_clen = false, chunked = false;
	char *body;
	size_t avail;

	r->status = 0;
	r->content_type[0] = r->location[0] = '\0';
	r->body = NULL;
	r->body_len = 0;
	r->framed = false;
	/* End of the header block: CRLF CRLF (LF LF tolerated). */
	for (i = 0; i < len && i < HTTPS_HEAD_MAX; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n') {
			head = i + 2;
			break;
		}
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
			head = i + 3;
			break;
		}
	}
	if (head == 0) {
		snprintf(r->error, sizeof(r->error), "%s", len >= HTTPS_HEAD_MAX ?
		         "the HTTP header is too long" : "no complete HTTP response header");
		return -1;
	}
	/* Status line: HTTP/1.x SP 3DIGIT */
	if (head < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' ||
	    !isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) ||
	    !isdigit((unsigned char)buf[11])) {
		snprintf(r->error, sizeof(r->error), "the server did not answer with HTTP/1.x");
		return -1;
	}
	r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	line_start = 0;
	for (i = 0; i < head; i++) {
		const char *v;
		size_t vlen, n;

		if (buf[i] != '\n')
			continue;
		n = i - line_start;
		if (line_start > 0 && n > 0) {
			const char *line = buf + line_start;

			if (https_hdr_is(line, n, "Content-Type", &v, &vlen)) {
				size_t k = 0;

				while (k < vlen && v[k] != ';' && k + 1 < sizeof(r->content_type)) {
					r->content_type[k] = (char)tolower((unsigned char)v[k]);
					k++;
				}
				while (k > 0 && (r->content_type[k - 1] == ' ' || r->content_type[k - 1] == '\t'))
					k--;
				r->content_type[k] = '\0';
			} else if (https_hdr_is(line, n, "Content-Length", &v, &vlen)) {
				if (!https_num(v, vlen, &clen)) {
					snprintf(r->error, sizeof(r->error), "bad Content-Length header");
					return -1;
				}
				have_clen = true;
			} else if (https_hdr_is(line, n, "Transfer-Encoding", &v, &vlen)) {
				for (size_t k = 0; k + 7 <= vlen; k++)
					if (strncasecmp(v + k, "chunked", 7) == 0)
						chunked = true;
			} else if (https_hdr_is(line, n, "Location", &v, &vlen)) {
				size_t k = vlen < sizeof(r->location) - 1 ? vlen : sizeof(r->location) - 1;

				memcpy(r->location, v, k);
				r->location[k] = '\0';
			}
		}
		line_start = i + 1;
	}
	body = buf + head;
	avail = len - head;
	r->framed = chunked || have_clen;
	if (chunked) {
		if (https_dechunk(body, avail, body_max, &r->body_len, &r->too_large) != 0) {
			snprintf(r->error, sizeof(r->error), "%s", r->too_large ?
			         "the response body is larger than the limit" :
			         "malformed or truncated chunked body");
			return -1;
		}
	} else if (have_clen) {
		if (clen > body_max) {
			r->too_large = true;
			snprintf(r->error, sizeof(r->error), "the response body (%zu bytes) is larger "
			         "than the limit (%zu bytes)", clen, body_max);
			return -1;
		}
		if (avail < clen) {
			snprintf(r->error, sizeof(r->error), "the response body is truncated (%zu of "
			         "%zu bytes)", avail, clen);
			return -1;
		}
		r->body_len = clen;
	} else {
		if (avail > body_max) {
			r->too_large = true;
			snprintf(r->error, sizeof(r->error), "the response body is larger than the "
			         "limit (%zu bytes)", body_max);
			return -1;
		}
		r->body_len = avail;
	}
	r->body = body;
	return 0;
}

/* ---- the client ---- */

static void https_finish(struct https_get *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void https_close(struct https_get *g)
{
	if (g->fd_watched) {
		loop_del_fd(g->loop, g->fd);
		g->fd_watched = false;
	}
	tlsio_free(g->tls);
	g->tls = NULL;
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}

/* Ends the request: error (NULL for none) recorded, callback deferred to
 * the loop so no caller sees it from inside its own call. */
static void https_finish(struct https_get *g, const char *fmt, ...)
{
	va_list ap;

	if (g->st == HS_DONE)
		return;
	g->st = HS_DONE;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(g->resp.error, sizeof(g->resp.error), fmt, ap);
		va_end(ap);
	}
	loop_timer_stop(g->loop, &g->timeout);
	dns_cancel(g->dq);
	g->dq = NULL;
	if (g->conn != NULL) {
		conn_cancel(g->conn);
		g->conn = NULL;
	}
	https_close(g);
	loop_timer_set(g->loop, &g->deliver, 0);
}

static void https_deliver(struct loop *l, void *arg)
{
	struct https_get *g = arg;

	(void)l;
	g->cb(g->arg, &g->resp);
}

static void https_on_timeout(struct loop *l, void *arg)
{
	(void)l;
	https_finish(arg, "timed out");
}

/* The response is complete when the server closed, or when the header says
 * how long the body is and all of it is here. */
static bool https_complete(struct https_get *g)
{
	struct https_response tmp;
	char *copy;
	bool done;

	if (g->len == 0)
		return false;
	memset(&tmp, 0, sizeof(tmp));
	/* Parse a copy: chunked decoding works in place. */
	copy = xmalloc(g->len);
	memcpy(copy, g->buf, g->len);
	done = (https_parse_response(copy, g->len, g->body_max, &tmp) == 0 && tmp.framed) ||
	       tmp.too_large;
	free(copy);
	return done;
}

static void https_parse_final(struct https_get *g)
{
	if (https_parse_response(g->buf, g->len, g->body_max, &g->resp) != 0) {
		https_finish(g, NULL);   /* the parser wrote resp.error */
		return;
	}
	https_finish(g, NULL);
}

static void https_step(struct https_get *g)
{
	char err[200] = "";

	for (;;) {
		enum tlsio_rc rc;

		if (g->st == HS_HANDSHAKE) {
			struct tls_info ti;

			rc = tlsio_handshake(g->tls, err, sizeof(err));
			if (rc == TLSIO_WANT_READ || rc == TLSIO_WANT_WRITE) {
				loop_mod_fd(g->loop, g->fd, rc == TLSIO_WANT_READ ? LOOP_READ : LOOP_WRITE);
				return;
			}
			if (rc != TLSIO_OK) {
				https_finish(g, "%s", err);
				return;
			}
			g->resp.tls_ok = true;
			memset(&ti, 0, sizeof(ti));
			tlsio_info(g->tls, g->host, time(NULL), &ti);
			g->resp.cert_valid = ti.trusted && ti.hostname_match;
			if (!ti.trusted)
				snprintf(g->resp.cert_error, sizeof(g->resp.cert_error),
				         "certificate not trusted%s%s", ti.nerrors ? ": " : "",
				         ti.nerrors ? ti.errors[0] : "");
			else if (!ti.hostname_match)
				snprintf(g->resp.cert_error, sizeof(g->resp.cert_error),
				         "certificate does not match %s", g->host);
			tls_chain_free(&ti);
			for (size_t i = 0; i < ti.nerrors; i++)
				free(ti.errors[i]);
			if (!g->resp.cert_valid) {
				/* RFC 8461 3.3: no policy from an unauthenticated server. */
				https_finish(g, "TLS: %s", g->resp.cert_error);
				return;
			}
			g->st = HS_WRITE;
		}
		if (g->st == HS_WRITE) {
			size_t put = 0;

			rc = tlsio_write(g->tls, g->req + g->req_put, g->req_len - g->req_put, &put,
			                 err, sizeof(err));
			if (rc == TLSIO_WANT_READ || rc == TLSIO_WANT_WRITE) {
				loop_mod_fd(g->loop, g->fd, rc == TLSIO_WANT_READ ? LOOP_READ : LOOP_WRITE);
				return;
			}
			if (rc != TLSIO_OK) {
				https_finish(g, "%s", err);
				return;
			}
			g->req_put += put;
			if (g->req_put < g->req_len)
				continue;
			g->st = HS_READ;
		}
		if (g->st == HS_READ) {
			size_t got = 0;

			if (g->len == g->cap) {
				g->resp.too_large = true;
				https_finish(g, "the response is larger than the limit (%zu bytes)",
				             g->body_max);
				return;
			}
			rc = tlsio_read(g->tls, g->buf + g->len, g->cap - g->len, &got, err, sizeof(err));
			if (rc == TLSIO_WANT_READ || rc == TLSIO_WANT_WRITE) {
				loop_mod_fd(g->loop, g->fd, rc == TLSIO_WANT_READ ? LOOP_READ : LOOP_WRITE);
				return;
			}
			if (rc == TLSIO_CLOSED || (rc == TLSIO_FAIL && g->len > 0 &&
			                           strstr(err, "closed") != NULL)) {
				https_parse_final(g);
				return;
			}
			if (rc != TLSIO_OK) {
				https_finish(g, "%s", err);
				return;
			}
			g->len += got;
			if (https_complete(g)) {
				https_parse_final(g);
				return;
			}
			continue;
		}
		return;
	}
}

static void https_on_io(struct loop *l, int fd, unsigned events, void *arg)
{
	(void)l;
	(void)fd;
	(void)events;
	https_step(arg);
}

static void https_on_conn(void *arg, int fd, size_t which)
{
	struct https_get *g = arg;
	char err[200] = "";

	(void)which;
	g->conn = NULL;
	if (fd < 0) {
		https_finish(g, "cannot connect to %s port %u%s%s", g->host, (unsigned)g->port,
		             g->natt ? ": " : "", g->natt ? g->att[g->natt - 1].error : "");
		return;
	}
	g->fd = fd;
	g->tls = tlsio_new(g->cfg, fd, g->host, err, sizeof(err));
	if (g->tls == NULL) {
		https_finish(g, "%s", err);
		return;
	}
	if (loop_add_fd(g->loop, fd, LOOP_READ | LOOP_WRITE, https_on_io, g) != 0) {
		https_finish(g, "out of memory");
		return;
	}
	g->fd_watched = true;
	g->st = HS_HANDSHAKE;
	https_step(g);
}

static void https_on_addr(void *arg, const struct dns_answer *a)
{
	struct https_get *g = arg;

	g->dq = NULL;
	g->resolved = true;
	if (a->e4 == DNS_CANCELLED || a->e6 == DNS_CANCELLED || g->st == HS_DONE)
		return;
	if (a->n == 0) {
		enum dns_err e = a->e4 != DNS_NODATA ? a->e4 : a->e6;

		https_finish(g, "cannot resolve %s: %s", g->host,
		             e == DNS_OK ? "no address" : dns_err_name(e));
		return;
	}
	g->st = HS_CONNECT;
	g->conn = conn_start(g->loop, a->addrs, a->n, g->port, 250.0,
	                     g->timeout.when - loop_now(), NULL, g->att, &g->natt,
	                     sizeof(g->att) / sizeof(g->att[0]), https_on_conn, g);
	if (g->conn == NULL && g->st == HS_CONNECT && g->fd < 0)
		https_finish(g, "cannot connect to %s", g->host);
}

struct https_get *https_get_start(struct loop *l, struct dns *dns, struct tlsio_cfg *tls,
                                  const char *host, uint16_t port, const char *path,
                                  size_t body_max, double timeout_ms,
                                  https_cb cb, void *arg)
{
	struct https_get *g = xcalloc(1, sizeof(*g));
	int n;

	g->loop = l;
	g->dns = dns;
	g->cfg = tls;
	g->fd = -1;
	g->port = port;
	g->cb = cb;
	g->arg = arg;
	g->body_max = body_max;
	g->cap = HTTPS_HEAD_MAX + body_max + body_max / 4 + 64;   /* room for chunk framing */
	snprintf(g->host, sizeof(g->host), "%s", host);
	loop_timer_init(&g->timeout, https_on_timeout, g);
	loop_timer_init(&g->deliver, https_deliver, g);
	{
		char hostport[300];

		/* RFC 9110 7.2: the port goes into Host only when not the default. */
		if (port != 443)
			snprintf(hostport, sizeof(hostport), "%s:%u", host, (unsigned)port);
		else
			snprintf(hostport, sizeof(hostport), "%s", host);
		n = snprintf(g->req, sizeof(g->req),
		             "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: smtp-probe/" SP_VERSION
		             "\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
		             path, hostport);
	}
	if (n < 0 || (size_t)n >= sizeof(g->req)) {
		free(g);
		return NULL;
	}
	g->buf = xmalloc(g->cap);
	g->req_len = (size_t)n;
	loop_timer_set(l, &g->timeout, timeout_ms);
	g->st = HS_RESOLVE;
	g->dq = dns_resolve(dns, host, true, true, https_on_addr, g);
	if (g->dq == NULL && !g->resolved)
		https_finish(g, "cannot start the lookup of %s", host);
	return g;
}

void https_get_free(struct https_get *g)
{
	if (g == NULL)
		return;
	loop_timer_stop(g->loop, &g->timeout);
	loop_timer_stop(g->loop, &g->deliver);
	dns_cancel(g->dq);
	if (g->conn != NULL)
		conn_cancel(g->conn);
	https_close(g);
	free(g->buf);
	free(g);
}
