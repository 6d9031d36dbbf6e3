/* Exporter modules, as blackbox_exporter has them: a name that /probe's
 * module= parameter picks, standing for a few probe options (TLS mode, IP
 * family, DANE, thresholds...) applied on top of the exporter's own. */
#ifndef SP_SERVE_MODULE_H
#define SP_SERVE_MODULE_H

#include <stddef.h>
#include "options.h"

#define SERVE_MAX_MODULES 32
#define SERVE_MODULE_LINE 1024        /* bytes of one module definition */
#define SERVE_MODULE_ARGS 32          /* option words in one module */

struct serve_module {
	char name[64];
	char buf[SERVE_MODULE_LINE];      /* the option words, NUL-separated */
	char *argv[SERVE_MODULE_ARGS];    /* into buf */
	int argc;
};

/* "NAME:OPTIONS" (--serve-module): checked by applying it to a copy of o;
 * stored for the whole run. 0, or -1 with a one-line message in err. */
int serve_module_add(struct options *o, const char *spec, char *err, size_t errlen);
/* A file of "NAME: OPTIONS" lines (--serve-config; '#' comments). */
int serve_module_load(struct options *o, const char *path, char *err, size_t errlen);
const struct serve_module *serve_module_find(const char *name);
size_t serve_module_count(void);
const struct serve_module *serve_module_at(size_t i);
/* Applies a module's options to o (checked when added, so it cannot fail
 * then; -1 only if it would). */
int serve_module_apply(struct options *o, const struct serve_module *m, char *err,
                       size_t errlen);

#endif
