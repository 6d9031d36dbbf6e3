/* Golden tests of the renderers: fixed results built here (a Postfix
 * STARTTLS probe with a chain of two, a refused connection, a hostile
 * server) rendered as text, JSON and explain, diffed against
 * tests/golden/NAME.ref. Run from the repository root; UPDATE_GOLDEN=1
 * rewrites the .ref files. Times are fixed: renderers never read the clock. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "render.h"
#include "render_util.h"
#include "result.h"
#include "smtp_ehlo.h"
#include "t.h"
#include "json_check.h"

#define GOLDEN_DIR "tests/golden/"

static time_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	                 .tm_hour = h, .tm_min = mi };

	return timegm(&tm);
}

/* The fixed "now" of every scenario: 2026-11-08 07:00 UTC. */
static time_t now_fixed(void)
{
	return utc(2026, 11, 8, 7, 0);
}

static void ehlo_fill(struct ehlo_info *e, int code, const char *const *lines, size_t n)
{
	struct smtp_reply rep;

	memset(&rep, 0, sizeof(rep));
	rep.code = code;
	rep.lines = (char **)(uintptr_t)lines;
	rep.nlines = n;
	smtp_ehlo_parse(&rep, false, e);
}

static void tx(struct result *r, double t, char dir, const char *line)
{
	result_transcript(r, t, dir, line, strlen(line));
}

/* A '*' line: the event (its type and fields) and its text. */
static void ev(struct result *r, double t, const struct tevent *e, const char *line)
{
	result_event(r, t, e, line, strlen(line));
}

static void evt(struct result *r, double t, enum tev type, const char *line)
{
	struct tevent e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	ev(r, t, &e, line);
}

static void cert_set(struct cert_info *c, const char *subject, const char *issuer,
                     const char *const *san, size_t nsan, time_t nb, time_t na,
                     const char *key, const char *sig, const char *sha, const char *spki)
{
	c->subject = strdup(subject);
	c->issuer = strdup(issuer);
	for (size_t i = 0; i < nsan; i++)
		c->san[c->nsan++] = strdup(san[i]);
	c->not_before = nb;
	c->not_after = na;
	/* whole days, toward zero, as the model defines it */
	c->days_left = (long)((long long)(na - now_fixed()) / 86400);
	c->expired = na < now_fixed();
	snprintf(c->key, sizeof(c->key), "%s", key);
	snprintf(c->signature, sizeof(c->signature), "%s", sig);
	snprintf(c->sha256, sizeof(c->sha256), "%s", sha);
	snprintf(c->spki_sha256, sizeof(c->spki_sha256), "%s", spki);
	c->self_signed = strcmp(subject, issuer) == 0;
}

static void build_postfix(struct result *r)
{
	static const char *const before[] = {
		"mx1.test", "PIPELINING", "SIZE 104857600", "VRFY", "ETRN", "STARTTLS",
		"ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING",
	};
	static const char *const after[] = {
		"mx1.test", "PIPELINING", "SIZE 104857600", "VRFY", "ETRN",
		"AUTH PLAIN LOGIN", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8",
		"CHUNKING",
	};
	static const char *const san0[] = { "DNS:mx1.test", "DNS:mail.test", "DNS:smtp.mx1.test" };
	struct tevent e;
	struct attempt *a;
	double t;

	result_init(r);
	tls_chain_alloc(&r->tls, 2);
	r->target = strdup("mx1.test");
	r->host = strdup("mx1.test");
	r->port = 25;
	r->tls_mode = TLS_MODE_STARTTLS;
	r->started = now_fixed();
	r->want_transcript = true;

	result_attempts_reserve(r, 1);
	a = &r->attempts[r->nattempts++];
	snprintf(a->address, sizeof(a->address), "::1");
	a->family = AF_INET6;
	a->connect_ms = -1;
	snprintf(a->error, sizeof(a->error), "connection refused");
	result_attempts_reserve(r, 1);
	a = &r->attempts[r->nattempts++];
	snprintf(a->address, sizeof(a->address), "127.0.0.1");
	a->family = AF_INET;
	a->connect_ms = 0.3;
	snprintf(r->address, sizeof(r->address), "127.0.0.1");
	r->family = AF_INET;

	r->greeting.present = true;
	r->greeting.code = 220;
	r->greeting.text = strdup("mx1.test ESMTP Postfix (Debian/GNU)");
	r->greeting.hostname = strdup("mx1.test");
	ehlo_fill(&r->ehlo, 250, before, sizeof(before) / sizeof(before[0]));
	ehlo_fill(&r->ehlo_tls, 250, after, sizeof(after) / sizeof(after[0]));
	r->starttls_offered = true;
	r->starttls_code = 220;

	r->size.advertised = true;
	r->size.has_limit = true;
	r->size.limit = 104857600;
	size_compute(&r->size, 4096);
	r->auth.mechanisms = NULL;
	r->auth.mechanisms_tls = strdup("PLAIN LOGIN");

	r->tls.attempted = true;
	r->tls.ok = true;
	snprintf(r->tls.version, sizeof(r->tls.version), "TLSv1.3");
	snprintf(r->tls.cipher, sizeof(r->tls.cipher), "TLS_AES_256_GCM_SHA384");
	snprintf(r->tls.group, sizeof(r->tls.group), "x25519");
	snprintf(r->tls.servername, sizeof(r->tls.servername), "mx1.test");
	r->tls.verified = true;
	r->tls.trusted = true;
	r->tls.hostname_match = true;
	r->tls.chain_total = 2;
	cert_set(&r->tls.chain[r->tls.nchain++], "CN=mx1.test",
	         "CN=smtp-probe Test Intermediate CA,O=smtp-probe tests", san0, 3,
	         utc(2025, 11, 28, 7, 0), utc(2026, 11, 28, 7, 0), "EC P-256", "ECDSA-SHA256",
	         "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	         "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	cert_set(&r->tls.chain[r->tls.nchain++],
	         "CN=smtp-probe Test Intermediate CA,O=smtp-probe tests",
	         "CN=smtp-probe Test Root CA,O=smtp-probe tests", NULL, 0,
	         utc(2025, 1, 1, 0, 0), utc(2030, 1, 1, 0, 0), "RSA 2048", "RSA-SHA256",
	         "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
	         "f4pz0mjMxXGCJXqWD5AFR6AvOyeIrhHQpA4s2Ot69Y8=");

	r->t.dns_ms = 0.8;
	r->t.connect_ms = 0.3;
	r->t.greeting_ms = 2.1;
	r->t.ehlo_ms = 0.5;
	r->t.starttls_ms = 0.4;
	r->t.tls_ms = 9.7;
	r->t.ehlo_tls_ms = 0.6;
	r->t.total_ms = 15.2;

	evt(r, 0.8, TEV_RESOLVED, "mx1.test resolved to 2 addresses in 0.8 ms");
	evt(r, 0.8, TEV_CONNECTING, "connecting to mx1.test port 25");
	evt(r, 0.9, TEV_CONNECT_FAILED, "connection failed: ::1: connection refused");
	evt(r, 1.1, TEV_CONNECTED, "connected to 127.0.0.1 port 25 in 0.3 ms");
	tx(r, 3.2, 'S', "220 mx1.test ESMTP Postfix (Debian/GNU)");
	tx(r, 3.2, 'C', "EHLO probe.example");
	t = 3.7;
	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		char line[128];

		snprintf(line, sizeof(line), "250%c%s",
		         i + 1 < sizeof(before) / sizeof(before[0]) ? '-' : ' ', before[i]);
		tx(r, t, 'S', line);
	}
	tx(r, 3.7, 'C', "STARTTLS");
	tx(r, 4.1, 'S', "220 2.0.0 Ready to start TLS");
	evt(r, 4.1, TEV_TLS_START, "TLS handshake started (SNI mx1.test)");
	memset(&e, 0, sizeof(e));
	e.type = TEV_TLS_DONE;
	snprintf(e.u.tls.version, sizeof(e.u.tls.version), "TLSv1.3");
	snprintf(e.u.tls.cipher, sizeof(e.u.tls.cipher), "TLS_AES_256_GCM_SHA384");
	snprintf(e.u.tls.group, sizeof(e.u.tls.group), "x25519");
	ev(r, 13.8, &e, "TLS handshake complete: TLSv1.3 TLS_AES_256_GCM_SHA384 x25519");
	memset(&e, 0, sizeof(e));
	e.type = TEV_CERT;
	ev(r, 13.8, &e, "certificate 0: CN=mx1.test, issued by CN=smtp-probe Test "
	   "Intermediate CA,O=smtp-probe tests, expires 2026-11-28 (20 days)");
	e.u.cert.index = 1;
	ev(r, 13.8, &e, "certificate 1: CN=smtp-probe Test Intermediate CA,O=smtp-probe "
	   "tests, issued by CN=smtp-probe Test Root CA,O=smtp-probe tests, expires "
	   "2030-01-01 (1149 days)");
	evt(r, 13.8, TEV_VERIFY_OK, "verification OK: trusted chain, valid for mx1.test");
	tx(r, 13.8, 'C', "EHLO probe.example");
	t = 14.4;
	for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
		char line[128];

		snprintf(line, sizeof(line), "250%c%s",
		         i + 1 < sizeof(after) / sizeof(after[0]) ? '-' : ' ', after[i]);
		tx(r, t, 'S', line);
	}
	tx(r, 14.4, 'C', "QUIT");
	tx(r, 15.2, 'S', "221 2.0.0 Bye");

	result_add(r, SEV_WARNING, "cert-expires-soon",
	           "certificate for mx1.test expires in %ld days (2026-11-28)",
	           r->tls.chain[0].days_left);
	result_add(r, SEV_INFO, "address-unreachable",
	           "::1 port 25: connection refused; the probe used 127.0.0.1");
	result_finish(r);
}

static void build_refused(struct result *r)
{
	struct attempt *a;

	result_init(r);
	r->target = strdup("submission://relay.test");
	r->host = strdup("relay.test");
	r->port = 587;
	r->tls_mode = TLS_MODE_STARTTLS;
	r->started = now_fixed();
	r->want_transcript = true;
	result_attempts_reserve(r, 1);
	a = &r->attempts[r->nattempts++];
	snprintf(a->address, sizeof(a->address), "127.0.0.2");
	a->family = AF_INET;
	a->connect_ms = -1;
	snprintf(a->error, sizeof(a->error), "connection refused");
	r->t.dns_ms = 0.5;
	r->t.total_ms = 1.0;
	result_add(r, SEV_CRITICAL, "connect-failed",
	           "could not connect to any address of relay.test port 587");
	result_finish(r);
}

/* A server that sends terminal escapes, invalid UTF-8 and a bidi override;
 * the output must stay valid JSON and harmless on a terminal. */
static void build_hostile(struct result *r)
{
	static const char *const lines[] = {
		"evil\x1b[2J.test", "SIZE 0", "X-\xff\xfe", "AUTH PLAIN\r\n", "8BITMIME",
	};
	struct attempt *a;

	result_init(r);
	r->target = strdup("127.0.0.9:2525");
	r->host = strdup("127.0.0.9");
	r->port = 2525;
	r->tls_mode = TLS_MODE_STARTTLS;
	r->started = now_fixed();
	result_attempts_reserve(r, 1);
	a = &r->attempts[r->nattempts++];
	snprintf(a->address, sizeof(a->address), "127.0.0.9");
	a->family = AF_INET;
	a->connect_ms = 0.2;
	snprintf(r->address, sizeof(r->address), "127.0.0.9");
	r->family = AF_INET;
	r->greeting.present = true;
	r->greeting.code = 220;
	r->greeting.text = strdup("evil\x1b[2J.test \"hi\" \\ caf\xc3\xa9 \xc0\xaf \xe2\x80\xae"
	                          "txt.exe\nsecond\x07line \xed\xa0\x80");
	r->greeting.hostname = strdup("evil\x1b[2J.test");
	/* One 200-byte word: wrapping must cut it, not overflow 80 columns. */
	r->auth.reply = malloc(201);
	memset(r->auth.reply, 'x', 200);
	r->auth.reply[200] = '\0';
	r->auth.tested = true;
	ehlo_fill(&r->ehlo, 250, lines, sizeof(lines) / sizeof(lines[0]));
	r->size.advertised = true;
	r->size.has_limit = false;
	size_compute(&r->size, 4096);
	r->auth.mechanisms = strdup("PLAIN\r\n");
	r->t.connect_ms = 0.2;
	r->t.total_ms = 3.0;
	result_add(r, SEV_CRITICAL, "starttls-missing",
	           "the server does not offer STARTTLS: mail to it travels unencrypted");
	result_add(r, SEV_INFO, "auth-before-tls",
	           "AUTH is offered before TLS");
	result_finish(r);
}

/* Implicit TLS on 465 with an expired self-signed certificate for another
 * name, a pin that does not match, and a rejected login test. */
static void build_badcert(struct result *r)
{
	static const char *const after[] = {
		"smtps.test", "PIPELINING", "SIZE", "AUTH PLAIN LOGIN XOAUTH2", "8BITMIME",
	};
	static const char *const san0[] = { "DNS:other.test" };
	struct tevent e;
	struct attempt *a;

	result_init(r);
	tls_chain_alloc(&r->tls, 1);
	r->target = strdup("smtps://smtps.test");
	r->host = strdup("smtps.test");
	r->port = 465;
	r->tls_mode = TLS_MODE_IMPLICIT;
	r->started = now_fixed();
	r->want_transcript = true;
	result_attempts_reserve(r, 1);
	a = &r->attempts[r->nattempts++];
	snprintf(a->address, sizeof(a->address), "127.0.0.3");
	a->family = AF_INET;
	a->connect_ms = 0.2;
	snprintf(r->address, sizeof(r->address), "127.0.0.3");
	r->family = AF_INET;
	r->greeting.present = true;
	r->greeting.code = 220;
	r->greeting.text = strdup("smtps.test ESMTP");
	r->greeting.hostname = strdup("smtps.test");
	ehlo_fill(&r->ehlo_tls, 250, after, sizeof(after) / sizeof(after[0]));
	r->size.advertised = true;
	size_compute(&r->size, 4096);
	r->auth.mechanisms_tls = strdup("PLAIN LOGIN XOAUTH2");
	r->auth.tested = true;
	r->auth.accepted = false;
	r->auth.reply = strdup("535 5.7.8 Error: authentication failed");
	r->tls.attempted = r->tls.ok = true;
	snprintf(r->tls.version, sizeof(r->tls.version), "TLSv1.2");
	snprintf(r->tls.cipher, sizeof(r->tls.cipher), "TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA");
	snprintf(r->tls.group, sizeof(r->tls.group), "secp256r1");
	snprintf(r->tls.servername, sizeof(r->tls.servername), "smtps.test");
	r->tls.verified = true;
	r->tls.trusted = false;
	r->tls.hostname_match = false;
	r->tls.errors[r->tls.nerrors++] = strdup("certificate has expired");
	r->tls.errors[r->tls.nerrors++] =
		strdup("issuer not trusted (chain does not lead to a trusted root)");
	r->tls.pin_checked = true;
	r->tls.pin_match = false;
	r->tls.chain_total = 1;
	cert_set(&r->tls.chain[r->tls.nchain++], "CN=other.test", "CN=other.test", san0, 1,
	         utc(2025, 10, 1, 12, 0), utc(2026, 11, 1, 12, 0), "RSA 2048", "RSA-SHA256",
	         "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
	         "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=");
	r->t.connect_ms = 0.2;
	r->t.tls_ms = 4.0;
	r->t.greeting_ms = 1.0;
	r->t.ehlo_tls_ms = 0.4;
	r->t.total_ms = 7.5;
	evt(r, 0.2, TEV_CONNECTED, "connected to 127.0.0.3 port 465 in 0.2 ms");
	evt(r, 0.2, TEV_TLS_START, "TLS handshake started (SNI smtps.test)");
	memset(&e, 0, sizeof(e));
	e.type = TEV_TLS_DONE;
	snprintf(e.u.tls.version, sizeof(e.u.tls.version), "TLSv1.2");
	snprintf(e.u.tls.cipher, sizeof(e.u.tls.cipher), "TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA");
	snprintf(e.u.tls.group, sizeof(e.u.tls.group), "secp256r1");
	ev(r, 4.2, &e, "TLS handshake complete: TLSv1.2 TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA secp256r1");
	memset(&e, 0, sizeof(e));
	e.type = TEV_CERT;
	e.u.cert.index = -1;
	ev(r, 4.2, &e, "certificate: CN=other.test, issued by CN=other.test, expires 2026-11-01 (-6 days)");
	memset(&e, 0, sizeof(e));
	e.type = TEV_VERIFY_FAILED;
	ev(r, 4.2, &e, "verification failed: certificate has expired; issuer not trusted "
	   "(chain does not lead to a trusted root); not valid for smtps.test");
	evt(r, 4.2, TEV_PIN, "pin mismatch: no --pin matches the server key");
	tx(r, 5.2, 'S', "220 smtps.test ESMTP");
	tx(r, 5.2, 'C', "EHLO probe.example");
	tx(r, 5.6, 'S', "250-smtps.test");
	tx(r, 5.6, 'S', "250-PIPELINING");
	tx(r, 5.6, 'S', "250-SIZE");
	tx(r, 5.6, 'S', "250-AUTH PLAIN LOGIN XOAUTH2");
	tx(r, 5.6, 'S', "250 8BITMIME");
	tx(r, 5.7, 'C', "AUTH PLAIN <redacted>");
	tx(r, 6.9, 'S', "535 5.7.8 Error: authentication failed");
	tx(r, 7.0, 'C', "QUIT");
	tx(r, 7.5, 'S', "221 2.0.0 Bye");
	result_add(r, SEV_CRITICAL, "cert-expired", "certificate for smtps.test expired 6 days ago (2026-11-01)");
	result_add(r, SEV_CRITICAL, "cert-untrusted", "issuer not trusted (chain does not lead to a trusted root)");
	result_add(r, SEV_CRITICAL, "cert-hostname-mismatch", "certificate is for other.test, not smtps.test");
	result_add(r, SEV_CRITICAL, "pin-mismatch", "no --pin matches the server key");
	result_add(r, SEV_WARNING, "auth-rejected", "the login test was refused: 535 5.7.8 Error: authentication failed");
	result_finish(r);
}

static char *render_to_string(void (*fn)(FILE *, const struct result *, const struct render_opts *),
                              const struct result *r, const struct render_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, r, o);
	fclose(f);
	return buf;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[4096];

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				exit(2);
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (buf == NULL)
		buf = calloc(1, 1);
	else
		buf[len] = '\0';
	return buf;
}

static void golden(const char *name, const char *got)
{
	char path[256], tname[128];
	char *want;
	const char *upd = getenv("UPDATE_GOLDEN");

	snprintf(path, sizeof(path), GOLDEN_DIR "%s.ref", name);
	snprintf(tname, sizeof(tname), "golden %s", name);
	if (upd && strcmp(upd, "1") == 0) {
		FILE *f = fopen(path, "wb");

		T_CHECK(tname, f != NULL && fputs(got, f) >= 0 && fclose(f) == 0);
		return;
	}
	want = read_file(path);
	if (want == NULL) {
		t_failed++;
		printf("FAIL %s: cannot read %s (run from the repo root; "
		       "UPDATE_GOLDEN=1 creates it)\n", tname, path);
		return;
	}
	if (strcmp(got, want) == 0) {
		t_passed++;
		printf("ok %s\n", tname);
	} else {
		/* Name the first differing line, so the failure says where. */
		const char *g = got, *w = want;
		int line = 1;

		while (*g && *g == *w) {
			if (*g == '\n')
				line++;
			g++;
			w++;
		}
		t_failed++;
		printf("FAIL %s: differs from %s at line %d\n", tname, path, line);
	}
	free(want);
}

/* Every line fits 80 columns (code points, as the terminal shows them). */
static void check_width(const char *name, const char *s)
{
	char tname[128];
	int col = 0, worst = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n') {
			col = 0;
			continue;
		}
		if ((*p & 0xc0) != 0x80 && ++col > worst)
			worst = col;
	}
	snprintf(tname, sizeof(tname), "%s fits 80 columns", name);
	T_CHECK(tname, worst <= 80);
	if (worst > 80)
		printf("# widest line: %d columns\n", worst);
}

/* No byte that a terminal would act on: C0 controls (but \n), DEL, ESC. */
static void check_terminal_safe(const char *name, const char *s)
{
	char tname[128];
	bool ok = true;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			ok = false;
	snprintf(tname, sizeof(tname), "%s has no control bytes", name);
	T_CHECK(tname, ok);
}

static void check_text(const char *name, char *out)
{
	golden(name, out);
	check_width(name, out);
	check_terminal_safe(name, out);
	free(out);
}

static void check_json(const char *name, char *out)
{
	char tname[128];
	size_t n = strlen(out);

	golden(name, out);
	snprintf(tname, sizeof(tname), "%s is one valid JSON document", name);
	T_CHECK(tname, n > 0 && out[n - 1] == '\n' && json_check_doc(out, n));
	free(out);
}

/* Runs of white space as one space (explain wraps its lines). */
static char *squash(char *s)
{
	char *w = s;

	if (s == NULL)
		return NULL;
	for (const char *p = s; *p; p++)
		if (!isspace((unsigned char)*p) || (w > s && w[-1] != ' '))
			*w++ = isspace((unsigned char)*p) ? ' ' : *p;
	*w = '\0';
	return s;
}

int main(void)
{
	struct result *r = calloc(1, sizeof(*r));
	struct render_opts plain = { 0 }, verbose = { .transcript = true },
	                   pretty = { .pretty = true }, color = { .color = true },
	                   expl = { .explain = true };
	char *s;

	if (r == NULL)
		return 2;

	build_postfix(r);
	check_text("postfix.text", render_to_string(render_text, r, &plain));
	check_text("postfix.text_v", render_to_string(render_text, r, &verbose));
	check_text("postfix.explain", render_to_string(render_explain, r, &expl));
	check_json("postfix.json", render_to_string(render_json, r, &plain));
	check_json("postfix.pretty.json", render_to_string(render_json, r, &pretty));
	s = render_to_string(render_text, r, &color);
	T_CHECK("color: yellow warning present", strstr(s, "\033[33m[WARNING]\033[0m") != NULL);
	free(s);
	s = render_to_string(render_text, r, &plain);
	T_CHECK("color: none without o->color", strchr(s, '\033') == NULL);
	free(s);
	/* JSON without -v / --explain and without want_transcript: no dialogue. */
	r->want_transcript = false;
	s = render_to_string(render_json, r, &plain);
	T_CHECK("json: transcript only when asked", strstr(s, "\"transcript\"") == NULL);
	free(s);
	result_clear(r);

	build_refused(r);
	check_text("refused.text", render_to_string(render_text, r, &plain));
	check_text("refused.explain", render_to_string(render_explain, r, &expl));
	check_json("refused.json", render_to_string(render_json, r, &plain));
	result_clear(r);

	build_badcert(r);
	check_text("badcert.text", render_to_string(render_text, r, &plain));
	check_text("badcert.explain", render_to_string(render_explain, r, &expl));
	check_json("badcert.json", render_to_string(render_json, r, &plain));
	result_clear(r);

	build_hostile(r);
	check_text("hostile.text", render_to_string(render_text, r, &plain));
	check_json("hostile.json", render_to_string(render_json, r, &plain));
	result_clear(r);

	/* A result straight from result_init (NULL strings everywhere) must
	 * render in every format without crashing, and as valid JSON. */
	result_init(r);
	s = render_to_string(render_text, r, &verbose);
	T_CHECK("empty result: text", s != NULL && strstr(s, "Verdict") != NULL);
	free(s);
	s = render_to_string(render_explain, r, &expl);
	T_CHECK("empty result: explain", s != NULL && strstr(s, "no dialogue") != NULL);
	free(s);
	s = render_to_string(render_json, r, &expl);
	T_CHECK("empty result: valid JSON", json_check_doc(s, strlen(s)));
	free(s);
	result_clear(r);

	/* result_drop: the finding goes, the others keep their order. */
	result_init(r);
	result_add(r, SEV_CRITICAL, "first", "one");
	result_add(r, SEV_CRITICAL, "tls-handshake-failed", "two");
	result_add(r, SEV_WARNING, "third", "three");
	result_drop(r, "tls-handshake-failed");
	result_drop(r, "not-there");
	T_CHECK("result_drop: one gone, order kept", r->nfindings == 2 &&
	        strcmp(r->findings[0].code, "first") == 0 && strcmp(r->findings[1].code, "third") == 0 &&
	        strcmp(r->findings[1].message, "three") == 0);
	result_clear(r);

	/* The findings grow one by one up to RESULT_MAX_FINDINGS; past it a
	 * worse finding takes the last place and a milder one is left out. */
	result_init(r);
	for (int i = 0; i < RESULT_MAX_FINDINGS + 6; i++) {
		char code[32];
		snprintf(code, sizeof(code), "info-%d", i);
		result_add(r, SEV_INFO, code, "message %d", i);
	}
	T_CHECK("findings: kept up to the maximum, in order",
	        r->nfindings == RESULT_MAX_FINDINGS && r->findings_cap == RESULT_MAX_FINDINGS &&
	        strcmp(r->findings[0].code, "info-0") == 0 &&
	        strcmp(r->findings[RESULT_MAX_FINDINGS - 1].message, "message 63") == 0);
	result_add(r, SEV_CRITICAL, "late-critical", "worse than the rest");
	result_add(r, SEV_WARNING, "late-warning", "milder than the critical");
	T_CHECK("findings: full, a critical takes the last place, a milder one does not",
	        r->nfindings == RESULT_MAX_FINDINGS &&
	        strcmp(r->findings[RESULT_MAX_FINDINGS - 1].code, "late-critical") == 0 &&
	        !result_has(r, "late-warning"));
	result_finish(r);
	T_CHECK("findings: full list still decides the status", r->status == ST_CRITICAL);
	result_clear(r);
	T_CHECK("findings: freed by result_clear", r->findings == NULL && r->nfindings == 0 &&
	        r->findings_cap == 0);

	/* Attempts: reserved as addresses come, never past the maximum. */
	result_init(r);
	result_attempts_reserve(r, 2);
	T_CHECK("attempts: room for two", r->attempts_cap == 2 && r->nattempts == 0);
	r->nattempts = 2;
	result_attempts_reserve(r, 100);
	T_CHECK("attempts: capped at the maximum", r->attempts_cap == RESULT_MAX_ATTEMPTS &&
	        r->attempts[RESULT_MAX_ATTEMPTS - 1].address[0] == '\0');
	result_clear(r);

	/* Alert protocol_version, then a TLS 1.0 ServerHello on the legacy
	 * follow-up: --explain names TLS 1.0 and who would still connect. */
	result_init(r);
	r->want_transcript = true;
	r->tls.attempted = true;
	r->tls.version_refused = true;
	r->tls.legacy_best = 0x0301;
	snprintf(r->tls.error, sizeof(r->tls.error), "TLS handshake failed: server sent TLS "
	         "alert 70 (protocol_version)");
	evt(r, 1.0, TEV_TLS_FAILED, r->tls.error);
	result_legacy_only(r, 0x0301, "a test");
	s = squash(render_to_string(render_explain, r, &expl));
	T_CHECK("legacy 1.0 explain: newest named", s != NULL &&
	        strstr(s, "TLS 1.0 is the newest it") != NULL);
	T_CHECK("legacy 1.0 explain: who would connect", s != NULL &&
	        strstr(s, "still allow TLS 1.0 would") != NULL &&
	        strstr(s, "most likely fail the same way") == NULL);
	free(s);
	T_CHECK("legacy 1.0 finding: names TLS 1.0", r->nfindings == 1 &&
	        strstr(r->findings[0].message, "nothing newer than TLS 1.0") != NULL);
	result_clear(r);

	free(r);
	T_DONE();
}
