/* smtp-probe: owns the run — options, the set of probes, the loop, the
 * exit status. Nothing outside this file exits the process. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns.h"
#include "loop.h"
#include "mx.h"
#include "options.h"
#include "render.h"
#include "result.h"
#include "smtp_session.h"
#include "target.h"
#include "tlsio.h"

/* One target of the run: a single probe, or a mail domain's MX audit. */
struct job {
	bool domain;
	struct result r;                 /* !domain */
	struct domain_result d;          /* domain */
	struct smtp_session *s;          /* owned */
	struct mx_audit *a;              /* owned */
	struct run *run;                 /* borrowed */
};

struct run {
	struct probe_env env;
	struct job *jobs;                /* owned */
	size_t n, done;
};

static void job_done(struct run *run)
{
	if (++run->done == run->n)
		loop_stop(run->env.loop);
}

static void on_probe_done(void *arg, struct smtp_session *s)
{
	struct job *j = arg;

	(void)s;                         /* freed by main after the loop */
	job_done(j->run);
}

static void on_domain_done(void *arg, struct mx_audit *a)
{
	struct job *j = arg;

	(void)a;
	job_done(j->run);
}

static void render(const struct options *o, const struct job *j, size_t i, size_t n)
{
	struct render_opts ro;

	memset(&ro, 0, sizeof(ro));
	ro.transcript = o->transcript;
	ro.explain = o->explain;
	if (o->color == COLOR_ALWAYS)
		ro.color = true;
	else if (o->color == COLOR_AUTO)
		ro.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	if (o->output == OUT_JSON) {
		ro.pretty = n == 1 && isatty(STDOUT_FILENO);
		if (j->domain)
			render_domain_json(stdout, &j->d, &ro);
		else
			render_json(stdout, &j->r, &ro);
		return;
	}
	if (i > 0)
		fputc('\n', stdout);
	if (j->domain)
		render_domain_text(stdout, &j->d, &ro);
	else if (o->explain)
		render_explain(stdout, &j->r, &ro);
	else
		render_text(stdout, &j->r, &ro);
}

static enum status job_status(const struct job *j)
{
	return j->domain ? j->d.status : j->r.status;
}

static int monitor_output(const struct options *o, struct run *run)
{
	const struct result **all = calloc(run->n, sizeof(*all));
	struct render_opts ro;
	size_t i;

	if (all == NULL)
		return -1;
	memset(&ro, 0, sizeof(ro));
	for (i = 0; i < run->n; i++)
		all[i] = &run->jobs[i].r;
	if (o->output == OUT_NAGIOS)
		render_nagios(stdout, all, run->n, &ro);
	else
		render_prometheus(stdout, all, run->n, &ro);
	free(all);
	return 0;
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
	run.jobs = calloc(run.n, sizeof(*run.jobs));
	if (run.jobs == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	for (i = 0; i < run.n; i++) {
		struct job *j = &run.jobs[i];
		struct target t;

		j->run = &run;
		result_init(&j->r);
		domain_result_init(&j->d);
		if (target_parse(opt.targets[i], &t, err, sizeof(err)) != 0)
			goto fail;   /* cli_parse checked them all */
		j->domain = opt.mx || t.mail_domain;
		if (j->domain)
			j->a = mx_audit_new(&run.env, opt.targets[i], t.host, &j->d,
			                    on_domain_done, j);
		else
			j->s = smtp_session_new(&run.env, &t, opt.targets[i], &j->r,
			                        on_probe_done, j);
		if (j->a == NULL && j->s == NULL) {
			snprintf(err, sizeof(err), "out of memory");
			goto fail;
		}
	}
	for (i = 0; i < run.n; i++) {
		if (run.jobs[i].domain)
			mx_audit_start(run.jobs[i].a);
		else
			smtp_session_start(run.jobs[i].s);
	}
	if (run.done < run.n)
		loop_run(run.env.loop);

	if (opt.output == OUT_NAGIOS || opt.output == OUT_PROMETHEUS) {
		if (monitor_output(&opt, &run) != 0) {
			snprintf(err, sizeof(err), "out of memory");
			goto fail;
		}
	} else {
		for (i = 0; i < run.n; i++)
			render(&opt, &run.jobs[i], i, run.n);
	}
	for (i = 0; i < run.n; i++)
		if (job_status(&run.jobs[i]) > worst)
			worst = job_status(&run.jobs[i]);
	fflush(stdout);
	rc = (int)worst;
	goto done;
fail:
	fprintf(stderr, "smtp-probe: %s\n", err);
	rc = ST_UNKNOWN;
done:
	for (i = 0; run.jobs != NULL && i < run.n; i++) {
		smtp_session_free(run.jobs[i].s);
		mx_audit_free(run.jobs[i].a);
		result_clear(&run.jobs[i].r);
		domain_result_clear(&run.jobs[i].d);
	}
	free(run.jobs);
	tlsio_cfg_free(run.env.tls);
	dns_free(run.env.dns);
	loop_free(run.env.loop);
	return rc;
}
