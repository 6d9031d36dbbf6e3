/* Shared pieces of the renderers: terminal-safe server text, UTF-8
 * checking, number/date formatting, word wrapping, the verdict section.
 * Server text goes through sanitize.c (SAN_TEXT) before it is printed. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "ip.h"
#include "render_util.h"
#include "sanitize.h"
#include "xmalloc.h"

size_t render_utf8_len(const unsigned char *p, size_t n)
{
	return san_utf8_len(p, n);
}

void render_safe(FILE *f, const char *s, size_t max)
{
	san_puts(f, SAN_TEXT, s, max);
}

size_t render_safe_buf(char *out, size_t outsz, const char *s, size_t max)
{
	return san_buf(out, outsz, SAN_TEXT, s, max);
}

void render_fmt(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;

	if (outsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
}

void render_appendf(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;
	size_t n = strnlen(out, outsz);

	if (n + 1 >= outsz)
		return;
	va_start(ap, fmt);
	vsnprintf(out + n, outsz - n, fmt, ap);
	va_end(ap);
}

void render_thousands(char *out, size_t outsz, uint64_t v)
{
	char d[24], t[32];
	int n = snprintf(d, sizeof(d), "%" PRIu64, v);
	size_t j = 0;

	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			t[j++] = ',';
		t[j++] = d[i];
	}
	t[j] = '\0';
	snprintf(out, outsz, "%s", t);
}

void render_rfc3339(char *out, size_t outsz, time_t t)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(out, outsz, "%s", "");
		return;
	}
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void render_date(char *out, size_t outsz, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, outsz, "%s", "?");
		return;
	}
	strftime(out, outsz, "%Y-%m-%d", &tm);
}

void render_human(char *out, size_t outsz, uint64_t bytes, bool decimal_first)
{
	double b = (double)bytes;
	const char *du, *bu;
	double dv, bv;

	if (bytes >= 1000000000ULL) {
		dv = b / 1e9; du = "GB"; bv = b / 1073741824.0; bu = "GiB";
	} else if (bytes >= 1000000ULL) {
		dv = b / 1e6; du = "MB"; bv = b / 1048576.0; bu = "MiB";
	} else {
		dv = b / 1e3; du = "kB"; bv = b / 1024.0; bu = "KiB";
	}
	if (decimal_first)
		snprintf(out, outsz, "%.1f %s / %.1f %s", dv, du, bv, bu);
	else
		snprintf(out, outsz, "%.1f %s / %.1f %s", bv, bu, dv, du);
}

void render_size_sentence(char *out, size_t outsz, const struct size_info *s, bool unicode)
{
	char lim[32], lh[48], att[32], ah[48], res[32], bin[32], bh[48];

	if (!s->advertised) {
		snprintf(out, outsz, "not advertised (the server announces no limit; "
		         "it may still refuse a large message after it is sent)");
		return;
	}
	if (!s->has_limit) {
		snprintf(out, outsz, "no fixed limit (SIZE without a number, or 0)");
		return;
	}
	render_thousands(lim, sizeof(lim), s->limit);
	render_human(lh, sizeof(lh), s->limit, false);
	render_thousands(att, sizeof(att), s->max_attachment_base64);
	render_human(ah, sizeof(ah), s->max_attachment_base64, true);
	render_thousands(res, sizeof(res), s->reserve);
	if (!s->binary) {
		snprintf(out, outsz, "%s bytes (%s); largest attachment %s %s bytes "
		         "(%s) as base64 with %s bytes reserved for headers",
		         lim, lh, unicode ? "\u2248" : "~", att, ah, res);
		return;
	}
	render_thousands(bin, sizeof(bin), s->max_attachment_binary);
	render_human(bh, sizeof(bh), s->max_attachment_binary, true);
	snprintf(out, outsz, "%s bytes (%s); largest attachment %s %s bytes "
	         "(%s) as base64 with %s bytes reserved for headers, or %s bytes "
	         "(%s) sent as binary (BINARYMIME + CHUNKING)",
	         lim, lh, unicode ? "\u2248" : "~", att, ah, res, bin, bh);
}

void render_size_check_sentence(char *out, size_t outsz, const struct size_info *s,
                                bool unicode)
{
	char v[32], rf[32], att[32], ah[48], pairs[48];
	struct size_info c;

	snprintf(pairs, sizeof(pairs), "%u MAIL/RSET pair%s", s->pairs, s->pairs == 1 ? "" : "s");
	if (s->enforced < 0) {
		snprintf(out, outsz, "could not be verified: %s (%s)",
		         s->note[0] ? s->note : "no answer about the size", pairs);
		return;
	}
	if (s->enforced == 0) {
		if (s->verified_known) {
			render_thousands(v, sizeof(v), s->verified);
			snprintf(out, outsz, "not enforced at MAIL FROM: SIZE=%s (the advertised limit) "
			         "and one byte more were both accepted, so a too-large message is "
			         "refused only after it is sent (%s)", v, pairs);
		} else {
			snprintf(out, outsz, "not enforced at MAIL FROM: even SIZE=1 TiB was accepted; "
			         "a limit, if any, applies only after the message is sent (%s)", pairs);
		}
		return;
	}
	render_thousands(rf, sizeof(rf), s->refused);
	if (!s->verified_known) {
		snprintf(out, outsz, "every SIZE tried was refused as too big, down to %s bytes (%s)",
		         rf, pairs);
		return;
	}
	c = size_verified(s);
	render_thousands(v, sizeof(v), s->verified);
	render_thousands(att, sizeof(att), c.max_attachment_base64);
	render_human(ah, sizeof(ah), c.max_attachment_base64, true);
	snprintf(out, outsz, "verified at MAIL FROM: SIZE=%s accepted, SIZE=%s refused as too "
	         "big (%s); largest attachment %s %s bytes (%s) as base64",
	         v, rf, pairs, unicode ? "\u2248" : "~", att, ah);
}

/* Display columns of a UTF-8 string: one per code point (no East Asian
 * wide characters in what we print ourselves). */
static int ucols(const char *s, size_t n)
{
	int c = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

static void newline_indent(FILE *f, int indent)
{
	fprintf(f, "\n%*s", indent, "");
}

void render_wrap(FILE *f, const char *text, int col, int indent)
{
	int width = RENDER_WIDTH;
	bool line_has_word = false;
	const char *p = text ? text : "";

	if (width - indent < 20)
		width = indent + 20;
	while (*p) {
		const char *q;
		size_t wlen;
		int wc;

		if (*p == ' ') {
			p++;
			continue;
		}
		if (*p == '\n') {
			/* An explicit break starts a fresh indented line. */
			newline_indent(f, indent);
			col = indent;
			line_has_word = false;
			p++;
			continue;
		}
		q = p;
		while (*q && *q != ' ' && *q != '\n')
			q++;
		wlen = (size_t)(q - p);
		wc = ucols(p, wlen);
		if (line_has_word && col + 1 + wc > width) {
			newline_indent(f, indent);
			col = indent;
			line_has_word = false;
		}
		if (line_has_word) {
			putc(' ', f);
			col++;
		}
		/* A word wider than the line is cut at code point boundaries. */
		while (col + wc > width) {
			size_t take = 0;
			int room = width - col, got = 0;

			while (take < wlen && got < room) {
				take++;
				while (take < wlen && ((unsigned char)p[take] & 0xc0) == 0x80)
					take++;
				got++;
			}
			fwrite(p, 1, take, f);
			p += take;
			wlen -= take;
			wc -= got;
			newline_indent(f, indent);
			col = indent;
		}
		fwrite(p, 1, wlen, f);
		col += wc;
		line_has_word = true;
		p = q;
	}
	putc('\n', f);
}

const char *render_sev_color(const struct render_opts *o, enum severity sev)
{
	if (!o || !o->color)
		return "";
	switch (sev) {
	case SEV_CRITICAL: return "\033[31m";
	case SEV_WARNING:  return "\033[33m";
	default:           return "";
	}
}

const char *render_status_color(const struct render_opts *o, enum status st)
{
	if (!o || !o->color)
		return "";
	switch (st) {
	case ST_OK:       return "\033[32m";
	case ST_WARNING:  return "\033[33m";
	case ST_CRITICAL: return "\033[31m";
	default:          return "";
	}
}

const char *render_reset(const struct render_opts *o)
{
	return o && o->color ? "\033[0m" : "";
}

static const char *status_words(enum status st)
{
	switch (st) {
	case ST_OK:       return "OK: everything checked is fine.";
	case ST_WARNING:  return "WARNING: the server works, but something needs attention.";
	case ST_CRITICAL: return "CRITICAL: the server cannot be used as probed, or is not safe to use.";
	default:          return "UNKNOWN: the probe could not reach a conclusion.";
	}
}

static const char *sev_tag(enum severity sev)
{
	switch (sev) {
	case SEV_CRITICAL: return "CRITICAL";
	case SEV_WARNING:  return "WARNING";
	default:           return "INFO";
	}
}

void render_verdict(FILE *f, const struct result *r, const struct render_opts *o)
{
	char msg[4 * 400 + 8];

	fputs("Verdict\n", f);
	fprintf(f, "  %s%s%s\n", render_status_color(o, r->status),
	        status_words(r->status), render_reset(o));
	if (r->nfindings == 0)
		fputs("  No findings.\n", f);
	for (size_t i = 0; i < r->nfindings && i < RESULT_MAX_FINDINGS; i++) {
		const struct finding *fd = &r->findings[i];
		char code[sizeof(fd->code) * 4 + 8];
		int col;

		render_safe_buf(code, sizeof(code), fd->code, sizeof(fd->code));
		render_safe_buf(msg, sizeof(msg), fd->message, 400);
		fprintf(f, "  %s[%s]%s %s:", render_sev_color(o, fd->sev),
		        sev_tag(fd->sev), render_reset(o), code);
		col = 2 + 2 + (int)strlen(sev_tag(fd->sev)) + 1 + ucols(code, strlen(code)) + 1;
		fputc(' ', f);
		render_wrap(f, msg, col + 1, 4);
	}
}

void render_transcript(FILE *f, const struct result *r)
{
	char line[RESULT_MAX_LINE * 4 + 8];
	char head[32];

	fputs("Transcript\n", f);
	if (r->ntranscript == 0)
		fputs("  (no dialogue)\n", f);
	for (size_t i = 0; i < r->ntranscript && i < RESULT_MAX_TRANSCRIPT; i++) {
		const struct tline *t = &r->transcript[i];
		char dir = (t->dir == 'C' || t->dir == 'S') ? t->dir : '*';

		render_safe_buf(line, sizeof(line), t->line, RESULT_MAX_LINE);
		snprintf(head, sizeof(head), "%8.1f %c ", t->t_ms, dir);
		fputs(head, f);
		render_wrap(f, line, (int)strlen(head), 13);
	}
	if (r->transcript_dropped)
		fprintf(f, "  (%zu more lines not kept)\n", r->transcript_dropped);
}

/* "_25._tcp.mx1.test. IN TLSA 3 1 1 <hex>": the record that would pin the
 * leaf's current key (DANE-EE, SPKI, SHA-256). */
bool render_tlsa_311(char *out, size_t outsz, const struct result *r)
{
	unsigned char d[48];
	size_t dl = 0, o;
	const struct cert_info *c = &r->tls.chain[0];
	const char *name = r->tls.servername[0] ? r->tls.servername : r->host;

	/* TLSA lives under a host name (RFC 7672 3.1), never an address. */
	if (r->tls.nchain == 0 || name == NULL || ip_literal(name, NULL) != 0 ||
	    mbedtls_base64_decode(d, sizeof(d), &dl, (const unsigned char *)c->spki_sha256,
	                          strlen(c->spki_sha256)) != 0 || dl != 32)
		return false;
	o = (size_t)snprintf(out, outsz, "_%u._tcp.%s. IN TLSA 3 1 1 ", r->port, name);
	for (size_t i = 0; i < dl && o + 3 <= outsz; i++, o += 2)
		snprintf(out + o, outsz - o, "%02x", d[i]);
	return o < outsz;
}

void render_pem(FILE *f, const unsigned char *der, size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1, n = 0;
	unsigned char *b64;

	if (der == NULL || len == 0 || len > RENDER_PEM_MAX)
		return;
	b64 = xmalloc(cap);
	if (mbedtls_base64_encode(b64, cap, &n, der, len) == 0) {
		fputs("-----BEGIN CERTIFICATE-----\n", f);
		for (size_t i = 0; i < n; i += 64)
			fprintf(f, "%.*s\n", (int)(n - i < 64 ? n - i : 64), (const char *)b64 + i);
		fputs("-----END CERTIFICATE-----\n", f);
	}
	free(b64);
}
