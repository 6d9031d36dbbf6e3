/* libFuzzer target for the MTA-STS / TLS-RPT parsers and the HTTP response
 * parser: the first byte picks the parser, the rest is the input. Checks
 * the invariants the audit relies on (bounded, NUL-terminated fields). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "https.h"
#include "mtasts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[200];
	const char *s;
	size_t n;

	if (size == 0)
		return 0;
	s = (const char *)data + 1;
	n = size - 1;
	switch (data[0] % 5) {
	case 0: {
		struct mtasts_txt t;

		if (mtasts_txt_parse(s, n, &t, err, sizeof(err)) == 0 &&
		    (t.id[0] == '\0' || strlen(t.id) > 32))
			abort();
		break;
	}
	case 1: {
		struct mtasts_policy p;

		if (mtasts_policy_parse(s, n, &p, err, sizeof(err)) == 0) {
			if (p.mode == MTASTS_MODE_UNSET || p.max_age > MTASTS_MAX_AGE ||
			    p.nmx > MTASTS_MAX_MX || p.nmx > p.mx_total)
				abort();
			/* A plain host pattern matches its own name. */
			for (size_t i = 0; i < p.nmx; i++)
				if (strlen(p.mx[i]) > 253 ||
				    (p.mx[i][0] != '*' && !mtasts_mx_match(p.mx[i], p.mx[i])))
					abort();
		}
		break;
	}
	case 2: {
		struct tlsrpt_record r;

		if (mtasts_tlsrpt_parse(s, n, &r, err, sizeof(err)) == 0 &&
		    (r.nrua == 0 || r.nrua > TLSRPT_MAX_RUA))
			abort();
		break;
	}
	case 3: {
		char *copy = malloc(n ? n : 1);
		struct https_response r;

		if (copy == NULL)
			return 0;
		memcpy(copy, s, n);
		memset(&r, 0, sizeof(r));
		if (https_parse_response(copy, n, 1024, &r) == 0 &&
		    (r.body_len > 1024 || r.body < copy || r.body + r.body_len > copy + n))
			abort();
		free(copy);
		break;
	}
	default: {
		/* pattern NUL host */
		const char *nul = memchr(s, '\0', n);
		char pat[300], host[300];
		size_t pl, hl;

		if (nul == NULL)
			return 0;
		pl = (size_t)(nul - s);
		hl = n - pl - 1;
		if (pl >= sizeof(pat) || hl >= sizeof(host))
			return 0;
		memcpy(pat, s, pl);
		pat[pl] = '\0';
		memcpy(host, nul + 1, hl);
		host[hl] = '\0';
		(void)mtasts_mx_match(pat, host);
		break;
	}
	}
	return 0;
}
