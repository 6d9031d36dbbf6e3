/* One probe's extra connections, each only when asked and one at a time
 * to the address the dialogue ran on: TLS 1.2 only, TLS 1.3 only, legacy
 * 1.0/1.1 ClientHellos (--tls-versions), and STARTTLS+NOOP in one packet
 * (--starttls-injection). Part of the session: see smtp_session_int.h. */
#include <arpa/inet.h>
#include <errno.h>
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

const char *const extra_kind_names[KIND_END] = {
	"main", "TLS 1.2 only (--tls-versions)", "TLS 1.3 only (--tls-versions)",
	"TLS 1.0 ClientHello (--tls-versions)", "TLS 1.1 ClientHello (--tls-versions)",
	"STARTTLS then NOOP in one packet (--starttls-injection)"
};
_Static_assert(sizeof(extra_kind_names) / sizeof(extra_kind_names[0]) == KIND_END, "kind names");

static const uint16_t kind_version[] = { 0, 0x0303, 0x0304, 0x0301, 0x0302, 0 };
_Static_assert(sizeof(kind_version) / sizeof(kind_version[0]) == KIND_END, "kind versions");

/* ---- extra connections ---- */

void extra_after_ehlo(struct smtp_session *s)
{
	static const char two[] = "STARTTLS\r\nNOOP\r\n";

	if (!s->r->starttls_offered) {
		result_add(s->r, SEV_CRITICAL, "starttls-missing",
		           "the server did not offer STARTTLS on this connection");
		sess_quit(s);
		return;
	}
	sess_set_state(s, SMTP_ST_STARTTLS);
	if (s->kind != KIND_INJECT) {
		if (!sess_send_cmd(s, "STARTTLS"))
			sess_finish(s);
		return;
	}
	/* Both commands in one write: a flawed server reads NOOP from the
	 * cleartext buffer and answers it inside TLS (CVE-2011-0411). */
	result_transcript(s->r, sess_tnow(s), 'C', "STARTTLS", 8);
	result_transcript(s->r, sess_tnow(s), 'C', "NOOP", 4);
	sess_event(s, "STARTTLS and NOOP were sent in one packet");
	if (!sess_send_raw(s, two, sizeof(two) - 1))
		sess_finish(s);
}

void extra_tls_done(struct smtp_session *s)
{
	struct result *m = s->main_r;
	struct tls_info *ti = &s->r->tls;

	if (s->kind == KIND_TLS12 || s->kind == KIND_TLS13) {
		size_t i = (size_t)(kind_version[s->kind] - 0x0301);

		m->tls_versions.v[i] = TLSV_ACCEPTED;
		snprintf(m->tls_versions.detail[i], sizeof(m->tls_versions.detail[i]),
		         "%s %s", ti->version, ti->cipher);
		sess_quit(s);
		return;
	}
	/* KIND_INJECT: QUIT now; a 221 first means the NOOP was dropped. */
	sess_set_state(s, SMTP_ST_INJECT_QUIT);
	if (!sess_send_cmd(s, "QUIT"))
		sess_finish(s);
}

void extra_on_inject_reply(struct smtp_session *s, const struct smtp_reply *rep)
{
	struct injection_info *in = &s->main_r->injection;

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
		result_add(s->main_r, SEV_CRITICAL, "starttls-injection",
		           "commands sent in clear before STARTTLS are executed inside TLS "
		           "(CVE-2011-0411 class): an attacker can inject commands; update "
		           "the server software");
	}
	sess_finish(s);
}

static const char *alert_word(unsigned d)
{
	switch (d) {
	case 40:  return "handshake_failure";
	case 47:  return "illegal_parameter";
	case 50:  return "decode_error";
	case 70:  return "protocol_version";
	case 71:  return "insufficient_security";
	case 80:  return "internal_error";
	case 86:  return "inappropriate_fallback";
	case 112: return "unrecognized_name";
	default:  return "alert";
	}
}

void extra_legacy_begin(struct smtp_session *s)
{
	const struct options *o = s->env->opt;
	unsigned char hello[TLSVER_HELLO_MAX], rnd[32];
	size_t n;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));   /* only the ServerHello is read */
	n = tlsver_client_hello(hello, sizeof(hello), kind_version[s->kind],
	                        o->servername ? o->servername : s->host, rnd);
	s->llen = 0;
	sess_event(s, "ClientHello offering only %s sent", tlsver_name(kind_version[s->kind]));
	sess_set_state(s, SMTP_ST_LEGACY);
	if (n == 0 || !sess_send_raw(s, hello, n))
		sess_finish(s);
}

/* Reads the first record of the answer; no handshake is completed. */
void extra_legacy_read(struct smtp_session *s)
{
	struct tlsvers_info *tv = &s->main_r->tls_versions;
	size_t i = (size_t)(kind_version[s->kind] - 0x0301);
	uint16_t ver = 0;
	unsigned alert = 0;
	ssize_t n;

	n = recv(s->fd, s->lbuf + s->llen, sizeof(s->lbuf) - s->llen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		tv->v[i] = TLSV_REFUSED;
		snprintf(tv->detail[i], sizeof(tv->detail[i]), "the server closed the "
		         "connection%s%s", n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		sess_event(s, "%s", tv->detail[i]);
		sess_finish(s);
		return;
	}
	s->llen += (size_t)n;
	switch (tlsver_parse(s->lbuf, s->llen, &ver, &alert)) {
	case TLSVER_NEED_MORE:
		if (s->llen < sizeof(s->lbuf))
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
		         alert_word(alert));
		break;
	case TLSVER_SERVER_HELLO:
		if (ver == kind_version[s->kind]) {
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
	sess_event(s, "%s: %s", tlsver_name(kind_version[s->kind]), tv->detail[i]);
	sess_finish(s);   /* no QUIT: the channel is half in TLS */
}

/* What the extra connection left in the scratch result, for the parts the
 * handlers did not record themselves; then its transcript joins the main. */
void extra_harvest(struct smtp_session *s)
{
	struct result *m = s->main_r, *x = s->scratch;
	const char *why = x->nfindings && x->findings[0].message ? x->findings[0].message :
	                  "the connection ended early";

	if (kind_version[s->kind] != 0) {
		size_t i = (size_t)(kind_version[s->kind] - 0x0301);
		struct tlsvers_info *tv = &m->tls_versions;

		if (tv->v[i] == TLSV_UNTESTED) {
			bool refused = x->tls.attempted && !x->tls.ok && x->tls.error[0];

			tv->v[i] = refused ? TLSV_REFUSED : TLSV_UNKNOWN;
			snprintf(tv->detail[i], sizeof(tv->detail[i]), "%s",
			         refused ? x->tls.error : why);
		}
	} else if (s->kind == KIND_INJECT && !m->injection.tested) {
		m->injection.tested = true;
		m->injection.vulnerable = -1;
		snprintf(m->injection.detail, sizeof(m->injection.detail), "inconclusive: %s", why);
	}
	for (size_t k = 0; k < x->ntranscript; k++)
		result_transcript(m, x->transcript[k].t_ms, x->transcript[k].dir,
		                  x->transcript[k].line, strlen(x->transcript[k].line));
	m->transcript_dropped += x->transcript_dropped;
}

/* After the main dialogue: which extra connections to make. Only when the
 * server answered it, so a dead host costs one connection, not six. */
void extra_plan(struct smtp_session *s)
{
	const struct options *o = s->env->opt;
	struct result *r = s->main_r;
	/* Implicit TLS: a failed handshake is reason enough to look at the
	 * versions (a server that speaks only TLS 1.0 fails it). */
	bool reached = r->address[0] != '\0' &&
	               (r->greeting.code == 220 || (s->mode == TLS_MODE_IMPLICIT && r->tls.attempted));
	bool tls_there = s->mode == TLS_MODE_IMPLICIT || r->starttls_offered;
	const char *why = !reached ? "not tested: the main dialogue did not get that far" :
	                  "not tested: the server does not offer STARTTLS";

	s->extras = 0;
	if (o->check_tls_required && !r->tls_required.tested && s->mode == TLS_MODE_IMPLICIT &&
	    r->tls.ok) {
		r->tls_required.tested = true;
		r->tls_required.required = 1;
		snprintf(r->tls_required.note, sizeof(r->tls_required.note), "implicit TLS: "
		         "there is no cleartext channel, so no MAIL FROM was sent");
	}
	if (o->starttls_injection && s->mode == TLS_MODE_IMPLICIT) {
		r->injection.tested = true;
		r->injection.vulnerable = 0;
		snprintf(r->injection.detail, sizeof(r->injection.detail), "not applicable: "
		         "implicit TLS has no cleartext phase to inject into");
	}
	if (o->tls_versions && s->mode != TLS_MODE_NONE) {
		r->tls_versions.tested = true;
		if (reached && tls_there)
			s->extras |= 1u << KIND_TLS12 | 1u << KIND_TLS13 | 1u << KIND_TLS10 |
			             1u << KIND_TLS11;
		else
			for (size_t i = 0; i < RESULT_TLSV_N; i++) {
				r->tls_versions.v[i] = TLSV_UNKNOWN;
				snprintf(r->tls_versions.detail[i], sizeof(r->tls_versions.detail[i]),
				         "%s", why);
			}
	}
	if (o->starttls_injection && s->mode == TLS_MODE_STARTTLS) {
		if (reached && tls_there) {
			s->extras |= 1u << KIND_INJECT;
		} else {
			r->injection.tested = true;
			r->injection.vulnerable = -1;
			snprintf(r->injection.detail, sizeof(r->injection.detail), "%s", why);
		}
	}
	if (s->extras == 0)
		return;
	memset(&s->addr, 0, sizeof(s->addr));
	s->addr.family = r->family;
	if (inet_pton(r->family, r->address, s->addr.addr) != 1)
		s->extras = 0;
}

void extra_start(struct smtp_session *s)
{
	const struct options *o = s->env->opt;
	char err[200] = "";
	unsigned k;

	for (k = KIND_TLS12; k < KIND_END && !(s->extras & (1u << k)); k++)
		;
	if (k == KIND_END) {            /* nothing left to do */
		sess_final(s);
		return;
	}
	s->extras &= ~(1u << k);
	s->kind = (enum probe_kind)k;
	if (s->scratch == NULL) {
		if ((s->scratch = malloc(sizeof(*s->scratch))) == NULL) {
			result_add(s->main_r, SEV_CRITICAL, "internal-error", "out of memory");
			sess_final(s);
			return;
		}
		result_init(s->scratch);
	}
	result_clear(s->scratch);       /* the previous extra connection's */
	s->scratch->want_transcript = s->main_r->want_transcript;
	s->r = s->scratch;
	s->state = SMTP_ST_INIT;
	s->wlen = s->woff = 0;
	reply_parser_reset(&s->rp);
	sess_event(s, "extra connection: %s", extra_kind_names[k]);
	if (k == KIND_TLS12 || k == KIND_TLS13) {
		s->pinned = tlsio_cfg_new(o->cafile, o->capath, err, sizeof(err));
		if (s->pinned == NULL || tlsio_cfg_pin_version(s->pinned, kind_version[k]) != 0) {
			result_add(s->r, SEV_CRITICAL, "internal-error", "cannot set up TLS: %s", err);
			sess_finish(s);
			return;
		}
	}
	sess_connect_to(s, &s->addr, 1);
}
