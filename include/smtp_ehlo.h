/* EHLO reply -> extension list. Pure and fuzzable. */
#ifndef SP_SMTP_EHLO_H
#define SP_SMTP_EHLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "result.h"
#include "smtp_reply.h"

/* The first word of a greeting or EHLO reply is a host name only when it is
 * a plausible one: an address literal ([192.0.2.1], [IPv6:...]), "localhost",
 * or a name of two or more valid labels. */
bool smtp_ehlo_is_domain(const char *s, size_t n);

/* Fills e from a 250 reply: hostname = first word of line 1 when
 * smtp_ehlo_is_domain says it is one (else NULL), each further
 * line one extension (keyword upper-cased, params as sent, trimmed).
 * At most RESULT_MAX_EXT extensions are kept. e must be zeroed or cleared
 * first. */
void smtp_ehlo_parse(const struct smtp_reply *r, bool helo, struct ehlo_info *e);
void smtp_ehlo_clear(struct ehlo_info *e);

/* Params of keyword kw (case-insensitive) or NULL if not offered. */
const char *smtp_ehlo_find(const struct ehlo_info *e, const char *kw);

/* SIZE params: 1 if a non-zero limit was parsed into *limit, 0 when SIZE
 * says "no fixed limit" (no number or 0), -1 when the number is malformed
 * or does not fit. */
int smtp_ehlo_size(const char *params, uint64_t *limit);

/* One-line meaning of a well-known extension keyword, or NULL. */
const char *smtp_ehlo_describe(const char *kw);

#endif
