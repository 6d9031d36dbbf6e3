/* Happy Eyeballs connect. A non-blocking connect is finished by reading
 * SO_ERROR when the socket turns writable (as redis' anet.c does). With
 * --proxy each attempt is a connection to the SOCKS5 proxy followed by
 * the RFC 1928 exchange (no authentication, CONNECT to the address), read
 * exactly to the end of the proxy's reply so that the server's first
 * bytes stay in the socket for the session. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "compat.h"
#include "conn.h"
#include "ip.h"
#include "xmalloc.h"

#define CONN_MAX DNS_MAX_ADDRS

enum try_state { T_TCP = 0, T_SOCKS_METHOD, T_SOCKS_REPLY };

struct try {
	int fd;                      /* owned, -1 when done */
	size_t addr;                 /* index into addrs */
	size_t slot;                 /* index into att[], or (size_t)-1 */
	double started;
	enum try_state st;
	unsigned char buf[32];       /* the proxy's answer so far (at most 22 bytes) */
	size_t have, want;
};

struct conn {
	struct loop *loop;           /* borrowed */
	struct dns_addr addrs[CONN_MAX];
	size_t order[CONN_MAX];      /* interleaved start order */
	size_t n, next;
	uint16_t port;
	double stagger_ms;
	struct try tries[CONN_MAX];
	size_t ntries;
	struct loop_timer stagger, deadline;
	struct conn_opts o;          /* zeroed: direct, no source address */
	struct attempt *att;         /* borrowed */
	size_t *natt, maxatt;
	conn_cb cb;
	void *arg;
};

/* "socks5://ADDR:PORT" into an address and a port; -1 when it is not one. */
int conn_proxy_parse(const char *url, struct dns_addr *a, uint16_t *port)
{
	char host[64];
	const char *p = url, *colon;
	size_t n;
	long v;
	char *end;

	if (strncasecmp(p, "socks5://", 9) != 0)
		return -1;
	p += 9;
	if (*p == '[') {
		const char *rb = strchr(p, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		n = (size_t)(rb - p - 1);
		p++;
		colon = rb + 1;
	} else {
		colon = strrchr(p, ':');
		if (colon == NULL)
			return -1;
		n = (size_t)(colon - p);
	}
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, p, n);
	host[n] = '\0';
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	v = strtol(colon + 1, &end, 10);
	if (*end != '\0' || v < 1 || v > 65535 || colon[1] == '\0')
		return -1;
	a->family = ip_literal(host, a->addr);
	if (a->family == 0 || strchr(host, '%') != NULL)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

void conn_addr_text(const struct dns_addr *a, char *out, size_t outlen)
{
	if (inet_ntop(a->family, a->addr, out, (socklen_t)outlen) == NULL)
		snprintf(out, outlen, "?");
}

static void record(struct conn *c, struct try *t, double ms, const char *err)
{
	struct attempt *a;

	if (t->slot == (size_t)-1)
		return;
	a = &c->att[t->slot];
	a->connect_ms = ms;
	snprintf(a->error, sizeof(a->error), "%s", err ? err : "");
}

static void close_try(struct conn *c, struct try *t)
{
	if (t->fd >= 0) {
		loop_del_fd(c->loop, t->fd);
		close(t->fd);
		t->fd = -1;
	}
}

static size_t in_flight(const struct conn *c)
{
	size_t i, k = 0;

	for (i = 0; i < c->ntries; i++)
		if (c->tries[i].fd >= 0)
			k++;
	return k;
}

static void finish(struct conn *c, int fd, size_t which)
{
	conn_cb cb = c->cb;
	void *arg = c->arg;
	size_t i;

	for (i = 0; i < c->ntries; i++)
		if (c->tries[i].fd >= 0 && c->tries[i].fd != fd) {
			record(c, &c->tries[i], -1, "abandoned: another address answered first");
			close_try(c, &c->tries[i]);
		}
	loop_timer_stop(c->loop, &c->stagger);
	loop_timer_stop(c->loop, &c->deadline);
	free(c);
	cb(arg, fd, which);
}

static void start_next(struct conn *c);

/* Starts the next address when nothing is in flight; ends when nothing is
 * left. start_next may fail every remaining address at once (no route),
 * so the end is checked after it too, not left to the deadline. */
static void maybe_fail(struct conn *c)
{
	if (in_flight(c) == 0 && c->next < c->n)
		start_next(c);
	if (in_flight(c) == 0 && c->next >= c->n)
		finish(c, -1, 0);
}

static void try_fail(struct conn *c, struct try *t, const char *err)
{
	record(c, t, -1, err);
	close_try(c, t);
	maybe_fail(c);
}

/* The attempt made it: the socket goes to the caller. */
static void try_won(struct conn *c, struct try *t)
{
	int one = 1, fd = t->fd;

	record(c, t, loop_now() - t->started, NULL);
	/* Nagle would hold our small commands behind the TLS 1.3 ticket. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	loop_del_fd(c->loop, fd);
	t->fd = -1;              /* handed over */
	finish(c, fd, t->addr);
}

/* RFC 1928 6: the proxy's REP field. */
static const char *socks_rep(unsigned rep)
{
	static const char *const text[] = {
		"succeeded", "general SOCKS server failure", "connection not allowed by ruleset",
		"network unreachable", "host unreachable", "connection refused", "TTL expired",
		"command not supported", "address type not supported"
	};

	return rep < sizeof(text) / sizeof(text[0]) ? text[rep] : "unknown error";
}

static bool socks_send(struct try *t, const unsigned char *b, size_t n)
{
	/* A few bytes on a fresh socket: the kernel takes them whole. */
	return send(t->fd, b, n, MSG_NOSIGNAL) == (ssize_t)n;
}

/* CONNECT to the attempt's address (ATYP 1 or 4, RFC 1928 4). */
static bool socks_connect(struct conn *c, struct try *t)
{
	const struct dns_addr *a = &c->addrs[t->addr];
	unsigned char req[4 + 16 + 2];
	size_t alen = a->family == AF_INET6 ? 16 : 4;

	req[0] = 5;
	req[1] = 1;
	req[2] = 0;
	req[3] = a->family == AF_INET6 ? 4 : 1;
	memcpy(req + 4, a->addr, alen);
	req[4 + alen] = (unsigned char)(c->port >> 8);
	req[5 + alen] = (unsigned char)(c->port & 0xff);
	return socks_send(t, req, 6 + alen);
}

/* Reads what the proxy owes us, never more; true when t->want is in. */
static bool socks_read(struct conn *c, struct try *t)
{
	ssize_t n = recv(t->fd, t->buf + t->have, t->want - t->have, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0) {
		try_fail(c, t, n == 0 ? "SOCKS5 proxy closed the connection" : strerror(errno));
		return false;
	}
	t->have += (size_t)n;
	return t->have == t->want;
}

static void socks_step(struct conn *c, struct try *t)
{
	char err[96];

	if (!socks_read(c, t))
		return;
	if (t->st == T_SOCKS_METHOD) {
		if (t->buf[0] != 5) {
			try_fail(c, t, "the --proxy does not speak SOCKS5");
			return;
		}
		if (t->buf[1] != 0) {
			try_fail(c, t, "the SOCKS5 proxy wants authentication, which smtp-probe does not do");
			return;
		}
		if (!socks_connect(c, t)) {
			try_fail(c, t, "cannot write to the SOCKS5 proxy");
			return;
		}
		t->st = T_SOCKS_REPLY;
		t->have = 0;
		t->want = 5;            /* VER REP RSV ATYP and the address's first byte */
		return;
	}
	if (t->want == 5) {
		if (t->buf[0] != 5) {
			try_fail(c, t, "the --proxy does not speak SOCKS5");
			return;
		}
		if (t->buf[1] != 0) {
			snprintf(err, sizeof(err), "SOCKS5 proxy: %s", socks_rep(t->buf[1]));
			try_fail(c, t, err);
			return;
		}
		/* The bound address: 4 or 16 bytes, or a name of buf[4] bytes. */
		t->want = t->buf[3] == 1 ? 10 : t->buf[3] == 4 ? 22 : t->buf[3] == 3 ?
		          7 + (size_t)t->buf[4] : 0;
		if (t->want == 0 || t->want > sizeof(t->buf)) {
			try_fail(c, t, "SOCKS5 proxy: malformed reply");
			return;
		}
		if (t->have < t->want)
			return;
	}
	try_won(c, t);
}

static void on_ready(struct loop *l, int fd, unsigned events, void *arg)
{
	struct conn *c = arg;
	struct try *t = NULL;
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	size_t i;
	static const unsigned char hello[] = { 5, 1, 0 };   /* SOCKS5, "no authentication" */

	(void)l;
	(void)events;
	for (i = 0; i < c->ntries; i++)
		if (c->tries[i].fd == fd)
			t = &c->tries[i];
	if (t == NULL)
		return;
	if (t->st != T_TCP) {
		socks_step(c, t);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr == EINPROGRESS)
		return;
	if (soerr != 0) {
		try_fail(c, t, c->o.proxy_set ? "cannot reach the SOCKS5 proxy" : strerror(soerr));
		return;
	}
	if (!c->o.proxy_set) {
		try_won(c, t);
		return;
	}
	if (!socks_send(t, hello, sizeof(hello))) {
		try_fail(c, t, "cannot write to the SOCKS5 proxy");
		return;
	}
	t->st = T_SOCKS_METHOD;
	t->have = 0;
	t->want = 2;
	loop_mod_fd(c->loop, fd, LOOP_READ);
}

static socklen_t to_sockaddr(const struct dns_addr *a, uint16_t port,
                             struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->addr, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	memcpy(&s4->sin_addr, a->addr, 4);
	return sizeof(*s4);
}

static void start_next(struct conn *c)
{
	struct sockaddr_storage ss;
	const struct dns_addr *peer;
	socklen_t sslen;
	struct try *t;
	size_t idx;
	int fd;

	while (c->next < c->n) {
		idx = c->order[c->next++];
		t = &c->tries[c->ntries++];
		t->fd = -1;
		t->addr = idx;
		t->started = loop_now();
		t->st = T_TCP;
		t->have = t->want = 0;
		t->slot = (size_t)-1;
		if (*c->natt < c->maxatt) {
			struct attempt *a = &c->att[*c->natt];

			memset(a, 0, sizeof(*a));
			t->slot = (*c->natt)++;
			conn_addr_text(&c->addrs[idx], a->address, sizeof(a->address));
			a->family = c->addrs[idx].family;
			a->connect_ms = -1;
		}
		/* Through a proxy the socket goes to the proxy, the address to
		 * the SOCKS request. */
		peer = c->o.proxy_set ? &c->o.proxy : &c->addrs[idx];
		sslen = to_sockaddr(peer, c->o.proxy_set ? c->o.proxy_port : c->port, &ss);
		if (c->o.bind_set && c->o.bind.family != peer->family) {
			record(c, t, -1, c->o.bind.family == AF_INET ?
			       "--bind gives an IPv4 source: cannot reach an IPv6 address" :
			       "--bind gives an IPv6 source: cannot reach an IPv4 address");
			continue;
		}
		fd = compat_socket(peer->family, SOCK_STREAM);
		if (fd < 0) {
			record(c, t, -1, strerror(errno));
			continue;
		}
		if (c->o.bind_set) {
			struct sockaddr_storage src;
			socklen_t srclen = to_sockaddr(&c->o.bind, 0, &src);

			if (bind(fd, (struct sockaddr *)&src, srclen) < 0) {
				char why[96];

				snprintf(why, sizeof(why), "cannot use the --bind address: %s",
				         strerror(errno));
				record(c, t, -1, why);
				close(fd);
				continue;
			}
		}
		if (connect(fd, (struct sockaddr *)&ss, sslen) < 0 && errno != EINPROGRESS) {
			record(c, t, -1, strerror(errno));
			close(fd);
			continue;
		}
		if (loop_add_fd(c->loop, fd, LOOP_WRITE, on_ready, c) < 0) {
			record(c, t, -1, "cannot watch socket");
			close(fd);
			continue;
		}
		t->fd = fd;
		if (c->next < c->n)
			loop_timer_set(c->loop, &c->stagger, c->stagger_ms);
		return;
	}
}

static void on_stagger(struct loop *l, void *arg)
{
	(void)l;
	start_next(arg);
	maybe_fail(arg);
}

static void on_deadline(struct loop *l, void *arg)
{
	struct conn *c = arg;
	size_t i;

	(void)l;
	for (i = 0; i < c->ntries; i++)
		if (c->tries[i].fd >= 0) {
			record(c, &c->tries[i], -1, "connection timed out");
			close_try(c, &c->tries[i]);
		}
	/* Addresses never tried are not recorded as attempts. */
	c->next = c->n;
	finish(c, -1, 0);
}

struct conn *conn_start(struct loop *l, const struct dns_addr *addrs, size_t n,
                        uint16_t port, double stagger_ms, double timeout_ms,
                        const struct conn_opts *o,
                        struct attempt *att, size_t *natt, size_t maxatt,
                        conn_cb cb, void *arg)
{
	struct conn *c;
	size_t i, k = 0, i6 = 0, i4 = 0;
	size_t n6 = 0, n4 = 0, idx6[CONN_MAX], idx4[CONN_MAX];

	if (n == 0)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	if (n > CONN_MAX)
		n = CONN_MAX;
	memcpy(c->addrs, addrs, n * sizeof(*addrs));
	c->n = n;
	for (i = 0; i < n; i++) {
		if (addrs[i].family == AF_INET6)
			idx6[n6++] = i;
		else
			idx4[n4++] = i;
	}
	/* RFC 8305 section 4: alternate families, IPv6 first. */
	while (i6 < n6 || i4 < n4) {
		if (i6 < n6)
			c->order[k++] = idx6[i6++];
		if (i4 < n4)
			c->order[k++] = idx4[i4++];
	}
	c->loop = l;
	c->port = port;
	if (o != NULL)
		c->o = *o;
	c->stagger_ms = stagger_ms;
	c->att = att;
	c->natt = natt;
	c->maxatt = maxatt;
	c->cb = cb;
	c->arg = arg;
	loop_timer_init(&c->stagger, on_stagger, c);
	loop_timer_init(&c->deadline, on_deadline, c);
	loop_timer_set(l, &c->deadline, timeout_ms);
	start_next(c);
	if (in_flight(c) == 0) {
		/* Every address failed at once (e.g. no IPv6 route): report from
		 * the loop, not from inside the caller. */
		loop_timer_set(l, &c->deadline, 0);
	}
	return c;
}

void conn_cancel(struct conn *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ntries; i++)
		close_try(c, &c->tries[i]);
	loop_timer_stop(c->loop, &c->stagger);
	loop_timer_stop(c->loop, &c->deadline);
	free(c);
}
