/* render_nagios: a fixed result rendered and parsed back by the grammar of
 * the Monitoring Plugins development guidelines (status line, perfdata
 * items 'label'=value[UOM];warn;crit;min;max), thresholds, and server text
 * that tries to break out of its line or into the perfdata. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "render.h"
#include "result.h"
#include "t.h"

/* A realistic STARTTLS probe of a Postfix with a 364-day certificate. */
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
	r->auth.mechanisms_tls = strdup("PLAIN LOGIN");
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
	c = &r->tls.chain[1];
	c->subject = strdup("CN=Test CA");
	c->issuer = strdup("CN=Test CA");
	c->not_after = now + 3650L * 86400;
	c->days_left = 3650;
	r->t.dns_ms = 0.4;
	r->t.connect_ms = 0.21;
	r->t.greeting_ms = 1.5;
	r->t.ehlo_ms = 0.3;
	r->t.starttls_ms = 0.2;
	r->t.tls_ms = 4.25;
	r->t.ehlo_tls_ms = 0.3;
	r->t.total_ms = 52.4;
	r->warn_days = 30;
	r->crit_days = 7;
	r->started = now;
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

static char *render(const struct result *const *rs, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct render_opts o = { 0 };

	render_nagios(f, rs, n, &o);
	fclose(f);
	return buf;
}

static char *render1(const struct result *r)
{
	return render(&r, 1);
}

/* The guidelines' perfdata item. Label: quoted (a quote inside doubled)
 * or a plain word; no '=' either way. Thresholds are ranges
 * ("10", "10:", "~:10", "@10:20"); min and max plain numbers. */
#define NUM    "-?[0-9]+(\\.[0-9]+)?"
#define RANGE  "(@?(" NUM "|~)?:?(" NUM ")?)"
#define ITEM   "^('([^'=]|'')+'|[^ '=]+)=" NUM "(s|ms|us|%|B|KB|MB|TB|c)?" \
               "(;" RANGE "?(;" RANGE "?(;(" NUM ")?(;(" NUM ")?)?)?)?)?$"

static regex_t item_re, status_re;

/* Splits the perfdata on spaces outside quotes; every item must match. */
static bool perfdata_ok(const char *pd, char *why, size_t whylen)
{
	char item[512];
	size_t n = 0;
	bool inq = false;

	if (*pd == '\0') {
		snprintf(why, whylen, "empty perfdata");
		return false;
	}
	for (const char *p = pd;; p++) {
		if (*p == '\'')
			inq = !inq;
		if (*p == '\0' || (*p == ' ' && !inq)) {
			item[n] = '\0';
			if (n == 0 || regexec(&item_re, item, 0, NULL, 0) != 0) {
				snprintf(why, whylen, "bad item '%s'", item);
				return false;
			}
			n = 0;
			if (*p == '\0')
				return true;
			continue;
		}
		if (n + 1 >= sizeof(item)) {
			snprintf(why, whylen, "item too long");
			return false;
		}
		item[n++] = *p;
	}
}

/* "SMTP WORD - text|perfdata": text free of '|', then the perfdata. */
static bool status_line_ok(const char *out, char *why, size_t whylen)
{
	const char *nl = strchr(out, '\n');
	char line[4096];
	size_t len = nl ? (size_t)(nl - out) : strlen(out);
	char *bar;

	if (nl == NULL || len >= sizeof(line)) {
		snprintf(why, whylen, "no complete first line");
		return false;
	}
	memcpy(line, out, len);
	line[len] = '\0';
	if (regexec(&status_re, line, 0, NULL, 0) != 0) {
		snprintf(why, whylen, "status line '%s'", line);
		return false;
	}
	bar = strchr(line, '|');
	if (bar == NULL)
		return true;
	if (strchr(bar + 1, '|')) {
		snprintf(why, whylen, "second '|' in '%s'", line);
		return false;
	}
	return perfdata_ok(bar + 1, why, whylen);
}

static const char *first_line_word(const char *out)
{
	static char w[16];

	if (sscanf(out, "SMTP %15s", w) != 1)
		return "";
	return w;
}

static void check_grammar(const char *name, const char *out)
{
	char why[5000] = "";
	char n[160];
	bool ok = out && status_line_ok(out, why, sizeof(why));

	snprintf(n, sizeof(n), "%s: status line follows the guidelines", name);
	T_CHECK(n, ok);
	if (!ok)
		printf("# %s\n", why);
}

static void test_grammar_self_check(void)
{
	char why[256];

	T_CHECK("grammar accepts plain", status_line_ok("SMTP OK - x|a=1s;2:;1:;0 b=3B\n", why, sizeof(why)));
	T_CHECK("grammar accepts quoted label", status_line_ok("SMTP OK - x|'a b'=1;;;0;9\n", why, sizeof(why)));
	T_CHECK("grammar accepts no perfdata", status_line_ok("SMTP OK - x\n", why, sizeof(why)));
	T_CHECK("grammar rejects unknown UOM", !status_line_ok("SMTP OK - x|a=1sec\n", why, sizeof(why)));
	T_CHECK("grammar rejects '=' in label", !status_line_ok("SMTP OK - x|a=b=1\n", why, sizeof(why)));
	T_CHECK("grammar rejects second bar", !status_line_ok("SMTP OK - x|a=1|b=2\n", why, sizeof(why)));
	T_CHECK("grammar rejects bad status", !status_line_ok("SMTP FINE - x|a=1\n", why, sizeof(why)));
	T_CHECK("grammar rejects comma decimal", !status_line_ok("SMTP OK - x|a=1,5s\n", why, sizeof(why)));
	T_CHECK("grammar rejects empty perfdata", !status_line_ok("SMTP OK - x|\n", why, sizeof(why)));
}

static void test_ok(void)
{
	struct result r;
	char *out;

	fixture(&r, "mx1.test", 364);
	out = render1(&r);
	check_grammar("ok", out);
	T_CHECK("ok: status word", strncmp(out, "SMTP OK - ", 10) == 0);
	T_CHECK("ok: summary", strstr(out, "SMTP OK - mx1.test:25 TLSv1.3, certificate expires "
	                                   "in 364 days, SIZE 100 MiB|") == out);
	T_CHECK("ok: cert_days_left with thresholds", strstr(out, "|cert_days_left=364;30:;7: ") != NULL);
	T_CHECK("ok: time 3 decimals", strstr(out, " time=0.052s;;;0") != NULL);
	T_CHECK("ok: connect_time", strstr(out, " connect_time=0.000s;;;0") != NULL);
	T_CHECK("ok: greeting_time", strstr(out, " greeting_time=0.002s;;;0") != NULL);
	T_CHECK("ok: tls_handshake", strstr(out, " tls_handshake=0.004s;;;0") != NULL);
	T_CHECK("ok: size_limit", strstr(out, " size_limit=104857600B;;;0\n") != NULL);
	T_CHECK("ok: one line only", strchr(out, '\n') == out + strlen(out) - 1);
	free(out);

	/* Earliest over the chain: the CA expiring first decides. */
	r.tls.chain[1].days_left = 12;
	r.warn_days = 20;
	r.crit_days = 5;
	out = render1(&r);
	T_CHECK("earliest over chain and thresholds from result",
	        strstr(out, "|cert_days_left=12;20:;5: ") != NULL);
	free(out);

	/* Unknown SIZE and no TLS: no size_limit, no cert_days_left, no tls time. */
	result_clear(&r);
	fixture(&r, "mx1.test", 364);
	r.size.has_limit = false;
	r.tls.attempted = r.tls.ok = false;
	drop_chain(&r);
	r.t.tls_ms = -1;
	r.tls_mode = TLS_MODE_NONE;
	out = render1(&r);
	check_grammar("no tls", out);
	T_CHECK("no tls: summary", strstr(out, "SMTP OK - mx1.test:25 no TLS, SIZE no fixed limit|time=") == out);
	T_CHECK("no tls: no size_limit", strstr(out, "size_limit") == NULL);
	T_CHECK("no tls: no cert_days_left", strstr(out, "cert_days_left") == NULL);
	T_CHECK("no tls: no tls_handshake", strstr(out, "tls_handshake") == NULL);
	free(out);
	result_clear(&r);
}

static void test_thresholds(void)
{
	struct result r;
	char *out;

	/* The engine adds the finding; the renderer reports it. */
	fixture(&r, "mx1.test", 20);
	result_add(&r, SEV_WARNING, "cert-expires-soon",
	           "certificate 0 (CN=mx1.test) expires in 20 days (warning below 30)");
	result_finish(&r);
	out = render1(&r);
	check_grammar("warning", out);
	T_STREQ("warning: status word", first_line_word(out), "WARNING");
	T_CHECK("warning: summary is the finding",
	        strstr(out, "SMTP WARNING - mx1.test:25 certificate 0 (CN=mx1.test) expires in "
	                    "20 days (warning below 30)|") == out);
	T_CHECK("warning: perfdata", strstr(out, "|cert_days_left=20;30:;7: ") != NULL);
	T_CHECK("warning: long output", strstr(out, "\n[WARNING] cert-expires-soon: certificate 0 "
	                                            "(CN=mx1.test) expires in 20 days (warning below 30)\n") != NULL);
	free(out);
	result_clear(&r);

	fixture(&r, "mx1.test", -3);
	result_add(&r, SEV_INFO, "auth-before-tls", "AUTH (PLAIN) is offered before TLS");
	result_add(&r, SEV_CRITICAL, "cert-expired", "certificate 0 (CN=mx1.test) expired 3 days ago");
	result_add(&r, SEV_CRITICAL, "cert-untrusted", "the chain does not verify");
	result_finish(&r);
	out = render1(&r);
	check_grammar("critical", out);
	T_STREQ("critical: status word", first_line_word(out), "CRITICAL");
	T_CHECK("critical: worst finding and count",
	        strstr(out, "SMTP CRITICAL - mx1.test:25 certificate 0 (CN=mx1.test) expired 3 days ago (+1 more)|") == out);
	T_CHECK("critical: negative days", strstr(out, "|cert_days_left=-3;30:;7: ") != NULL);
	T_CHECK("critical: info finding listed", strstr(out, "\n[INFO] auth-before-tls: ") != NULL);
	T_CHECK("critical: each finding a line", strstr(out, "\n[CRITICAL] cert-expired: certificate 0 "
	                                                   "(CN=mx1.test) expired 3 days ago\n[CRITICAL] "
	                                                   "cert-untrusted: the chain does not verify\n") != NULL);
	free(out);
	result_clear(&r);

	result_init(&r);
	r.target = strdup("mx9.test");
	r.host = strdup("mx9.test");
	r.port = 25;
	out = render1(&r);
	check_grammar("unknown", out);
	T_STREQ("unknown: status word", first_line_word(out), "UNKNOWN");
	free(out);
	result_clear(&r);
}

/* Server text with newlines, '|' and escape bytes must stay in its line. */
static void test_hostile(void)
{
	struct result r;
	char *out, *p;
	size_t lines = 0;

	fixture(&r, "mx1.test", 364);
	result_add(&r, SEV_CRITICAL, "greeting-rejected",
	           "the server greeted with 554: go away|evil=1 \r\n[OK] fake: line\x1b[2J\xff");
	result_finish(&r);
	out = render1(&r);
	check_grammar("hostile", out);
	for (p = out; *p; p++)
		if (*p == '\n')
			lines++;
	T_CHECK("hostile: two lines (status + one finding)", lines == 2);
	T_CHECK("hostile: single bar", strchr(out, '|') == strrchr(out, '|'));
	T_CHECK("hostile: no ESC byte", strchr(out, '\x1b') == NULL);
	T_CHECK("hostile: invalid byte replaced", strstr(out, "\xef\xbf\xbd") != NULL);
	T_CHECK("hostile: ESC shown as \\x1B", strstr(out, "line\\x1B[2J") != NULL);
	T_CHECK("hostile: bar replaced", strstr(out, "go away/evil=1") != NULL);
	free(out);
	result_clear(&r);
}

static void test_several(void)
{
	struct result a, b, c;
	const struct result *rs[3] = { &a, &b, &c };
	char *out;

	fixture(&a, "mx1.test:25", 364);
	fixture(&b, "mx2.test:25", 20);
	free(b.host);
	b.host = strdup("::1");
	b.port = 587;
	result_add(&b, SEV_WARNING, "cert-expires-soon", "expires in 20 days");
	result_finish(&b);
	fixture(&c, "x", 100);
	free(c.host);
	c.host = strdup("odd host'=name");
	out = render(rs, 3);
	check_grammar("several", out);
	T_CHECK("several: worst status and counts",
	        strstr(out, "SMTP WARNING - 1 warning, 2 ok of 3 targets; [::1]:587 expires in 20 days|") == out);
	T_CHECK("several: labels prefixed", strstr(out, "|mx1.test:25/cert_days_left=364;30:;7: ") != NULL);
	T_CHECK("several: v6 label", strstr(out, " [::1]:587/cert_days_left=20;30:;7: ") != NULL);
	T_CHECK("several: odd label quoted, '=' and quote replaced",
	        strstr(out, " 'odd host__name:25/time'=0.052s;;;0") != NULL);
	T_CHECK("several: per-target line", strstr(out, "\n[OK] mx1.test:25 - TLSv1.3, certificate expires in 364 days, SIZE 100 MiB\n") != NULL);
	T_CHECK("several: finding with target", strstr(out, "\n[WARNING] [::1]:587 cert-expires-soon: expires in 20 days\n") != NULL);
	free(out);
	result_clear(&a);
	result_clear(&b);
	result_clear(&c);
}

int main(void)
{
	if (regcomp(&item_re, ITEM, REG_EXTENDED | REG_NOSUB) != 0 ||
	    regcomp(&status_re, "^SMTP (OK|WARNING|CRITICAL|UNKNOWN) - [^|]+(\\|.*)?$",
	            REG_EXTENDED | REG_NOSUB) != 0) {
		printf("FAIL regcomp\n");
		return 1;
	}
	test_grammar_self_check();
	test_ok();
	test_thresholds();
	test_hostile();
	test_several();
	regfree(&item_re);
	regfree(&status_re);
	T_DONE();
}
