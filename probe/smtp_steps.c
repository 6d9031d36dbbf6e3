/* The dialogue's steps after EHLO, each only when the plan asks:
 * --check-tls-required (MAIL FROM:<> before STARTTLS, then RSET), --auth
 * (AUTH, secrets never shown, EHLO again after a login) and --from/--rcpt
 * (MAIL, RCPT, RSET; never DATA). Part of the session: see
 * smtp_session_int.h; a new step gets a row in step_table below. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "smtp_session_int.h"
#include "xmalloc.h"

/* ---- steps after EHLO: --check-tls-required, --auth, --from/--rcpt ---- */

/* "250 2.1.0 Ok" from a reply: code and lines joined by spaces, bounded,
 * and never a credential the server echoed. */
static void record(struct smtp_session *s, struct cmd_reply *cr, const struct smtp_reply *rep)
{
	size_t o = 0;

	cr->code = rep->code;
	cr->text[0] = '\0';
	for (size_t i = 0; i < rep->nlines && o + 2 < sizeof(cr->text); i++) {
		int n = snprintf(cr->text + o, sizeof(cr->text) - o, "%s%s", i ? " " : "",
		                 rep->lines[i]);

		if (n < 0)
			break;
		o += (size_t)n;
		if (o >= sizeof(cr->text))
			o = sizeof(cr->text) - 1;
	}
	if (sess_has_secret(s, cr->text, strlen(cr->text)))
		snprintf(cr->text, sizeof(cr->text), "<redacted: the server echoed a credential>");
}

static bool tlsreq_start(struct smtp_session *s)
{
	struct tlsreq_info *tr = &s->r->tls_required;

	tr->tested = true;
	tr->required = -1;
	tr->mail.sent = true;
	sess_set_state(s, SMTP_ST_TLSREQ_MAIL);
	if (!sess_send_cmd(s, "MAIL FROM:<>"))
		sess_finish(s);
	return true;
}

/* RFC 3207 4: a server may refuse mail before STARTTLS with 530 5.7.0. On
 * a submission service (port 587, or AUTH offered in clear) accepting it
 * means clients can hand over mail unencrypted: a warning. On an MX (port
 * 25) it is the norm: RFC 3207 forbids publicly referenced relays to
 * require TLS, so it is only noted. */
void steps_on_tlsreq(struct smtp_session *s, const struct smtp_reply *rep)
{
	struct result *r = s->r;
	struct tlsreq_info *tr = &r->tls_required;

	if (sess_busy(s, rep))
		return;
	if (s->state == SMTP_ST_TLSREQ_RSET) {
		record(s, &tr->rset, rep);
		steps_before_tls(s);
		return;
	}
	record(s, &tr->mail, rep);
	if (rep->code / 100 == 2) {
		bool submission = s->port == 587 || r->auth.mechanisms != NULL;

		tr->required = 0;
		result_add(r, submission ? SEV_WARNING : SEV_INFO, "tls-not-required",
		           "MAIL FROM was accepted before STARTTLS (%d): clients may send mail "
		           "unencrypted%s", rep->code, submission ?
		           " to this submission service; require TLS (e.g. Postfix "
		           "smtpd_tls_security_level=encrypt on port 587)" :
		           " (normal for a public MX: RFC 3207 forbids it to require TLS)");
	} else if (rep->code == 530 || strncmp(rep->enhanced, "5.7.0", 5) == 0 ||
	           (rep->nlines > 0 && strcasestr(rep->lines[0], "TLS") != NULL)) {
		tr->required = 1;
	} else {
		snprintf(tr->note, sizeof(tr->note), "MAIL FROM:<> was refused with %d, which "
		         "does not say whether TLS is required", rep->code);
	}
	tr->rset.sent = true;
	sess_set_state(s, SMTP_ST_TLSREQ_RSET);
	if (!sess_send_cmd(s, "RSET"))
		sess_finish(s);
}

static void auth_skip(struct smtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --auth asked for, but no AUTH is sent: say why, as a finding too. */
static void auth_skip(struct smtp_session *s, const char *fmt, ...)
{
	struct auth_info *a = &s->r->auth;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->skipped, sizeof(a->skipped), fmt, ap);
	va_end(ap);
	result_add(s->r, SEV_WARNING, "auth-not-tested", "the login was not tested: %s",
	           a->skipped);
	sess_event(s, TEV_AUTH_SKIPPED, "AUTH not tested: %s", a->skipped);
}

/* True when AUTH went out (its reply is awaited). */
static bool auth_start(struct smtp_session *s)
{
	const struct probe_params *o = s->p;
	struct auth_info *a = &s->r->auth;
	bool enc = s->tls != NULL;
	const char *offered = enc ? a->mechanisms_tls : a->mechanisms;
	char msg[AUTH_MAX_MSG], cmd[AUTH_MAX_MSG + 16], form[AUTH_MAX_MSG];
	bool ok;

	if (!enc && !o->allow_plaintext_auth) {
		auth_skip(s, "the connection is not encrypted, so the password would travel "
		          "in clear text (--allow-plaintext-auth permits it)");
		return false;
	}
	if (offered == NULL) {
		auth_skip(s, "the server does not offer AUTH%s", enc ? " after TLS" : "");
		return false;
	}
	if (o->auth_mech != NULL) {
		s->rare->auth.mech = auth_mech_parse(o->auth_mech);
		if (!auth_mech_offered(offered, s->rare->auth.mech)) {
			auth_skip(s, "%s is not among the mechanisms offered (%.100s)",
			          auth_mech_name(s->rare->auth.mech), offered);
			return false;
		}
	} else if ((s->rare->auth.mech = auth_mech_pick(offered)) == AUTH_MECH_NONE) {
		auth_skip(s, "none of the mechanisms offered (%.100s) is one the probe "
		          "speaks (SCRAM-SHA-256, CRAM-MD5, PLAIN, LOGIN)", offered);
		return false;
	}
	/* Read once at start (cli_parse); never from the file again here. */
	if (o->password == NULL || o->password[0] == '\0' ||
	    strlen(o->password) >= sizeof(s->rare->auth.pw)) {
		auth_skip(s, "no password");
		return false;
	}
	memcpy(s->rare->auth.pw, o->password, strlen(o->password) + 1);
	sess_secrets_add(s, s->rare->auth.pw);
	if (auth_b64((const unsigned char *)s->rare->auth.pw, strlen(s->rare->auth.pw), form, sizeof(form)) == 0)
		sess_secrets_add(s, form);
	if (strlen(s->rare->auth.pw) * 2 < sizeof(form)) {
		auth_hex((const unsigned char *)s->rare->auth.pw, strlen(s->rare->auth.pw), form);
		sess_secrets_add(s, form);
	}
	auth_wipe(form, sizeof(form));
	a->tested = true;
	snprintf(a->mechanism, sizeof(a->mechanism), "%s", auth_mech_name(s->rare->auth.mech));
	s->rare->auth.step = 0;
	sess_set_state(s, SMTP_ST_AUTH);
	if (s->rare->auth.mech == AUTH_MECH_PLAIN) {
		/* RFC 4954 initial response: one round trip. */
		if (auth_plain(o->auth_user, s->rare->auth.pw, msg, sizeof(msg)) != 0) {
			auth_wipe(msg, sizeof(msg));
			a->tested = false;
			auth_skip(s, "the user name and password are too long");
			return false;
		}
		sess_secrets_add(s, msg);
		snprintf(cmd, sizeof(cmd), "AUTH PLAIN %s", msg);
		ok = sess_send_secret(s, cmd, "AUTH PLAIN <redacted>");
		auth_wipe(msg, sizeof(msg));
		auth_wipe(cmd, sizeof(cmd));
	} else if (s->rare->auth.mech == AUTH_MECH_SCRAM_SHA256) {
		/* The client-first message carries only the user name and a fresh
		 * nonce: it goes out with AUTH (RFC 4954 initial response). */
		unsigned char rnd[18];
		char nonce[32];

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd) ||
		    auth_b64(rnd, sizeof(rnd), nonce, sizeof(nonce)) != 0 ||
		    auth_scram_first(&s->rare->auth.scram, o->auth_user, nonce, msg, sizeof(msg)) != 0) {
			a->tested = false;
			auth_skip(s, "cannot start SCRAM (no randomness, or the user name is too long)");
			return false;
		}
		snprintf(cmd, sizeof(cmd), "AUTH SCRAM-SHA-256 %s", msg);
		ok = sess_send_cmd(s, cmd);
	} else {
		snprintf(cmd, sizeof(cmd), "AUTH %s", auth_mech_name(s->rare->auth.mech));
		ok = sess_send_cmd(s, cmd);
	}
	if (!ok)
		sess_finish(s);
	return true;
}

static void auth_end(struct smtp_session *s, const struct smtp_reply *rep)
{
	const struct probe_params *o = s->p;
	struct auth_info *a = &s->r->auth;
	struct cmd_reply cr;
	char text[sizeof(cr.text) + 8];

	record(s, &cr, rep);
	snprintf(text, sizeof(text), "%d %s", cr.code, cr.text);
	free(a->reply);
	a->reply = xstrdup(text);
	a->accepted = rep->code == 235 || rep->code / 100 == 2;
	/* SCRAM succeeds only with the server's proof (RFC 5802 5): a 235
	 * without a verified v= comes from a server that does not know the
	 * password and only pretends to accept it. */
	if (a->accepted && s->rare->auth.mech == AUTH_MECH_SCRAM_SHA256 && !s->rare->auth.scram.verified) {
		a->accepted = false;
		sess_event(s, TEV_NOTE, "%d without the server's SCRAM signature: the login is not "
		           "counted as accepted", rep->code);
		result_add(s->r, SEV_CRITICAL, "auth-scram-server-unverified",
		           "the server answered %d to SCRAM-SHA-256 %s, without proving that it "
		           "knows the password (no server signature v=): it only pretends to "
		           "accept the login (an impostor, or a broken server)", rep->code,
		           s->rare->auth.step == 0 ? "at once, before any exchange" :
		           "right after the client's proof");
	}
	auth_wipe(s->rare->auth.pw, sizeof(s->rare->auth.pw));
	auth_wipe(&s->rare->auth.scram, sizeof(s->rare->auth.scram));
	if (!a->accepted && !result_has(s->r, "auth-scram-server-unverified"))
		result_add(s->r, SEV_CRITICAL, "auth-failed",
		           "the server rejected the login of %.100s with %s: %.200s",
		           o->auth_user, a->mechanism, text);
	if (a->accepted) {
		sess_send_ehlo(s, SMTP_ST_EHLO_AUTH);   /* then steps_post() goes on */
		return;
	}
	steps_post(s);
}

/* A 334 asks for the next part of the login. */
void steps_on_auth(struct smtp_session *s, const struct smtp_reply *rep)
{
	const struct probe_params *o = s->p;
	char msg[AUTH_MAX_MSG];
	int rc = -1;
	bool ok;

	if (sess_busy(s, rep))
		return;
	if (rep->code != 334) {
		auth_end(s, rep);
		return;
	}
	s->rare->auth.step++;
	if (s->rare->auth.mech == AUTH_MECH_LOGIN && s->rare->auth.step == 1)
		rc = auth_b64((const unsigned char *)o->auth_user, strlen(o->auth_user),
		              msg, sizeof(msg));
	else if (s->rare->auth.mech == AUTH_MECH_LOGIN && s->rare->auth.step == 2)
		rc = auth_b64((const unsigned char *)s->rare->auth.pw, strlen(s->rare->auth.pw), msg, sizeof(msg));
	else if (s->rare->auth.mech == AUTH_MECH_CRAM_MD5 && s->rare->auth.step == 1)
		rc = auth_cram_md5(o->auth_user, s->rare->auth.pw, rep->nlines ? rep->lines[0] : "",
		                   msg, sizeof(msg));
	else if (s->rare->auth.mech == AUTH_MECH_SCRAM_SHA256 && s->rare->auth.step == 1) {
		char err[160] = "";

		rc = auth_scram_final(&s->rare->auth.scram, s->rare->auth.pw, rep->nlines ? rep->lines[0] : "",
		                      msg, sizeof(msg), err, sizeof(err));
		if (rc != 0)
			result_add(s->r, SEV_WARNING, "auth-scram-invalid",
			           "the SCRAM exchange was cancelled: %s", err);
	} else if (s->rare->auth.mech == AUTH_MECH_SCRAM_SHA256 && s->rare->auth.step == 2) {
		/* The server proves it knows the password as well; a server that
		 * cannot is not the one the credentials belong to. */
		if (auth_scram_verify(&s->rare->auth.scram, rep->nlines ? rep->lines[0] : "") != 0) {
			result_add(s->r, SEV_CRITICAL, "auth-scram-server-unverified",
			           "the server's SCRAM signature is wrong: it does not know the "
			           "password (an impostor, or a broken server); login cancelled");
			rc = -1;
		} else {
			s->rare->auth.scram.verified = true;
			sess_event(s, TEV_NOTE, "the server's SCRAM signature is correct");
			msg[0] = '\0';   /* RFC 4954 4: an empty response ends the exchange */
			rc = 0;
		}
	}
	if (rc == 0) {
		ok = sess_send_secret(s, msg, msg[0] ? "<redacted>" : "");
	} else {
		/* A challenge we cannot answer: cancel (RFC 4954 4: "*"). */
		sess_event(s, TEV_NOTE, "unexpected AUTH challenge: the login is cancelled");
		ok = sess_send_cmd(s, "*");
	}
	auth_wipe(msg, sizeof(msg));
	if (!ok)
		sess_finish(s);
}

/* The open-relay rule (README): a recipient is "outside" unless its domain
 * is the host name probed (or --servername) or a parent domain of it with
 * at least two labels. That is all the probe can know of what a server is
 * responsible for. */
static bool domain_is_local(const char *dom, const char *host)
{
	size_t dn = strlen(dom), hn;

	if (host == NULL)
		return false;
	hn = strlen(host);
	if (hn > 0 && host[hn - 1] == '.')
		hn--;
	if (dn == 0 || dn > hn)
		return false;
	if (dn == hn)
		return strncasecmp(dom, host, hn) == 0;
	return host[hn - dn - 1] == '.' && strncasecmp(dom, host + hn - dn, dn) == 0 &&
	       strchr(dom, '.') != NULL;
}

static bool rcpt_outside(const struct smtp_session *s, const char *addr)
{
	const char *at = strrchr(addr, '@');
	char dom[256];
	size_t n;

	if (at == NULL)
		return false;
	snprintf(dom, sizeof(dom), "%s", at + 1);
	n = strlen(dom);
	if (n > 0 && dom[n - 1] == '.')
		dom[n - 1] = '\0';
	if (s->literal == 0 && domain_is_local(dom, s->host))
		return false;
	return !domain_is_local(dom, s->p->servername);
}

static void envelope_rset(struct smtp_session *s)
{
	s->r->envelope->rset.sent = true;
	sess_set_state(s, SMTP_ST_RSET);
	if (!sess_send_cmd(s, "RSET"))
		sess_finish(s);
}

static void send_rcpt(struct smtp_session *s)
{
	struct envelope_info *e = s->r->envelope;
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>", e->rcpt[s->envelope.rcpt_i].address);
	e->rcpt[s->envelope.rcpt_i].reply.sent = true;
	sess_set_state(s, SMTP_ST_RCPT);
	if (!sess_send_cmd(s, cmd))
		sess_finish(s);
}

static bool mail_start(struct smtp_session *s)
{
	const struct probe_params *o = s->p;
	struct envelope_info *e;
	char cmd[300];

	if (s->r->envelope == NULL)
		s->r->envelope = xcalloc(1, sizeof(*s->r->envelope));
	e = s->r->envelope;
	e->tested = true;
	snprintf(e->mail_from, sizeof(e->mail_from), "%s", o->mail_from);
	for (size_t i = 0; i < o->nrcpt && i < RESULT_MAX_RCPT; i++) {
		snprintf(e->rcpt[i].address, sizeof(e->rcpt[i].address), "%s", o->rcpt[i]);
		e->rcpt[i].outside = rcpt_outside(s, o->rcpt[i]);
		e->nrcpt = i + 1;
	}
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>", o->mail_from);
	e->mail.sent = true;
	sess_set_state(s, SMTP_ST_MAIL);
	if (!sess_send_cmd(s, cmd))
		sess_finish(s);
	return true;
}

/* MAIL, each RCPT, then RSET: never DATA or BDAT (the probe never sends mail). */
void steps_on_envelope(struct smtp_session *s, const struct smtp_reply *rep)
{
	struct result *r = s->r;
	struct envelope_info *e = r->envelope;

	if (sess_busy(s, rep))
		return;
	switch (s->state) {
	case SMTP_ST_MAIL:
		record(s, &e->mail, rep);
		if (rep->code / 100 == 2 && e->nrcpt > 0) {
			s->envelope.rcpt_i = 0;
			send_rcpt(s);
		} else {
			envelope_rset(s);
		}
		return;
	case SMTP_ST_RCPT: {
		__typeof__(e->rcpt[0]) *rc = &e->rcpt[s->envelope.rcpt_i];

		record(s, &rc->reply, rep);
		if (rep->code / 100 == 2 && rc->outside && !r->auth.accepted)
			result_add(r, SEV_CRITICAL, "open-relay",
			           "the server accepted a recipient in another domain (%.100s) "
			           "without authentication: it relays for this client (%d %.100s)",
			           rc->address, rep->code, rc->reply.text);
		if (++s->envelope.rcpt_i < e->nrcpt)
			send_rcpt(s);
		else
			envelope_rset(s);
		return;
	}
	default:
		record(s, &e->rset, rep);
		sess_quit(s);
		return;
	}
}

/* ---- --size-check: MAIL FROM ... SIZE=N and RSET, never DATA ---- */

/* RFC 1870 6.1: a server that enforces its fixed limit refuses a MAIL
 * whose SIZE= exceeds it, with 552 (RFC 3463: 5.3.4, "message too big for
 * system"). So SIZE=limit and SIZE=limit+1 show whether the limit is
 * enforced at MAIL, without a byte of message; where no limit is
 * advertised, bisection finds the one enforced. Each MAIL is undone by
 * RSET; with PIPELINING both go in one write. */
#define SIZE_PAIRS_MAX 12
#define SIZE_HUGE ((uint64_t)1 << 40)   /* 1 TiB: accepted, nothing is enforced at MAIL */

enum size_phase {
	SZ_AT_LIMIT,                  /* SIZE=limit: should be accepted */
	SZ_OVER_LIMIT,                /* SIZE=limit+1: refused when enforced at MAIL */
	SZ_HUGE,                      /* no limit advertised: is anything refused? */
	SZ_BISECT                     /* between lo (accepted) and hi (refused) */
};

enum size_answer { SZ_ACCEPTED, SZ_TOO_BIG, SZ_OTHER };

static enum size_answer size_answer(const struct smtp_reply *rep)
{
	if (rep->code / 100 == 2)
		return SZ_ACCEPTED;
	if (rep->code == 552 || strncmp(rep->enhanced, "5.3.4", 6) == 0)
		return SZ_TOO_BIG;
	return SZ_OTHER;
}

static void size_pair(struct smtp_session *s, uint64_t n)
{
	char cmd[320];

	s->size.n = n;
	s->r->size.pairs++;
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%.255s> SIZE=%llu", s->size.from, (unsigned long long)n);
	sess_set_state(s, SMTP_ST_SIZE_MAIL);
	if (!sess_send_cmd(s, cmd) || (s->size.pipelined && !sess_send_cmd(s, "RSET")))
		sess_finish(s);
}

/* The next SIZE=N between lo and hi: a factor of 16 down from the top
 * while nothing was accepted, the geometric middle while they are far
 * apart, then the arithmetic one; 0 when the answer is close enough
 * (within 1 in 1,000, or exact). */
static uint64_t size_next(const struct size_state *z)
{
	if (z->hi <= z->lo + 1 || (z->lo > 0 && z->hi - z->lo <= z->lo / 1000))
		return 0;
	if (z->lo == 0)
		return z->hi > 16 * 1024 ? z->hi / 16 : z->hi / 2;
	if (z->hi / z->lo >= 4) {
		uint64_t m = (uint64_t)sqrt((double)z->lo * (double)z->hi);

		if (m > z->lo && m < z->hi)
			return m;
	}
	return z->lo + (z->hi - z->lo) / 2;
}

static void size_done(struct smtp_session *s)
{
	struct size_info *sz = &s->r->size;

	sz->verified_known = s->size.lo > 0;
	sz->verified = s->size.lo;
	sz->refused = s->size.hi;
	if (sz->enforced == 1 && sz->has_limit && sz->verified_known &&
	    sz->verified < sz->limit)
		result_add(s->r, SEV_WARNING, "size-advertised-mismatch",
		           "the server advertises SIZE %llu but refuses SIZE=%llu at MAIL FROM; "
		           "the largest it accepted is %llu bytes: clients sizing messages by "
		           "the advertised limit will see them bounced",
		           (unsigned long long)sz->limit, (unsigned long long)sz->refused,
		           (unsigned long long)sz->verified);
	steps_post(s);
}

static bool size_start(struct smtp_session *s)
{
	const struct probe_params *o = s->p;
	struct size_info *sz = &s->r->size;
	const struct ehlo_info *e = s->r->ehlo_auth.present ? &s->r->ehlo_auth :
	                            s->r->ehlo_tls.present ? &s->r->ehlo_tls : &s->r->ehlo;

	memset(&s->size, 0, sizeof(s->size));
	sz->checked = true;
	sz->enforced = -1;
	s->size.pipelined = smtp_ehlo_find(e, "PIPELINING") != NULL;
	/* A submission server wants its user's address; an MX takes <>. */
	s->size.from = o->mail_from != NULL ? o->mail_from :
	               o->auth_user != NULL && s->r->auth.accepted && strchr(o->auth_user, '@') &&
	               strlen(o->auth_user) < 256 ? o->auth_user : "";
	if (sz->has_limit && sz->limit < SIZE_HUGE) {
		s->size.phase = SZ_AT_LIMIT;
		size_pair(s, sz->limit);
	} else {
		s->size.phase = SZ_HUGE;
		size_pair(s, SIZE_HUGE);
	}
	return true;
}

/* The MAIL's answer decides the next pair; RSET's only lets it go out. */
static void size_on_mail(struct smtp_session *s, const struct smtp_reply *rep)
{
	struct size_state *z = &s->size;
	struct size_info *sz = &s->r->size;
	enum size_answer a = size_answer(rep);
	uint64_t next = 0;

	if (a == SZ_OTHER) {
		/* 530 (log in first), 550 (sender refused), 451...: not about size. */
		snprintf(sz->note, sizeof(sz->note), "MAIL FROM:<%.60s> SIZE=%llu was refused with "
		         "%d%s%s, which is not about the size%s", z->from, (unsigned long long)z->n,
		         rep->code, rep->enhanced[0] ? " " : "", rep->enhanced,
		         sz->advertised ? "" : " (SIZE is not advertised)");
		z->phase = -1;
		return;
	}
	if (a == SZ_ACCEPTED && z->n > z->lo)
		z->lo = z->n;
	if (a == SZ_TOO_BIG && (z->hi == 0 || z->n < z->hi))
		z->hi = z->n;
	switch (z->phase) {
	case SZ_AT_LIMIT:
		if (a == SZ_ACCEPTED) {
			z->phase = SZ_OVER_LIMIT;
			next = z->n + 1;
		} else {
			z->phase = SZ_BISECT;          /* its own limit refused: find the real one */
			sz->enforced = 1;
			next = size_next(z);
		}
		break;
	case SZ_OVER_LIMIT:
		sz->enforced = a == SZ_TOO_BIG ? 1 : 0;
		if (a == SZ_ACCEPTED) {
			z->lo = sz->limit;             /* verified up to the advertised limit */
			result_add(s->r, SEV_INFO, "size-not-enforced-at-mail",
			           "MAIL FROM with SIZE=%llu, one byte over the advertised limit, was "
			           "accepted: the limit is enforced only after the message is sent "
			           "(clients learn of a too-large message after uploading it)",
			           (unsigned long long)z->n);
		}
		break;
	case SZ_HUGE:
		if (a == SZ_ACCEPTED) {
			sz->enforced = 0;
			z->lo = 0;                     /* no limit verified */
			result_add(s->r, SEV_INFO, "size-not-enforced-at-mail",
			           "MAIL FROM with SIZE=%llu (1 TiB) was accepted: no size limit is "
			           "enforced when the message is announced; a limit, if any, is "
			           "applied only after the message is sent",
			           (unsigned long long)z->n);
		} else {
			sz->enforced = 1;
			z->phase = SZ_BISECT;
			next = size_next(z);
		}
		break;
	default:
		next = size_next(z);
		break;
	}
	if (sz->pairs >= SIZE_PAIRS_MAX)
		next = 0;
	z->n = next;
}

void steps_on_size(struct smtp_session *s, const struct smtp_reply *rep)
{
	struct size_state *z = &s->size;

	if (sess_busy(s, rep))
		return;
	if (s->state == SMTP_ST_SIZE_MAIL) {
		size_on_mail(s, rep);
		sess_set_state(s, SMTP_ST_SIZE_RSET);
		if (!z->pipelined && !sess_send_cmd(s, "RSET"))
			sess_finish(s);
		return;
	}
	/* RSET answered: the next pair, or the end. */
	if (z->phase >= 0 && z->n > 0)
		size_pair(s, z->n);
	else
		size_done(s);
}

/* ---- the step table ---- */

/* The post-EHLO steps in the order they run. start() returns true when
 * a command went out (its reply handler, named in the state table of
 * smtp_session.c, carries on) or the dialogue ended; false when the step
 * had nothing to send (it said why), so the next one is tried. A step
 * that ends calls steps_before_tls (cleartext steps) or steps_post. */
static const struct step_def {
	unsigned bit;                 /* enum session_step */
	bool before_tls;              /* on the cleartext channel, before STARTTLS */
	bool (*start)(struct smtp_session *s);
} step_table[] = {
	{ SESSION_STEP_TLSREQ,   true,  tlsreq_start },
	{ SESSION_STEP_AUTH,     false, auth_start },
	{ SESSION_STEP_SIZE,     false, size_start },
	{ SESSION_STEP_ENVELOPE, false, mail_start },
};

static bool steps_run(struct smtp_session *s, bool before_tls)
{
	for (size_t i = 0; i < sizeof(step_table) / sizeof(step_table[0]); i++) {
		const struct step_def *d = &step_table[i];

		if (d->before_tls != before_tls || !(s->plan.steps & d->bit) ||
		    (s->steps_done & d->bit))
			continue;
		s->steps_done |= d->bit;
		if (d->start(s))
			return true;
	}
	return false;
}

/* After the cleartext EHLO: the steps that need the cleartext channel,
 * then on to STARTTLS. */
void steps_before_tls(struct smtp_session *s)
{
	if (!steps_run(s, true))
		sess_to_tls(s);
}

/* Channel ready (TLS up, or cleartext by choice or necessity): the steps
 * asked for, in order, then QUIT. */
void steps_post(struct smtp_session *s)
{
	if (!steps_run(s, false))
		sess_quit(s);
}

void steps_wipe(struct smtp_session *s)
{
	auth_wipe(s->rare->auth.pw, sizeof(s->rare->auth.pw));
	auth_wipe(&s->rare->auth.scram, sizeof(s->rare->auth.scram));
}
