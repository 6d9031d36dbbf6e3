/* The MX view of a mail domain: how mail to user@domain is routed and
 * whether every hop behaves the same. DNS first (MX, then each host's
 * addresses unless the MX answer carried them), then the probes, bounded by
 * --concurrency, then reverse DNS of each address, then the summary. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn.h"
#include "dane.h"
#include "ip.h"
#include "mx.h"
#include "smtp_ehlo.h"
#include "target.h"
#include "xmalloc.h"

struct mx_audit;

struct host_ctx {
	struct mx_audit *a;
	size_t h;
};

/* One probe of the audit and its reverse-DNS follow-up. */
struct mx_probe {
	struct mx_audit *a;               /* borrowed */
	size_t host;                      /* index into d->mx */
	struct result *r;                 /* borrowed: d->probes[i] */
	struct probe *s;                  /* owned while running */
	struct dns_addr addrs[DNS_MAX_ADDRS];
	size_t naddrs;
	struct dns_query *dq;             /* owned until its callback */
	struct dane_check *dc;            /* owned: --dane after the dialogue */
	struct dns_addr probed;           /* the address the dialogue ran on */
	bool started, done;
	bool dialogue_done;               /* the session ended; PTR/DANE may follow */
	/* Reverse lookups started with the dialogue, so that the PTR check
	 * after it is answered from c-ares' cache instead of costing two more
	 * round trips. */
	struct ptr_warm {
		struct mx_probe *p;       /* borrowed */
		struct dns_query *q;      /* owned until its callback */
		int family;
	} warm[DNS_MAX_ADDRS];
	size_t nwarm;
};

struct mx_audit {
	const struct probe_env *env;      /* borrowed */
	struct domain_result *d;          /* borrowed, owned by the run */
	mx_done_cb cb;
	void *cbarg;
	double t0;
	struct dns_query *dq;             /* the MX query */
	struct dns_query *hq[MX_MAX_HOSTS];/* address queries per host */
	struct host_ctx hctx[MX_MAX_HOSTS];/* their callback arguments */
	size_t hosts_pending;
	struct mx_probe *probes;          /* owned */
	size_t nprobes, next, running, finished;
	struct loop_timer reap;           /* frees finished sessions outside their callbacks */
	struct mtasts_check *sts;         /* owned: --mta-sts, beside the probes */
	bool sts_pending;                 /* its answer is still due */
	bool probes_done;                 /* only the MTA-STS check is still running */
	bool aborted;                     /* the run's deadline passed: finish now */
	bool done;
};

void domain_result_init(struct domain_result *d)
{
	memset(d, 0, sizeof(*d));
	d->status = ST_UNKNOWN;
	d->dns_ms = d->total_ms = -1;
}

void domain_result_clear(struct domain_result *d)
{
	size_t i;

	free(d->target);
	free(d->domain);
	free(d->domain_unicode);
	findings_clear(d->findings, &d->nfindings);
	for (i = 0; i < d->nprobes; i++)
		result_clear(&d->probes[i]);
	free(d->probes);
	domain_result_init(d);
}

static void dadd(struct domain_result *d, enum severity sev, const char *code,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void dadd(struct domain_result *d, enum severity sev, const char *code,
                 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	findings_vadd(d->findings, &d->nfindings, sev, code, fmt, ap);
	va_end(ap);
}

/* ---- summary ---- */

static bool probe_answered(const struct result *r)
{
	return r->greeting.present && r->greeting.code == 220;
}

static const char *verdict_of(const struct result *r)
{
	if (!r->tls.ok)
		return "no TLS";
	if (r->tls.trusted && r->tls.hostname_match)
		return "valid certificate";
	return "certificate not valid";
}

/* Names one difference between probes in msg (appending). */
static void differ(char *msg, size_t len, const char *what, const char *a,
                   const char *an, const char *b, const char *bn)
{
	size_t used = strlen(msg);

	if (used + 40 >= len)
		return;
	snprintf(msg + used, len - used, "%s%s: %s on %s, %s on %s", used ? "; " : "",
	         what, a, an, b, bn);
}

static void summarise(struct mx_audit *a)
{
	struct domain_result *d = a->d;
	const struct result *ref = NULL;
	char msg[400] = "", sz1[32], sz2[32];
	size_t i, h;

	for (i = 0; i < d->nprobes; i++) {
		const struct result *r = &d->probes[i];
		struct mx_host *mh = &d->mx[a->probes[i].host];
		size_t k;

		d->addresses_probed++;
		mh->probes++;
		if (probe_answered(r)) {
			d->addresses_answered++;
			mh->answered++;
			if (r->starttls_offered || r->tls.ok)
				d->starttls_count++;
		}
		/* Families: what each attempt says, Happy Eyeballs included. */
		for (k = 0; k < r->nattempts; k++) {
			bool ok = r->attempts[k].error[0] == '\0';

			if (r->attempts[k].family == AF_INET6) {
				mh->has6 = true;
				mh->ok6 |= ok;
			} else {
				mh->has4 = true;
				mh->ok4 |= ok;
			}
		}
		if (!probe_answered(r))
			continue;
		if (ref == NULL) {
			ref = r;
			continue;
		}
		/* Compare with the first host that answered. */
		if ((r->starttls_offered || r->tls.ok) != (ref->starttls_offered || ref->tls.ok))
			differ(msg, sizeof(msg), "STARTTLS",
			       ref->starttls_offered ? "offered" : "missing", ref->address,
			       r->starttls_offered ? "offered" : "missing", r->address);
		if (r->tls.ok && ref->tls.ok && strcmp(r->tls.version, ref->tls.version) != 0)
			differ(msg, sizeof(msg), "TLS version", ref->tls.version, ref->address,
			       r->tls.version, r->address);
		if (strcmp(verdict_of(r), verdict_of(ref)) != 0)
			differ(msg, sizeof(msg), "certificate", verdict_of(ref), ref->address,
			       verdict_of(r), r->address);
		if (r->size.limit != ref->size.limit || r->size.has_limit != ref->size.has_limit) {
			snprintf(sz1, sizeof(sz1), "%llu", (unsigned long long)ref->size.limit);
			snprintf(sz2, sizeof(sz2), "%llu", (unsigned long long)r->size.limit);
			differ(msg, sizeof(msg), "SIZE", ref->size.has_limit ? sz1 : "none",
			       ref->address, r->size.has_limit ? sz2 : "none", r->address);
		}
		{
			const char *m1 = ref->auth.mechanisms_tls ? ref->auth.mechanisms_tls :
			                 ref->auth.mechanisms ? ref->auth.mechanisms : "none";
			const char *m2 = r->auth.mechanisms_tls ? r->auth.mechanisms_tls :
			                 r->auth.mechanisms ? r->auth.mechanisms : "none";

			if (strcasecmp(m1, m2) != 0)
				differ(msg, sizeof(msg), "AUTH", m1, ref->address, m2, r->address);
		}
		/* The same host over its two families should be the same server. */
		if (a->probes[i].host == a->probes[ref - d->probes].host && r->tls.ok &&
		    ref->tls.ok && r->tls.nchain > 0 && ref->tls.nchain > 0 &&
		    strcmp(r->tls.chain[0].sha256, ref->tls.chain[0].sha256) != 0)
			differ(msg, sizeof(msg), "certificate of one host", "one certificate",
			       ref->address, "another", r->address);
	}
	if (msg[0])
		dadd(d, SEV_WARNING, "mx-inconsistent", "the MX hosts do not behave alike: %s", msg);

	for (h = 0; h < d->nmx; h++) {
		struct mx_host *mh = &d->mx[h];

		if (mh->answered > 0)
			d->hosts_answered++;
		if (mh->has6 && !mh->ok6 && mh->ok4)
			dadd(d, SEV_WARNING, "ipv6-unreachable",
			     "%s has an IPv6 address that does not answer while IPv4 works: "
			     "senders that prefer IPv6 will be delayed", mh->name);
	}
	if (!d->null_mx && d->nmx > 0 && d->hosts_answered == 0)
		dadd(d, SEV_CRITICAL, "mx-unreachable",
		     "none of the %zu MX host%s of %s answered: mail to this domain cannot "
		     "be delivered now", d->nmx, d->nmx == 1 ? "" : "s", d->domain);
}

/* RFC 8461 4.1 and 4.2: every MX host must match an mx pattern of the
 * policy and present a certificate valid for its name. Hosts that did not
 * answer are not judged on their certificate (mx-unreachable covers them). */
static void sts_evaluate(struct mx_audit *a)
{
	struct domain_result *d = a->d;
	const struct mtasts_policy *p = &d->mta_sts.policy;
	char bad[400] = "";
	size_t h, i, k, nbad = 0;

	if (!d->mta_sts.policy_valid || p->mode == MTASTS_MODE_NONE || d->null_mx) {
		if (d->mta_sts.policy_valid && p->mode == MTASTS_MODE_NONE)
			dadd(d, SEV_INFO, "mta-sts-mode-none",
			     "the MTA-STS policy of %s has mode none: it withdraws an earlier policy "
			     "and asks nothing of senders", d->domain);
		return;
	}
	for (h = 0; h < d->nmx; h++) {
		struct mx_host *mh = &d->mx[h];
		const char *why = NULL;

		mh->sts_checked = true;
		for (k = 0; k < p->nmx && !mh->sts_match; k++)
			mh->sts_match = mtasts_mx_match(p->mx[k], mh->name);
		mh->sts_cert_ok = true;
		for (i = 0; i < d->nprobes; i++) {
			const struct result *r = &d->probes[i];

			if (a->probes == NULL || a->probes[i].host != h || !probe_answered(r))
				continue;
			mh->sts_cert_judged = true;
			if (!r->tls.ok || !r->tls.trusted || !r->tls.hostname_match)
				mh->sts_cert_ok = false;
		}
		if (!mh->sts_match)
			why = "not listed in the policy's mx patterns";
		else if (mh->sts_cert_judged && !mh->sts_cert_ok)
			why = "no TLS with a certificate valid for its name";
		if (why != NULL && strlen(bad) + 80 < sizeof(bad)) {
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "%s%.80s: %s",
			         nbad ? "; " : "", mh->name, why);
			nbad++;
		} else if (why != NULL) {
			nbad++;
		}
	}
	if (nbad > 0) {
		snprintf(d->mta_sts.result, sizeof(d->mta_sts.result), "violated");
		if (p->mode == MTASTS_MODE_ENFORCE)
			dadd(d, SEV_CRITICAL, "mta-sts-violation",
			     "the MTA-STS policy of %s is enforce, and %zu MX host%s fail%s it (%s): "
			     "senders that honour the policy will not deliver there", d->domain, nbad,
			     nbad == 1 ? "" : "s", nbad == 1 ? "s" : "", bad);
		else
			dadd(d, SEV_WARNING, "mta-sts-violation",
			     "the MTA-STS policy of %s is in testing mode, and %zu MX host%s would "
			     "fail it (%s): senders only report this today, but enforce mode would "
			     "stop delivery there", d->domain, nbad, nbad == 1 ? "" : "s", bad);
		return;
	}
	dadd(d, SEV_INFO, "mta-sts-valid",
	     "the MTA-STS policy of %s (mode %s, max_age %u s) covers every MX host, and each "
	     "that answered presented a valid certificate", d->domain, mtasts_mode_name(p->mode),
	     p->max_age);
}

/* RFC 6531: an address whose local part is not ASCII travels only through
 * servers that offer SMTPUTF8; every MX host that answered must. */
static void smtputf8_evaluate(struct mx_audit *a)
{
	struct domain_result *d = a->d;
	char missing[300] = "";
	size_t i, answered = 0, lacking = 0;

	if (!d->utf8_local)
		return;
	for (i = 0; i < d->nprobes; i++) {
		const struct result *r = &d->probes[i];
		const struct ehlo_info *e = r->ehlo_tls.present ? &r->ehlo_tls : &r->ehlo;

		if (!probe_answered(r))
			continue;
		answered++;
		if (smtp_ehlo_find(e, "SMTPUTF8") != NULL)
			continue;
		if (lacking++ < 4 && strlen(missing) + strlen(r->host ? r->host : "") + 8 <
		    sizeof(missing))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
			         missing[0] ? ", " : "", r->host ? r->host : "?");
	}
	if (answered == 0)
		return;
	if (lacking == 0)
		dadd(d, SEV_INFO, "smtputf8-ready",
		                   "the address's local part is not ASCII, and every MX host that "
		                   "answered offers SMTPUTF8 (RFC 6531): mail to it can be delivered");
	else
		dadd(d, SEV_WARNING, "smtputf8-missing",
		                   "the address's local part is not ASCII, which only servers "
		                   "offering SMTPUTF8 (RFC 6531) accept, and %zu of %zu MX "
		                   "probes did not offer it (%s%s): mail to this address fails there",
		                   lacking, answered, missing, lacking > 4 ? ", ..." : "");
}

static void audit_finish(struct mx_audit *a)
{
	struct domain_result *d = a->d;
	enum status st;
	size_t i;

	if (a->done)
		return;
	a->probes_done = true;
	if (a->sts_pending)
		return;              /* on_sts_done finishes */
	a->done = true;
	sts_evaluate(a);
	summarise(a);
	smtputf8_evaluate(a);
	st = findings_status(d->findings, d->nfindings);
	for (i = 0; i < d->nprobes; i++)
		if (d->probes[i].status > st && d->probes[i].status != ST_UNKNOWN)
			st = d->probes[i].status;
	d->status = st;
	d->total_ms = loop_now() - a->t0;
	a->cb(a->cbarg, a);
}

/* ---- reverse DNS (PTR, forward confirmation, banner) ---- */

static void probe_done(struct mx_probe *p);

static void on_forward(void *arg, const struct dns_answer *ans)
{
	struct mx_probe *p = arg;
	struct result *r = p->r;
	size_t i;

	p->dq = NULL;
	for (i = 0; i < ans->n; i++)
		if (ans->addrs[i].family == p->probed.family &&
		    memcmp(ans->addrs[i].addr, p->probed.addr,
		           p->probed.family == AF_INET ? 4 : 16) == 0)
			r->ptr.confirmed = true;
	if (!r->ptr.confirmed)
		result_add(r, SEV_WARNING, "ptr-mismatch",
		           "%s has PTR %s, but %s does not resolve back to %s (no forward-"
		           "confirmed reverse DNS): receivers may distrust mail from it",
		           r->address, r->ptr.name, r->ptr.name, r->address);
	{
		const char *g = r->greeting.hostname;
		const char *e = r->ehlo_tls.present ? r->ehlo_tls.hostname : r->ehlo.hostname;

		if (g != NULL && !dns_name_eq(g, r->ptr.name))
			result_add(r, SEV_INFO, "banner-mismatch",
			           "the greeting names %.100s but the address's PTR is %.100s",
			           g, r->ptr.name);
		else if (e != NULL && !dns_name_eq(e, r->ptr.name))
			result_add(r, SEV_INFO, "banner-mismatch",
			           "EHLO names %.100s but the address's PTR is %.100s", e, r->ptr.name);
	}
	probe_done(p);
}

/* The first PTR target of an answer, or NULL. */
static const char *ptr_target(const ares_dns_record_t *rec)
{
	size_t i, n = ares_dns_record_rr_cnt(rec, ARES_SECTION_ANSWER);

	for (i = 0; i < n; i++) {
		const ares_dns_rr_t *rr = ares_dns_record_rr_get_const(rec, ARES_SECTION_ANSWER, i);
		const char *name;

		if (ares_dns_rr_get_type(rr) != ARES_REC_TYPE_PTR)
			continue;
		name = ares_dns_rr_get_str(rr, ARES_RR_PTR_DNAME);
		if (name != NULL && name[0] != '\0')
			return name;
	}
	return NULL;
}

/* "1.0.0.127.in-addr.arpa" and the like (ares_free_string it), or NULL. */
static char *reverse_name(const struct dns_addr *a)
{
	struct ares_addr aa;

	memset(&aa, 0, sizeof(aa));
	aa.family = a->family;
	if (a->family == AF_INET)
		memcpy(&aa.addr.addr4, a->addr, 4);
	else
		memcpy(&aa.addr.addr6, a->addr, 16);
	return ares_dns_addr_to_ptr(&aa);
}

static void on_ptr(void *arg, enum dns_err e, const ares_dns_record_t *rec)
{
	struct mx_probe *p = arg;
	struct result *r = p->r;
	const char *name = e == DNS_OK && rec != NULL ? ptr_target(rec) : NULL;

	p->dq = NULL;
	r->ptr.checked = true;
	if (name != NULL)
		r->ptr.name = strndup(name, 255);
	if (r->ptr.name == NULL) {
		snprintf(r->ptr.error, sizeof(r->ptr.error), "%s",
		         e == DNS_OK ? "no PTR record" : dns_err_name(e));
		result_add(r, SEV_WARNING, "ptr-missing",
		           "%s has no reverse DNS (PTR: %s): many receivers reject or "
		           "down-rank mail from such addresses", r->address, r->ptr.error);
		probe_done(p);
		return;
	}
	p->dq = dns_resolve(p->a->env->dns, r->ptr.name, p->probed.family == AF_INET,
	                    p->probed.family == AF_INET6, on_forward, p);
	if (p->dq == NULL && !p->done) {
		/* Not queued (answered-from-inside-the-call sets done). */
		snprintf(r->ptr.error, sizeof(r->ptr.error), "forward lookup failed");
		probe_done(p);
	}
}

static void check_ptr(struct mx_probe *p)
{
	struct result *r = p->r;
	char *rev;

	if (r->address[0] == '\0' ||
	    inet_pton(r->family, r->address, p->probed.addr) != 1) {
		probe_done(p);
		return;
	}
	p->probed.family = r->family;
	rev = reverse_name(&p->probed);
	if (rev == NULL) {
		probe_done(p);
		return;
	}
	{
		/* A cached answer calls back from inside the call, and the
		 * callback may start the next query: keep its handle. */
		struct dns_query *q = dns_query_rr(p->a->env->dns, rev, ARES_REC_TYPE_PTR, on_ptr, p);

		if (q != NULL)
			p->dq = q;
	}
	ares_free_string(rev);
	if (p->dq == NULL && !r->ptr.checked)
		probe_done(p);
}

static void warm_fwd(void *arg, const struct dns_answer *ans)
{
	struct ptr_warm *w = arg;

	(void)ans;
	w->q = NULL;
}

static void warm_ptr(void *arg, enum dns_err e, const ares_dns_record_t *rec)
{
	struct ptr_warm *w = arg;
	const char *name = e == DNS_OK && rec != NULL ? ptr_target(rec) : NULL;
	struct dns_query *q;

	w->q = NULL;
	if (name == NULL)
		return;
	q = dns_resolve(w->p->a->env->dns, name, w->family == AF_INET, w->family == AF_INET6,
	                warm_fwd, w);
	if (q != NULL)
		w->q = q;
}

/* Starts the reverse lookups (PTR, then the name's address) of every
 * address the probe may use, alongside the SMTP dialogue. */
static void ptr_warm(struct mx_probe *p)
{
	size_t i;

	for (i = 0; i < p->naddrs && i < DNS_MAX_ADDRS; i++) {
		struct ptr_warm *w = &p->warm[i];
		struct dns_query *q;
		char *rev = reverse_name(&p->addrs[i]);

		if (rev == NULL)
			continue;
		w->p = p;
		w->family = p->addrs[i].family;
		p->nwarm = i + 1;
		q = dns_query_rr(p->a->env->dns, rev, ARES_REC_TYPE_PTR, warm_ptr, w);
		if (q != NULL)
			w->q = q;
		ares_free_string(rev);
	}
}

/* ---- probes ---- */

static void start_probes(struct mx_audit *a);

static void on_reap(struct loop *l, void *arg)
{
	struct mx_audit *a = arg;
	size_t i;

	(void)l;
	for (i = 0; i < a->nprobes; i++)
		if (a->probes[i].done && a->probes[i].s != NULL) {
			probe_free(a->probes[i].s);
			a->probes[i].s = NULL;
			dane_check_free(a->probes[i].dc);
			a->probes[i].dc = NULL;
		}
	start_probes(a);
	if (a->finished == a->nprobes)
		audit_finish(a);
}

static void probe_done(struct mx_probe *p)
{
	struct mx_audit *a = p->a;

	if (p->done)
		return;
	p->done = true;
	result_finish(p->r);       /* PTR findings count too */
	a->running--;
	a->finished++;
	/* Free the session and start the next probe from the loop, not from
	 * inside this probe's callbacks. */
	loop_timer_set(a->env->loop, &a->reap, 0);
}

static void on_dane_done(void *arg)
{
	check_ptr(arg);
}

static void on_session_done(void *arg, struct probe *s)
{
	struct mx_probe *p = arg;
	struct mx_audit *a = p->a;

	(void)s;
	p->dialogue_done = true;
	if (a->aborted) {
		dane_drop_der(p->r);
		probe_done(p);
		return;
	}
	/* --dane: TLSA at _PORT._tcp.MXHOST (RFC 7672 2.2), then reverse DNS. */
	if (a->env->opt->dane && p->dc == NULL) {
		const struct mx_host *mh = &a->d->mx[p->host];

		p->dc = dane_check_start(a->env->loop, a->env->dns, mh->name,
		                         mh->cname ? mh->canonical : NULL, p->r->port, p->r,
		                         on_dane_done, p);
		if (p->dc != NULL)
			return;
	}
	dane_drop_der(p->r);
	check_ptr(p);
}

static void start_probes(struct mx_audit *a)
{
	const struct options *o = a->env->opt;
	size_t limit = o->concurrency ? o->concurrency : 16;

	while (a->next < a->nprobes && a->running < limit) {
		struct mx_probe *p = &a->probes[a->next++];
		struct mx_host *mh = &a->d->mx[p->host];
		struct target t;
		char spec[300];

		memset(&t, 0, sizeof(t));
		snprintf(t.host, sizeof(t.host), "%s", mh->name);
		t.port = o->port ? o->port : 25;
		t.literal = mh->ip_literal ? p->addrs[0].family : 0;
		snprintf(spec, sizeof(spec), "%s:%u", mh->name, t.port);
		p->s = probe_new(a->env, a->env->params, &t, spec, p->r, on_session_done, p);
		probe_set_addrs(p->s, p->addrs, p->naddrs, a->d->dns_ms);
		p->started = true;
		a->running++;
		probe_start(p->s);
		ptr_warm(p);
	}
}

/* All hosts resolved: lay out the probes (per host, or per address). */
static void plan_probes(struct mx_audit *a)
{
	struct domain_result *d = a->d;
	const struct options *o = a->env->opt;
	size_t h, k, n = 0;

	d->dns_ms = loop_now() - a->t0;
	for (h = 0; h < d->nmx; h++)
		if (d->mx[h].naddrs > 0)
			n += o->all_addresses ? d->mx[h].naddrs : 1;
	if (n == 0) {
		audit_finish(a);
		return;
	}
	d->probes = xcalloc(n, sizeof(*d->probes));
	a->probes = xcalloc(n, sizeof(*a->probes));
	for (h = 0; h < d->nmx; h++) {
		struct mx_host *mh = &d->mx[h];

		if (mh->naddrs == 0)
			continue;
		for (k = 0; k < (o->all_addresses ? mh->naddrs : 1); k++) {
			struct mx_probe *p = &a->probes[a->nprobes];

			p->a = a;
			p->host = h;
			p->r = &d->probes[a->nprobes];
			result_init(p->r);
			if (o->all_addresses) {
				p->addrs[0] = mh->addrs[k];
				p->naddrs = 1;
			} else {
				memcpy(p->addrs, mh->addrs, mh->naddrs * sizeof(mh->addrs[0]));
				p->naddrs = mh->naddrs;
			}
			a->nprobes++;
		}
	}
	d->nprobes = a->nprobes;
	start_probes(a);
}

static void host_resolved(struct mx_audit *a)
{
	if (--a->hosts_pending == 0)
		plan_probes(a);
}

static void on_host(void *arg, const struct dns_answer *ans)
{
	struct host_ctx *hc = arg;
	struct mx_audit *a = hc->a;
	struct mx_host *mh = &a->d->mx[hc->h];
	const struct options *o = a->env->opt;

	a->hq[hc->h] = NULL;
	mh->resolved = true;
	mh->e4 = ans->e4;
	mh->e6 = ans->e6;
	memcpy(mh->addrs, ans->addrs, ans->n * sizeof(ans->addrs[0]));
	mh->naddrs = ans->n;
	if (ans->cname) {
		mh->cname = true;
		snprintf(mh->canonical, sizeof(mh->canonical), "%s", ans->canonical);
		dadd(a->d, SEV_WARNING, "mx-cname",
		     "MX host %s is an alias (CNAME) for %s: RFC 2181 (10.3) and RFC 5321 (5.1) "
		     "say an MX must name the host itself; some senders refuse it",
		     mh->name, ans->canonical);
	}
	if (ans->n == 0) {
		enum dns_err e = o->only4 ? ans->e4 : o->only6 ? ans->e6 :
		                 (ans->e4 != DNS_NODATA ? ans->e4 : ans->e6);

		if (e == DNS_OK)
			e = DNS_NODATA;
		dadd(a->d, a->d->nmx == 1 ? SEV_CRITICAL : SEV_WARNING, "mx-no-address",
		     "MX host %s has no usable address: %s", mh->name,
		     e == DNS_NODATA ? "no A or AAAA record" : dns_err_name(e));
	}
	host_resolved(a);
}

static void resolve_hosts(struct mx_audit *a)
{
	struct domain_result *d = a->d;
	const struct options *o = a->env->opt;
	size_t h;

	a->hosts_pending = d->nmx + 1;   /* +1 held while submitting */
	for (h = 0; h < d->nmx; h++) {
		struct mx_host *mh = &d->mx[h];
		struct host_ctx *hc;

		if (mh->ip_literal || mh->from_additional) {
			a->hosts_pending--;
			continue;
		}
		hc = &a->hctx[h];
		hc->a = a;
		hc->h = h;
		a->hq[h] = dns_resolve(a->env->dns, mh->name, !o->only6, !o->only4, on_host, hc);
		/* NULL: answered from inside the call (on_host ran) or not queued. */
		if (a->hq[h] == NULL && !mh->resolved) {
			mh->resolved = true;
			dadd(d, SEV_WARNING, "dns-error", "cannot start the lookup of %s", mh->name);
			a->hosts_pending--;
		}
	}
	host_resolved(a);
}

/* Addresses the resolver put in the additional section for host h. */
static void take_additional(struct mx_audit *a, const ares_dns_record_t *rec, size_t h)
{
	const struct options *o = a->env->opt;
	struct mx_host *mh = &a->d->mx[h];
	size_t i, n = ares_dns_record_rr_cnt(rec, ARES_SECTION_ADDITIONAL);
	bool saw4 = false, saw6 = false;

	for (i = 0; i < n && mh->naddrs < DNS_MAX_ADDRS; i++) {
		const ares_dns_rr_t *rr = ares_dns_record_rr_get_const(rec, ARES_SECTION_ADDITIONAL, i);
		struct dns_addr *ad = &mh->addrs[mh->naddrs];

		if (!dns_name_eq(ares_dns_rr_get_name(rr), mh->name))
			continue;
		memset(ad, 0, sizeof(*ad));
		if (ares_dns_rr_get_type(rr) == ARES_REC_TYPE_AAAA && !o->only4) {
			const struct ares_in6_addr *v6 = ares_dns_rr_get_addr6(rr, ARES_RR_AAAA_ADDR);

			if (v6 == NULL)
				continue;
			ad->family = AF_INET6;
			memcpy(ad->addr, v6, 16);
			saw6 = true;
		} else if (ares_dns_rr_get_type(rr) == ARES_REC_TYPE_A && !o->only6) {
			const struct in_addr *v4 = ares_dns_rr_get_addr(rr, ARES_RR_A_ADDR);

			if (v4 == NULL)
				continue;
			ad->family = AF_INET;
			memcpy(ad->addr, v4, 4);
			saw4 = true;
		} else {
			continue;
		}
		mh->naddrs++;
	}
	/* Only when both families came (or only one was asked for) is the
	 * answer complete: a missing AAAA may simply not be cached. */
	if ((saw4 || o->only6) && (saw6 || o->only4)) {
		size_t k, j = 0;
		struct dns_addr sorted[DNS_MAX_ADDRS] = { { 0, { 0 } } };

		for (k = 0; k < mh->naddrs; k++)
			if (mh->addrs[k].family == AF_INET6)
				sorted[j++] = mh->addrs[k];
		for (k = 0; k < mh->naddrs; k++)
			if (mh->addrs[k].family == AF_INET)
				sorted[j++] = mh->addrs[k];
		memcpy(mh->addrs, sorted, j * sizeof(sorted[0]));
		mh->from_additional = true;
		mh->e4 = saw4 ? DNS_OK : DNS_NODATA;
		mh->e6 = saw6 ? DNS_OK : DNS_NODATA;
	} else {
		mh->naddrs = 0;
	}
}

static int cmp_mx(const void *x, const void *y)
{
	const struct mx_host *a = x, *b = y;

	if (a->preference != b->preference)
		return a->preference < b->preference ? -1 : 1;
	return strcasecmp(a->name, b->name);
}

static void on_mx(void *arg, enum dns_err e, const ares_dns_record_t *rec)
{
	struct mx_audit *a = arg;
	struct domain_result *d = a->d;
	size_t i, k, n, nulls = 0, total = 0, dups = 0, over = 0;

	a->dq = NULL;
	if (e == DNS_CANCELLED)
		return;
	if (e == DNS_NODATA) {
		/* RFC 5321 5.1: no MX means the domain itself is the mail host. */
		d->implicit_mx = true;
		d->nmx = 1;
		snprintf(d->mx[0].name, sizeof(d->mx[0].name), "%s", d->domain);
		dadd(d, SEV_INFO, "mx-implicit",
		     "%s has no MX records: senders deliver to the domain's own address "
		     "(implicit MX, RFC 5321 5.1)", d->domain);
		resolve_hosts(a);
		return;
	}
	if (e != DNS_OK || rec == NULL) {
		dadd(d, SEV_CRITICAL, e == DNS_NXDOMAIN ? "dns-nxdomain" : dns_err_code(e),
		     "MX lookup of %s failed: %s", d->domain, dns_err_name(e));
		d->dns_ms = loop_now() - a->t0;
		audit_finish(a);
		return;
	}
	n = ares_dns_record_rr_cnt(rec, ARES_SECTION_ANSWER);
	for (i = 0; i < n; i++) {
		const ares_dns_rr_t *rr = ares_dns_record_rr_get_const(rec, ARES_SECTION_ANSWER, i);
		const char *ex;
		struct mx_host *mh;
		unsigned char buf[16];
		int fam;

		/* Only the domain's own MX records; others are not ours to use. */
		if (ares_dns_rr_get_type(rr) != ARES_REC_TYPE_MX ||
		    !dns_name_eq(ares_dns_rr_get_name(rr), d->domain))
			continue;
		total++;
		ex = ares_dns_rr_get_str(rr, ARES_RR_MX_EXCHANGE);
		if (ex == NULL || ex[0] == '\0' || strcmp(ex, ".") == 0) {
			nulls++;
			continue;
		}
		/* One probe per host: a name listed again (any preference, any
		 * case) only lowers the preference kept. */
		for (k = 0; k < d->nmx && !dns_name_eq(d->mx[k].name, ex); k++)
			;
		if (k < d->nmx) {
			uint16_t pref = ares_dns_rr_get_u16(rr, ARES_RR_MX_PREFERENCE);

			if (pref < d->mx[k].preference)
				d->mx[k].preference = pref;
			dups++;
			continue;
		}
		if (d->nmx == MX_MAX_HOSTS) {
			over++;
			continue;
		}
		mh = &d->mx[d->nmx++];
		memset(mh, 0, sizeof(*mh));
		mh->preference = ares_dns_rr_get_u16(rr, ARES_RR_MX_PREFERENCE);
		snprintf(mh->name, sizeof(mh->name), "%s", ex);
		if ((fam = ip_literal(ex, buf)) != 0) {
			mh->ip_literal = true;
			mh->addrs[0].family = fam;
			memcpy(mh->addrs[0].addr, buf, fam == AF_INET ? 4 : 16);
			mh->naddrs = 1;
			dadd(d, SEV_WARNING, "mx-ip-literal",
			     "MX %s is an IP address, not a host name (RFC 5321 5.1 forbids it; "
			     "many senders will not deliver)", ex);
		}
	}
	if (dups > 0)
		dadd(d, SEV_INFO, "mx-duplicate",
		     "%zu of the %zu MX records of %s name a host already listed; each host "
		     "is probed once", dups, total, d->domain);
	if (over > 0)
		dadd(d, SEV_WARNING, "mx-too-many",
		     "%s has more than %d MX hosts (%zu MX records); only the first %d are probed",
		     d->domain, MX_MAX_HOSTS, total, MX_MAX_HOSTS);
	if (nulls > 0 && d->nmx == 0) {
		d->null_mx = true;
		d->dns_ms = loop_now() - a->t0;
		dadd(d, SEV_CRITICAL, "null-mx",
		     "%s publishes a null MX (RFC 7505): it accepts no mail at all", d->domain);
		audit_finish(a);
		return;
	}
	if (nulls > 0)
		dadd(d, SEV_WARNING, "null-mx-mixed",
		     "%s has a null MX next to real MX records (RFC 7505 says the null MX "
		     "must be the only one); the null MX is ignored", d->domain);
	if (d->nmx == 0) {
		dadd(d, SEV_CRITICAL, "dns-no-mx", "the MX answer for %s holds no MX record",
		     d->domain);
		audit_finish(a);
		return;
	}
	qsort(d->mx, d->nmx, sizeof(d->mx[0]), cmp_mx);
	for (i = 0; i < d->nmx; i++)
		if (!d->mx[i].ip_literal)
			take_additional(a, rec, i);
	resolve_hosts(a);
}

struct mx_audit *mx_audit_new(const struct probe_env *env, const char *spec,
                              const char *domain, struct domain_result *d,
                              mx_done_cb cb, void *arg)
{
	struct mx_audit *a = xcalloc(1, sizeof(*a));

	a->env = env;
	a->d = d;
	a->cb = cb;
	a->cbarg = arg;
	loop_timer_init(&a->reap, on_reap, a);
	d->target = xstrdup(spec);
	d->domain = xstrdup(domain);
	{
		struct target t;
		char err[8];

		if (target_parse(spec, &t, err, sizeof(err)) == 0) {
			d->domain_unicode = t.host_unicode[0] ? xstrdup(t.host_unicode) : NULL;
			d->utf8_local = t.utf8_local;
		}
	}
	return a;
}

static void on_sts_done(void *arg)
{
	struct mx_audit *a = arg;

	a->sts_pending = false;
	if (a->probes_done)
		audit_finish(a);
}

void mx_audit_start(struct mx_audit *a)
{
	a->t0 = loop_now();

	a->dq = dns_query_rr(a->env->dns, a->d->domain, ARES_REC_TYPE_MX, on_mx, a);
	if (a->dq == NULL && a->d->nmx == 0 && !a->done && a->d->nfindings == 0) {
		dadd(a->d, SEV_CRITICAL, "dns-error", "cannot start the MX lookup of %s",
		     a->d->domain);
		audit_finish(a);
	}
	if (a->env->opt->mta_sts && !a->done) {
		struct mtasts_env se;

		se.loop = a->env->loop;
		se.dns = a->env->dns;
		se.tls = a->env->tls;
		se.timeout_ms = a->env->opt->timeout_ms > 0 ? a->env->opt->timeout_ms : 10000;
		/* Pending before the start: c-ares may answer the MX query from
		 * inside it, and the audit must then wait for this check. */
		a->sts_pending = true;
		a->sts = mtasts_check_start(&se, a->d->domain, &a->d->mta_sts, &a->d->tls_rpt,
		                            a->d->findings, &a->d->nfindings, on_sts_done, a);
		if (a->sts == NULL) {
			a->sts_pending = false;
			if (a->probes_done)
				audit_finish(a);
		}
	}
}

/* The run's deadline passed (--deadline bounds the DNS phase too): every
 * lookup still out is cancelled and named in a finding, probes not yet
 * started are not started, running ones are ended, and the audit
 * finishes with what it learnt. */
void mx_audit_abort(struct mx_audit *a, const char *why)
{
	struct domain_result *d = a->d;
	bool resolving = a->dq != NULL;
	size_t i, h;

	if (a->done || a->aborted)
		return;
	a->aborted = true;
	if (a->dq != NULL) {
		dns_cancel(a->dq);
		a->dq = NULL;
		dadd(d, SEV_CRITICAL, "dns-timeout", "%s: the MX lookup of %s got no answer in time",
		     why, d->domain);
	}
	for (h = 0; h < MX_MAX_HOSTS; h++) {
		if (a->hq[h] == NULL)
			continue;
		dns_cancel(a->hq[h]);
		a->hq[h] = NULL;
		resolving = true;
		d->mx[h].resolved = true;
		dadd(d, SEV_CRITICAL, "dns-timeout", "%s: the address lookup of MX host %s got "
		     "no answer in time", why, d->mx[h].name);
	}
	if (resolving) {
		d->dns_ms = loop_now() - a->t0;
		a->hosts_pending = 0;
	}
	if (a->sts_pending) {
		mtasts_check_free(a->sts);
		a->sts = NULL;
		a->sts_pending = false;
		dadd(d, SEV_WARNING, "timeout", "%s: the MTA-STS and TLS-RPT checks did not finish",
		     why);
	}
	for (i = 0; i < a->nprobes; i++) {
		struct mx_probe *p = &a->probes[i];
		size_t k;

		if (p->done)
			continue;
		if (!p->started) {
			result_add(p->r, SEV_CRITICAL, "timeout", "%s: this address was not probed", why);
			p->done = true;
			result_finish(p->r);
			a->finished++;
		} else if (!p->dialogue_done) {
			probe_abort(p->s, why);   /* on_session_done ends it */
		} else {
			for (k = 0; k < p->nwarm; k++) {
				dns_cancel(p->warm[k].q);
				p->warm[k].q = NULL;
			}
			dns_cancel(p->dq);
			p->dq = NULL;
			dane_check_free(p->dc);
			p->dc = NULL;
			probe_done(p);
		}
	}
	a->next = a->nprobes;
	/* Nothing running (DNS phase, or only MTA-STS left): finish here;
	 * otherwise the reaper does once the aborted sessions have ended. */
	if (a->nprobes == 0 || a->finished == a->nprobes)
		audit_finish(a);
}

void mx_audit_free(struct mx_audit *a)
{
	size_t i;

	if (a == NULL)
		return;
	loop_timer_stop(a->env->loop, &a->reap);
	dns_cancel(a->dq);
	for (i = 0; i < MX_MAX_HOSTS; i++)
		dns_cancel(a->hq[i]);
	for (i = 0; i < a->nprobes; i++) {
		size_t k;

		for (k = 0; k < a->probes[i].nwarm; k++)
			dns_cancel(a->probes[i].warm[k].q);
		dns_cancel(a->probes[i].dq);
		probe_free(a->probes[i].s);
		dane_check_free(a->probes[i].dc);
	}
	mtasts_check_free(a->sts);
	free(a->probes);
	free(a);
}
