/* One probe of one address: the main SMTP dialogue and, only when asked,
 * the extra connections after it (--tls-versions, --starttls-injection),
 * merged into one result. The drivers (run.c, mx.c, serve.c) start probes
 * here; each connection is one smtp_session (see smtp_session.h). */
#ifndef SP_PROBE_H
#define SP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "dns.h"
#include "loop.h"
#include "options.h"
#include "result.h"
#include "target.h"
#include "tlsio.h"

/* What a probe needs to know, and nothing else: built from the options by
 * the driver (probe_params_from_options), small enough to copy per
 * exporter request. Strings are borrowed from the options (or from the
 * request that overrides them) and must outlive the probe. */
struct probe_params {
	uint16_t port;                   /* 0: from the target, else 25 */
	bool mode_set;                   /* the user fixed the TLS mode */
	enum tls_mode mode;
	bool only4, only6;
	const char *helo;                /* the name sent with EHLO/HELO */
	const char *servername;          /* NULL: the host probed */
	double timeout_ms, connect_timeout_ms;
	struct conn_opts conn;           /* --bind, --proxy: every connection alike */
	const char (*pins)[45];          /* --pin sha256//... values, npins of them */
	size_t npins;
	int warn_days, crit_days;        /* certificate expiry thresholds */
	double warn_time_ms, crit_time_ms;   /* probe duration thresholds (-o nagios) */
	uint64_t size_reserve;           /* bytes kept for headers (attachment limit) */
	bool transcript;                 /* record the dialogue (-v, --explain) */
	bool showcerts;                  /* keep the chain's DER for the report */
	/* Post-EHLO steps, each only when asked. */
	bool check_tls_required;
	const char *auth_user;           /* NULL: no --auth */
	const char *password;            /* read once by cli_parse; NULL: none */
	const char *auth_mech;           /* NULL: the strongest offered */
	bool allow_plaintext_auth;
	bool size_check;                 /* --size-check: MAIL FROM ... SIZE=N, RSET */
	const char *mail_from;           /* NULL: no --from */
	const char *const *rcpt;
	size_t nrcpt;
	/* Extra connections. */
	bool tls_versions, starttls_injection;
	/* NULL, or says whether the probe may connect to an address (the
	 * exporter's --serve-allow-net): every connection, extras included,
	 * goes only to addresses it allows. */
	bool (*addr_ok)(const void *arg, const struct dns_addr *a);
	const void *addr_ok_arg;
};

void probe_params_from_options(struct probe_params *p, const struct options *o);

/* What a run shares with its probes (all borrowed, built once per run by
 * main.c). The TLS configurations carry the parsed trust anchors: pinned
 * ones exist only when --tls-versions was asked for. */
struct probe_env {
	struct loop *loop;
	struct dns *dns;
	struct tlsio_cfg *tls;           /* any version */
	struct tlsio_cfg *tls12, *tls13; /* pinned to TLS 1.2 / 1.3, or NULL */
	const struct probe_params *params;   /* the run's; a request may use its own */
	const struct options *opt;       /* for the drivers only: a probe reads params */
};

struct probe;
typedef void (*probe_done_cb)(void *arg, struct probe *p);

/* r is borrowed (owned by the run) and must outlive the probe; so must
 * params. Never NULL (out of memory is fatal). The callback runs from the
 * loop, once; free the probe after it returns, never inside it. */
struct probe *probe_new(const struct probe_env *env, const struct probe_params *params,
                        const struct target *t, const char *spec, struct result *r,
                        probe_done_cb cb, void *arg);
/* Probe these addresses instead of resolving the host (the MX view has
 * resolved it already). Call before start. */
void probe_set_addrs(struct probe *p, const struct dns_addr *a, size_t n, double dns_ms);
void probe_start(struct probe *p);
/* Ends a running probe now (its deadline passed): a "timeout" finding,
 * then the done callback, as for any other end. */
void probe_abort(struct probe *p, const char *why);
void probe_free(struct probe *p);

#endif
