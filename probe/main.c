/* smtp-probe: owns the run — options, the set of probes, the loop, the
 * exit status. Nothing outside this file exits the process. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns.h"
#include "loop.h"
#include "options.h"
#include "render.h"
#include "result.h"
#include "smtp_session.h"
#include "target.h"
#include "tlsio.h"

struct run {
	struct probe_env env;
	struct result *results;          /* owned, one per target */
	struct smtp_session **sessions;  /* owned */
	size_t n, done;
};

static void on_done(void *arg, struct smtp_session *s)
{
	struct run *run = arg;

	(void)s;                         /* freed by main after the loop */
	if (++run->done == run->n)
		loop_stop(run->env.loop);
}

static void render(const struct options *o, const struct result *r, size_t i, size_t n)
{
	struct render_opts ro;

	memset(&ro, 0, sizeof(ro));
	ro.transcript = o->transcript;
	ro.explain = o->explain;
	if (o->color == COLOR_ALWAYS)
		ro.color = true;
	else if (o->color == COLOR_AUTO)
		ro.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	switch (o->output) {
	case OUT_JSON:
		ro.pretty = n == 1 && isatty(STDOUT_FILENO);
		render_json(stdout, r, &ro);
		break;
	default:
		if (i > 0)
			fputc('\n', stdout);
		if (o->explain)
			render_explain(stdout, r, &ro);
		else
			render_text(stdout, r, &ro);
		break;
	}
}

int main(int argc, char **argv)
{
	struct options opt;
	struct run run;
	char err[512] = "";
	enum status worst = ST_OK;
	int rc = ST_UNKNOWN;
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	memset(&run, 0, sizeof(run));
	switch (cli_parse(argc, argv, &opt, err, sizeof(err))) {
	case CLI_EXIT_OK:
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "smtp-probe: %s\n", err);
		return ST_UNKNOWN;
	case CLI_OK:
		break;
	}
	run.env.opt = &opt;
	run.env.loop = loop_new(err, sizeof(err));
	if (run.env.loop == NULL)
		goto fail;
	run.env.dns = dns_new(run.env.loop, opt.resolvers[0] ? opt.resolvers : NULL,
	                      opt.timeout_ms, err, sizeof(err));
	if (run.env.dns == NULL)
		goto fail;
	if (opt.helo[0] == '\0')
		dns_local_fqdn(run.env.dns, opt.helo, sizeof(opt.helo));
	run.env.tls = tlsio_cfg_new(opt.cafile, opt.capath, err, sizeof(err));
	if (run.env.tls == NULL)
		goto fail;

	run.n = opt.ntargets;
	run.results = calloc(run.n, sizeof(*run.results));
	run.sessions = calloc(run.n, sizeof(*run.sessions));
	if (run.results == NULL || run.sessions == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	for (i = 0; i < run.n; i++) {
		struct target t;

		result_init(&run.results[i]);
		if (target_parse(opt.targets[i], &t, err, sizeof(err)) != 0)
			goto fail;   /* cli_parse checked them all */
		run.sessions[i] = smtp_session_new(&run.env, &t, opt.targets[i],
		                                   &run.results[i], on_done, &run);
		if (run.sessions[i] == NULL) {
			snprintf(err, sizeof(err), "out of memory");
			goto fail;
		}
	}
	for (i = 0; i < run.n; i++)
		smtp_session_start(run.sessions[i]);
	if (run.done < run.n)
		loop_run(run.env.loop);
	if (opt.output == OUT_NAGIOS || opt.output == OUT_PROMETHEUS) {
		const struct result **all = calloc(run.n, sizeof(*all));
		struct render_opts ro;

		memset(&ro, 0, sizeof(ro));
		if (all == NULL) {
			snprintf(err, sizeof(err), "out of memory");
			goto fail;
		}
		for (i = 0; i < run.n; i++)
			all[i] = &run.results[i];
		if (opt.output == OUT_NAGIOS)
			render_nagios(stdout, all, run.n, &ro);
		else
			render_prometheus(stdout, all, run.n, &ro);
		free(all);
	} else {
		for (i = 0; i < run.n; i++)
			render(&opt, &run.results[i], i, run.n);
	}
	for (i = 0; i < run.n; i++)
		if (run.results[i].status > worst)
			worst = run.results[i].status;
	fflush(stdout);
	rc = (int)worst;
	goto done;
fail:
	fprintf(stderr, "smtp-probe: %s\n", err);
	rc = ST_UNKNOWN;
done:
	for (i = 0; i < run.n; i++) {
		smtp_session_free(run.sessions ? run.sessions[i] : NULL);
		if (run.results)
			result_clear(&run.results[i]);
	}
	free(run.sessions);
	free(run.results);
	tlsio_cfg_free(run.env.tls);
	dns_free(run.env.dns);
	loop_free(run.env.loop);
	return rc;
}
