/* One SMTP dialogue over one connection, as a state machine over the loop:
 * resolve (or take given addresses), connect, greeting, EHLO (HELO
 * fallback), STARTTLS, TLS handshake, EHLO again, the post-EHLO steps the
 * plan asks for, QUIT. It knows nothing of its driver (probe.c): it fills
 * one result and calls back once when the connection is over. */
#ifndef SP_SMTP_SESSION_H
#define SP_SMTP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "dns.h"
#include "loop.h"
#include "probe.h"
#include "result.h"
#include "tlsio.h"

/* Post-EHLO steps: bits of session_plan.steps. They run in this order,
 * --check-tls-required on the cleartext channel before STARTTLS, the
 * others once the channel is ready (TLS up, or cleartext by choice or
 * necessity). To add a step: a bit here, a state struct and a row in the
 * step table of smtp_steps.c, and a state per command it sends in
 * smtp_session_int.h (with its row in the state table of smtp_session.c). */
enum session_step {
	SESSION_STEP_TLSREQ   = 1u << 0,    /* MAIL FROM:<> before STARTTLS, RSET */
	SESSION_STEP_AUTH     = 1u << 1,    /* AUTH, then EHLO again after a login */
	SESSION_STEP_ENVELOPE = 1u << 2,    /* MAIL FROM, RCPT TO..., RSET */
	SESSION_STEP_SIZE     = 1u << 3,    /* MAIL FROM ... SIZE=N and RSET, up to 12 pairs */
};

/* What one dialogue does. The main dialogue of a probe sets mode, tls and
 * steps; the extra connections of probe.c set stop_after_tls and, for the
 * checks that replace the handshake, legacy_hello or inject. */
struct session_plan {
	enum tls_mode mode;
	struct tlsio_cfg *tls;        /* borrowed: the configuration to handshake with */
	/* A check connection: it exists to reach TLS. Without STARTTLS it ends
	 * with a finding; after the handshake it QUITs at once (no EHLO). */
	bool stop_after_tls;
	/* Instead of a handshake, a hand-written ClientHello offering only
	 * this version (0x0301 TLS 1.0, 0x0302 TLS 1.1); the first record of
	 * the answer goes to r->tls_versions. 0: none. */
	uint16_t legacy_hello;
	/* STARTTLS and NOOP in one write; the first reply inside TLS goes to
	 * r->injection (CVE-2011-0411 class). */
	bool inject;
	unsigned steps;               /* enum session_step bits */
	double t0;                    /* transcript clock origin (loop_now()); 0: the start */
	/* Connection options go here (a proxy, a source address, a client
	 * certificate, no SNI): the plan is the one place a dialogue is told
	 * how to connect, so probe.c can give the extra connections the same. */
};

struct smtp_session;
typedef void (*session_done_cb)(void *arg, struct smtp_session *s);

/* host is a name or an IP literal (literal: its family, else 0); p and r
 * are borrowed and must outlive the session, the plan is copied. Never
 * NULL (out of memory is fatal). The callback runs from the loop; free the
 * session after it returns. */
struct smtp_session *smtp_session_new(struct loop *l, struct dns *dns,
                                      const struct probe_params *p,
                                      const struct session_plan *plan,
                                      const char *host, uint16_t port, int literal,
                                      struct result *r, session_done_cb cb, void *arg);
/* Connect to these addresses instead of resolving the host. Call before start. */
void smtp_session_set_addrs(struct smtp_session *s, const struct dns_addr *a,
                            size_t n, double dns_ms);
void smtp_session_start(struct smtp_session *s);
/* What the dialogue waits for now ("the reply to EHLO"); "" when nothing. */
const char *smtp_session_waiting(const struct smtp_session *s);
/* Ends the dialogue now; why goes to the transcript (the caller records
 * the finding). The done callback runs as for any other end. */
void smtp_session_stop(struct smtp_session *s, const char *why);
void smtp_session_free(struct smtp_session *s);

#endif
