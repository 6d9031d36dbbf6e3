/* A small strict JSON validator for tests (RFC 8259): strings must be valid
 * UTF-8 with no raw control characters, escapes well-formed. Written apart
 * from probe/jsonw.c on purpose, so it does not share that code's mistakes.
 * Used by tests/unit/test_json.c, test_render.c and tests/fuzz/fuzz_json.c. */
#ifndef SP_JSON_CHECK_H
#define SP_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct jc {
	const unsigned char *p, *end;
	int depth;
};

static inline void jc_ws(struct jc *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static inline int jc_hex(unsigned char x)
{
	if (x >= '0' && x <= '9') return x - '0';
	if (x >= 'a' && x <= 'f') return x - 'a' + 10;
	if (x >= 'A' && x <= 'F') return x - 'A' + 10;
	return -1;
}

/* Decodes one UTF-8 code point by value ranges; false if ill-formed. */
static inline bool jc_utf8(struct jc *c)
{
	unsigned char b = *c->p;
	unsigned long cp;
	int n;

	if (b < 0x80) { c->p++; return true; }
	else if ((b & 0xe0) == 0xc0) { n = 1; cp = b & 0x1f; }
	else if ((b & 0xf0) == 0xe0) { n = 2; cp = b & 0x0f; }
	else if ((b & 0xf8) == 0xf0) { n = 3; cp = b & 0x07; }
	else return false;
	if (c->end - c->p < n + 1)
		return false;
	for (int i = 1; i <= n; i++) {
		if ((c->p[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (c->p[i] & 0x3f);
	}
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000))
		return false;            /* overlong */
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return false;
	c->p += n + 1;
	return true;
}

static inline bool jc_string(struct jc *c)
{
	if (c->p >= c->end || *c->p != '"')
		return false;
	c->p++;
	while (c->p < c->end) {
		unsigned char b = *c->p;

		if (b == '"') {
			c->p++;
			return true;
		}
		if (b < 0x20)
			return false;
		if (b == '\\') {
			if (c->end - c->p < 2)
				return false;
			b = c->p[1];
			if (b == 'u') {
				if (c->end - c->p < 6)
					return false;
				for (int i = 2; i < 6; i++)
					if (jc_hex(c->p[i]) < 0)
						return false;
				c->p += 6;
				continue;
			}
			if (!strchr("\"\\/bfnrt", b) || b == 0)
				return false;
			c->p += 2;
			continue;
		}
		if (!jc_utf8(c))
			return false;
	}
	return false;
}

static inline bool jc_number(struct jc *c)
{
	const unsigned char *s = c->p;

	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p >= c->end)
		return false;
	if (*c->p == '0')
		c->p++;
	else if (*c->p >= '1' && *c->p <= '9')
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	else
		return false;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return false;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return false;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	return c->p > s;
}

static inline bool jc_lit(struct jc *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
		return false;
	c->p += n;
	return true;
}

static inline bool jc_value(struct jc *c)
{
	bool ok = false;

	jc_ws(c);
	if (c->p >= c->end || ++c->depth > 200)
		return false;
	switch (*c->p) {
	case '{':
		c->p++;
		jc_ws(c);
		if (c->p < c->end && *c->p == '}') { c->p++; ok = true; break; }
		for (;;) {
			jc_ws(c);
			if (!jc_string(c)) break;
			jc_ws(c);
			if (c->p >= c->end || *c->p != ':') break;
			c->p++;
			if (!jc_value(c)) break;
			jc_ws(c);
			if (c->p < c->end && *c->p == ',') { c->p++; continue; }
			if (c->p < c->end && *c->p == '}') { c->p++; ok = true; }
			break;
		}
		break;
	case '[':
		c->p++;
		jc_ws(c);
		if (c->p < c->end && *c->p == ']') { c->p++; ok = true; break; }
		for (;;) {
			if (!jc_value(c)) break;
			jc_ws(c);
			if (c->p < c->end && *c->p == ',') { c->p++; continue; }
			if (c->p < c->end && *c->p == ']') { c->p++; ok = true; }
			break;
		}
		break;
	case '"': ok = jc_string(c); break;
	case 't': ok = jc_lit(c, "true"); break;
	case 'f': ok = jc_lit(c, "false"); break;
	case 'n': ok = jc_lit(c, "null"); break;
	default:  ok = jc_number(c); break;
	}
	c->depth--;
	return ok;
}

/* One JSON document (with optional surrounding whitespace). */
static inline bool json_check_doc(const char *s, size_t n)
{
	struct jc c = { (const unsigned char *)s, (const unsigned char *)s + n, 0 };

	if (!jc_value(&c))
		return false;
	jc_ws(&c);
	return c.p == c.end;
}

/* Exactly one JSON string token. */
static inline bool json_check_string(const char *s, size_t n)
{
	struct jc c = { (const unsigned char *)s, (const unsigned char *)s + n, 0 };

	return jc_string(&c) && c.p == c.end;
}

#endif
