/* Exporter mode: HTTP/1.1 in the run's event loop. Every connection gets a
 * fixed slot with a bounded request-head buffer, a read deadline and one
 * answer followed by Connection: close, so a hostile client costs at most
 * one slot for a few seconds; one client address holds few slots without a
 * request, and the oldest such slot is shed when all are taken. An open
 * exporter makes this host connect wherever it is told (SSRF): targets must
 * match a --serve-allow pattern (address patterns only address literals,
 * name patterns only names), with none every probe is refused, and
 * --serve-allow-net confines the addresses actually connected to. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "fanout.h"
#include "http.h"
#include "render.h"
#include "serve.h"
#include "serve_module.h"
#include "target.h"
#include "xmalloc.h"

#define SERVE_MAX_HEAD     8192     /* request line + headers (431 beyond) */
#define SERVE_MAX_VALUE    1024     /* one decoded query value (a target spec) */
#define SERVE_READ_MS      10000.0  /* whole request head, not per byte: slowloris */
#define SERVE_WRITE_MS     10000.0  /* a client that does not read its answer */
#define SERVE_LINGER_MS    2000.0   /* see conn_answered() */
#define SERVE_LINGER_MAX   65536    /* bytes discarded after the answer */
#define SERVE_GRACE_MS     5000.0   /* probes in flight at SIGTERM may finish */
#define SERVE_HARD_STOP_MS 8000.0   /* then everything is closed regardless */
#define SERVE_SPARE_CONNS  48       /* connections beyond --concurrency */
#define SERVE_SCRAPE_SLACK 500.0    /* ms kept for the answer to reach Prometheus */
#define SERVE_IDLE_PER_ADDR 8       /* connections without a whole request, per client address */

#define PROM_CTYPE "text/plain; version=0.0.4; charset=utf-8"

/* Status codes the exporter answers with; the index is the metric's. */
static const struct { int code; const char *reason; } serve_codes[] = {
	{ 200, "OK" }, { 400, "Bad Request" }, { 403, "Forbidden" },
	{ 404, "Not Found" }, { 405, "Method Not Allowed" },
	{ 408, "Request Timeout" }, { 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" }, { 503, "Service Unavailable" },
};
#define NCODES (sizeof(serve_codes) / sizeof(serve_codes[0]))

enum sconn_state { SC_FREE = 0, SC_READ, SC_QUEUED, SC_PROBE, SC_WRITE, SC_LINGER };

struct server;

struct sconn {
	struct server *srv;              /* borrowed */
	enum sconn_state st;
	int fd;                          /* owned; -1 when the slot is free */
	bool head_only;                  /* HEAD: headers, no body */
	bool html;                       /* GET /report: the HTML page, not metrics */
	char in[SERVE_MAX_HEAD];         /* the request head, never more */
	size_t nin;
	size_t lingered;
	char *out;                       /* owned: the whole answer */
	size_t nout, off;
	double t0;                       /* accept time (monotonic ms) */
	struct sockaddr_storage peer;    /* the client's address */
	double budget_ms;                /* time allowed until the answer */
	uint64_t seq;                    /* arrival order, for the queue */
	struct loop_timer io_timer;      /* read, write or linger deadline */
	struct loop_timer deadline;      /* answer-by for a probe request */
	/* The probe runs with parameters of its own: the run's, plus the
	 * request's (and a module's: then also options of its own). */
	struct probe_params params;
	struct options opt;              /* only when module is true */
	bool module;
	struct target t;
	char spec[SERVE_MAX_VALUE + 1];
	char servername[254];
	struct result r;
	struct probe *s;                 /* owned */
	struct fanout *fo;               /* owned: all_addresses, one probe per address */
	bool probe_done;
	bool shutdown_abort;             /* aborted by SIGTERM: answer 503 */
	bool debug;                      /* debug=true: the dialogue, then the metrics */
	char why[SERVE_MODULE_LINE];     /* a refusal's text, when it is built */
};

struct server {
	const struct probe_env *env;     /* borrowed */
	const struct options *opt;       /* borrowed */
	struct loop *loop;               /* borrowed */
	int lfd;                         /* owned; -1 once closed */
	int sigfd;                       /* borrowed */
	bool accepting;                  /* lfd watched for reads */
	bool stopping;
	struct sconn *conns;             /* owned, maxconns slots */
	size_t nconns, maxconns;
	size_t in_flight, max_in_flight, queued;
	uint64_t next_seq;
	struct loop_timer reap_timer, retry_timer, stop_timer;
	struct serve_net nets[OPT_MAX_ALLOW];  /* --serve-allow-net */
	size_t nnets;
	uint64_t requests[NCODES];
	uint64_t probes, probe_failures, accepted;
	time_t started;
};

/* ---- addresses and patterns (pure) ---- */

int serve_addr_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen,
                     char *err, size_t errlen)
{
	char host[64];
	const char *port, *close_br;
	uint16_t p = 0;
	int rc = -1;

	memset(ss, 0, sizeof(*ss));
	if (spec[0] == '[') {
		close_br = strchr(spec, ']');
		if (close_br == NULL || close_br[1] != ':' ||
		    (size_t)(close_br - spec - 1) >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, (size_t)(close_br - spec - 1));
		host[close_br - spec - 1] = '\0';
		port = close_br + 2;
	} else {
		const char *c = strrchr(spec, ':');

		if (c == NULL || memchr(spec, ':', (size_t)(c - spec)) != NULL ||
		    (size_t)(c - spec) >= sizeof(host))
			goto bad;
		if (c == spec)
			snprintf(host, sizeof(host), "%s", SERVE_DEFAULT_ADDR);
		else {
			memcpy(host, spec, (size_t)(c - spec));
			host[c - spec] = '\0';
		}
		port = c + 1;
	}
	/* Port 0 asks the kernel for a free one (printed at startup). */
	if (strcmp(port, "0") != 0 && target_port(port, &p) != 0)
		goto bad;
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			goto bad;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p);
		*sslen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			goto bad;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(p);
		*sslen = sizeof(*s4);
	}
	rc = 0;
	goto done;
bad:
	snprintf(err, errlen, "bad --serve '%.80s': want IP:PORT, [IPv6]:PORT or :PORT "
	         "(loopback)", spec);
done:
	return rc;
}

/* Splits a pattern (or nothing else) into host and port parts; port is
 * NULL when the pattern names no port. */
static int pattern_split(const char *pat, char *host, size_t hostlen, const char **port)
{
	const char *c;
	size_t n;

	*port = NULL;
	if (pat[0] == '[') {
		c = strchr(pat, ']');
		if (c == NULL || (c[1] != '\0' && c[1] != ':'))
			return -1;
		n = (size_t)(c - pat - 1);
		if (c[1] == ':')
			*port = c + 2;
		pat++;
	} else {
		c = strchr(pat, ':');
		/* More than one colon and no brackets: a bare IPv6 glob. */
		if (c != NULL && strchr(c + 1, ':') == NULL) {
			n = (size_t)(c - pat);
			*port = c + 1;
		} else {
			n = strlen(pat);
		}
	}
	if (n == 0 || n >= hostlen || (*port != NULL && **port == '\0'))
		return -1;
	memcpy(host, pat, n);
	host[n] = '\0';
	return 0;
}

int serve_pattern_check(const char *pattern, char *err, size_t errlen)
{
	char host[256];
	const char *port, *p;

	for (p = pattern; *p; p++)
		if (!isgraph((unsigned char)*p))
			break;
	if (*p != '\0' || strlen(pattern) > 300 ||
	    pattern_split(pattern, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen, "bad --serve-allow '%.80s': want HOSTGLOB[:PORTGLOB] or "
		         "[IPv6GLOB][:PORTGLOB]", pattern);
		return -1;
	}
	return 0;
}

enum pat_kind { PAT_ANY, PAT_ADDR, PAT_NAME };

/* What a pattern's host part can match. Bracketed or with a colon: IPv6
 * addresses. Digits, dots and glob characters only: IPv4 addresses (so
 * '127.0.0.*' never matches the name 127.0.0.1.attacker.example, which
 * may resolve anywhere). Anything with another character: names. Only
 * dots and glob characters ('*'): both. */
static enum pat_kind pattern_kind(const char *pat, const char *host)
{
	bool digit = false;
	const char *p;

	if (pat[0] == '[' || strchr(host, ':') != NULL)
		return PAT_ADDR;
	for (p = host; *p; p++) {
		if (isdigit((unsigned char)*p))
			digit = true;
		else if (strchr(".*?[]!-", *p) == NULL)
			return PAT_NAME;
	}
	return digit ? PAT_ADDR : PAT_ANY;
}

bool serve_allowed(const char *const *patterns, size_t n, const char *host, int literal,
                   uint16_t port)
{
	char h[256], ps[8], addr[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	const char *pp, *subject = host;
	size_t i;

	/* An address is matched in its canonical form (inet_ntop), so
	 * '::1' and '0:0::1' are the same target. */
	if (literal != 0) {
		if (inet_pton(literal, host, bin) != 1 ||
		    inet_ntop(literal, bin, addr, sizeof(addr)) == NULL)
			return false;
		subject = addr;
	}
	snprintf(ps, sizeof(ps), "%u", (unsigned)port);
	for (i = 0; i < n; i++) {
		enum pat_kind k;

		if (pattern_split(patterns[i], h, sizeof(h), &pp) != 0)
			continue;
		k = pattern_kind(patterns[i], h);
		if ((k == PAT_ADDR && literal == 0) || (k == PAT_NAME && literal != 0))
			continue;
		if (fnmatch(h, subject, FNM_CASEFOLD) != 0)
			continue;
		if (pp == NULL || fnmatch(pp, ps, 0) == 0)
			return true;
	}
	return false;
}

int serve_net_parse(const char *spec, struct serve_net *net, char *err, size_t errlen)
{
	char a[INET6_ADDRSTRLEN + 2];
	const char *slash = strchr(spec, '/');
	size_t alen = slash ? (size_t)(slash - spec) : strlen(spec);
	unsigned long pfx;
	char *end;

	memset(net, 0, sizeof(*net));
	if (alen == 0 || alen >= sizeof(a))
		goto bad;
	memcpy(a, spec, alen);
	a[alen] = '\0';
	if (inet_pton(AF_INET, a, net->addr) == 1)
		net->family = AF_INET;
	else if (inet_pton(AF_INET6, a, net->addr) == 1)
		net->family = AF_INET6;
	else
		goto bad;
	net->prefix = net->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (!isdigit((unsigned char)slash[1]))
			goto bad;
		errno = 0;
		pfx = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || pfx > net->prefix)
			goto bad;
		net->prefix = (unsigned)pfx;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad --serve-allow-net '%.80s': want ADDRESS/PREFIX, e.g. "
	         "192.0.2.0/24 or 2001:db8::/32", spec);
	return -1;
}

bool serve_net_contains(const struct serve_net *nets, size_t n, int family,
                        const unsigned char *addr)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	size_t i;

	/* ::ffff:a.b.c.d reaches the IPv4 address a.b.c.d: judge it as that. */
	if (family == AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0) {
		family = AF_INET;
		addr += 12;
	}
	for (i = 0; i < n; i++) {
		const struct serve_net *t = &nets[i];
		unsigned full = t->prefix / 8, rest = t->prefix % 8;

		if (t->family != family)
			continue;
		if (memcmp(t->addr, addr, full) != 0)
			continue;
		if (rest != 0 && ((t->addr[full] ^ addr[full]) & (0xff00 >> rest) & 0xff) != 0)
			continue;
		return true;
	}
	return false;
}

static bool addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* ---- connections ---- */

static void sconn_close(struct sconn *c);
static void srv_reap_soon(struct server *srv);

static size_t code_index(int code)
{
	size_t i;

	for (i = 0; i < NCODES; i++)
		if (serve_codes[i].code == code)
			return i;
	return 7;   /* 500: a code missing from the table is our bug */
}

static void srv_pause_accept(struct server *srv)
{
	if (srv->accepting && srv->lfd >= 0) {
		loop_mod_fd(srv->loop, srv->lfd, 0);
		srv->accepting = false;
	}
}

static void srv_resume_accept(struct server *srv)
{
	if (!srv->accepting && srv->lfd >= 0 && !srv->stopping) {
		loop_mod_fd(srv->loop, srv->lfd, LOOP_READ);
		srv->accepting = true;
	}
}

/* Queues the whole answer and starts writing it. The body is copied;
 * after this the request is done with, whatever the write does. */
static void conn_answer(struct sconn *c, int code, const char *ctype, const char *extra,
                        const char *body, size_t bodylen)
{
	struct server *srv = c->srv;
	size_t ci = code_index(code);
	char head[512];
	int hl;

	srv->requests[ci]++;
	hl = snprintf(head, sizeof(head),
	              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	              "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
	              serve_codes[ci].code, serve_codes[ci].reason, ctype, bodylen,
	              extra ? extra : "");
	if (hl < 0 || (size_t)hl >= sizeof(head)) {
		sconn_close(c);
		return;
	}
	if (c->head_only)
		bodylen = 0;
	free(c->out);
	c->out = xmalloc((size_t)hl + bodylen + 1);
	memcpy(c->out, head, (size_t)hl);
	if (bodylen > 0)
		memcpy(c->out + hl, body, bodylen);
	c->nout = (size_t)hl + bodylen;
	c->off = 0;
	c->st = SC_WRITE;
	loop_timer_stop(srv->loop, &c->deadline);
	loop_timer_set(srv->loop, &c->io_timer, SERVE_WRITE_MS);
	loop_mod_fd(srv->loop, c->fd, LOOP_WRITE);
}

static void conn_text(struct sconn *c, int code, const char *msg)
{
	conn_answer(c, code, "text/plain; charset=utf-8",
	            code == 405 ? "Allow: GET, HEAD\r\n" :
	            code == 503 ? "Retry-After: 5\r\n" : NULL, msg, strlen(msg));
}

/* After the answer, close our side but keep reading for a moment: closing
 * with unread request bytes in the socket makes the kernel send a reset,
 * which can destroy the answer before the client has read it. */
static void conn_answered(struct sconn *c)
{
	struct server *srv = c->srv;

	free(c->out);
	c->out = NULL;
	shutdown(c->fd, SHUT_WR);
	c->st = SC_LINGER;
	loop_timer_set(srv->loop, &c->io_timer, SERVE_LINGER_MS);
	loop_mod_fd(srv->loop, c->fd, LOOP_READ);
}

static void conn_write(struct sconn *c)
{
	while (c->off < c->nout) {
		ssize_t n = send(c->fd, c->out + c->off, c->nout - c->off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			sconn_close(c);
			return;
		}
		c->off += (size_t)n;
	}
	conn_answered(c);
}

static void conn_linger(struct sconn *c)
{
	char scratch[4096];
	ssize_t n = read(c->fd, scratch, sizeof(scratch));

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		sconn_close(c);
		return;
	}
	c->lingered += (size_t)n;
	if (c->lingered > SERVE_LINGER_MAX)
		sconn_close(c);
}

/* ---- the query string ---- */

/* Strict decimal 0..max. */
static int parse_num(const char *s, long max, long *v)
{
	long x = 0;

	if (*s == '\0' || strlen(s) > 9)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		x = x * 10 + (*s - '0');
	}
	if (x > max)
		return -1;
	*v = x;
	return 0;
}

enum { P_TARGET, P_MODULE, P_SERVERNAME, P_WARN, P_CRIT, P_DEBUG, P_COUNT };
static const char *const param_names[P_COUNT] = {
	"target", "module", "servername", "warn_days", "crit_days", "debug"
};

/* Splits and decodes the query into vals[] (have[] says which came). The
 * answer never quotes the request: a message names only what we expected. */
static const char *query_parse(const char *q, size_t qlen,
                               char vals[P_COUNT][SERVE_MAX_VALUE + 1], bool have[P_COUNT])
{
	switch (http_query_parse(q, qlen, param_names, P_COUNT, &vals[0][0], SERVE_MAX_VALUE + 1,
	                         have)) {
	case HTTPQ_OK:
		return NULL;
	case HTTPQ_NO_VALUE:
		return "a query parameter has no value\n";
	case HTTPQ_TWICE:
		return "a query parameter is given twice\n";
	case HTTPQ_BAD_VALUE:
		return "a query value is too long, badly percent-encoded or not printable ASCII\n";
	default:
		return "unknown query parameter: /probe knows target, module, servername, "
		       "warn_days, crit_days and debug\n";
	}
}

/* The answer to an unknown module= value: the names this exporter has
 * (ours, never the request's). */
static const char *module_names(char *buf, size_t len)
{
	size_t n = serve_module_count();

	if (n == 0) {
		snprintf(buf, len, "unknown module: this exporter has no modules "
		         "(--serve-module NAME:OPTIONS)\n");
		return buf;
	}
	snprintf(buf, len, "unknown module: this exporter has");
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, "%s %s", i ? "," : "", serve_module_at(i)->name);
	}
	if (strlen(buf) + 2 < len)
		strcat(buf, "\n");
	return buf;
}

/* ---- probes ---- */

/* probe_env.addr_ok with --serve-allow-net. */
static bool srv_addr_ok(const void *arg, const struct dns_addr *a)
{
	const struct server *srv = arg;

	return serve_net_contains(srv->nets, srv->nnets, a->family, a->addr);
}

static void on_probe_done(void *arg, struct probe *s)
{
	struct sconn *c = arg;

	(void)s;                         /* freed by the reaper, never here */
	c->probe_done = true;
	srv_reap_soon(c->srv);
}

static void on_fanout_done(void *arg, struct fanout *f)
{
	struct sconn *c = arg;

	(void)f;
	c->probe_done = true;
	srv_reap_soon(c->srv);
}

static void sconn_probe_start(struct sconn *c)
{
	struct server *srv = c->srv;
	const struct options *o = c->module ? &c->opt : srv->opt;

	c->st = SC_PROBE;
	c->probe_done = false;
	srv->in_flight++;
	srv->probes++;
	if (srv->nnets > 0) {
		c->params.addr_ok = srv_addr_ok;
		c->params.addr_ok_arg = srv;
	}
	/* all_addresses: a series per address of the name (the HTML page
	 * stays one probe). */
	if (o->all_addresses && !c->t.literal && !c->html) {
		c->fo = fanout_new(srv->env, &c->params, &c->t, c->spec, false, on_fanout_done, c);
		fanout_start(c->fo);
		return;
	}
	c->s = probe_new(srv->env, &c->params, &c->t, c->spec, &c->r, on_probe_done, c);
	/* The callback may run inside start (a literal of the wrong family):
	 * the reaper handles that like any other end. */
	probe_start(c->s);
}

/* Served pages: the report's own policy as a header too, and nothing that
 * lets a browser guess another type or leak the target in a Referer. */
static void html_send(struct sconn *c, int code, const char *body, size_t len)
{
	char extra[400];

	snprintf(extra, sizeof(extra), "Content-Security-Policy: %s\r\n"
	         "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
	         "X-Frame-Options: DENY\r\n", render_html_csp);
	conn_answer(c, code, "text/html; charset=utf-8", extra, body, len);
}

static void html_answer(struct sconn *c, const struct render_opts *ro)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);

	if (f == NULL) {
		conn_text(c, 500, "out of memory\n");
		return;
	}
	render_html(f, &c->r, ro);
	if (fclose(f) != 0 || body == NULL) {
		free(body);
		conn_text(c, 500, "out of memory\n");
		return;
	}
	html_send(c, 200, body, len);
	free(body);
}

static void probe_answer(struct sconn *c)
{
	struct server *srv = c->srv;
	const struct result *rs[DNS_MAX_ADDRS];
	struct render_opts ro;
	char *body = NULL;
	size_t len = 0, n = 1, i;
	bool failed = false;
	FILE *f;

	rs[0] = &c->r;
	if (c->fo != NULL) {
		const struct result *all = fanout_results(c->fo, &n);

		for (i = 0; i < n && i < DNS_MAX_ADDRS; i++)
			rs[i] = &all[i];
		n = i;
	}
	for (i = 0; i < n; i++)
		failed |= !render_prom_success(rs[i]);
	if (failed)
		srv->probe_failures++;
	if (c->shutdown_abort) {
		conn_text(c, 503, "the exporter is shutting down\n");
		return;
	}
	memset(&ro, 0, sizeof(ro));
	ro.address_labels = (c->module ? &c->opt : c->srv->opt)->all_addresses;
	if (c->html) {
		html_answer(c, &ro);
		return;
	}
	f = open_memstream(&body, &len);
	if (f == NULL) {
		conn_text(c, 500, "out of memory\n");
		return;
	}
	if (c->debug) {
		/* As blackbox_exporter's debug=true: the probe's story (here the
		 * report with the dialogue, secrets redacted), then the metrics. */
		ro.transcript = true;
		for (i = 0; i < n; i++) {
			if (i > 0)
				fputc('\n', f);
			render_text(f, rs[i], &ro);
		}
		fputs("\nMetrics that would have been returned:\n", f);
	}
	render_prometheus(f, rs, n, &ro);
	/* blackbox_exporter's probe_duration_seconds: the whole request as
	 * Prometheus saw it, queueing for a free probe slot included. */
	fprintf(f, "# HELP smtp_probe_scrape_duration_seconds Time from the request's "
	        "arrival to its answer, in seconds.\n"
	        "# TYPE smtp_probe_scrape_duration_seconds gauge\n"
	        "smtp_probe_scrape_duration_seconds %.6f\n", (loop_now() - c->t0) / 1000.0);
	if (fclose(f) != 0 || body == NULL) {
		free(body);
		conn_text(c, 500, "out of memory\n");
		return;
	}
	conn_answer(c, 200, c->debug ? "text/plain; charset=utf-8" : PROM_CTYPE, NULL, body, len);
	free(body);
}

/* Starts waiting requests, oldest first, while probe slots are free. */
static void srv_start_queued(struct server *srv)
{
	while (!srv->stopping && srv->queued > 0 && srv->in_flight < srv->max_in_flight) {
		struct sconn *best = NULL;
		size_t i;

		for (i = 0; i < srv->maxconns; i++) {
			struct sconn *c = &srv->conns[i];

			if (c->st == SC_QUEUED && (best == NULL || c->seq < best->seq))
				best = c;
		}
		if (best == NULL) {
			srv->queued = 0;
			return;
		}
		srv->queued--;
		sconn_probe_start(best);
	}
}

/* Frees finished sessions outside their callbacks, answers, fills slots. */
static void on_reap(struct loop *l, void *arg)
{
	struct server *srv = arg;
	size_t i;

	(void)l;
	for (i = 0; i < srv->maxconns; i++) {
		struct sconn *c = &srv->conns[i];

		if (c->st != SC_PROBE || !c->probe_done)
			continue;
		probe_free(c->s);
		c->s = NULL;
		fanout_release(c->fo);
		srv->in_flight--;
		probe_answer(c);
		fanout_free(c->fo);
		c->fo = NULL;
	}
	srv_start_queued(srv);
}

static void srv_reap_soon(struct server *srv)
{
	loop_timer_set(srv->loop, &srv->reap_timer, 0);
}

static void on_conn_deadline(struct loop *l, void *arg)
{
	struct sconn *c = arg;

	(void)l;
	if (c->st == SC_QUEUED) {
		c->srv->queued--;
		conn_text(c, 503, "too many probes in flight; try again later\n");
	} else if (c->st == SC_PROBE && !c->probe_done && c->fo != NULL) {
		fanout_abort(c->fo, c->shutdown_abort ? "the exporter is shutting down" :
		             "the probe did not finish within the scrape timeout");
	} else if (c->st == SC_PROBE && !c->probe_done) {
		probe_abort(c->s, c->shutdown_abort ? "the exporter is shutting down" :
		            "the probe did not finish within the scrape timeout");
	}
}

/* Prometheus says how long it will wait; answer a little before that, so a
 * slow server shows up as a probe failure, not as a failed scrape. */
static double probe_budget(const struct sconn *c, const char *head, size_t len)
{
	static const char hname[] = "x-prometheus-scrape-timeout-seconds:";
	double budget = c->srv->opt->deadline_ms;
	const char *p = head, *end = head + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > sizeof(hname) - 1 && strncasecmp(p, hname, sizeof(hname) - 1) == 0) {
			char v[32], *e;
			size_t vn = n - (sizeof(hname) - 1);
			double secs;

			if (vn < sizeof(v)) {
				memcpy(v, p + sizeof(hname) - 1, vn);
				v[vn] = '\0';
				errno = 0;
				secs = strtod(v, &e);
				while (*e == ' ' || *e == '\t' || *e == '\r')
					e++;
				if (errno == 0 && *e == '\0' && secs > 0 && secs <= 3600) {
					double ms = secs * 1000.0 - SERVE_SCRAPE_SLACK;

					if (ms < SERVE_SCRAPE_SLACK)
						ms = SERVE_SCRAPE_SLACK;
					if (ms < budget)
						budget = ms;
				}
			}
			break;
		}
		p = nl ? nl + 1 : end;
	}
	return budget;
}

static void route_probe(struct sconn *c, const char *q, size_t qlen,
                        const char *headers, size_t hlen)
{
	struct server *srv = c->srv;
	char vals[P_COUNT][SERVE_MAX_VALUE + 1];
	bool have[P_COUNT];
	const char *why;
	char err[200];
	int code = 400;
	long v;
	uint16_t port;

	why = query_parse(q, qlen, vals, have);
	if (why != NULL)
		goto refuse;
	why = "missing target parameter: /probe?target=HOST[:PORT]\n";
	if (!have[P_TARGET] || vals[P_TARGET][0] == '\0')
		goto refuse;
	why = "bad target: want host, host:port, [IPv6]:port, smtp://, smtps:// or "
	      "submission://\n";
	if (target_parse(vals[P_TARGET], &c->t, err, sizeof(err)) != 0)
		goto refuse;
	why = "bad target: the exporter does not probe a mail domain (user@domain); "
	      "name the MX host\n";
	if (c->t.mail_domain)
		goto refuse;
	snprintf(c->spec, sizeof(c->spec), "%s", vals[P_TARGET]);
	c->params = *srv->env->params;
	c->module = false;
	if (have[P_MODULE]) {
		const struct serve_module *m = serve_module_find(vals[P_MODULE]);

		why = module_names(c->why, sizeof(c->why));
		if (m == NULL)
			goto refuse;
		/* Only a module's request pays for options of its own: its
		 * options are the run's with the module's applied. */
		why = "the module cannot be applied\n";
		c->opt = *srv->opt;
		c->opt.targets = NULL;
		c->opt.ntargets = 0;
		if (serve_module_apply(&c->opt, m, err, sizeof(err)) != 0)
			goto refuse;
		probe_params_from_options(&c->params, &c->opt);
		c->module = true;
	}
	c->debug = false;
	if (have[P_DEBUG]) {
		why = "bad debug: want true or false\n";
		if (strcmp(vals[P_DEBUG], "true") != 0 && strcmp(vals[P_DEBUG], "false") != 0)
			goto refuse;
		c->debug = strcmp(vals[P_DEBUG], "true") == 0;
		c->params.transcript = c->params.transcript || c->debug;
	}
	if (c->html)
		c->params.transcript = true;  /* the page shows the explained dialogue */
	if (have[P_SERVERNAME]) {
		const char *sn = vals[P_SERVERNAME];

		why = "bad servername: want a host name\n";
		if (sn[0] == '\0' || strlen(sn) >= sizeof(c->servername) ||
		    strpbrk(sn, " /\\@:") != NULL)
			goto refuse;
		snprintf(c->servername, sizeof(c->servername), "%s", sn);
		c->params.servername = c->servername;
	}
	why = "bad warn_days: want a number of days\n";
	if (have[P_WARN] && parse_num(vals[P_WARN], 100000, &v) != 0)
		goto refuse;
	if (have[P_WARN])
		c->params.warn_days = (int)v;
	why = "bad crit_days: want a number of days\n";
	if (have[P_CRIT] && parse_num(vals[P_CRIT], 100000, &v) != 0)
		goto refuse;
	if (have[P_CRIT])
		c->params.crit_days = (int)v;
	why = "warn_days is below crit_days\n";
	if (c->params.warn_days < c->params.crit_days)
		goto refuse;
	why = "the target's port conflicts with the port of the module or the exporter's -p\n";
	if (c->params.port && c->t.port_given && c->t.port != c->params.port)
		goto refuse;
	/* The port the probe will use (probe_new's rule). */
	port = c->params.port ? c->params.port : c->t.port ? c->t.port : 25;
	if (!serve_allowed(srv->opt->serve_allow, srv->opt->nserve_allow, c->t.host,
	                   c->t.literal, port)) {
		code = 403;
		why = srv->opt->nserve_allow == 0 ?
		      "target not allowed: this exporter was started without --serve-allow, "
		      "so it probes nothing\n" :
		      "target not allowed by any --serve-allow pattern\n";
		goto refuse;
	}
	if (srv->nnets > 0 && c->t.literal != 0) {
		struct dns_addr a;

		memset(&a, 0, sizeof(a));
		a.family = c->t.literal;
		why = "target address outside every --serve-allow-net\n";
		if (inet_pton(a.family, c->t.host, a.addr) != 1 || !srv_addr_ok(srv, &a)) {
			code = 403;
			goto refuse;
		}
	}
	c->budget_ms = probe_budget(c, headers, hlen);
	/* While the probe runs, watch nothing: a hang-up or error still
	 * arrives (epoll always reports them) and ends the request. */
	loop_mod_fd(srv->loop, c->fd, 0);
	loop_timer_set(srv->loop, &c->deadline, c->budget_ms - (loop_now() - c->t0));
	if (srv->in_flight < srv->max_in_flight) {
		sconn_probe_start(c);
	} else {
		c->st = SC_QUEUED;
		c->seq = srv->next_seq++;
		srv->queued++;
	}
	return;
refuse:
	conn_text(c, code, why);
}

static void route_metrics(struct sconn *c)
{
	struct server *srv = c->srv;
	char *body = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&body, &len);

	if (f == NULL) {
		conn_text(c, 500, "out of memory\n");
		return;
	}
	fputs("# HELP smtp_probe_exporter_requests_total HTTP requests answered, by status "
	      "code.\n# TYPE smtp_probe_exporter_requests_total counter\n", f);
	for (i = 0; i < NCODES; i++)
		fprintf(f, "smtp_probe_exporter_requests_total{code=\"%d\"} %" PRIu64 "\n",
		        serve_codes[i].code, srv->requests[i]);
	fprintf(f, "# HELP smtp_probe_exporter_probes_total Probes started.\n"
	        "# TYPE smtp_probe_exporter_probes_total counter\n"
	        "smtp_probe_exporter_probes_total %" PRIu64 "\n"
	        "# HELP smtp_probe_exporter_probe_failures_total Probes that ended with "
	        "smtp_probe_success 0.\n"
	        "# TYPE smtp_probe_exporter_probe_failures_total counter\n"
	        "smtp_probe_exporter_probe_failures_total %" PRIu64 "\n"
	        "# HELP smtp_probe_exporter_probes_in_flight Probes running now.\n"
	        "# TYPE smtp_probe_exporter_probes_in_flight gauge\n"
	        "smtp_probe_exporter_probes_in_flight %zu\n"
	        "# HELP smtp_probe_exporter_probes_queued Probe requests waiting for a free "
	        "slot (--concurrency).\n"
	        "# TYPE smtp_probe_exporter_probes_queued gauge\n"
	        "smtp_probe_exporter_probes_queued %zu\n"
	        "# HELP smtp_probe_exporter_connections Open HTTP connections.\n"
	        "# TYPE smtp_probe_exporter_connections gauge\n"
	        "smtp_probe_exporter_connections %zu\n"
	        "# HELP smtp_probe_exporter_connections_total HTTP connections accepted.\n"
	        "# TYPE smtp_probe_exporter_connections_total counter\n"
	        "smtp_probe_exporter_connections_total %" PRIu64 "\n"
	        "# HELP smtp_probe_exporter_start_time_seconds Unix time the exporter "
	        "started.\n"
	        "# TYPE smtp_probe_exporter_start_time_seconds gauge\n"
	        "smtp_probe_exporter_start_time_seconds %lld\n",
	        srv->probes, srv->probe_failures, srv->in_flight, srv->queued, srv->nconns,
	        srv->accepted, (long long)srv->started);
	if (fclose(f) != 0 || body == NULL) {
		free(body);
		conn_text(c, 500, "out of memory\n");
		return;
	}
	conn_answer(c, 200, PROM_CTYPE, NULL, body, len);
	free(body);
}

static const char help_text[] =
	"smtp-probe exporter\n"
	"\n"
	"GET /probe?target=HOST[:PORT]   metrics of a fresh probe of the target\n"
	"    target      host, host:port, [IPv6]:port, smtp://, smtps://, submission://\n"
	"    servername  SNI and the name the certificate must match\n"
	"    warn_days   certificate expiry warning threshold in days\n"
	"    crit_days   certificate expiry critical threshold in days\n"
	"GET /report?target=HOST[:PORT]  the same probe as an HTML page (same parameters)\n"
	"GET /metrics                    the exporter's own counters\n"
	"\n"
	"Only targets matching a --serve-allow pattern are probed (403 otherwise).\n";

/* GET /: a form that asks for a report, and the same help as text. No
 * script; the form submits to /report under the same allowlist. */
static void route_index(struct sconn *c)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);

	if (f == NULL) {
		conn_text(c, 500, "out of memory\n");
		return;
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
	        "<title>smtp-probe exporter</title>\n<style>body{font:15px/1.45 system-ui,"
	        "sans-serif;max-width:40rem;margin:0 auto;padding:1rem}label{display:block;"
	        "margin:.6rem 0 .2rem}input{font:inherit;width:100%%;padding:.3rem}"
	        "button{font:inherit;margin-top:.8rem;padding:.3rem 1rem}pre{white-space:"
	        "pre-wrap}</style></head>\n<body><h1>smtp-probe</h1>\n"
	        "<form method=\"get\" action=\"/report\">\n"
	        "<label for=\"target\">Server to probe</label>"
	        "<input id=\"target\" name=\"target\" required maxlength=\"%d\" "
	        "placeholder=\"mx.example.org:25, smtps://host, submission://host\">\n"
	        "<label for=\"servername\">Certificate name (optional)</label>"
	        "<input id=\"servername\" name=\"servername\" maxlength=\"253\">\n"
	        "<button type=\"submit\">Probe and show the report</button></form>\n"
	        "<p>Only targets this exporter's <code>--serve-allow</code> patterns permit "
	        "are probed. No mail is sent.</p>\n<pre>", SERVE_MAX_VALUE);
	for (const char *p = help_text; *p; p++) {
		if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '>')
			fputs("&gt;", f);
		else if (*p == '&')
			fputs("&amp;", f);
		else
			fputc(*p, f);
	}
	fputs("</pre></body></html>\n", f);
	if (fclose(f) != 0 || body == NULL) {
		free(body);
		conn_text(c, 500, "out of memory\n");
		return;
	}
	html_send(c, 200, body, len);
	free(body);
}

/* A complete head of len bytes is in c->in. */
static void conn_request(struct sconn *c, size_t len)
{
	struct http_request rq;
	const char *why;
	int code;

	loop_timer_stop(c->srv->loop, &c->io_timer);
	code = http_parse_request(c->in, len, &rq, &why);
	if (code != 0) {
		conn_text(c, code, why);
		return;
	}
	c->head_only = rq.method == HTTP_HEAD;
	c->html = rq.pathlen == 7 && memcmp(rq.path, "/report", 7) == 0;
	if ((rq.pathlen == 6 && memcmp(rq.path, "/probe", 6) == 0) || c->html)
		route_probe(c, rq.query ? rq.query : "", rq.querylen, rq.headers, rq.headerslen);
	else if (rq.pathlen == 8 && memcmp(rq.path, "/metrics", 8) == 0)
		route_metrics(c);
	else if (rq.pathlen == 1)
		route_index(c);
	else
		conn_text(c, 404, "not found: try /probe?target=HOST or /metrics\n");
}

/* Reads until the blank line that ends the head; a head that does not fit
 * SERVE_MAX_HEAD is refused as soon as the buffer is full. */
static void conn_read(struct sconn *c)
{
	size_t from = c->nin > 3 ? c->nin - 3 : 0, end;
	ssize_t n = read(c->fd, c->in + c->nin, sizeof(c->in) - c->nin);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		sconn_close(c);   /* gone before asking anything: nothing to answer */
		return;
	}
	c->nin += (size_t)n;
	if ((end = http_head_end(c->in, c->nin, from)) > 0) {
		conn_request(c, end);
		return;
	}
	if (c->nin == sizeof(c->in))
		conn_text(c, 431, "request head too large\n");
}

static void on_conn_io(struct loop *l, int fd, unsigned events, void *arg)
{
	struct sconn *c = arg;

	(void)l;
	(void)fd;
	switch (c->st) {
	case SC_READ:
		conn_read(c);
		break;
	case SC_WRITE:
		if (events & LOOP_WRITE)
			conn_write(c);
		break;
	case SC_LINGER:
		conn_linger(c);
		break;
	case SC_QUEUED:
	case SC_PROBE:
		/* Only a hang-up or an error can arrive now: nobody to answer. */
		sconn_close(c);
		break;
	case SC_FREE:
		break;
	}
}

static void on_conn_timer(struct loop *l, void *arg)
{
	struct sconn *c = arg;

	(void)l;
	if (c->st == SC_READ)
		conn_text(c, 408, "request not received in time\n");
	else
		sconn_close(c);   /* a client that does not read, or lingers */
}

static void sconn_close(struct sconn *c)
{
	struct server *srv = c->srv;

	if (c->st == SC_FREE)
		return;
	loop_timer_stop(srv->loop, &c->io_timer);
	loop_timer_stop(srv->loop, &c->deadline);
	if (c->st == SC_QUEUED)
		srv->queued--;
	if (c->s != NULL || c->fo != NULL) {
		probe_free(c->s);
		fanout_free(c->fo);
		c->s = NULL;
		c->fo = NULL;
		srv->in_flight--;
		srv_reap_soon(srv);      /* a probe slot is free for the queue */
	}
	loop_del_fd(srv->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
	result_clear(&c->r);
	c->st = SC_FREE;
	srv->nconns--;
	srv_resume_accept(srv);
	if (srv->stopping && srv->nconns == 0)
		loop_stop(srv->loop);
}

static struct sconn *free_slot(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->maxconns; i++)
		if (srv->conns[i].st == SC_FREE)
			return &srv->conns[i];
	return NULL;
}

/* Same client address (the port aside). */
static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		              &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return false;
}

/* Sheds c, a connection that has not sent a whole request: first reads
 * what it has sent, so a request already waiting in the socket (a scrape
 * accepted in the same burst as a flood) is served, not dropped. True
 * when c's slot is free afterwards. */
static bool shed(struct sconn *c)
{
	struct server *srv = c->srv;

	conn_read(c);
	if (c->st == SC_FREE)
		return true;
	if (c->st != SC_READ)
		return false;            /* it had a request after all: served */
	srv->requests[code_index(408)]++;
	sconn_close(c);
	return true;
}

/* The oldest connection still reading its head, from peer when peer is
 * not NULL; skip is left out. */
static struct sconn *oldest_idle(struct server *srv, const struct sockaddr_storage *peer,
                                 const struct sconn *skip, size_t *count)
{
	struct sconn *old = NULL;
	size_t i;

	*count = 0;
	for (i = 0; i < srv->maxconns; i++) {
		struct sconn *c = &srv->conns[i];

		if (c->st != SC_READ || c == skip || (peer != NULL && !same_peer(&c->peer, peer)))
			continue;
		(*count)++;
		if (old == NULL || c->t0 < old->t0)
			old = c;
	}
	return old;
}

/* All slots taken: shed the oldest connection that has sent no whole
 * request (idle, or slow on purpose), so a few thousand slow clients
 * cannot lock a scrape out for the whole read deadline. A connection with
 * a request is never shed. NULL when every slot holds a request. */
static struct sconn *evict_idle(struct server *srv)
{
	size_t n, tries;

	for (tries = 0; tries < 8; tries++) {
		struct sconn *old = oldest_idle(srv, NULL, NULL, &n);

		if (old == NULL)
			return NULL;
		if (shed(old))
			return old->st == SC_FREE ? old : free_slot(srv);
	}
	return free_slot(srv);
}

/* One client address holds at most SERVE_IDLE_PER_ADDR connections that
 * have not sent a whole request: past that its own oldest one goes. A
 * Prometheus that scrapes many targets at once is not limited, since its
 * connections carry their request at once. */
static void cap_peer(struct server *srv, struct sconn *fresh)
{
	size_t n;
	struct sconn *old = oldest_idle(srv, &fresh->peer, fresh, &n);

	if (old != NULL && n >= SERVE_IDLE_PER_ADDR)
		(void)shed(old);
}

static void on_retry(struct loop *l, void *arg)
{
	(void)l;
	srv_resume_accept(arg);
}

static void on_accept(struct loop *l, int fd, unsigned events, void *arg)
{
	struct server *srv = arg;

	(void)events;
	for (;;) {
		struct sconn *c = free_slot(srv);
		socklen_t peerlen;
		int cfd;

		if (c == NULL)
			c = evict_idle(srv);
		if (c == NULL) {
			/* Full: leave the rest in the kernel's backlog until a slot
			 * frees up (sconn_close resumes accepting). */
			srv_pause_accept(srv);
			return;
		}
		peerlen = sizeof(c->peer);
		memset(&c->peer, 0, sizeof(c->peer));
		cfd = compat_accept(fd, (struct sockaddr *)&c->peer, &peerlen);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				/* Out of descriptors or memory: a readable listener would
				 * spin the loop, so wait a moment. */
				srv_pause_accept(srv);
				loop_timer_set(l, &srv->retry_timer, 100);
			}
			return;
		}
		c->fd = cfd;
		c->st = SC_READ;
		c->nin = c->lingered = 0;
		c->head_only = c->probe_done = c->shutdown_abort = false;
		c->t0 = loop_now();
		if (loop_add_fd(l, cfd, LOOP_READ, on_conn_io, c) != 0) {
			close(cfd);
			c->fd = -1;
			c->st = SC_FREE;
			continue;
		}
		srv->nconns++;
		srv->accepted++;
		loop_timer_set(l, &c->io_timer, SERVE_READ_MS);
		cap_peer(srv, c);
	}
}

static void on_hard_stop(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

/* SIGTERM/SIGINT: stop accepting, drop idle connections, let probes in
 * flight finish within a grace period; a second signal stops at once. */
static void on_signal(struct loop *l, int fd, unsigned events, void *arg)
{
	struct server *srv = arg;
	char buf[256];               /* signalfd records, or self-pipe bytes */
	size_t i;

	(void)events;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (srv->stopping) {
		loop_stop(l);
		return;
	}
	srv->stopping = true;
	fprintf(stderr, "smtp-probe: shutting down\n");
	if (srv->lfd >= 0) {
		loop_del_fd(l, srv->lfd);
		close(srv->lfd);
		srv->lfd = -1;
	}
	loop_timer_stop(l, &srv->retry_timer);
	loop_timer_set(l, &srv->stop_timer, SERVE_HARD_STOP_MS);
	for (i = 0; i < srv->maxconns; i++) {
		struct sconn *c = &srv->conns[i];
		double left;

		switch (c->st) {
		case SC_READ:
			sconn_close(c);
			break;
		case SC_QUEUED:
			srv->queued--;
			conn_text(c, 503, "the exporter is shutting down\n");
			break;
		case SC_PROBE:
			left = c->budget_ms - (loop_now() - c->t0);
			if (left > SERVE_GRACE_MS) {
				c->shutdown_abort = true;
				loop_timer_set(l, &c->deadline, SERVE_GRACE_MS);
			}
			break;
		default:
			break;
		}
	}
	if (srv->nconns == 0)
		loop_stop(l);
}

/* At most as many connections as the descriptor limit leaves room for,
 * after the probes' own sockets (two each, Happy Eyeballs). */
static size_t fit_conns(size_t want, size_t probes)
{
	struct rlimit rl;
	size_t need = want + 2 * probes + 32;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= need)
		return want;
	if (rl.rlim_cur > 2 * probes + 40)
		return (size_t)rl.rlim_cur - 2 * probes - 32;
	return 8;
}

int serve_run(const struct probe_env *env, int sigfd, char *err, size_t errlen)
{
	const struct options *o = env->opt;
	struct server srv;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char shown[INET6_ADDRSTRLEN + 2];
	char ip[INET6_ADDRSTRLEN];
	int one = 1, rc = -1;
	size_t i;

	memset(&srv, 0, sizeof(srv));
	srv.env = env;
	srv.opt = o;
	srv.loop = env->loop;
	srv.lfd = -1;
	srv.sigfd = sigfd;
	srv.started = time(NULL);
	srv.max_in_flight = o->concurrency ? o->concurrency : 16;
	srv.maxconns = fit_conns(srv.max_in_flight + SERVE_SPARE_CONNS, srv.max_in_flight);
	loop_timer_init(&srv.reap_timer, on_reap, &srv);
	loop_timer_init(&srv.retry_timer, on_retry, &srv);
	loop_timer_init(&srv.stop_timer, on_hard_stop, &srv);
	if (serve_addr_parse(o->serve, &ss, &sslen, err, errlen) != 0)
		goto done;
	for (i = 0; i < o->nserve_allow_net && i < OPT_MAX_ALLOW; i++)
		if (serve_net_parse(o->serve_allow_net[i], &srv.nets[srv.nnets++], err, errlen) != 0)
			goto done;
	srv.conns = xcalloc(srv.maxconns, sizeof(*srv.conns));
	for (i = 0; i < srv.maxconns; i++) {
		struct sconn *c = &srv.conns[i];

		c->srv = &srv;
		c->fd = -1;
		result_init(&c->r);
		loop_timer_init(&c->io_timer, on_conn_timer, c);
		loop_timer_init(&c->deadline, on_conn_deadline, c);
	}
	srv.lfd = compat_socket(ss.ss_family, SOCK_STREAM);
	if (srv.lfd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", o->serve, strerror(errno));
		goto done;
	}
	setsockopt(srv.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::] means IPv6 only; 0.0.0.0 is a separate, explicit choice. */
	if (ss.ss_family == AF_INET6)
		setsockopt(srv.lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(srv.lfd, (struct sockaddr *)&ss, sslen) != 0 ||
	    listen(srv.lfd, SOMAXCONN) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", o->serve, strerror(errno));
		goto done;
	}
	sslen = sizeof(ss);
	getsockname(srv.lfd, (struct sockaddr *)&ss, &sslen);
	if (loop_add_fd(srv.loop, srv.lfd, LOOP_READ, on_accept, &srv) != 0 ||
	    loop_add_fd(srv.loop, sigfd, LOOP_READ, on_signal, &srv) != 0) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	srv.accepting = true;
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof(ip));
		snprintf(shown, sizeof(shown), "[%s]", ip);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, shown, sizeof(shown));
	}
	if (o->nserve_allow == 0)
		fprintf(stderr, "smtp-probe: no --serve-allow given: every /probe request is "
		        "refused (403); allow the targets you monitor, e.g. --serve-allow "
		        "'*.example.org:25'\n");
	for (i = 0; i < o->nserve_allow; i++)
		if (strcmp(o->serve_allow[i], "*") == 0 || strcmp(o->serve_allow[i], "*:*") == 0)
			fprintf(stderr, "smtp-probe: note: --serve-allow '%s' lets anyone who "
			        "reaches the exporter make this host connect anywhere\n",
			        o->serve_allow[i]);
	if (!addr_is_loopback(&ss))
		fprintf(stderr, "smtp-probe: note: listening on a non-loopback address; "
		        "restrict who can reach it\n");
	/* Last, so a reader that waits for this line has seen the notes. */
	fprintf(stderr, "smtp-probe: exporter listening on http://%s:%u/ (at most %zu "
	        "probes and %zu connections at once)\n", shown,
	        (unsigned)ntohs(ss.ss_family == AF_INET6 ?
	                        ((struct sockaddr_in6 *)&ss)->sin6_port :
	                        ((struct sockaddr_in *)&ss)->sin_port),
	        srv.max_in_flight, srv.maxconns);
	fflush(stderr);
	loop_run(srv.loop);
	rc = 0;
done:
	for (i = 0; srv.conns != NULL && i < srv.maxconns; i++) {
		sconn_close(&srv.conns[i]);
		result_clear(&srv.conns[i].r);
	}
	loop_timer_stop(srv.loop, &srv.reap_timer);
	loop_timer_stop(srv.loop, &srv.retry_timer);
	loop_timer_stop(srv.loop, &srv.stop_timer);
	if (srv.lfd >= 0) {
		loop_del_fd(srv.loop, srv.lfd);
		close(srv.lfd);
	}
	loop_del_fd(srv.loop, sigfd);
	free(srv.conns);
	return rc;
}
