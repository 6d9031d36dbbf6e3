/* Prometheus text exposition format 0.0.4 for node_exporter's textfile
 * collector (and, later, the exporter mode): one family at a time, HELP and
 * TYPE once before its first sample, every sample labelled target="...".
 * Label values carry server bytes (certificate names, AUTH words), so they
 * go through the sanitiser; no timestamps (the textfile
 * collector refuses them). */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "render.h"
#include "render_util.h"
#include "sanitize.h"

#define PROM_LABEL_MAX 1024     /* bytes of one label value kept */
#define PROM_MAX_MECHS 32       /* AUTH mechanisms kept per list */

struct prom {
	FILE *f;
	const char *name, *type, *help;
	bool headed;                /* HELP/TYPE written for this family */
};

static void prom_family(struct prom *p, const char *name, const char *type,
                        const char *help)
{
	p->name = name;
	p->type = type;
	p->help = help;
	p->headed = false;
}

/* Label value through the sanitiser (SAN_PROM): backslash and double quote
 * escaped, every control, C1 and bidi character (newline too: a decoded
 * label must not carry one to a dashboard) shown as a visible \\xNN /
 * \\uXXXX, invalid UTF-8 as U+FFFD (the scraper rejects the whole
 * exposition otherwise). Cut at a code point boundary. */
static void prom_value_esc(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);

	if (n > PROM_LABEL_MAX) {
		n = PROM_LABEL_MAX;
		while (n > 0 && (p[n] & 0xc0) == 0x80)
			n--;
	}
	san_write(f, SAN_PROM, (const char *)p, n);
}

/* One sample: npairs (name, value) label pairs after target=. */
static void prom_sample(struct prom *p, const struct result *r, const char *value,
                        size_t npairs, ...)
{
	va_list ap;

	if (!p->headed) {
		fprintf(p->f, "# HELP %s %s\n# TYPE %s %s\n", p->name, p->help, p->name, p->type);
		p->headed = true;
	}
	fprintf(p->f, "%s{target=\"", p->name);
	prom_value_esc(p->f, r->target ? r->target : r->host);
	fputc('"', p->f);
	va_start(ap, npairs);
	for (size_t i = 0; i < npairs; i++) {
		const char *k = va_arg(ap, const char *);
		const char *v = va_arg(ap, const char *);

		fprintf(p->f, ",%s=\"", k);
		prom_value_esc(p->f, v);
		fputc('"', p->f);
	}
	va_end(ap);
	fprintf(p->f, "} %s\n", value);
}

static const char *prom_i64(char *buf, size_t sz, int64_t v)
{
	snprintf(buf, sz, "%" PRId64, v);
	return buf;
}

static const char *prom_u64(char *buf, size_t sz, uint64_t v)
{
	snprintf(buf, sz, "%" PRIu64, v);
	return buf;
}

static const char *prom_bool(bool v)
{
	return v ? "1" : "0";
}

/* Earliest notAfter over the chain; false when no certificate was seen. */
static bool prom_earliest(const struct result *r, time_t *t)
{
	const struct tls_info *ti = &r->tls;

	if (ti->nchain == 0)
		return false;
	*t = ti->chain[0].not_after;
	for (size_t i = 1; i < ti->nchain && i < RESULT_MAX_CHAIN; i++)
		if (ti->chain[i].not_after < *t)
			*t = ti->chain[i].not_after;
	return true;
}

/* A probe succeeded when the SMTP dialogue got as far as an EHLO (or HELO)
 * answer and nothing critical was found: a warning (an expiring
 * certificate) is still a working server. */
static bool prom_success(const struct result *r)
{
	return r->greeting.present && (r->ehlo.present || r->ehlo_tls.present) &&
	       (r->status == ST_OK || r->status == ST_WARNING);
}

static void prom_durations(struct prom *p, const struct result *r)
{
	const struct { const char *phase; double ms; } ph[] = {
		{ "dns", r->t.dns_ms }, { "connect", r->t.connect_ms },
		{ "greeting", r->t.greeting_ms }, { "ehlo", r->t.ehlo_ms },
		{ "starttls", r->t.starttls_ms }, { "tls", r->t.tls_ms },
		{ "ehlo_tls", r->t.ehlo_tls_ms }, { "total", r->t.total_ms },
	};
	char v[32];

	for (size_t i = 0; i < sizeof(ph) / sizeof(ph[0]); i++) {
		if (ph[i].ms < 0)
			continue;
		snprintf(v, sizeof(v), "%.6f", ph[i].ms / 1000.0);
		prom_sample(p, r, v, 1, "phase", ph[i].phase);
	}
}

static void prom_certs(struct prom *p, const struct result *r)
{
	const struct tls_info *ti = &r->tls;
	char v[32], pos[24];

	for (size_t i = 0; i < ti->nchain && i < RESULT_MAX_CHAIN; i++) {
		const struct cert_info *c = &ti->chain[i];
		char sha[sizeof(c->sha256)];

		memcpy(sha, c->sha256, sizeof(sha));
		sha[sizeof(sha) - 1] = '\0';
		snprintf(pos, sizeof(pos), "%zu", i);
		prom_sample(p, r, prom_i64(v, sizeof(v), (int64_t)c->not_after), 4,
		            "subject", c->subject ? c->subject : "",
		            "issuer", c->issuer ? c->issuer : "",
		            "position", pos, "sha256", sha);
	}
}

/* Each AUTH word once (a server may repeat one, and a repeated series
 * would make the whole exposition invalid), upper-cased as RFC 4422 names
 * them. */
static void prom_mechs(struct prom *p, const struct result *r, const char *list,
                       const char *tls)
{
	char seen[PROM_MAX_MECHS][64];
	size_t nseen = 0;
	const char *s = list;

	while (s && *s && nseen < PROM_MAX_MECHS) {
		char w[64];
		size_t n, k;
		bool dup = false;

		while (*s == ' ' || *s == '\t')
			s++;
		n = strcspn(s, " \t");
		if (n == 0)
			break;
		k = n < sizeof(w) - 1 ? n : sizeof(w) - 1;
		for (size_t i = 0; i < k; i++)
			w[i] = (char)toupper((unsigned char)s[i]);
		w[k] = '\0';
		s += n;
		for (size_t i = 0; i < nseen && !dup; i++)
			dup = strcmp(seen[i], w) == 0;
		if (dup)
			continue;
		memcpy(seen[nseen++], w, k + 1);
		prom_sample(p, r, "1", 2, "mechanism", w, "tls", tls);
	}
}

void render_prometheus(FILE *f, const struct result *const *r, size_t n,
                       const struct render_opts *o)
{
	struct prom p = { .f = f };
	char v[32];
	size_t i;

	(void)o;
	prom_family(&p, "smtp_probe_success", "gauge",
	            "1 when the SMTP dialogue reached EHLO and no critical problem was found.");
	for (i = 0; i < n; i++)
		prom_sample(&p, r[i], prom_bool(prom_success(r[i])), 0);

	prom_family(&p, "smtp_probe_status", "gauge",
	            "Probe status as the plugin exit code: 0 ok, 1 warning, 2 critical, 3 unknown.");
	for (i = 0; i < n; i++)
		prom_sample(&p, r[i], prom_i64(v, sizeof(v), (int64_t)r[i]->status), 0);

	prom_family(&p, "smtp_probe_duration_seconds", "gauge",
	            "Duration of each probe phase that took place, in seconds.");
	for (i = 0; i < n; i++)
		prom_durations(&p, r[i]);

	prom_family(&p, "smtp_probe_ssl_earliest_cert_expiry", "gauge",
	            "Earliest notAfter of the presented certificate chain, as a Unix timestamp.");
	for (i = 0; i < n; i++) {
		time_t t;

		if (prom_earliest(r[i], &t))
			prom_sample(&p, r[i], prom_i64(v, sizeof(v), (int64_t)t), 0);
	}

	prom_family(&p, "smtp_probe_cert_not_after", "gauge",
	            "notAfter of each certificate of the chain (position 0 is the server's), as a Unix timestamp.");
	for (i = 0; i < n; i++)
		prom_certs(&p, r[i]);

	prom_family(&p, "smtp_probe_cert_trusted", "gauge",
	            "1 when the certificate chain verified against the trust anchors.");
	for (i = 0; i < n; i++)
		if (r[i]->tls.verified)
			prom_sample(&p, r[i], prom_bool(r[i]->tls.trusted), 0);

	prom_family(&p, "smtp_probe_cert_hostname_match", "gauge",
	            "1 when the certificate matches the name verified (the host or --servername).");
	for (i = 0; i < n; i++)
		if (r[i]->tls.verified)
			prom_sample(&p, r[i], prom_bool(r[i]->tls.hostname_match), 0);

	prom_family(&p, "smtp_probe_tls_version_info", "gauge",
	            "The TLS version negotiated.");
	for (i = 0; i < n; i++)
		if (r[i]->tls.ok && r[i]->tls.version[0])
			prom_sample(&p, r[i], "1", 1, "version", r[i]->tls.version);

	prom_family(&p, "smtp_probe_tls_info", "gauge",
	            "The TLS cipher suite and key exchange group negotiated.");
	for (i = 0; i < n; i++)
		if (r[i]->tls.ok)
			prom_sample(&p, r[i], "1", 2, "cipher", r[i]->tls.cipher,
			            "group", r[i]->tls.group);

	prom_family(&p, "smtp_probe_starttls_offered", "gauge",
	            "1 when the server offered STARTTLS in its EHLO reply.");
	for (i = 0; i < n; i++)
		if (r[i]->ehlo.present)
			prom_sample(&p, r[i], prom_bool(r[i]->starttls_offered), 0);

	prom_family(&p, "smtp_probe_size_limit_bytes", "gauge",
	            "Message size limit the server announced with SIZE (RFC 1870), in bytes.");
	for (i = 0; i < n; i++)
		if (r[i]->size.has_limit)
			prom_sample(&p, r[i], prom_u64(v, sizeof(v), r[i]->size.limit), 0);

	prom_family(&p, "smtp_probe_max_attachment_bytes", "gauge",
	            "Largest attachment that fits the SIZE limit, in bytes, by transfer encoding.");
	for (i = 0; i < n; i++) {
		const struct size_info *s = &r[i]->size;

		if (!s->has_limit)
			continue;
		prom_sample(&p, r[i], prom_u64(v, sizeof(v), s->max_attachment_base64), 1,
		            "encoding", "base64");
		if (s->binary)
			prom_sample(&p, r[i], prom_u64(v, sizeof(v), s->max_attachment_binary), 1,
			            "encoding", "binary");
	}

	prom_family(&p, "smtp_probe_auth_mechanism", "gauge",
	            "AUTH mechanisms offered, before (tls=\"false\") and after (tls=\"true\") TLS.");
	for (i = 0; i < n; i++) {
		prom_mechs(&p, r[i], r[i]->auth.mechanisms, "false");
		prom_mechs(&p, r[i], r[i]->auth.mechanisms_tls, "true");
	}

	prom_family(&p, "smtp_probe_finding", "gauge",
	            "One series per finding of the probe, by code and severity.");
	for (i = 0; i < n; i++)
		for (size_t k = 0; k < r[i]->nfindings && k < RESULT_MAX_FINDINGS; k++) {
			const struct finding *fd = &r[i]->findings[k];
			char code[sizeof(fd->code)];

			memcpy(code, fd->code, sizeof(code));
			code[sizeof(code) - 1] = '\0';
			prom_sample(&p, r[i], "1", 2, "code", code,
			            "severity", severity_name(fd->sev));
		}
}
