/* Exporter modules (--serve-module NAME:OPTIONS, --serve-config FILE): a
 * module is a few of the command line's own probe options, run through the
 * same option table as the command line, so a module means exactly what
 * those options mean. Stored in a fixed table for the whole run. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "serve_module.h"

static struct serve_module modules[SERVE_MAX_MODULES];
static size_t nmodules;

/* What a module may set: how one target is probed. Not what the exporter
 * itself is (--serve, -c, --resolver), nor checks that need a mail domain
 * or credentials. */
static const char *const module_opts[] = {
	"port", "starttls", "implicit-tls", "no-tls", "ipv4", "ipv6",
	"helo", "timeout", "connect-timeout", "deadline", "time-limit", "servername",
	"cafile", "capath", "pin", "warn-days", "crit-days", "warn-time", "crit-time",
	"dane", "tls-versions", "starttls-injection", "check-tls-required",
};

static const struct cli_opt *module_row(const char *word, size_t n)
{
	for (size_t i = 0; i < cli_nopts; i++) {
		const struct cli_opt *r = &cli_opts[i];
		bool ok = false;

		if (n == 1 ? r->short_name != word[0] :
		    strlen(r->name) != n || strncmp(r->name, word, n) != 0)
			continue;
		for (size_t k = 0; k < sizeof(module_opts) / sizeof(module_opts[0]); k++)
			ok = ok || strcmp(module_opts[k], r->name) == 0;
		return ok ? r : NULL;
	}
	return NULL;
}

int serve_module_apply(struct options *o, const struct serve_module *m, char *err,
                       size_t errlen)
{
	for (int i = 0; i < m->argc; i++) {
		const char *w = m->argv[i], *val = NULL, *eq;
		const struct cli_opt *r;
		size_t n;

		if (w[0] != '-' || w[1] == '\0') {
			snprintf(err, errlen, "module '%s': '%s' is not an option", m->name, w);
			return -1;
		}
		if (w[1] == '-') {
			w += 2;
			eq = strchr(w, '=');
			n = eq ? (size_t)(eq - w) : strlen(w);
			if (eq)
				val = eq + 1;
		} else {
			w += 1;
			n = 1;
			if (w[1] != '\0')
				val = w + 1;        /* -p587 */
		}
		r = module_row(w, n);
		if (r == NULL) {
			snprintf(err, errlen, "module '%s': option '%s' cannot be used in a module",
			         m->name, m->argv[i]);
			return -1;
		}
		if (r->arg != NULL && val == NULL) {
			if (i + 1 >= m->argc) {
				snprintf(err, errlen, "module '%s': option '%s' needs a value", m->name,
				         m->argv[i]);
				return -1;
			}
			val = m->argv[++i];
		} else if (r->arg == NULL && val != NULL) {
			snprintf(err, errlen, "module '%s': option '%s' takes no value", m->name,
			         m->argv[i]);
			return -1;
		}
		/* A module's TLS mode and family replace the exporter's own. */
		if (r->handler != NULL && (strcmp(r->name, "starttls") == 0 ||
		                           strcmp(r->name, "implicit-tls") == 0 ||
		                           strcmp(r->name, "no-tls") == 0))
			o->mode_set = false;
		if (strcmp(r->name, "ipv4") == 0 || strcmp(r->name, "ipv6") == 0)
			o->only4 = o->only6 = false;
		if (r->handler(o, val, err, errlen) != 0) {
			char inner[160];

			snprintf(inner, sizeof(inner), "%s", err);
			snprintf(err, errlen, "module '%s': %s", m->name, inner);
			return -1;
		}
	}
	return 0;
}

/* What cli_parse checks after its loop, for the options a module sets. */
static int module_check(const struct options *o, const char *name, char *err, size_t errlen)
{
	if (o->warn_days < o->crit_days)
		snprintf(err, errlen, "module '%s': --warn-days %d is below --crit-days %d", name,
		         o->warn_days, o->crit_days);
	else if (o->warn_time_ms > 0 && o->crit_time_ms > 0 && o->warn_time_ms > o->crit_time_ms)
		snprintf(err, errlen, "module '%s': --warn-time is above --crit-time", name);
	else if (o->mode_set && o->mode == TLS_MODE_NONE && (o->tls_versions || o->starttls_injection))
		snprintf(err, errlen, "module '%s': --tls-versions and --starttls-injection need TLS",
		         name);
	else if (o->mode_set && o->mode == TLS_MODE_IMPLICIT &&
	         (o->starttls_injection || o->check_tls_required))
		snprintf(err, errlen, "module '%s': --starttls-injection and --check-tls-required "
		         "need a STARTTLS port", name);
	else
		return 0;
	return -1;
}

int serve_module_add(struct options *o, const char *spec, char *err, size_t errlen)
{
	struct serve_module *m;
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : 0, used = 0;
	const char *p;
	struct options copy;

	if (colon == NULL || n == 0 || n >= sizeof(m->name)) {
		snprintf(err, errlen, "bad --serve-module '%.60s': want NAME:OPTIONS", spec);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)spec[i]) || spec[i] == '_' || spec[i] == '-' ||
		      spec[i] == '.')) {
			snprintf(err, errlen, "bad --serve-module name '%.*s': letters, digits, "
			         "'_', '-' and '.' only", (int)n, spec);
			return -1;
		}
	if (nmodules == SERVE_MAX_MODULES) {
		snprintf(err, errlen, "too many modules (at most %d)", SERVE_MAX_MODULES);
		return -1;
	}
	memcpy(modules[nmodules].name, spec, n);
	modules[nmodules].name[n] = '\0';
	if (serve_module_find(modules[nmodules].name) != NULL) {
		snprintf(err, errlen, "module '%s' is defined twice", modules[nmodules].name);
		return -1;
	}
	m = &modules[nmodules];
	m->argc = 0;
	for (p = colon + 1; *p;) {
		size_t w;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		w = strcspn(p, " \t");
		if (m->argc == SERVE_MODULE_ARGS || used + w + 1 > sizeof(m->buf)) {
			snprintf(err, errlen, "module '%s' is too long", m->name);
			return -1;
		}
		memcpy(m->buf + used, p, w);
		m->buf[used + w] = '\0';
		m->argv[m->argc++] = m->buf + used;
		used += w + 1;
		p += w;
	}
	copy = *o;
	if (serve_module_apply(&copy, m, err, errlen) != 0 ||
	    module_check(&copy, m->name, err, errlen) != 0)
		return -1;
	nmodules++;
	return 0;
}

int serve_module_load(struct options *o, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[SERVE_MODULE_LINE + 2];
	unsigned lineno = 0;
	int rc = 0;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read --serve-config '%s': %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);
		char *s = line;

		lineno++;
		if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
			snprintf(err, errlen, "--serve-config '%s' line %u: longer than %d bytes", path,
			         lineno, SERVE_MODULE_LINE);
			rc = -1;
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		if (serve_module_add(o, s, err, errlen) != 0) {
			char inner[200];

			snprintf(inner, sizeof(inner), "%s", err);
			snprintf(err, errlen, "--serve-config '%s' line %u: %s", path, lineno, inner);
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}

const struct serve_module *serve_module_find(const char *name)
{
	for (size_t i = 0; i < nmodules; i++)
		if (strcmp(modules[i].name, name) == 0)
			return &modules[i];
	return NULL;
}

size_t serve_module_count(void)
{
	return nmodules;
}

const struct serve_module *serve_module_at(size_t i)
{
	return i < nmodules ? &modules[i] : NULL;
}
