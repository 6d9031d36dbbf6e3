/* One SMTP dialogue over one connection, as a state machine over the
 * loop. One door for state changes (sess_set_state), one table row per
 * state (what it waits for, its reply handler), and every fault of the
 * server recorded as a finding, never a C error. The default flow sends
 * only EHLO, STARTTLS, EHLO, QUIT. The steps after EHLO live in
 * smtp_steps.c; the check variants (plan.stop_after_tls, legacy_hello,
 * inject) are here, driven by probe.c through the plan. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "auth.h"
#include "cert.h"
#include "conn.h"
#include "smtp_ehlo.h"
#include "smtp_reply.h"
#include "smtp_session.h"
#include "tlsver.h"

#include "smtp_session_int.h"
#include "xmalloc.h"

static void on_greeting(struct smtp_session *s, const struct smtp_reply *rep);
static void on_ehlo(struct smtp_session *s, const struct smtp_reply *rep);
static void on_inject_reply(struct smtp_session *s, const struct smtp_reply *rep);

/* One row per state: what the user is told a step was waiting for when it
 * timed out, and the handler of a complete reply (NULL: no reply is read
 * in this state). on_starttls is called apart: it needs the bytes that
 * came after the reply. */
static const struct state_def {
	const char *waits;
	void (*on_reply)(struct smtp_session *s, const struct smtp_reply *rep);
} state_table[] = {
	[SMTP_ST_INIT]         = { "", NULL },
	[SMTP_ST_RESOLVE]      = { "the DNS answer", NULL },
	[SMTP_ST_CONNECT]      = { "the TCP connection", NULL },
	[SMTP_ST_TLS_IMPLICIT] = { "the TLS handshake", NULL },
	[SMTP_ST_GREETING]     = { "the greeting", on_greeting },
	[SMTP_ST_EHLO]         = { "the reply to EHLO", on_ehlo },
	[SMTP_ST_HELO]         = { "the reply to HELO", on_ehlo },
	[SMTP_ST_STARTTLS]     = { "the reply to STARTTLS", NULL },
	[SMTP_ST_TLS]          = { "the TLS handshake", NULL },
	[SMTP_ST_EHLO_TLS]     = { "the reply to EHLO after TLS", on_ehlo },
	[SMTP_ST_TLSREQ_MAIL]  = { "the reply to MAIL FROM before STARTTLS", steps_on_tlsreq },
	[SMTP_ST_TLSREQ_RSET]  = { "the reply to RSET", steps_on_tlsreq },
	[SMTP_ST_AUTH]         = { "the reply to AUTH", steps_on_auth },
	[SMTP_ST_EHLO_AUTH]    = { "the reply to EHLO after AUTH", on_ehlo },
	[SMTP_ST_MAIL]         = { "the reply to MAIL FROM", steps_on_envelope },
	[SMTP_ST_RCPT]         = { "the reply to RCPT TO", steps_on_envelope },
	[SMTP_ST_RSET]         = { "the reply to RSET", steps_on_envelope },
	[SMTP_ST_SIZE_MAIL]    = { "the reply to MAIL FROM ... SIZE=", steps_on_size },
	[SMTP_ST_SIZE_RSET]    = { "the reply to RSET", steps_on_size },
	[SMTP_ST_LEGACY]       = { "the server's answer to a legacy ClientHello", NULL },
	[SMTP_ST_INJECT_QUIT]  = { "the first reply inside TLS", on_inject_reply },
	[SMTP_ST_DONE]         = { "", NULL },
};
_Static_assert(sizeof(state_table) / sizeof(state_table[0]) == SMTP_ST_DONE + 1,
               "state table");

#define WAITS(s) (state_table[(s)->state].waits)

#define GREETING_SLOW_MS 5000.0   /* tarpits and postscreen pauses above this */


static double since(double t)
{
	return loop_now() - t;
}

static double sess_tnow(const struct smtp_session *s)
{
	return loop_now() - s->t0;
}

static void sess_vevent(struct smtp_session *s, const struct tevent *ev,
                        const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* A '*' line in the transcript: what happened between the lines. */
static void sess_vevent(struct smtp_session *s, const struct tevent *ev,
                        const char *fmt, va_list ap)
{
	char line[RESULT_MAX_LINE];
	int n;

	if (!s->r->want_transcript)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	result_event(s->r, sess_tnow(s), ev, line,
	             (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* An event with no fields beyond its type. */
void sess_event(struct smtp_session *s, enum tev type, const char *fmt, ...)
{
	struct tevent ev;
	va_list ap;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	va_start(ap, fmt);
	sess_vevent(s, &ev, fmt, ap);
	va_end(ap);
}

void sess_event_ev(struct smtp_session *s, const struct tevent *ev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sess_vevent(s, ev, fmt, ap);
	va_end(ap);
}

/* Does server text contain a credential we sent? A server could echo one
 * back (in an error reply); such text never reaches any output. */
bool sess_has_secret(const struct smtp_session *s, const char *p, size_t n)
{
	for (size_t i = 0; s->rare != NULL && i < s->rare->nsecrets; i++) {
		size_t k = strlen(s->rare->secrets[i]);

		if (k > 0 && memmem(p, n, s->rare->secrets[i], k) != NULL)
			return true;
	}
	return false;
}

static void server_line(struct smtp_session *s, const char *line, size_t len)
{
	static const char red[] = "<redacted: the server echoed a credential>";

	if (sess_has_secret(s, line, len))
		result_transcript(s->r, sess_tnow(s), 'S', red, sizeof(red) - 1);
	else
		result_transcript(s->r, sess_tnow(s), 'S', line, len);
}

static void on_server_line(void *arg, const char *line, size_t len)
{
	server_line(arg, line, len);
}

void sess_secrets_add(struct smtp_session *s, const char *v)
{
	struct sess_rare *x = s->rare;

	if (x != NULL && x->nsecrets < SECRETS_MAX && strlen(v) < AUTH_MAX_MSG)
		snprintf(x->secrets[x->nsecrets++], AUTH_MAX_MSG, "%s", v);
}

static void secrets_wipe(struct smtp_session *s)
{
	if (s->rare == NULL)
		return;
	steps_wipe(s);
	auth_wipe(s->rare->secrets, sizeof(s->rare->secrets));
	s->rare->nsecrets = 0;
}

/* The dialogue is over: no I/O may follow. */
static bool over(const struct smtp_session *s)
{
	return s->finished || s->state == SMTP_ST_DONE;
}

static void on_io(struct loop *l, int fd, unsigned events, void *arg);
static void on_timeout(struct loop *l, void *arg);

/* Delayed ACKs meet the server's Nagle after the TLS 1.3 session ticket: the
 * server holds its EHLO reply until our ACK of the ticket, ~40 ms later.
 * TCP_QUICKACK is not sticky, so it is set again before each read. */
static void quickack(const struct smtp_session *s)
{
#ifdef TCP_QUICKACK
	int one = 1;

	setsockopt(s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
	(void)s;
#endif
}


/* The one door for state changes: arms the step deadline. */
void sess_set_state(struct smtp_session *s, enum smtp_state st)
{
	double ms = st == SMTP_ST_CONNECT ? s->p->connect_timeout_ms : s->p->timeout_ms;

	s->state = st;
	s->t_step = loop_now();
	if (st == SMTP_ST_DONE || st == SMTP_ST_CONNECT)
		loop_timer_stop(s->loop, &s->timer);   /* conn has its own */
	else
		loop_timer_set(s->loop, &s->timer, ms);
}

/* ---- output ---- */

static void watch(struct smtp_session *s)
{
	unsigned ev = LOOP_READ;

	if (s->wlen > s->woff)
		ev |= LOOP_WRITE;
	loop_mod_fd(s->loop, s->fd, ev);
}

/* Returns false when the connection failed (a finding is recorded). */
static bool flush(struct smtp_session *s)
{
	while (s->woff < s->wlen) {
		size_t put = 0;

		if (s->tls != NULL) {
			char err[160] = "";
			enum tlsio_rc rc = tlsio_write(s->tls, s->wbuf + s->woff,
			                               s->wlen - s->woff, &put, err, sizeof(err));

			if (rc == TLSIO_WANT_READ || rc == TLSIO_WANT_WRITE)
				break;
			if (rc != TLSIO_OK) {
				result_add(s->r, SEV_CRITICAL, "connection-closed",
				           "could not send to the server over TLS while waiting for %s: %s",
				           WAITS(s), err[0] ? err : "connection closed");
				return false;
			}
		} else {
			ssize_t n = send(s->fd, s->wbuf + s->woff, s->wlen - s->woff, MSG_NOSIGNAL);

			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n < 0) {
				result_add(s->r, SEV_CRITICAL, "connection-closed",
				           "could not send to the server: %s", strerror(errno));
				return false;
			}
			put = (size_t)n;
		}
		s->woff += put;
	}
	if (s->woff == s->wlen) {
		/* It may have held credentials: never leave them in memory. */
		auth_wipe(s->wbuf, s->wlen);
		s->woff = s->wlen = 0;
	}
	watch(s);
	return true;
}

/* Sends cmd; the transcript shows `shown` instead (credentials). */
bool sess_send_secret(struct smtp_session *s, const char *cmd, const char *shown)
{
	size_t n = strlen(cmd);

	if (n + 2 > sizeof(s->wbuf) - s->wlen)
		return false;
	result_transcript(s->r, sess_tnow(s), 'C', shown, strlen(shown));
	memcpy(s->wbuf + s->wlen, cmd, n);
	memcpy(s->wbuf + s->wlen + n, "\r\n", 2);
	s->wlen += n + 2;
	return flush(s);
}

/* Bytes as they are (a ClientHello, or two commands in one write). */
static bool sess_send_raw(struct smtp_session *s, const void *p, size_t n)
{
	if (n > sizeof(s->wbuf) - s->wlen)
		return false;
	memcpy(s->wbuf + s->wlen, p, n);
	s->wlen += n;
	return flush(s);
}

bool sess_send_cmd(struct smtp_session *s, const char *cmd)
{
	size_t n = strlen(cmd);

	if (n + 2 > sizeof(s->wbuf) - s->wlen)
		return false;
	result_transcript(s->r, sess_tnow(s), 'C', cmd, n);
	memcpy(s->wbuf + s->wlen, cmd, n);
	memcpy(s->wbuf + s->wlen + n, "\r\n", 2);
	s->wlen += n + 2;
	return flush(s);
}

/* QUIT goes out and we are done: the report never waits for the 221. */
void sess_quit(struct smtp_session *s)
{
	if (s->fd >= 0 && sess_send_cmd(s, "QUIT"))
		shutdown(s->fd, SHUT_WR);
	sess_finish(s);
}

/* ---- findings from what was learnt ---- */

static void note_size(struct smtp_session *s)
{
	const struct ehlo_info *e = s->r->ehlo_auth.present ? &s->r->ehlo_auth :
	                            s->r->ehlo_tls.present ? &s->r->ehlo_tls : &s->r->ehlo;
	const char *p = smtp_ehlo_find(e, "SIZE");
	struct size_info *sz = &s->r->size;
	uint64_t limit = 0;
	int rc;

	memset(sz, 0, sizeof(*sz));
	if (p == NULL)
		return;
	sz->advertised = true;
	rc = smtp_ehlo_size(p, &limit);
	if (rc < 0) {
		result_add(s->r, SEV_WARNING, "size-malformed",
		           "the SIZE extension carries a malformed number: '%.40s'", p);
		return;
	}
	sz->has_limit = rc == 1;
	sz->limit = limit;
	sz->binary = smtp_ehlo_find(e, "BINARYMIME") != NULL &&
	             smtp_ehlo_find(e, "CHUNKING") != NULL;
	size_compute(sz, s->p->size_reserve);
}

/* RFC 5246 7.4.2 (RFC 8446 4.4.2 keeps it as a SHOULD): each certificate
 * certifies the one before it. Said when an issuer the server sends comes
 * later than right after its subject. */
static void note_chain_order(struct smtp_session *s)
{
	const struct tls_info *ti = &s->r->tls;

	for (size_t i = 1; i < ti->nchain; i++) {
		const char *want = ti->chain[i - 1].issuer;

		if (want == NULL || ti->chain[i - 1].self_signed)
			return;
		if (ti->chain[i].subject != NULL && strcmp(ti->chain[i].subject, want) == 0)
			continue;
		for (size_t j = i + 1; j < ti->nchain; j++)
			if (ti->chain[j].subject != NULL && strcmp(ti->chain[j].subject, want) == 0) {
				result_add(s->r, SEV_WARNING, "cert-chain-order",
				           "the server sends its certificates out of order: the issuer "
				           "of certificate %zu (%.100s) is certificate %zu, not %zu; TLS 1.2 "
				           "wants each certificate to certify the one before it and strict "
				           "clients fail: list the leaf first, then each issuer in turn",
				           i - 1, want, j, i);
				return;
			}
		return;   /* the issuer is not sent at all: a question of trust, not of order */
	}
}

/* Expired certificates the verified chain does not use (trusted is only
 * true when no certificate on the path has expired): a stale
 * cross-signature or an old intermediate left in the server's file. */
static void note_chain_extra_expired(struct smtp_session *s)
{
	const struct tls_info *ti = &s->r->tls;

	if (!ti->trusted)
		return;
	for (size_t i = 1; i < ti->nchain; i++)
		if (ti->chain[i].expired) {
			result_add(s->r, SEV_WARNING, "cert-chain-extra-expired",
			           "the server also sends certificate %zu (%.120s), expired %ld day%s "
			           "ago, which the verified chain does not need (a stale "
			           "cross-signature or an old intermediate): clients that build the "
			           "path through it (older OpenSSL, some Java and Android versions) "
			           "fail; remove it from the chain the server sends", i,
			           ti->chain[i].subject ? ti->chain[i].subject : "?",
			           -ti->chain[i].days_left, ti->chain[i].days_left == -1 ? "" : "s");
			return;
		}
}

static void note_tls(struct smtp_session *s)
{
	const struct probe_params *o = s->p;
	struct tls_info *ti = &s->r->tls;
	long min_days = 0;
	size_t i, worst = 0, k;
	char errs[400] = "";

	if (tlsver_suite_no_fs(ti->cipher))
		result_add(s->r, SEV_WARNING, "tls-no-forward-secrecy",
		           "the server chose %s: a key exchange without forward secrecy, so "
		           "anyone who later obtains the server's private key can decrypt "
		           "recorded sessions; prefer ECDHE suites (and enable TLS 1.3)",
		           ti->cipher);
	if (ti->nchain == 0) {
		result_add(s->r, SEV_CRITICAL, "cert-untrusted",
		           "the server presented no certificate");
		return;
	}
	note_chain_order(s);
	note_chain_extra_expired(s);
	/* The first to expire; an expired one before any that is not; an
	 * expired one off the verified path is reported above instead. */
	for (i = 0; i < ti->nchain; i++)
		if (i > 0 && ti->trusted && ti->chain[i].expired)
			continue;
		else if (i == 0 || (ti->chain[i].expired && !ti->chain[worst].expired) ||
		    (ti->chain[i].expired == ti->chain[worst].expired &&
		     ti->chain[i].not_after < ti->chain[worst].not_after)) {
			min_days = ti->chain[i].days_left;
			worst = i;
		}
	for (i = 0; i < ti->nchain; i++)
		if (ti->chain[i].not_before > time(NULL))
			result_add(s->r, SEV_CRITICAL, "cert-not-yet-valid",
			           "certificate %zu (%.120s) is not valid before its start date",
			           i, ti->chain[i].subject ? ti->chain[i].subject : "?");
	if (ti->nchain > 0 && ti->chain[worst].expired && min_days == 0)
		result_add(s->r, SEV_CRITICAL, "cert-expired",
		           "certificate %zu (%.120s) expired less than a day ago", worst,
		           ti->chain[worst].subject ? ti->chain[worst].subject : "?");
	else if (ti->nchain > 0 && ti->chain[worst].expired)
		result_add(s->r, SEV_CRITICAL, "cert-expired",
		           "certificate %zu (%.120s) expired %ld day%s ago", worst,
		           ti->chain[worst].subject ? ti->chain[worst].subject : "?",
		           -min_days, -min_days == 1 ? "" : "s");
	else if (min_days < o->crit_days)
		result_add(s->r, SEV_CRITICAL, "cert-expires-soon",
		           "certificate %zu (%.120s) expires in %ld day%s (critical below %d)",
		           worst, ti->chain[worst].subject ? ti->chain[worst].subject : "?",
		           min_days, min_days == 1 ? "" : "s", o->crit_days);
	else if (min_days < o->warn_days)
		result_add(s->r, SEV_WARNING, "cert-expires-soon",
		           "certificate %zu (%.120s) expires in %ld days (warning below %d)",
		           worst, ti->chain[worst].subject ? ti->chain[worst].subject : "?",
		           min_days, o->warn_days);

	if (!ti->trusted) {
		/* Expiry alone is reported above; say "untrusted" only when the
		 * chain has another problem. */
		bool other = false;

		for (k = 0; k < ti->nerrors; k++) {
			if (strstr(ti->errors[k], "expired") != NULL ||
			    strstr(ti->errors[k], "not yet valid") != NULL)
				continue;
			other = true;
			if (strlen(errs) + strlen(ti->errors[k]) + 3 < sizeof(errs)) {
				if (errs[0])
					strcat(errs, "; ");
				strcat(errs, ti->errors[k]);
			}
		}
		if (other || ti->nerrors == 0)
			result_add(s->r, SEV_CRITICAL, "cert-untrusted",
			           "the certificate chain is not trusted: %s%s",
			           errs[0] ? errs : "verification failed",
			           ti->chain[0].self_signed ? " (the certificate is self-signed)" : "");
	}
	if (!ti->hostname_match) {
		if (s->literal && o->servername == NULL)
			result_add(s->r, SEV_CRITICAL, "cert-hostname-mismatch",
			           "the certificate is not valid for %s (probe by name, or give "
			           "--servername NAME, the name clients use)", ti->servername);
		else
			result_add(s->r, SEV_CRITICAL, "cert-hostname-mismatch",
			           "the certificate is not valid for the name %s", ti->servername);
	}
	if (o->npins > 0) {
		ti->pin_checked = true;
		ti->pin_match = false;
		for (i = 0; i < ti->nchain && !ti->pin_match; i++)
			for (k = 0; k < o->npins; k++)
				if (strcmp(ti->chain[i].spki_sha256, o->pins[k]) == 0)
					ti->pin_match = true;
		if (!ti->pin_match)
			result_add(s->r, SEV_CRITICAL, "pin-mismatch",
			           "no certificate of the chain matches the %zu pinned key%s "
			           "(the server's key is sha256//%s)", o->npins,
			           o->npins == 1 ? "" : "s", ti->chain[0].spki_sha256);
	}
	for (i = 0; i < ti->nchain; i++) {
		char why[160];

		/* The root (self-signed, beyond the leaf) is the client's own
		 * copy that counts, not the one sent. */
		if (i > 0 && ti->chain[i].self_signed)
			continue;
		if (cert_key_weak(&ti->chain[i], why, sizeof(why))) {
			result_add(s->r, SEV_CRITICAL, "cert-weak-key",
			           "%s %s: current clients refuse such keys, so they cannot "
			           "connect securely; reissue it with a stronger key",
			           i == 0 ? "the server's certificate has" : "an intermediate "
			           "certificate of the chain has", why);
			break;
		}
	}
	if (ti->chain_total > ti->nchain)
		result_add(s->r, SEV_WARNING, "cert-chain-long",
		           "the server sent %zu certificates; only the first %zu are shown",
		           ti->chain_total, ti->nchain);
}

/* ---- check connections (plan.stop_after_tls) ---- */

/* After EHLO on a check connection: straight to STARTTLS, or STARTTLS and
 * NOOP in one write for the injection test. */
static void check_after_ehlo(struct smtp_session *s)
{
	static const char two[] = "STARTTLS\r\nNOOP\r\n";

	if (!s->r->starttls_offered) {
		result_add(s->r, SEV_CRITICAL, "starttls-missing",
		           "the server did not offer STARTTLS on this connection");
		sess_quit(s);
		return;
	}
	sess_set_state(s, SMTP_ST_STARTTLS);
	if (!s->plan.inject) {
		if (!sess_send_cmd(s, "STARTTLS"))
			sess_finish(s);
		return;
	}
	/* Both commands in one write: a flawed server reads NOOP from the
	 * cleartext buffer and answers it inside TLS (CVE-2011-0411). */
	result_transcript(s->r, sess_tnow(s), 'C', "STARTTLS", 8);
	result_transcript(s->r, sess_tnow(s), 'C', "NOOP", 4);
	sess_event(s, TEV_INJECT_SENT, "STARTTLS and NOOP were sent in one packet");
	if (!sess_send_raw(s, two, sizeof(two) - 1))
		sess_finish(s);
}

/* The handshake of a check connection is done: QUIT, and for the
 * injection test read the first reply inside TLS (a 221 first means the
 * NOOP was dropped). */
static void check_tls_done(struct smtp_session *s)
{
	if (!s->plan.inject) {
		sess_quit(s);
		return;
	}
	sess_set_state(s, SMTP_ST_INJECT_QUIT);
	if (!sess_send_cmd(s, "QUIT"))
		sess_finish(s);
}

static void on_inject_reply(struct smtp_session *s, const struct smtp_reply *rep)
{
	struct injection_info *in = &s->r->injection;

	in->tested = true;
	if (rep->code == 221) {
		in->vulnerable = 0;
		snprintf(in->detail, sizeof(in->detail), "the first reply inside TLS was the 221 "
		         "to QUIT: the NOOP sent before the handshake was discarded");
	} else {
		in->vulnerable = 1;
		snprintf(in->detail, sizeof(in->detail), "the server answered the NOOP sent "
		         "before STARTTLS inside TLS (%d %.100s)", rep->code,
		         rep->nlines ? rep->lines[0] : "");
	}
	sess_finish(s);
}

static void legacy_begin(struct smtp_session *s)
{
	const struct probe_params *o = s->p;
	unsigned char hello[TLSVER_HELLO_MAX], rnd[32];
	size_t n;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));   /* only the ServerHello is read */
	n = tlsver_client_hello(hello, sizeof(hello), s->plan.legacy_hello,
	                        o->servername ? o->servername : s->host, rnd);
	s->rare->legacy.len = 0;
	sess_event(s, TEV_LEGACY_HELLO, "ClientHello offering only %s sent", tlsver_name(s->plan.legacy_hello));
	sess_set_state(s, SMTP_ST_LEGACY);
	if (n == 0 || !sess_send_raw(s, hello, n))
		sess_finish(s);
}

/* Reads the first record of the answer into r->tls_versions; no handshake
 * is completed. */
static void legacy_read(struct smtp_session *s)
{
	struct tlsvers_info *tv = &s->r->tls_versions;
	struct legacy_state *lg = &s->rare->legacy;
	uint16_t want = s->plan.legacy_hello;
	size_t i = (size_t)(want - 0x0301);
	uint16_t ver = 0;
	unsigned alert = 0;
	ssize_t n;

	n = recv(s->fd, lg->buf + lg->len, sizeof(lg->buf) - lg->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		struct tevent ev;

		memset(&ev, 0, sizeof(ev));
		/* A hang-up is the expected refusal here, not a crash. */
		ev.type = n < 0 && errno == ETIMEDOUT ? TEV_TIMEOUT : TEV_CLOSED;
		tv->v[i] = TLSV_REFUSED;
		snprintf(tv->detail[i], sizeof(tv->detail[i]), "the server closed the "
		         "connection%s%s", n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		sess_event_ev(s, &ev, "%s", tv->detail[i]);
		sess_finish(s);
		return;
	}
	lg->len += (size_t)n;
	switch (tlsver_parse(lg->buf, lg->len, &ver, &alert)) {
	case TLSVER_NEED_MORE:
		if (lg->len < sizeof(lg->buf))
			return;
		/* fall through */
	case TLSVER_NOT_TLS:
		tv->v[i] = TLSV_UNKNOWN;
		snprintf(tv->detail[i], sizeof(tv->detail[i]), "the server did not answer "
		         "with TLS");
		break;
	case TLSVER_ALERT:
		tv->v[i] = TLSV_REFUSED;
		snprintf(tv->detail[i], sizeof(tv->detail[i]), "TLS alert %u (%s)", alert,
		         tlsver_alert_name(alert));
		break;
	case TLSVER_SERVER_HELLO:
		if (ver == want) {
			tv->v[i] = TLSV_ACCEPTED;
			snprintf(tv->detail[i], sizeof(tv->detail[i]), "ServerHello %s",
			         tlsver_name(ver));
		} else {
			tv->v[i] = TLSV_REFUSED;
			snprintf(tv->detail[i], sizeof(tv->detail[i]), "ServerHello for version "
			         "0x%04x %s", ver, tlsver_name(ver));
		}
		break;
	}
	{
		struct tevent ev;

		memset(&ev, 0, sizeof(ev));
		ev.type = TEV_LEGACY_RESULT;
		ev.u.legacy.accepted = tv->v[i] == TLSV_ACCEPTED;
		sess_event_ev(s, &ev, "%s: %s", tlsver_name(want), tv->detail[i]);
	}
	sess_finish(s);   /* no QUIT: the channel is half in TLS */
}

/* ---- the dialogue ---- */

static void tls_begin(struct smtp_session *s, enum smtp_state st)
{
	const struct probe_params *o = s->p;
	const char *name = o->servername ? o->servername : s->host;
	char err[160] = "";

	s->r->tls.attempted = true;
	snprintf(s->r->tls.servername, sizeof(s->r->tls.servername), "%s", name);
	s->tls = tlsio_new(s->plan.tls, s->fd, name, err, sizeof(err));
	if (s->tls == NULL) {
		result_add(s->r, SEV_CRITICAL, "tls-handshake-failed",
		           "cannot start TLS: %s", err);
		snprintf(s->r->tls.error, sizeof(s->r->tls.error), "%s", err);
		sess_quit(s);
		return;
	}
	if (tlsio_sends_sni(s->tls))
		sess_event(s, TEV_TLS_START, "TLS handshake started (SNI %s)", name);
	else
		sess_event(s, TEV_TLS_START, "TLS handshake started (no SNI; verifying %s)", name);
	sess_set_state(s, st);
	loop_mod_fd(s->loop, s->fd, LOOP_READ | LOOP_WRITE);
}

void sess_send_ehlo(struct smtp_session *s, enum smtp_state st)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "%s %s", st == SMTP_ST_HELO ? "HELO" : "EHLO",
	         s->p->helo);
	sess_set_state(s, st);
	if (!sess_send_cmd(s, cmd))
		sess_finish(s);
}


static void tls_done(struct smtp_session *s)
{
	struct tls_info *ti = &s->r->tls;
	char name[sizeof(ti->servername)];
	struct tevent ev;
	size_t i;

	/* tlsio_info fills the whole struct: hand it a copy of the name. */
	snprintf(name, sizeof(name), "%s", ti->servername);
	tlsio_info(s->tls, name, time(NULL), ti);
	ti->attempted = true;
	ti->ok = true;
	s->r->t.tls_ms = since(s->t_step);
	memset(&ev, 0, sizeof(ev));
	ev.type = TEV_TLS_DONE;
	snprintf(ev.u.tls.version, sizeof(ev.u.tls.version), "%s", ti->version);
	snprintf(ev.u.tls.cipher, sizeof(ev.u.tls.cipher), "%s", ti->cipher);
	snprintf(ev.u.tls.group, sizeof(ev.u.tls.group), "%s", ti->group);
	sess_event_ev(s, &ev, "TLS handshake complete: %s %s%s%s", ti->version, ti->cipher,
	              ti->group[0] ? " " : "", ti->group);
	for (i = 0; i < ti->nchain; i++) {
		const struct cert_info *c = &ti->chain[i];
		char until[32] = "?";
		struct tm tm;

		if (gmtime_r(&c->not_after, &tm) != NULL)
			strftime(until, sizeof(until), "%Y-%m-%d", &tm);
		memset(&ev, 0, sizeof(ev));
		ev.type = TEV_CERT;
		ev.u.cert.index = (int)i;
		sess_event_ev(s, &ev, "certificate %zu: %.200s, issued by %.200s, expires %s "
		              "(%ld days)", i, c->subject ? c->subject : "?",
		              c->issuer ? c->issuer : "?", until, c->days_left);
	}
	if (ti->trusted && ti->hostname_match)
		sess_event(s, TEV_VERIFY_OK, "verification OK: trusted chain, valid for %s", ti->servername);
	else {
		char why[300] = "";
		size_t k;

		for (k = 0; k < ti->nerrors; k++)
			if (strlen(why) + strlen(ti->errors[k]) + 3 < sizeof(why)) {
				if (why[0])
					strcat(why, "; ");
				strcat(why, ti->errors[k]);
			}
		if (!ti->hostname_match && strlen(why) + 60 < sizeof(why))
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "%snot valid for %s",
			         why[0] ? "; " : "", ti->servername);
		memset(&ev, 0, sizeof(ev));
		ev.type = TEV_VERIFY_FAILED;
		snprintf(ev.u.verify.reason, sizeof(ev.u.verify.reason), "%s",
		         why[0] ? why : "untrusted");
		sess_event_ev(s, &ev, "verification failed: %s", why[0] ? why : "untrusted");
	}
	note_tls(s);
	reply_parser_reset(&s->rp);
	if (s->plan.stop_after_tls) {
		check_tls_done(s);
		return;
	}
	if (s->state == SMTP_ST_TLS_IMPLICIT)
		sess_set_state(s, SMTP_ST_GREETING);
	else
		sess_send_ehlo(s, SMTP_ST_EHLO_TLS);   /* at once: no extra round trip */
}

static void tls_step(struct smtp_session *s)
{
	char err[160] = "";
	enum tlsio_rc rc;

	quickack(s);
	rc = tlsio_handshake(s->tls, err, sizeof(err));

	switch (rc) {
	case TLSIO_OK:
		tls_done(s);
		return;
	case TLSIO_WANT_READ:
		loop_mod_fd(s->loop, s->fd, LOOP_READ);
		return;
	case TLSIO_WANT_WRITE:
		loop_mod_fd(s->loop, s->fd, LOOP_READ | LOOP_WRITE);
		return;
	case TLSIO_CLOSED:
	case TLSIO_FAIL:
		break;
	}
	if (rc == TLSIO_CLOSED && err[0] == '\0')
		snprintf(err, sizeof(err), "the server closed the connection during the handshake");
	snprintf(s->r->tls.error, sizeof(s->r->tls.error), "%s", err);
	tlsio_fail_info(s->tls, &s->r->tls);
	sess_event(s, TEV_TLS_FAILED, "%s%s", strncmp(err, "TLS handshake", 13) == 0 ? "" : "TLS handshake failed: ", err);
	if (tlsio_legacy_version(s->tls) != 0)
		result_legacy_only(s->r, tlsio_legacy_version(s->tls), "its ServerHello");
	else
		result_add(s->r, SEV_CRITICAL, "tls-handshake-failed", "%s%s%s",
		           strncmp(err, "TLS handshake", 13) == 0 ? "" : "TLS handshake failed: ",
		           err, s->state == SMTP_ST_TLS_IMPLICIT ?
		           " (if this port expects STARTTLS, use smtp:// or --starttls)" : "");
	if (tlsio_cert_requested(s->tls))
		result_add(s->r, SEV_INFO, "tls-client-cert-requested",
		           "the server asked for a client certificate before the handshake failed: "
		           "it may accept only clients with a certificate it trusts "
		           "(--client-cert FILE --client-key FILE)");
	s->r->t.tls_ms = since(s->t_step);
	sess_finish(s);     /* no QUIT: the channel is unusable */
}

/* First word of line 1 (the host name a greeting or EHLO names). */
static char *first_word(const struct smtp_reply *rep)
{
	const char *p, *e;
	char *w;

	if (rep->nlines == 0)
		return NULL;
	p = rep->lines[0];
	while (*p == ' ')
		p++;
	for (e = p; *e && *e != ' ' && e - p <= 255; e++)
		;
	if (!smtp_ehlo_is_domain(p, (size_t)(e - p)))
		return NULL;             /* "220 Hello there": no host name */
	w = xmalloc((size_t)(e - p) + 1);
	memcpy(w, p, (size_t)(e - p));
	w[e - p] = '\0';
	return w;
}

/* A 421 may come at any point: the server is busy or tarpitting us.
 * Inconclusive, so a warning, never "down". */
bool sess_busy(struct smtp_session *s, const struct smtp_reply *rep)
{
	if (rep->code != 421)
		return false;
	result_add(s->r, SEV_WARNING, "server-busy",
	           "the server answered 421 (service not available) while we waited for %s: "
	           "it is busy, rate-limiting or rejecting this client; try again later",
	           WAITS(s));
	sess_finish(s);
	return true;
}

static void on_greeting(struct smtp_session *s, const struct smtp_reply *rep)
{
	struct result *r = s->r;

	r->greeting.present = true;
	r->greeting.code = rep->code;
	r->greeting.text = smtp_reply_join(rep);
	r->greeting.hostname = first_word(rep);
	r->t.greeting_ms = since(s->t_step);
	if (r->t.greeting_ms > GREETING_SLOW_MS)
		result_add(r, SEV_WARNING, "greeting-slow",
		           "the greeting took %.1f s (a tarpit or a slow server; clients may time out)",
		           r->t.greeting_ms / 1000.0);
	if (sess_busy(s, rep))
		return;
	if (rep->code != 220) {
		result_add(r, SEV_CRITICAL, "greeting-rejected",
		           "the server greeted with %d instead of 220: it does not accept this "
		           "client (%.200s)", rep->code, rep->nlines ? rep->lines[0] : "");
		sess_quit(s);
		return;
	}
	sess_send_ehlo(s, s->plan.mode == TLS_MODE_IMPLICIT ? SMTP_ST_EHLO_TLS : SMTP_ST_EHLO);
}


static void after_ehlo(struct smtp_session *s)
{
	struct result *r = s->r;
	const char *auth = smtp_ehlo_find(&r->ehlo, "AUTH");

	r->starttls_offered = smtp_ehlo_find(&r->ehlo, "STARTTLS") != NULL;
	if (auth != NULL) {
		r->auth.mechanisms = xstrdup(auth);
		if (s->plan.mode != TLS_MODE_IMPLICIT)
			result_add(r, SEV_INFO, "auth-before-tls",
			           "AUTH (%.100s) is offered before TLS: passwords could be sent "
			           "in clear text by a careless client", auth);
	}
	note_size(s);
	if (s->plan.stop_after_tls) {
		check_after_ehlo(s);
		return;
	}
	if (s->plan.mode != TLS_MODE_NONE && !r->starttls_offered) {
		if (s->p->mode_set)
			result_add(r, SEV_CRITICAL, "starttls-missing",
			           "STARTTLS was required but the server does not offer it");
		else
			result_add(r, SEV_WARNING, "starttls-missing",
			           "the server does not offer STARTTLS: mail to and from it "
			           "travels unencrypted");
	}
	steps_before_tls(s);
}

/* After the cleartext EHLO (and the steps before TLS). */
void sess_to_tls(struct smtp_session *s)
{
	if (s->plan.mode == TLS_MODE_NONE || !s->r->starttls_offered) {
		steps_post(s);            /* only does something when asked */
		return;
	}
	sess_set_state(s, SMTP_ST_STARTTLS);
	if (!sess_send_cmd(s, "STARTTLS"))
		sess_finish(s);
}

static void on_ehlo(struct smtp_session *s, const struct smtp_reply *rep)
{
	struct result *r = s->r;
	bool tls = s->state == SMTP_ST_EHLO_TLS;
	struct ehlo_info *e = tls ? &r->ehlo_tls : &r->ehlo;

	if (sess_busy(s, rep))
		return;
	if (s->state == SMTP_ST_EHLO_AUTH) {
		/* Some servers reveal limits (SIZE...) only to a logged-in client.
		 * A refusal here costs nothing but this extra knowledge. */
		smtp_ehlo_clear(&r->ehlo_auth);
		if (rep->code / 100 == 2) {
			smtp_ehlo_parse(rep, false, &r->ehlo_auth);
			note_size(s);
		}
		steps_post(s);
		return;
	}
	if (tls)
		r->t.ehlo_tls_ms = since(s->t_step);
	else
		r->t.ehlo_ms = since(s->t_step);
	if (s->state == SMTP_ST_EHLO && (rep->code == 500 || rep->code == 502 ||
	                                 rep->code == 504)) {
		result_add(r, SEV_WARNING, "ehlo-unsupported",
		           "the server does not understand EHLO (%d): it offers no extensions, "
		           "so no STARTTLS, SIZE or AUTH", rep->code);
		sess_send_ehlo(s, SMTP_ST_HELO);
		return;
	}
	if (rep->code / 100 != 2) {
		result_add(r, SEV_CRITICAL, "ehlo-rejected", "the server refused %s with %d: %.200s",
		           s->state == SMTP_ST_HELO ? "HELO" : "EHLO", rep->code,
		           rep->nlines ? rep->lines[0] : "");
		sess_quit(s);
		return;
	}
	smtp_ehlo_clear(e);
	smtp_ehlo_parse(rep, s->state == SMTP_ST_HELO, e);
	if (e->hostname == NULL && !result_has(r, "ehlo-hostname-invalid"))
		result_add(r, SEV_INFO, "ehlo-hostname-invalid",
		           "the %s reply does not begin with the server's host name (line 1: "
		           "\"%.80s\"): RFC 5321 4.1.1.1 wants a domain or address literal "
		           "there, so no host name is reported",
		           s->state == SMTP_ST_HELO ? "HELO" : "EHLO", rep->nlines ? rep->lines[0] : "");
	if (!tls) {
		after_ehlo(s);
		return;
	}
	/* After TLS the cleartext capabilities are forgotten; both are kept. */
	{
		const char *auth = smtp_ehlo_find(e, "AUTH");

		if (auth != NULL && r->auth.mechanisms_tls == NULL)
			r->auth.mechanisms_tls = xstrdup(auth);
	}
	note_size(s);
	steps_post(s);
}

static void on_starttls(struct smtp_session *s, const struct smtp_reply *rep,
                        size_t leftover)
{
	struct result *r = s->r;

	r->starttls_code = rep->code;
	r->t.starttls_ms = since(s->t_step);
	if (sess_busy(s, rep))
		return;
	if (rep->code != 220) {
		result_add(r, SEV_CRITICAL, "starttls-refused",
		           "the server offers STARTTLS but answered it with %d: %.200s",
		           rep->code, rep->nlines ? rep->lines[0] : "");
		sess_quit(s);
		return;
	}
	if (leftover > 0) {
		/* Bytes after the 220 came before encryption: whatever sent them
		 * could be injecting commands (CVE-2011-0411 family). Drop them. */
		result_add(r, SEV_CRITICAL, "starttls-injection",
		           "%zu byte%s arrived together with the 220 reply to STARTTLS: a "
		           "plaintext injection symptom; they were discarded", leftover,
		           leftover == 1 ? "" : "s");
		sess_event(s, TEV_INJECTED_BYTES, "%zu unexpected byte%s after the 220 discarded", leftover,
		      leftover == 1 ? "" : "s");
	}
	if (s->plan.legacy_hello != 0) {
		legacy_begin(s);
		return;
	}
	tls_begin(s, SMTP_ST_TLS);
}

/* Recognise a non-SMTP service from its first bytes. */
static const char *what_service(const char *line, size_t len)
{
	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0)
		return "an HTTP server";
	if (len >= 4 && memcmp(line, "SSH-", 4) == 0)
		return "an SSH server";
	if (len >= 3 && memcmp(line, "+OK", 3) == 0)
		return "a POP3 server";
	if (len >= 4 && memcmp(line, "* OK", 4) == 0)
		return "an IMAP server";
	if (len >= 1 && (unsigned char)line[0] == 0x16)
		return "a TLS server (use smtps:// or --implicit-tls)";
	return NULL;
}

static void reply_error(struct smtp_session *s, enum reply_rc rc)
{
	struct result *r = s->r;
	const char *svc = what_service(s->rp.line, s->rp.linelen);

	if (s->rp.linelen > 0)
		server_line(s, s->rp.line, s->rp.linelen);
	if (svc != NULL && s->state == SMTP_ST_GREETING)
		result_add(r, SEV_CRITICAL, "not-smtp",
		           "this is not an SMTP server: it looks like %s", svc);
	else if (rc == REPLY_ERR_LONG_LINE)
		result_add(r, SEV_CRITICAL, "reply-too-long",
		           "a reply line exceeded %d bytes while waiting for %s",
		           REPLY_MAX_LINE, WAITS(s));
	else if (rc == REPLY_ERR_TOO_MANY)
		result_add(r, SEV_CRITICAL, "reply-too-large",
		           "a reply exceeded %d lines or %d bytes while waiting for %s",
		           REPLY_MAX_LINES, REPLY_MAX_BYTES, WAITS(s));
	else
		result_add(r, SEV_CRITICAL, "protocol-error",
		           "malformed reply while waiting for %s: %s", WAITS(s),
		           reply_rc_name(rc));
	sess_finish(s);
}

/* Dispatches one complete reply to the handler of the current state. */
static void on_reply(struct smtp_session *s, size_t leftover)
{
	struct smtp_reply *rep = &s->rp.reply;

	if (rep->had_nul)
		result_add(s->r, SEV_CRITICAL, "protocol-error",
		           "the server sent NUL bytes, which SMTP forbids");
	if (rep->bare_lf)
		result_add(s->r, SEV_WARNING, "bare-lf",
		           "the server ends lines with a bare LF instead of CRLF");
	if (s->state == SMTP_ST_STARTTLS)
		on_starttls(s, rep, leftover);
	else if (state_table[s->state].on_reply != NULL)
		state_table[s->state].on_reply(s, rep);
	/* else a reply nobody asked for (e.g. after QUIT): ignore. */
}

static bool reading_replies(const struct smtp_session *s)
{
	return !s->finished && (s->state == SMTP_ST_STARTTLS ||
	                        state_table[s->state].on_reply != NULL);
}

static void closed(struct smtp_session *s, const char *why)
{
	struct tevent ev;

	if (s->rp.linelen > 0)
		server_line(s, s->rp.line, s->rp.linelen);
	memset(&ev, 0, sizeof(ev));
	ev.type = TEV_CLOSED;
	ev.u.closed.by_server = true;
	sess_event_ev(s, &ev, "connection closed by the server%s%s", why ? ": " : "",
	              why ? why : "");
	result_add(s->r, SEV_CRITICAL, "connection-closed",
	           "the server closed the connection while we waited for %s%s%s",
	           WAITS(s), why ? ": " : "", why ? why : "");
	sess_finish(s);
}

/* mbedTLS gave up on a message the protocol allows (TLS 1.3 KeyUpdate):
 * the dialogue cannot go on, but the server did nothing wrong. */
static void library_limit(struct smtp_session *s, const char *why)
{
	sess_event(s, TEV_NOTE, "%s", why);
	result_add(s->r, SEV_WARNING, "tls-library-limit",
	           "%s (while we waited for %s): the probe gave up, the server did "
	           "nothing wrong; the rest of the dialogue could not be checked",
	           why, WAITS(s));
	sess_finish(s);
}

/* Reads what is there and feeds the parser, one reply at a time. */
static void read_replies(struct smtp_session *s)
{
	char buf[4096];

	while (!s->finished && reading_replies(s)) {
		size_t got = 0, off = 0;

		if (s->tls != NULL) {
			char err[160] = "";
			enum tlsio_rc rc;

			quickack(s);
			rc = tlsio_read(s->tls, buf, sizeof(buf), &got, err, sizeof(err));

			if (rc == TLSIO_WANT_READ || rc == TLSIO_WANT_WRITE)
				return;
			if (rc == TLSIO_CLOSED) {
				closed(s, NULL);
				return;
			}
			if (rc == TLSIO_FAIL && tlsio_gave_up(s->tls)) {
				library_limit(s, err);
				return;
			}
			if (rc == TLSIO_FAIL) {
				closed(s, err);
				return;
			}
		} else {
			/* Before STARTTLS, read no further than one reply at a time is
			 * not possible with TCP; what comes after the 220 to STARTTLS
			 * is checked by on_starttls. */
			ssize_t n = recv(s->fd, buf, sizeof(buf), 0);

			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (n < 0) {
				closed(s, strerror(errno));
				return;
			}
			if (n == 0) {
				closed(s, NULL);
				return;
			}
			got = (size_t)n;
		}
		while (off < got && !s->finished && reading_replies(s)) {
			size_t used = 0;
			enum reply_rc rc = reply_parser_feed(&s->rp, buf + off, got - off, &used);

			off += used;
			if (rc == REPLY_NEED_MORE)
				break;
			if (rc != REPLY_DONE) {
				reply_error(s, rc);
				return;
			}
			{
				enum smtp_state before = s->state;
				bool to_tls = before == SMTP_ST_STARTTLS;

				on_reply(s, to_tls ? got - off : 0);
				if (to_tls)
					return;   /* the rest (if any) was discarded */
				if (!s->finished)
					reply_parser_reset(&s->rp);
			}
		}
	}
}

static void on_io(struct loop *l, int fd, unsigned events, void *arg)
{
	struct smtp_session *s = arg;

	(void)l;
	(void)fd;
	if (over(s))
		return;
	if (s->state == SMTP_ST_LEGACY) {
		if ((events & LOOP_WRITE) && s->wlen > s->woff && !flush(s)) {
			sess_finish(s);
			return;
		}
		if (events & LOOP_READ)
			legacy_read(s);
		return;
	}
	if (s->state == SMTP_ST_TLS || s->state == SMTP_ST_TLS_IMPLICIT) {
		tls_step(s);
		if (over(s) || s->state == SMTP_ST_TLS || s->state == SMTP_ST_TLS_IMPLICIT)
			return;
		/* Handshake done: records may already wait inside mbedTLS. */
		events |= LOOP_READ;
	}
	if ((events & LOOP_WRITE) && s->wlen > s->woff && !flush(s)) {
		sess_finish(s);
		return;
	}
	if (!(events & LOOP_READ) && (s->tls == NULL || tlsio_pending(s->tls) == 0))
		return;
	read_replies(s);
}

static void on_timeout(struct loop *l, void *arg)
{
	struct smtp_session *s = arg;
	double secs = s->p->timeout_ms / 1000.0;

	(void)l;
	if (s->state == SMTP_ST_RESOLVE)
		/* The resolver's own retries did not end in time: still DNS. */
		result_add(s->r, SEV_CRITICAL, "dns-timeout",
		           "cannot resolve %s: no answer from the DNS server within %.3g s",
		           s->host, secs);
	else if (s->state == SMTP_ST_GREETING)
		result_add(s->r, SEV_CRITICAL, "timeout",
		           "no greeting within %.3g s (a stalled server, or a port that expects "
		           "implicit TLS: try smtps:// or --implicit-tls)", secs);
	else
		result_add(s->r, SEV_CRITICAL, "timeout", "no answer within %.3g s while waiting for %s",
		           secs, WAITS(s));
	if (s->rp.linelen > 0)
		server_line(s, s->rp.line, s->rp.linelen);
	sess_event(s, TEV_TIMEOUT, "timed out waiting for %s", WAITS(s));
	sess_finish(s);
}

/* ---- connect and resolve ---- */

static void on_connected(void *arg, int fd, size_t which)
{
	struct smtp_session *s = arg;
	struct result *r = s->r;
	size_t i;

	s->conn = NULL;
	if (fd < 0) {
		char detail[200] = "";

		for (i = 0; i < r->nattempts; i++)
			if (strlen(detail) + strlen(r->attempts[i].address) +
			    strlen(r->attempts[i].error) + 8 < sizeof(detail))
				snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
				         "%s%s: %s", i ? "; " : "", r->attempts[i].address,
				         r->attempts[i].error);
		result_add(r, SEV_CRITICAL, "connect-failed", "cannot connect to %s port %u (%s)",
		           s->host, s->port, detail[0] ? detail : "no address");
		sess_event(s, TEV_CONNECT_FAILED, "connection failed: %s", detail);
		sess_finish(s);
		return;
	}
	(void)which;
	s->fd = fd;
	for (i = 0; i < r->nattempts; i++)
		if (r->attempts[i].connect_ms >= 0 && r->attempts[i].error[0] == '\0') {
			snprintf(r->address, sizeof(r->address), "%s", r->attempts[i].address);
			r->family = r->attempts[i].family;
			r->t.connect_ms = r->attempts[i].connect_ms;
		}
	sess_event(s, TEV_CONNECTED, "connected to %s port %u in %.1f ms", r->address, s->port, r->t.connect_ms);
	if (loop_add_fd(s->loop, fd, LOOP_READ, on_io, s) != 0) {
		result_add(r, SEV_CRITICAL, "internal-error", "cannot watch the socket");
		sess_finish(s);
		return;
	}
	reply_parser_init(&s->rp, on_server_line, s);
	if (s->plan.mode == TLS_MODE_IMPLICIT && s->plan.legacy_hello != 0)
		legacy_begin(s);
	else if (s->plan.mode == TLS_MODE_IMPLICIT)
		tls_begin(s, SMTP_ST_TLS_IMPLICIT);
	else
		sess_set_state(s, SMTP_ST_GREETING);
}

static void connect_to(struct smtp_session *s, const struct dns_addr *addrs, size_t n)
{
	const struct probe_params *o = s->p;
	struct dns_addr ok[DNS_MAX_ADDRS];
	char first[64];

	/* Checked on the address itself, after resolution: a name allowed by
	 * the exporter may still resolve anywhere. */
	if (o->addr_ok != NULL) {
		size_t i, k = 0;

		for (i = 0; i < n; i++) {
			if (k < DNS_MAX_ADDRS && o->addr_ok(o->addr_ok_arg, &addrs[i])) {
				ok[k++] = addrs[i];
				continue;
			}
			conn_addr_text(&addrs[i], first, sizeof(first));
			sess_event(s, TEV_NOTE, "not connecting to %s: outside --serve-allow-net", first);
		}
		if (k == 0) {
			conn_addr_text(&addrs[0], first, sizeof(first));
			result_add(s->r, SEV_CRITICAL, "address-not-allowed",
			           "%s resolved only to addresses outside the networks this exporter "
			           "may connect to (%s%s; --serve-allow-net): not connected", s->host,
			           first, n > 1 ? ", ..." : "");
			sess_finish(s);
			return;
		}
		addrs = ok;
		n = k;
	}
	sess_set_state(s, SMTP_ST_CONNECT);
	if (o->conn.proxy_set) {
		char pa[64];

		conn_addr_text(&o->conn.proxy, pa, sizeof(pa));
		snprintf(s->r->proxy, sizeof(s->r->proxy), strchr(pa, ':') ? "socks5://[%s]:%u" :
		         "socks5://%s:%u", pa, o->conn.proxy_port);
	}
	if (o->conn.bind_set)
		conn_addr_text(&o->conn.bind, s->r->source, sizeof(s->r->source));
	conn_addr_text(&addrs[0], first, sizeof(first));
	sess_event(s, TEV_CONNECTING, "connecting to %s port %u%s%s%s%s%s", n == 1 ? first : s->host,
	      s->port, n > 1 ? " (Happy Eyeballs over its addresses)" : "",
	      s->r->source[0] ? " from " : "", s->r->source,
	      s->r->proxy[0] ? " through the SOCKS5 proxy " : "", s->r->proxy + (s->r->proxy[0] ? 9 : 0));
	result_attempts_reserve(s->r, n);
	s->conn = conn_start(s->loop, addrs, n, s->port, 250.0, o->connect_timeout_ms, &o->conn,
	                     s->r->attempts, &s->r->nattempts, s->r->attempts_cap,
	                     on_connected, s);
	if (s->conn == NULL) {
		result_add(s->r, SEV_CRITICAL, "internal-error", "cannot start connecting");
		sess_finish(s);
	}
}


static void on_resolved(void *arg, const struct dns_answer *ans)
{
	struct smtp_session *s = arg;
	const struct probe_params *o = s->p;
	const struct dns_addr *addrs = ans->addrs;
	size_t n = ans->n;
	enum dns_err e4 = ans->e4, e6 = ans->e6, e;

	s->dq = NULL;
	s->r->t.dns_ms = since(s->t_start);
	if (n > 0) {
		sess_event(s, TEV_RESOLVED, "%s resolved to %zu address%s in %.1f ms", s->host, n, n == 1 ? "" : "es",
		      s->r->t.dns_ms);
		connect_to(s, addrs, n);
		return;
	}
	/* Pick the most telling of the two outcomes. */
	e = o->only4 ? e4 : o->only6 ? e6 : (e4 != DNS_NODATA && e4 != DNS_OK ? e4 : e6);
	if (e == DNS_OK)
		e = DNS_NODATA;
	if (e == DNS_NODATA)
		result_add(s->r, SEV_CRITICAL, "dns-no-address", "%s has no %s address", s->host,
		           o->only4 ? "IPv4 (A)" : o->only6 ? "IPv6 (AAAA)" : "A or AAAA");
	else
		result_add(s->r, SEV_CRITICAL, dns_err_code(e), "cannot resolve %s: %s", s->host,
		           dns_err_name(e));
	sess_event(s, TEV_DNS_FAILED, "DNS lookup of %s failed: %s", s->host, dns_err_name(e));
	sess_finish(s);
}

/* ---- life cycle ---- */

/* Closes the connection, whatever it has reached. */
static void session_teardown(struct smtp_session *s)
{
	loop_timer_stop(s->loop, &s->timer);
	if (s->dq != NULL) {
		dns_cancel(s->dq);
		s->dq = NULL;
	}
	if (s->conn != NULL) {
		conn_cancel(s->conn);
		s->conn = NULL;
	}
	if (s->fd >= 0) {
		loop_del_fd(s->loop, s->fd);
		tlsio_free(s->tls);
		s->tls = NULL;
		close(s->fd);
		s->fd = -1;
	}
	auth_wipe(s->wbuf, sizeof(s->wbuf));
	s->wlen = s->woff = 0;
}

/* The end of the dialogue, whatever ended it: then the callback. */
void sess_finish(struct smtp_session *s)
{
	if (over(s))
		return;
	session_teardown(s);
	s->r->t.total_ms = since(s->t_start);
	s->finished = true;
	s->state = SMTP_ST_DONE;
	secrets_wipe(s);
	s->cb(s->cbarg, s);
}

struct smtp_session *smtp_session_new(struct loop *l, struct dns *dns,
                                      const struct probe_params *p,
                                      const struct session_plan *plan,
                                      const char *host, uint16_t port, int literal,
                                      struct result *r, session_done_cb cb, void *arg)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));

	s->loop = l;
	s->dns = dns;
	s->p = p;
	s->plan = *plan;
	s->r = r;
	s->cb = cb;
	s->cbarg = arg;
	s->fd = -1;
	snprintf(s->host, sizeof(s->host), "%s", host);
	s->port = port;
	s->literal = literal;
	if ((plan->steps & SESSION_STEP_AUTH) || plan->legacy_hello != 0)
		s->rare = xcalloc(1, sizeof(*s->rare));
	loop_timer_init(&s->timer, on_timeout, s);
	reply_parser_init(&s->rp, on_server_line, s);
	return s;
}

void smtp_session_set_addrs(struct smtp_session *s, const struct dns_addr *a,
                            size_t n, double dns_ms)
{
	if (n > DNS_MAX_ADDRS)
		n = DNS_MAX_ADDRS;
	memcpy(s->preset, a, n * sizeof(*a));
	s->npreset = n;
	s->preset_dns_ms = dns_ms;
}

void smtp_session_start(struct smtp_session *s)
{
	const struct probe_params *o = s->p;
	struct dns_addr a;

	s->t_start = loop_now();
	s->t0 = s->plan.t0 != 0 ? s->plan.t0 : s->t_start;
	if (s->npreset > 0) {
		s->r->t.dns_ms = s->preset_dns_ms;
		connect_to(s, s->preset, s->npreset);
		return;
	}
	if (s->literal) {
		memset(&a, 0, sizeof(a));
		a.family = s->literal;
		inet_pton(s->literal, s->host, a.addr);
		if ((o->only4 && a.family != AF_INET) || (o->only6 && a.family != AF_INET6)) {
			result_add(s->r, SEV_CRITICAL, "dns-no-address",
			           "%s is not an %s address", s->host, o->only4 ? "IPv4" : "IPv6");
			sess_finish(s);
			return;
		}
		connect_to(s, &a, 1);
		return;
	}
	sess_set_state(s, SMTP_ST_RESOLVE);
	s->dq = dns_resolve(s->dns, s->host, !o->only6, !o->only4, on_resolved, s);
	if (s->dq == NULL && s->state == SMTP_ST_RESOLVE && !s->finished) {
		/* Not answered from inside the call, and not queued either. */
		result_add(s->r, SEV_CRITICAL, "dns-error", "cannot start the DNS lookup of %s",
		           s->host);
		sess_finish(s);
	}
}

const char *smtp_session_waiting(const struct smtp_session *s)
{
	return s->finished ? "" : WAITS(s);
}

void smtp_session_stop(struct smtp_session *s, const char *why)
{
	if (s->finished)
		return;
	sess_event(s, TEV_NOTE, "%s", why);
	sess_finish(s);
}

void smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	if (!s->finished)
		session_teardown(s);
	reply_parser_clear(&s->rp);
	secrets_wipe(s);
	auth_wipe(s->wbuf, sizeof(s->wbuf));
	free(s->rare);
	free(s);
}
