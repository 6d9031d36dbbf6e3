/* MTA-STS (RFC 8461) and SMTP TLS Reporting (RFC 8460) for a mail domain:
 * the _mta-sts TXT record, the policy fetched over HTTPS, the _smtp._tls
 * TXT record. The parsers are pure and fuzzable; the check runs on the loop
 * beside the MX audit, which then holds every MX host against the policy. */
#ifndef SP_MTASTS_H
#define SP_MTASTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dns.h"
#include "loop.h"
#include "result.h"
#include "tlsio.h"

#define MTASTS_MAX_MX      16          /* mx patterns kept of a policy */
#define MTASTS_MAX_AGE     31557600u   /* RFC 8461 3.2: at most one year */
#define MTASTS_POLICY_MAX  65536       /* RFC 8461 3.3: bytes of a policy body */
#define TLSRPT_MAX_RUA     8

/* ---- pure parsers ---- */

struct mtasts_txt {
	char id[33];                      /* 1*32 ALPHA / DIGIT */
};
/* "v=STSv1; id=...": 0, or -1 with a reason in err. */
int mtasts_txt_parse(const char *s, size_t n, struct mtasts_txt *t, char *err, size_t errlen);

enum mtasts_mode { MTASTS_MODE_UNSET = 0, MTASTS_MODE_NONE, MTASTS_MODE_TESTING,
                   MTASTS_MODE_ENFORCE };
const char *mtasts_mode_name(enum mtasts_mode m);   /* "none", "testing", "enforce" */

struct mtasts_policy {
	enum mtasts_mode mode;
	bool has_version, has_max_age;
	uint32_t max_age;                 /* seconds */
	char mx[MTASTS_MAX_MX][254];      /* patterns, as written */
	size_t nmx;
	size_t mx_total;                  /* mx lines, even if > kept */
};
/* The policy body (RFC 8461 3.2): "key: value" lines ending in CRLF (LF
 * accepted); unknown keys ignored. 0, or -1 with the first problem in err. */
int mtasts_policy_parse(const char *s, size_t n, struct mtasts_policy *p, char *err,
                        size_t errlen);

/* An mx pattern against an MX host name: case-insensitive, trailing dots
 * ignored, "*." only as the whole leftmost label and matching exactly one
 * label ("*.example.com" matches "mx.example.com", not "a.b.example.com"
 * nor "example.com"). */
bool mtasts_mx_match(const char *pattern, const char *host);

struct tlsrpt_record {
	char rua[TLSRPT_MAX_RUA][256];    /* mailto: or https: URIs */
	size_t nrua;
};
/* "v=TLSRPTv1; rua=mailto:...,https://...": 0, or -1 with a reason. */
int mtasts_tlsrpt_parse(const char *s, size_t n, struct tlsrpt_record *t, char *err,
                        size_t errlen);

/* ---- what the domain audit reports ---- */

struct mtasts_info {
	bool checked;
	char txt[256];                    /* the STSv1 TXT record, cut */
	bool txt_found, txt_valid;
	char id[33];
	char url[300];                    /* the policy URL */
	int http_status;                  /* 0: no HTTP answer */
	char content_type[96];
	bool fetched;                     /* a 200 text/plain body was read over verified TLS */
	bool policy_valid;
	struct mtasts_policy policy;
	char error[200];                  /* why there is no usable policy, "" none */
	/* "none" (no policy) | "invalid" | "fetch-failed" | "ok" | "violated" */
	char result[16];
};

struct tlsrpt_info {
	bool checked;
	bool found, valid;
	char txt[512];                    /* the record, cut */
	struct tlsrpt_record rec;
	char error[160];
};

/* ---- the check ---- */

struct mtasts_env {                   /* all borrowed */
	struct loop *loop;
	struct dns *dns;
	struct tlsio_cfg *tls;
	double timeout_ms;
};

struct mtasts_check;
typedef void (*mtasts_done_cb)(void *arg);

/* Looks up _mta-sts.DOMAIN and _smtp._tls.DOMAIN, fetches the policy when
 * the record is there, fills sts / rpt and adds findings to f / nf (at
 * most RESULT_MAX_FINDINGS). cb runs from the loop, never from inside this
 * call. The policy is fetched from port 443 (RFC 8461 3.3); for tests only,
 * $SMTP_PROBE_MTASTS_PORT names another port. */
struct mtasts_check *mtasts_check_start(const struct mtasts_env *env, const char *domain,
                                        struct mtasts_info *sts, struct tlsrpt_info *rpt,
                                        struct finding *f, size_t *nf,
                                        mtasts_done_cb cb, void *arg);
void mtasts_check_free(struct mtasts_check *c);

#endif
