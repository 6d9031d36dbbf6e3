/* smtp-probe: owns the run — options, the shared loop, resolver and TLS
 * configuration, the exit status. Nothing outside this file exits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/signalfd.h>
#else
#include <fcntl.h>
#endif

#include "dns.h"
#include "loop.h"
#include "options.h"
#include "render.h"
#include "run.h"
#include "serve.h"
#include "probe.h"
#include "setup.h"
#include "tlsio.h"
#include "xmalloc.h"

/* Each probe in flight holds up to two sockets (Happy Eyeballs); raise the
 * soft descriptor limit to the hard one, and cap --concurrency to fit. */
static void fit_fd_limit(struct options *o)
{
	struct rlimit rl;
	size_t need = 2 * o->concurrency + 64, fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		fit = rl.rlim_cur > 96 ? (size_t)(rl.rlim_cur - 64) / 2 : 16;
		fprintf(stderr, "smtp-probe: --concurrency %zu needs %zu file descriptors; the "
		        "limit is %llu, so %zu probes run at once\n", o->concurrency, need,
		        (unsigned long long)rl.rlim_cur, fit);
		o->concurrency = fit;
	}
}

/* What every TLS configuration of the run shares: --no-sni and the
 * client certificate. */
static int tls_common(const struct options *o, struct tlsio_cfg *cfg, char *err, size_t errlen)
{
	if (o->no_sni)
		tlsio_cfg_no_sni(cfg);
	if (o->client_cert != NULL &&
	    tlsio_cfg_client_cert(cfg, o->client_cert, o->client_key, err, errlen) != 0)
		return -1;
	return 0;
}

/* A configuration that offers only one version (--tls-versions). */
static struct tlsio_cfg *tls_pinned(const struct options *o, uint16_t version,
                                    char *err, size_t errlen)
{
	struct tlsio_cfg *cfg = tlsio_cfg_new(o->cafile, o->capath, err, errlen);

	if (cfg != NULL && tlsio_cfg_pin_version(cfg, version) != 0) {
		snprintf(err, errlen, "cannot pin TLS to version 0x%04x", version);
		tlsio_cfg_free(cfg);
		return NULL;
	}
	if (cfg != NULL && tls_common(o, cfg, err, errlen) != 0) {
		tlsio_cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

static void on_setup_done(void *arg)
{
	loop_stop(arg);
}

/* --setup: one assistant run on the loop, then its report. */
static int run_setup(const struct probe_env *env, char *err, size_t errlen)
{
	const struct options *o = env->opt;
	struct setup_result *sr = xmalloc(sizeof(*sr));
	struct setup_run *s;
	struct render_opts ro;
	int rc;

	setup_result_init(sr);
	if (o->setup_configs) {
		sr->configs = o->setup_configs;
		sr->configs_only = true;
	}
	s = setup_start(env, o->setup, sr, on_setup_done, env->loop);
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		setup_result_clear(sr);
		free(sr);
		return -1;
	}
	loop_run(env->loop);
	memset(&ro, 0, sizeof(ro));
	ro.color = o->color == COLOR_ALWAYS ||
	           (o->color == COLOR_AUTO && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL);
	ro.pretty = o->output == OUT_JSON && isatty(STDOUT_FILENO);
	ro.transcript = o->transcript;
	if (o->output == OUT_JSON)
		render_setup_json(stdout, sr, &ro);
	else if (o->output == OUT_HTML)
		render_setup_html(stdout, sr, &ro);
	else if (o->explain)
		render_setup_explain(stdout, sr, &ro);
	else
		render_setup_text(stdout, sr, &ro);
	if (sr->configs_only && o->output != OUT_JSON && sr->rec < 0)
		fprintf(stderr, "smtp-probe: no configuration: %s\n", sr->missing);
	fflush(stdout);
	rc = (int)sr->status;
	setup_free(s);
	setup_result_clear(sr);
	free(sr);
	return rc;
}

/* -o nagios anywhere on the command line (the last -o wins), even when
 * parsing stopped before it: Nagios shows an empty stdout as "(No output)". */
static bool wants_nagios(int argc, char **argv)
{
	bool nag = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc)
			nag = strcmp(argv[++i], "nagios") == 0;
		else if (strncmp(a, "-o", 2) == 0 && a[2] != '\0')
			nag = strcmp(a + 2, "nagios") == 0;
		else if (strncmp(a, "--output=", 9) == 0)
			nag = strcmp(a + 9, "nagios") == 0;
	}
	return nag;
}

#ifndef __linux__
static int stop_pipe[2] = { -1, -1 };

static void on_stop_signal(int sig)
{
	int e = errno;

	(void)sig;
	if (write(stop_pipe[1], "s", 1) < 0) {
		/* full: a wake-up is already pending */
	}
	errno = e;
}
#endif

/* A descriptor that turns readable on SIGTERM/SIGINT, so the exporter's
 * loop handles them between callbacks, never inside one: a signalfd on
 * Linux, a self-pipe elsewhere. -1 with err. */
static int stop_signal_fd(char *err, size_t errlen)
{
#ifdef __linux__
	sigset_t sigs;
	int fd;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) != 0 ||
	    (fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -1;
	}
	return fd;
#else
	struct sigaction sa;
	int i;

	if (pipe(stop_pipe) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < 2; i++)
		if (fcntl(stop_pipe[i], F_SETFL, O_NONBLOCK) < 0 ||
		    fcntl(stop_pipe[i], F_SETFD, FD_CLOEXEC) < 0) {
			snprintf(err, errlen, "fcntl: %s", strerror(errno));
			return -1;
		}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
		snprintf(err, errlen, "sigaction: %s", strerror(errno));
		return -1;
	}
	return stop_pipe[0];
#endif
}

int main(int argc, char **argv)
{
	struct options opt;
	struct probe_env env;
	struct probe_params params;
	struct run_counts counts;
	FILE *targets = NULL;
	char err[512] = "";
	int rc = ST_UNKNOWN;
	enum cli_rc prc;

	signal(SIGPIPE, SIG_IGN);
	memset(&env, 0, sizeof(env));
	prc = cli_parse(argc, argv, &opt, err, sizeof(err));
	switch (prc) {
	case CLI_EXIT_OK:
		return 0;
	case CLI_ERROR:
	case CLI_ERROR_USAGE:
		fprintf(stderr, "smtp-probe: %s\n", err);
		if (prc == CLI_ERROR_USAGE)
			fputs("usage: smtp-probe [OPTIONS] TARGET...   (smtp-probe --help for all "
			      "options)\n", stderr);
		if (wants_nagios(argc, argv))
			render_nagios_unknown(stdout, err);
		cli_free(&opt);
		return ST_UNKNOWN;
	case CLI_OK:
		break;
	}
	fit_fd_limit(&opt);
	if (opt.targets_file != NULL) {
		targets = strcmp(opt.targets_file, "-") == 0 ? stdin : fopen(opt.targets_file, "r");
		if (targets == NULL) {
			snprintf(err, sizeof(err), "cannot read targets file '%s': %s",
			         opt.targets_file, strerror(errno));
			goto fail;
		}
	}
	env.opt = &opt;
	env.loop = loop_new(err, sizeof(err));
	if (env.loop == NULL)
		goto fail;
	env.dns = dns_new(env.loop, opt.resolvers[0] ? opt.resolvers : NULL,
	                  opt.timeout_ms, err, sizeof(err));
	if (env.dns == NULL)
		goto fail;
	if (opt.helo[0] == '\0')
		dns_local_fqdn(env.dns, opt.helo, sizeof(opt.helo));
	probe_params_from_options(&params, &opt);
	env.params = &params;
	/* Each TLS configuration once per run: the trust anchors are parsed
	 * when it is built, never per probe or per connection. */
	env.tls = tlsio_cfg_new(opt.cafile, opt.capath, err, sizeof(err));
	if (env.tls == NULL || tls_common(&opt, env.tls, err, sizeof(err)) != 0)
		goto fail;
	if (opt.tls_version != 0)
		(void)tlsio_cfg_pin_version(env.tls, opt.tls_version);   /* 0x0303 or 0x0304 */
	if (opt.tls_versions || opt.serve != NULL) {   /* an exporter module may ask */
		env.tls12 = tls_pinned(&opt, 0x0303, err, sizeof(err));
		env.tls13 = tls_pinned(&opt, 0x0304, err, sizeof(err));
		if (env.tls12 == NULL || env.tls13 == NULL)
			goto fail;
	}

	if (opt.serve != NULL) {
		/* Exporter: runs until SIGTERM/SIGINT. */
		int sigfd = stop_signal_fd(err, sizeof(err));

		if (sigfd < 0)
			goto fail;
		rc = serve_run(&env, sigfd, err, sizeof(err));
		close(sigfd);
		if (rc != 0)
			goto fail;
		goto done;
	}
	if (opt.setup != NULL) {
		rc = run_setup(&env, err, sizeof(err));
		if (rc < 0)
			goto fail;
		goto done;
	}
	rc = (int)run_all(&env, targets, &counts);
	/* The table (-o text) ends with this line on stdout: on a terminal
	 * it is there already. */
	if (targets != NULL && !(opt.output == OUT_TEXT && isatty(STDOUT_FILENO)))
		fprintf(stderr, "smtp-probe: %zu target%s: %zu ok, %zu warning, %zu critical, "
		        "%zu unknown\n", counts.total, counts.total == 1 ? "" : "s",
		        counts.by_status[ST_OK], counts.by_status[ST_WARNING],
		        counts.by_status[ST_CRITICAL], counts.by_status[ST_UNKNOWN]);
	goto done;
fail:
	fprintf(stderr, "smtp-probe: %s\n", err);
	if (opt.output == OUT_NAGIOS)
		render_nagios_unknown(stdout, err);
	rc = ST_UNKNOWN;
done:
	if (targets != NULL && targets != stdin)
		fclose(targets);
	tlsio_cfg_free(env.tls);
	tlsio_cfg_free(env.tls12);
	tlsio_cfg_free(env.tls13);
	dns_free(env.dns);
	loop_free(env.loop);
	cli_free(&opt);
	return rc;
}
