/* http.c: the exporter's request parser. Every form Prometheus, curl and
 * browsers send is taken, every malformed one refused with the status and
 * message a client sees; the query decoder is strict. */
#include <stdbool.h>
#include "t.h"
#include "http.h"

#define REQ(s) (s), sizeof(s) - 1

static bool span(const char *p, size_t n, const char *want)
{
	return p != NULL && n == strlen(want) && memcmp(p, want, n) == 0;
}

static void test_request(void)
{
	struct http_request rq;
	const char *why;

	T_CHECK("GET with a query", http_parse_request(REQ("GET /probe?target=mx1.test HTTP/1.1\r\n"
	        "Host: x\r\n\r\n"), &rq, &why) == 0 && rq.method == HTTP_GET &&
	        span(rq.path, rq.pathlen, "/probe") && span(rq.query, rq.querylen, "target=mx1.test") &&
	        span(rq.headers, rq.headerslen, "Host: x\r\n\r\n") && why == NULL);
	T_CHECK("HEAD, HTTP/1.0, LF only", http_parse_request(REQ("HEAD /metrics HTTP/1.0\n\n"), &rq,
	        &why) == 0 && rq.method == HTTP_HEAD && span(rq.path, rq.pathlen, "/metrics") &&
	        rq.query == NULL && rq.querylen == 0);
	T_CHECK("empty query after '?'", http_parse_request(REQ("GET /probe? HTTP/1.1\r\n\r\n"), &rq,
	        &why) == 0 && rq.query != NULL && rq.querylen == 0);
	T_CHECK("POST: 405", http_parse_request(REQ("POST /probe HTTP/1.1\r\n\r\n"), &rq, &why) == 405 &&
	        strcmp(why, "method not allowed: GET or HEAD\n") == 0);
	T_CHECK("lower-case get: 405", http_parse_request(REQ("get / HTTP/1.1\r\n\r\n"), &rq, &why) == 405);
	T_CHECK("no version: 400", http_parse_request(REQ("GET /probe\r\n\r\n"), &rq, &why) == 400 &&
	        strcmp(why, "bad request line\n") == 0);
	T_CHECK("HTTP/2.0: 400", http_parse_request(REQ("GET / HTTP/2.0\r\n\r\n"), &rq, &why) == 400 &&
	        strcmp(why, "bad request line: want HTTP/1.0 or HTTP/1.1\n") == 0);
	T_CHECK("absolute-form target: 400", http_parse_request(REQ("GET http://x/ HTTP/1.1\r\n\r\n"),
	        &rq, &why) == 400 && strcmp(why, "bad request target\n") == 0);
	T_CHECK("space inside the target: 400", http_parse_request(REQ("GET /a b HTTP/1.1\r\n\r\n"),
	        &rq, &why) == 400);
	T_CHECK("NUL in the head: 400", http_parse_request(REQ("GET /\0 HTTP/1.1\r\n\r\n"), &rq,
	        &why) == 400 && strcmp(why, "bad request\n") == 0);
	T_CHECK("no line end: 400", http_parse_request(REQ("GET / HTTP/1.1"), &rq, &why) == 400);
	T_CHECK("empty: 400", http_parse_request("", 0, &rq, &why) == 400);
	T_CHECK("leading space: 400", http_parse_request(REQ(" GET / HTTP/1.1\r\n\r\n"), &rq, &why) == 400);
}

static void test_head_end(void)
{
	static const char crlf[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\nrest";
	static const char lf[] = "GET / HTTP/1.1\nHost: x\n\n";

	T_CHECK("head end: CRLF CRLF", http_head_end(crlf, sizeof(crlf) - 1, 0) == sizeof(crlf) - 5);
	T_CHECK("head end: LF LF", http_head_end(lf, sizeof(lf) - 1, 0) == sizeof(lf) - 1);
	T_CHECK("head end: not yet", http_head_end(crlf, 20, 0) == 0);
	T_CHECK("head end: LF then CRLF", http_head_end(REQ("GET / HTTP/1.1\nHost: x\n\r\n"), 0) ==
	        sizeof("GET / HTTP/1.1\nHost: x\n\r\n") - 1);
	T_CHECK("head end: CRLF then LF", http_head_end(REQ("GET / HTTP/1.1\r\nHost: x\r\n\n"), 0) ==
	        sizeof("GET / HTTP/1.1\r\nHost: x\r\n\n") - 1);
	T_CHECK("head end: a lone CR is not a line", http_head_end(REQ("GET / HTTP/1.1\r\r\r"), 0) == 0);
	T_CHECK("head end: found from a later offset", http_head_end(crlf, sizeof(crlf) - 1, 20) ==
	        sizeof(crlf) - 5);
}

static void test_decode(void)
{
	char out[16];

	T_CHECK("decode: %2F and '+'", http_pct_decode("a%2Fb+c", 7, out, sizeof out) == 0 &&
	        strcmp(out, "a/b c") == 0);
	T_CHECK("decode: upper- and lower-case hex", http_pct_decode("%3a%3A", 6, out, sizeof out) == 0 &&
	        strcmp(out, "::") == 0);
	T_CHECK("decode: %00 refused", http_pct_decode("a%00b", 5, out, sizeof out) != 0);
	T_CHECK("decode: %0D%0A refused", http_pct_decode("%0D%0A", 6, out, sizeof out) != 0);
	T_CHECK("decode: %zz refused", http_pct_decode("%zz", 3, out, sizeof out) != 0);
	T_CHECK("decode: truncated %4", http_pct_decode("a%4", 3, out, sizeof out) != 0);
	T_CHECK("decode: non-ASCII refused", http_pct_decode("%C3%BC", 6, out, sizeof out) != 0);
	T_CHECK("decode: raw control refused", http_pct_decode("a\tb", 3, out, sizeof out) != 0);
	T_CHECK("decode: exactly fits", http_pct_decode("123456789012345", 15, out, sizeof out) == 0);
	T_CHECK("decode: one too long", http_pct_decode("1234567890123456", 16, out, sizeof out) != 0);
	T_CHECK("decode: empty", http_pct_decode("", 0, out, sizeof out) == 0 && out[0] == '\0');
}

static const char *const qnames[] = { "target", "module", "debug" };
static char vals[3][32];
static bool have[3];

/* The exporter's parameters, slots of 32 bytes. */
static enum http_query_rc parse(const char *q)
{
	return http_query_parse(q, strlen(q), qnames, 3, &vals[0][0], 32, have);
}

static void test_query(void)
{
	/* Queries refused as a whole, and why. */
	static const struct {
		const char *name, *q;
		enum http_query_rc want;
	} bad[] = {
		{ "query: no '='", "target", HTTPQ_NO_VALUE },
		{ "query: repeated", "target=a&target=b", HTTPQ_TWICE },
		{ "query: unknown", "other=1", HTTPQ_UNKNOWN },
		{ "query: NUL value", "target=%00", HTTPQ_BAD_VALUE },
		{ "query: value longer than its slot", "target=0123456789012345678901234567890123",
		  HTTPQ_BAD_VALUE },
		{ "query: over-long name", "targetxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=1",
		  HTTPQ_UNKNOWN },
	};

	T_CHECK("query: two known parameters", parse("target=mx1.test%3A25&debug=true") == HTTPQ_OK &&
	        have[0] && !have[1] && have[2] &&
	        strcmp(vals[0], "mx1.test:25") == 0 && strcmp(vals[2], "true") == 0);
	T_CHECK("query: empty parts skipped", parse("&&target=a&") == HTTPQ_OK && have[0] &&
	        strcmp(vals[0], "a") == 0);
	T_CHECK("query: empty value is a value", parse("target=") == HTTPQ_OK && have[0] &&
	        vals[0][0] == '\0');
	T_CHECK("query: encoded name decoded", parse("tar%67et=a") == HTTPQ_OK && have[0]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_CHECK(bad[i].name, parse(bad[i].q) == bad[i].want);
}

int main(void)
{
	test_request();
	test_head_end();
	test_decode();
	test_query();
	T_DONE();
}
