/* Unit tests for EHLO parsing: real-looking replies through the reply
 * parser, then the SIZE number parser and the keyword descriptions. */
#include <stdlib.h>
#include "t.h"
#include "smtp_ehlo.h"

struct ehlo_case {
	const char *name;
	const char *in;          /* raw reply bytes */
	bool helo;
	const char *hostname;    /* NULL: none */
	size_t nlines;
	size_t next;
	const char *exts;        /* "KW=params|KW=params" */
};

static const struct ehlo_case cases[] = {
	{ "postfix",
	  "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 104857600\r\n250-VRFY\r\n"
	  "250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
	  "250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n",
	  false, "mx.example.org", 11, 10,
	  "PIPELINING=|SIZE=104857600|VRFY=|ETRN=|STARTTLS=|ENHANCEDSTATUSCODES=|8BITMIME=|DSN=|SMTPUTF8=|CHUNKING=" },
	{ "starttls last",
	  "250-smtp.example.com Hello [192.0.2.1]\r\n250-SIZE\r\n250-AUTH LOGIN PLAIN\r\n250 STARTTLS\r\n",
	  false, "smtp.example.com", 4, 3, "SIZE=|AUTH=LOGIN PLAIN|STARTTLS=" },
	{ "auth= old syntax",
	  "250-mx.example\r\n250-AUTH PLAIN LOGIN\r\n250 AUTH=PLAIN LOGIN\r\n",
	  false, "mx.example", 3, 2, "AUTH=PLAIN LOGIN|AUTH=PLAIN=LOGIN" },
	{ "lower case keyword, spaces",
	  "250-mx.example\r\n250-size   1000  \r\n250 x-unknown  a  b \r\n",
	  false, "mx.example", 3, 2, "SIZE=1000|X-UNKNOWN=a  b" },
	{ "duplicates kept",
	  "250-mx.example\r\n250-SIZE 10\r\n250 SIZE 20\r\n", false, "mx.example", 3, 2, "SIZE=10|SIZE=20" },
	{ "single line",
	  "250 mx.example\r\n", false, "mx.example", 1, 0, "" },
	{ "empty first line",
	  "250-\r\n250 8BITMIME\r\n", false, NULL, 2, 1, "8BITMIME=" },
	{ "blank extension line skipped",
	  "250-mx.example\r\n250-   \r\n250 DSN\r\n", false, "mx.example", 3, 1, "DSN=" },
	{ "helo has no extensions",
	  "250-mx.example\r\n250 PIPELINING\r\n", true, "mx.example", 2, 0, "" },
	{ "refusal has no extensions",
	  "550-mx.example go away\r\n550 PIPELINING\r\n", false, "mx.example", 2, 0, "" },
	{ "tab after hostname",
	  "250 mx.example\tESMTP\r\n", false, "mx.example", 1, 0, "" },
	/* issue 11: a greeting word is not a host name */
	{ "hello is no host name",
	  "250-Hello vm\r\n250 8BITMIME\r\n", false, NULL, 2, 1, "8BITMIME=" },
	{ "single word no host name",
	  "250-mx\r\n250 DSN\r\n", false, NULL, 2, 1, "DSN=" },
	{ "localhost", "250 localhost\r\n", false, "localhost", 1, 0, "" },
	{ "address literal v4", "250 [192.0.2.1] hi\r\n", false, "[192.0.2.1]", 1, 0, "" },
	{ "address literal v6", "250 [IPv6:2001:db8::1]\r\n", false, "[IPv6:2001:db8::1]", 1, 0, "" },
	{ "bad address literal", "250 [999.1.1.1]\r\n", false, NULL, 1, 0, "" },
	{ "trailing root dot", "250 mx.example.\r\n", false, "mx.example.", 1, 0, "" },
	{ "leading hyphen label", "250 -mx.example\r\n", false, NULL, 1, 0, "" },
	{ "empty label", "250 mx..example\r\n", false, NULL, 1, 0, "" },
	{ "punctuation", "250 hello,world.example\r\n", false, NULL, 1, 0, "" },
};

static void ext_string(const struct ehlo_info *e, char *out, size_t outlen)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < e->next && off < outlen; i++)
		off += (size_t)snprintf(out + off, outlen - off, "%s%s=%s", i ? "|" : "",
		                        e->ext[i].keyword, e->ext[i].params);
}

static int parse_reply(const char *in, struct reply_parser *p)
{
	size_t used = 0;

	reply_parser_init(p, NULL, NULL);
	return reply_parser_feed(p, in, strlen(in), &used) == REPLY_DONE ? 0 : -1;
}

static void run_case(const struct ehlo_case *c)
{
	struct reply_parser p;
	struct ehlo_info e;
	char name[160], got[2048];

	memset(&e, 0, sizeof e);
	snprintf(name, sizeof name, "ehlo %s: reply parsed", c->name);
	T_CHECK(name, parse_reply(c->in, &p) == 0);
	smtp_ehlo_parse(&p.reply, c->helo, &e);
	snprintf(name, sizeof name, "ehlo %s: hostname", c->name);
	T_STREQ(name, e.hostname, c->hostname);
	snprintf(name, sizeof name, "ehlo %s: lines", c->name);
	T_CHECK(name, e.nlines == c->nlines && e.present && e.code == p.reply.code && e.helo == c->helo);
	snprintf(name, sizeof name, "ehlo %s: extension count", c->name);
	T_CHECK(name, e.next == c->next);
	ext_string(&e, got, sizeof got);
	snprintf(name, sizeof name, "ehlo %s: extensions", c->name);
	T_STREQ(name, got, c->exts);
	smtp_ehlo_clear(&e);
	reply_parser_clear(&p);
}

static void test_find_and_limits(void)
{
	struct reply_parser p;
	struct ehlo_info e;
	static char buf[200 * 16];
	size_t off;

	memset(&e, 0, sizeof e);
	parse_reply("250-mx\r\n250-Auth PLAIN\r\n250-STARTTLS\r\n250 SIZE 5\r\n", &p);
	smtp_ehlo_parse(&p.reply, false, &e);
	T_STREQ("ehlo find case-insensitive", smtp_ehlo_find(&e, "auth"), "PLAIN");
	T_STREQ("ehlo find no params", smtp_ehlo_find(&e, "StartTLS"), "");
	T_STREQ("ehlo find missing", smtp_ehlo_find(&e, "CHUNKING"), NULL);
	T_STREQ("ehlo find prefix is not a match", smtp_ehlo_find(&e, "SIZ"), NULL);
	T_STREQ("ehlo line copy", e.lines[1], "Auth PLAIN");
	smtp_ehlo_clear(&e);
	T_CHECK("ehlo cleared", e.ext == NULL && e.next == 0 && e.hostname == NULL && !e.present);
	reply_parser_clear(&p);

	/* 199 extensions: only RESULT_MAX_EXT kept, every line still copied. */
	off = (size_t)snprintf(buf, sizeof buf, "250-mx\r\n");
	for (int i = 0; i < 198; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "250-X%d\r\n", i);
	snprintf(buf + off, sizeof buf - off, "250 LAST\r\n");
	parse_reply(buf, &p);
	smtp_ehlo_parse(&p.reply, false, &e);
	T_CHECK("ehlo extension cap", e.next == RESULT_MAX_EXT && e.nlines == 200);
	T_STREQ("ehlo extension cap keeps the first", e.ext[RESULT_MAX_EXT - 1].keyword, "X63");
	smtp_ehlo_clear(&e);
	reply_parser_clear(&p);

	/* A first word longer than a name can be is no host name. */
	memset(buf, 'h', 400);
	memcpy(buf, "250 ", 4);
	memcpy(buf + 400, "\r\n", 3);
	parse_reply(buf, &p);
	smtp_ehlo_parse(&p.reply, false, &e);
	T_CHECK("ehlo hostname bounded", e.hostname == NULL);
	smtp_ehlo_clear(&e);
	reply_parser_clear(&p);
}

struct size_case {
	const char *name;
	const char *params;
	int rc;
	uint64_t limit;
};

static const struct size_case size_cases[] = {
	{ "number", "104857600", 1, 104857600 },
	{ "no number", "", 0, 0 },
	{ "NULL", NULL, 0, 0 },
	{ "zero", "0", 0, 0 },
	{ "zeros", "000", 0, 0 },
	{ "one", "1", 1, 1 },
	{ "leading zero", "0100", 1, 100 },
	{ "uint64 max", "18446744073709551615", 1, UINT64_MAX },
	{ "uint64 max + 1", "18446744073709551616", -1, 0 },
	{ "huge", "99999999999999999999", -1, 0 },
	{ "21 digits", "000000000000000000001", -1, 0 },
	{ "sign", "+100", -1, 0 },
	{ "negative", "-1", -1, 0 },
	{ "hex", "0x100", -1, 0 },
	{ "trailing text", "100 bytes", -1, 0 },
	{ "letters", "ABC", -1, 0 },
	{ "decimal point", "1.5", -1, 0 },
	{ "spaces around", " 100 ", 1, 100 },
};

static void test_size(void)
{
	char name[128];

	for (size_t i = 0; i < sizeof size_cases / sizeof size_cases[0]; i++) {
		const struct size_case *c = &size_cases[i];
		uint64_t v = 12345;
		int rc = smtp_ehlo_size(c->params, &v);
		snprintf(name, sizeof name, "ehlo size %s", c->name);
		T_CHECK(name, rc == c->rc && (rc < 0 || v == c->limit));
	}
}

static void test_describe(void)
{
	static const char *const kws[] = {
		"SIZE", "8BITMIME", "PIPELINING", "AUTH", "STARTTLS", "SMTPUTF8", "CHUNKING",
		"BINARYMIME", "DSN", "ENHANCEDSTATUSCODES", "REQUIRETLS", "LIMITS", "DELIVERBY",
		"ETRN", "VRFY", "EXPN", "HELP", "MTRK", "NO-SOLICITING", "FUTURERELEASE",
		"XCLIENT", "XFORWARD", "MT-PRIORITY", "ATRN", "BURL", "CHECKPOINT", "CONNEG",
		"RRVS", "SUBMITTER", "ONEX", "VERB", "XUSR", "X-EXPS",
	};
	bool all = true;

	for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++) {
		const char *d = smtp_ehlo_describe(kws[i]);
		if (d == NULL || strchr(d, '\n') != NULL) {
			printf("# no description for %s\n", kws[i]);
			all = false;
		}
	}
	T_CHECK("ehlo describe every known keyword", all);
	T_CHECK("ehlo describe lower case", smtp_ehlo_describe("starttls") != NULL);
	T_CHECK("ehlo describe unknown", smtp_ehlo_describe("X-FOO") == NULL);
	T_CHECK("ehlo describe prefix", smtp_ehlo_describe("SIZ") == NULL);
	T_CHECK("ehlo describe old AUTH=", smtp_ehlo_describe("AUTH=PLAIN") != NULL);
	T_CHECK("ehlo describe NULL", smtp_ehlo_describe(NULL) == NULL);
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
	test_find_and_limits();
	test_size();
	test_describe();
	T_DONE();
}
