/* The one sanitiser for network text: every renderer (text, --mx text,
 * explain, JSON, Nagios, Prometheus, the exporter) writes server-, DNS- and
 * HTTP-supplied bytes only through san_write / san_buf. A banner can carry
 * escape sequences that rewrite an operator's terminal, and bidi overrides
 * that make a name read differently from what it is. */
#include <string.h>

#include "sanitize.h"

size_t san_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c, lo = 0x80, hi = 0xbf;
	size_t len;

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return 1;
	/* RFC 3629 table 3-7: the second byte's range rules out overlongs
	 * (E0, F0), surrogates (ED) and code points past U+10FFFF (F4). */
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

static uint32_t utf8_decode(const unsigned char *p, size_t len)
{
	switch (len) {
	case 2: return (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	case 3: return (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	case 4: return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
	               (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
	default: return p[0];
	}
}

bool san_cp_unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	       cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0xfeff;
}

struct san_sink {
	FILE *f;
	char *buf;
	size_t cap, len;   /* cap keeps room for "..." and the NUL */
	bool full;
};

/* One piece of output; in a buffer a piece goes in whole or not at all,
 * so an escape or a code point is never split. */
static void sink_put(struct san_sink *k, const char *p, size_t n)
{
	if (k->f) {
		fwrite(p, 1, n, k->f);
		return;
	}
	if (k->full || k->len + n + 4 > k->cap) {
		k->full = true;
		return;
	}
	memcpy(k->buf + k->len, p, n);
	k->len += n;
}

/* Printable ASCII that needs no quoting may be cut anywhere. */
static void sink_put_run(struct san_sink *k, const char *p, size_t n)
{
	if (!k->f && !k->full && k->len + n + 4 > k->cap) {
		sink_put(k, p, k->cap - k->len - 4);
		k->full = true;
		return;
	}
	sink_put(k, p, n);
}

static const char hexu[] = "0123456789ABCDEF";
static const char hexl[] = "0123456789abcdef";

/* A control or unsafe code point, made visible. */
static void put_escape(struct san_sink *k, enum san_mode m, uint32_t cp)
{
	char e[16];
	size_t n = 0;

	if (m == SAN_JSON) {
		const char *named = cp == '\n' ? "\\n" : cp == '\r' ? "\\r" : cp == '\t' ? "\\t" : NULL;

		if (named) {
			sink_put(k, named, 2);
			return;
		}
		e[n++] = '\\';
		e[n++] = 'u';
		for (int s = 12; s >= 0; s -= 4)
			e[n++] = hexl[(cp >> s) & 15];
		sink_put(k, e, n);
		return;
	}
	/* The escape is text the reader sees; in a Prometheus label its
	 * backslash is itself escaped, so the decoded value reads \x1B. */
	e[n++] = '\\';
	if (m == SAN_PROM)
		e[n++] = '\\';
	if (cp < 0x80) {
		e[n++] = 'x';
		e[n++] = hexu[cp >> 4];
		e[n++] = hexu[cp & 15];
	} else {
		e[n++] = 'u';
		for (int s = 12; s >= 0; s -= 4)
			e[n++] = hexu[(cp >> s) & 15];
	}
	sink_put(k, e, n);
}

/* Printable ASCII that the mode must quote, or NULL. */
static const char *ascii_quote(enum san_mode m, unsigned char c)
{
	switch (m) {
	case SAN_NAGIOS:
		return c == '|' ? "/" : NULL;
	case SAN_JSON:
		return c == '"' ? "\\\"" : c == '\\' ? "\\\\" : NULL;
	case SAN_PROM:
		return c == '"' ? "\\\"" : c == '\\' ? "\\\\" : NULL;
	case SAN_HTML:
		switch (c) {
		case '&':  return "&amp;";
		case '<':  return "&lt;";
		case '>':  return "&gt;";
		case '"':  return "&quot;";
		case '\'': return "&#39;";
		default:   return NULL;
		}
	default:
		return NULL;
	}
}

static void san_core(struct san_sink *k, enum san_mode m, const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n && !k->full) {
		unsigned char c = p[i];
		const char *q;
		size_t l, run = 0;

		while (i + run < n && p[i + run] >= 0x20 && p[i + run] < 0x7f &&
		       ascii_quote(m, p[i + run]) == NULL)
			run++;
		if (run) {
			sink_put_run(k, (const char *)p + i, run);
			i += run;
			continue;
		}
		if (c >= 0x20 && c < 0x7f && (q = ascii_quote(m, c)) != NULL) {
			sink_put(k, q, strlen(q));
			i++;
			continue;
		}
		if (c < 0x80) {
			put_escape(k, m, c);          /* C0 control (NUL too) or DEL */
			i++;
			continue;
		}
		l = san_utf8_len(p + i, n - i);
		if (l == 0) {
			/* One U+FFFD per bad byte: resynchronises on the next
			 * byte, as the Unicode standard advises. */
			if (m == SAN_JSON)
				sink_put(k, "\\ufffd", 6);
			else
				sink_put(k, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		if (san_cp_unsafe(utf8_decode(p + i, l)))
			put_escape(k, m, utf8_decode(p + i, l));
		else
			sink_put(k, (const char *)p + i, l);
		i += l;
	}
}

void san_write(FILE *f, enum san_mode m, const char *s, size_t n)
{
	struct san_sink k = { .f = f };

	if (s != NULL)
		san_core(&k, m, (const unsigned char *)s, n);
}

/* Bytes of the C string s to take when at most max are allowed; *cut says
 * whether some were left off (then the cut is moved back to a code point
 * boundary). s[n] is readable: n <= strlen(s). */
static size_t san_take(const char *s, size_t max, bool *cut)
{
	size_t n = strnlen(s, max);

	*cut = n == max && s[n] != '\0';
	if (*cut)
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	return n;
}

void san_puts(FILE *f, enum san_mode m, const char *s, size_t max)
{
	bool cut;
	size_t n;

	if (s == NULL)
		return;
	n = san_take(s, max, &cut);
	san_write(f, m, s, n);
	if (cut)
		fputs("...", f);
}

size_t san_buf(char *out, size_t outsz, enum san_mode m, const char *s, size_t max)
{
	struct san_sink k = { .buf = out, .cap = outsz };
	bool cut;
	size_t n;

	if (outsz == 0)
		return 0;
	out[0] = '\0';
	if (outsz < 4 || s == NULL)
		return 0;
	n = san_take(s, max, &cut);
	san_core(&k, m, (const unsigned char *)s, n);
	/* Cut short (by max or by the buffer): say so rather than pass a
	 * fragment off as whole. */
	if (k.full || cut) {
		memcpy(out + k.len, "...", 3);
		k.len += 3;
	}
	out[k.len] = '\0';
	return k.len;
}
