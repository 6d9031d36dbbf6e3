/* The probes of one run, scheduled over a fixed pool of job slots. Targets
 * come from argv, then from the targets file one line at a time, so memory
 * depends on --concurrency, never on how many targets there are. Mail
 * servers answer bursts with 421 and block-lists: --per-host and --rate
 * keep us polite. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dane.h"
#include "fanout.h"
#include "mx.h"
#include "render.h"
#include "render_util.h"
#include "run.h"
#include "target.h"
#include "xmalloc.h"

#define LINE_MAX_TARGET 1024

struct job {
	struct run *run;                 /* borrowed */
	bool busy, finished, domain, bad;
	bool reaped;                     /* counted and (batch) rendered */
	char spec[LINE_MAX_TARGET];
	char bad_why[200];               /* bad: why the line is not a target */
	char key[254];                   /* per-host key: the host or domain */
	struct result r;
	struct domain_result *d;         /* owned, only for --mx jobs */
	struct probe *s;                 /* owned */
	struct fanout *fo;               /* owned: --all-addresses for a host name */
	struct mx_audit *a;              /* owned */
	struct dane_check *dc;           /* owned: --dane after the dialogue */
	struct loop_timer deadline;
};

struct host_count {
	char key[254];                   /* "" free */
	size_t n;
};

struct run {
	const struct probe_env *env;     /* borrowed */
	const struct options *opt;       /* borrowed */
	struct job *jobs;                /* owned */
	size_t njobs;
	bool ordered;                    /* argv only: render in order at the end */
	size_t argv_next;
	int fd;                          /* borrowed: the targets file, -1 none */
	int fd_flags;                    /* its flags before we set O_NONBLOCK */
	bool file_done, eof, skipping, watching;
	char rbuf[8192];                 /* targets read but not yet taken */
	size_t rlen;
	char **waiting;                  /* owned: specs held back by --per-host */
	size_t nwait, capwait;
	struct host_count *hosts;        /* owned, open addressing */
	size_t caphosts;
	size_t in_flight;
	double next_start;               /* --rate: earliest next start */
	struct loop_timer rate_timer, reap_timer;
	struct run_counts *counts;
	enum status worst;
	bool progress;                   /* stderr is a TTY in batch mode */
	size_t total_targets;            /* for the progress bar, 0 unknown */
	bool header_done;
};

/* ---- per-host counts ---- */

static size_t hash_key(const char *k)
{
	size_t h = 5381;

	for (; *k; k++)
		h = h * 33 + (unsigned char)tolower((unsigned char)*k);
	return h;
}

static struct host_count *host_slot(struct run *run, const char *key)
{
	size_t i = hash_key(key) % run->caphosts, n;

	for (n = 0; n < run->caphosts; n++, i = (i + 1) % run->caphosts) {
		struct host_count *hc = &run->hosts[i];

		if (hc->key[0] == '\0' || strcasecmp(hc->key, key) == 0)
			return hc;
	}
	return NULL;   /* cannot happen: capacity exceeds the jobs in flight */
}

static size_t host_in_flight(struct run *run, const char *key)
{
	struct host_count *hc = host_slot(run, key);

	return hc != NULL && hc->key[0] != '\0' ? hc->n : 0;
}

/* Deleting from open addressing would break probe chains: keep the key with
 * n = 0, and rebuild the table when it fills up with idle keys. */
static void host_rebuild(struct run *run)
{
	struct host_count *old = run->hosts;
	size_t i, cap = run->caphosts;

	run->hosts = xcalloc(cap, sizeof(*run->hosts));
	for (i = 0; i < cap; i++)
		if (old[i].key[0] != '\0' && old[i].n > 0)
			*host_slot(run, old[i].key) = old[i];
	free(old);
}

static void host_add(struct run *run, const char *key, int delta)
{
	struct host_count *hc = host_slot(run, key);
	size_t used = 0, i;

	if (hc == NULL || (hc->key[0] == '\0' && delta < 0))
		return;
	if (hc->key[0] == '\0') {
		for (i = 0; i < run->caphosts; i++)
			if (run->hosts[i].key[0] != '\0')
				used++;
		if (used * 2 >= run->caphosts) {
			host_rebuild(run);
			hc = host_slot(run, key);
			if (hc == NULL)
				return;
		}
		snprintf(hc->key, sizeof(hc->key), "%s", key);
	}
	if (delta > 0)
		hc->n++;
	else if (hc->n > 0)
		hc->n--;
}

/* ---- where targets come from ---- */

static void maybe_stop(struct run *run);
static void fill(struct run *run);

static void on_targets(struct loop *l, int fd, unsigned events, void *arg)
{
	struct run *run = arg;

	(void)l;
	(void)fd;
	(void)events;
	fill(run);
	maybe_stop(run);
}

/* Trims, skips blank lines and comments; false when nothing is left. */
static bool take_line(const char *line, size_t len, char *out, size_t outlen)
{
	while (len > 0 && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	if (len == 0 || line[0] == '#')
		return false;
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, line, len);
	out[len] = '\0';
	return true;
}

/* --shard K/N: is this target in our share? Decided per line, so lines
 * of other shards cost a parse, no probe and no output. */
static bool run_in_shard(const struct options *o, const char *spec)
{
	return o->shard_n <= 1 || target_shard(spec, o->shard_n) + 1 == o->shard_k;
}

/* The next target spec, or false when there is none yet. Targets come
 * from argv, then from the targets file, read without ever blocking the
 * loop: a pipe with no line ready is watched, and probes in flight go on.
 * A line too long to be a target is cut, and fails to parse like any bad
 * target; the rest of it is skipped. */
static bool next_line(struct run *run, char *out, size_t outlen)
{
	const struct options *o = run->opt;

	while (run->argv_next < o->ntargets) {
		snprintf(out, outlen, "%s", o->targets[run->argv_next++]);
		if (run_in_shard(o, out))
			return true;
	}
	while (run->fd >= 0 && !run->file_done) {
		char *nl = memchr(run->rbuf, '\n', run->rlen);
		size_t len, used;
		bool got;

		if (nl == NULL && run->rlen < sizeof(run->rbuf) && !run->eof) {
			ssize_t n = read(run->fd, run->rbuf + run->rlen, sizeof(run->rbuf) - run->rlen);

			if (n > 0) {
				run->rlen += (size_t)n;
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (!run->watching &&
				    loop_add_fd(run->env->loop, run->fd, LOOP_READ, on_targets, run) == 0)
					run->watching = true;
				return false;
			}
			run->eof = true;      /* end of file, or an error: no more targets */
			continue;
		}
		if (nl == NULL && run->rlen == 0) {
			run->file_done = true;
			break;
		}
		/* A whole line, the last one without LF, or a full buffer. */
		len = nl != NULL ? (size_t)(nl - run->rbuf) : run->rlen;
		used = nl != NULL ? len + 1 : run->rlen;
		got = !run->skipping && take_line(run->rbuf, len, out, outlen);
		run->skipping = nl == NULL && !run->eof;   /* overlong: skip its rest */
		memmove(run->rbuf, run->rbuf + used, run->rlen - used);
		run->rlen -= used;
		if (got && run_in_shard(o, out))
			return true;
	}
	if (run->file_done && run->watching) {
		loop_del_fd(run->env->loop, run->fd);
		run->watching = false;
	}
	return false;
}

static bool more_to_come(const struct run *run)
{
	return run->argv_next < run->opt->ntargets || run->nwait > 0 ||
	       (run->fd >= 0 && !run->file_done);
}

/* ---- output ---- */

/* The terminal's character set as the environment tells it (POSIX order:
 * LC_ALL, then LC_CTYPE, then LANG). */
static bool locale_is_utf8(void)
{
	const char *v = getenv("LC_ALL");

	if (v == NULL || v[0] == '\0')
		v = getenv("LC_CTYPE");
	if (v == NULL || v[0] == '\0')
		v = getenv("LANG");
	return v != NULL && (strcasestr(v, "UTF-8") != NULL || strcasestr(v, "utf8") != NULL);
}

/* no-color.org: NO_COLOR set to a non-empty value; and a terminal that
 * says it has no escapes (TERM=dumb). */
static bool color_refused(void)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	return (nc != NULL && nc[0] != '\0') || (term != NULL && strcmp(term, "dumb") == 0);
}

static struct render_opts ropts(const struct run *run)
{
	const struct options *o = run->opt;
	struct render_opts ro;

	memset(&ro, 0, sizeof(ro));
	ro.transcript = o->transcript;
	ro.explain = o->explain;
	if (o->color == COLOR_ALWAYS)
		ro.color = true;
	else if (o->color == COLOR_AUTO)
		ro.color = isatty(STDOUT_FILENO) && !color_refused();
	ro.unicode = isatty(STDOUT_FILENO) && locale_is_utf8();
	ro.perfdata_plain = o->perfdata_plain;
	ro.address_labels = o->all_addresses;
	ro.pretty = o->output == OUT_JSON && run->ordered && run->njobs == 1 &&
	            isatty(STDOUT_FILENO);
	return ro;
}

static enum status job_status(const struct job *j)
{
	return j->domain ? j->d->status : j->fo != NULL ? fanout_status(j->fo) : j->r.status;
}

/* The probe results of a host job: one, or one per address. */
static const struct result *job_results(const struct job *j, size_t *n)
{
	if (j->fo != NULL)
		return fanout_results(j->fo, n);
	*n = 1;
	return &j->r;
}

/* One row of the batch table: target, address, TLS, days left, status;
 * r is the job's result (or one of them, with --all-addresses). */
static void table_row(struct run *run, const struct job *j, const struct result *r)
{
	const struct render_opts ro = ropts(run);
	char target[40], addr[80], tls[24] = "-", days[24] = "-", first[120] = "";
	enum status st = j->domain ? j->d->status : r->status;

	if (!run->header_done) {
		printf("%-32s %-24s %-8s %6s  %s\n", "TARGET", "ADDRESS", "TLS", "DAYS", "STATUS");
		run->header_done = true;
	}
	render_safe_buf(target, sizeof(target), j->spec, strlen(j->spec) > 32 ? 29 : 32);
	if (j->domain) {
		snprintf(addr, sizeof(addr), "%zu MX, %zu answered", j->d->nmx, j->d->hosts_answered);
		if (j->d->nfindings > 0)
			snprintf(first, sizeof(first), "%s", j->d->findings[0].code);
	} else {
		snprintf(addr, sizeof(addr), "%s", r->address[0] ? r->address : "-");
		if (r->tls.ok)
			snprintf(tls, sizeof(tls), "%s", strncmp(r->tls.version, "TLSv", 4) == 0 ?
			         r->tls.version + 4 : r->tls.version);
		if (r->tls.nchain > 0) {
			long min = r->tls.chain[0].days_left;

			for (size_t i = 1; i < r->tls.nchain; i++)
				if (r->tls.chain[i].days_left < min)
					min = r->tls.chain[i].days_left;
			snprintf(days, sizeof(days), "%ld", min);
		}
		for (size_t i = 0; i < r->nfindings; i++)
			if (r->findings[i].sev != SEV_INFO) {
				snprintf(first, sizeof(first), "%s", r->findings[i].code);
				break;
			}
		if (j->bad)
			render_safe_buf(first, sizeof(first), j->bad_why, 60);
	}
	printf("%-32s %-24s %-8s %6s  %s%s%s%s%s\n", target, addr, tls, days,
	       render_status_color(&ro, st), status_name(st), render_reset(&ro),
	       first[0] ? " " : "", first);
}

static void render_job(struct run *run, const struct job *j, size_t index)
{
	const struct options *o = run->opt;
	struct render_opts ro = ropts(run);
	size_t n, k;
	const struct result *rs = job_results(j, &n);

	if (n > 1)
		ro.pretty = false;           /* JSON Lines: one document per address */

	/* With --all-addresses, each address is reported as a target of its
	 * own: a text report each, a JSON document (line) each, a row each. */
	for (k = 0; k < (j->domain || j->bad ? 1 : n); k++) {
		const struct result *r = &rs[k];

		if (o->output == OUT_HTML) {
			if (j->domain)
				render_domain_html(stdout, j->d, &ro);
			else
				render_html(stdout, r, &ro);
		} else if (o->output == OUT_JSON) {
			if (j->bad)
				render_json_bad_target(stdout, j->spec, j->bad_why);
			else if (j->domain)
				render_domain_json(stdout, j->d, &ro);
			else
				render_json(stdout, r, &ro);
		} else if (!run->ordered) {
			table_row(run, j, r);
		} else {
			if (index + k > 0)
				fputc('\n', stdout);
			if (j->domain)
				render_domain_text(stdout, j->d, &ro);
			else if (o->explain)
				render_explain(stdout, r, &ro);
			else
				render_text(stdout, r, &ro);
		}
	}
	fflush(stdout);
}

/* Targets in a regular file, counted once up front so the progress line
 * can be a bar (a pipe cannot be counted: then it is a counter). */
static size_t count_targets(int fd)
{
	struct stat st;
	char buf[65536];
	size_t n = 0;
	bool blank = true, comment = false;
	off_t pos;
	ssize_t got;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (pos = lseek(fd, 0, SEEK_CUR)) < 0)
		return 0;
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < got; i++) {
			unsigned char c = (unsigned char)buf[i];

			if (c == '\n') {
				n += !blank && !comment;
				blank = true;
				comment = false;
			} else if (blank && !isspace(c)) {
				blank = false;
				comment = c == '#';
			}
		}
	n += !blank && !comment;
	lseek(fd, pos, SEEK_SET);
	return n;
}

static void progress(struct run *run)
{
	size_t done = run->counts->total, total = run->total_targets;

	if (!run->progress)
		return;
	if (total >= done && total > 0) {
		char bar[31];
		size_t fill = done * 30 / total, i;

		for (i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = '\0';
		fprintf(stderr, "\r  [%s] %zu/%zu, %zu in flight ", bar, done, total,
		        run->in_flight);
	} else {
		fprintf(stderr, "\r  %zu done, %zu in flight ", done, run->in_flight);
	}
	fflush(stderr);
}

/* ---- jobs ---- */

static void schedule_reap(struct run *run)
{
	loop_timer_set(run->env->loop, &run->reap_timer, 0);
}

static void on_dane_done(void *arg)
{
	struct job *j = arg;

	j->finished = true;
	schedule_reap(j->run);
}

/* --mta-sts is a domain's policy: a host target cannot have one. */
static void note_mta_sts(const struct options *o, struct result *r)
{
	if (!o->mta_sts)
		return;
	result_add(r, SEV_INFO, "mta-sts-needs-domain",
	           "--mta-sts checks a mail domain's policy: give the domain (with --mx or "
	           "as user@domain), not a single host");
	result_finish(r);
}

static void on_fanout_done(void *arg, struct fanout *f)
{
	struct job *j = arg;
	size_t n, i;
	struct result *rs = fanout_results(f, &n);

	for (i = 0; i < n; i++)
		note_mta_sts(j->run->opt, &rs[i]);
	j->finished = true;
	schedule_reap(j->run);
}

static void on_probe_done(void *arg, struct probe *s)
{
	struct job *j = arg;
	const struct options *o = j->run->opt;

	(void)s;                         /* freed by the reaper, not here */
	note_mta_sts(o, &j->r);
	/* --dane: the TLSA lookup runs once the chain is known; the job
	 * finishes when it has been matched. */
	if (o->dane && j->dc == NULL && j->r.host != NULL) {
		j->dc = dane_check_start(j->run->env->loop, j->run->env->dns, j->r.host, NULL, j->r.port,
		                         &j->r, on_dane_done, j);
		if (j->dc != NULL)
			return;
	}
	dane_drop_der(&j->r);
	j->finished = true;
	schedule_reap(j->run);
}

static void on_domain_done(void *arg, struct mx_audit *a)
{
	struct job *j = arg;

	(void)a;
	j->finished = true;
	schedule_reap(j->run);
}

static void on_deadline(struct loop *l, void *arg)
{
	struct job *j = arg;
	char why[96];

	(void)l;
	snprintf(why, sizeof(why), "the probe did not finish within its %g s deadline",
	         j->run->opt->deadline_ms / 1000.0);
	if (j->s != NULL)
		probe_abort(j->s, why);
	else if (j->fo != NULL)
		fanout_abort(j->fo, why);
	else if (j->a != NULL)
		mx_audit_abort(j->a, why);   /* the DNS phase and every probe of the domain */
}

static void job_reset(struct job *j)
{
	struct run *run = j->run;

	loop_timer_stop(run->env->loop, &j->deadline);
	probe_free(j->s);
	fanout_free(j->fo);
	mx_audit_free(j->a);
	dane_check_free(j->dc);
	j->s = NULL;
	j->fo = NULL;
	j->a = NULL;
	j->dc = NULL;
	result_clear(&j->r);
	if (j->d != NULL) {
		domain_result_clear(j->d);
		free(j->d);
		j->d = NULL;
	}
	j->busy = j->finished = j->domain = j->bad = j->reaped = false;
	j->spec[0] = j->key[0] = '\0';
}

/* Starts spec in job j; a spec that does not parse ends at once as
 * "unknown" (bad usage), like a bad argument would. */
static void job_start(struct run *run, struct job *j, const char *spec)
{
	const struct options *o = run->opt;
	struct target t;
	char err[200];
	bool ok;

	j->busy = true;
	snprintf(j->spec, sizeof(j->spec), "%s", spec);
	ok = target_parse(spec, &t, err, sizeof(err)) == 0;
	if (ok && o->port && t.port_given && t.port != o->port) {
		snprintf(err, sizeof(err), "-p %u conflicts with port %u in this line",
		         (unsigned)o->port, (unsigned)t.port);
		ok = false;
	}
	if (!ok) {
		/* Not a finding about a server: the line could not be checked at
		 * all, as a bad argument (status unknown, exit 3). */
		j->bad = true;
		snprintf(j->bad_why, sizeof(j->bad_why), "%s", err);
		j->r.target = xstrdup(spec);
		j->r.status = ST_UNKNOWN;
		j->finished = true;
		run->in_flight++;
		schedule_reap(run);
		return;
	}
	snprintf(j->key, sizeof(j->key), "%s", t.host);
	j->domain = o->mx || t.mail_domain;
	host_add(run, j->key, +1);
	run->in_flight++;
	if (j->domain) {
		/* Only domain jobs pay for a domain result (~20 KiB). */
		j->d = xmalloc(sizeof(*j->d));
		domain_result_init(j->d);
		j->a = mx_audit_new(run->env, spec, t.host, j->d, on_domain_done, j);
	} else if (o->all_addresses && !t.literal) {
		j->fo = fanout_new(run->env, run->env->params, &t, spec, o->dane, on_fanout_done, j);
	} else {
		j->s = probe_new(run->env, run->env->params, &t, spec, &j->r, on_probe_done, j);
	}
	loop_timer_set(run->env->loop, &j->deadline, o->deadline_ms);
	if (j->domain)
		mx_audit_start(j->a);
	else if (j->fo != NULL)
		fanout_start(j->fo);
	else
		probe_start(j->s);
}

static struct job *free_job(struct run *run)
{
	size_t i;

	for (i = 0; i < run->njobs; i++)
		if (!run->jobs[i].busy)
			return &run->jobs[i];
	return NULL;
}

static bool host_ok(struct run *run, const char *spec)
{
	struct target t;
	char err[64];

	if (run->opt->per_host == 0 || target_parse(spec, &t, err, sizeof(err)) != 0)
		return true;
	return host_in_flight(run, t.host) < run->opt->per_host;
}

static bool rate_ok(struct run *run)
{
	double now = loop_now();

	if (run->opt->rate <= 0)
		return true;
	if (now < run->next_start) {
		loop_timer_set(run->env->loop, &run->rate_timer, run->next_start - now);
		return false;
	}
	run->next_start = (run->next_start > now - 1000.0 / run->opt->rate ?
	                   run->next_start : now) + 1000.0 / run->opt->rate;
	return true;
}

/* Starts as many probes as the limits allow. */
static void fill(struct run *run)
{
	char spec[LINE_MAX_TARGET];
	size_t limit = run->opt->concurrency;

	while (run->in_flight < limit) {
		struct job *j = free_job(run);
		bool found = false;
		size_t i;

		if (j == NULL)
			return;
		/* Held-back targets first, in order, when their host has room. */
		for (i = 0; i < run->nwait; i++)
			if (host_ok(run, run->waiting[i])) {
				if (!rate_ok(run))
					return;
				snprintf(spec, sizeof(spec), "%s", run->waiting[i]);
				free(run->waiting[i]);
				memmove(&run->waiting[i], &run->waiting[i + 1],
				        (run->nwait - i - 1) * sizeof(run->waiting[0]));
				run->nwait--;
				found = true;
				break;
			}
		while (!found) {
			if (run->nwait == run->capwait)
				return;      /* wait for a host to free up */
			if (!next_line(run, spec, sizeof(spec)))
				return;
			if (host_ok(run, spec)) {
				found = true;
				break;
			}
			run->waiting[run->nwait++] = xstrdup(spec);
		}
		if (!rate_ok(run)) {
			/* Keep it for when the rate allows. */
			if (run->nwait < run->capwait) {
				run->waiting[run->nwait] = xstrdup(spec);
				memmove(&run->waiting[1], &run->waiting[0], run->nwait * sizeof(run->waiting[0]));
				run->waiting[0] = run->waiting[run->nwait];
				run->nwait++;
			}
			return;
		}
		job_start(run, j, spec);
	}
}

static void on_reap(struct loop *l, void *arg)
{
	struct run *run = arg;
	size_t i;

	for (i = 0; i < run->njobs; i++) {
		struct job *j = &run->jobs[i];
		enum status st;

		if (!j->busy || !j->finished || j->reaped)
			continue;
		j->reaped = true;
		st = job_status(j);
		run->counts->total++;
		run->counts->by_status[st]++;
		if (st > run->worst)
			run->worst = st;
		run->in_flight--;
		if (j->key[0])
			host_add(run, j->key, -1);
		loop_timer_stop(l, &j->deadline);
		if (run->ordered) {
			/* Keep the result for the end; free the engine now. */
			probe_free(j->s);
			fanout_release(j->fo);
			mx_audit_free(j->a);
			dane_check_free(j->dc);
			j->s = NULL;
			j->a = NULL;
			j->dc = NULL;
			continue;
		}
		/* The progress line shares the terminal with the table: clear it
		 * before a row, progress() draws it again below. */
		if (run->progress)
			fputs("\r\033[K", stderr);
		render_job(run, j, 0);
		job_reset(j);
	}
	progress(run);
	fill(run);
	maybe_stop(run);
}

static void maybe_stop(struct run *run)
{
	if (run->in_flight == 0 && !more_to_come(run))
		loop_stop(run->env->loop);
}

static void on_rate(struct loop *l, void *arg)
{
	(void)l;
	fill(arg);
}

enum status run_all(const struct probe_env *env, FILE *targets_file,
                    struct run_counts *counts)
{
	const struct options *o = env->opt;
	struct run run;
	size_t i;

	memset(&run, 0, sizeof(run));
	memset(counts, 0, sizeof(*counts));
	run.env = env;
	run.opt = o;
	run.fd = targets_file != NULL ? fileno(targets_file) : -1;
	if (run.fd >= 0) {
		run.fd_flags = fcntl(run.fd, F_GETFL);
		if (run.fd_flags >= 0)
			fcntl(run.fd, F_SETFL, run.fd_flags | O_NONBLOCK);
	}
	run.counts = counts;
	run.ordered = targets_file == NULL;
	run.njobs = run.ordered ? o->ntargets : o->concurrency;
	run.capwait = 4 * o->concurrency + 1;
	run.caphosts = 4 * o->concurrency + 16;
	run.progress = !run.ordered && isatty(STDERR_FILENO);
	if (run.progress && run.fd >= 0)
		run.total_targets = o->ntargets + count_targets(run.fd);
	run.jobs = xcalloc(run.njobs ? run.njobs : 1, sizeof(*run.jobs));
	run.waiting = xcalloc(run.capwait, sizeof(*run.waiting));
	run.hosts = xcalloc(run.caphosts, sizeof(*run.hosts));
	for (i = 0; i < run.njobs; i++) {
		run.jobs[i].run = &run;
		result_init(&run.jobs[i].r);
		loop_timer_init(&run.jobs[i].deadline, on_deadline, &run.jobs[i]);
	}
	loop_timer_init(&run.rate_timer, on_rate, &run);
	loop_timer_init(&run.reap_timer, on_reap, &run);
	fill(&run);
	if (run.in_flight > 0 || more_to_come(&run))
		loop_run(env->loop);
	if (run.progress)
		fputs("\r\033[K", stderr);
	if (run.ordered && (o->output == OUT_NAGIOS || o->output == OUT_PROMETHEUS)) {
		struct render_opts ro = ropts(&run);
		const struct result **all;
		size_t nall = 0, n, k;

		for (i = 0; i < run.njobs; i++) {
			job_results(&run.jobs[i], &n);
			nall += n;
		}
		all = xcalloc(nall ? nall : 1, sizeof(*all));
		nall = 0;
		for (i = 0; i < run.njobs; i++) {
			const struct result *rs = job_results(&run.jobs[i], &n);

			for (k = 0; k < n; k++)
				all[nall++] = &rs[k];
		}
		if (o->output == OUT_NAGIOS && run.njobs == 1 && run.jobs[0].domain)
			render_domain_nagios(stdout, run.jobs[0].d, &ro);
		else if (o->output == OUT_NAGIOS)
			render_nagios(stdout, all, nall, &ro);
		else
			render_prometheus(stdout, all, nall, &ro);
		free(all);
		fflush(stdout);
	} else if (run.ordered) {
		for (i = 0; i < run.njobs; i++)
			if (run.jobs[i].busy)
				render_job(&run, &run.jobs[i], i);
	}
	if (!run.ordered && o->output == OUT_TEXT && counts->total > 0)
		printf("%zu target%s: %zu ok, %zu warning, %zu critical, %zu unknown\n",
		       counts->total, counts->total == 1 ? "" : "s", counts->by_status[ST_OK],
		       counts->by_status[ST_WARNING], counts->by_status[ST_CRITICAL],
		       counts->by_status[ST_UNKNOWN]);
	if (run.watching)
		loop_del_fd(env->loop, run.fd);
	if (run.fd >= 0 && run.fd_flags >= 0)
		fcntl(run.fd, F_SETFL, run.fd_flags);   /* stdin is shared with the shell */
	for (i = 0; run.jobs != NULL && i < run.njobs; i++)
		job_reset(&run.jobs[i]);
	for (i = 0; i < run.nwait; i++)
		free(run.waiting[i]);
	free(run.waiting);
	free(run.hosts);
	free(run.jobs);
	return run.worst;
}
