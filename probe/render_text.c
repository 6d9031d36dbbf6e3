/* Text renderer: the report for a person, 80 columns, one section per
 * question an operator asks (where did we connect, what did it say, what
 * does it offer, is TLS right, how big may mail be, so what). */
#include <string.h>
#include <sys/socket.h>

#include "render.h"
#include "render_util.h"

#define LABEL_COL 15             /* "  label        value" */
#define SAFE_MAX  1024           /* bytes of one server string shown */

/* Safe copy sized for the worst case (every byte as \xNN). */
struct safe_str {
	char s[SAFE_MAX * 4 + 8];
};

static const char *safe(struct safe_str *b, const char *s)
{
	render_safe_buf(b->s, sizeof(b->s), s ? s : "", SAFE_MAX);
	return b->s;
}

static void label(FILE *f, const char *name)
{
	fprintf(f, "  %-12s ", name);
}

/* A labelled value wrapped under the value column. */
static void field(FILE *f, const char *name, const char *value)
{
	label(f, name);
	render_wrap(f, value, LABEL_COL, LABEL_COL);
}

static const char *family_word(int family)
{
	return family == AF_INET6 ? "IPv6" : family == AF_INET ? "IPv4" : "?";
}

static const char *mode_word(enum tls_mode m)
{
	switch (m) {
	case TLS_MODE_STARTTLS: return "STARTTLS";
	case TLS_MODE_IMPLICIT: return "implicit TLS";
	default:                return "no TLS";
	}
}

static void header(FILE *f, const struct result *r, const struct render_opts *o)
{
	const char *arrow = o->unicode ? "\u2192" : "->";
	struct safe_str t, a;
	char line[sizeof(t.s) * 2 + 64];

	if (r->address[0])
		render_fmt(line, sizeof(line), "%s %s %s, port %u, %s",
		         safe(&t, r->target), arrow, safe(&a, r->address), r->port,
		         mode_word(r->tls_mode));
	else
		render_fmt(line, sizeof(line), "%s %s no address answered, port %u, %s",
		         safe(&t, r->target), arrow, r->port, mode_word(r->tls_mode));
	render_wrap(f, line, 0, 4);
}

/* Timings wrap only between items, never inside "tls 9.7". */
static void add_timing(FILE *f, int *col, const char *name, double ms)
{
	char item[64];
	int n;

	if (ms < 0)
		return;
	n = snprintf(item, sizeof(item), "%s %.1f", name, ms);
	if (*col > LABEL_COL && *col + 2 + n + 3 > RENDER_WIDTH) {
		fprintf(f, ",\n%*s", LABEL_COL, "");
		*col = LABEL_COL;
	} else if (*col > LABEL_COL) {
		fputs(", ", f);
		*col += 2;
	}
	fputs(item, f);
	*col += n;
}

static void connection(FILE *f, const struct result *r)
{
	char buf[512];

	fputs("Connection\n", f);
	if (r->host_unicode != NULL) {
		struct safe_str u, h;

		render_fmt(buf, sizeof(buf), "%s, in DNS, SNI and certificates %s (IDNA2008)",
		           safe(&u, r->host_unicode), safe(&h, r->host));
		field(f, "name", buf);
	}
	for (size_t i = 0; i < r->nattempts && i < RESULT_MAX_ATTEMPTS; i++) {
		const struct attempt *a = &r->attempts[i];
		struct safe_str sa, se;

		safe(&sa, a->address);
		if (a->error[0])
			render_fmt(buf, sizeof(buf), "%s (%s): %s", sa.s,
			         family_word(a->family), safe(&se, a->error));
		else if (a->connect_ms >= 0)
			render_fmt(buf, sizeof(buf), "%s (%s): connected in %.1f ms",
			         sa.s, family_word(a->family), a->connect_ms);
		else
			render_fmt(buf, sizeof(buf), "%s (%s): not tried",
			         sa.s, family_word(a->family));
		field(f, i == 0 ? "attempts" : "", buf);
	}
	if (r->nattempts == 0)
		field(f, "attempts", "none (no address to connect to)");
	if (r->address[0]) {
		struct safe_str sa;

		render_fmt(buf, sizeof(buf), "%s (%s)", safe(&sa, r->address),
		         family_word(r->family));
		field(f, "address", buf);
	}
	if (r->source[0])
		field(f, "from", r->source);           /* --bind: our own address text */
	if (r->proxy[0])
		field(f, "proxy", r->proxy);           /* --proxy: built from its address */
	if (r->t.total_ms >= 0) {
		int col = LABEL_COL;

		label(f, "timings (ms)");
		add_timing(f, &col, "dns", r->t.dns_ms);
		add_timing(f, &col, "connect", r->t.connect_ms);
		add_timing(f, &col, "greeting", r->t.greeting_ms);
		add_timing(f, &col, "ehlo", r->t.ehlo_ms);
		add_timing(f, &col, "starttls", r->t.starttls_ms);
		add_timing(f, &col, "tls", r->t.tls_ms);
		add_timing(f, &col, "ehlo after tls", r->t.ehlo_tls_ms);
		add_timing(f, &col, "total", r->t.total_ms);
		putc('\n', f);
	}
}

static const char *greeting_meaning(int code)
{
	switch (code) {
	case 220: return "ready";
	case 421: return "busy or tarpitting: try again later";
	case 554: return "refused: the server will not talk to this client";
	default:
		return code >= 200 && code < 300 ? "accepted" :
		       code >= 400 && code < 500 ? "temporary refusal" :
		       code >= 500 ? "refused" : "unexpected";
	}
}

static void greeting(FILE *f, const struct result *r)
{
	char buf[64];
	const char *p;
	bool first = true;

	fputs("Greeting\n", f);
	if (!r->greeting.present) {
		fputs("  no greeting received\n", f);
		return;
	}
	render_fmt(buf, sizeof(buf), "%d (%s)", r->greeting.code,
	         greeting_meaning(r->greeting.code));
	field(f, "reply", buf);
	if (r->greeting.hostname) {
		struct safe_str h;

		field(f, "host name", safe(&h, r->greeting.hostname));
	}
	/* Multi-line greetings: one shown line per server line. */
	p = r->greeting.text ? r->greeting.text : "";
	do {
		size_t n = strcspn(p, "\n");
		char one[SAFE_MAX + 1];
		struct safe_str s;

		if (n > SAFE_MAX)
			n = SAFE_MAX;
		memcpy(one, p, n);
		one[n] = '\0';
		field(f, first ? "text" : "", safe(&s, one));
		first = false;
		p += strcspn(p, "\n");
		if (*p == '\n')
			p++;
	} while (*p);
}

static const char *ext_find(const struct ehlo_info *e, const char *kw)
{
	for (size_t i = 0; e->ext && i < e->next; i++)
		if (e->ext[i].keyword && strcmp(e->ext[i].keyword, kw) == 0)
			return e->ext[i].params ? e->ext[i].params : "";
	return NULL;
}

static bool ext_seen_before(const struct ehlo_info *e, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (e->ext[j].keyword && strcmp(e->ext[j].keyword, e->ext[i].keyword) == 0)
			return true;
	return false;
}

/* One row: change mark, keyword, then the rest (already safe). */
static void ext_row_safe(FILE *f, char mark, const char *kw, const char *rest)
{
	struct safe_str k;
	int col;

	safe(&k, kw);
	if (rest[0] == '\0') {
		fprintf(f, "  %c %s\n", mark, k.s);
		return;
	}
	col = fprintf(f, "  %c %-20s", mark, k.s);
	if (col > 24) {
		putc(' ', f);
		col++;
	}
	render_wrap(f, rest, col, 26);
}

static void ext_row(FILE *f, char mark, const char *kw, const char *params,
                    const char *note)
{
	struct safe_str p;
	char rest[sizeof(p.s) + 64];

	render_fmt(rest, sizeof(rest), "%s%s%s", safe(&p, params),
	         params[0] && note[0] ? "  " : "", note);
	ext_row_safe(f, mark, kw, rest);
}

static void ehlo_head(char *buf, size_t sz, const char *when, const struct ehlo_info *e)
{
	struct safe_str h;

	render_fmt(buf, sz, "%s%s %d%s%s", when, e->helo ? "HELO" : "EHLO", e->code,
	         e->hostname ? " from " : "", e->hostname ? safe(&h, e->hostname) : "");
}

static void extensions(FILE *f, const struct result *r, const struct render_opts *o)
{
	const struct ehlo_info *b = &r->ehlo, *a = &r->ehlo_tls;
	char buf[SAFE_MAX * 4 + 64];
	bool both = b->present && a->present, marks = false;
	struct safe_str s1, s2;

	fputs("Extensions\n", f);
	if (!b->present && !a->present) {
		fputs("  no EHLO reply\n", f);
		goto auth;
	}
	if (b->present) {
		ehlo_head(buf, sizeof(buf), "before TLS: ", b);
		field(f, "reply", buf);
	}
	if (a->present) {
		ehlo_head(buf, sizeof(buf), "after TLS: ", a);
		field(f, b->present ? "" : "reply", buf);
	}
	if ((b->present && b->helo) || (a->present && a->helo))
		field(f, "", "HELO was used because EHLO was refused: no extensions are known");

	/* Rows in the server's own order; with both lists, the pre-TLS order
	 * first and the features TLS added after it. */
	if (b->present) {
		for (size_t i = 0; b->ext && i < b->next; i++) {
			const char *kw = b->ext[i].keyword, *pb, *pa;

			if (kw == NULL || ext_seen_before(b, i))
				continue;
			pb = b->ext[i].params ? b->ext[i].params : "";
			if (!both) {
				ext_row(f, ' ', kw, pb, "");
				continue;
			}
			pa = ext_find(a, kw);
			if (pa == NULL) {
				ext_row(f, '-', kw, pb, "(before TLS only)");
				marks = true;
			} else if (strcmp(pa, pb) != 0) {
				render_fmt(buf, sizeof(buf), "%s %s %s  (changed after TLS)",
				         pb[0] ? safe(&s1, pb) : "(none)", o->unicode ? "\u2192" : "->",
				         pa[0] ? safe(&s2, pa) : "(none)");
				ext_row_safe(f, '~', kw, buf);
				marks = true;
			} else {
				ext_row(f, ' ', kw, pb, "");
			}
		}
	}
	if (a->present) {
		for (size_t i = 0; a->ext && i < a->next; i++) {
			const char *kw = a->ext[i].keyword;

			if (kw == NULL || ext_seen_before(a, i))
				continue;
			if (!both) {
				if (!b->present)
					ext_row(f, ' ', kw, a->ext[i].params ? a->ext[i].params : "", "");
				continue;
			}
			if (ext_find(b, kw) == NULL) {
				ext_row(f, '+', kw, a->ext[i].params ? a->ext[i].params : "",
				        "(after TLS only)");
				marks = true;
			}
		}
	}
	if (marks)
		fputs("  (+ offered only after TLS, - only before TLS, ~ changed by TLS)\n", f);

auth:
	if (!b->present && r->auth.mechanisms_tls) {
		/* Implicit TLS: there is no "before TLS" to compare with. */
		render_fmt(buf, sizeof(buf), "%s (inside TLS)", safe(&s1, r->auth.mechanisms_tls));
		field(f, "AUTH", buf);
	} else if (r->auth.mechanisms || r->auth.mechanisms_tls || r->tls.ok) {
		render_fmt(buf, sizeof(buf), "before TLS: %s; after TLS: %s",
		         r->auth.mechanisms ? safe(&s1, r->auth.mechanisms) : "not offered",
		         r->auth.mechanisms_tls ? safe(&s2, r->auth.mechanisms_tls) :
		         r->tls.ok ? "not offered" : "no TLS");
		field(f, "AUTH", buf);
	}
	if (r->auth.tested) {
		render_fmt(buf, sizeof(buf), "%s%s%s",
		         r->auth.accepted ? "credentials accepted" : "credentials rejected",
		         r->auth.reply ? ": " : "", r->auth.reply ? safe(&s1, r->auth.reply) : "");
		field(f, "AUTH test", buf);
	}
	if (r->ehlo_auth.present) {
		/* What the server told the logged-in client that it did not
		 * tell before (some reveal SIZE or other limits only then). */
		const struct ehlo_info *tl = a->present ? a : b;
		char diff[SAFE_MAX * 4 + 64] = "";
		size_t i;

		for (i = 0; i < r->ehlo_auth.next; i++) {
			const struct ehlo_ext *x = &r->ehlo_auth.ext[i];
			const char *was = ext_find(tl, x->keyword);

			if (was == NULL || strcmp(was, x->params) != 0)
				render_appendf(diff, sizeof(diff), "%s+%s%s%s", diff[0] ? ", " : "",
				               safe(&s1, x->keyword), x->params[0] ? " " : "",
				               safe(&s2, x->params));
		}
		for (i = 0; i < tl->next; i++)
			if (ext_find(&r->ehlo_auth, tl->ext[i].keyword) == NULL)
				render_appendf(diff, sizeof(diff), "%s-%s", diff[0] ? ", " : "",
				               safe(&s1, tl->ext[i].keyword));
		field(f, "after login", diff[0] ? diff : "EHLO unchanged");
	}
}

static void tls_not_attempted(FILE *f, const struct result *r)
{
	const char *why;

	if (r->tls_mode == TLS_MODE_NONE)
		why = "not attempted (TLS disabled with --no-tls)";
	else if (r->ehlo.present && !r->starttls_offered)
		why = "not attempted: the server does not offer STARTTLS, so mail to it "
		      "travels unencrypted";
	else if (r->starttls_code && r->starttls_code != 220)
		why = "not attempted: the server refused STARTTLS";
	else
		why = "not attempted: the dialogue ended before TLS";
	fputs("  ", f);
	render_wrap(f, why, 2, 2);
}

static void tls(FILE *f, const struct result *r, const struct render_opts *o)
{
	const struct tls_info *t = &r->tls;
	char buf[2048];
	struct safe_str s;

	fputs("TLS\n", f);
	if (!t->attempted) {
		tls_not_attempted(f, r);
		return;
	}
	if (!t->ok) {
		render_fmt(buf, sizeof(buf), "failed: %s", t->error[0] ? safe(&s, t->error) : "unknown error");
		field(f, "handshake", buf);
	}
	if (t->version[0])
		field(f, "version", safe(&s, t->version));
	if (t->cipher[0])
		field(f, "cipher", safe(&s, t->cipher));
	if (t->group[0])
		field(f, "group", safe(&s, t->group));
	if (t->alpn[0])
		field(f, "ALPN", safe(&s, t->alpn));
	if (t->servername[0])
		field(f, "server name", safe(&s, t->servername));
	if (!t->verified) {
		field(f, "verified", "no (no certificate was seen)");
	} else {
		render_fmt(buf, sizeof(buf), "%s", t->trusted ? "yes" : "no");
		for (size_t i = 0; !t->trusted && i < t->nerrors && i < 16; i++)
			render_appendf(buf, sizeof(buf), "%s%s", i ? "; " : ": ",
			               safe(&s, t->errors[i]));
		label(f, "trusted");
		fputs(render_sev_color(o, t->trusted ? SEV_INFO : SEV_CRITICAL), f);
		if (o->color && t->trusted)
			fputs("\033[32m", f);
		render_wrap(f, buf, LABEL_COL, LABEL_COL);
		fputs(render_reset(o), f);
		safe(&s, t->servername[0] ? t->servername : "?");
		render_fmt(buf, sizeof(buf), t->hostname_match ?
		         "yes: the certificate is valid for %s" :
		         "no: the certificate is not valid for %s", s.s);
		field(f, "name match", buf);
	}
	if (t->pin_checked)
		field(f, "pin", t->pin_match ? "matches a --pin" : "does NOT match any --pin");
	else
		field(f, "pin", "not checked");
}

static void fingerprint(FILE *f, const char *hex)
{
	char line[64];
	size_t n = strlen(hex), j = 0;
	bool first = true;

	/* 16 colon-separated pairs per line: 47 columns. */
	for (size_t i = 0; i + 1 < n; i += 2) {
		if (j)
			line[j++] = ':';
		line[j++] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
		line[j++] = (char)(hex[i + 1] >= 'a' && hex[i + 1] <= 'f' ? hex[i + 1] - 32 : hex[i + 1]);
		if (j >= 47 || i + 3 >= n) {
			line[j] = '\0';
			fprintf(f, "    %-11s%s\n", first ? "SHA-256" : "", line);
			first = false;
			j = 0;
		}
	}
	if (first)
		fprintf(f, "    %-11s%s\n", "SHA-256", "?");
}

static void cert_field(FILE *f, const char *name, const char *value)
{
	fprintf(f, "    %-11s", name);
	render_wrap(f, value, LABEL_COL, LABEL_COL);
}

static void chain(FILE *f, const struct result *r, const struct render_opts *o)
{
	const struct tls_info *t = &r->tls;
	char buf[4096], d1[32], d2[32];
	struct safe_str s;

	if (!t->attempted || t->nchain == 0)
		return;
	fprintf(f, "\nCertificate chain (%zu presented", t->chain_total);
	if (t->chain_total > t->nchain)
		fprintf(f, ", first %zu shown", t->nchain);
	fputs(")\n", f);
	for (size_t i = 0; i < t->nchain && i < RESULT_MAX_CHAIN; i++) {
		const struct cert_info *c = &t->chain[i];
		struct tm tm;
		enum severity sev = SEV_INFO;

		render_fmt(buf, sizeof(buf), "%s%s", safe(&s, c->subject),
		         c->self_signed ? " (self-signed)" : "");
		fprintf(f, "  #%zu ", i);
		render_wrap(f, buf, 5, LABEL_COL);
		cert_field(f, "issuer", safe(&s, c->issuer));
		buf[0] = '\0';
		for (size_t k = 0; k < c->nsan && k < RESULT_MAX_SAN; k++)
			render_appendf(buf, sizeof(buf), "%s%s", k ? ", " : "",
			               safe(&s, c->san[k]));
		if (c->nsan)
			cert_field(f, "names", buf);
		d1[0] = d2[0] = '\0';
		if (gmtime_r(&c->not_before, &tm))
			strftime(d1, sizeof(d1), "%Y-%m-%d %H:%M UTC", &tm);
		if (gmtime_r(&c->not_after, &tm))
			strftime(d2, sizeof(d2), "%Y-%m-%d %H:%M UTC", &tm);
		cert_field(f, "valid from", d1);
		if (c->expired && c->days_left == 0)
			render_fmt(buf, sizeof(buf), "%s (EXPIRED less than a day ago)", d2);
		else if (c->expired)
			render_fmt(buf, sizeof(buf), "%s (EXPIRED %ld day%s ago)", d2,
			         -c->days_left, c->days_left == -1 ? "" : "s");
		else
			render_fmt(buf, sizeof(buf), "%s (%ld day%s left)", d2, c->days_left,
			         c->days_left == 1 ? "" : "s");
		if (c->expired || c->days_left < r->crit_days)
			sev = SEV_CRITICAL;
		else if (c->days_left < r->warn_days)
			sev = SEV_WARNING;
		fprintf(f, "    %-11s%s", "expires", render_sev_color(o, sev));
		render_wrap(f, buf, LABEL_COL, LABEL_COL);
		fputs(sev != SEV_INFO ? render_reset(o) : "", f);
		render_fmt(buf, sizeof(buf), "%s, signed with %s",
		         c->key[0] ? c->key : "?", c->signature[0] ? c->signature : "?");
		cert_field(f, "key", buf);
		fingerprint(f, c->sha256);
		render_fmt(buf, sizeof(buf), "sha256//%s", c->spki_sha256);
		cert_field(f, "SPKI pin", buf);
		if (i == 0 && render_tlsa_311(buf, sizeof(buf), r))
			cert_field(f, "TLSA 3 1 1", safe(&s, buf));
	}
	/* --showcerts: as openssl s_client prints them, ready for a file. */
	for (size_t i = 0; i < t->nchain && i < RESULT_MAX_CHAIN; i++) {
		if (t->chain[i].der == NULL)
			continue;
		fprintf(f, "\n  #%zu PEM\n", i);
		render_pem(f, t->chain[i].der, t->chain[i].der_len);
	}
}

static const char *dane_usage_word(unsigned u)
{
	static const char *const w[] = { "PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE" };

	return u < 4 ? w[u] : "?";
}

/* --dane: the TLSA records and how each matched. */
static void dane(FILE *f, const struct result *r)
{
	const struct dane_info *d = r->dane;
	char buf[600];

	if (d == NULL || !d->checked)
		return;
	fputs("DANE\n", f);
	render_fmt(buf, sizeof(buf), "%s: %s%s", d->name[0] ? d->name : "-",
	           strcmp(d->result, "valid") == 0 ? "a usable record matches the chain" :
	           strcmp(d->result, "mismatch") == 0 ? "no usable record matches the chain" :
	           strcmp(d->result, "no-records") == 0 ? "no TLSA records (no DANE)" :
	           strcmp(d->result, "unusable") == 0 ? "only records unusable for SMTP" :
	           strcmp(d->result, "no-tls") == 0 ? "records published, but no TLS" :
	           strcmp(d->result, "unsigned-match") == 0 ? "a usable record matches the "
	           "chain, but the records are unsigned, so they count for nothing" :
	           strcmp(d->result, "unsigned-mismatch") == 0 ? "no usable record matches the "
	           "chain; the records are unsigned, so they count for nothing" :
	           strcmp(d->result, "unsigned-no-tls") == 0 ? "unsigned records published, "
	           "no TLS" :
	           strcmp(d->result, "lookup-failed") == 0 ? "lookup failed" : d->result,
	           d->nrecords == 0 ? "" : d->authenticated ? " (DNSSEC-authenticated)" :
	           " (NOT DNSSEC-authenticated)");
	field(f, "TLSA", buf);
	for (size_t i = 0; i < d->nrecords; i++) {
		const struct tlsa_info *t = &d->records[i];
		char data[24];

		snprintf(data, sizeof(data), "%.16s%s", t->data, strlen(t->data) > 16 ? "..." : "");
		render_fmt(buf, sizeof(buf), "%u %u %u %s  %s: %s", t->usage, t->selector,
		           t->matching, data, dane_usage_word(t->usage),
		           !t->usable ? (t->matched ? "unusable for SMTP (matches)" :
		                         "unusable for SMTP") :
		           t->matched ? "matches" : "does not match");
		field(f, "", buf);
	}
	if (d->error[0]) {
		struct safe_str e;

		field(f, "", safe(&e, d->error));
	}
	fputc('\n', f);
}

static void limits(FILE *f, const struct result *r, const struct render_opts *o)
{
	char buf[1024];

	fputs("Limits\n", f);
	if (!r->ehlo.present && !r->ehlo_tls.present)
		render_fmt(buf, sizeof(buf), "unknown (no EHLO reply)");
	else
		render_size_sentence(buf, sizeof(buf), &r->size, o->unicode);
	field(f, "SIZE", buf);
	if (r->size.checked) {
		struct safe_str t;

		render_size_check_sentence(buf, sizeof(buf), &r->size, o->unicode);
		field(f, "size check", safe(&t, buf));
	}
}

static const char *tlsv_word(enum tlsver_state v)
{
	switch (v) {
	case TLSV_ACCEPTED: return "accepted";
	case TLSV_REFUSED:  return "refused";
	default:            return "unknown";
	}
}

/* One "250 text" reply, or why there is none. */
static void reply_words(char *buf, size_t sz, const struct cmd_reply *c)
{
	struct safe_str t;

	if (!c->sent)
		render_fmt(buf, sz, "not sent");
	else if (c->code == 0)
		render_fmt(buf, sz, "no reply");
	else
		render_fmt(buf, sz, "%d %s", c->code, safe(&t, c->text));
}

/* The checks that cost commands or connections (only when asked). */
static void checks(FILE *f, const struct result *r)
{
	static const char *const vname[RESULT_TLSV_N] = { "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3" };
	char buf[8192], rb[sizeof(((struct safe_str *)0)->s) + 16];
	struct safe_str t;

	if (!r->tls_versions.tested && !r->injection.tested && !r->tls_required.tested &&
	    r->envelope == NULL && !r->auth.skipped[0])
		return;
	fputs("Checks\n", f);
	if (r->auth.skipped[0]) {
		render_fmt(buf, sizeof(buf), "not tested: %s", safe(&t, r->auth.skipped));
		field(f, "AUTH test", buf);
	}
	if (r->tls_required.tested) {
		const struct tlsreq_info *tr = &r->tls_required;

		reply_words(rb, sizeof(rb), &tr->mail);
		render_fmt(buf, sizeof(buf), "%s (MAIL FROM:<> before STARTTLS: %s)",
		           tr->required > 0 ? "yes, TLS is enforced" :
		           tr->required == 0 ? "no, mail is accepted without TLS" : "unclear", rb);
		field(f, "TLS required", buf);
	}
	if (r->tls_versions.tested) {
		buf[0] = '\0';
		for (size_t i = 0; i < RESULT_TLSV_N; i++)
			render_appendf(buf, sizeof(buf), "%s%s %s%s%s%s", i ? "; " : "", vname[i],
			               tlsv_word(r->tls_versions.v[i]),
			               r->tls_versions.detail[i][0] ? " (" : "",
			               safe(&t, r->tls_versions.detail[i]),
			               r->tls_versions.detail[i][0] ? ")" : "");
		field(f, "TLS versions", buf);
	}
	if (r->injection.tested) {
		render_fmt(buf, sizeof(buf), "%s: %s", r->injection.vulnerable > 0 ? "VULNERABLE" :
		           r->injection.vulnerable == 0 ? "not vulnerable" : "inconclusive",
		           safe(&t, r->injection.detail));
		field(f, "STARTTLS inj.", buf);
	}
	if (r->envelope != NULL && r->envelope->tested) {
		const struct envelope_info *e = r->envelope;

		reply_words(rb, sizeof(rb), &e->mail);
		render_fmt(buf, sizeof(buf), "<%s>: %s", safe(&t, e->mail_from), rb);
		field(f, "MAIL FROM", buf);
		for (size_t i = 0; i < e->nrcpt && i < RESULT_MAX_RCPT; i++) {
			reply_words(rb, sizeof(rb), &e->rcpt[i].reply);
			render_fmt(buf, sizeof(buf), "<%s>: %s%s", safe(&t, e->rcpt[i].address), rb,
			           e->rcpt[i].outside ? " (another domain)" : "");
			field(f, "RCPT TO", buf);
		}
		reply_words(rb, sizeof(rb), &e->rset);
		render_fmt(buf, sizeof(buf), "%s (no DATA is ever sent)", rb);
		field(f, "RSET", buf);
	}
	fputc('\n', f);
}

void render_text(FILE *f, const struct result *r, const struct render_opts *o)
{
	static const struct render_opts plain;   /* no colour, ASCII */

	if (o == NULL)
		o = &plain;
	header(f, r, o);
	fputc('\n', f);
	connection(f, r);
	fputc('\n', f);
	greeting(f, r);
	fputc('\n', f);
	extensions(f, r, o);
	fputc('\n', f);
	tls(f, r, o);
	chain(f, r, o);
	fputc('\n', f);
	dane(f, r);
	limits(f, r, o);
	fputc('\n', f);
	checks(f, r);
	if (o->transcript) {
		render_transcript(f, r);
		fputc('\n', f);
	}
	render_verdict(f, r, o);
}
