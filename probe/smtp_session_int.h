/* Internals of one SMTP dialogue, shared by the two files that implement
 * it: smtp_session.c (connect, greeting, EHLO, STARTTLS, TLS, and the
 * check variants of the plan) and smtp_steps.c (the post-EHLO steps).
 * Nothing else includes it: probe.c uses smtp_session.h only. */
#ifndef SP_SMTP_SESSION_INT_H
#define SP_SMTP_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "cert.h"
#include "conn.h"
#include "smtp_ehlo.h"
#include "smtp_reply.h"
#include "smtp_session.h"
#include "tlsver.h"

/* A new state needs a row in the state table of smtp_session.c (what the
 * user is told it waited for, and its reply handler). */
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
	SMTP_ST_TLSREQ_MAIL,      /* SESSION_STEP_TLSREQ: MAIL FROM:<> in clear */
	SMTP_ST_TLSREQ_RSET,
	SMTP_ST_AUTH,             /* SESSION_STEP_AUTH: AUTH and its 334 continuations */
	SMTP_ST_EHLO_AUTH,        /* EHLO again after a successful AUTH */
	SMTP_ST_MAIL,             /* SESSION_STEP_ENVELOPE */
	SMTP_ST_RCPT,
	SMTP_ST_RSET,
	SMTP_ST_SIZE_MAIL,        /* SESSION_STEP_SIZE: MAIL FROM ... SIZE=N */
	SMTP_ST_SIZE_RSET,
	SMTP_ST_LEGACY,           /* plan.legacy_hello: waiting for a ServerHello */
	SMTP_ST_INJECT_QUIT,      /* plan.inject: the first reply inside TLS */
	SMTP_ST_DONE
};

#define WBUF_MAX 1200             /* longest command: AUTH PLAIN + base64 of 2 x 255 */
#define SECRETS_MAX 4             /* password, its base64 and hex, a sent message */

/* The state of each post-EHLO step (smtp_steps.c). */
struct auth_state {
	enum auth_mech mech;
	int step;                     /* 334 continuations answered */
	char pw[AUTH_MAX_SECRET];     /* wiped when the AUTH test ends */
	struct auth_scram scram;      /* SCRAM-SHA-256 exchange (wiped with pw) */
};

struct envelope_state {
	size_t rcpt_i;                /* the RCPT TO being answered */
};

/* --size-check: the MAIL/RSET pairs (smtp_steps.c). */
struct size_state {
	uint64_t n;                   /* SIZE=N of the pair in flight */
	uint64_t lo, hi;              /* largest accepted, smallest refused as too big; 0 none */
	int phase;                    /* enum size_phase in smtp_steps.c */
	bool pipelined;               /* MAIL and RSET in one write (PIPELINING) */
	const char *from;             /* the reverse-path: --from, an address login, or "" */
};

/* plan.legacy_hello: the answer to the hand-written ClientHello. */
struct legacy_state {
	unsigned char buf[TLSVER_READ_MAX];
	size_t len;
};

/* What only some dialogues need, ~9.5 KiB a plain probe does not carry:
 * allocated by smtp_session_new when the plan has a login (SESSION_STEP_AUTH)
 * or a legacy hello, wiped and freed with the session. */
struct sess_rare {
	struct auth_state auth;
	struct legacy_state legacy;
	char secrets[SECRETS_MAX][AUTH_MAX_MSG];   /* never let the server echo these */
	size_t nsecrets;
};

struct smtp_session {
	struct loop *loop;            /* borrowed */
	struct dns *dns;              /* borrowed */
	const struct probe_params *p; /* borrowed */
	struct session_plan plan;
	struct result *r;             /* borrowed, owned by the probe */
	session_done_cb cb;
	void *cbarg;

	enum smtp_state state;
	char host[254];
	uint16_t port;
	int literal;

	double t0;                    /* monotonic: transcript times count from here */
	double t_start;               /* monotonic start of this dialogue */
	double t_step;                /* start of the current step */

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

	unsigned steps_done;          /* enum session_step bits started */
	struct envelope_state envelope;
	struct size_state size;
	struct sess_rare *rare;       /* owned: only for a login or a legacy hello */
};

/* smtp_session.c: the dialogue's tools, used by the steps. */
bool sess_busy(struct smtp_session *s, const struct smtp_reply *rep);
void sess_event(struct smtp_session *s, enum tev type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sess_event_ev(struct smtp_session *s, const struct tevent *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sess_finish(struct smtp_session *s);
bool sess_has_secret(const struct smtp_session *s, const char *p, size_t n);
void sess_quit(struct smtp_session *s);
void sess_secrets_add(struct smtp_session *s, const char *v);
bool sess_send_cmd(struct smtp_session *s, const char *cmd);
void sess_send_ehlo(struct smtp_session *s, enum smtp_state st);
bool sess_send_secret(struct smtp_session *s, const char *cmd, const char *shown);
void sess_set_state(struct smtp_session *s, enum smtp_state st);
void sess_to_tls(struct smtp_session *s);

/* smtp_steps.c: the post-EHLO steps. steps_before_tls starts the steps
 * of the cleartext channel and steps_post those of a ready channel (then
 * QUIT); each returns having sent a command or ended the dialogue. */
void steps_before_tls(struct smtp_session *s);
void steps_post(struct smtp_session *s);
void steps_on_auth(struct smtp_session *s, const struct smtp_reply *rep);
void steps_on_envelope(struct smtp_session *s, const struct smtp_reply *rep);
void steps_on_size(struct smtp_session *s, const struct smtp_reply *rep);
void steps_on_tlsreq(struct smtp_session *s, const struct smtp_reply *rep);
void steps_wipe(struct smtp_session *s);

#endif
