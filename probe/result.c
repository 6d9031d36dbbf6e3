/* The result model: init/clear, findings and the one place that maps
 * findings to a status (and so to the exit code). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"
#include "smtp_ehlo.h"
#include "cert.h"
#include "xmalloc.h"

const char *status_name(enum status s)
{
	static const char *const names[] = { "ok", "warning", "critical", "unknown" };
	_Static_assert(sizeof(names) / sizeof(names[0]) == ST_UNKNOWN + 1, "status names");
	return (unsigned)s <= ST_UNKNOWN ? names[s] : "unknown";
}

const char *severity_name(enum severity s)
{
	static const char *const names[] = { "info", "warning", "critical" };
	_Static_assert(sizeof(names) / sizeof(names[0]) == SEV_CRITICAL + 1, "severity names");
	return (unsigned)s <= SEV_CRITICAL ? names[s] : "critical";
}

const char *tls_mode_name(enum tls_mode m)
{
	static const char *const names[] = { "starttls", "implicit", "none" };
	_Static_assert(sizeof(names) / sizeof(names[0]) == TLS_MODE_NONE + 1, "mode names");
	return (unsigned)m <= TLS_MODE_NONE ? names[m] : "none";
}

void result_init(struct result *r)
{
	memset(r, 0, sizeof(*r));
	r->status = ST_UNKNOWN;
	r->t.dns_ms = r->t.connect_ms = r->t.greeting_ms = r->t.ehlo_ms = -1;
	r->t.starttls_ms = r->t.tls_ms = r->t.ehlo_tls_ms = r->t.total_ms = -1;
	r->warn_days = 30;
	r->crit_days = 7;
}

void result_clear(struct result *r)
{
	size_t i;

	free(r->target);
	free(r->host);
	free(r->host_unicode);
	findings_clear(r->findings, &r->nfindings);
	free(r->findings);
	free(r->attempts);
	free(r->ptr.name);
	free(r->greeting.text);
	free(r->greeting.hostname);
	smtp_ehlo_clear(&r->ehlo);
	smtp_ehlo_clear(&r->ehlo_tls);
	smtp_ehlo_clear(&r->ehlo_auth);
	free(r->auth.mechanisms);
	free(r->auth.mechanisms_tls);
	free(r->auth.reply);
	for (i = 0; i < r->tls.nerrors; i++)
		free(r->tls.errors[i]);
	tls_chain_free(&r->tls);
	for (i = 0; i < r->ntranscript; i++) {
		free(r->transcript[i].line);
		free(r->transcript[i].ev);
	}
	free(r->transcript);
	free(r->envelope);
	free(r->dane);
	result_init(r);
}

void tls_chain_free(struct tls_info *ti)
{
	for (size_t i = 0; i < ti->nchain; i++)
		cert_info_clear(&ti->chain[i]);
	free(ti->chain);
	ti->chain = NULL;
	ti->nchain = 0;
}

void tls_chain_alloc(struct tls_info *ti, size_t n)
{
	tls_chain_free(ti);
	if (n > RESULT_MAX_CHAIN)
		n = RESULT_MAX_CHAIN;
	ti->chain = n ? xcalloc(n, sizeof(*ti->chain)) : NULL;
}

void result_attempts_reserve(struct result *r, size_t more)
{
	size_t want = more > RESULT_MAX_ATTEMPTS - r->nattempts ? RESULT_MAX_ATTEMPTS :
	              r->nattempts + more;

	if (want <= r->attempts_cap)
		return;
	r->attempts = xreallocarray(r->attempts, want, sizeof(*r->attempts));
	memset(r->attempts + r->attempts_cap, 0,
	       (want - r->attempts_cap) * sizeof(*r->attempts));
	r->attempts_cap = want;
}

static bool findings_has(const struct finding *f, size_t n, const char *code)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(f[i].code, code) == 0)
			return true;
	return false;
}

bool result_has(const struct result *r, const char *code)
{
	return findings_has(r->findings, r->nfindings, code);
}

void result_drop(struct result *r, const char *code)
{
	for (size_t i = 0; i < r->nfindings; i++) {
		if (strcmp(r->findings[i].code, code) != 0)
			continue;
		free(r->findings[i].message);
		memmove(&r->findings[i], &r->findings[i + 1],
		        (r->nfindings - i - 1) * sizeof(r->findings[0]));
		r->nfindings--;
		return;
	}
}

/* A server whose best is TLS 1.0/1.1: modern clients cannot start TLS with it. */
void result_legacy_only(struct result *r, uint16_t version, const char *how)
{
	const char *v = version == 0x0300 ? "SSL 3.0" : version == 0x0301 ? "TLS 1.0" : "TLS 1.1";

	result_add(r, SEV_CRITICAL, "tls-legacy-only",
	           "the server offers nothing newer than %s (%s says so): current mail "
	           "software and TLS libraries refuse TLS 1.0 and 1.1 (RFC 8996), so they "
	           "cannot encrypt with this server; enable TLS 1.2 and 1.3 in its TLS "
	           "settings, or update the TLS library it uses", v, how);
}

void findings_vadd(struct finding *f, size_t *n, enum severity sev, const char *code,
                   const char *fmt, va_list ap)
{
	struct finding *slot;
	char msg[400];

	if (findings_has(f, *n, code))
		return;
	if (*n == RESULT_MAX_FINDINGS) {
		/* Full: the last slot goes to the worse of the two. */
		slot = &f[RESULT_MAX_FINDINGS - 1];
		if (sev <= slot->sev)
			return;
		free(slot->message);
		(*n)--;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	slot = &f[*n];
	slot->sev = sev;
	snprintf(slot->code, sizeof(slot->code), "%s", code);
	slot->message = xstrdup(msg);
	(*n)++;
}

void findings_add(struct finding *f, size_t *n, enum severity sev, const char *code,
                  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	findings_vadd(f, n, sev, code, fmt, ap);
	va_end(ap);
}

void result_add(struct result *r, enum severity sev, const char *code,
                const char *fmt, ...)
{
	va_list ap;

	/* findings_vadd writes slot nfindings, or replaces the last of
	 * RESULT_MAX_FINDINGS: grow before it can need either. */
	if (r->nfindings == r->findings_cap && r->findings_cap < RESULT_MAX_FINDINGS) {
		size_t cap = r->findings_cap ? 2 * r->findings_cap : 4;
		if (cap > RESULT_MAX_FINDINGS)
			cap = RESULT_MAX_FINDINGS;
		r->findings = xreallocarray(r->findings, cap, sizeof(*r->findings));
		r->findings_cap = cap;
	}
	va_start(ap, fmt);
	findings_vadd(r->findings, &r->nfindings, sev, code, fmt, ap);
	va_end(ap);
}

enum status findings_status(const struct finding *f, size_t n)
{
	enum status st = ST_OK;
	size_t i;

	for (i = 0; i < n; i++) {
		if (f[i].sev == SEV_CRITICAL)
			st = ST_CRITICAL;
		else if (f[i].sev == SEV_WARNING && st < ST_WARNING)
			st = ST_WARNING;
	}
	return st;
}

void findings_clear(struct finding *f, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free(f[i].message);
	*n = 0;
}

/* --warn-time/--crit-time on the whole probe, as check_smtp's -w/-c. Once:
 * result_finish runs again when later checks (PTR, DANE) add findings. */
static void result_check_time(struct result *r)
{
	double lim;
	bool crit;

	if (r->t.total_ms < 0 || (r->warn_time_ms <= 0 && r->crit_time_ms <= 0))
		return;
	for (size_t i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].code, "probe-slow") == 0)
			return;
	crit = r->crit_time_ms > 0 && r->t.total_ms > r->crit_time_ms;
	if (!crit && !(r->warn_time_ms > 0 && r->t.total_ms > r->warn_time_ms))
		return;
	lim = crit ? r->crit_time_ms : r->warn_time_ms;
	result_add(r, crit ? SEV_CRITICAL : SEV_WARNING, "probe-slow",
	           "the probe took %.3f s (%s above %g s)", r->t.total_ms / 1000.0,
	           crit ? "critical" : "warning", lim / 1000.0);
}

enum status result_finish(struct result *r)
{
	result_check_time(r);
	r->status = findings_status(r->findings, r->nfindings);
	return r->status;
}

/* The line appended, or NULL (not wanted, or full: counted). */
static struct tline *transcript_add(struct result *r, double t_ms, char dir,
                                    const char *line, size_t len)
{
	struct tline *tl;
	char *copy;

	if (!r->want_transcript)
		return NULL;
	if (r->transcript == NULL)
		r->transcript = xcalloc(RESULT_MAX_TRANSCRIPT, sizeof(*r->transcript));
	if (r->ntranscript == RESULT_MAX_TRANSCRIPT) {
		r->transcript_dropped++;
		return NULL;
	}
	if (len > RESULT_MAX_LINE)
		len = RESULT_MAX_LINE;
	copy = xmalloc(len + 1);
	memcpy(copy, line, len);
	copy[len] = '\0';
	tl = &r->transcript[r->ntranscript++];
	tl->t_ms = t_ms;
	tl->dir = dir;
	tl->line = copy;
	tl->ev = NULL;
	return tl;
}

void result_transcript(struct result *r, double t_ms, char dir,
                       const char *line, size_t len)
{
	transcript_add(r, t_ms, dir, line, len);
}

void result_event(struct result *r, double t_ms, const struct tevent *ev,
                  const char *line, size_t len)
{
	struct tline *tl = transcript_add(r, t_ms, '*', line, len);

	if (tl == NULL || ev == NULL || ev->type == TEV_NOTE || ev->type == TEV_NONE)
		return;
	tl->ev = xmalloc(sizeof(*tl->ev));
	*tl->ev = *ev;
}

enum tev tline_type(const struct tline *t)
{
	if (t->dir == 'C' || t->dir == 'S')
		return TEV_NONE;
	return t->ev != NULL ? t->ev->type : TEV_NOTE;
}

const char *result_addr(const struct result *r, int *family)
{
	const struct attempt *a;

	if (r->address[0] != '\0' || r->nattempts == 0) {
		if (family != NULL)
			*family = r->address[0] != '\0' ? r->family : 0;
		return r->address;
	}
	a = &r->attempts[r->nattempts - 1 < RESULT_MAX_ATTEMPTS ? r->nattempts - 1 :
	                 RESULT_MAX_ATTEMPTS - 1];
	if (family != NULL)
		*family = a->family;
	return a->address;
}
