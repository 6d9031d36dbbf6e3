/* JSON output: escaping that yields valid JSON for any input bytes, and a
 * small streaming writer that places commas, nesting and (optionally)
 * indentation, so renderers only say what to write. */
#include <math.h>
#include <string.h>

#include "jsonw.h"
#include "sanitize.h"

#define JSONW_MAX_DEPTH 32

void json_escape(FILE *f, const char *s, size_t n)
{
	putc('"', f);
	san_write(f, SAN_JSON, s, n);
	putc('"', f);
}

void jsonw_init(struct jsonw *w, FILE *f, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
}

/* Past the depth bound the writer still counts levels but writes nothing,
 * so begin/end stay balanced and the output stays valid (the too-deep
 * container was written as null). */
static bool jsonw_skipping(const struct jsonw *w)
{
	return w->depth >= JSONW_MAX_DEPTH;
}

static void jsonw_indent(struct jsonw *w, int depth)
{
	putc('\n', w->f);
	for (int i = 0; i < depth; i++)
		fputs("  ", w->f);
}

/* Separator before a value or a key at the current level. */
static void jsonw_sep(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->need_comma[w->depth])
		putc(',', w->f);
	if (w->pretty && w->depth > 0)
		jsonw_indent(w, w->depth);
	w->need_comma[w->depth] = true;
}

void jsonw_key(struct jsonw *w, const char *key)
{
	if (jsonw_skipping(w))
		return;
	jsonw_sep(w);
	json_escape(w->f, key, key ? strlen(key) : 0);
	fputs(w->pretty ? ": " : ":", w->f);
	w->after_key = true;
}

static void jsonw_begin(struct jsonw *w, char open)
{
	if (jsonw_skipping(w)) {
		w->depth++;
		return;
	}
	jsonw_sep(w);
	w->depth++;
	if (jsonw_skipping(w)) {
		fputs("null", w->f);
		return;
	}
	putc(open, w->f);
	w->need_comma[w->depth] = false;
}

static void jsonw_end(struct jsonw *w, char close)
{
	if (w->depth <= 0)
		return;
	if (jsonw_skipping(w)) {
		w->depth--;
		return;
	}
	/* Empty containers stay on one line: "[]". */
	if (w->pretty && w->need_comma[w->depth])
		jsonw_indent(w, w->depth - 1);
	w->depth--;
	putc(close, w->f);
	w->after_key = false;
}

void jsonw_obj_begin(struct jsonw *w) { jsonw_begin(w, '{'); }
void jsonw_obj_end(struct jsonw *w) { jsonw_end(w, '}'); }
void jsonw_arr_begin(struct jsonw *w) { jsonw_begin(w, '['); }
void jsonw_arr_end(struct jsonw *w) { jsonw_end(w, ']'); }

void jsonw_strn(struct jsonw *w, const char *s, size_t n)
{
	if (jsonw_skipping(w))
		return;
	jsonw_sep(w);
	if (s == NULL)
		fputs("null", w->f);
	else
		json_escape(w->f, s, n);
}

void jsonw_str(struct jsonw *w, const char *s)
{
	jsonw_strn(w, s, s ? strlen(s) : 0);
}

void jsonw_int(struct jsonw *w, long long v)
{
	if (jsonw_skipping(w))
		return;
	jsonw_sep(w);
	fprintf(w->f, "%lld", v);
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
	if (jsonw_skipping(w))
		return;
	jsonw_sep(w);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

void jsonw_num(struct jsonw *w, double v)
{
	if (jsonw_skipping(w))
		return;
	jsonw_sep(w);
	/* JSON has no NaN or infinity. */
	if (!isfinite(v))
		fputs("null", w->f);
	else
		fprintf(w->f, "%.1f", v);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	if (jsonw_skipping(w))
		return;
	jsonw_sep(w);
	fputs(v ? "true" : "false", w->f);
}

void jsonw_null(struct jsonw *w)
{
	if (jsonw_skipping(w))
		return;
	jsonw_sep(w);
	fputs("null", w->f);
}
