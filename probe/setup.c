/* --setup: from a mail address to a recommended submission server. Three
 * phases on the loop, each started from a deferred step so no callback
 * runs inside another: discovery (SRV, autoconfig over HTTPS, MX, all at
 * once), one light probe per candidate (at most 12, in parallel), then,
 * only with --auth, the login on the best candidates whose certificate is
 * valid for their name (a password never goes to a server we cannot
 * authenticate, nor over a connection without TLS). One deadline bounds
 * the whole run. */
#include "setup.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "autoconfig.h"
#include "https.h"
#include "target.h"
#include "xmalloc.h"

#define SETUP_SRV_KEEP   4            /* targets taken from each SRV name */
#define SETUP_MX_KEEP    2            /* MX hosts tried as a last resort */
#define SETUP_AC_PORT    443

enum setup_phase { PH_DISCOVER = 0, PH_PROBE, PH_LOGIN, PH_DONE };

struct setup_run;

struct setup_slot {                   /* one session and whose it is */
	struct setup_run *run;            /* borrowed */
	size_t i;                         /* candidate index */
	struct probe *s;                  /* owned */
	bool done;
};

struct setup_run {
	const struct probe_env *env;      /* borrowed */
	struct setup_result *sr;          /* borrowed, owned by main */
	setup_done_cb cb;
	void *cbarg;
	struct options light_opt, login_opt;
	struct probe_params light, login; /* built from these options */
	char domain[254];
	enum setup_phase phase;
	double t0;
	/* discovery */
	struct dns_query *q_srv[2], *q_mx;          /* owned until answered */
	bool srv_done[2], mx_done;
	struct dns_srv srv[2][DNS_MAX_SRV];
	size_t nsrv[2];
	char mx[SETUP_MX_KEEP][256];
	size_t nmx;
	struct https_get *hg[2];                     /* owned */
	bool ac_done[2];
	struct autoconfig ac[2];
	bool ac_ok[2];
	char ac_url[2][400];
	/* probes */
	struct setup_slot slot[SETUP_MAX_CANDIDATES];
	struct setup_slot lslot;                     /* the login connection */
	size_t nlogins;
	struct loop_timer advance, deadline;
	bool expired;
};

static const char *const source_names[] = { "srv", "autoconfig", "guess", "mx" };
_Static_assert(sizeof(source_names) / sizeof(source_names[0]) == SRC_MX + 1, "sources");

const char *setup_source_name(enum setup_source s)
{
	return (unsigned)s <= SRC_MX ? source_names[s] : "";
}

void setup_result_init(struct setup_result *sr)
{
	memset(sr, 0, sizeof(*sr));
	sr->rec = -1;
	sr->status = ST_UNKNOWN;
	sr->configs = SETUP_CFG_ALL;
	for (size_t i = 0; i < SETUP_MAX_CANDIDATES; i++)
		result_init(&sr->cand[i].r);
}

void setup_result_clear(struct setup_result *sr)
{
	free(sr->address);
	free(sr->domain);
	findings_clear(sr->findings, &sr->nfindings);
	for (size_t i = 0; i < SETUP_MAX_CANDIDATES; i++) {
		result_clear(&sr->cand[i].r);
		if (sr->cand[i].login != NULL) {
			result_clear(sr->cand[i].login);
			free(sr->cand[i].login);
		}
	}
	free(sr->config_curl);
	free(sr->config_postfix);
	free(sr->config_msmtp);
	free(sr->cafile);
	memset(sr, 0, sizeof(*sr));
	sr->rec = -1;
}

int setup_config_parse(const char *list)
{
	int bits = 0;
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 4 && strncasecmp(p, "curl", 4) == 0)
			bits |= SETUP_CFG_CURL;
		else if (n == 7 && strncasecmp(p, "postfix", 7) == 0)
			bits |= SETUP_CFG_POSTFIX;
		else if (n == 5 && strncasecmp(p, "msmtp", 5) == 0)
			bits |= SETUP_CFG_MSMTP;
		else if (n == 3 && strncasecmp(p, "all", 3) == 0)
			bits |= SETUP_CFG_ALL;
		else
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	return bits ? bits : -1;
}

static void add(struct setup_result *sr, enum severity sev, const char *code,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add(struct setup_result *sr, enum severity sev, const char *code,
                 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	findings_vadd(sr->findings, &sr->nfindings, sev, code, fmt, ap);
	va_end(ap);
}

static void disc(struct setup_result *sr, const char *source, const char *name,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records one discovery question and its answer. */
static void disc(struct setup_result *sr, const char *source, const char *name,
                 const char *fmt, ...)
{
	struct setup_discovery *d;
	va_list ap;

	if (sr->ndisc >= SETUP_MAX_DISCOVERY)
		return;
	d = &sr->disc[sr->ndisc++];
	snprintf(d->source, sizeof(d->source), "%s", source);
	snprintf(d->name, sizeof(d->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(d->answer, sizeof(d->answer), fmt, ap);
	va_end(ap);
}

static void schedule(struct setup_run *s)
{
	loop_timer_set(s->env->loop, &s->advance, 0);
}

/* ---- discovery ---- */

static void srv_answer(struct setup_run *s, int k, enum dns_err e, const ares_dns_record_t *rec)
{
	static const char *const svc[2] = { "_submissions._tcp", "_submission._tcp" };
	char name[300], list[480] = "";
	size_t total = 0, i;
	bool refused = false;

	s->q_srv[k] = NULL;
	s->srv_done[k] = true;
	snprintf(name, sizeof(name), "%s.%s", svc[k], s->domain);
	if (e == DNS_OK)
		s->nsrv[k] = dns_srv_collect(rec, name, s->srv[k], DNS_MAX_SRV, &total, &refused);
	if (e != DNS_OK || total == 0) {
		disc(s->sr, "srv", name, "%s", e == DNS_OK ? "no SRV record" : dns_err_name(e));
		s->nsrv[k] = 0;
	} else if (refused) {
		disc(s->sr, "srv", name, "target \".\": the service is explicitly not offered "
		     "(RFC 2782)");
		add(s->sr, SEV_INFO, "setup-srv-not-offered", "%s says the service is not "
		     "offered (target \".\")", name);
		s->nsrv[k] = 0;
	} else {
		for (i = 0; i < s->nsrv[k] && i < SETUP_SRV_KEEP; i++) {
			size_t used = strlen(list);

			snprintf(list + used, sizeof(list) - used, "%s%u %u %u %s", i ? ", " : "",
			         s->srv[k][i].priority, s->srv[k][i].weight, s->srv[k][i].port,
			         s->srv[k][i].target[0] ? s->srv[k][i].target : ".");
		}
		disc(s->sr, "srv", name, "%s%s", list, total > SETUP_SRV_KEEP ?
		     " (and more: only the best are tried)" : "");
		if (total > SETUP_SRV_KEEP) {
			size_t used = strlen(s->sr->disc[s->sr->ndisc - 1].answer);

			snprintf(s->sr->disc[s->sr->ndisc - 1].answer + used,
			         sizeof(s->sr->disc[0].answer) - used, " [%zu records]", total);
		}
	}
	schedule(s);
}

static void on_srv0(void *arg, enum dns_err e, const ares_dns_record_t *rec)
{
	if (e != DNS_CANCELLED)
		srv_answer(arg, 0, e, rec);
}

static void on_srv1(void *arg, enum dns_err e, const ares_dns_record_t *rec)
{
	if (e != DNS_CANCELLED)
		srv_answer(arg, 1, e, rec);
}

static void on_mx(void *arg, enum dns_err e, const ares_dns_record_t *rec)
{
	struct setup_run *s = arg;
	unsigned pref[SETUP_MX_KEEP] = {0};
	char list[480] = "";
	size_t i, n;

	if (e == DNS_CANCELLED)
		return;
	s->q_mx = NULL;
	s->mx_done = true;
	n = e == DNS_OK && rec != NULL ? ares_dns_record_rr_cnt(rec, ARES_SECTION_ANSWER) : 0;
	for (i = 0; i < n; i++) {
		const ares_dns_rr_t *rr = ares_dns_record_rr_get_const(rec, ARES_SECTION_ANSWER, i);
		const char *ex;
		unsigned p;
		size_t k, len;

		if (ares_dns_rr_get_type(rr) != ARES_REC_TYPE_MX ||
		    !dns_name_eq(ares_dns_rr_get_name(rr), s->domain))
			continue;
		ex = ares_dns_rr_get_str(rr, ARES_RR_MX_EXCHANGE);
		p = ares_dns_rr_get_u16(rr, ARES_RR_MX_PREFERENCE);
		if (ex == NULL || ex[0] == '\0' || strcmp(ex, ".") == 0)
			continue;       /* null MX (RFC 7505): receives no mail */
		len = strlen(ex);
		if (len > 0 && ex[len - 1] == '.')
			len--;
		if (len >= sizeof(s->mx[0]))
			continue;
		for (k = s->nmx; k > 0 && p < pref[k - 1]; k--)
			if (k < SETUP_MX_KEEP) {
				pref[k] = pref[k - 1];
				memcpy(s->mx[k], s->mx[k - 1], sizeof(s->mx[0]));
			}
		if (k < SETUP_MX_KEEP) {
			pref[k] = p;
			memcpy(s->mx[k], ex, len);
			s->mx[k][len] = '\0';
			if (s->nmx < SETUP_MX_KEEP)
				s->nmx++;
		}
	}
	for (i = 0; i < s->nmx; i++) {
		size_t used = strlen(list);

		snprintf(list + used, sizeof(list) - used, "%s%u %s", i ? ", " : "", pref[i], s->mx[i]);
	}
	disc(s->sr, "mx", s->domain, "%s", s->nmx ? list : e == DNS_OK ? "no MX host" :
	     dns_err_name(e));
	schedule(s);
}

static void ac_answer(struct setup_run *s, int k, const struct https_response *resp)
{
	char err[200] = "";

	s->ac_done[k] = true;
	if (resp->error[0]) {
		disc(s->sr, "autoconfig", s->ac_url[k], "%s", resp->error);
	} else if (resp->status >= 300 && resp->status < 400) {
		disc(s->sr, "autoconfig", s->ac_url[k], "HTTP %d redirect to %s: not followed "
		     "(the document must come from the host asked)", resp->status,
		     resp->location[0] ? resp->location : "(no Location)");
	} else if (resp->status != 200) {
		disc(s->sr, "autoconfig", s->ac_url[k], "HTTP %d", resp->status);
	} else if (autoconfig_parse(resp->body, resp->body_len, s->sr->address, &s->ac[k], err,
	                            sizeof(err)) != 0) {
		disc(s->sr, "autoconfig", s->ac_url[k], "refused: %s", err);
		add(s->sr, SEV_INFO, "setup-autoconfig-invalid", "the autoconfig document at %s "
		     "was refused: %s", s->ac_url[k], err);
	} else {
		char list[480] = "";

		s->ac_ok[k] = true;
		for (size_t i = 0; i < s->ac[k].nsmtp; i++) {
			const struct autoconfig_smtp *a = &s->ac[k].smtp[i];
			size_t used = strlen(list);

			snprintf(list + used, sizeof(list) - used, "%s%s:%u %s%s%s", i ? ", " : "",
			         a->hostname[0] ? a->hostname : "?", (unsigned)a->port,
			         autoconfig_socket_name(a->socket), a->problem[0] ? " (unusable: " : "",
			         a->problem[0] ? a->problem : "");
			if (a->problem[0]) {
				used = strlen(list);
				snprintf(list + used, sizeof(list) - used, ")");
			}
		}
		disc(s->sr, "autoconfig", s->ac_url[k], "%s", s->ac[k].nsmtp ? list :
		     "a valid document without an SMTP server");
	}
	https_get_free(s->hg[k]);
	s->hg[k] = NULL;
	schedule(s);
}

static void on_ac0(void *arg, const struct https_response *r)
{
	ac_answer(arg, 0, r);
}

static void on_ac1(void *arg, const struct https_response *r)
{
	ac_answer(arg, 1, r);
}

/* RFC 3986 unreserved characters stay, everything else is %XX. */
static void url_encode(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *in && o + 4 < outlen; in++) {
		unsigned char c = (unsigned char)*in;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "%%%02X", c);
	}
	out[o] = '\0';
}

static uint16_t ac_port(void)
{
	/* Tests only: the HTTPS server of the test suite is not on port 443. */
	const char *e = getenv("SMTP_PROBE_AUTOCONFIG_PORT");
	uint16_t p;

	if (e != NULL && target_port(e, &p) == 0)
		return p;
	return SETUP_AC_PORT;
}

static void discover(struct setup_run *s)
{
	char name[300], path[400], enc[300], host[300], portpart[8];
	const struct options *o = s->env->opt;
	uint16_t port = ac_port();

	snprintf(name, sizeof(name), "_submissions._tcp.%s", s->domain);
	s->q_srv[0] = dns_query_rr(s->env->dns, name, ARES_REC_TYPE_SRV, on_srv0, s);
	if (s->q_srv[0] == NULL && !s->srv_done[0]) {
		s->srv_done[0] = true;
		disc(s->sr, "srv", name, "cannot start the lookup");
	}
	snprintf(name, sizeof(name), "_submission._tcp.%s", s->domain);
	s->q_srv[1] = dns_query_rr(s->env->dns, name, ARES_REC_TYPE_SRV, on_srv1, s);
	if (s->q_srv[1] == NULL && !s->srv_done[1]) {
		s->srv_done[1] = true;
		disc(s->sr, "srv", name, "cannot start the lookup");
	}
	s->q_mx = dns_query_rr(s->env->dns, s->domain, ARES_REC_TYPE_MX, on_mx, s);
	if (s->q_mx == NULL && !s->mx_done) {
		s->mx_done = true;
		disc(s->sr, "mx", s->domain, "cannot start the lookup");
	}
	/* The two places Thunderbird looks (after its own database). */
	url_encode(s->sr->address, enc, sizeof(enc));
	snprintf(host, sizeof(host), "autoconfig.%s", s->domain);
	snprintf(path, sizeof(path), "/mail/config-v1.1.xml?emailaddress=%s", enc);
	portpart[0] = '\0';
	if (port != 443)
		snprintf(portpart, sizeof(portpart), ":%u", (unsigned)port);
	snprintf(s->ac_url[0], sizeof(s->ac_url[0]), "https://%s%s%s", host, portpart, path);
	s->hg[0] = https_get_start(s->env->loop, s->env->dns, s->env->tls, host, port, path,
	                           AUTOCONFIG_MAX_BYTES, o->timeout_ms, on_ac0, s);
	snprintf(path, sizeof(path), "/.well-known/autoconfig/mail/config-v1.1.xml");
	snprintf(s->ac_url[1], sizeof(s->ac_url[1]), "https://%s%s%s", s->domain, portpart, path);
	s->hg[1] = https_get_start(s->env->loop, s->env->dns, s->env->tls, s->domain, port, path,
	                           AUTOCONFIG_MAX_BYTES, o->timeout_ms, on_ac1, s);
	for (int k = 0; k < 2; k++)
		if (s->hg[k] == NULL) {
			s->ac_done[k] = true;
			disc(s->sr, "autoconfig", s->ac_url[k], "cannot start the request");
		}
}

static bool discovery_done(const struct setup_run *s)
{
	return s->srv_done[0] && s->srv_done[1] && s->mx_done && s->ac_done[0] && s->ac_done[1];
}

/* ---- candidates ---- */

static struct setup_candidate *cand_add(struct setup_run *s, const char *host, uint16_t port,
                                        enum tls_mode mode, enum setup_source src,
                                        const char *via)
{
	struct setup_result *sr = s->sr;
	struct setup_candidate *c;

	if (host[0] == '\0' || port == 0)
		return NULL;
	for (size_t i = 0; i < sr->ncand; i++)
		if (dns_name_eq(sr->cand[i].host, host) && sr->cand[i].port == port)
			return NULL;          /* the first (strongest) source keeps it */
	if (sr->ncand == SETUP_MAX_CANDIDATES) {
		sr->cand_dropped++;
		return NULL;
	}
	c = &sr->cand[sr->ncand++];
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = port;
	c->mode = mode;
	c->source = src;
	snprintf(c->via, sizeof(c->via), "%s", via);
	return c;
}

static void build_candidates(struct setup_run *s)
{
	static const char *const guess[] = { "smtp.", "mail.", "" };
	char via[200];
	size_t i;
	int k;

	/* RFC 8314 5.1: _submissions (implicit TLS) before _submission. */
	for (k = 0; k < 2; k++)
		for (i = 0; i < s->nsrv[k] && i < SETUP_SRV_KEEP; i++) {
			const struct dns_srv *r = &s->srv[k][i];

			snprintf(via, sizeof(via), "SRV %s._tcp.%s priority %u weight %u",
			         k == 0 ? "_submissions" : "_submission", s->domain, r->priority,
			         r->weight);
			cand_add(s, r->target, r->port, k == 0 ? TLS_MODE_IMPLICIT : TLS_MODE_STARTTLS,
			         SRC_SRV, via);
		}
	for (k = 0; k < 2; k++)
		for (i = 0; s->ac_ok[k] && i < s->ac[k].nsmtp; i++) {
			const struct autoconfig_smtp *a = &s->ac[k].smtp[i];
			struct setup_candidate *c;

			if (a->problem[0])
				continue;
			if (a->socket == AC_SOCKET_PLAIN)
				add(s->sr, SEV_INFO, "setup-autoconfig-plaintext", "the autoconfig "
				     "document names %s:%u without TLS (socketType plain): a password "
				     "must never be sent that way; probed with STARTTLS, recommended only "
				     "if TLS works", a->hostname, (unsigned)a->port);
			snprintf(via, sizeof(via), "autoconfig %s (socketType %s)", k == 0 ?
			         "autoconfig.DOMAIN" : "DOMAIN/.well-known", autoconfig_socket_name(a->socket));
			c = cand_add(s, a->hostname, a->port, a->socket == AC_SOCKET_SSL ?
			             TLS_MODE_IMPLICIT : TLS_MODE_STARTTLS, SRC_AUTOCONFIG, via);
			if (c != NULL) {
				snprintf(c->ac_auth, sizeof(c->ac_auth), "%s", a->nauth ? a->auth[0] : "");
				snprintf(c->ac_user, sizeof(c->ac_user), "%s", a->username);
				c->ac_plain = a->socket == AC_SOCKET_PLAIN;
			}
		}
	for (i = 0; i < sizeof(guess) / sizeof(guess[0]); i++) {
		char host[300];

		snprintf(host, sizeof(host), "%s%s", guess[i], s->domain);
		if (strlen(host) >= sizeof(s->sr->cand[0].host))
			continue;
		cand_add(s, host, 465, TLS_MODE_IMPLICIT, SRC_GUESS, "guess (port 465, implicit TLS)");
		cand_add(s, host, 587, TLS_MODE_STARTTLS, SRC_GUESS, "guess (port 587, STARTTLS)");
	}
	for (i = 0; i < s->nmx; i++) {
		snprintf(via, sizeof(via), "MX host of %s (receives mail; often not the "
		         "submission server)", s->domain);
		cand_add(s, s->mx[i], 587, TLS_MODE_STARTTLS, SRC_MX, via);
		cand_add(s, s->mx[i], 465, TLS_MODE_IMPLICIT, SRC_MX, via);
	}
}

static void on_session_done(void *arg, struct probe *ss)
{
	struct setup_slot *sl = arg;

	(void)ss;                     /* freed by the next step, not here */
	sl->done = true;
	schedule(sl->run);
}

/* Starts one probe for candidate i with pp into r; false when it could
 * not even start (its result says why). */
static bool session_start(struct setup_run *s, struct setup_slot *sl, size_t i,
                          const struct probe_params *pp, struct result *r)
{
	struct setup_candidate *c = &s->sr->cand[i];
	struct target t;
	char err[200], spec[300];

	sl->run = s;
	sl->i = i;
	sl->done = false;
	sl->s = NULL;
	if (target_parse(c->host, &t, err, sizeof(err)) != 0) {
		r->target = xstrdup(c->host);
		r->host = xstrdup(c->host);
		r->port = c->port;
		result_add(r, SEV_CRITICAL, "bad-target", "%s", err);
		result_finish(r);
		sl->done = true;
		return false;
	}
	t.port = c->port;
	t.mode_set = true;
	t.mode = c->mode;
	t.mail_domain = false;
	snprintf(spec, sizeof(spec), t.literal == AF_INET6 ? "[%s]:%u" : "%s:%u", t.host,
	         (unsigned)c->port);
	sl->s = probe_new(s->env, pp, &t, spec, r, on_session_done, sl);
	probe_start(sl->s);
	return true;
}

static void probe_all(struct setup_run *s)
{
	s->phase = PH_PROBE;
	for (size_t i = 0; i < s->sr->ncand; i++)
		session_start(s, &s->slot[i], i, &s->light, &s->sr->cand[i].r);
}

static bool probes_done(const struct setup_run *s)
{
	for (size_t i = 0; i < s->sr->ncand; i++)
		if (!s->slot[i].done)
			return false;
	return true;
}

/* ---- the login (--auth) ---- */

static bool login_candidate(const struct setup_candidate *c)
{
	return c->usable && c->cert_valid && c->auth_offered && c->login == NULL;
}

/* The next candidate to log in to, best first; -1 when none may be. */
static int login_next(const struct setup_run *s)
{
	const struct setup_result *sr = s->sr;

	if (s->nlogins >= SETUP_MAX_LOGINS)
		return -1;
	for (size_t i = 0; i < sr->ncand; i++)
		if (sr->cand[i].login != NULL && sr->cand[i].login->auth.accepted)
			return -1;
	if (sr->rec >= 0 && login_candidate(&sr->cand[sr->rec]))
		return sr->rec;
	for (size_t i = 0; i < sr->ncand; i++)
		if (login_candidate(&sr->cand[i]))
			return (int)i;
	return -1;
}

static bool login_start(struct setup_run *s)
{
	int i = login_next(s);
	struct setup_candidate *c;

	if (i < 0)
		return false;
	c = &s->sr->cand[i];
	c->login = xcalloc(1, sizeof(*c->login));
	result_init(c->login);
	s->nlogins++;
	s->phase = PH_LOGIN;
	session_start(s, &s->lslot, (size_t)i, &s->login, c->login);
	schedule(s);          /* it may have ended at once */
	return true;
}

/* ---- the end ---- */

static void finish(struct setup_run *s)
{
	struct setup_result *sr = s->sr;
	const struct options *o = s->env->opt;

	s->phase = PH_DONE;
	loop_timer_stop(s->env->loop, &s->deadline);
	setup_recommend(sr);
	if (sr->rec >= 0) {
		const struct setup_candidate *c = &sr->cand[sr->rec];

		/* The recommended server's own problems are the user's problems. */
		for (size_t i = 0; i < c->r.nfindings; i++)
			if (c->r.findings[i].sev != SEV_INFO)
				add(sr, SEV_WARNING, c->r.findings[i].code, "%s:%u: %s", c->host,
				     (unsigned)c->port, c->r.findings[i].message ? c->r.findings[i].message : "");
		if (!c->cert_valid)
			add(sr, SEV_WARNING, "setup-cert-not-valid", "the certificate of %s is not "
			     "valid for that name: clients that verify it (they should) will refuse "
			     "the connection", c->host);
		if (!c->auth_offered)
			add(sr, SEV_WARNING, "setup-no-auth", "%s:%u offers no AUTH after TLS: it "
			     "can only relay for clients it knows by address", c->host, (unsigned)c->port);
		if (o->auth_user != NULL && !sr->login_tested)
			add(sr, SEV_WARNING, "setup-login-not-tested", "the password was not sent: %s",
			     c->cert_valid ? "no candidate offers AUTH after TLS" :
			     "no candidate has a certificate valid for its name (a password only goes "
			     "to a server that proved who it is)");
		else if (o->auth_user != NULL && !sr->login_ok) {
			char who[300] = "";

			for (size_t i = 0; i < sr->ncand; i++)
				if (sr->cand[i].login != NULL && sr->cand[i].login->auth.tested) {
					size_t used = strlen(who);

					snprintf(who + used, sizeof(who) - used, "%s%s:%u (%s)", used ? ", " : "",
					         sr->cand[i].host, (unsigned)sr->cand[i].port,
					         sr->cand[i].login->auth.reply ? sr->cand[i].login->auth.reply : "no reply");
				}
			add(sr, SEV_WARNING, "setup-login-failed", "the login as %s was refused by %s",
			     o->auth_user, who[0] ? who : "every server tried");
		}
	} else {
		add(sr, SEV_CRITICAL, "setup-no-server", "no usable submission server for %s: %s",
		     sr->address, sr->missing);
	}
	setup_snippets(sr);
	sr->status = findings_status(sr->findings, sr->nfindings);
	sr->total_ms = loop_now() - s->t0;
	s->cb(s->cbarg);
}

static void free_sessions(struct setup_run *s)
{
	for (size_t i = 0; i < SETUP_MAX_CANDIDATES; i++) {
		probe_free(s->slot[i].s);
		s->slot[i].s = NULL;
	}
	probe_free(s->lslot.s);
	s->lslot.s = NULL;
}

static void on_advance(struct loop *l, void *arg)
{
	struct setup_run *s = arg;

	(void)l;
	switch (s->phase) {
	case PH_DISCOVER:
		if (!discovery_done(s))
			return;
		build_candidates(s);
		if (s->sr->ncand == 0 || s->expired) {
			finish(s);
			return;
		}
		probe_all(s);
		schedule(s);          /* every candidate may have ended at once */
		return;
	case PH_PROBE:
		if (!probes_done(s))
			return;
		free_sessions(s);
		setup_recommend(s->sr);
		if (s->env->opt->auth_user != NULL && !s->expired && login_start(s))
			return;
		finish(s);
		return;
	case PH_LOGIN:
		if (!s->lslot.done)
			return;
		free_sessions(s);
		setup_recommend(s->sr);
		if (!s->sr->login_ok && !s->expired && login_start(s))
			return;
		finish(s);
		return;
	case PH_DONE:
		return;
	}
}

static void on_deadline(struct loop *l, void *arg)
{
	struct setup_run *s = arg;
	char why[96];

	(void)l;
	s->expired = true;
	snprintf(why, sizeof(why), "--setup did not finish within its %.0f s deadline",
	         s->env->opt->deadline_ms / 1000.0);
	for (int k = 0; k < 2; k++) {
		if (!s->srv_done[k]) {
			dns_cancel(s->q_srv[k]);
			s->q_srv[k] = NULL;
			s->srv_done[k] = true;
			disc(s->sr, "srv", k == 0 ? "_submissions._tcp" : "_submission._tcp", "%s", why);
		}
		if (!s->ac_done[k]) {
			https_get_free(s->hg[k]);
			s->hg[k] = NULL;
			s->ac_done[k] = true;
			disc(s->sr, "autoconfig", s->ac_url[k], "%s", why);
		}
	}
	if (!s->mx_done) {
		dns_cancel(s->q_mx);
		s->q_mx = NULL;
		s->mx_done = true;
		disc(s->sr, "mx", s->domain, "%s", why);
	}
	for (size_t i = 0; i < SETUP_MAX_CANDIDATES; i++)
		if (s->slot[i].s != NULL && !s->slot[i].done)
			probe_abort(s->slot[i].s, why);
	if (s->lslot.s != NULL && !s->lslot.done)
		probe_abort(s->lslot.s, why);
	schedule(s);
}

struct setup_run *setup_start(const struct probe_env *env, const char *address,
                              struct setup_result *sr, setup_done_cb cb, void *arg)
{
	const char *at = strrchr(address, '@');
	struct setup_run *s;
	struct options *lo;

	if (at == NULL)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->env = env;
	s->sr = sr;
	s->cb = cb;
	s->cbarg = arg;
	s->t0 = loop_now();
	snprintf(s->domain, sizeof(s->domain), "%s", at + 1);
	for (char *c = s->domain; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	sr->address = xstrdup(address);
	sr->domain = xstrdup(s->domain);
	/* A configuration file outlives the directory it was written from. */
	sr->cafile = env->opt->cafile ? realpath(env->opt->cafile, NULL) : NULL;
	sr->auth_user = env->opt->auth_user;
	/* The light probe: EHLO, STARTTLS, EHLO, QUIT, nothing else asked. */
	s->light_opt = *env->opt;
	lo = &s->light_opt;
	lo->port = 0;
	lo->mode_set = false;
	lo->mx = false;
	lo->servername = NULL;
	lo->npins = 0;
	lo->dane = lo->mta_sts = lo->tls_versions = lo->starttls_injection = false;
	lo->check_tls_required = false;
	lo->size_check = false;
	lo->auth_user = NULL;
	lo->mail_from = NULL;
	lo->nrcpt = 0;
	lo->explain = false;
	probe_params_from_options(&s->light, &s->light_opt);
	/* The login connection: the same, plus AUTH and, logged in (a
	 * submission server refuses MAIL before), the size check: the
	 * recommended size limit is then the one the server proved. */
	s->login_opt = s->light_opt;
	s->login_opt.auth_user = env->opt->auth_user;
	s->login_opt.size_check = true;
	probe_params_from_options(&s->login, &s->login_opt);
	loop_timer_init(&s->advance, on_advance, s);
	loop_timer_init(&s->deadline, on_deadline, s);
	loop_timer_set(env->loop, &s->deadline, env->opt->deadline_ms);
	s->phase = PH_DISCOVER;
	discover(s);
	schedule(s);
	return s;
}

void setup_free(struct setup_run *s)
{
	if (s == NULL)
		return;
	loop_timer_stop(s->env->loop, &s->advance);
	loop_timer_stop(s->env->loop, &s->deadline);
	for (int k = 0; k < 2; k++) {
		dns_cancel(s->q_srv[k]);
		https_get_free(s->hg[k]);
	}
	dns_cancel(s->q_mx);
	free_sessions(s);
	free(s);
}
