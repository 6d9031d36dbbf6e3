/* The one door between bytes from the network (SMTP replies, certificate
 * fields, DNS names and records, HTTP headers and bodies) and any output.
 * Whatever the context, no raw C0 control, DEL, C1 control or bidi / line
 * separator code point survives, and invalid UTF-8 becomes U+FFFD; each
 * mode then quotes what its format needs. docs/security.md has the rules. */
#ifndef SP_SANITIZE_H
#define SP_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum san_mode {
	SAN_TEXT,     /* terminal: controls as \xNN, unsafe code points as \uXXXX */
	SAN_NAGIOS,   /* plugin output: as TEXT, and '|' (the perfdata separator) as '/' */
	SAN_JSON,     /* inside a JSON string: RFC 8259 escapes, unsafe code points as \uXXXX */
	SAN_PROM,     /* Prometheus label value: as TEXT, then \ and " escaped */
	SAN_HTML,     /* HTML text or quoted attribute: as TEXT, then & < > " ' as entities */
};

/* Length (1..4) of the well-formed UTF-8 sequence at p[0..n), or 0 when it
 * is not one (overlong, surrogate, > U+10FFFF, truncated, stray byte). */
size_t san_utf8_len(const unsigned char *p, size_t n);

/* Code points that are valid UTF-8 but mislead a reader or a terminal:
 * C1 controls (U+009B is CSI), bidi marks, embeddings, overrides and
 * isolates (Trojan Source), line/paragraph separators, BOM. */
bool san_cp_unsafe(uint32_t cp);

/* Writes s[0..n) (NUL bytes included) to f for mode m. */
void san_write(FILE *f, enum san_mode m, const char *s, size_t n);

/* The C string s, at most max bytes of it, to f; a cut is marked "...". */
void san_puts(FILE *f, enum san_mode m, const char *s, size_t max);

/* The C string s, at most max bytes of it, into out (always NUL-terminated
 * when outsz > 0). A cut (s longer than max, or out too small) is marked
 * with "..."; an escape or code point is never split. Returns the length. */
size_t san_buf(char *out, size_t outsz, enum san_mode m, const char *s, size_t max);

#endif
