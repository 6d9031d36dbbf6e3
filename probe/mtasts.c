/* MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): the record and policy parsers
 * (pure, bounded, fuzzable), and the lookup + HTTPS fetch that feed the
 * domain audit. A sender that finds no valid record, or cannot fetch or
 * parse the policy, acts as if there were no policy: each of those cases
 * is a finding of its own, so the operator sees which step broke. */
#include "mtasts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "https.h"
#include "xmalloc.h"

const char *mtasts_mode_name(enum mtasts_mode m)
{
	static const char *const names[] = { "unset", "none", "testing", "enforce" };

	_Static_assert(sizeof(names) / sizeof(names[0]) == MTASTS_MODE_ENFORCE + 1, "modes");
	return (unsigned)m <= MTASTS_MODE_ENFORCE ? names[m] : "unset";
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits s[0..n) at ';' into fields with surrounding WSP trimmed; calls
 * fn for each non-empty one. A trailing ';' is allowed (RFC 8461 3.1,
 * RFC 8460 3). Returns -1 as soon as fn does. */
typedef int (*field_fn)(void *ctx, size_t index, const char *f, size_t n, char *err,
                        size_t errlen);

static int split_fields(const char *s, size_t n, field_fn fn, void *ctx, char *err,
                        size_t errlen)
{
	size_t i = 0, index = 0;

	while (i <= n) {
		size_t a = i, b;

		while (i < n && s[i] != ';')
			i++;
		b = i;
		while (a < b && is_wsp(s[a]))
			a++;
		while (b > a && is_wsp(s[b - 1]))
			b--;
		if (b == a) {
			/* Only the last field may be empty (trailing delimiter). */
			if (i < n || index == 0) {
				snprintf(err, errlen, "empty field");
				return -1;
			}
		} else if (fn(ctx, index++, s + a, b - a, err, errlen) != 0) {
			return -1;
		}
		i++;
	}
	return 0;
}

/* key=value with key 1*32 of ALPHA / DIGIT / "_" / "-" / "." and a value of
 * visible ASCII without ';' '=' (RFC 8461 sts-ext, RFC 8460 tlsrpt-ext). */
static int split_kv(const char *f, size_t n, const char **k, size_t *kn, const char **v,
                    size_t *vn, char *err, size_t errlen)
{
	const char *eq = memchr(f, '=', n);
	size_t i;

	if (eq == NULL || eq == f) {
		snprintf(err, errlen, "field '%.*s' is not key=value", (int)(n > 40 ? 40 : n), f);
		return -1;
	}
	*k = f;
	*kn = (size_t)(eq - f);
	*v = eq + 1;
	*vn = n - *kn - 1;
	if (*kn > 32) {
		snprintf(err, errlen, "field name too long");
		return -1;
	}
	for (i = 0; i < *kn; i++)
		if (!isalnum((unsigned char)f[i]) && f[i] != '_' && f[i] != '-' && f[i] != '.') {
			snprintf(err, errlen, "bad character in field name '%.*s'", (int)*kn, f);
			return -1;
		}
	return 0;
}

static bool visible_value(const char *v, size_t n, bool allow_eq)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x21 || c > 0x7e || c == ';' || (c == '=' && !allow_eq))
			return false;
	}
	return true;
}

struct txt_ctx {
	struct mtasts_txt *t;
	bool have_id;
};

static int txt_field(void *ctx, size_t index, const char *f, size_t n, char *err,
                     size_t errlen)
{
	struct txt_ctx *c = ctx;
	const char *k, *v;
	size_t kn, vn;

	if (index == 0) {
		/* RFC 8461 3.1: "v=STSv1" first, case-sensitive. */
		if (n != 7 || memcmp(f, "v=STSv1", 7) != 0) {
			snprintf(err, errlen, "the record does not start with v=STSv1");
			return -1;
		}
		return 0;
	}
	if (split_kv(f, n, &k, &kn, &v, &vn, err, errlen) != 0)
		return -1;
	if (kn == 2 && memcmp(k, "id", 2) == 0) {
		if (c->have_id) {
			snprintf(err, errlen, "more than one id field");
			return -1;
		}
		if (vn == 0 || vn > 32) {
			snprintf(err, errlen, "id must be 1 to 32 letters or digits (got %zu characters)",
			         vn);
			return -1;
		}
		for (size_t i = 0; i < vn; i++)
			if (!isalnum((unsigned char)v[i])) {
				snprintf(err, errlen, "id contains '%c': only letters and digits are allowed",
				         isprint((unsigned char)v[i]) ? v[i] : '?');
				return -1;
			}
		memcpy(c->t->id, v, vn);
		c->t->id[vn] = '\0';
		c->have_id = true;
		return 0;
	}
	if (!visible_value(v, vn, false)) {
		snprintf(err, errlen, "bad value of field '%.*s'", (int)kn, k);
		return -1;
	}
	return 0;   /* extension field: ignored */
}

/* What both TXT formats refuse before looking at fields. */
static int record_bytes_ok(const char *s, size_t n, char *err, size_t errlen)
{
	if (n == 0) {
		snprintf(err, errlen, "empty record");
		return -1;
	}
	if (memchr(s, '\0', n) != NULL) {
		snprintf(err, errlen, "the record contains a NUL byte");
		return -1;
	}
	return 0;
}

int mtasts_txt_parse(const char *s, size_t n, struct mtasts_txt *t, char *err, size_t errlen)
{
	struct txt_ctx c = { t, false };

	memset(t, 0, sizeof(*t));
	if (record_bytes_ok(s, n, err, errlen) != 0)
		return -1;
	if (split_fields(s, n, txt_field, &c, err, errlen) != 0)
		return -1;
	if (!c.have_id) {
		snprintf(err, errlen, "no id field");
		return -1;
	}
	return 0;
}

/* A host name or "*."-prefixed pattern: LDH labels of 1..63, total <= 253. */
static bool mx_pattern_ok(const char *p, size_t n)
{
	size_t label = 0;

	if (n >= 2 && p[0] == '*' && p[1] == '.') {
		p += 2;
		n -= 2;
	}
	if (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)c) || c == '-' || c == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

int mtasts_policy_parse(const char *s, size_t n, struct mtasts_policy *p, char *err,
                        size_t errlen)
{
	size_t i = 0, line_no = 0;

	memset(p, 0, sizeof(*p));
	if (n > MTASTS_POLICY_MAX) {
		snprintf(err, errlen, "the policy is larger than %d bytes", MTASTS_POLICY_MAX);
		return -1;
	}
	while (i < n) {
		size_t a = i, e, ke, vs, ve;
		const char *key;

		while (i < n && s[i] != '\n')
			i++;
		e = i;
		if (i < n)
			i++;
		line_no++;
		if (e > a && s[e - 1] == '\r')
			e--;
		if (e == a)
			continue;                /* blank line (a trailing CRLF, say) */
		if (memchr(s + a, '\0', e - a) != NULL) {
			snprintf(err, errlen, "line %zu contains a NUL byte", line_no);
			return -1;
		}
		/* key *WSP ":" *WSP value *WSP */
		ke = a;
		while (ke < e && (isalnum((unsigned char)s[ke]) || s[ke] == '_' || s[ke] == '-' ||
		                  s[ke] == '.'))
			ke++;
		vs = ke;
		while (vs < e && is_wsp(s[vs]))
			vs++;
		if (ke == a || vs >= e || s[vs] != ':') {
			snprintf(err, errlen, "line %zu is not \"key: value\"", line_no);
			return -1;
		}
		vs++;
		while (vs < e && is_wsp(s[vs]))
			vs++;
		ve = e;
		while (ve > vs && is_wsp(s[ve - 1]))
			ve--;
		key = s + a;
#define KEY_IS(lit) (ke - a == sizeof(lit) - 1 && memcmp(key, lit, sizeof(lit) - 1) == 0)
		if (KEY_IS("version")) {
			if (ve - vs != 5 || memcmp(s + vs, "STSv1", 5) != 0) {
				snprintf(err, errlen, "version is \"%.*s\", not STSv1",
				         (int)(ve - vs > 20 ? 20 : ve - vs), s + vs);
				return -1;
			}
			if (p->has_version) {
				snprintf(err, errlen, "version appears twice");
				return -1;
			}
			p->has_version = true;
		} else if (KEY_IS("mode")) {
			enum mtasts_mode m = MTASTS_MODE_UNSET;

			if (ve - vs == 7 && memcmp(s + vs, "enforce", 7) == 0)
				m = MTASTS_MODE_ENFORCE;
			else if (ve - vs == 7 && memcmp(s + vs, "testing", 7) == 0)
				m = MTASTS_MODE_TESTING;
			else if (ve - vs == 4 && memcmp(s + vs, "none", 4) == 0)
				m = MTASTS_MODE_NONE;
			if (m == MTASTS_MODE_UNSET) {
				snprintf(err, errlen, "mode is \"%.*s\", not enforce, testing or none",
				         (int)(ve - vs > 20 ? 20 : ve - vs), s + vs);
				return -1;
			}
			if (p->mode != MTASTS_MODE_UNSET) {
				snprintf(err, errlen, "mode appears twice");
				return -1;
			}
			p->mode = m;
		} else if (KEY_IS("max_age")) {
			uint64_t v = 0;

			if (ve == vs || ve - vs > 10) {
				snprintf(err, errlen, "max_age must be 1 to 10 digits");
				return -1;
			}
			for (size_t k = vs; k < ve; k++) {
				if (!isdigit((unsigned char)s[k])) {
					snprintf(err, errlen, "max_age is not a number");
					return -1;
				}
				v = v * 10 + (uint64_t)(s[k] - '0');
			}
			if (v > MTASTS_MAX_AGE) {
				snprintf(err, errlen, "max_age %llu is above the maximum %u (one year)",
				         (unsigned long long)v, MTASTS_MAX_AGE);
				return -1;
			}
			if (p->has_max_age) {
				snprintf(err, errlen, "max_age appears twice");
				return -1;
			}
			p->has_max_age = true;
			p->max_age = (uint32_t)v;
		} else if (KEY_IS("mx")) {
			if (!mx_pattern_ok(s + vs, ve - vs)) {
				snprintf(err, errlen, "mx \"%.*s\" is not a host name or *.domain pattern",
				         (int)(ve - vs > 60 ? 60 : ve - vs), s + vs);
				return -1;
			}
			p->mx_total++;
			if (p->nmx < MTASTS_MAX_MX) {
				memcpy(p->mx[p->nmx], s + vs, ve - vs);
				p->mx[p->nmx][ve - vs] = '\0';
				p->nmx++;
			}
		}
		/* Other keys: extensions, ignored (RFC 8461 3.2). */
#undef KEY_IS
	}
	if (!p->has_version) {
		snprintf(err, errlen, "no version field");
		return -1;
	}
	if (p->mode == MTASTS_MODE_UNSET) {
		snprintf(err, errlen, "no mode field");
		return -1;
	}
	if (!p->has_max_age) {
		snprintf(err, errlen, "no max_age field");
		return -1;
	}
	if (p->mx_total == 0 && p->mode != MTASTS_MODE_NONE) {
		snprintf(err, errlen, "no mx field (required unless mode is none)");
		return -1;
	}
	return 0;
}

/* Copies s without one trailing dot; false if empty or too long. */
static bool norm_name(const char *s, char *out, size_t outlen)
{
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n >= outlen)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

bool mtasts_mx_match(const char *pattern, const char *host)
{
	char p[256], h[256];
	const char *dot;

	if (!norm_name(pattern, p, sizeof(p)) || !norm_name(host, h, sizeof(h)))
		return false;
	if (p[0] == '*' && p[1] == '.') {
		/* RFC 8461 4.1: the wildcard stands for exactly one label. */
		dot = strchr(h, '.');
		if (dot == NULL || dot == h || p[2] == '\0')
			return false;
		return strcasecmp(dot + 1, p + 2) == 0;
	}
	if (strchr(p, '*') != NULL)
		return false;
	return strcasecmp(p, h) == 0;
}

struct rpt_ctx {
	struct tlsrpt_record *t;
	bool have_rua;
};

static int rpt_uri(struct tlsrpt_record *t, const char *u, size_t n, char *err, size_t errlen)
{
	if (n > 7 && strncasecmp(u, "mailto:", 7) == 0) {
		const char *at = memchr(u + 7, '@', n - 7);

		if (at == NULL || at == u + 7 || at == u + n - 1) {
			snprintf(err, errlen, "rua \"%.*s\" is not a mailto: address",
			         (int)(n > 80 ? 80 : n), u);
			return -1;
		}
	} else if (n > 8 && strncasecmp(u, "https://", 8) == 0) {
		if (u[8] == '/' || u[8] == '\0') {
			snprintf(err, errlen, "rua \"%.*s\" has no host", (int)(n > 80 ? 80 : n), u);
			return -1;
		}
	} else {
		snprintf(err, errlen, "rua \"%.*s\" is neither mailto: nor https:",
		         (int)(n > 80 ? 80 : n), u);
		return -1;
	}
	if (!visible_value(u, n, true)) {
		snprintf(err, errlen, "rua contains spaces or control characters");
		return -1;
	}
	if (t->nrua < TLSRPT_MAX_RUA) {
		size_t k = n < sizeof(t->rua[0]) - 1 ? n : sizeof(t->rua[0]) - 1;

		memcpy(t->rua[t->nrua], u, k);
		t->rua[t->nrua][k] = '\0';
		t->nrua++;
	}
	return 0;
}

static int rpt_field(void *ctx, size_t index, const char *f, size_t n, char *err,
                     size_t errlen)
{
	struct rpt_ctx *c = ctx;
	const char *k, *v;
	size_t kn, vn, i;

	if (index == 0) {
		if (n != 10 || memcmp(f, "v=TLSRPTv1", 10) != 0) {
			snprintf(err, errlen, "the record does not start with v=TLSRPTv1");
			return -1;
		}
		return 0;
	}
	if (split_kv(f, n, &k, &kn, &v, &vn, err, errlen) != 0)
		return -1;
	if (kn == 3 && memcmp(k, "rua", 3) == 0) {
		if (c->have_rua) {
			snprintf(err, errlen, "more than one rua field");
			return -1;
		}
		c->have_rua = true;
		/* tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri) */
		i = 0;
		while (i <= vn) {
			size_t a = i, b;

			while (i < vn && v[i] != ',')
				i++;
			b = i;
			while (a < b && is_wsp(v[a]))
				a++;
			while (b > a && is_wsp(v[b - 1]))
				b--;
			if (b == a) {
				snprintf(err, errlen, "empty rua URI");
				return -1;
			}
			if (rpt_uri(c->t, v + a, b - a, err, errlen) != 0)
				return -1;
			i++;
		}
		return 0;
	}
	if (!visible_value(v, vn, false)) {
		snprintf(err, errlen, "bad value of field '%.*s'", (int)kn, k);
		return -1;
	}
	return 0;
}

int mtasts_tlsrpt_parse(const char *s, size_t n, struct tlsrpt_record *t, char *err,
                        size_t errlen)
{
	struct rpt_ctx c = { t, false };

	memset(t, 0, sizeof(*t));
	if (record_bytes_ok(s, n, err, errlen) != 0)
		return -1;
	if (split_fields(s, n, rpt_field, &c, err, errlen) != 0)
		return -1;
	if (!c.have_rua) {
		snprintf(err, errlen, "no rua field (where reports go)");
		return -1;
	}
	return 0;
}

/* ---- the check ---- */

struct mtasts_check {
	struct mtasts_env env;
	char domain[256];
	struct mtasts_info *sts;          /* borrowed */
	struct tlsrpt_info *rpt;          /* borrowed */
	struct finding *f;                /* borrowed */
	size_t *nf;
	struct dns_query *q_sts, *q_rpt;  /* owned until their callbacks */
	struct https_get *get;            /* owned */
	int pending;                      /* steps still to answer (+1 while starting) */
	bool sts_called, rpt_called;      /* their callbacks ran (maybe from inside the call) */
	struct loop_timer deliver;
	mtasts_done_cb cb;
	void *arg;
};

static void add(struct mtasts_check *c, enum severity sev, const char *code,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add(struct mtasts_check *c, enum severity sev, const char *code,
                const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	findings_vadd(c->f, c->nf, sev, code, fmt, ap);
	va_end(ap);
}

static void step_done(struct mtasts_check *c)
{
	if (--c->pending == 0)
		loop_timer_set(c->env.loop, &c->deliver, 0);
}

static void deliver(struct loop *l, void *arg)
{
	struct mtasts_check *c = arg;

	(void)l;
	c->cb(c->arg);
}

/* The TXT strings of one record joined (RFC 7208 3.3 style, as RFC 8461
 * 3.1 asks); cut at outlen - 1. Returns the full length. */
static size_t txt_join(const ares_dns_rr_t *rr, char *out, size_t outlen)
{
	size_t cnt = ares_dns_rr_get_abin_cnt(rr, ARES_RR_TXT_DATA), total = 0, o = 0;

	for (size_t i = 0; i < cnt; i++) {
		size_t len = 0;
		const unsigned char *p = ares_dns_rr_get_abin(rr, ARES_RR_TXT_DATA, i, &len);

		if (p == NULL)
			continue;
		for (size_t k = 0; k < len; k++) {
			if (o + 1 < outlen)
				out[o++] = (char)p[k];
			total++;
		}
	}
	if (outlen > 0)
		out[o] = '\0';
	return total;
}

/* The TXT records at name that start with prefix: how many, and the first
 * (joined, cut to outlen) in out. */
static size_t txt_pick(const ares_dns_record_t *rec, const char *prefix, char *out,
                       size_t outlen, size_t *full_len)
{
	size_t i, n = ares_dns_record_rr_cnt(rec, ARES_SECTION_ANSWER), found = 0;
	char buf[1024];

	for (i = 0; i < n; i++) {
		const ares_dns_rr_t *rr = ares_dns_record_rr_get_const(rec, ARES_SECTION_ANSWER, i);
		size_t len;

		if (ares_dns_rr_get_type(rr) != ARES_REC_TYPE_TXT)
			continue;
		len = txt_join(rr, buf, sizeof(buf));
		if (strncmp(buf, prefix, strlen(prefix)) != 0)
			continue;
		if (found++ == 0) {
			snprintf(out, outlen, "%s", buf);
			*full_len = len < sizeof(buf) ? len : sizeof(buf) - 1;
		}
	}
	return found;
}

static void on_policy(void *arg, const struct https_response *r)
{
	struct mtasts_check *c = arg;
	struct mtasts_info *s = c->sts;
	char err[200];

	s->http_status = r->status;
	snprintf(s->content_type, sizeof(s->content_type), "%s", r->content_type);
	if (r->error[0] != '\0' && r->status == 0) {
		snprintf(s->error, sizeof(s->error), "%s", r->error);
		snprintf(s->result, sizeof(s->result), "fetch-failed");
		add(c, SEV_WARNING, "mta-sts-fetch-failed",
		    "the MTA-STS policy %s could not be fetched (%s): senders act as if there "
		    "were no policy", s->url, r->error);
	} else if (r->status != 200) {
		snprintf(s->error, sizeof(s->error), "HTTP status %d%s%s", r->status,
		         r->location[0] ? ", redirect to " : "", r->location);
		snprintf(s->result, sizeof(s->result), "fetch-failed");
		if (r->status >= 300 && r->status < 400)
			add(c, SEV_WARNING, "mta-sts-redirect",
			    "the MTA-STS policy %s answers HTTP %d (redirect to %.120s): RFC 8461 3.3 "
			    "forbids following redirects, so senders see no policy", s->url, r->status,
			    r->location[0] ? r->location : "nowhere");
		else
			add(c, SEV_WARNING, "mta-sts-fetch-failed",
			    "the MTA-STS policy %s answers HTTP %d, not 200: senders see no policy",
			    s->url, r->status);
	} else if (r->error[0] != '\0') {
		snprintf(s->error, sizeof(s->error), "%s", r->error);
		snprintf(s->result, sizeof(s->result), "fetch-failed");
		add(c, SEV_WARNING, r->too_large ? "mta-sts-policy-too-large" : "mta-sts-fetch-failed",
		    "the MTA-STS policy %s could not be read (%s): senders see no policy", s->url,
		    r->error);
	} else if (strcmp(r->content_type, "text/plain") != 0) {
		snprintf(s->error, sizeof(s->error), "Content-Type is \"%s\", not text/plain",
		         r->content_type);
		snprintf(s->result, sizeof(s->result), "invalid");
		add(c, SEV_WARNING, "mta-sts-content-type",
		    "the MTA-STS policy %s is served as \"%.60s\"; RFC 8461 3.3 requires text/plain "
		    "and senders reject anything else", s->url,
		    r->content_type[0] ? r->content_type : "(no Content-Type)");
	} else {
		s->fetched = true;
		if (mtasts_policy_parse(r->body, r->body_len, &s->policy, err, sizeof(err)) != 0) {
			snprintf(s->error, sizeof(s->error), "%s", err);
			snprintf(s->result, sizeof(s->result), "invalid");
			add(c, SEV_WARNING, "mta-sts-policy-invalid",
			    "the MTA-STS policy %s is not valid (%s): senders ignore it", s->url, err);
		} else {
			s->policy_valid = true;
			snprintf(s->result, sizeof(s->result), "ok");
			if (s->policy.max_age < 86400)
				add(c, SEV_INFO, "mta-sts-short-max-age",
				    "the MTA-STS policy's max_age is %u s (under a day): RFC 8461 3.2 "
				    "suggests weeks, so that a cached policy protects against downgrades",
				    s->policy.max_age);
		}
	}
	step_done(c);
}

static uint16_t policy_port(void)
{
	/* For tests only: RFC 8461 3.3 fixes 443. */
	const char *e = getenv("SMTP_PROBE_MTASTS_PORT");
	char *end;
	unsigned long v;

	if (e == NULL || *e == '\0')
		return 443;
	v = strtoul(e, &end, 10);
	return (*end == '\0' && v > 0 && v < 65536) ? (uint16_t)v : 443;
}

static void on_sts_txt(void *arg, enum dns_err e, const ares_dns_record_t *rec)
{
	struct mtasts_check *c = arg;
	struct mtasts_info *s = c->sts;
	struct mtasts_txt t;
	size_t n = 0, len = 0;
	char err[160], host[300];

	c->q_sts = NULL;
	c->sts_called = true;
	if (e == DNS_CANCELLED)
		return;
	if (e == DNS_OK && rec != NULL)
		n = txt_pick(rec, "v=STSv1", s->txt, sizeof(s->txt), &len);
	if (e == DNS_NXDOMAIN || e == DNS_NODATA || (e == DNS_OK && n == 0)) {
		snprintf(s->result, sizeof(s->result), "none");
		add(c, SEV_INFO, "mta-sts-missing",
		    "%s publishes no MTA-STS record (_mta-sts.%s TXT v=STSv1): senders use TLS "
		    "only opportunistically", c->domain, c->domain);
		step_done(c);
		return;
	}
	if (e != DNS_OK) {
		snprintf(s->result, sizeof(s->result), "fetch-failed");
		snprintf(s->error, sizeof(s->error), "TXT lookup: %s", dns_err_name(e));
		add(c, SEV_WARNING, "mta-sts-lookup-failed",
		    "the MTA-STS record lookup (_mta-sts.%s TXT) failed: %s", c->domain,
		    dns_err_name(e));
		step_done(c);
		return;
	}
	s->txt_found = true;
	if (n > 1) {
		snprintf(s->result, sizeof(s->result), "invalid");
		snprintf(s->error, sizeof(s->error), "%zu v=STSv1 TXT records", n);
		add(c, SEV_WARNING, "mta-sts-txt-invalid",
		    "_mta-sts.%s has %zu v=STSv1 TXT records; RFC 8461 3.1 says senders then assume "
		    "there is no policy", c->domain, n);
		step_done(c);
		return;
	}
	if (mtasts_txt_parse(s->txt, len, &t, err, sizeof(err)) != 0) {
		snprintf(s->result, sizeof(s->result), "invalid");
		snprintf(s->error, sizeof(s->error), "TXT record: %s", err);
		add(c, SEV_WARNING, "mta-sts-txt-invalid",
		    "the MTA-STS record of %s is not valid (%s): senders assume there is no policy",
		    c->domain, err);
		step_done(c);
		return;
	}
	s->txt_valid = true;
	snprintf(s->id, sizeof(s->id), "%s", t.id);
	snprintf(host, sizeof(host), "mta-sts.%s", c->domain);
	snprintf(s->url, sizeof(s->url), "https://%s/.well-known/mta-sts.txt", host);
	c->get = https_get_start(c->env.loop, c->env.dns, c->env.tls, host, policy_port(),
	                         "/.well-known/mta-sts.txt", MTASTS_POLICY_MAX, c->env.timeout_ms,
	                         on_policy, c);
	if (c->get == NULL) {
		snprintf(s->result, sizeof(s->result), "fetch-failed");
		snprintf(s->error, sizeof(s->error), "out of memory");
		step_done(c);
	}
	/* else: on_policy ends this step */
}

static void on_rpt_txt(void *arg, enum dns_err e, const ares_dns_record_t *rec)
{
	struct mtasts_check *c = arg;
	struct tlsrpt_info *t = c->rpt;
	size_t n = 0, len = 0;
	char err[160];

	c->q_rpt = NULL;
	c->rpt_called = true;
	if (e == DNS_CANCELLED)
		return;
	t->checked = true;
	if (e == DNS_OK && rec != NULL)
		n = txt_pick(rec, "v=TLSRPTv1", t->txt, sizeof(t->txt), &len);
	if (e == DNS_NXDOMAIN || e == DNS_NODATA || (e == DNS_OK && n == 0)) {
		add(c, SEV_INFO, "tls-rpt-missing",
		    "%s publishes no TLS-RPT record (_smtp._tls.%s TXT v=TLSRPTv1): senders cannot "
		    "report TLS failures to its operator", c->domain, c->domain);
	} else if (e != DNS_OK) {
		snprintf(t->error, sizeof(t->error), "TXT lookup: %s", dns_err_name(e));
		add(c, SEV_WARNING, "tls-rpt-lookup-failed",
		    "the TLS-RPT record lookup (_smtp._tls.%s TXT) failed: %s", c->domain,
		    dns_err_name(e));
	} else if (n > 1) {
		t->found = true;
		snprintf(t->error, sizeof(t->error), "%zu v=TLSRPTv1 TXT records", n);
		add(c, SEV_WARNING, "tls-rpt-invalid",
		    "_smtp._tls.%s has %zu v=TLSRPTv1 records; RFC 8460 3 says senders then ignore "
		    "them all", c->domain, n);
	} else if (mtasts_tlsrpt_parse(t->txt, len, &t->rec, err, sizeof(err)) != 0) {
		t->found = true;
		snprintf(t->error, sizeof(t->error), "%s", err);
		add(c, SEV_WARNING, "tls-rpt-invalid",
		    "the TLS-RPT record of %s is not valid (%s): no reports will be sent", c->domain,
		    err);
	} else {
		t->found = t->valid = true;
		add(c, SEV_INFO, "tls-rpt",
		    "TLS-RPT reports for %s go to %s%s", c->domain, t->rec.rua[0],
		    t->rec.nrua > 1 ? " and others" : "");
	}
	step_done(c);
}

struct mtasts_check *mtasts_check_start(const struct mtasts_env *env, const char *domain,
                                        struct mtasts_info *sts, struct tlsrpt_info *rpt,
                                        struct finding *f, size_t *nf,
                                        mtasts_done_cb cb, void *arg)
{
	struct mtasts_check *c = xcalloc(1, sizeof(*c));
	char name[300];

	c->env = *env;
	c->sts = sts;
	c->rpt = rpt;
	c->f = f;
	c->nf = nf;
	c->cb = cb;
	c->arg = arg;
	snprintf(c->domain, sizeof(c->domain), "%s", domain);
	loop_timer_init(&c->deliver, deliver, c);
	sts->checked = true;
	c->pending = 3;   /* two lookups, +1 held while starting */
	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	c->q_sts = dns_query_rr(env->dns, name, ARES_REC_TYPE_TXT, on_sts_txt, c);
	if (c->q_sts == NULL && !c->sts_called) {
		snprintf(sts->result, sizeof(sts->result), "fetch-failed");
		snprintf(sts->error, sizeof(sts->error), "cannot start the TXT lookup");
		step_done(c);
	}
	snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
	c->q_rpt = dns_query_rr(env->dns, name, ARES_REC_TYPE_TXT, on_rpt_txt, c);
	if (c->q_rpt == NULL && !c->rpt_called) {
		rpt->checked = true;
		snprintf(rpt->error, sizeof(rpt->error), "cannot start the TXT lookup");
		step_done(c);
	}
	step_done(c);
	return c;
}

void mtasts_check_free(struct mtasts_check *c)
{
	if (c == NULL)
		return;
	dns_cancel(c->q_sts);
	dns_cancel(c->q_rpt);
	https_get_free(c->get);
	loop_timer_stop(c->env.loop, &c->deliver);
	free(c);
}
