/* Unit tests for the SMTP reply parser: a table of {name, input, expected},
 * each run fed whole and byte by byte, then the limits and odd cases. */
#include <stdlib.h>
#include "t.h"
#include "smtp_reply.h"

struct reply_case {
	const char *name;
	const char *in;
	size_t len;              /* 0: strlen(in) */
	enum reply_rc rc;
	int code;
	size_t nlines;
	const char *joined;      /* lines joined by '\n' (DONE only) */
	const char *enhanced;
	bool bare_lf, had_nul;
	size_t used;             /* 0: all of it */
};

static const struct reply_case cases[] = {
	{ "single line", "250 OK\r\n", 0, REPLY_DONE, 250, 1, "OK", "", false, false, 0 },
	{ "code alone", "250\r\n", 0, REPLY_DONE, 250, 1, "", "", false, false, 0 },
	{ "empty text", "250 \r\n", 0, REPLY_DONE, 250, 1, "", "", false, false, 0 },
	{ "multi-line", "250-mx.example Hello\r\n250-SIZE 1000\r\n250 8BITMIME\r\n", 0,
	  REPLY_DONE, 250, 3, "mx.example Hello\nSIZE 1000\n8BITMIME", "", false, false, 0 },
	{ "continuation code alone", "250-\r\n250-x\r\n250\r\n", 0,
	  REPLY_DONE, 250, 3, "\nx\n", "", false, false, 0 },
	{ "bare LF", "220 mx ESMTP\n", 0, REPLY_DONE, 220, 1, "mx ESMTP", "", true, false, 0 },
	{ "bare LF on one line", "250-a\r\n250 b\n", 0, REPLY_DONE, 250, 2, "a\nb", "", true, false, 0 },
	{ "missing CRLF", "250 OK", 0, REPLY_NEED_MORE, 0, 0, NULL, "", false, false, 0 },
	{ "CR only is not an end", "250 OK\r", 0, REPLY_NEED_MORE, 0, 0, NULL, "", false, false, 0 },
	{ "bare CR kept in line", "250 a\rb\r\n", 0, REPLY_DONE, 250, 1, "a\rb", "", false, false, 0 },
	{ "CR CR LF", "250 a\r\r\n", 0, REPLY_DONE, 250, 1, "a\r", "", false, false, 0 },
	{ "leftover after done", "250 OK\r\nEXTRA", 0, REPLY_DONE, 250, 1, "OK", "", false, false, 8 },
	{ "pipelined replies", "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n", 0, REPLY_DONE, 250, 1, "2.1.0 Ok", "2.1.0", false, false, 14 },
	{ "injection after 220", "220 2.0.0 Ready\r\n250-evil\r\n", 0, REPLY_DONE, 220, 1, "2.0.0 Ready", "2.0.0", false, false, 17 },
	{ "NUL replaced", "250 a\0b\r\n", 9, REPLY_DONE, 250, 1, "a?b", "", false, true, 0 },
	{ "NUL in code", "25\0 x\r\n", 7, REPLY_ERR_SYNTAX, 0, 0, NULL, "", false, true, 0 },
	{ "mismatch", "250-a\r\n251 b\r\n", 0, REPLY_ERR_MISMATCH, 250, 1, NULL, "", false, false, 0 },
	{ "mismatch class", "250-a\r\n550 b\r\n", 0, REPLY_ERR_MISMATCH, 250, 1, NULL, "", false, false, 0 },
	{ "code 600", "600 x\r\n", 0, REPLY_ERR_CODE, 0, 0, NULL, "", false, false, 0 },
	{ "code 199", "199 x\r\n", 0, REPLY_ERR_CODE, 0, 0, NULL, "", false, false, 0 },
	{ "code 260", "260 x\r\n", 0, REPLY_ERR_CODE, 0, 0, NULL, "", false, false, 0 },
	{ "code 000", "000\r\n", 0, REPLY_ERR_CODE, 0, 0, NULL, "", false, false, 0 },
	{ "code 559 ok", "559 x\r\n", 0, REPLY_DONE, 559, 1, "x", "", false, false, 0 },
	{ "code 200 ok", "200\n", 0, REPLY_DONE, 200, 1, "", "", true, false, 0 },
	{ "non-digit", "25x ok\r\n", 0, REPLY_ERR_SYNTAX, 0, 0, NULL, "", false, false, 0 },
	{ "four digits", "2500 ok\r\n", 0, REPLY_ERR_SYNTAX, 0, 0, NULL, "", false, false, 0 },
	{ "two digits", "25\r\n", 0, REPLY_ERR_SYNTAX, 0, 0, NULL, "", false, false, 0 },
	{ "empty line", "\r\n", 0, REPLY_ERR_SYNTAX, 0, 0, NULL, "", false, false, 0 },
	{ "bad separator", "250_ok\r\n", 0, REPLY_ERR_SYNTAX, 0, 0, NULL, "", false, false, 0 },
	{ "tab separator", "250\tok\r\n", 0, REPLY_ERR_SYNTAX, 0, 0, NULL, "", false, false, 0 },
	{ "HTTP instead", "HTTP/1.1 400 Bad Request\r\n", 0, REPLY_ERR_SYNTAX, 0, 0, NULL, "", false, false, 0 },
	{ "leading space", " 250 ok\r\n", 0, REPLY_ERR_SYNTAX, 0, 0, NULL, "", false, false, 0 },
	{ "bad second line", "250-a\r\nxyz\r\n", 0, REPLY_ERR_SYNTAX, 250, 1, NULL, "", false, false, 0 },
	{ "error stops consuming", "25x\r\n250 ok\r\n", 0, REPLY_ERR_SYNTAX, 0, 0, NULL, "", false, false, 5 },
	{ "enhanced", "250 2.1.0 Ok\r\n", 0, REPLY_DONE, 250, 1, "2.1.0 Ok", "2.1.0", false, false, 0 },
	{ "enhanced 5.7.1", "550-5.7.1 no\r\n550 5.7.1 really\r\n", 0, REPLY_DONE, 550, 2, "5.7.1 no\n5.7.1 really", "5.7.1", false, false, 0 },
	{ "enhanced at end", "250 2.0.0\r\n", 0, REPLY_DONE, 250, 1, "2.0.0", "2.0.0", false, false, 0 },
	{ "enhanced 3 digits", "451 4.100.999 x\r\n", 0, REPLY_DONE, 451, 1, "4.100.999 x", "4.100.999", false, false, 0 },
	{ "enhanced 4-digit detail", "250 2.1.0000 x\r\n", 0, REPLY_DONE, 250, 1, "2.1.0000 x", "", false, false, 0 },
	{ "enhanced 4-digit subject", "250 2.1000.0 x\r\n", 0, REPLY_DONE, 250, 1, "2.1000.0 x", "", false, false, 0 },
	{ "enhanced class 3", "354 3.0.0 go\r\n", 0, REPLY_DONE, 354, 1, "3.0.0 go", "", false, false, 0 },
	{ "enhanced two parts", "250 2.1 x\r\n", 0, REPLY_DONE, 250, 1, "2.1 x", "", false, false, 0 },
	{ "enhanced glued", "250 2.1.0x\r\n", 0, REPLY_DONE, 250, 1, "2.1.0x", "", false, false, 0 },
	{ "enhanced empty detail", "250 2.1. x\r\n", 0, REPLY_DONE, 250, 1, "2.1. x", "", false, false, 0 },
	{ "enhanced line 2 only", "250-hi\r\n250 2.0.0 x\r\n", 0, REPLY_DONE, 250, 2, "hi\n2.0.0 x", "", false, false, 0 },
	{ "enhanced version-like", "250 2.10.3-beta\r\n", 0, REPLY_DONE, 250, 1, "2.10.3-beta", "", false, false, 0 },
};

static void run_case(const struct reply_case *c, bool bytewise)
{
	struct reply_parser p;
	size_t len = c->len ? c->len : strlen(c->in), off = 0, used = 0;
	size_t want_used = c->used ? c->used : len;
	enum reply_rc rc = REPLY_NEED_MORE;
	char name[160];

	reply_parser_init(&p, NULL, NULL);
	if (bytewise) {
		while (off < len && rc == REPLY_NEED_MORE) {
			rc = reply_parser_feed(&p, c->in + off, 1, &used);
			off += used;
		}
	} else {
		rc = reply_parser_feed(&p, c->in, len, &used);
		off = used;
	}
	const char *how = bytewise ? "bytewise" : "whole";
	snprintf(name, sizeof name, "reply %s (%s): rc", c->name, how);
	if (rc != c->rc)
		printf("# got %s, want %s\n", reply_rc_name(rc), reply_rc_name(c->rc));
	T_CHECK(name, rc == c->rc);
	snprintf(name, sizeof name, "reply %s (%s): used", c->name, how);
	T_CHECK(name, off == want_used);
	if (rc == REPLY_DONE) {
		char *j = smtp_reply_join(&p.reply);
		snprintf(name, sizeof name, "reply %s (%s): code", c->name, how);
		T_CHECK(name, p.reply.code == c->code);
		snprintf(name, sizeof name, "reply %s (%s): nlines", c->name, how);
		T_CHECK(name, p.reply.nlines == c->nlines);
		snprintf(name, sizeof name, "reply %s (%s): lines", c->name, how);
		T_STREQ(name, j, c->joined);
		free(j);
		snprintf(name, sizeof name, "reply %s (%s): enhanced", c->name, how);
		T_STREQ(name, p.reply.enhanced, c->enhanced);
		snprintf(name, sizeof name, "reply %s (%s): bytes", c->name, how);
		T_CHECK(name, p.reply.bytes == want_used);
	} else if (rc != REPLY_NEED_MORE) {
		snprintf(name, sizeof name, "reply %s (%s): lines kept", c->name, how);
		T_CHECK(name, p.reply.nlines == c->nlines);
	}
	snprintf(name, sizeof name, "reply %s (%s): bare_lf", c->name, how);
	T_CHECK(name, p.reply.bare_lf == c->bare_lf);
	snprintf(name, sizeof name, "reply %s (%s): had_nul", c->name, how);
	T_CHECK(name, p.reply.had_nul == c->had_nul);
	reply_parser_clear(&p);
}

/* Feeds s in two pieces split at every position: the result never depends
 * on where the network cut the bytes. */
static void test_every_split(void)
{
	const char *s = "250-mx.example\r\n250-PIPELINING\r\n250 2.0.0 STARTTLS\r\nQUIT";
	size_t len = strlen(s);
	bool all = true;

	for (size_t cut = 0; cut <= len; cut++) {
		struct reply_parser p;
		size_t u1 = 0, u2 = 0;
		enum reply_rc rc;

		reply_parser_init(&p, NULL, NULL);
		rc = reply_parser_feed(&p, s, cut, &u1);
		if (rc == REPLY_NEED_MORE)
			rc = reply_parser_feed(&p, s + u1, len - u1, &u2);
		if (rc != REPLY_DONE || u1 + u2 != len - 4 || p.reply.nlines != 3 ||
		    strcmp(p.reply.lines[2], "2.0.0 STARTTLS") != 0 || p.reply.enhanced[0] != '\0')
			all = false;
		reply_parser_clear(&p);
	}
	T_CHECK("reply split at every position", all);
}

static void test_long_line(void)
{
	static char buf[REPLY_MAX_LINE + 16];
	struct reply_parser p;
	size_t used = 0, off = 0;
	enum reply_rc rc = REPLY_NEED_MORE;

	/* Exactly REPLY_MAX_LINE bytes before CRLF: allowed. */
	memset(buf, 'x', sizeof buf);
	memcpy(buf, "250 ", 4);
	memcpy(buf + REPLY_MAX_LINE, "\r\n", 2);
	reply_parser_init(&p, NULL, NULL);
	rc = reply_parser_feed(&p, buf, REPLY_MAX_LINE + 2, &used);
	T_CHECK("reply line of exactly max: done", rc == REPLY_DONE);
	T_CHECK("reply line of exactly max: length", p.reply.nlines == 1 &&
	        strlen(p.reply.lines[0]) == REPLY_MAX_LINE - 4);

	/* One byte more, and no LF ever: fails at that byte, before any LF. */
	reply_parser_reset(&p);
	memset(buf, 'x', sizeof buf);
	memcpy(buf, "250 ", 4);
	rc = reply_parser_feed(&p, buf, sizeof buf, &used);
	T_CHECK("reply overlong line fails before LF", rc == REPLY_ERR_LONG_LINE);
	T_CHECK("reply overlong line: used", used == REPLY_MAX_LINE + 1);
	T_CHECK("reply overlong line: partial kept", p.linelen == REPLY_MAX_LINE);

	/* Same, byte by byte. */
	reply_parser_reset(&p);
	rc = REPLY_NEED_MORE;
	while (rc == REPLY_NEED_MORE && off < sizeof buf) {
		rc = reply_parser_feed(&p, buf + off, 1, &used);
		off += used;
	}
	T_CHECK("reply overlong line bytewise", rc == REPLY_ERR_LONG_LINE && off == REPLY_MAX_LINE + 1);

	/* Max bytes then a CR that turns out not to end the line. */
	reply_parser_reset(&p);
	memset(buf, 'x', sizeof buf);
	memcpy(buf, "250 ", 4);
	buf[REPLY_MAX_LINE] = '\r';
	rc = reply_parser_feed(&p, buf, REPLY_MAX_LINE + 2, &used);
	T_CHECK("reply max line + bare CR", rc == REPLY_ERR_LONG_LINE);
	reply_parser_clear(&p);
}

static void test_too_many(void)
{
	struct reply_parser p;
	size_t used = 0;
	enum reply_rc rc = REPLY_NEED_MORE;
	static char big[2100];

	reply_parser_init(&p, NULL, NULL);
	for (int i = 0; i < REPLY_MAX_LINES - 1 && rc == REPLY_NEED_MORE; i++)
		rc = reply_parser_feed(&p, "250-x\r\n", 7, &used);
	if (rc == REPLY_NEED_MORE)
		rc = reply_parser_feed(&p, "250 x\r\n", 7, &used);
	T_CHECK("reply max lines: done", rc == REPLY_DONE && p.reply.nlines == REPLY_MAX_LINES);

	reply_parser_reset(&p);
	rc = REPLY_NEED_MORE;
	for (int i = 0; i < REPLY_MAX_LINES + 5 && rc == REPLY_NEED_MORE; i++)
		rc = reply_parser_feed(&p, "250-x\r\n", 7, &used);
	T_CHECK("reply too many lines", rc == REPLY_ERR_TOO_MANY);
	T_CHECK("reply too many lines: capped", p.reply.nlines == REPLY_MAX_LINES);

	/* Long lines: the byte cap trips before the line cap. */
	reply_parser_reset(&p);
	memset(big, 'y', sizeof big);
	memcpy(big, "250-", 4);
	memcpy(big + 2000, "\r\n", 2);
	rc = REPLY_NEED_MORE;
	size_t total = 0;
	for (int i = 0; i < 100 && rc == REPLY_NEED_MORE; i++) {
		rc = reply_parser_feed(&p, big, 2002, &used);
		total += used;
	}
	T_CHECK("reply too many bytes", rc == REPLY_ERR_TOO_MANY);
	T_CHECK("reply too many bytes: stopped at cap", total == REPLY_MAX_BYTES && p.reply.bytes == REPLY_MAX_BYTES);
	reply_parser_clear(&p);
}

struct cb_count { int n; char last[64]; };

static void count_line(void *arg, const char *line, size_t len)
{
	struct cb_count *c = arg;
	c->n++;
	snprintf(c->last, sizeof c->last, "%.*s", (int)len, line);
}

static void test_callback_and_reset(void)
{
	struct reply_parser p;
	struct cb_count cc = { 0, "" };
	const char *s = "250-a\r\n250 b\r\n221 bye\r\n";
	size_t used = 0;
	enum reply_rc rc;

	reply_parser_init(&p, count_line, &cc);
	rc = reply_parser_feed(&p, s, strlen(s), &used);
	T_CHECK("reply callback per line", rc == REPLY_DONE && cc.n == 2);
	T_STREQ("reply callback raw line", cc.last, "250 b");

	rc = reply_parser_feed(&p, s + used, strlen(s) - used, &used);
	T_CHECK("reply feed after done waits for reset", rc == REPLY_DONE && used == 0);

	reply_parser_reset(&p);
	rc = reply_parser_feed(&p, s + 14, strlen(s) - 14, &used);
	T_CHECK("reply after reset: next reply", rc == REPLY_DONE && p.reply.code == 221 &&
	        p.reply.nlines == 1 && strcmp(p.reply.lines[0], "bye") == 0);
	T_CHECK("reply callback kept across reset", cc.n == 3);

	reply_parser_reset(&p);
	rc = reply_parser_feed(&p, "250-a\r\nxx\r\n", 11, &used);
	T_CHECK("reply callback sees malformed line", rc == REPLY_ERR_SYNTAX && cc.n == 5);
	T_STREQ("reply malformed line kept", p.line, "xx");
	T_STREQ("reply malformed line given to callback", cc.last, "xx");

	/* Taking the reply over, as the session does. */
	reply_parser_reset(&p);
	rc = reply_parser_feed(&p, "250-one\r\n250 two\r\n", 18, &used);
	struct smtp_reply taken = p.reply;
	memset(&p.reply, 0, sizeof p.reply);
	reply_parser_reset(&p);
	T_CHECK("reply moved out", rc == REPLY_DONE && taken.nlines == 2);
	smtp_reply_clear(&taken);
	T_CHECK("reply cleared", taken.lines == NULL && taken.nlines == 0);
	reply_parser_clear(&p);

	struct smtp_reply empty = { 0 };
	char *j = smtp_reply_join(&empty);
	T_STREQ("reply join of nothing", j, "");
	free(j);

	size_t zero_used = 99;
	reply_parser_init(&p, NULL, NULL);
	T_CHECK("reply feed of nothing", reply_parser_feed(&p, NULL, 0, &zero_used) == REPLY_NEED_MORE && zero_used == 0);
	reply_parser_clear(&p);
}

static void test_names(void)
{
	bool ok = true;
	for (int rc = REPLY_NEED_MORE; rc <= REPLY_ERR_CODE; rc++)
		if (reply_rc_name((enum reply_rc)rc) == NULL || strcmp(reply_rc_name((enum reply_rc)rc), "unknown") == 0)
			ok = false;
	T_CHECK("reply rc names", ok);
	T_STREQ("reply rc name out of range", reply_rc_name((enum reply_rc)99), "unknown");
	T_STREQ("reply rc name long line", reply_rc_name(REPLY_ERR_LONG_LINE), "reply line too long");
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		run_case(&cases[i], false);
		run_case(&cases[i], true);
	}
	test_every_split();
	test_long_line();
	test_too_many();
	test_callback_and_reset();
	test_names();
	T_DONE();
}
