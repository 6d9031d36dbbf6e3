/* One probe's state machine: resolve, connect, greeting, EHLO (HELO
 * fallback), STARTTLS, TLS handshake, EHLO again, QUIT. It knows nothing of
 * its driver: it fills a result and calls back once when it is finished. */
#ifndef SP_SMTP_SESSION_H
#define SP_SMTP_SESSION_H

#include "dns.h"
#include "loop.h"
#include "options.h"
#include "result.h"
#include "target.h"
#include "tlsio.h"

/* What a run shares with its probes (all borrowed). */
struct probe_env {
	struct loop *loop;
	struct dns *dns;
	struct tlsio_cfg *tls;
	const struct options *opt;
	/* NULL, or says whether the probe may connect to an address (the
	 * exporter's --serve-allow-net): every connection, extras included,
	 * goes only to addresses it allows. */
	bool (*addr_ok)(const void *arg, const struct dns_addr *a);
	const void *addr_ok_arg;
};

struct smtp_session;
typedef void (*session_done_cb)(void *arg, struct smtp_session *s);

/* r is borrowed (owned by the run) and must outlive the session. The
 * callback runs from the loop; free the session after it returns. */
struct smtp_session *smtp_session_new(const struct probe_env *env,
                                      const struct target *t, const char *spec,
                                      struct result *r, session_done_cb cb, void *arg);
/* Probe these addresses instead of resolving the host (the MX view has
 * resolved it already). Call before start. */
void smtp_session_set_addrs(struct smtp_session *s, const struct dns_addr *a,
                            size_t n, double dns_ms);
void smtp_session_start(struct smtp_session *s);
/* Ends a running probe now (its deadline passed): a "timeout" finding,
 * then the done callback, as for any other end. */
void smtp_session_abort(struct smtp_session *s, const char *why);
void smtp_session_free(struct smtp_session *s);

#endif
