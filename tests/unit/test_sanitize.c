/* The one sanitiser (sanitize.c): a table of hostile inputs with their
 * exact output in every mode, the bounded-buffer rules, and random bytes
 * that must never leave a raw control, C1 or bidi character in any mode. */
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"
#include "t.h"

struct san_case {
	const char *name;
	enum san_mode mode;
	const char *in;
	size_t len;
	const char *want;
};

#define C(name, mode, lit, want) { name, mode, lit, sizeof(lit) - 1, want }

/* ESC CR BS BEL NUL, C1 CSI (U+009B), RLO (U+202E), LRI (U+2066), ALM (U+061C). */
#define HOSTILE "a\x1b[2J\r\b\a\0" "b\xc2\x9b" "c\xe2\x80\xae" "d\xe2\x81\xa6\xd8\x9c" "e"

static const struct san_case cases[] = {
	C("text hostile", SAN_TEXT, HOSTILE,
	  "a\\x1B[2J\\x0D\\x08\\x07\\x00b\\u009Bc\\u202Ed\\u2066\\u061Ce"),
	C("json hostile", SAN_JSON, HOSTILE,
	  "a\\u001b[2J\\r\\u0008\\u0007\\u0000b\\u009bc\\u202ed\\u2066\\u061ce"),
	C("prom hostile", SAN_PROM, HOSTILE,
	  "a\\\\x1B[2J\\\\x0D\\\\x08\\\\x07\\\\x00b\\\\u009Bc\\\\u202Ed\\\\u2066\\\\u061Ce"),
	C("nagios hostile", SAN_NAGIOS, HOSTILE "|x=1",
	  "a\\x1B[2J\\x0D\\x08\\x07\\x00b\\u009Bc\\u202Ed\\u2066\\u061Ce/x=1"),
	C("html hostile", SAN_HTML, HOSTILE "<b a='1'>&\"",
	  "a\\x1B[2J\\x0D\\x08\\x07\\x00b\\u009Bc\\u202Ed\\u2066\\u061Ce"
	  "&lt;b a=&#39;1&#39;&gt;&amp;&quot;"),
	C("text invalid utf8 as U+FFFD", SAN_TEXT, "caf\xe9!", "caf\xef\xbf\xbd!"),
	C("prom invalid utf8 as U+FFFD", SAN_PROM, "caf\xe9!", "caf\xef\xbf\xbd!"),
	C("json invalid utf8 as \\ufffd", SAN_JSON, "caf\xe9!", "caf\\ufffd!"),
	C("text surrogate as U+FFFD x3", SAN_TEXT, "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"),
	C("text utf8 kept", SAN_TEXT, "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"),
	C("text LRM RLM LS PS BOM", SAN_TEXT, "\xe2\x80\x8e\xe2\x80\x8f\xe2\x80\xa8\xe2\x80\xa9\xef\xbb\xbf",
	  "\\u200E\\u200F\\u2028\\u2029\\uFEFF"),
	C("text PDF PDI", SAN_TEXT, "\xe2\x80\xac\xe2\x81\xa9", "\\u202C\\u2069"),
	C("text C1 NEL, DEL", SAN_TEXT, "\xc2\x85\x7f", "\\u0085\\x7F"),
	C("prom quote and backslash", SAN_PROM, "a\"b\\c\n", "a\\\"b\\\\c\\\\x0A"),
	C("json quote and backslash", SAN_JSON, "a\"b\\c\t", "a\\\"b\\\\c\\t"),
	C("text quote and backslash kept", SAN_TEXT, "a\"b\\c", "a\"b\\c"),
};

static char *run(enum san_mode m, const char *s, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	san_write(f, m, s, n);
	fclose(f);
	return buf;
}

/* No byte < 0x20, no DEL, and no UTF-8 sequence for an unsafe code point. */
static int raw_unsafe(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	while (i < n) {
		size_t l = san_utf8_len(p + i, n - i);
		uint32_t cp;

		if (l == 0)
			return 1;          /* invalid UTF-8 left in */
		if (l == 1)
			cp = p[i];
		else if (l == 2)
			cp = (uint32_t)(p[i] & 0x1f) << 6 | (p[i + 1] & 0x3f);
		else if (l == 3)
			cp = (uint32_t)(p[i] & 0x0f) << 12 | (uint32_t)(p[i + 1] & 0x3f) << 6 |
			     (p[i + 2] & 0x3f);
		else
			cp = 0x10000;
		if (san_cp_unsafe(cp))
			return 1;
		i += l;
	}
	return 0;
}

static void test_random(void)
{
	unsigned long seed = 42;
	unsigned char buf[64];
	int bad = 0;

	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(round % 63) + 1;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			buf[i] = (unsigned char)(seed >> 33);
			/* Bias toward lead bytes of C1 and bidi sequences. */
			if ((seed >> 20) % 5 == 0)
				buf[i] = (seed >> 24) % 2 ? 0xc2 : 0xe2;
			if ((seed >> 20) % 5 == 1)
				buf[i] = 0x80 | (unsigned char)((seed >> 40) & 0x3f);
		}
		for (int m = SAN_TEXT; m <= SAN_HTML; m++) {
			char *out = run((enum san_mode)m, (const char *)buf, n);

			if (raw_unsafe(out))
				bad++;
			free(out);
		}
	}
	T_CHECK("random bytes: no raw control, C1, bidi or bad UTF-8 in any mode", bad == 0);
}

static void test_buf(void)
{
	char b[16];

	san_buf(b, sizeof(b), SAN_TEXT, "0123456789abcdefghij", 100);
	T_STREQ("buf bounded, cut marked", b, "0123456789ab...");
	san_buf(b, sizeof(b), SAN_TEXT, "\x1b\x1b\x1b\x1b", 100);
	T_STREQ("buf never splits an escape", b, "\\x1B\\x1B\\x1B...");
	san_buf(b, sizeof(b), SAN_TEXT, "ab\xe2\x80\xae", 4);
	T_STREQ("buf cut by max before a code point", b, "ab...");
	san_buf(b, sizeof(b), SAN_TEXT, "abcd", 4);
	T_STREQ("buf exactly max not marked", b, "abcd");
	san_buf(b, 3, SAN_TEXT, "abcd", 4);
	T_STREQ("buf too small is empty", b, "");
}

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = run(cases[i].mode, cases[i].in, cases[i].len);

		T_STREQ(cases[i].name, out, cases[i].want);
		free(out);
	}
	test_random();
	test_buf();
	T_DONE();
}
