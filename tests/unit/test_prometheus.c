/* render_prometheus: a fixed result rendered and read back line by line
 * against the text exposition format 0.0.4: HELP and TYPE once per family
 * and before its samples, sample lines well-formed, label values escaped
 * (a hostile certificate subject with quotes, backslashes and newlines;
 * invalid UTF-8 replaced), one series per label set. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "render.h"
#include "render_util.h"
#include "result.h"
#include "t.h"

static void fixture(struct result *r, const char *target, long days)
{
	struct cert_info *c;
	time_t now = 1767225600;        /* 2026-01-01T00:00:00Z */

	result_init(r);
	r->target = strdup(target);
	r->host = strdup("mx1.test");
	r->port = 25;
	r->tls_mode = TLS_MODE_STARTTLS;
	snprintf(r->address, sizeof(r->address), "127.0.0.1");
	r->family = AF_INET;
	r->greeting.present = true;
	r->greeting.code = 220;
	r->greeting.text = strdup("mx1.test ESMTP Postfix");
	r->ehlo.present = r->ehlo_tls.present = true;
	r->ehlo.code = r->ehlo_tls.code = 250;
	r->starttls_offered = true;
	r->size.advertised = r->size.has_limit = true;
	r->size.limit = 104857600;
	size_compute(&r->size, 4096);
	r->auth.mechanisms = strdup("PLAIN");
	r->auth.mechanisms_tls = strdup("PLAIN LOGIN plain");
	r->tls.attempted = r->tls.ok = r->tls.verified = true;
	r->tls.trusted = r->tls.hostname_match = true;
	snprintf(r->tls.version, sizeof(r->tls.version), "TLSv1.3");
	snprintf(r->tls.cipher, sizeof(r->tls.cipher), "TLS1-3-AES-256-GCM-SHA384");
	snprintf(r->tls.group, sizeof(r->tls.group), "x25519");
	r->tls.nchain = r->tls.chain_total = 2;
	c = &r->tls.chain[0];
	c->subject = strdup("CN=mx1.test");
	c->issuer = strdup("CN=Test CA");
	c->not_after = now + days * 86400;
	c->days_left = days;
	snprintf(c->sha256, sizeof(c->sha256), "%064d", 1);
	snprintf(c->serial, sizeof(c->serial), "0a1b");
	c->not_before = 1700000000;
	c->san[0] = strdup("DNS:mx1.test");
	c->san[1] = strdup("IP:127.0.0.1");
	c->nsan = 2;
	c = &r->tls.chain[1];
	c->subject = strdup("CN=Test CA");
	c->issuer = strdup("CN=Test CA");
	c->not_after = now + 3650L * 86400;
	c->days_left = 3650;
	snprintf(c->sha256, sizeof(c->sha256), "%064d", 2);
	r->t.dns_ms = -1;               /* an IP literal: no DNS phase */
	r->t.connect_ms = 0.21;
	r->t.greeting_ms = 1.5;
	r->t.ehlo_ms = 0.3;
	r->t.starttls_ms = 0.2;
	r->t.tls_ms = 4.25;
	r->t.ehlo_tls_ms = 0.3;
	r->t.total_ms = 52.4;
	r->started = now;
	result_add(r, SEV_INFO, "auth-before-tls", "AUTH (PLAIN) is offered before TLS");
	result_finish(r);
}

/* As if no certificate had been seen (frees what result_clear would). */
static void drop_chain(struct result *r)
{
	for (size_t i = 0; i < r->tls.nchain; i++) {
		free(r->tls.chain[i].subject);
		free(r->tls.chain[i].issuer);
		r->tls.chain[i].subject = r->tls.chain[i].issuer = NULL;
	}
	r->tls.nchain = 0;
}

static char *render_opts_with(const struct result *const *rs, size_t n,
                              const struct render_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	render_prometheus(f, rs, n, o);
	fclose(f);
	return buf;
}

static char *render(const struct result *const *rs, size_t n)
{
	struct render_opts o = { 0 };

	return render_opts_with(rs, n, &o);
}

#define MAXFAM 64
#define MAXSERIES 512

struct seen {
	char help[MAXFAM][128], type[MAXFAM][128];
	size_t nhelp, ntype;
	char *series[MAXSERIES];
	size_t nseries;
	char why[512];
};

static bool in(char list[][128], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* name{l="v",...} value: labels parsed with their escapes, value a float. */
static bool sample_ok(struct seen *s, const char *line)
{
	char name[128];
	size_t n = 0;
	const char *p = line;
	char *end;

	while (name_char(*p, n == 0) && n + 1 < sizeof(name))
		name[n++] = *p++;
	name[n] = '\0';
	if (n == 0) {
		snprintf(s->why, sizeof(s->why), "no metric name: %.200s", line);
		return false;
	}
	if (!in(s->help, s->nhelp, name) || !in(s->type, s->ntype, name)) {
		snprintf(s->why, sizeof(s->why), "sample before HELP/TYPE of %s", name);
		return false;
	}
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t k = 0;

			while (name_char(*p, k == 0))
				p++, k++;
			if (k == 0 || *p++ != '=' || *p++ != '"') {
				snprintf(s->why, sizeof(s->why), "bad label in: %.200s", line);
				return false;
			}
			while (*p && *p != '"') {
				if (*p == '\\') {
					p++;
					if (*p != '\\' && *p != '"' && *p != 'n') {
						snprintf(s->why, sizeof(s->why), "bad escape in: %.200s", line);
						return false;
					}
				}
				p++;
			}
			if (*p++ != '"') {
				snprintf(s->why, sizeof(s->why), "unterminated value: %.200s", line);
				return false;
			}
			if (*p == ',')
				p++;
			else if (*p != '}') {
				snprintf(s->why, sizeof(s->why), "bad label list: %.200s", line);
				return false;
			}
		}
		p++;
	}
	if (*p++ != ' ') {
		snprintf(s->why, sizeof(s->why), "no space before value: %.200s", line);
		return false;
	}
	strtod(p, &end);
	if (end == p || *end != '\0') {
		snprintf(s->why, sizeof(s->why), "bad value: %.200s", line);
		return false;
	}
	/* The series is everything before the value. */
	for (size_t i = 0; i < s->nseries; i++)
		if (strncmp(s->series[i], line, (size_t)(p - line)) == 0 &&
		    s->series[i][p - line] == '\0') {
			snprintf(s->why, sizeof(s->why), "duplicate series: %.200s", line);
			return false;
		}
	if (s->nseries < MAXSERIES)
		s->series[s->nseries++] = strndup(line, (size_t)(p - line));
	return true;
}

static bool header_ok(struct seen *s, const char *line)
{
	char kind[8], name[128];
	bool help = strncmp(line, "# HELP ", 7) == 0;

	if (sscanf(line, "# %7s %127s", kind, name) != 2) {
		snprintf(s->why, sizeof(s->why), "bad comment: %.200s", line);
		return false;
	}
	if (help ? in(s->help, s->nhelp, name) : in(s->type, s->ntype, name)) {
		snprintf(s->why, sizeof(s->why), "second %s for %s", kind, name);
		return false;
	}
	if (help && s->nhelp < MAXFAM)
		snprintf(s->help[s->nhelp++], 128, "%s", name);
	if (!help) {
		const char *t = line + 7 + strlen(name) + 1;

		if (strcmp(t, "gauge") && strcmp(t, "counter") && strcmp(t, "untyped")) {
			snprintf(s->why, sizeof(s->why), "bad type: %.200s", line);
			return false;
		}
		if (s->ntype < MAXFAM)
			snprintf(s->type[s->ntype++], 128, "%s", name);
	}
	return true;
}

/* Whole exposition: every line a header or a valid sample, UTF-8 valid,
 * ends with a newline. */
static bool exposition_ok(const char *out, struct seen *s)
{
	const char *p = out;
	size_t len = strlen(out);

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < len;) {
		size_t l = render_utf8_len((const unsigned char *)out + i, len - i);

		if (l == 0) {
			snprintf(s->why, sizeof(s->why), "invalid UTF-8 at byte %zu", i);
			return false;
		}
		i += l;
	}
	if (len == 0 || out[len - 1] != '\n') {
		snprintf(s->why, sizeof(s->why), "does not end with a newline");
		return false;
	}
	while (*p) {
		const char *nl = strchr(p, '\n');
		char *line = strndup(p, (size_t)(nl - p));
		bool ok = line[0] == '#' ? header_ok(s, line) : sample_ok(s, line);

		free(line);
		if (!ok)
			return false;
		p = nl + 1;
	}
	return true;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->nseries; i++)
		free(s->series[i]);
}

static void check_exposition(const char *name, const char *out)
{
	struct seen s;
	char n[160];
	bool ok = exposition_ok(out, &s);

	snprintf(n, sizeof(n), "%s: valid exposition", name);
	T_CHECK(n, ok);
	if (!ok)
		printf("# %s\n", s.why);
	seen_free(&s);
}

static bool has(const char *out, const char *line)
{
	return strstr(out, line) != NULL;
}

static void test_self_check(void)
{
	struct seen s;

	T_CHECK("checker accepts", exposition_ok("# HELP a x\n# TYPE a gauge\na{b=\"\\\"\"} 1\n", &s));
	seen_free(&s);
	T_CHECK("checker rejects sample before HELP", !exposition_ok("# TYPE a gauge\na 1\n", &s));
	seen_free(&s);
	T_CHECK("checker rejects second TYPE",
	        !exposition_ok("# HELP a x\n# TYPE a gauge\n# TYPE a gauge\na 1\n", &s));
	seen_free(&s);
	T_CHECK("checker rejects bad escape",
	        !exposition_ok("# HELP a x\n# TYPE a gauge\na{b=\"\\x\"} 1\n", &s));
	seen_free(&s);
	T_CHECK("checker rejects duplicate series",
	        !exposition_ok("# HELP a x\n# TYPE a gauge\na{b=\"1\"} 1\na{b=\"1\"} 2\n", &s));
	seen_free(&s);
	T_CHECK("checker rejects invalid utf8",
	        !exposition_ok("# HELP a x\n# TYPE a gauge\na{b=\"\xff\"} 1\n", &s));
	seen_free(&s);
}

static void test_fixed(void)
{
	struct result r;
	const struct result *rp = &r;
	char *out;

	fixture(&r, "mx1.test", 364);
	out = render(&rp, 1);
	check_exposition("fixed", out);
	T_CHECK("success", has(out, "\nsmtp_probe_success{target=\"mx1.test\"} 1\n"));
	T_CHECK("status", has(out, "\nsmtp_probe_status{target=\"mx1.test\"} 0\n"));
	T_CHECK("HELP first", strncmp(out, "# HELP smtp_probe_success ", 26) == 0);
	T_CHECK("TYPE gauge", has(out, "\n# TYPE smtp_probe_duration_seconds gauge\n"));
	T_CHECK("duration tls", has(out, "smtp_probe_duration_seconds{target=\"mx1.test\",phase=\"tls\"} 0.004250\n"));
	T_CHECK("duration total", has(out, "smtp_probe_duration_seconds{target=\"mx1.test\",phase=\"total\"} 0.052400\n"));
	T_CHECK("no dns phase when none", !has(out, "phase=\"dns\""));
	T_CHECK("earliest expiry", has(out, "\nsmtp_probe_ssl_earliest_cert_expiry{target=\"mx1.test\"} 1798675200\n"));
	T_CHECK("cert_not_after leaf",
	        has(out, "\nsmtp_probe_cert_not_after_timestamp_seconds{target=\"mx1.test\",position=\"0\","
	                 "sha256=\"" "000000000000000000000000000000"
	                 "0000000000000000000000000000000001\"} 1798675200\n"));
	T_CHECK("cert_not_after ca position",
	        has(out, "\nsmtp_probe_cert_not_after_timestamp_seconds{target=\"mx1.test\",position=\"1\","));
	T_CHECK("cert_not_before", has(out, "\nsmtp_probe_cert_not_before_timestamp_seconds{target=\"mx1.test\","
	                                    "position=\"0\",sha256=\"0000000000000000000000000000000000000000"
	                                    "000000000000000000000001\"} 1700000000\n"));
	T_CHECK("cert info", has(out, "\nsmtp_probe_cert_info{target=\"mx1.test\",position=\"0\",sha256=\""
	                              "0000000000000000000000000000000000000000000000000000000000000001\","
	                              "subject=\"CN=mx1.test\",issuer=\"CN=Test CA\",serial=\"0a1b\","
	                              "sans=\"mx1.test,127.0.0.1\"} 1\n"));
	T_CHECK("verified chain expiry",
	        has(out, "\nsmtp_probe_ssl_last_chain_expiry_timestamp_seconds{target=\"mx1.test\"} 1798675200\n"));
	T_CHECK("ip protocol", has(out, "\nsmtp_probe_ip_protocol{target=\"mx1.test\"} 4\n"));
	T_CHECK("address info", has(out, "\nsmtp_probe_address_info{target=\"mx1.test\",address=\"127.0.0.1\","
	                                 "family=\"ipv4\"} 1\n"));
	T_CHECK("no old names", !has(out, "smtp_probe_cert_not_after{") &&
	        !has(out, "smtp_probe_finding{") && !has(out, "smtp_probe_auth_mechanism{"));
	T_CHECK("tls version", has(out, "\nsmtp_probe_tls_version_info{target=\"mx1.test\",version=\"TLS 1.3\"} 1\n"));
	T_CHECK("tls info", has(out, "\nsmtp_probe_tls_info{target=\"mx1.test\",cipher=\"TLS1-3-AES-256-GCM-SHA384\","
	                             "group=\"x25519\"} 1\n"));
	T_CHECK("size", has(out, "\nsmtp_probe_size_limit_bytes{target=\"mx1.test\"} 104857600\n"));
	T_CHECK("attachment", has(out, "\nsmtp_probe_max_attachment_bytes{target=\"mx1.test\",encoding=\"base64\"} 76623714\n"));
	T_CHECK("starttls", has(out, "\nsmtp_probe_starttls_offered{target=\"mx1.test\"} 1\n"));
	T_CHECK("auth before tls", has(out, "\nsmtp_probe_auth_mechanism_info{target=\"mx1.test\",mechanism=\"PLAIN\",tls=\"false\"} 1\n"));
	T_CHECK("auth after tls", has(out, "\nsmtp_probe_auth_mechanism_info{target=\"mx1.test\",mechanism=\"LOGIN\",tls=\"true\"} 1\n"));
	T_CHECK("finding", has(out, "\nsmtp_probe_finding_info{target=\"mx1.test\",code=\"auth-before-tls\",severity=\"info\"} 1\n"));
	T_CHECK("trusted", has(out, "\nsmtp_probe_cert_trusted{target=\"mx1.test\"} 1\n"));
	T_CHECK("hostname match", has(out, "\nsmtp_probe_cert_hostname_match{target=\"mx1.test\"} 1\n"));
	free(out);

	/* An expiring but valid certificate (critical by --crit-days) is a
	 * working server: success 1, status 2, as blackbox_exporter. */
	result_add(&r, SEV_CRITICAL, "cert-expires-soon", "expires in 4 days");
	result_finish(&r);
	out = render(&rp, 1);
	check_exposition("expiring", out);
	T_CHECK("expiring: success 1", has(out, "\nsmtp_probe_success{target=\"mx1.test\"} 1\n"));
	T_CHECK("expiring: status 2", has(out, "\nsmtp_probe_status{target=\"mx1.test\"} 2\n"));
	free(out);
	/* An untrusted chain: success 0, and no verified-chain expiry. */
	r.tls.trusted = false;
	result_add(&r, SEV_CRITICAL, "cert-untrusted", "self-signed");
	result_finish(&r);
	out = render(&rp, 1);
	T_CHECK("untrusted: success 0", has(out, "\nsmtp_probe_success{target=\"mx1.test\"} 0\n"));
	T_CHECK("untrusted: no verified-chain expiry",
	        !has(out, "smtp_probe_ssl_last_chain_expiry_timestamp_seconds{"));
	T_CHECK("untrusted: earliest expiry still there",
	        has(out, "\nsmtp_probe_ssl_earliest_cert_expiry{target=\"mx1.test\"} "));
	free(out);
	/* --all-addresses: address and family on every series. */
	{
		struct render_opts ao;

		memset(&ao, 0, sizeof(ao));
		ao.address_labels = true;
		out = render_opts_with(&rp, 1, &ao);
		check_exposition("address labels", out);
		T_CHECK("address labels on success",
		        has(out, "\nsmtp_probe_success{target=\"mx1.test\",address=\"127.0.0.1\","
		                 "family=\"ipv4\"} 0\n"));
		T_CHECK("address labels: no address_info", !has(out, "smtp_probe_address_info{"));
		free(out);
	}

	/* A failed probe: no TLS families at all, success 0, status 2. */
	r.tls.ok = r.tls.verified = false;
	drop_chain(&r);
	r.size.has_limit = false;
	result_add(&r, SEV_CRITICAL, "tls-handshake-failed", "handshake failed");
	result_finish(&r);
	out = render(&rp, 1);
	check_exposition("failed", out);
	T_CHECK("failed: success 0", has(out, "\nsmtp_probe_success{target=\"mx1.test\"} 0\n"));
	T_CHECK("failed: status 2", has(out, "\nsmtp_probe_status{target=\"mx1.test\"} 2\n"));
	T_CHECK("failed: no expiry", !has(out, "smtp_probe_ssl_earliest_cert_expiry"));
	T_CHECK("failed: no size", !has(out, "smtp_probe_size_limit_bytes"));
	T_CHECK("failed: critical finding",
	        has(out, "code=\"tls-handshake-failed\",severity=\"critical\"} 1\n"));
	free(out);
	result_clear(&r);
}

static void test_hostile(void)
{
	struct result a, b;
	const struct result *rs[2] = { &a, &b };
	char *out;

	fixture(&a, "mx1.test", 364);
	free(a.tls.chain[0].subject);
	a.tls.chain[0].subject = strdup("CN=evil\"} 1\nsmtp_probe_success{x=\"\\");
	free(a.tls.chain[0].issuer);
	a.tls.chain[0].issuer = strdup("CN=caf\xe9 \xc3\xa9");
	free(a.auth.mechanisms_tls);
	a.auth.mechanisms_tls = strdup("X\"Y\\ Z\nW");
	fixture(&b, "[::1]:25\"", 20);
	out = render(rs, 2);
	check_exposition("hostile", out);
	T_CHECK("hostile: subject escaped",
	        has(out, "subject=\"CN=evil\\\"} 1\\\\x0Asmtp_probe_success{x=\\\"\\\\\","));
	T_CHECK("hostile: invalid utf8 replaced, valid kept",
	        has(out, "issuer=\"CN=caf\xef\xbf\xbd \xc3\xa9\","));
	T_CHECK("hostile: mechanism escaped", has(out, "mechanism=\"X\\\"Y\\\\\",tls=\"true\"} 1\n"));
	T_CHECK("hostile: newline in mechanism list splits words only",
	        has(out, "mechanism=\"Z\\\\x0AW\",tls=\"true\"} 1\n"));
	T_CHECK("hostile: target escaped", has(out, "smtp_probe_status{target=\"[::1]:25\\\"\"} 0\n"));
	{
		const char *p = out;
		size_t helps = 0;

		while ((p = strstr(p, "# HELP smtp_probe_success ")) != NULL)
			helps++, p++;
		T_CHECK("two targets: one HELP per family", helps == 1);
	}
	free(out);
	result_clear(&a);
	result_clear(&b);
}

int main(void)
{
	test_self_check();
	test_fixed();
	test_hostile();
	T_DONE();
}
