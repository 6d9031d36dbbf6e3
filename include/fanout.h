/* --all-addresses for a host target: the name is resolved once, then every
 * address it has (AAAA first, then A, at most DNS_MAX_ADDRS) gets a probe
 * and a result of its own, all in flight together; a user sees each
 * address's own greeting, TLS and certificate, as a load balancer's pool
 * may disagree. A name that does not resolve, or an address literal, gets
 * the one ordinary probe (its result says why). The drivers (run.c,
 * serve.c) render the results in address order. */
#ifndef SP_FANOUT_H
#define SP_FANOUT_H

#include "probe.h"

struct fanout;
typedef void (*fanout_done_cb)(void *arg, struct fanout *f);

/* t and spec are copied; params and env are borrowed and must outlive the
 * fan-out. dane: run the TLSA check (--dane) on each result once its
 * dialogue is over. */
struct fanout *fanout_new(const struct probe_env *env, const struct probe_params *params,
                          const struct target *t, const char *spec, bool dane,
                          fanout_done_cb cb, void *arg);
/* cb is always called from the loop, never from inside fanout_start. */
void fanout_start(struct fanout *f);
/* Ends it now (a deadline): the lookup or every probe still running ends
 * with a timeout finding saying why; the done callback follows. */
void fanout_abort(struct fanout *f, const char *why);
/* The results, one per address probed (at least one once done). */
struct result *fanout_results(struct fanout *f, size_t *n);
/* The worst status over the results. */
enum status fanout_status(const struct fanout *f);
/* Frees the engines (probes, lookups, DANE checks) but keeps the results. */
void fanout_release(struct fanout *f);
void fanout_free(struct fanout *f);

#endif
