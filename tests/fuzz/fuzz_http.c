/* libFuzzer target for the exporter's request parser: any bytes give a
 * parsed request whose pieces lie inside the input, or a refusal with a
 * status and a fixed message; the query decoder never writes past its
 * slots and yields only printable ASCII. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && p + n <= buf + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "target", "module", "servername", "warn_days",
	                                     "crit_days", "debug" };
	char buf[8192], vals[6][64];
	bool have[6];
	struct http_request rq;
	const char *why;
	size_t end;
	int rc;

	if (size > sizeof buf)
		size = sizeof buf;
	memcpy(buf, data, size);
	end = http_head_end(buf, size, 0);
	if (end > size)
		abort();
	rc = http_parse_request(buf, end ? end : size, &rq, &why);
	if (rc != 0) {
		if ((rc != 400 && rc != 405) || why == NULL || why[strlen(why) - 1] != '\n')
			abort();
		return 0;
	}
	if (!inside(rq.path, rq.pathlen, buf, size) || rq.pathlen == 0 || rq.path[0] != '/' ||
	    (rq.query != NULL && !inside(rq.query, rq.querylen, buf, size)) ||
	    !inside(rq.headers, rq.headerslen, buf, size))
		abort();
	if (rq.query != NULL &&
	    http_query_parse(rq.query, rq.querylen, names, 6, &vals[0][0], sizeof vals[0], have) ==
	    HTTPQ_OK)
		for (size_t k = 0; k < 6; k++)
			for (const char *p = vals[k]; have[k] && *p; p++)
				if (*p < 0x20 || *p > 0x7e)
					abort();
	return 0;
}
