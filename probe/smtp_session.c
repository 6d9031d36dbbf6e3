/* One probe: the SMTP dialogue as a state machine over the loop. One door
 * for state changes (session_set_state), one reply handler per state, and
 * every fault of the server recorded as a finding, never a C error. The
 * default flow sends only EHLO, STARTTLS, EHLO, QUIT (DESIGN.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "conn.h"
#include "smtp_ehlo.h"
#include "smtp_reply.h"
#include "smtp_session.h"

enum smtp_state {
	SMTP_ST_INIT = 0,
	SMTP_ST_RESOLVE,
	SMTP_ST_CONNECT,
	SMTP_ST_TLS_IMPLICIT,     /* handshake right after connect (smtps) */
	SMTP_ST_GREETING,
	SMTP_ST_EHLO,
	SMTP_ST_HELO,
	SMTP_ST_STARTTLS,
	SMTP_ST_TLS,              /* handshake after STARTTLS 220 */
	SMTP_ST_EHLO_TLS,
	SMTP_ST_DONE
};

static const char *const state_names[] = {
	"init", "resolve", "connect", "tls-implicit", "greeting", "ehlo", "helo",
	"starttls", "tls", "ehlo-tls", "done"
};
_Static_assert(sizeof(state_names) / sizeof(state_names[0]) == SMTP_ST_DONE + 1,
               "state name table");

/* What the user is told a step was waiting for when it timed out. */
static const char *const state_waits[] = {
	"", "the DNS answer", "the TCP connection", "the TLS handshake",
	"the greeting", "the reply to EHLO", "the reply to HELO",
	"the reply to STARTTLS", "the TLS handshake", "the reply to EHLO after TLS", ""
};
_Static_assert(sizeof(state_waits) / sizeof(state_waits[0]) == SMTP_ST_DONE + 1,
               "state wait table");

#define WBUF_MAX 600              /* longest command we send: EHLO + 255 */
#define GREETING_SLOW_MS 5000.0   /* tarpits and postscreen pauses above this */

struct smtp_session {
	const struct probe_env *env;  /* borrowed */
	struct result *r;             /* borrowed, owned by the run */
	session_done_cb cb;
	void *cbarg;

	enum smtp_state state;
	enum tls_mode mode;
	char host[254];
	uint16_t port;
	int literal;

	double t0;                    /* monotonic start */
	double t_step;                /* start of the current step */
	double t_connected;

	struct dns_query *dq;         /* owned until its callback */
	struct conn *conn;            /* owned until its callback */
	int fd;                       /* owned */
	struct tlsio *tls;            /* owned */
	struct loop_timer timer;      /* step deadline */
	struct reply_parser rp;

	struct dns_addr preset[DNS_MAX_ADDRS];   /* smtp_session_set_addrs */
	size_t npreset;
	double preset_dns_ms;

	char wbuf[WBUF_MAX];
	size_t wlen, woff;
	bool finished;
};

static double since(double t)
{
	return loop_now() - t;
}

static double tnow(const struct smtp_session *s)
{
	return loop_now() - s->t0;
}

static void event(struct smtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A '*' line in the transcript: what happened between the lines. */
static void event(struct smtp_session *s, const char *fmt, ...)
{
	char line[RESULT_MAX_LINE];
	va_list ap;
	int n;

	if (!s->r->want_transcript)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	result_transcript(s->r, tnow(s), '*', line,
	                  (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void on_server_line(void *arg, const char *line, size_t len)
{
	struct smtp_session *s = arg;

	result_transcript(s->r, tnow(s), 'S', line, len);
}

static void on_io(struct loop *l, int fd, unsigned events, void *arg);
static void on_timeout(struct loop *l, void *arg);
static void session_finish(struct smtp_session *s);

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
static void session_set_state(struct smtp_session *s, enum smtp_state st)
{
	const struct options *o = s->env->opt;
	double ms = st == SMTP_ST_CONNECT ? o->connect_timeout_ms : o->timeout_ms;

	s->state = st;
	s->t_step = loop_now();
	if (st == SMTP_ST_DONE || st == SMTP_ST_CONNECT)
		loop_timer_stop(s->env->loop, &s->timer);   /* conn has its own */
	else
		loop_timer_set(s->env->loop, &s->timer, ms);
}

/* ---- output ---- */

static void watch(struct smtp_session *s)
{
	unsigned ev = LOOP_READ;

	if (s->wlen > s->woff)
		ev |= LOOP_WRITE;
	loop_mod_fd(s->env->loop, s->fd, ev);
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
				           state_waits[s->state], err[0] ? err : "connection closed");
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
	if (s->woff == s->wlen)
		s->woff = s->wlen = 0;
	watch(s);
	return true;
}

static bool send_cmd(struct smtp_session *s, const char *cmd)
{
	size_t n = strlen(cmd);

	if (n + 2 > sizeof(s->wbuf) - s->wlen)
		return false;
	result_transcript(s->r, tnow(s), 'C', cmd, n);
	memcpy(s->wbuf + s->wlen, cmd, n);
	memcpy(s->wbuf + s->wlen + n, "\r\n", 2);
	s->wlen += n + 2;
	return flush(s);
}

/* QUIT goes out and we are done: the report never waits for the 221. */
static void quit(struct smtp_session *s)
{
	if (s->fd >= 0 && send_cmd(s, "QUIT"))
		shutdown(s->fd, SHUT_WR);
	session_finish(s);
}

/* ---- findings from what was learnt ---- */

static void note_size(struct smtp_session *s)
{
	const struct ehlo_info *e = s->r->ehlo_tls.present ? &s->r->ehlo_tls : &s->r->ehlo;
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
	size_compute(sz, s->env->opt->size_reserve);
}

static void note_tls(struct smtp_session *s)
{
	const struct options *o = s->env->opt;
	struct tls_info *ti = &s->r->tls;
	long min_days = 0;
	size_t i, worst = 0, k;
	char errs[400] = "";

	if (ti->nchain == 0) {
		result_add(s->r, SEV_CRITICAL, "cert-untrusted",
		           "the server presented no certificate");
		return;
	}
	for (i = 0; i < ti->nchain; i++)
		if (i == 0 || ti->chain[i].days_left < min_days) {
			min_days = ti->chain[i].days_left;
			worst = i;
		}
	for (i = 0; i < ti->nchain; i++)
		if (ti->chain[i].not_before > time(NULL))
			result_add(s->r, SEV_CRITICAL, "cert-not-yet-valid",
			           "certificate %zu (%.120s) is not valid before its start date",
			           i, ti->chain[i].subject ? ti->chain[i].subject : "?");
	if (min_days < 0)
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
	if (strncmp(ti->chain[0].key, "RSA ", 4) == 0 && atoi(ti->chain[0].key + 4) < 2048)
		result_add(s->r, SEV_WARNING, "cert-weak-key",
		           "the server key is %s: 2048 bits is the minimum considered safe",
		           ti->chain[0].key);
	if (ti->chain_total > ti->nchain)
		result_add(s->r, SEV_WARNING, "cert-chain-long",
		           "the server sent %zu certificates; only the first %zu are shown",
		           ti->chain_total, ti->nchain);
}

/* ---- the dialogue ---- */

static void tls_begin(struct smtp_session *s, enum smtp_state st)
{
	const struct options *o = s->env->opt;
	const char *name = o->servername ? o->servername : s->host;
	char err[160] = "";

	s->r->tls.attempted = true;
	snprintf(s->r->tls.servername, sizeof(s->r->tls.servername), "%s", name);
	s->tls = tlsio_new(s->env->tls, s->fd, name, err, sizeof(err));
	if (s->tls == NULL) {
		result_add(s->r, SEV_CRITICAL, "tls-handshake-failed",
		           "cannot start TLS: %s", err);
		snprintf(s->r->tls.error, sizeof(s->r->tls.error), "%s", err);
		quit(s);
		return;
	}
	event(s, "TLS handshake started (SNI %s)", name);
	session_set_state(s, st);
	loop_mod_fd(s->env->loop, s->fd, LOOP_READ | LOOP_WRITE);
}

static void send_ehlo(struct smtp_session *s, enum smtp_state st)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "%s %s", st == SMTP_ST_HELO ? "HELO" : "EHLO",
	         s->env->opt->helo);
	session_set_state(s, st);
	if (!send_cmd(s, cmd))
		session_finish(s);
}

static void tls_done(struct smtp_session *s)
{
	struct tls_info *ti = &s->r->tls;
	char name[sizeof(ti->servername)];
	size_t i;

	/* tlsio_info fills the whole struct: hand it a copy of the name. */
	snprintf(name, sizeof(name), "%s", ti->servername);
	tlsio_info(s->tls, name, time(NULL), ti);
	ti->attempted = true;
	ti->ok = true;
	s->r->t.tls_ms = since(s->t_step);
	event(s, "TLS handshake complete: %s %s%s%s", ti->version, ti->cipher,
	      ti->group[0] ? " " : "", ti->group);
	for (i = 0; i < ti->nchain; i++) {
		const struct cert_info *c = &ti->chain[i];
		char until[32] = "?";
		struct tm tm;

		if (gmtime_r(&c->not_after, &tm) != NULL)
			strftime(until, sizeof(until), "%Y-%m-%d", &tm);
		event(s, "certificate %zu: %.200s, issued by %.200s, expires %s (%ld days)",
		      i, c->subject ? c->subject : "?", c->issuer ? c->issuer : "?",
		      until, c->days_left);
	}
	if (ti->trusted && ti->hostname_match)
		event(s, "verification OK: trusted chain, valid for %s", ti->servername);
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
		event(s, "verification failed: %s", why[0] ? why : "untrusted");
	}
	note_tls(s);
	reply_parser_reset(&s->rp);
	if (s->state == SMTP_ST_TLS_IMPLICIT)
		session_set_state(s, SMTP_ST_GREETING);
	else
		send_ehlo(s, SMTP_ST_EHLO_TLS);   /* at once: no extra round trip */
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
		loop_mod_fd(s->env->loop, s->fd, LOOP_READ);
		return;
	case TLSIO_WANT_WRITE:
		loop_mod_fd(s->env->loop, s->fd, LOOP_READ | LOOP_WRITE);
		return;
	case TLSIO_CLOSED:
	case TLSIO_FAIL:
		break;
	}
	if (rc == TLSIO_CLOSED && err[0] == '\0')
		snprintf(err, sizeof(err), "the server closed the connection during the handshake");
	snprintf(s->r->tls.error, sizeof(s->r->tls.error), "%s", err);
	event(s, "%s%s", strncmp(err, "TLS handshake", 13) == 0 ? "" : "TLS handshake failed: ", err);
	result_add(s->r, SEV_CRITICAL, "tls-handshake-failed", "%s%s%s",
	           strncmp(err, "TLS handshake", 13) == 0 ? "" : "TLS handshake failed: ",
	           err, s->state == SMTP_ST_TLS_IMPLICIT ?
	           " (if this port expects STARTTLS, use smtp:// or --starttls)" : "");
	s->r->t.tls_ms = since(s->t_step);
	session_finish(s);     /* no QUIT: the channel is unusable */
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
	for (e = p; *e && *e != ' ' && e - p < 255; e++)
		;
	if (e == p)
		return NULL;
	w = malloc((size_t)(e - p) + 1);
	if (w != NULL) {
		memcpy(w, p, (size_t)(e - p));
		w[e - p] = '\0';
	}
	return w;
}

/* A 421 may come at any point: the server is busy or tarpitting us.
 * Inconclusive, so a warning, never "down" (DESIGN.md). */
static bool busy(struct smtp_session *s, const struct smtp_reply *rep)
{
	if (rep->code != 421)
		return false;
	result_add(s->r, SEV_WARNING, "server-busy",
	           "the server answered 421 (service not available) while we waited for %s: "
	           "it is busy, rate-limiting or rejecting this client; try again later",
	           state_waits[s->state]);
	session_finish(s);
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
	if (busy(s, rep))
		return;
	if (rep->code != 220) {
		result_add(r, SEV_CRITICAL, "greeting-rejected",
		           "the server greeted with %d instead of 220: it does not accept this "
		           "client (%.200s)", rep->code, rep->nlines ? rep->lines[0] : "");
		quit(s);
		return;
	}
	send_ehlo(s, s->mode == TLS_MODE_IMPLICIT ? SMTP_ST_EHLO_TLS : SMTP_ST_EHLO);
}

static void after_ehlo(struct smtp_session *s)
{
	struct result *r = s->r;
	const char *auth = smtp_ehlo_find(&r->ehlo, "AUTH");

	r->starttls_offered = smtp_ehlo_find(&r->ehlo, "STARTTLS") != NULL;
	if (auth != NULL) {
		r->auth.mechanisms = strdup(auth);
		if (s->mode != TLS_MODE_IMPLICIT)
			result_add(r, SEV_INFO, "auth-before-tls",
			           "AUTH (%.100s) is offered before TLS: passwords could be sent "
			           "in clear text by a careless client", auth);
	}
	note_size(s);
	if (s->mode == TLS_MODE_NONE) {
		quit(s);
		return;
	}
	if (!r->starttls_offered) {
		if (s->env->opt->mode_set)
			result_add(r, SEV_CRITICAL, "starttls-missing",
			           "STARTTLS was required but the server does not offer it");
		else
			result_add(r, SEV_WARNING, "starttls-missing",
			           "the server does not offer STARTTLS: mail to and from it "
			           "travels unencrypted");
		quit(s);
		return;
	}
	session_set_state(s, SMTP_ST_STARTTLS);
	if (!send_cmd(s, "STARTTLS"))
		session_finish(s);
}

static void on_ehlo(struct smtp_session *s, const struct smtp_reply *rep)
{
	struct result *r = s->r;
	bool tls = s->state == SMTP_ST_EHLO_TLS;
	struct ehlo_info *e = tls ? &r->ehlo_tls : &r->ehlo;

	if (busy(s, rep))
		return;
	if (tls)
		r->t.ehlo_tls_ms = since(s->t_step);
	else
		r->t.ehlo_ms = since(s->t_step);
	if (s->state == SMTP_ST_EHLO && (rep->code == 500 || rep->code == 502 ||
	                                 rep->code == 504)) {
		result_add(r, SEV_WARNING, "ehlo-unsupported",
		           "the server does not understand EHLO (%d): it offers no extensions, "
		           "so no STARTTLS, SIZE or AUTH", rep->code);
		send_ehlo(s, SMTP_ST_HELO);
		return;
	}
	if (rep->code / 100 != 2) {
		result_add(r, SEV_CRITICAL, "ehlo-rejected", "the server refused %s with %d: %.200s",
		           s->state == SMTP_ST_HELO ? "HELO" : "EHLO", rep->code,
		           rep->nlines ? rep->lines[0] : "");
		quit(s);
		return;
	}
	smtp_ehlo_clear(e);
	if (smtp_ehlo_parse(rep, s->state == SMTP_ST_HELO, e) != 0) {
		result_add(r, SEV_CRITICAL, "internal-error", "out of memory");
		session_finish(s);
		return;
	}
	if (!tls) {
		after_ehlo(s);
		return;
	}
	/* After TLS the cleartext capabilities are forgotten; both are kept. */
	{
		const char *auth = smtp_ehlo_find(e, "AUTH");

		if (auth != NULL)
			r->auth.mechanisms_tls = strdup(auth);
	}
	note_size(s);
	quit(s);
}

static void on_starttls(struct smtp_session *s, const struct smtp_reply *rep,
                        size_t leftover)
{
	struct result *r = s->r;

	r->starttls_code = rep->code;
	r->t.starttls_ms = since(s->t_step);
	if (busy(s, rep))
		return;
	if (rep->code != 220) {
		result_add(r, SEV_CRITICAL, "starttls-refused",
		           "the server offers STARTTLS but answered it with %d: %.200s",
		           rep->code, rep->nlines ? rep->lines[0] : "");
		quit(s);
		return;
	}
	if (leftover > 0) {
		/* Bytes after the 220 came before encryption: whatever sent them
		 * could be injecting commands (CVE-2011-0411 family). Drop them. */
		result_add(r, SEV_CRITICAL, "starttls-injection",
		           "%zu byte%s arrived together with the 220 reply to STARTTLS: a "
		           "plaintext injection symptom; they were discarded", leftover,
		           leftover == 1 ? "" : "s");
		event(s, "%zu unexpected byte%s after the 220 discarded", leftover,
		      leftover == 1 ? "" : "s");
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
		result_transcript(r, tnow(s), 'S', s->rp.line, s->rp.linelen);
	if (svc != NULL && s->state == SMTP_ST_GREETING)
		result_add(r, SEV_CRITICAL, "not-smtp",
		           "this is not an SMTP server: it looks like %s", svc);
	else if (rc == REPLY_ERR_LONG_LINE)
		result_add(r, SEV_CRITICAL, "reply-too-long",
		           "a reply line exceeded %d bytes while waiting for %s",
		           REPLY_MAX_LINE, state_waits[s->state]);
	else if (rc == REPLY_ERR_TOO_MANY)
		result_add(r, SEV_CRITICAL, "reply-too-large",
		           "a reply exceeded %d lines or %d bytes while waiting for %s",
		           REPLY_MAX_LINES, REPLY_MAX_BYTES, state_waits[s->state]);
	else
		result_add(r, SEV_CRITICAL, "protocol-error",
		           "malformed reply while waiting for %s: %s", state_waits[s->state],
		           reply_rc_name(rc));
	session_finish(s);
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
	switch (s->state) {
	case SMTP_ST_GREETING:
		on_greeting(s, rep);
		break;
	case SMTP_ST_EHLO:
	case SMTP_ST_HELO:
	case SMTP_ST_EHLO_TLS:
		on_ehlo(s, rep);
		break;
	case SMTP_ST_STARTTLS:
		on_starttls(s, rep, leftover);
		break;
	default:
		/* A reply nobody asked for (e.g. after QUIT): ignore. */
		break;
	}
}

static bool reading_replies(const struct smtp_session *s)
{
	return s->state == SMTP_ST_GREETING || s->state == SMTP_ST_EHLO ||
	       s->state == SMTP_ST_HELO || s->state == SMTP_ST_STARTTLS ||
	       s->state == SMTP_ST_EHLO_TLS;
}

static void closed(struct smtp_session *s, const char *why)
{
	if (s->rp.linelen > 0)
		result_transcript(s->r, tnow(s), 'S', s->rp.line, s->rp.linelen);
	event(s, "connection closed by the server%s%s", why ? ": " : "", why ? why : "");
	result_add(s->r, SEV_CRITICAL, "connection-closed",
	           "the server closed the connection while we waited for %s%s%s",
	           state_waits[s->state], why ? ": " : "", why ? why : "");
	session_finish(s);
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
	if (s->finished)
		return;
	if (s->state == SMTP_ST_TLS || s->state == SMTP_ST_TLS_IMPLICIT) {
		tls_step(s);
		if (s->finished || s->state == SMTP_ST_TLS || s->state == SMTP_ST_TLS_IMPLICIT)
			return;
		/* Handshake done: records may already wait inside mbedTLS. */
		events |= LOOP_READ;
	}
	if ((events & LOOP_WRITE) && s->wlen > s->woff && !flush(s)) {
		session_finish(s);
		return;
	}
	if (!(events & LOOP_READ) && (s->tls == NULL || tlsio_pending(s->tls) == 0))
		return;
	read_replies(s);
}

static void on_timeout(struct loop *l, void *arg)
{
	struct smtp_session *s = arg;
	double secs = s->env->opt->timeout_ms / 1000.0;

	(void)l;
	if (s->state == SMTP_ST_GREETING)
		result_add(s->r, SEV_CRITICAL, "timeout",
		           "no greeting within %.3g s (a stalled server, or a port that expects "
		           "implicit TLS: try smtps:// or --implicit-tls)", secs);
	else
		result_add(s->r, SEV_CRITICAL, "timeout", "no answer within %.3g s while waiting for %s",
		           secs, state_waits[s->state]);
	if (s->rp.linelen > 0)
		result_transcript(s->r, tnow(s), 'S', s->rp.line, s->rp.linelen);
	event(s, "timed out waiting for %s", state_waits[s->state]);
	session_finish(s);
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
		event(s, "connection failed: %s", detail);
		session_finish(s);
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
	s->t_connected = loop_now();
	event(s, "connected to %s port %u in %.1f ms", r->address, s->port, r->t.connect_ms);
	if (loop_add_fd(s->env->loop, fd, LOOP_READ, on_io, s) != 0) {
		result_add(r, SEV_CRITICAL, "internal-error", "cannot watch the socket");
		session_finish(s);
		return;
	}
	reply_parser_init(&s->rp, on_server_line, s);
	if (s->mode == TLS_MODE_IMPLICIT)
		tls_begin(s, SMTP_ST_TLS_IMPLICIT);
	else
		session_set_state(s, SMTP_ST_GREETING);
}

static void connect_to(struct smtp_session *s, const struct dns_addr *addrs, size_t n)
{
	const struct options *o = s->env->opt;
	char first[64];

	session_set_state(s, SMTP_ST_CONNECT);
	conn_addr_text(&addrs[0], first, sizeof(first));
	event(s, "connecting to %s port %u%s", n == 1 ? first : s->host, s->port,
	      n > 1 ? " (Happy Eyeballs over its addresses)" : "");
	s->conn = conn_start(s->env->loop, addrs, n, s->port, 250.0, o->connect_timeout_ms,
	                     s->r->attempts, &s->r->nattempts, RESULT_MAX_ATTEMPTS,
	                     on_connected, s);
	if (s->conn == NULL) {
		result_add(s->r, SEV_CRITICAL, "internal-error", "cannot start connecting");
		session_finish(s);
	}
}

static const char *dns_code(enum dns_err e)
{
	switch (e) {
	case DNS_NXDOMAIN: return "dns-nxdomain";
	case DNS_NODATA:   return "dns-no-address";
	case DNS_SERVFAIL: return "dns-servfail";
	case DNS_TIMEOUT:  return "dns-timeout";
	default:           return "dns-error";
	}
}

static void on_resolved(void *arg, const struct dns_answer *ans)
{
	struct smtp_session *s = arg;
	const struct options *o = s->env->opt;
	const struct dns_addr *addrs = ans->addrs;
	size_t n = ans->n;
	enum dns_err e4 = ans->e4, e6 = ans->e6, e;

	s->dq = NULL;
	s->r->t.dns_ms = since(s->t0);
	if (n > 0) {
		event(s, "%s resolved to %zu address%s in %.1f ms", s->host, n, n == 1 ? "" : "es",
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
		result_add(s->r, SEV_CRITICAL, dns_code(e), "cannot resolve %s: %s", s->host,
		           dns_err_name(e));
	event(s, "DNS lookup of %s failed: %s", s->host, dns_err_name(e));
	session_finish(s);
}

/* ---- life cycle ---- */

static void session_finish(struct smtp_session *s)
{
	struct result *r = s->r;

	if (s->finished)
		return;
	s->finished = true;
	s->state = SMTP_ST_DONE;
	loop_timer_stop(s->env->loop, &s->timer);
	if (s->dq != NULL) {
		dns_cancel(s->dq);
		s->dq = NULL;
	}
	if (s->conn != NULL) {
		conn_cancel(s->conn);
		s->conn = NULL;
	}
	if (s->fd >= 0) {
		loop_del_fd(s->env->loop, s->fd);
		tlsio_free(s->tls);
		s->tls = NULL;
		close(s->fd);
		s->fd = -1;
	}
	r->t.total_ms = since(s->t0);
	result_finish(r);
	s->cb(s->cbarg, s);
}

struct smtp_session *smtp_session_new(const struct probe_env *env,
                                      const struct target *t, const char *spec,
                                      struct result *r, session_done_cb cb, void *arg)
{
	const struct options *o = env->opt;
	struct smtp_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->env = env;
	s->r = r;
	s->cb = cb;
	s->cbarg = arg;
	s->fd = -1;
	snprintf(s->host, sizeof(s->host), "%s", t->host);
	s->literal = t->literal;
	/* Port: --port, else the target's, else 25. Mode: option, else scheme,
	 * else implicit TLS on 465, else STARTTLS. */
	s->port = o->port ? o->port : t->port ? t->port : 25;
	if (o->mode_set)
		s->mode = o->mode;
	else if (t->mode_set)
		s->mode = t->mode;
	else
		s->mode = s->port == 465 ? TLS_MODE_IMPLICIT : TLS_MODE_STARTTLS;
	loop_timer_init(&s->timer, on_timeout, s);
	reply_parser_init(&s->rp, on_server_line, s);

	r->target = strdup(spec);
	r->host = strdup(t->host);
	r->port = s->port;
	r->tls_mode = s->mode;
	r->want_transcript = o->transcript || o->explain;
	r->warn_days = o->warn_days;
	r->crit_days = o->crit_days;
	r->size.reserve = o->size_reserve;
	r->started = time(NULL);
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
	const struct options *o = s->env->opt;
	struct dns_addr a;

	s->t0 = loop_now();
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
			session_finish(s);
			return;
		}
		connect_to(s, &a, 1);
		return;
	}
	session_set_state(s, SMTP_ST_RESOLVE);
	s->dq = dns_resolve(s->env->dns, s->host, !o->only6, !o->only4, on_resolved, s);
	if (s->dq == NULL && s->state == SMTP_ST_RESOLVE && !s->finished) {
		/* Not answered from inside the call, and not queued either. */
		result_add(s->r, SEV_CRITICAL, "dns-error", "cannot start the DNS lookup of %s",
		           s->host);
		session_finish(s);
	}
}

void smtp_session_abort(struct smtp_session *s, const char *why)
{
	if (s->finished)
		return;
	result_add(s->r, SEV_CRITICAL, "timeout", "%s (while waiting for %s)", why,
	           state_waits[s->state][0] ? state_waits[s->state] : "the server");
	event(s, "%s", why);
	session_finish(s);
}

void smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	if (!s->finished) {
		loop_timer_stop(s->env->loop, &s->timer);
		dns_cancel(s->dq);
		conn_cancel(s->conn);
		if (s->fd >= 0) {
			loop_del_fd(s->env->loop, s->fd);
			tlsio_free(s->tls);
			close(s->fd);
		}
	}
	reply_parser_clear(&s->rp);
	free(s);
}
