/* One probe of one address: the main dialogue, then (only when asked)
 * extra connections to the address it ran on, one at a time, each doing
 * the least it can: TLS 1.2 only, TLS 1.3 only, legacy 1.0/1.1
 * ClientHellos (--tls-versions), STARTTLS+NOOP in one packet
 * (--starttls-injection). Each connection is one smtp_session with its own
 * plan; an extra one fills a scratch result that is merged into the
 * probe's when it ends. Only the public session API is used here. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ip.h"
#include "probe.h"
#include "smtp_session.h"
#include "xmalloc.h"

/* The connections of one probe, in the order they run. */
enum probe_kind {
	KIND_MAIN = 0,
	KIND_TLS12,               /* --tls-versions: mbedTLS pinned to 1.2 */
	KIND_TLS13,               /* pinned to 1.3 */
	KIND_TLS10,               /* hand-written ClientHello, ServerHello read */
	KIND_TLS11,
	KIND_INJECT,              /* --starttls-injection */
	KIND_END
};

static const char *const kind_names[KIND_END] = {
	"main", "TLS 1.2 only (--tls-versions)", "TLS 1.3 only (--tls-versions)",
	"TLS 1.0 ClientHello", "TLS 1.1 ClientHello",
	"STARTTLS then NOOP in one packet (--starttls-injection)"
};
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == KIND_END, "kind names");

static const uint16_t kind_version[] = { 0, 0x0303, 0x0304, 0x0301, 0x0302, 0 };
_Static_assert(sizeof(kind_version) / sizeof(kind_version[0]) == KIND_END, "kind versions");

struct probe {
	const struct probe_env *env;      /* borrowed */
	const struct probe_params *p;     /* borrowed */
	struct result *r;                 /* borrowed, owned by the run */
	probe_done_cb cb;
	void *cbarg;

	char host[254];
	uint16_t port;
	int literal;
	enum tls_mode mode;
	struct dns_addr preset[DNS_MAX_ADDRS];   /* probe_set_addrs */
	size_t npreset;
	double preset_dns_ms;

	double t0;                        /* monotonic start: transcript times count from here */
	struct smtp_session *main;        /* owned */
	struct smtp_session *extra;       /* owned: the running or last extra connection */
	struct smtp_session *running;     /* borrowed: main or extra while it runs, else NULL */
	enum probe_kind kind;             /* the connection running or last run */
	unsigned extras;                  /* bit per kind still to run */
	struct dns_addr addr;             /* where the main dialogue ran */
	struct result *scratch;           /* owned: the extra connection's result */
	struct loop_timer next;           /* the next extra connection is due */
	bool aborted, finished;
	bool legacy_followup;             /* legacy ClientHellos after alert 70 */
};

void probe_params_from_options(struct probe_params *p, const struct options *o)
{
	memset(p, 0, sizeof(*p));
	p->port = o->port;
	p->mode_set = o->mode_set;
	p->mode = o->mode;
	p->only4 = o->only4;
	p->only6 = o->only6;
	p->helo = o->helo;
	p->servername = o->servername;
	p->timeout_ms = o->timeout_ms;
	p->connect_timeout_ms = o->connect_timeout_ms;
	if (o->bind != NULL) {
		p->conn.bind.family = ip_literal(o->bind, p->conn.bind.addr);
		p->conn.bind_set = p->conn.bind.family != 0;
	}
	if (o->proxy != NULL)
		p->conn.proxy_set = conn_proxy_parse(o->proxy, &p->conn.proxy,
		                                     &p->conn.proxy_port) == 0;
	p->pins = o->pins;
	p->npins = o->npins;
	p->warn_days = o->warn_days;
	p->crit_days = o->crit_days;
	p->warn_time_ms = o->warn_time_ms;
	p->crit_time_ms = o->crit_time_ms;
	p->size_reserve = o->size_reserve;
	p->transcript = o->transcript || o->explain || o->output == OUT_HTML;
	p->check_tls_required = o->check_tls_required;
	p->auth_user = o->auth_user;
	p->password = o->password;
	p->auth_mech = o->auth_mech;
	p->allow_plaintext_auth = o->allow_plaintext_auth;
	p->size_check = o->size_check;
	p->showcerts = o->showcerts;
	p->mail_from = o->mail_from;
	p->rcpt = o->rcpt;
	p->nrcpt = o->nrcpt;
	p->tls_versions = o->tls_versions;
	p->starttls_injection = o->starttls_injection;
}

static void probe_event(struct probe *p, struct result *r, const struct tevent *ev,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A '*' line in a transcript, on the probe's clock. */
static void probe_event(struct probe *p, struct result *r, const struct tevent *ev,
                        const char *fmt, ...)
{
	char line[RESULT_MAX_LINE];
	va_list ap;
	int n;

	if (!r->want_transcript)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	result_event(r, loop_now() - p->t0, ev, line,
	             (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Findings that need every connection's outcome, then the callback. */
static void probe_final(struct probe *p)
{
	struct result *r = p->r;
	const struct tlsvers_info *tv = &r->tls_versions;
	/* "Also accepts" needs 1.2 or 1.3 to have worked somewhere. */
	bool modern = r->tls.ok || tv->v[2] == TLSV_ACCEPTED || tv->v[3] == TLSV_ACCEPTED;
	uint16_t best = tv->v[1] == TLSV_ACCEPTED ? 0x0302 : tv->v[0] == TLSV_ACCEPTED ? 0x0301 : 0;

	/* Alert protocol_version to our 1.2/1.3 hello, a ServerHello to a
	 * legacy one: the server's newest version is older than TLS 1.2. */
	if (r->tls.attempted && !r->tls.ok && r->tls.version_refused && best != 0 &&
	    !result_has(r, "tls-legacy-only")) {
		r->tls.legacy_best = best;
		result_drop(r, "tls-handshake-failed");
		result_legacy_only(r, best, best == 0x0302 ?
		                   "its answer to a TLS 1.1 ClientHello, after alert "
		                   "protocol_version to TLS 1.2/1.3," :
		                   "its answer to a TLS 1.0 ClientHello, after alert "
		                   "protocol_version to TLS 1.2/1.3,");
	}
	if (!tv->tested)
		;       /* the legacy follow-up alone: no version list was asked for */
	else if ((tv->v[0] == TLSV_ACCEPTED || tv->v[1] == TLSV_ACCEPTED) && !modern)
		result_add(r, SEV_WARNING, "tls-legacy-version",
		           "the server accepts only %s%s%s, no TLS 1.2 or 1.3: both are "
		           "deprecated (RFC 8996); allow TLS 1.2 and 1.3 only",
		           tv->v[0] == TLSV_ACCEPTED ? "TLS 1.0" : "",
		           tv->v[0] == TLSV_ACCEPTED && tv->v[1] == TLSV_ACCEPTED ? " and " : "",
		           tv->v[1] == TLSV_ACCEPTED ? "TLS 1.1" : "");
	else if (tv->v[0] == TLSV_ACCEPTED || tv->v[1] == TLSV_ACCEPTED)
		result_add(r, SEV_WARNING, "tls-legacy-version",
		           "the server also accepts %s%s%s besides TLS 1.2/1.3: both are "
		           "deprecated (RFC 8996); allow TLS 1.2 and 1.3 only",
		           tv->v[0] == TLSV_ACCEPTED ? "TLS 1.0" : "",
		           tv->v[0] == TLSV_ACCEPTED && tv->v[1] == TLSV_ACCEPTED ? " and " : "",
		           tv->v[1] == TLSV_ACCEPTED ? "TLS 1.1" : "");
	p->finished = true;
	result_finish(r);
	p->cb(p->cbarg, p);
}

/* After the main dialogue: which extra connections to make. Only when the
 * server answered it, so a dead host costs one connection, not six. */
static void plan_extras(struct probe *p)
{
	const struct probe_params *o = p->p;
	struct result *r = p->r;
	/* Implicit TLS: a failed handshake is reason enough to look at the
	 * versions (a server that speaks only TLS 1.0 fails it). */
	bool reached = r->address[0] != '\0' &&
	               (r->greeting.code == 220 || (p->mode == TLS_MODE_IMPLICIT && r->tls.attempted));
	bool tls_there = p->mode == TLS_MODE_IMPLICIT || r->starttls_offered;
	const char *why = !reached ? "not tested: the main dialogue did not get that far" :
	                  "not tested: the server does not offer STARTTLS";

	p->extras = 0;
	if (o->check_tls_required && !r->tls_required.tested && p->mode == TLS_MODE_IMPLICIT &&
	    r->tls.ok) {
		r->tls_required.tested = true;
		r->tls_required.required = 1;
		snprintf(r->tls_required.note, sizeof(r->tls_required.note), "implicit TLS: "
		         "there is no cleartext channel, so no MAIL FROM was sent");
	}
	if (o->starttls_injection && p->mode == TLS_MODE_IMPLICIT) {
		r->injection.tested = true;
		r->injection.vulnerable = 0;
		snprintf(r->injection.detail, sizeof(r->injection.detail), "not applicable: "
		         "implicit TLS has no cleartext phase to inject into");
	}
	if (o->tls_versions && p->mode != TLS_MODE_NONE) {
		r->tls_versions.tested = true;
		if (reached && tls_there)
			p->extras |= 1u << KIND_TLS12 | 1u << KIND_TLS13 | 1u << KIND_TLS10 |
			             1u << KIND_TLS11;
		else
			for (size_t i = 0; i < RESULT_TLSV_N; i++) {
				r->tls_versions.v[i] = TLSV_UNKNOWN;
				snprintf(r->tls_versions.detail[i], sizeof(r->tls_versions.detail[i]),
				         "%s", why);
			}
	}
	/* The server refused our 1.2/1.3 hello as a version it does not
	 * speak: which older one does it? (--tls-versions asks anyway.) */
	p->legacy_followup = !o->tls_versions && p->mode != TLS_MODE_NONE && reached &&
	                     tls_there && r->tls.attempted && !r->tls.ok &&
	                     r->tls.version_refused;
	if (p->legacy_followup)
		p->extras |= 1u << KIND_TLS10 | 1u << KIND_TLS11;
	if (o->starttls_injection && p->mode == TLS_MODE_STARTTLS) {
		if (reached && tls_there) {
			p->extras |= 1u << KIND_INJECT;
		} else {
			r->injection.tested = true;
			r->injection.vulnerable = -1;
			snprintf(r->injection.detail, sizeof(r->injection.detail), "%s", why);
		}
	}
	if (p->extras == 0)
		return;
	memset(&p->addr, 0, sizeof(p->addr));
	p->addr.family = r->family;
	if (inet_pton(r->family, r->address, p->addr.addr) != 1)
		p->extras = 0;
}

/* What the extra connection left in the scratch result goes into the
 * probe's: its verdict, and its transcript after the main one. */
static void harvest(struct probe *p)
{
	struct result *m = p->r, *x = p->scratch;
	const char *why = x->nfindings && x->findings[0].message ? x->findings[0].message :
	                  "the connection ended early";

	if (kind_version[p->kind] != 0) {
		size_t i = (size_t)(kind_version[p->kind] - 0x0301);
		struct tlsvers_info *tv = &m->tls_versions;

		if (x->tls_versions.v[i] != TLSV_UNTESTED) {
			/* The answer to a legacy ClientHello. */
			tv->v[i] = x->tls_versions.v[i];
			memcpy(tv->detail[i], x->tls_versions.detail[i], sizeof(tv->detail[i]));
			if (p->legacy_followup && tv->v[i] == TLSV_ACCEPTED)
				p->extras &= ~(1u << KIND_TLS10);   /* the newest is known */
		} else if (x->tls.ok) {
			tv->v[i] = TLSV_ACCEPTED;
			snprintf(tv->detail[i], sizeof(tv->detail[i]), "%s %s", x->tls.version,
			         x->tls.cipher);
		} else {
			bool refused = x->tls.attempted && x->tls.error[0];

			tv->v[i] = refused ? TLSV_REFUSED : TLSV_UNKNOWN;
			snprintf(tv->detail[i], sizeof(tv->detail[i]), "%s",
			         refused ? x->tls.error : why);
		}
	} else if (p->kind == KIND_INJECT && !m->injection.tested) {
		if (x->injection.tested) {
			m->injection = x->injection;
			if (x->injection.vulnerable == 1)
				result_add(m, SEV_CRITICAL, "starttls-injection",
				           "commands sent in clear before STARTTLS are executed inside "
				           "TLS (CVE-2011-0411 class): an attacker can inject commands; "
				           "update the server software");
		} else {
			m->injection.tested = true;
			m->injection.vulnerable = -1;
			snprintf(m->injection.detail, sizeof(m->injection.detail),
			         "inconclusive: %s", why);
		}
	}
	for (size_t k = 0; k < x->ntranscript; k++) {
		const struct tline *t = &x->transcript[k];

		if (tline_type(t) == TEV_NONE)
			result_transcript(m, t->t_ms, t->dir, t->line, strlen(t->line));
		else
			result_event(m, t->t_ms, t->ev, t->line, strlen(t->line));
	}
	m->transcript_dropped += x->transcript_dropped;
}

/* One connection ended: the next extra one starts from a timer, outside
 * the callbacks of the one that ended; or the probe is over. */
static void connection_over(struct probe *p)
{
	p->running = NULL;
	if (p->extras != 0 && !p->aborted) {
		loop_timer_set(p->env->loop, &p->next, 0);
		return;
	}
	probe_final(p);
}

static void on_main_done(void *arg, struct smtp_session *s)
{
	struct probe *p = arg;

	(void)s;
	plan_extras(p);
	connection_over(p);
}

static void on_extra_done(void *arg, struct smtp_session *s)
{
	struct probe *p = arg;

	(void)s;
	harvest(p);
	connection_over(p);
}

static struct tlsio_cfg *kind_tls(const struct probe *p, enum probe_kind k)
{
	if (k == KIND_TLS12)
		return p->env->tls12;
	if (k == KIND_TLS13)
		return p->env->tls13;
	return p->env->tls;
}

static void start_extra(struct loop *l, void *arg)
{
	struct probe *p = arg;
	struct session_plan plan;
	struct tevent ev;
	unsigned k;

	(void)l;
	for (k = KIND_TLS12; k < KIND_END && !(p->extras & (1u << k)); k++)
		;
	/* The legacy follow-up asks for TLS 1.1 first: 1.0 only if refused. */
	if (p->legacy_followup && (p->extras & (1u << KIND_TLS11)))
		k = KIND_TLS11;
	if (k == KIND_END) {            /* nothing left to do */
		probe_final(p);
		return;
	}
	p->extras &= ~(1u << k);
	p->kind = (enum probe_kind)k;
	smtp_session_free(p->extra);    /* the previous one, ended in an earlier callback */
	p->extra = NULL;
	if (p->scratch == NULL) {
		p->scratch = xmalloc(sizeof(*p->scratch));
		result_init(p->scratch);
	}
	result_clear(p->scratch);       /* the previous extra connection's */
	p->scratch->want_transcript = p->r->want_transcript;
	memset(&ev, 0, sizeof(ev));
	ev.type = TEV_EXTRA;
	ev.u.extra.injection = k == KIND_INJECT;
	probe_event(p, p->scratch, &ev, "extra connection: %s%s", kind_names[k],
	            (k != KIND_TLS10 && k != KIND_TLS11) ? "" : p->legacy_followup ?
	            " (the server refused TLS 1.2 and 1.3: which older version does it speak?)" :
	            " (--tls-versions)");

	memset(&plan, 0, sizeof(plan));
	plan.mode = p->mode;
	plan.tls = kind_tls(p, p->kind);
	plan.stop_after_tls = true;
	plan.legacy_hello = p->kind == KIND_TLS10 || p->kind == KIND_TLS11 ? kind_version[k] : 0;
	plan.inject = p->kind == KIND_INJECT;
	plan.t0 = p->t0;
	if (plan.tls == NULL) {
		result_add(p->scratch, SEV_CRITICAL, "internal-error",
		           "cannot set up TLS: no configuration for %s", kind_names[k]);
		on_extra_done(p, NULL);
		return;
	}
	p->extra = smtp_session_new(p->env->loop, p->env->dns, p->p, &plan, p->host, p->port,
	                            p->literal, p->scratch, on_extra_done, p);
	p->running = p->extra;
	smtp_session_set_addrs(p->extra, &p->addr, 1, 0);
	smtp_session_start(p->extra);
}

struct probe *probe_new(const struct probe_env *env, const struct probe_params *params,
                        const struct target *t, const char *spec, struct result *r,
                        probe_done_cb cb, void *arg)
{
	struct probe *p = xcalloc(1, sizeof(*p));

	p->env = env;
	p->p = params;
	p->r = r;
	p->cb = cb;
	p->cbarg = arg;
	snprintf(p->host, sizeof(p->host), "%s", t->host);
	p->literal = t->literal;
	/* Port: --port, else the target's, else 25. Mode: option, else scheme,
	 * else implicit TLS on 465, else STARTTLS. */
	p->port = params->port ? params->port : t->port ? t->port : 25;
	if (params->mode_set)
		p->mode = params->mode;
	else if (t->mode_set)
		p->mode = t->mode;
	else
		p->mode = p->port == 465 ? TLS_MODE_IMPLICIT : TLS_MODE_STARTTLS;
	loop_timer_init(&p->next, start_extra, p);

	r->target = xstrdup(spec);
	r->host = xstrdup(t->host);
	r->host_unicode = t->host_unicode[0] ? xstrdup(t->host_unicode) : NULL;
	r->port = p->port;
	r->tls_mode = p->mode;
	r->want_transcript = params->transcript;
	r->keep_der = params->showcerts;
	r->warn_days = params->warn_days;
	r->crit_days = params->crit_days;
	r->warn_time_ms = params->warn_time_ms;
	r->crit_time_ms = params->crit_time_ms;
	r->size.reserve = params->size_reserve;
	r->started = time(NULL);
	return p;
}

void probe_set_addrs(struct probe *p, const struct dns_addr *a, size_t n, double dns_ms)
{
	if (n > DNS_MAX_ADDRS)
		n = DNS_MAX_ADDRS;
	memcpy(p->preset, a, n * sizeof(*a));
	p->npreset = n;
	p->preset_dns_ms = dns_ms;
}

void probe_start(struct probe *p)
{
	const struct probe_params *o = p->p;
	struct session_plan plan;

	memset(&plan, 0, sizeof(plan));
	plan.mode = p->mode;
	plan.tls = p->env->tls;
	if (o->check_tls_required)
		plan.steps |= SESSION_STEP_TLSREQ;
	if (o->auth_user != NULL)
		plan.steps |= SESSION_STEP_AUTH;
	if (o->size_check)
		plan.steps |= SESSION_STEP_SIZE;
	if (o->mail_from != NULL)
		plan.steps |= SESSION_STEP_ENVELOPE;
	p->t0 = plan.t0 = loop_now();
	p->main = smtp_session_new(p->env->loop, p->env->dns, o, &plan, p->host, p->port,
	                           p->literal, p->r, on_main_done, p);
	p->running = p->main;
	if (p->npreset > 0)
		smtp_session_set_addrs(p->main, p->preset, p->npreset, p->preset_dns_ms);
	smtp_session_start(p->main);
}

void probe_abort(struct probe *p, const char *why)
{
	struct smtp_session *s = p->running;
	const char *w = s != NULL ? smtp_session_waiting(s) : "";

	if (p->finished)
		return;
	p->aborted = true;
	if (p->kind != KIND_MAIN)
		result_add(p->r, SEV_CRITICAL, "timeout", "%s (during the extra connection "
		           "%s, while waiting for %s)", why, kind_names[p->kind],
		           w[0] ? w : "the server");
	else
		result_add(p->r, SEV_CRITICAL, "timeout", "%s (while waiting for %s)", why,
		           w[0] ? w : "the server");
	if (s != NULL) {
		smtp_session_stop(s, why);     /* its callback ends the probe */
		return;
	}
	/* Between connections: nothing is open, end from here. */
	probe_event(p, p->r, NULL, "%s", why);
	loop_timer_stop(p->env->loop, &p->next);
	probe_final(p);
}

void probe_free(struct probe *p)
{
	if (p == NULL)
		return;
	loop_timer_stop(p->env->loop, &p->next);
	smtp_session_free(p->main);
	smtp_session_free(p->extra);
	if (p->scratch != NULL) {
		result_clear(p->scratch);
		free(p->scratch);
	}
	free(p);
}
