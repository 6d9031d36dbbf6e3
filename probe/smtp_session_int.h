/* Internals of one probe, shared by the three files that implement it:
 * smtp_session.c (the dialogue: connect, greeting, EHLO, STARTTLS, TLS),
 * smtp_steps.c (what runs after EHLO when asked: --check-tls-required,
 * --auth, --from/--rcpt) and smtp_extra.c (extra connections:
 * --tls-versions, --starttls-injection). Nothing outside them includes it. */
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
	SMTP_ST_TLSREQ_MAIL,      /* --check-tls-required: MAIL FROM:<> in clear */
	SMTP_ST_TLSREQ_RSET,
	SMTP_ST_AUTH,             /* --auth: AUTH and its 334 continuations */
	SMTP_ST_EHLO_AUTH,        /* EHLO again after a successful AUTH */
	SMTP_ST_MAIL,             /* --from / --rcpt */
	SMTP_ST_RCPT,
	SMTP_ST_RSET,
	SMTP_ST_LEGACY,           /* --tls-versions: waiting for a ServerHello */
	SMTP_ST_INJECT_QUIT,      /* --starttls-injection: first reply inside TLS */
	SMTP_ST_NEXT,             /* between connections: the next one is due */
	SMTP_ST_DONE
};


#define WBUF_MAX 1200             /* longest command: AUTH PLAIN + base64 of 2 x 255 */

/* One probe is the main dialogue, then (only when asked) extra connections
 * to the same address, one at a time, each doing the least it can. */
enum probe_kind {
	KIND_MAIN = 0,
	KIND_TLS12,               /* --tls-versions: mbedTLS pinned to 1.2 */
	KIND_TLS13,               /* pinned to 1.3 */
	KIND_TLS10,               /* hand-written ClientHello, ServerHello read */
	KIND_TLS11,
	KIND_INJECT,              /* --starttls-injection */
	KIND_END
};



#define SECRETS_MAX 4             /* password, its base64 and hex, a sent message */

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

	/* Extra connections (--tls-versions, --starttls-injection). */
	enum probe_kind kind;
	unsigned extras;              /* bit per kind still to run */
	bool aborted;
	struct result *main_r;        /* borrowed: the run's result */
	struct result *scratch;       /* owned: the extra connection's, harvested */
	struct tlsio_cfg *pinned;     /* owned: a config pinned to one version */
	struct dns_addr addr;         /* where the main dialogue ran */
	unsigned char lbuf[TLSVER_READ_MAX];   /* the answer to a legacy hello */
	size_t llen;

	/* Steps after EHLO. */
	bool tlsreq_done, auth_done, env_done;
	enum auth_mech mech;
	int auth_step;
	size_t rcpt_i;
	char pw[AUTH_MAX_SECRET];     /* wiped when the AUTH test ends */
	struct auth_scram scram;      /* SCRAM-SHA-256 exchange (wiped with pw) */
	char secrets[SECRETS_MAX][AUTH_MAX_MSG];   /* never let the server echo these */
	size_t nsecrets;
};

extern const char *const extra_kind_names[KIND_END];

/* smtp_session.c: the dialogue's own tools, used by the other two. */
bool sess_busy(struct smtp_session *s, const struct smtp_reply *rep);
void sess_connect_to(struct smtp_session *s, const struct dns_addr *addrs, size_t n);
void sess_event(struct smtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sess_final(struct smtp_session *s);
void sess_finish(struct smtp_session *s);
bool sess_has_secret(const struct smtp_session *s, const char *p, size_t n);
void sess_quit(struct smtp_session *s);
void sess_secrets_add(struct smtp_session *s, const char *v);
bool sess_send_cmd(struct smtp_session *s, const char *cmd);
void sess_send_ehlo(struct smtp_session *s, enum smtp_state st);
bool sess_send_raw(struct smtp_session *s, const void *p, size_t n);
bool sess_send_secret(struct smtp_session *s, const char *cmd, const char *shown);
void sess_set_state(struct smtp_session *s, enum smtp_state st);
double sess_tnow(const struct smtp_session *s);
void sess_to_tls(struct smtp_session *s);

/* smtp_steps.c */
void steps_on_auth(struct smtp_session *s, const struct smtp_reply *rep);
void steps_on_envelope(struct smtp_session *s, const struct smtp_reply *rep);
void steps_on_tlsreq(struct smtp_session *s, const struct smtp_reply *rep);
void steps_post(struct smtp_session *s);
void steps_tlsreq_start(struct smtp_session *s);

/* smtp_extra.c */
void extra_after_ehlo(struct smtp_session *s);
void extra_harvest(struct smtp_session *s);
void extra_legacy_begin(struct smtp_session *s);
void extra_legacy_read(struct smtp_session *s);
void extra_on_inject_reply(struct smtp_session *s, const struct smtp_reply *rep);
void extra_plan(struct smtp_session *s);
void extra_start(struct smtp_session *s);
void extra_tls_done(struct smtp_session *s);

#endif
