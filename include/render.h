/* Renderers: read a finished result, never change it. Each escapes server
 * text for its own format. */
#ifndef SP_RENDER_H
#define SP_RENDER_H

#include <stdbool.h>
#include <stdio.h>
#include "result.h"

struct render_opts {
	bool color;              /* ANSI colours (only on a TTY unless --color=always) */
	bool transcript;         /* -v: include the dialogue */
	bool explain;            /* --explain */
	bool pretty;             /* JSON: indented (single target, TTY) */
	bool unicode;            /* arrows and the like: only on a UTF-8 terminal */
	bool perfdata_plain;     /* Nagios perfdata thresholds as bare numbers */
	bool address_labels;     /* Prometheus: address/family on every series */
};

void render_text(FILE *f, const struct result *r, const struct render_opts *o);
void render_json(FILE *f, const struct result *r, const struct render_opts *o);
/* The "size" member of a result (with its --size-check "check"), for
 * documents that embed part of a result (the setup's login). */
struct jsonw;
void render_json_size(struct jsonw *w, const struct size_info *s);
/* A batch line that is not a target: {schema, target, status "unknown", error}. */
void render_json_bad_target(FILE *f, const char *target, const char *why);
/* The same document as one object inside a larger one (a domain's probes[]). */
struct jsonw;
void render_json_object(struct jsonw *w, const struct result *r, const struct render_opts *o);
/* Its members only, inside an object the caller opened (--setup's candidates). */
void render_json_members(struct jsonw *w, const struct result *r, const struct render_opts *o);
/* The dialogue annotated line by line in plain language, then the verdict. */
void render_explain(FILE *f, const struct result *r, const struct render_opts *o);

/* Monitoring Plugins output: one status line with perfdata, then long
 * output with each finding. n results (several targets): worst status. */
/* smtp_probe_success: reached EHLO and every check asked for passed. */
bool render_prom_success(const struct result *r);
void render_nagios(FILE *f, const struct result *const *r, size_t n,
                   const struct render_opts *o);
/* The one line a plugin prints when it cannot check (exit 3). */
void render_nagios_unknown(FILE *f, const char *reason);
/* Prometheus text exposition format for n results (label target=...). */
void render_prometheus(FILE *f, const struct result *const *r, size_t n,
                       const struct render_opts *o);

/* A mail domain (--mx): summary first, then each probe. */
struct domain_result;
void render_domain_text(FILE *f, const struct domain_result *d, const struct render_opts *o);
void render_domain_json(FILE *f, const struct domain_result *d, const struct render_opts *o);
void render_domain_nagios(FILE *f, const struct domain_result *d, const struct render_opts *o);

/* The relay setup assistant (--setup): the decision, the candidates and
 * the configuration snippets; --explain says why in plain words. */
struct setup_result;
void render_setup_text(FILE *f, const struct setup_result *sr, const struct render_opts *o);
void render_setup_json(FILE *f, const struct setup_result *sr, const struct render_opts *o);
void render_setup_explain(FILE *f, const struct setup_result *sr, const struct render_opts *o);
/* The recommended server's size sentence into out; true when the limit was
 * verified at MAIL FROM (the login connection), false when advertised only. */
bool render_setup_size(char *out, size_t outsz, const struct setup_result *sr, bool unicode);

/* One self-contained HTML page (inline CSS and SVG, no script, nothing
 * loaded from elsewhere): the verdict, findings, a timeline, extensions,
 * the chain as cards, the limit and the explained dialogue. */
void render_html(FILE *f, const struct result *r, const struct render_opts *o);
void render_domain_html(FILE *f, const struct domain_result *d, const struct render_opts *o);
/* --setup: the decision first, the findings, the candidates as a table,
 * the snippets, then each candidate's probe as the single page draws it. */
void render_setup_html(FILE *f, const struct setup_result *sr, const struct render_opts *o);
/* The Content-Security-Policy the page is written for (served pages send
 * it as a header too). */
extern const char render_html_csp[];

/* Terminal-safe copy of server text (sanitize.h, SAN_TEXT): controls as
 * \xNN, C1 and bidi code points as \uXXXX, invalid UTF-8 as U+FFFD; writes
 * at most max bytes of input. */
void render_safe(FILE *f, const char *s, size_t max);

#endif
