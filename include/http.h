/* The exporter's HTTP/1.x request parser: a request head (request line and
 * headers, ending in an empty line) and a /probe query string, from bytes
 * a client chose. Pure (no I/O, no allocation), bounded by the caller's
 * buffer, unit-tested and fuzzed; serve.c does the sockets. */
#ifndef SP_HTTP_H
#define SP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

enum http_method { HTTP_GET, HTTP_HEAD };

/* Pointers into the parsed buffer; never NUL-terminated. */
struct http_request {
	enum http_method method;
	const char *path;           /* starts with '/' */
	size_t pathlen;
	const char *query;          /* after '?', NULL when there is none */
	size_t querylen;
	const char *headers;        /* the lines after the request line */
	size_t headerslen;
};

/* Where the head in buf[0..n) ends (the index after its empty line: CRLF
 * CRLF or LF LF), looking from `from` on; 0 while it has not ended. */
size_t http_head_end(const char *buf, size_t n, size_t from);

/* Parses a complete head buf[0..len). 0, or the status to refuse with
 * (400 malformed, 405 a method other than GET or HEAD) and *why, a fixed
 * message that never quotes the request. */
int http_parse_request(const char *buf, size_t len, struct http_request *rq,
                       const char **why);

/* One application/x-www-form-urlencoded component, strictly: %XX needs two
 * hex digits, '+' is a space, and the result must be printable ASCII
 * (which keeps NUL, CR and LF out of everything downstream) and fit out
 * with its NUL. 0, or -1. */
int http_pct_decode(const char *s, size_t n, char *out, size_t outlen);

enum http_query_rc {
	HTTPQ_OK = 0,
	HTTPQ_NO_VALUE,             /* "name" without '=' */
	HTTPQ_UNKNOWN,              /* a name not in names[] (or undecodable) */
	HTTPQ_TWICE,                /* a name given twice */
	HTTPQ_BAD_VALUE             /* a value too long, badly encoded or not printable */
};

/* Splits q[0..qlen) ("a=1&b=2", empty parts skipped) into the values of
 * the names it knows: names[k]'s decoded value in vals + k * valsz, have[k]
 * set. Nothing is kept from the request but the decoded values. */
enum http_query_rc http_query_parse(const char *q, size_t qlen, const char *const *names,
                                    size_t nnames, char *vals, size_t valsz, bool *have);

#endif
