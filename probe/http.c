/* The exporter's HTTP/1.x request parser (see http.h). Accepts what
 * Prometheus, curl and browsers send and nothing more: a request line
 * "METHOD SP origin-form SP HTTP/1.x", GET or HEAD, no NUL anywhere. */
#include <ctype.h>
#include <string.h>

#include "http.h"

/* The empty line may end in CRLF or a bare LF, whatever ended the line
 * before it (clients mix them): LF LF, LF CR LF, CRLF LF, CRLF CRLF. */
size_t http_head_end(const char *buf, size_t n, size_t from)
{
	for (size_t i = from; i < n; i++) {
		if (buf[i] != '\n')
			continue;
		if (i >= 1 && buf[i - 1] == '\n')
			return i + 1;
		if (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')
			return i + 1;
	}
	return 0;
}

int http_parse_request(const char *buf, size_t len, struct http_request *rq,
                       const char **why)
{
	const char *eol, *sp1, *sp2, *uri, *q;
	size_t linelen, urilen;

	memset(rq, 0, sizeof(*rq));
	*why = "bad request\n";
	if (len == 0 || memchr(buf, '\0', len) != NULL || (eol = memchr(buf, '\n', len)) == NULL)
		return 400;
	linelen = (size_t)(eol - buf);
	if (linelen > 0 && buf[linelen - 1] == '\r')
		linelen--;
	sp1 = memchr(buf, ' ', linelen);
	sp2 = linelen > 0 ? memrchr(buf, ' ', linelen) : NULL;
	*why = "bad request line\n";
	if (sp1 == NULL || sp1 == sp2 || sp1 == buf)
		return 400;
	*why = "bad request line: want HTTP/1.0 or HTTP/1.1\n";
	if ((size_t)(buf + linelen - sp2 - 1) != 8 ||
	    (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0 && memcmp(sp2 + 1, "HTTP/1.0", 8) != 0))
		return 400;
	if ((size_t)(sp1 - buf) == 3 && memcmp(buf, "GET", 3) == 0) {
		rq->method = HTTP_GET;
	} else if ((size_t)(sp1 - buf) == 4 && memcmp(buf, "HEAD", 4) == 0) {
		rq->method = HTTP_HEAD;
	} else {
		*why = "method not allowed: GET or HEAD\n";
		return 405;
	}
	uri = sp1 + 1;
	urilen = (size_t)(sp2 - uri);
	*why = "bad request target\n";
	if (urilen == 0 || uri[0] != '/' || memchr(uri, ' ', urilen) != NULL)
		return 400;
	q = memchr(uri, '?', urilen);
	rq->path = uri;
	rq->pathlen = q ? (size_t)(q - uri) : urilen;
	if (q != NULL) {
		rq->query = q + 1;
		rq->querylen = (size_t)(uri + urilen - q - 1);
	}
	rq->headers = eol + 1;
	rq->headerslen = len - (size_t)(eol + 1 - buf);
	*why = NULL;
	return 0;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int http_pct_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	if (outlen == 0)
		return -1;
	for (i = 0; i < n; i++) {
		int ch = (unsigned char)s[i];

		if (ch == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			ch = hi * 16 + lo;
			i += 2;
		} else if (ch == '+') {
			ch = ' ';
		}
		if (ch < 0x20 || ch > 0x7e || o + 1 >= outlen)
			return -1;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	return 0;
}

enum http_query_rc http_query_parse(const char *q, size_t qlen, const char *const *names,
                                    size_t nnames, char *vals, size_t valsz, bool *have)
{
	const char *p = q, *end = q + qlen;

	memset(have, 0, nnames * sizeof(have[0]));
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
		char name[32];
		size_t k;

		if (amp == NULL)
			amp = end;
		if (amp == p) {
			p++;
			continue;
		}
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			return HTTPQ_NO_VALUE;
		if (http_pct_decode(p, (size_t)(eq - p), name, sizeof(name)) != 0)
			return HTTPQ_UNKNOWN;
		for (k = 0; k < nnames; k++)
			if (strcmp(name, names[k]) == 0)
				break;
		if (k == nnames)
			return HTTPQ_UNKNOWN;
		if (have[k])
			return HTTPQ_TWICE;
		if (http_pct_decode(eq + 1, (size_t)(amp - eq - 1), vals + k * valsz, valsz) != 0)
			return HTTPQ_BAD_VALUE;
		have[k] = true;
		p = amp;
	}
	return HTTPQ_OK;
}
