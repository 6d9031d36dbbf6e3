/* mtasts.c: the MTA-STS TXT record and policy parsers (RFC 8461 3.1, 3.2),
 * mx pattern matching (4.1), the TLS-RPT record parser (RFC 8460 3), and
 * https.c's response parser. Tables of good and bad inputs. */
#include <stdio.h>
#include <string.h>

#include "https.h"
#include "mtasts.h"
#include "t.h"

static const struct {
	const char *in, *id;          /* id NULL: must fail */
} txt_cases[] = {
	{ "v=STSv1; id=20240101T000000", "20240101T000000" },
	{ "v=STSv1;id=abc", "abc" },
	{ "v=STSv1; id=abc;", "abc" },
	{ "v=STSv1 ;  id=abc  ; ext=val", "abc" },
	{ "v=STSv1; id=12345678901234567890123456789012", "12345678901234567890123456789012" },
	{ "v=STSv1; id=123456789012345678901234567890123", NULL },  /* 33 chars */
	{ "v=STSv1", NULL },                                    /* no id */
	{ "v=STSv1; id=", NULL },
	{ "v=STSv1; id=a-b", NULL },                            /* '-' not allowed */
	{ "v=STSv2; id=abc", NULL },
	{ "v=stsv1; id=abc", NULL },                            /* case-sensitive */
	{ "id=abc; v=STSv1", NULL },                            /* v= must be first */
	{ "v=STSv1; id=abc; id=def", NULL },
	{ "v=STSv1;; id=abc", NULL },
	{ "v=STSv1; id=abc; bad", NULL },
	{ "v=STSv1; id=abc; x=a b", NULL },
	{ "", NULL },
	{ "v=TLSRPTv1; rua=mailto:a@b", NULL },
};

static const struct {
	const char *name, *in;
	bool ok;
	enum mtasts_mode mode;
	unsigned max_age;
	size_t nmx;
} pol_cases[] = {
	{ "enforce-crlf", "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
	  "mx: *.example.net\r\nmax_age: 604800\r\n", true, MTASTS_MODE_ENFORCE, 604800, 2 },
	{ "testing-lf", "version: STSv1\nmode: testing\nmx: a.test\nmax_age: 86400\n", true,
	  MTASTS_MODE_TESTING, 86400, 1 },
	{ "none-no-mx", "version: STSv1\nmode: none\nmax_age: 0\n", true, MTASTS_MODE_NONE, 0, 0 },
	{ "no-final-newline", "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 1", true,
	  MTASTS_MODE_ENFORCE, 1, 1 },
	{ "any-order-ext", "mx: a.test\nmax_age:  31557600 \nfoo: bar\nmode:enforce\nversion: STSv1\n",
	  true, MTASTS_MODE_ENFORCE, 31557600, 1 },
	{ "no-version", "mode: enforce\nmx: a.test\nmax_age: 1\n", false, 0, 0, 0 },
	{ "bad-version", "version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1\n", false, 0, 0, 0 },
	{ "bad-mode", "version: STSv1\nmode: Enforce\nmx: a.test\nmax_age: 1\n", false, 0, 0, 0 },
	{ "no-mode", "version: STSv1\nmx: a.test\nmax_age: 1\n", false, 0, 0, 0 },
	{ "no-max-age", "version: STSv1\nmode: enforce\nmx: a.test\n", false, 0, 0, 0 },
	{ "max-age-too-big", "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557601\n",
	  false, 0, 0, 0 },
	{ "max-age-11-digits", "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 00000000001\n",
	  false, 0, 0, 0 },
	{ "max-age-not-num", "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 1d\n", false, 0, 0, 0 },
	{ "enforce-no-mx", "version: STSv1\nmode: enforce\nmax_age: 1\n", false, 0, 0, 0 },
	{ "bad-mx", "version: STSv1\nmode: enforce\nmx: a..test\nmax_age: 1\n", false, 0, 0, 0 },
	{ "mid-wildcard", "version: STSv1\nmode: enforce\nmx: a.*.test\nmax_age: 1\n", false, 0, 0, 0 },
	{ "not-key-value", "version: STSv1\nmode enforce\nmx: a.test\nmax_age: 1\n", false, 0, 0, 0 },
	{ "html", "<html><body>hello</body></html>\n", false, 0, 0, 0 },
	{ "dup-mode", "version: STSv1\nmode: enforce\nmode: testing\nmx: a.test\nmax_age: 1\n",
	  false, 0, 0, 0 },
	{ "empty", "", false, 0, 0, 0 },
};

static const struct {
	const char *pattern, *host;
	bool want;
} mx_cases[] = {
	{ "mail.example.com", "mail.example.com", true },
	{ "mail.example.com", "MAIL.Example.COM.", true },
	{ "mail.example.com.", "mail.example.com", true },
	{ "*.example.com", "mx1.example.com", true },
	{ "*.example.com", "mx1.example.com.", true },
	{ "*.example.com", "example.com", false },
	{ "*.example.com", "a.b.example.com", false },
	{ "*.example.com", "mx1.example.org", false },
	{ "mail.example.com", "mx.example.com", false },
	{ "*mail.example.com", "xmail.example.com", false },
	{ "*", "example", false },
	{ "", "a", false },
};

static const struct {
	const char *in;
	size_t nrua;                  /* 0: must fail */
	const char *first;
} rpt_cases[] = {
	{ "v=TLSRPTv1; rua=mailto:tlsrpt@example.test", 1, "mailto:tlsrpt@example.test" },
	{ "v=TLSRPTv1;rua=https://reports.example.test/tlsrpt", 1, "https://reports.example.test/tlsrpt" },
	{ "v=TLSRPTv1; rua=mailto:a@b.test, https://r.test/x;", 2, "mailto:a@b.test" },
	{ "v=TLSRPTv1; rua=mailto:a@b.test; ext=1", 1, "mailto:a@b.test" },
	{ "v=TLSRPTv1", 0, NULL },
	{ "v=TLSRPTv1; rua=http://r.test/", 0, NULL },
	{ "v=TLSRPTv1; rua=mailto:nobody", 0, NULL },
	{ "v=TLSRPTv1; rua=", 0, NULL },
	{ "v=TLSRPTv1; rua=mailto:a@b,", 0, NULL },
	{ "v=TLSRPTv2; rua=mailto:a@b", 0, NULL },
	{ "rua=mailto:a@b; v=TLSRPTv1", 0, NULL },
	{ "v=TLSRPTv1; rua=mailto:a@b; rua=mailto:c@d", 0, NULL },
	{ "v=TLSRPTv1; rua=https://", 0, NULL },
};

static const struct {
	const char *name, *in;
	int rc, status;
	const char *ctype, *body;
} http_cases[] = {
	{ "http-200-clen", "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
	  "Content-Length: 5\r\n\r\nhello", 0, 200, "text/plain", "hello" },
	{ "http-200-close", "HTTP/1.0 200 OK\r\nContent-Type: Text/Plain\r\n\r\nabc", 0, 200,
	  "text/plain", "abc" },
	{ "http-chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain"
	  "\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n", 0, 200, "text/plain", "abcde" },
	{ "http-redirect", "HTTP/1.1 301 Moved\r\nLocation: https://x.test/\r\nContent-Length: 0"
	  "\r\n\r\n", 0, 301, "", "" },
	{ "http-truncated", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", -1, 200, "", NULL },
	{ "http-too-large", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", -1, 200, "", NULL },
	{ "http-bad-chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", -1, 200,
	  "", NULL },
	{ "http-not-http", "SSH-2.0-OpenSSH\r\n\r\n", -1, 0, "", NULL },
	{ "http-no-header-end", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n", -1, 0, "", NULL },
};

int main(void)
{
	char name[96], err[200], buf[512];
	size_t i;

	for (i = 0; i < sizeof(txt_cases) / sizeof(txt_cases[0]); i++) {
		struct mtasts_txt t;
		int rc = mtasts_txt_parse(txt_cases[i].in, strlen(txt_cases[i].in), &t, err, sizeof(err));

		snprintf(name, sizeof(name), "sts-txt-%zu", i);
		if (txt_cases[i].id != NULL)
			T_STREQ(name, rc == 0 ? t.id : err, txt_cases[i].id);
		else
			T_CHECK(name, rc == -1 && err[0] != '\0');
	}
	for (i = 0; i < sizeof(pol_cases) / sizeof(pol_cases[0]); i++) {
		struct mtasts_policy p;
		int rc = mtasts_policy_parse(pol_cases[i].in, strlen(pol_cases[i].in), &p, err,
		                             sizeof(err));

		snprintf(name, sizeof(name), "sts-policy-%s", pol_cases[i].name);
		if (pol_cases[i].ok)
			T_CHECK(name, rc == 0 && p.mode == pol_cases[i].mode &&
			        p.max_age == pol_cases[i].max_age && p.nmx == pol_cases[i].nmx);
		else
			T_CHECK(name, rc == -1 && err[0] != '\0');
	}
	{
		struct mtasts_policy p;
		const char *in = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
		                 "mx: *.example.net\r\nmax_age: 604800\r\n";

		mtasts_policy_parse(in, strlen(in), &p, err, sizeof(err));
		T_STREQ("sts-policy-mx0", p.mx[0], "mail.example.com");
		T_STREQ("sts-policy-mx1", p.mx[1], "*.example.net");
	}
	/* Bounded: more mx lines than kept are counted, and 64 KiB is the cap. */
	{
		static char big[70000];
		struct mtasts_policy p;
		size_t n = (size_t)snprintf(big, sizeof(big), "version: STSv1\nmode: testing\nmax_age: 5\n");

		for (int k = 0; k < 40; k++)
			n += (size_t)snprintf(big + n, sizeof(big) - n, "mx: m%d.test\n", k);
		T_CHECK("sts-policy-many-mx", mtasts_policy_parse(big, n, &p, err, sizeof(err)) == 0 &&
		        p.nmx == MTASTS_MAX_MX && p.mx_total == 40);
		memset(big, 'a', sizeof(big));
		T_CHECK("sts-policy-oversized",
		        mtasts_policy_parse(big, sizeof(big), &p, err, sizeof(err)) == -1);
		T_CHECK("sts-policy-nul", mtasts_policy_parse("version: STS\0v1\n", 16, &p, err,
		                                               sizeof(err)) == -1);
	}
	for (i = 0; i < sizeof(mx_cases) / sizeof(mx_cases[0]); i++) {
		snprintf(name, sizeof(name), "sts-mx-%s-%s", mx_cases[i].pattern, mx_cases[i].host);
		T_CHECK(name, mtasts_mx_match(mx_cases[i].pattern, mx_cases[i].host) == mx_cases[i].want);
	}
	for (i = 0; i < sizeof(rpt_cases) / sizeof(rpt_cases[0]); i++) {
		struct tlsrpt_record r;
		int rc = mtasts_tlsrpt_parse(rpt_cases[i].in, strlen(rpt_cases[i].in), &r, err,
		                             sizeof(err));

		snprintf(name, sizeof(name), "tlsrpt-%zu", i);
		if (rpt_cases[i].nrua > 0)
			T_CHECK(name, rc == 0 && r.nrua == rpt_cases[i].nrua &&
			        strcmp(r.rua[0], rpt_cases[i].first) == 0);
		else
			T_CHECK(name, rc == -1 && err[0] != '\0');
	}
	for (i = 0; i < sizeof(http_cases) / sizeof(http_cases[0]); i++) {
		struct https_response r;
		int rc;

		memset(&r, 0, sizeof(r));
		snprintf(buf, sizeof(buf), "%s", http_cases[i].in);
		rc = https_parse_response(buf, strlen(buf), 16, &r);
		snprintf(name, sizeof(name), "%s", http_cases[i].name);
		T_CHECK(name, rc == http_cases[i].rc && r.status == http_cases[i].status &&
		        (rc != 0 || (strcmp(r.content_type, http_cases[i].ctype) == 0 &&
		                     r.body_len == strlen(http_cases[i].body) &&
		                     memcmp(r.body, http_cases[i].body, r.body_len) == 0)));
	}
	T_CHECK("sts-mode-names", strcmp(mtasts_mode_name(MTASTS_MODE_ENFORCE), "enforce") == 0 &&
	        strcmp(mtasts_mode_name(MTASTS_MODE_TESTING), "testing") == 0);
	T_DONE();
}
