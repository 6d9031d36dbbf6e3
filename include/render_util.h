/* Helpers shared by the renderers (text, explain, json): UTF-8 checking,
 * terminal-safe copies of server text, number and date formatting, word
 * wrapping and the verdict section. Internal to the render_* modules. */
#ifndef SP_RENDER_UTIL_H
#define SP_RENDER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "render.h"
#include "result.h"

#define RENDER_WIDTH 80

/* san_utf8_len (sanitize.h), kept for the renderers' own use. */
size_t render_utf8_len(const unsigned char *p, size_t n);

/* Like render_safe, into out (always NUL-terminated); a cut is marked with
 * "...". Returns the length written. */
size_t render_safe_buf(char *out, size_t outsz, const char *s, size_t max);

/* snprintf / append to a bounded buffer; truncation is the intent (the
 * text is for display), so no caller needs to check lengths. */
void render_fmt(char *out, size_t outsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void render_appendf(char *out, size_t outsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* 104857600 -> "104,857,600" */
void render_thousands(char *out, size_t outsz, uint64_t v);
/* "2026-11-28T07:00:00Z"; "" for 0. */
void render_rfc3339(char *out, size_t outsz, time_t t);
/* "2026-11-28" */
void render_date(char *out, size_t outsz, time_t t);
/* "100.0 MiB / 104.9 MB" (binary first) or "104.9 MB / 100.0 MiB" */
void render_human(char *out, size_t outsz, uint64_t bytes, bool decimal_first);
/* "_25._tcp.mx1.test. IN TLSA 3 1 1 <hex>": the DANE-EE record that would
 * pin the leaf's current key; false without a leaf. */
bool render_tlsa_311(char *out, size_t outsz, const struct result *r);
/* A certificate's DER as a PEM block (--showcerts); nothing above
 * RENDER_PEM_MAX bytes (no real certificate is that large). */
#define RENDER_PEM_MAX 65536
void render_pem(FILE *f, const unsigned char *der, size_t len);

/* The SIZE sentence of the Limits section. */
void render_size_sentence(char *out, size_t outsz, const struct size_info *s, bool unicode);
/* What --size-check proved (s->checked), one sentence for people. The
 * note is ours (a reply code and the sender we used), already safe. */
void render_size_check_sentence(char *out, size_t outsz, const struct size_info *s,
                                bool unicode);

/* Writes text (already safe) starting at column col, wrapping at
 * RENDER_WIDTH; continuation lines are indented by indent. Ends the line. */
void render_wrap(FILE *f, const char *text, int col, int indent);

/* ANSI colour for a severity / status, "" without o->color. */
const char *render_sev_color(const struct render_opts *o, enum severity sev);
const char *render_status_color(const struct render_opts *o, enum status st);
const char *render_reset(const struct render_opts *o);

/* The "Verdict" section shared by text and explain. */
void render_verdict(FILE *f, const struct result *r, const struct render_opts *o);

/* "Transcript" section (t_ms dir line), shared by text -v. */
void render_transcript(FILE *f, const struct result *r);

#endif
