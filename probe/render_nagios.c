/* Monitoring Plugins output (Nagios, Icinga, Naemon, Sensu): one status
 * line "SMTP STATUS - summary|perfdata", then long output with one line per
 * finding. Follows the Monitoring Plugins development guidelines: '|' only
 * as the perfdata separator, perfdata 'label'=value[UOM];warn;crit;min;max. */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "mx.h"
#include "render.h"
#include "render_util.h"
#include "sanitize.h"

#define NAG_TEXT_MAX  400          /* bytes of one server-derived string kept */
#define NAG_TEXT_BUF  (NAG_TEXT_MAX * 4 + 8)

static const char *nag_status_word(enum status st)
{
	static const char *const words[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	_Static_assert(sizeof(words) / sizeof(words[0]) == ST_UNKNOWN + 1, "status words");
	return (unsigned)st <= ST_UNKNOWN ? words[st] : "UNKNOWN";
}

static const char *nag_sev_word(enum severity sev)
{
	static const char *const words[] = { "INFO", "WARNING", "CRITICAL" };
	_Static_assert(sizeof(words) / sizeof(words[0]) == SEV_CRITICAL + 1, "severity words");
	return (unsigned)sev <= SEV_CRITICAL ? words[sev] : "CRITICAL";
}

/* One line of plugin text from server bytes (SAN_NAGIOS): a newline would
 * start the long output early and '|' would start perfdata, so controls
 * are shown as \xNN and '|' becomes '/'; C1, bidi and invalid UTF-8 as
 * everywhere else. */
static void nag_clean(char *out, size_t outsz, const char *s)
{
	san_buf(out, outsz, SAN_NAGIOS, s ? s : "", NAG_TEXT_MAX);
}

/* "host:port", IPv6 literals in brackets. */
static void nag_hostport(char *out, size_t outsz, const struct result *r)
{
	char h[NAG_TEXT_BUF];

	nag_clean(h, sizeof(h), r->host ? r->host : r->target);
	if (strchr(h, ':'))
		render_fmt(out, outsz, "[%s]:%u", h, r->port);
	else
		render_fmt(out, outsz, "%s:%u", h, r->port);
}

/* The most severe finding (the first one of that severity), or NULL when
 * there is nothing above info; *more counts the other non-info findings. */
static const struct finding *nag_worst(const struct finding *f, size_t nf, size_t *more)
{
	const struct finding *w = NULL;
	size_t n = 0;

	for (size_t i = 0; i < nf && i < RESULT_MAX_FINDINGS; i++) {
		const struct finding *fd = &f[i];

		if (fd->sev == SEV_INFO)
			continue;
		n++;
		if (w == NULL || fd->sev > w->sev)
			w = fd;
	}
	*more = n ? n - 1 : 0;
	return w;
}

/* Earliest expiry over the chain; false when no certificate was seen. */
static bool nag_days_left(const struct result *r, long *days)
{
	const struct tls_info *t = &r->tls;

	if (t->nchain == 0)
		return false;
	*days = t->chain[0].days_left;
	for (size_t i = 1; i < t->nchain && i < RESULT_MAX_CHAIN; i++)
		if (t->chain[i].days_left < *days)
			*days = t->chain[i].days_left;
	return true;
}

/* "100 MiB", "19.1 MiB", "512 KiB", "900 B" */
static void nag_size(char *out, size_t outsz, uint64_t v)
{
	if (v >= 1048576 && v % 1048576 == 0)
		render_fmt(out, outsz, "%" PRIu64 " MiB", v / 1048576);
	else if (v >= 1048576)
		render_fmt(out, outsz, "%.1f MiB", (double)v / 1048576.0);
	else if (v >= 1024)
		render_fmt(out, outsz, "%.1f KiB", (double)v / 1024.0);
	else
		render_fmt(out, outsz, "%" PRIu64 " B", v);
}

/* What an operator glances at when all is well: protocol, expiry, size. */
static void nag_good_summary(char *out, size_t outsz, const struct result *r,
                             bool with_host)
{
	char hp[NAG_TEXT_BUF + 16], v[NAG_TEXT_BUF], sz[32];
	long days;

	out[0] = '\0';
	if (with_host) {
		nag_hostport(hp, sizeof(hp), r);
		render_fmt(out, outsz, "%s ", hp);
	}
	if (r->tls.ok && r->tls.version[0]) {
		nag_clean(v, sizeof(v), r->tls.version);
		render_appendf(out, outsz, "%s", v);
	} else if (!r->tls.attempted) {
		render_appendf(out, outsz, "no TLS");
	} else {
		render_appendf(out, outsz, "TLS failed");
	}
	if (nag_days_left(r, &days)) {
		if (days < 0)
			render_appendf(out, outsz, ", certificate expired %ld day%s ago",
			               -days, days == -1 ? "" : "s");
		else
			render_appendf(out, outsz, ", certificate expires in %ld day%s",
			               days, days == 1 ? "" : "s");
	}
	if (r->size.has_limit) {
		nag_size(sz, sizeof(sz), r->size.limit);
		render_appendf(out, outsz, ", SIZE %s", sz);
	} else if (r->size.advertised) {
		render_appendf(out, outsz, ", SIZE no fixed limit");
	}
}

/* One result's summary: the good news, or the worst finding's message. */
static void nag_summary(char *out, size_t outsz, const struct result *r, bool with_host)
{
	char hp[NAG_TEXT_BUF + 16], msg[NAG_TEXT_BUF];
	const struct finding *w;
	size_t more;

	w = nag_worst(r->findings, r->nfindings, &more);
	if (r->status == ST_OK || w == NULL) {
		if (r->status == ST_UNKNOWN && w == NULL) {
			nag_hostport(hp, sizeof(hp), r);
			render_fmt(out, outsz, "%s%sno result", with_host ? hp : "",
			           with_host ? " " : "");
			return;
		}
		nag_good_summary(out, outsz, r, with_host);
		return;
	}
	nag_clean(msg, sizeof(msg), w->message ? w->message : w->code);
	if (with_host) {
		nag_hostport(hp, sizeof(hp), r);
		render_fmt(out, outsz, "%s %s", hp, msg);
	} else {
		render_fmt(out, outsz, "%s", msg);
	}
	if (more)
		render_appendf(out, outsz, " (+%zu more)", more);
}

/* Perfdata label: '=' and the quote cannot appear in one at all; anything
 * beyond a plain word is quoted (the guidelines require it for spaces). */
struct nag_perf {
	FILE *f;
	bool started;                 /* '|' written: further items after a space */
	bool plain;                   /* --perfdata-plain: thresholds as bare numbers */
};

static void nag_label(struct nag_perf *pf, const char *prefix, const char *name)
{
	char lab[NAG_TEXT_BUF + 64];
	bool quote = false;

	if (prefix)
		render_fmt(lab, sizeof(lab), "%s/%s", prefix, name);
	else
		render_fmt(lab, sizeof(lab), "%s", name);
	for (char *p = lab; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '=' || c == '\'' || c == '|' || c < 0x20)
			*p = '_';
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || strchr("_.:/[]-", c)))
			quote = true;
	}
	/* No perfdata, no '|': an empty one is outside the grammar. */
	fputc(pf->started ? ' ' : '|', pf->f);
	pf->started = true;
	fprintf(pf->f, quote ? "'%s'=" : "%s=", lab);
}

/* A threshold in seconds, "" when not set; plain decimals (the guidelines'
 * grammar has no exponent), trailing zeros cut. */
static void nag_secs(char *out, size_t outsz, double ms)
{
	size_t n;

	out[0] = '\0';
	if (ms <= 0)
		return;
	render_fmt(out, outsz, "%.6f", ms / 1000.0);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
}

static void nag_perf_seconds(struct nag_perf *pf, const char *prefix, const char *name,
                             double ms, double warn_ms, double crit_ms)
{
	char w[32], c[32];

	if (ms < 0)
		return;
	nag_secs(w, sizeof(w), warn_ms);
	nag_secs(c, sizeof(c), crit_ms);
	nag_label(pf, prefix, name);
	/* A bare number N means "alert outside 0..N": above N, as wanted. */
	fprintf(pf->f, "%.3fs;%s;%s;0", ms / 1000.0, w, c);
}

static void nag_perfdata(struct nag_perf *pf, const struct result *r, const char *prefix)
{
	long days;

	if (nag_days_left(r, &days)) {
		/* Range "N:" alerts when the value is below N, which is exactly
		 * the engine's rule (days_left < warn_days); a bare "N" would
		 * mean "alert above N" to the threshold parsers. */
		nag_label(pf, prefix, "cert_days_left");
		/* --perfdata-plain: Icinga 2 keeps only bare numbers (it drops
		 * ranges), and draws them as threshold lines. */
		fprintf(pf->f, pf->plain ? "%ld;%d;%d" : "%ld;%d:;%d:", days, r->warn_days,
		        r->crit_days);
	}
	nag_perf_seconds(pf, prefix, "time", r->t.total_ms, r->warn_time_ms, r->crit_time_ms);
	nag_perf_seconds(pf, prefix, "connect_time", r->t.connect_ms, 0, 0);
	nag_perf_seconds(pf, prefix, "greeting_time", r->t.greeting_ms, 0, 0);
	nag_perf_seconds(pf, prefix, "tls_handshake", r->t.tls_ms, 0, 0);
	if (r->size.has_limit) {
		nag_label(pf, prefix, "size_limit");
		fprintf(pf->f, "%" PRIu64 "B;;;0", r->size.limit);
	}
}

static void nag_findings(FILE *f, const struct finding *fs, size_t nf, const char *prefix)
{
	char code[sizeof(fs[0].code) * 4 + 8], msg[NAG_TEXT_BUF];

	for (size_t i = 0; i < nf && i < RESULT_MAX_FINDINGS; i++) {
		const struct finding *fd = &fs[i];
		char c0[sizeof(fd->code)];

		memcpy(c0, fd->code, sizeof(c0));
		c0[sizeof(c0) - 1] = '\0';
		nag_clean(code, sizeof(code), c0);
		nag_clean(msg, sizeof(msg), fd->message ? fd->message : "");
		if (prefix)
			fprintf(f, "[%s] %s %s: %s\n", nag_sev_word(fd->sev), prefix, code, msg);
		else
			fprintf(f, "[%s] %s: %s\n", nag_sev_word(fd->sev), code, msg);
	}
}

static void nag_probe_name(char *out, size_t outsz, const struct result *r);

/* Several targets: counts per status, then the worst target's story. */
static void nag_multi_summary(char *out, size_t outsz, const struct result *const *r,
                              size_t n, enum status worst, bool per_address)
{
	static const enum status order[] = { ST_CRITICAL, ST_WARNING, ST_UNKNOWN, ST_OK };
	size_t count[ST_UNKNOWN + 1] = { 0 };
	const struct result *wr = NULL, *early = NULL;
	long early_days = 0;
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		long d;

		count[(unsigned)r[i]->status <= ST_UNKNOWN ? r[i]->status : ST_UNKNOWN]++;
		if (wr == NULL && r[i]->status == worst)
			wr = r[i];
		if (nag_days_left(r[i], &d) && (early == NULL || d < early_days)) {
			early = r[i];
			early_days = d;
		}
	}
	out[0] = '\0';
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		if (count[order[k]] == 0)
			continue;
		render_appendf(out, outsz, "%s%zu %s", first ? "" : ", ", count[order[k]],
		               status_name(order[k]));
		first = false;
	}
	render_appendf(out, outsz, " of %zu %s", n, per_address ? "addresses" : "targets");
	if (worst != ST_OK && wr) {
		char one[NAG_TEXT_BUF * 2];

		nag_summary(one, sizeof(one), wr, true);
		render_appendf(out, outsz, "; %s", one);
	} else if (early) {
		char hp[NAG_TEXT_BUF + 16];

		nag_hostport(hp, sizeof(hp), early);
		render_appendf(out, outsz, "; earliest certificate expiry in %ld days (%s)",
		               early_days, hp);
	}
}

void render_nagios(FILE *f, const struct result *const *r, size_t n,
                   const struct render_opts *o)
{
	char summary[NAG_TEXT_BUF * 2 + 128];
	enum status worst = ST_OK;
	struct nag_perf pf = { .f = f, .plain = o->perfdata_plain };

	if (n == 0) {
		fputs("SMTP UNKNOWN - no targets\n", f);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (r[i]->status > worst)
			worst = r[i]->status;
	if (n == 1)
		nag_summary(summary, sizeof(summary), r[0], true);
	else
		nag_multi_summary(summary, sizeof(summary), r, n, worst, o->address_labels);

	/* --all-addresses: one host has several results, told apart by their
	 * address in labels ("host:port/address") and long output. */
	fprintf(f, "SMTP %s - %s", nag_status_word(worst), summary);
	for (size_t i = 0; i < n; i++) {
		char hp[NAG_TEXT_BUF * 2 + 24];

		nag_hostport(hp, sizeof(hp), r[i]);
		if (o->address_labels && result_addr(r[i], NULL)[0])
			render_appendf(hp, sizeof(hp), "/%s", result_addr(r[i], NULL));
		nag_perfdata(&pf, r[i], n > 1 ? hp : NULL);
	}
	fputc('\n', f);

	for (size_t i = 0; i < n; i++) {
		char hp[NAG_TEXT_BUF * 2 + 24];

		if (n == 1) {
			nag_findings(f, r[i]->findings, r[i]->nfindings, NULL);
			continue;
		}
		if (o->address_labels)
			nag_probe_name(hp, sizeof(hp), r[i]);
		else
			nag_hostport(hp, sizeof(hp), r[i]);
		nag_summary(summary, sizeof(summary), r[i], false);
		fprintf(f, "[%s] %s - %s\n", nag_status_word(r[i]->status), hp, summary);
		nag_findings(f, r[i]->findings, r[i]->nfindings, hp);
	}
}

void render_nagios_unknown(FILE *f, const char *reason)
{
	char msg[NAG_TEXT_BUF];

	nag_clean(msg, sizeof(msg), reason);
	fprintf(f, "SMTP UNKNOWN - %s\n", msg);
}

/* A probe's name in the domain's output: "host:port (address)". */
static void nag_probe_name(char *out, size_t outsz, const struct result *r)
{
	char hp[NAG_TEXT_BUF + 16], a[NAG_TEXT_BUF];

	nag_hostport(hp, sizeof(hp), r);
	nag_clean(a, sizeof(a), result_addr(r, NULL));
	if (a[0])
		render_fmt(out, outsz, "%s (%s)", hp, a);
	else
		render_fmt(out, outsz, "%s", hp);
}

/* --mx: one status for the domain (its own findings and every probe's),
 * then one long-output line per probe. Perfdata per probe, labelled by
 * host, and by host/address when a host was probed on several addresses. */
void render_domain_nagios(FILE *f, const struct domain_result *d, const struct render_opts *o)
{
	char summary[NAG_TEXT_BUF * 2 + 128], dom[NAG_TEXT_BUF], one[NAG_TEXT_BUF * 2];
	struct nag_perf pf = { .f = f, .plain = o->perfdata_plain };
	const struct finding *w;
	const struct result *wr = NULL, *early = NULL;
	long early_days = 0;
	size_t more, nbad = 0;

	nag_clean(dom, sizeof(dom), d->domain ? d->domain : d->target);
	for (size_t i = 0; i < d->nprobes; i++) {
		const struct result *r = &d->probes[i];
		long days;

		if (r->status != ST_OK)
			nbad++;
		if (r->status != ST_OK && (wr == NULL || r->status > wr->status))
			wr = r;
		if (nag_days_left(r, &days) && (early == NULL || days < early_days)) {
			early = r;
			early_days = days;
		}
	}
	render_fmt(summary, sizeof(summary), "%s: %zu of %zu MX host%s answered", dom,
	           d->hosts_answered, d->nmx, d->nmx == 1 ? "" : "s");
	w = nag_worst(d->findings, d->nfindings, &more);
	if (w != NULL && (wr == NULL || (int)w->sev >= (int)wr->status)) {
		nag_clean(one, sizeof(one), w->message ? w->message : w->code);
		render_appendf(summary, sizeof(summary), "; %s", one);
		if (more + nbad)
			render_appendf(summary, sizeof(summary), " (+%zu more)", more + nbad);
	} else if (wr != NULL) {
		char name[NAG_TEXT_BUF * 2 + 8];

		nag_probe_name(name, sizeof(name), wr);
		nag_summary(one, sizeof(one), wr, false);
		render_appendf(summary, sizeof(summary), "; %s %s", name, one);
		if (nbad - 1 + (w ? more + 1 : 0))
			render_appendf(summary, sizeof(summary), " (+%zu more)",
			               nbad - 1 + (w ? more + 1 : 0));
	} else if (early != NULL) {
		render_appendf(summary, sizeof(summary),
		               "; earliest certificate expiry in %ld days (%s)", early_days,
		               early->host ? early->host : "");
	}
	fprintf(f, "SMTP %s - %s", nag_status_word(d->status), summary);
	nag_label(&pf, NULL, "hosts_answered");
	fprintf(f, "%zu;;;0;%zu", d->hosts_answered, d->nmx);
	for (size_t i = 0; i < d->nprobes; i++) {
		const struct result *r = &d->probes[i];
		char prefix[NAG_TEXT_BUF * 2 + 8], h[NAG_TEXT_BUF];
		size_t same = 0;

		for (size_t k = 0; k < d->nprobes; k++)
			if (d->probes[k].host && r->host && strcmp(d->probes[k].host, r->host) == 0)
				same++;
		nag_clean(h, sizeof(h), r->host ? r->host : r->target);
		if (same > 1 && result_addr(r, NULL)[0])
			render_fmt(prefix, sizeof(prefix), "%s/%s", h, result_addr(r, NULL));
		else
			render_fmt(prefix, sizeof(prefix), "%s", h);
		nag_perfdata(&pf, r, prefix);
	}
	fputc('\n', f);
	nag_findings(f, d->findings, d->nfindings, NULL);
	for (size_t i = 0; i < d->nprobes; i++) {
		char name[NAG_TEXT_BUF * 2 + 8];

		nag_probe_name(name, sizeof(name), &d->probes[i]);
		nag_summary(one, sizeof(one), &d->probes[i], false);
		fprintf(f, "[%s] %s - %s\n", nag_status_word(d->probes[i].status), name, one);
	}
}
