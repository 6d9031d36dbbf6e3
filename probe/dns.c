/* c-ares driven by our loop: ARES_OPT_SOCK_STATE_CB tells us which sockets
 * to watch, ares_process_fds() runs on readiness, and one loop timer is
 * re-armed from ares_timeout() after every step. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dns.h"
#include "xmalloc.h"

struct dns {
	struct loop *loop;                /* borrowed */
	ares_channel_t *ch;               /* owned */
	struct loop_timer timer;
	int *fds;                         /* owned: sockets being watched */
	size_t nfds, capfds;
	bool use_hosts;                   /* no --resolver: honour /etc/hosts */
};

enum q_kind { Q_RR, Q_ADDR, Q_SEC };

struct dns_query {
	struct dns *dns;                  /* borrowed */
	enum q_kind kind;
	bool cancelled;
	int pending;                      /* references: c-ares callbacks to come (+1 while submitting) */
	int waiting;                      /* A/AAAA answers still due */
	dns_rr_cb rr_cb;
	dns_addr_cb addr_cb;
	dns_sec_cb sec_cb;
	ares_dns_rec_type_t type;         /* Q_SEC: the type asked for */
	void *arg;
	char name[256];
	enum dns_err e4, e6;
	bool cname;
	char canonical[256];
	struct dns_addr a4[DNS_MAX_ADDRS], a6[DNS_MAX_ADDRS];
	size_t n4, n6;
};

const char *dns_err_name(enum dns_err e)
{
	static const char *const names[] = {
		"ok", "name does not exist (NXDOMAIN)", "no record of that type",
		"server failure (SERVFAIL)", "query refused", "timed out",
		"malformed answer", "lookup failed", "cancelled"
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == DNS_CANCELLED + 1, "dns names");
	return (unsigned)e <= DNS_CANCELLED ? names[e] : "lookup failed";
}

const char *dns_version(void)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "c-ares %s", ares_version(NULL));
	return buf;
}

static void dns_rearm(struct dns *d);

static void on_fd(struct loop *l, int fd, unsigned events, void *arg)
{
	struct dns *d = arg;
	ares_fd_events_t ev;

	(void)l;
	ev.fd = fd;
	ev.events = 0;
	if (events & LOOP_READ)
		ev.events |= ARES_FD_EVENT_READ;
	if (events & LOOP_WRITE)
		ev.events |= ARES_FD_EVENT_WRITE;
	ares_process_fds(d->ch, &ev, 1, ARES_PROCESS_FLAG_NONE);
	dns_rearm(d);
}

static void on_timer(struct loop *l, void *arg)
{
	struct dns *d = arg;

	(void)l;
	ares_process_fds(d->ch, NULL, 0, ARES_PROCESS_FLAG_NONE);
	dns_rearm(d);
}

static void dns_rearm(struct dns *d)
{
	struct timeval tv, *tvp;

	tvp = ares_timeout(d->ch, NULL, &tv);
	if (tvp == NULL && ares_queue_active_queries(d->ch) > 0) {
		/* A query c-ares re-queued after a connection error (ECONNREFUSED
		 * from a dead resolver) has no socket and no timeout yet: without
		 * another ares_process_fds() it would wait forever. */
		loop_timer_set(d->loop, &d->timer, 20);
		return;
	}
	if (tvp == NULL) {
		loop_timer_stop(d->loop, &d->timer);
		return;
	}
	loop_timer_set(d->loop, &d->timer,
	               (double)tvp->tv_sec * 1000.0 + (double)tvp->tv_usec / 1000.0);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = data;
	unsigned ev = (readable ? LOOP_READ : 0) | (writable ? LOOP_WRITE : 0);
	size_t i;

	for (i = 0; i < d->nfds; i++)
		if (d->fds[i] == fd)
			break;
	if (ev == 0) {
		if (i < d->nfds) {
			loop_del_fd(d->loop, fd);
			d->fds[i] = d->fds[--d->nfds];
		}
		return;
	}
	if (i < d->nfds) {
		loop_mod_fd(d->loop, fd, ev);
		return;
	}
	if (d->nfds == d->capfds) {
		size_t n = d->capfds ? d->capfds * 2 : 8;
		d->fds = xreallocarray(d->fds, n, sizeof(*d->fds));
		d->capfds = n;
	}
	if (loop_add_fd(d->loop, fd, ev, on_fd, d) == 0)
		d->fds[d->nfds++] = fd;
}

struct dns *dns_new(struct loop *l, const char *servers, double timeout_ms,
                    char *err, size_t errlen)
{
	struct ares_options opt;
	struct dns *d;
	int rc, mask;

	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares initialisation failed");
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->loop = l;
	loop_timer_init(&d->timer, on_timer, d);
	memset(&opt, 0, sizeof(opt));
	opt.sock_state_cb = on_sock_state;
	opt.sock_state_cb_data = d;
	/* Two tries per server, each bounded, so a dead resolver cannot hold a
	 * probe longer than its own step timeout. */
	/* c-ares doubles the per-try timeout on the retry: t/3 + 2t/3 = t. */
	opt.timeout = (int)(timeout_ms / 3 > 3000 ? 3000 : (timeout_ms / 3 < 200 ? 200 : timeout_ms / 3));
	opt.tries = 2;
	opt.flags = ARES_FLAG_EDNS | ARES_FLAG_NOSEARCH;
	opt.ednspsz = 1232;
	mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	       ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ;
	rc = ares_init_options(&d->ch, &opt, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot start DNS resolver: %s", ares_strerror(rc));
		free(d);
		return NULL;
	}
	if (servers != NULL) {
		rc = ares_set_servers_ports_csv(d->ch, servers);
		if (rc != ARES_SUCCESS) {
			snprintf(err, errlen, "bad --resolver '%s': %s", servers, ares_strerror(rc));
			ares_destroy(d->ch);
			free(d);
			return NULL;
		}
	} else {
		d->use_hosts = true;
	}
	return d;
}

void dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	/* Pending callbacks run with ARES_EDESTRUCTION and free their queries. */
	ares_destroy(d->ch);
	loop_timer_stop(d->loop, &d->timer);
	while (d->nfds > 0)
		loop_del_fd(d->loop, d->fds[--d->nfds]);
	free(d->fds);
	free(d);
}

static enum dns_err classify(ares_status_t st)
{
	switch (st) {
	case ARES_SUCCESS:      return DNS_OK;
	case ARES_ENOTFOUND:    return DNS_NXDOMAIN;
	case ARES_ENODATA:      return DNS_NODATA;
	case ARES_ESERVFAIL:    return DNS_SERVFAIL;
	case ARES_EREFUSED:     return DNS_REFUSED;
	case ARES_ETIMEOUT:     return DNS_TIMEOUT;
	case ARES_EBADRESP:
	case ARES_EFORMERR:
	case ARES_EBADNAME:     return DNS_BADRESP;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION: return DNS_CANCELLED;
	default:                return DNS_ERROR;
	}
}

static void q_release(struct dns_query *q)
{
	if (--q->pending == 0 && q->cancelled)
		free(q);
}

/* Drops the reference held across a submission. c-ares may call back from
 * inside the submitting call (a cached answer, an early error): then the
 * query is complete, and the caller gets NULL, having seen its callback. */
static struct dns_query *submitted(struct dns_query *q)
{
	bool done = q->cancelled;

	q_release(q);
	return done ? NULL : q;
}

static void rr_done(void *arg, ares_status_t st, size_t timeouts,
                    const ares_dns_record_t *rec)
{
	struct dns_query *q = arg;
	enum dns_err e = classify(st);

	(void)timeouts;
	if (!q->cancelled && e != DNS_CANCELLED)
		q->rr_cb(q->arg, e, (e == DNS_OK || e == DNS_NODATA) ? rec : NULL);
	else if (!q->cancelled)
		q->rr_cb(q->arg, DNS_CANCELLED, NULL);
	q->cancelled = true;
	q_release(q);
}

struct dns_query *dns_query_rr(struct dns *d, const char *name,
                               ares_dns_rec_type_t type, dns_rr_cb cb, void *arg)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));
	ares_status_t st;

	q->dns = d;
	q->kind = Q_RR;
	q->rr_cb = cb;
	q->arg = arg;
	q->pending = 2;   /* one for c-ares, one held across the submission */
	snprintf(q->name, sizeof(q->name), "%s", name);
	st = ares_query_dnsrec(d->ch, name, ARES_CLASS_IN, type, rr_done, q, NULL);
	if (st != ARES_SUCCESS && !q->cancelled) {
		/* c-ares did not take it and did not call back. */
		q->cancelled = true;
		q->pending = 1;
	}
	dns_rearm(d);
	return submitted(q);
}

/* ares_send_dnsrec reports any well-formed answer as success: the RCODE
 * and the answer section say what it really was. */
static enum dns_err classify_answer(const struct dns_query *q, const ares_dns_record_t *rec)
{
	size_t i, n;

	switch (ares_dns_record_get_rcode(rec)) {
	case ARES_RCODE_NOERROR:  break;
	case ARES_RCODE_NXDOMAIN: return DNS_NXDOMAIN;
	case ARES_RCODE_SERVFAIL: return DNS_SERVFAIL;
	case ARES_RCODE_REFUSED:  return DNS_REFUSED;
	case ARES_RCODE_FORMERR:  return DNS_BADRESP;
	default:                  return DNS_ERROR;
	}
	n = ares_dns_record_rr_cnt(rec, ARES_SECTION_ANSWER);
	for (i = 0; i < n; i++) {
		const ares_dns_rr_t *rr = ares_dns_record_rr_get_const(rec, ARES_SECTION_ANSWER, i);

		if (ares_dns_rr_get_type(rr) == q->type)
			return DNS_OK;
	}
	return DNS_NODATA;
}

static void sec_done(void *arg, ares_status_t st, size_t timeouts,
                     const ares_dns_record_t *rec)
{
	struct dns_query *q = arg;
	enum dns_err e = classify(st);
	bool ad = false;

	(void)timeouts;
	if (e == DNS_OK && rec == NULL)
		e = DNS_BADRESP;
	else if (e == DNS_OK)
		e = classify_answer(q, rec);
	if (rec != NULL && (e == DNS_OK || e == DNS_NODATA || e == DNS_NXDOMAIN))
		ad = (ares_dns_record_get_flags(rec) & ARES_FLAG_AD) != 0;
	if (!q->cancelled)
		q->sec_cb(q->arg, e, ad, (e == DNS_OK || e == DNS_NODATA) ? rec : NULL);
	q->cancelled = true;
	q_release(q);
}

struct dns_query *dns_query_dnssec(struct dns *d, const char *name,
                                   ares_dns_rec_type_t type, dns_sec_cb cb, void *arg)
{
	struct dns_query *q = NULL;
	ares_dns_record_t *req = NULL;
	ares_dns_rr_t *opt = NULL;
	ares_status_t st;
	unsigned short id = 0;

	if (ares_dns_record_create(&req, 0, ARES_FLAG_RD | ARES_FLAG_AD, ARES_OPCODE_QUERY,
	                           ARES_RCODE_NOERROR) != ARES_SUCCESS)
		goto fail;
	if (ares_dns_record_query_add(req, name, type, ARES_CLASS_IN) != ARES_SUCCESS)
		goto fail;
	/* OPT RR: UDP payload size, version 0, DO bit (the top bit of the flags). */
	if (ares_dns_record_rr_add(&opt, req, ARES_SECTION_ADDITIONAL, "", ARES_REC_TYPE_OPT,
	                           ARES_CLASS_IN, 0) != ARES_SUCCESS ||
	    ares_dns_rr_set_u16(opt, ARES_RR_OPT_UDP_SIZE, 1232) != ARES_SUCCESS ||
	    ares_dns_rr_set_u8(opt, ARES_RR_OPT_VERSION, 0) != ARES_SUCCESS ||
	    ares_dns_rr_set_u16(opt, ARES_RR_OPT_FLAGS, 0x8000) != ARES_SUCCESS)
		goto fail;
	q = xcalloc(1, sizeof(*q));
	q->dns = d;
	q->kind = Q_SEC;
	q->sec_cb = cb;
	q->type = type;
	q->arg = arg;
	q->pending = 2;   /* one for c-ares, one held across the submission */
	snprintf(q->name, sizeof(q->name), "%s", name);
	st = ares_send_dnsrec(d->ch, req, sec_done, q, &id);
	ares_dns_record_destroy(req);
	if (st != ARES_SUCCESS && !q->cancelled) {
		q->cancelled = true;
		q->pending = 1;
	}
	dns_rearm(d);
	return submitted(q);
fail:
	ares_dns_record_destroy(req);
	return NULL;
}

/* Collects the A or AAAA records of the answer section. The answer may carry
 * a CNAME chain; we accept addresses for the name or any alias it led to. */
bool dns_name_eq(const char *x, const char *y)
{
	size_t lx, ly;

	if (x == NULL || y == NULL)
		return false;
	lx = strlen(x);
	ly = strlen(y);
	if (lx > 0 && x[lx - 1] == '.')
		lx--;
	if (ly > 0 && y[ly - 1] == '.')
		ly--;
	return lx == ly && strncasecmp(x, y, lx) == 0;
}

const char *dns_err_code(enum dns_err e)
{
	switch (e) {
	case DNS_NXDOMAIN: return "dns-nxdomain";
	case DNS_NODATA:   return "dns-no-address";
	case DNS_SERVFAIL: return "dns-servfail";
	case DNS_TIMEOUT:  return "dns-timeout";
	default:           return "dns-error";
	}
}

#define CNAME_HOPS 8

/* Collects the A or AAAA records of the answer section that belong to the
 * name asked, or to the end of a CNAME chain starting there. Records owned
 * by any other name are ignored: a resolver (or a spoofer) must not be able
 * to send us elsewhere by adding them. */
static void collect(struct dns_query *q, const ares_dns_record_t *rec, int family)
{
	size_t i, n = ares_dns_record_rr_cnt(rec, ARES_SECTION_ANSWER);
	struct dns_addr *out = family == AF_INET ? q->a4 : q->a6;
	size_t *nout = family == AF_INET ? &q->n4 : &q->n6;
	const char *owner = q->name;       /* the name addresses must belong to */
	int hop;

	/* Follow the chain, in any order the records came, a bounded number
	 * of hops (a loop simply ends the walk). */
	for (hop = 0; hop < CNAME_HOPS; hop++) {
		const char *next = NULL;

		for (i = 0; i < n; i++) {
			const ares_dns_rr_t *rr = ares_dns_record_rr_get_const(rec, ARES_SECTION_ANSWER, i);

			if (ares_dns_rr_get_type(rr) == ARES_REC_TYPE_CNAME &&
			    dns_name_eq(ares_dns_rr_get_name(rr), owner)) {
				next = ares_dns_rr_get_str(rr, ARES_RR_CNAME_CNAME);
				break;
			}
		}
		if (next == NULL || next[0] == '\0')
			break;
		q->cname = true;
		snprintf(q->canonical, sizeof(q->canonical), "%s", next);
		owner = next;
	}
	for (i = 0; i < n && *nout < DNS_MAX_ADDRS; i++) {
		const ares_dns_rr_t *rr = ares_dns_record_rr_get_const(rec, ARES_SECTION_ANSWER, i);
		struct dns_addr a;
		size_t k;

		if (!dns_name_eq(ares_dns_rr_get_name(rr), owner))
			continue;
		memset(&a, 0, sizeof(a));
		if (family == AF_INET && ares_dns_rr_get_type(rr) == ARES_REC_TYPE_A) {
			const struct in_addr *ia = ares_dns_rr_get_addr(rr, ARES_RR_A_ADDR);

			if (ia == NULL)
				continue;
			a.family = AF_INET;
			memcpy(a.addr, ia, 4);
		} else if (family == AF_INET6 && ares_dns_rr_get_type(rr) == ARES_REC_TYPE_AAAA) {
			const struct ares_in6_addr *ia = ares_dns_rr_get_addr6(rr, ARES_RR_AAAA_ADDR);

			if (ia == NULL)
				continue;
			a.family = AF_INET6;
			memcpy(a.addr, ia, 16);
		} else {
			continue;
		}
		for (k = 0; k < *nout; k++)
			if (memcmp(&out[k], &a, sizeof(a)) == 0)
				break;
		if (k == *nout)
			out[(*nout)++] = a;
	}
}

static void addr_finish(struct dns_query *q)
{
	struct dns_addr all[DNS_MAX_ADDRS];
	struct dns_answer a;
	size_t n = 0, i;

	for (i = 0; i < q->n6 && n < DNS_MAX_ADDRS; i++)
		all[n++] = q->a6[i];
	for (i = 0; i < q->n4 && n < DNS_MAX_ADDRS; i++)
		all[n++] = q->a4[i];
	memset(&a, 0, sizeof(a));
	a.e4 = q->e4;
	a.e6 = q->e6;
	a.addrs = all;
	a.n = n;
	a.cname = q->cname;
	snprintf(a.canonical, sizeof(a.canonical), "%s", q->cname ? q->canonical : q->name);
	q->addr_cb(q->arg, &a);
}

static void addr_cancelled(struct dns_query *q)
{
	struct dns_answer a;

	memset(&a, 0, sizeof(a));
	a.e4 = a.e6 = DNS_CANCELLED;
	q->addr_cb(q->arg, &a);
}

static void addr_done(struct dns_query *q, int family, ares_status_t st,
                      const ares_dns_record_t *rec)
{
	enum dns_err e = classify(st);

	if (rec != NULL && (e == DNS_OK || e == DNS_NODATA)) {
		collect(q, rec, family);
		if (e == DNS_OK && (family == AF_INET ? q->n4 : q->n6) == 0)
			e = DNS_NODATA;  /* only a CNAME, or answers for another name */
	}
	if (family == AF_INET)
		q->e4 = e;
	else
		q->e6 = e;
	if (--q->waiting == 0) {
		if (!q->cancelled && q->e4 != DNS_CANCELLED && q->e6 != DNS_CANCELLED)
			addr_finish(q);
		else if (!q->cancelled)
			addr_cancelled(q);
		q->cancelled = true;
	}
	q_release(q);
}

static void a_done(void *arg, ares_status_t st, size_t t, const ares_dns_record_t *rec)
{
	(void)t;
	addr_done(arg, AF_INET, st, rec);
}

static void aaaa_done(void *arg, ares_status_t st, size_t t, const ares_dns_record_t *rec)
{
	(void)t;
	addr_done(arg, AF_INET6, st, rec);
}

/* /etc/hosts (and RFC 6761 "localhost") when no --resolver was named, as
 * every other tool on the system would resolve the name. */
static bool from_hosts(struct dns *d, struct dns_query *q, bool want4, bool want6)
{
	static const unsigned char v6lo[16] = { [15] = 1 };
	size_t len = strlen(q->name);

	if (strcasecmp(q->name, "localhost") == 0 ||
	    (len > 10 && strcasecmp(q->name + len - 10, ".localhost") == 0)) {
		if (want6) {
			q->a6[0].family = AF_INET6;
			memcpy(q->a6[0].addr, v6lo, 16);
			q->n6 = 1;
		}
		if (want4) {
			q->a4[0].family = AF_INET;
			q->a4[0].addr[0] = 127;
			q->a4[0].addr[3] = 1;
			q->n4 = 1;
		}
		return true;
	}
	if (!d->use_hosts)
		return false;
	for (int fam = 0; fam < 2; fam++) {
		int af = fam == 0 ? AF_INET6 : AF_INET;
		struct hostent *he = NULL;

		if ((af == AF_INET6 && !want6) || (af == AF_INET && !want4))
			continue;
		if (ares_gethostbyname_file(d->ch, q->name, af, &he) != ARES_SUCCESS || he == NULL)
			continue;
		for (size_t i = 0; he->h_addr_list[i] != NULL; i++) {
			struct dns_addr *out = af == AF_INET ? q->a4 : q->a6;
			size_t *n = af == AF_INET ? &q->n4 : &q->n6;

			if (*n == DNS_MAX_ADDRS || he->h_length != (af == AF_INET ? 4 : 16))
				break;
			out[*n].family = af;
			memcpy(out[*n].addr, he->h_addr_list[i], (size_t)he->h_length);
			(*n)++;
		}
		ares_free_hostent(he);
	}
	return q->n4 + q->n6 > 0;
}

static void hosts_deliver(struct loop *l, void *arg)
{
	struct dns_query *q = arg;

	(void)l;
	if (!q->cancelled) {
		q->e4 = q->n4 ? DNS_OK : DNS_NODATA;
		q->e6 = q->n6 ? DNS_OK : DNS_NODATA;
		addr_finish(q);
	}
	q->cancelled = true;
	q_release(q);
}

struct dns_query *dns_resolve(struct dns *d, const char *name, bool want4,
                              bool want6, dns_addr_cb cb, void *arg)
{
	struct dns_query *q = xcalloc(1, sizeof(*q) + sizeof(struct loop_timer));

	q->dns = d;
	q->kind = Q_ADDR;
	q->addr_cb = cb;
	q->arg = arg;
	q->e4 = q->e6 = DNS_NODATA;
	snprintf(q->name, sizeof(q->name), "%s", name);
	if (from_hosts(d, q, want4, want6)) {
		/* Deliver from the loop, never from inside the caller. */
		struct loop_timer *t = (struct loop_timer *)(q + 1);

		q->pending = 1;
		loop_timer_init(t, hosts_deliver, q);
		loop_timer_set(d->loop, t, 0);
		return q;
	}
	q->pending = (want4 ? 1 : 0) + (want6 ? 1 : 0);
	if (q->pending == 0) {
		free(q);
		return NULL;
	}
	q->waiting = q->pending;
	q->pending++;   /* held across the submission */
	/* AAAA and A go out together (RFC 8305 section 3). */
	if (want6)
		ares_query_dnsrec(d->ch, name, ARES_CLASS_IN, ARES_REC_TYPE_AAAA, aaaa_done, q, NULL);
	if (want4)
		ares_query_dnsrec(d->ch, name, ARES_CLASS_IN, ARES_REC_TYPE_A, a_done, q, NULL);
	dns_rearm(d);
	return submitted(q);
}

void dns_cancel(struct dns_query *q)
{
	if (q != NULL)
		q->cancelled = true;
}

void dns_local_fqdn(struct dns *d, char *out, size_t outlen)
{
	char name[256];
	struct hostent *he = NULL;

	if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0')
		snprintf(name, sizeof(name), "localhost");
	name[sizeof(name) - 1] = '\0';
	if (strchr(name, '.') == NULL &&
	    ares_gethostbyname_file(d->ch, name, AF_INET, &he) == ARES_SUCCESS && he != NULL) {
		if (he->h_name != NULL && strchr(he->h_name, '.') != NULL)
			snprintf(name, sizeof(name), "%s", he->h_name);
		else
			for (size_t i = 0; he->h_aliases && he->h_aliases[i]; i++)
				if (strchr(he->h_aliases[i], '.') != NULL) {
					snprintf(name, sizeof(name), "%s", he->h_aliases[i]);
					break;
				}
		ares_free_hostent(he);
	}
	snprintf(out, outlen, "%s", name);
}

/* An SRV record's place in the order: lower priority first, then higher
 * weight, then the name (so equal records sort the same way every time). */
static int srv_cmp(const struct dns_srv *a, const struct dns_srv *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return strcasecmp(a->target, b->target);
}

size_t dns_srv_collect(const ares_dns_record_t *rec, const char *name, struct dns_srv *out,
                       size_t max, size_t *total, bool *refused)
{
	size_t i, n = 0, nrr;

	*total = 0;
	*refused = false;
	if (rec == NULL)
		return 0;
	nrr = ares_dns_record_rr_cnt(rec, ARES_SECTION_ANSWER);
	for (i = 0; i < nrr; i++) {
		const ares_dns_rr_t *rr = ares_dns_record_rr_get_const(rec, ARES_SECTION_ANSWER, i);
		struct dns_srv s;
		const char *t;
		size_t k, len;

		if (ares_dns_rr_get_type(rr) != ARES_REC_TYPE_SRV ||
		    !dns_name_eq(ares_dns_rr_get_name(rr), name))
			continue;
		(*total)++;
		memset(&s, 0, sizeof(s));
		s.priority = ares_dns_rr_get_u16(rr, ARES_RR_SRV_PRIORITY);
		s.weight = ares_dns_rr_get_u16(rr, ARES_RR_SRV_WEIGHT);
		s.port = ares_dns_rr_get_u16(rr, ARES_RR_SRV_PORT);
		t = ares_dns_rr_get_str(rr, ARES_RR_SRV_TARGET);
		if (t == NULL)
			t = "";
		len = strlen(t);
		if (len > 0 && t[len - 1] == '.')
			len--;
		if (len >= sizeof(s.target))
			continue;
		memcpy(s.target, t, len);
		s.target[len] = '\0';
		/* Insertion into the best max: O(records x max), bounded. */
		for (k = n; k > 0 && srv_cmp(&s, &out[k - 1]) < 0; k--)
			if (k < max)
				out[k] = out[k - 1];
		if (k < max) {
			out[k] = s;
			if (n < max)
				n++;
		}
	}
	if (*total == 1 && n == 1 && out[0].target[0] == '\0')
		*refused = true;
	return n;
}
