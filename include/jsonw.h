/* JSON output: string escaping that always yields valid JSON whatever bytes
 * it is given (invalid UTF-8 -> U+FFFD), and a tiny streaming writer. */
#ifndef SP_JSONW_H
#define SP_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes s[0..n) as a quoted JSON string. */
void json_escape(FILE *f, const char *s, size_t n);

/* Streaming writer: handles commas and nesting. Depth is bounded (32). */
struct jsonw {
	FILE *f;                 /* borrowed */
	int depth;
	bool need_comma[32];
	bool pretty;
	bool after_key;          /* a key was written: the next value takes no separator */
};
void jsonw_init(struct jsonw *w, FILE *f, bool pretty);
void jsonw_key(struct jsonw *w, const char *key);      /* inside an object */
void jsonw_obj_begin(struct jsonw *w);
void jsonw_obj_end(struct jsonw *w);
void jsonw_arr_begin(struct jsonw *w);
void jsonw_arr_end(struct jsonw *w);
void jsonw_str(struct jsonw *w, const char *s);        /* NULL -> null */
void jsonw_strn(struct jsonw *w, const char *s, size_t n);
void jsonw_int(struct jsonw *w, long long v);
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_num(struct jsonw *w, double v);             /* %.1f; NaN/neg-sentinel handled by caller */
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

#endif
