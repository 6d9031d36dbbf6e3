/* --all-addresses for a host target: one lookup, then one probe per
 * address, all in flight together (see fanout.h). Each probe is an
 * ordinary one told which single address to use (probe_set_addrs), so its
 * result is exactly what a probe of that address alone would give. */
#include <stdlib.h>
#include <string.h>

#include "dane.h"
#include "fanout.h"
#include "xmalloc.h"

struct fanout_one {
	struct fanout *f;                /* borrowed */
	struct probe *p;                 /* owned */
	struct dane_check *dc;           /* owned: --dane once the dialogue is over */
	struct result *r;                /* borrowed: one of f->rs */
	bool done;
};

struct fanout {
	const struct probe_env *env;     /* borrowed */
	const struct probe_params *params;   /* borrowed */
	struct target t;
	char *spec;                      /* owned */
	bool dane;
	fanout_done_cb cb;
	void *arg;
	struct dns_query *dq;            /* the lookup in flight, or NULL */
	bool resolving;                  /* dns_resolve may answer from inside itself */
	struct result *rs;               /* owned, n of them */
	struct fanout_one *one;          /* owned, n of them */
	size_t n, pending;
	double t0;
	bool started, finished, aborted;
	struct loop_timer kick;          /* the done callback, from the loop */
};

static void on_kick(struct loop *l, void *arg)
{
	struct fanout *f = arg;

	(void)l;
	f->cb(f->arg, f);
}

static void one_end(struct fanout_one *o)
{
	struct fanout *f = o->f;

	dane_drop_der(o->r);
	o->done = true;
	if (--f->pending == 0) {
		f->finished = true;
		/* Never inside a probe's callback: the owner may free us. */
		loop_timer_set(f->env->loop, &f->kick, 0);
	}
}

static void on_dane_done(void *arg)
{
	one_end(arg);
}

static void on_probe_done(void *arg, struct probe *p)
{
	struct fanout_one *o = arg;
	struct fanout *f = o->f;

	(void)p;                         /* freed by fanout_release, not here */
	if (f->dane && !f->aborted && o->dc == NULL && o->r->host != NULL) {
		o->dc = dane_check_start(f->env->loop, f->env->dns, o->r->host, NULL, o->r->port,
		                         o->r, on_dane_done, o);
		if (o->dc != NULL)
			return;
	}
	one_end(o);
}

/* n results and their probes, not started yet. */
static void lay_out(struct fanout *f, size_t n)
{
	size_t i;

	f->n = f->pending = n;
	f->rs = xcalloc(n, sizeof(*f->rs));
	f->one = xcalloc(n, sizeof(*f->one));
	for (i = 0; i < n; i++) {
		struct fanout_one *o = &f->one[i];

		result_init(&f->rs[i]);
		o->f = f;
		o->r = &f->rs[i];
		o->p = probe_new(f->env, f->params, &f->t, f->spec, o->r, on_probe_done, o);
	}
}

/* The one ordinary probe: it resolves the name itself and reports why
 * there is nothing to fan out to (or probes the literal). */
static void start_single(struct fanout *f)
{
	lay_out(f, 1);
	probe_start(f->one[0].p);
}

static void on_resolved(void *arg, const struct dns_answer *ans)
{
	struct fanout *f = arg;
	size_t i;

	f->dq = NULL;
	f->resolving = false;
	if (ans->n == 0) {
		start_single(f);
		return;
	}
	lay_out(f, ans->n);
	for (i = 0; i < f->n; i++)
		probe_set_addrs(f->one[i].p, &ans->addrs[i], 1, loop_now() - f->t0);
	/* A probe may end inside its start (an address --serve-allow-net
	 * refuses): the counts are all set before the first start. */
	for (i = 0; i < f->n; i++)
		probe_start(f->one[i].p);
}

struct fanout *fanout_new(const struct probe_env *env, const struct probe_params *params,
                          const struct target *t, const char *spec, bool dane,
                          fanout_done_cb cb, void *arg)
{
	struct fanout *f = xcalloc(1, sizeof(*f));

	f->env = env;
	f->params = params;
	f->t = *t;
	f->spec = xstrdup(spec);
	f->dane = dane;
	f->cb = cb;
	f->arg = arg;
	loop_timer_init(&f->kick, on_kick, f);
	return f;
}

void fanout_start(struct fanout *f)
{
	const struct probe_params *p = f->params;

	f->started = true;
	f->t0 = loop_now();
	if (f->t.literal) {
		start_single(f);
		return;
	}
	f->resolving = true;
	f->dq = dns_resolve(f->env->dns, f->t.host, !p->only6, !p->only4, on_resolved, f);
	if (f->dq == NULL && f->resolving) {
		/* Could not even ask: the single probe says so. */
		f->resolving = false;
		start_single(f);
	}
}

void fanout_abort(struct fanout *f, const char *why)
{
	size_t i;

	if (!f->started || f->finished)
		return;
	f->aborted = true;
	if (f->resolving) {
		/* Still looking the name up: one result, saying so. */
		dns_cancel(f->dq);
		f->dq = NULL;
		f->resolving = false;
		start_single(f);
	}
	for (i = 0; i < f->n; i++)
		if (!f->one[i].done)
			probe_abort(f->one[i].p, why);
}

struct result *fanout_results(struct fanout *f, size_t *n)
{
	*n = f->n;
	return f->rs;
}

enum status fanout_status(const struct fanout *f)
{
	enum status st = ST_OK;
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->rs[i].status > st)
			st = f->rs[i].status;
	return f->n > 0 ? st : ST_UNKNOWN;
}

void fanout_release(struct fanout *f)
{
	size_t i;

	if (f == NULL)
		return;
	loop_timer_stop(f->env->loop, &f->kick);
	if (f->dq != NULL) {
		dns_cancel(f->dq);
		f->dq = NULL;
	}
	for (i = 0; i < f->n; i++) {
		probe_free(f->one[i].p);
		dane_check_free(f->one[i].dc);
		f->one[i].p = NULL;
		f->one[i].dc = NULL;
	}
}

void fanout_free(struct fanout *f)
{
	size_t i;

	if (f == NULL)
		return;
	fanout_release(f);
	for (i = 0; i < f->n; i++)
		result_clear(&f->rs[i]);
	free(f->rs);
	free(f->one);
	free(f->spec);
	free(f);
}
