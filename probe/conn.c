/* Happy Eyeballs connect. A non-blocking connect is finished by reading
 * SO_ERROR when the socket turns writable (as redis' anet.c does). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "xmalloc.h"

#define CONN_MAX DNS_MAX_ADDRS

struct try {
	int fd;                      /* owned, -1 when done */
	size_t addr;                 /* index into addrs */
	size_t slot;                 /* index into att[], or (size_t)-1 */
	double started;
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
	struct attempt *att;         /* borrowed */
	size_t *natt, maxatt;
	conn_cb cb;
	void *arg;
};

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

static void on_ready(struct loop *l, int fd, unsigned events, void *arg)
{
	struct conn *c = arg;
	struct try *t = NULL;
	int soerr = 0, one = 1;
	socklen_t len = sizeof(soerr);
	size_t i;

	(void)l;
	(void)events;
	for (i = 0; i < c->ntries; i++)
		if (c->tries[i].fd == fd)
			t = &c->tries[i];
	if (t == NULL)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr == EINPROGRESS)
		return;
	if (soerr != 0) {
		record(c, t, -1, strerror(soerr));
		close_try(c, t);
		maybe_fail(c);
		return;
	}
	record(c, t, loop_now() - t->started, NULL);
	/* Nagle would hold our small commands behind the TLS 1.3 ticket. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	loop_del_fd(c->loop, fd);
	t->fd = -1;              /* handed over */
	finish(c, fd, t->addr);
}

static void start_next(struct conn *c)
{
	struct sockaddr_storage ss;
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
		t->slot = (size_t)-1;
		if (*c->natt < c->maxatt) {
			struct attempt *a = &c->att[*c->natt];

			memset(a, 0, sizeof(*a));
			t->slot = (*c->natt)++;
			conn_addr_text(&c->addrs[idx], a->address, sizeof(a->address));
			a->family = c->addrs[idx].family;
			a->connect_ms = -1;
		}
		memset(&ss, 0, sizeof(ss));
		if (c->addrs[idx].family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(c->port);
			memcpy(&s6->sin6_addr, c->addrs[idx].addr, 16);
			sslen = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			s4->sin_port = htons(c->port);
			memcpy(&s4->sin_addr, c->addrs[idx].addr, 4);
			sslen = sizeof(*s4);
		}
		fd = socket(c->addrs[idx].family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			record(c, t, -1, strerror(errno));
			continue;
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
