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
#include <sys/socket.h>

#include "render.h"
#include "render_util.h"
#include "sanitize.h"

#define PROM_LABEL_MAX 1024     /* bytes of one label value kept */
#define PROM_MAX_MECHS 32       /* AUTH mechanisms kept per list */

struct prom {
	FILE *f;
	const char *name, *type, *help;
	bool headed;                /* HELP/TYPE written for this family */
	bool addr_labels;           /* several addresses per target: label each */
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

static const char *prom_family_name(int family)
{
	return family == AF_INET ? "ipv4" : family == AF_INET6 ? "ipv6" : "";
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
	if (p->addr_labels) {
		int fam;
		const char *addr = result_addr(r, &fam);

		fputs(",address=\"", p->f);
		prom_value_esc(p->f, addr);
		fprintf(p->f, "\",family=\"%s\"", prom_family_name(fam));
	}
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

/* probe_success as blackbox_exporter means it: the server answered (the
 * dialogue reached an EHLO or HELO reply) and every check asked for passed.
 * Thresholds are not checks: an expiring but valid certificate, or a slow
 * probe, is a working server whose status (and the expiry metrics) say the
 * rest; anything else critical is a failed probe. */
bool render_prom_success(const struct result *r)
{
	if (!r->greeting.present || !(r->ehlo.present || r->ehlo_tls.present))
		return false;
	for (size_t i = 0; i < r->nfindings && i < RESULT_MAX_FINDINGS; i++) {
		const struct finding *fd = &r->findings[i];

		if (fd->sev == SEV_CRITICAL && strcmp(fd->code, "cert-expires-soon") != 0 &&
		    strcmp(fd->code, "probe-slow") != 0)
			return false;
	}
	return true;
}

/* "TLSv1.3" -> "TLS 1.3", as blackbox_exporter's probe_tls_version_info. */
static void prom_tls_version(char *out, size_t outsz, const char *v)
{
	if (strncmp(v, "TLSv", 4) == 0)
		snprintf(out, outsz, "TLS %s", v + 4);
	else
		snprintf(out, outsz, "%s", v);
}

/* The expiry of the chain that verified (blackbox_exporter's
 * probe_ssl_last_chain_expiry_timestamp_seconds): only when the chain is
 * trusted; the earliest notAfter of the certificates presented. */
static bool prom_verified_expiry(const struct result *r, time_t *t)
{
	const struct tls_info *ti = &r->tls;

	if (!ti->verified || !ti->trusted || ti->nchain == 0)
		return false;
	*t = ti->chain[0].not_after;
	for (size_t i = 1; i < ti->nchain && i < RESULT_MAX_CHAIN; i++)
		if (ti->chain[i].not_after < *t)
			*t = ti->chain[i].not_after;
	return true;
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

enum prom_cert_what { PC_NOT_AFTER, PC_NOT_BEFORE, PC_INFO };

/* Per certificate: its dates (labelled position and sha256, which identify
 * it), or the info series with what dashboards show (subject, issuer,
 * serial, SANs comma-separated as blackbox_exporter writes them). */
static void prom_certs(struct prom *p, const struct result *r, enum prom_cert_what what)
{
	const struct tls_info *ti = &r->tls;
	char v[32], pos[24];

	for (size_t i = 0; i < ti->nchain && i < RESULT_MAX_CHAIN; i++) {
		const struct cert_info *c = &ti->chain[i];
		char sha[sizeof(c->sha256)], serial[sizeof(c->serial)], sans[PROM_LABEL_MAX + 1];

		memcpy(sha, c->sha256, sizeof(sha));
		sha[sizeof(sha) - 1] = '\0';
		memcpy(serial, c->serial, sizeof(serial));
		serial[sizeof(serial) - 1] = '\0';
		snprintf(pos, sizeof(pos), "%zu", i);
		if (what == PC_INFO) {
			sans[0] = '\0';
			for (size_t k = 0; k < c->nsan && k < RESULT_MAX_SAN; k++) {
				const char *sn = c->san[k] ? c->san[k] : "";
				const char *colon = strchr(sn, ':');
				size_t used = strlen(sans);

				/* "DNS:mx1.test" -> "mx1.test" */
				snprintf(sans + used, sizeof(sans) - used, "%s%s", used ? "," : "",
				         colon ? colon + 1 : sn);
			}
			prom_sample(p, r, "1", 6, "position", pos, "sha256", sha,
			            "subject", c->subject ? c->subject : "",
			            "issuer", c->issuer ? c->issuer : "", "serial", serial,
			            "sans", sans);
		} else {
			prom_sample(p, r, prom_i64(v, sizeof(v), (int64_t)(what == PC_NOT_AFTER ?
			            c->not_after : c->not_before)), 2, "position", pos, "sha256", sha);
		}
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
	struct prom p = { .f = f, .addr_labels = o->address_labels };
	char v[32];
	size_t i;

	prom_family(&p, "smtp_probe_success", "gauge",
	            "1 when the server answered (EHLO) and the checks asked for passed; "
	            "expiry and time thresholds are in smtp_probe_status.");
	for (i = 0; i < n; i++)
		prom_sample(&p, r[i], prom_bool(render_prom_success(r[i])), 0);

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

	prom_family(&p, "smtp_probe_ssl_last_chain_expiry_timestamp_seconds", "gauge",
	            "Earliest notAfter of the chain when it verified, as a Unix timestamp.");
	for (i = 0; i < n; i++) {
		time_t t;

		if (prom_verified_expiry(r[i], &t))
			prom_sample(&p, r[i], prom_i64(v, sizeof(v), (int64_t)t), 0);
	}

	prom_family(&p, "smtp_probe_cert_not_after_timestamp_seconds", "gauge",
	            "notAfter of each certificate presented (position 0 is the server's), as a Unix timestamp.");
	for (i = 0; i < n; i++)
		prom_certs(&p, r[i], PC_NOT_AFTER);

	prom_family(&p, "smtp_probe_cert_not_before_timestamp_seconds", "gauge",
	            "notBefore of each certificate presented, as a Unix timestamp.");
	for (i = 0; i < n; i++)
		prom_certs(&p, r[i], PC_NOT_BEFORE);

	prom_family(&p, "smtp_probe_cert_info", "gauge",
	            "Each certificate presented: subject, issuer, serial and SANs; always 1.");
	for (i = 0; i < n; i++)
		prom_certs(&p, r[i], PC_INFO);

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
	            "The TLS version negotiated (\"TLS 1.3\", as blackbox_exporter writes it); always 1.");
	for (i = 0; i < n; i++)
		if (r[i]->tls.ok && r[i]->tls.version[0]) {
			char tv[sizeof(r[i]->tls.version) + 2];

			prom_tls_version(tv, sizeof(tv), r[i]->tls.version);
			prom_sample(&p, r[i], "1", 1, "version", tv);
		}

	prom_family(&p, "smtp_probe_ip_protocol", "gauge",
	            "IP version of the address the dialogue ran on (4 or 6), as blackbox_exporter's probe_ip_protocol.");
	for (i = 0; i < n; i++)
		if (r[i]->family == AF_INET || r[i]->family == AF_INET6)
			prom_sample(&p, r[i], r[i]->family == AF_INET ? "4" : "6", 0);

	prom_family(&p, "smtp_probe_address_info", "gauge",
	            "The address the dialogue ran on and its family; always 1.");
	for (i = 0; i < n; i++)
		if (r[i]->address[0] && !p.addr_labels)
			prom_sample(&p, r[i], "1", 2, "address", r[i]->address,
			            "family", prom_family_name(r[i]->family));

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

	prom_family(&p, "smtp_probe_auth_mechanism_info", "gauge",
	            "AUTH mechanisms offered, before (tls=\"false\") and after (tls=\"true\") TLS.");
	for (i = 0; i < n; i++) {
		prom_mechs(&p, r[i], r[i]->auth.mechanisms, "false");
		prom_mechs(&p, r[i], r[i]->auth.mechanisms_tls, "true");
	}

	prom_family(&p, "smtp_probe_finding_info", "gauge",
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
