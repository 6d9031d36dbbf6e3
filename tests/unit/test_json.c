/* JSON escaping and the streaming writer: a table of awkward inputs with
 * their exact escapes, random bytes that must always come out as a valid
 * JSON string, and the writer's commas, nesting, indentation and depth
 * bound. Also render_safe, the terminal-side twin of json_escape. */
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "render.h"
#include "render_util.h"
#include "t.h"
#include "json_check.h"

/* Output of fn captured in a malloc'ed string. */
static char *esc(const char *s, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_escape(f, s, n);
	fclose(f);
	return buf;
}

static char *safe(const char *s, size_t max)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	render_safe(f, s, max);
	fclose(f);
	return buf;
}

struct esc_case {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
};

#define C(name, lit, want) { name, lit, sizeof(lit) - 1, want }

static const struct esc_case esc_cases[] = {
	C("empty", "", "\"\""),
	C("plain ascii", "mx1.test ESMTP Postfix", "\"mx1.test ESMTP Postfix\""),
	C("NUL", "a\0b", "\"a\\u0000b\""),
	C("quote and backslash", "say \"hi\" \\o/", "\"say \\\"hi\\\" \\\\o/\""),
	C("short escapes", "\n\r\t", "\"\\n\\r\\t\""),
	C("other controls", "\x01\x08\x0c\x1b[31m\x1f", "\"\\u0001\\u0008\\u000c\\u001b[31m\\u001f\""),
	C("DEL", "\x7f", "\"\\u007f\""),
	C("slash kept", "a/b", "\"a/b\""),
	C("2-byte utf8 kept", "caf\xc3\xa9", "\"caf\xc3\xa9\""),
	C("3-byte utf8 kept", "\xe2\x82\xac 5", "\"\xe2\x82\xac 5\""),
	C("4-byte utf8 kept", "\xf0\x9f\x93\xa7", "\"\xf0\x9f\x93\xa7\""),
	C("U+FFFF kept", "\xef\xbf\xbf", "\"\xef\xbf\xbf\""),
	C("U+10FFFF kept", "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""),
	C("overlong slash C0 AF", "\xc0\xaf", "\"\\ufffd\\ufffd\""),
	C("C1 CSI escaped", "a\xc2\x9b" "2J", "\"a\\u009b2J\""),
	C("C1 NEL escaped", "\xc2\x85", "\"\\u0085\""),
	C("bidi override RLO escaped", "x\xe2\x80\xaey", "\"x\\u202ey\""),
	C("bidi isolates escaped", "\xe2\x81\xa6\xe2\x81\xa9", "\"\\u2066\\u2069\""),
	C("LRM RLM ALM escaped", "\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "\"\\u200e\\u200f\\u061c\""),
	C("U+00A0 kept", "\xc2\xa0", "\"\xc2\xa0\""),
	C("overlong C1 BF", "\xc1\xbf", "\"\\ufffd\\ufffd\""),
	C("overlong E0 80 AF", "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""),
	C("overlong F0 80 80 AF", "\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""),
	C("surrogate D800", "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""),
	C("surrogate DFFF", "\xed\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\""),
	C("above U+10FFFF", "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""),
	C("F5 lead", "\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""),
	C("truncated 2-byte at end", "a\xc3", "\"a\\ufffd\""),
	C("truncated 3-byte then ascii", "\xe2\x82x", "\"\\ufffd\\ufffdx\""),
	C("truncated 4-byte at end", "\xf0\x9f\x93", "\"\\ufffd\\ufffd\\ufffd\""),
	C("lone continuation", "\x80", "\"\\ufffd\""),
	C("0xFF", "\xff", "\"\\ufffd\""),
	C("0xFE 0xFF", "\xfe\xff", "\"\\ufffd\\ufffd\""),
	C("latin1 e-acute", "caf\xe9!", "\"caf\\ufffd!\""),
};

static void test_escape_table(void)
{
	for (size_t i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		const struct esc_case *c = &esc_cases[i];
		char *got = esc(c->in, c->len);
		char name[96];

		snprintf(name, sizeof(name), "escape %s", c->name);
		T_STREQ(name, got, c->want);
		snprintf(name, sizeof(name), "escape %s is valid JSON", c->name);
		T_CHECK(name, json_check_string(got, strlen(got)));
		free(got);
	}
	{
		char *got = esc(NULL, 5);

		T_STREQ("escape NULL pointer", got, "\"\"");
		free(got);
	}
}

/* The validator itself must reject what it is there to catch. */
static void test_validator(void)
{
	T_CHECK("validator rejects raw newline", !json_check_string("\"a\nb\"", 5));
	T_CHECK("validator rejects 0xff", !json_check_string("\"\xff\"", 3));
	T_CHECK("validator rejects overlong", !json_check_string("\"\xc0\xaf\"", 4));
	T_CHECK("validator rejects surrogate", !json_check_string("\"\xed\xa0\x80\"", 5));
	T_CHECK("validator rejects bad escape", !json_check_string("\"\\x41\"", 6));
	T_CHECK("validator rejects unterminated", !json_check_string("\"abc", 4));
	T_CHECK("validator accepts utf8", json_check_string("\"\xe2\x82\xac\"", 5));
	T_CHECK("validator doc", json_check_doc("{\"a\":[1,2.5,-0.0,null,true,{}]}", 31));
	T_CHECK("validator rejects trailing comma", !json_check_doc("[1,]", 4));
}

static void test_random_bytes(void)
{
	unsigned char buf[256];
	unsigned long seed = 12345;
	int bad = 0, bad_safe = 0;

	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(round % 64) + 1;
		char *got, *s;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			/* Bias toward the interesting bytes: controls, high bytes. */
			buf[i] = (unsigned char)(seed >> 33);
			if ((seed >> 20) % 4 == 0)
				buf[i] |= 0x80;
		}
		got = esc((const char *)buf, n);
		if (!json_check_string(got, strlen(got)))
			bad++;
		free(got);
		buf[n] = 0;
		s = safe((const char *)buf, n);
		for (const unsigned char *p = (const unsigned char *)s; *p; p++)
			if (*p < 0x20 || *p == 0x7f)
				bad_safe++;
		if (render_utf8_len((const unsigned char *)s, strlen(s)) == 0 && s[0])
			bad_safe++;
		free(s);
	}
	T_CHECK("20000 random byte strings escape to valid JSON", bad == 0);
	T_CHECK("render_safe of random bytes has no control bytes", bad_safe == 0);
}

static void test_render_safe(void)
{
	char *s;
	char b[16];

	s = safe("220 mx\x1b[2J\r\n ok", 100);
	T_STREQ("safe controls as \\xNN", s, "220 mx\\x1B[2J\\x0D\\x0A ok");
	free(s);
	s = safe("caf\xc3\xa9 \xff \x7f", 100);
	T_STREQ("safe utf8 kept, bad byte U+FFFD, DEL hex", s, "caf\xc3\xa9 \xef\xbf\xbd \\x7F");
	free(s);
	s = safe("a\xc2\x9b" "b", 100);
	T_STREQ("safe C1 CSI as \\u009B", s, "a\\u009Bb");
	free(s);
	s = safe("x\xe2\x80\xaey", 100);
	T_STREQ("safe bidi override as \\u202E", s, "x\\u202Ey");
	free(s);
	s = safe("abcdefghij", 4);
	T_STREQ("safe cut at max marked", s, "abcd...");
	free(s);
	s = safe("abcd", 4);
	T_STREQ("safe exactly max not marked", s, "abcd");
	free(s);
	s = safe("\xe2\x82\xac", 2);
	T_STREQ("safe utf8 split by max: cut before it", s, "...");
	free(s);
	render_safe_buf(b, sizeof(b), "0123456789abcdefghij", 100);
	T_STREQ("safe_buf bounded", b, "0123456789ab...");
	render_safe_buf(b, sizeof(b), "\x01\x02\x03\x04", 100);
	T_STREQ("safe_buf never splits an escape", b, "\\x01\\x02\\x03...");
}

static char *write_doc(bool pretty, int depth)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jsonw w;

	jsonw_init(&w, f, pretty);
	jsonw_obj_begin(&w);
	jsonw_key(&w, "s");
	jsonw_str(&w, "x\"y");
	jsonw_key(&w, "n");
	jsonw_null(&w);
	jsonw_key(&w, "a");
	jsonw_arr_begin(&w);
	jsonw_int(&w, -3);
	jsonw_uint(&w, 18446744073709551615ULL);
	jsonw_num(&w, 12.345);
	jsonw_num(&w, 0.0 / 0.0);
	jsonw_bool(&w, true);
	jsonw_str(&w, NULL);
	jsonw_arr_end(&w);
	jsonw_key(&w, "e");
	jsonw_arr_begin(&w);
	jsonw_arr_end(&w);
	jsonw_key(&w, "o");
	jsonw_obj_begin(&w);
	jsonw_key(&w, "k\n");
	jsonw_strn(&w, "ab\0c", 4);
	jsonw_obj_end(&w);
	jsonw_key(&w, "deep");
	for (int i = 0; i < depth; i++)
		jsonw_arr_begin(&w);
	jsonw_int(&w, 1);
	for (int i = 0; i < depth; i++)
		jsonw_arr_end(&w);
	jsonw_obj_end(&w);
	fclose(f);
	return buf;
}

static void test_writer(void)
{
	char *s;

	s = write_doc(false, 2);
	T_STREQ("writer compact", s,
	        "{\"s\":\"x\\\"y\",\"n\":null,\"a\":[-3,18446744073709551615,12.3,null,true,null],"
	        "\"e\":[],\"o\":{\"k\\n\":\"ab\\u0000c\"},\"deep\":[[1]]}");
	T_CHECK("writer compact valid", json_check_doc(s, strlen(s)));
	free(s);

	s = write_doc(true, 1);
	T_STREQ("writer pretty", s,
	        "{\n  \"s\": \"x\\\"y\",\n  \"n\": null,\n  \"a\": [\n    -3,\n"
	        "    18446744073709551615,\n    12.3,\n    null,\n    true,\n    null\n  ],\n"
	        "  \"e\": [],\n  \"o\": {\n    \"k\\n\": \"ab\\u0000c\"\n  },\n"
	        "  \"deep\": [\n    1\n  ]\n}");
	T_CHECK("writer pretty valid", json_check_doc(s, strlen(s)));
	free(s);

	/* Past the bound the too-deep container becomes null, and what follows
	 * is still placed correctly. */
	s = write_doc(false, 40);
	T_CHECK("writer depth 40 still valid JSON", json_check_doc(s, strlen(s)));
	T_CHECK("writer depth 40 cut to null", strstr(s, "null]") != NULL);
	free(s);
	s = write_doc(true, 40);
	T_CHECK("writer pretty depth 40 still valid JSON", json_check_doc(s, strlen(s)));
	free(s);
}

int main(void)
{
	test_escape_table();
	test_validator();
	test_random_bytes();
	test_render_safe();
	test_writer();
	T_DONE();
}
