/* SMTP reply parser: bytes -> {code, enhanced status, lines}. Pure: no
 * socket, no loop, so it can be unit-tested and fuzzed. Every limit is
 * checked before the newline arrives, so a server cannot stream forever. */
#ifndef SP_SMTP_REPLY_H
#define SP_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#define REPLY_MAX_LINE   2048    /* bytes of one line, CRLF excluded (RFC 5321: 512) */
#define REPLY_MAX_LINES  512     /* lines of one reply */
#define REPLY_MAX_BYTES  65536   /* bytes of one reply */

enum reply_rc {
	REPLY_NEED_MORE = 0,     /* consumed everything, reply not complete */
	REPLY_DONE,              /* a whole reply is in p->reply */
	REPLY_ERR_LONG_LINE,     /* a line passed REPLY_MAX_LINE without LF */
	REPLY_ERR_TOO_MANY,      /* more than REPLY_MAX_LINES / REPLY_MAX_BYTES */
	REPLY_ERR_SYNTAX,        /* not "ddd", "ddd-..." or "ddd ..." */
	REPLY_ERR_MISMATCH,      /* code changed inside a multi-line reply */
	REPLY_ERR_CODE           /* three digits, but not a valid reply code (2xx-5xx) */
};
const char *reply_rc_name(enum reply_rc rc);   /* short English phrase */

struct smtp_reply {
	int code;                /* 200..599 */
	char enhanced[16];       /* "2.1.0" when line 1 starts with one, else "" */
	char **lines;            /* owned: text after "ddd-"/"ddd ", NUL-free */
	size_t nlines;
	size_t bytes;            /* raw bytes consumed for this reply */
	bool bare_lf;            /* some line ended in LF without CR */
	bool had_nul;            /* NUL bytes were seen (replaced by '?') */
};

/* Called for each complete raw line (CR/LF stripped, NUL replaced),
 * including lines of a reply that turns out to be malformed. */
typedef void (*reply_line_cb)(void *arg, const char *line, size_t len);

struct reply_parser {
	char line[REPLY_MAX_LINE + 1];
	size_t linelen;
	bool line_had_cr;
	struct smtp_reply reply;     /* the reply being built / just finished */
	reply_line_cb on_line;       /* borrowed, may be NULL */
	void *arg;
	bool done;
};

void reply_parser_init(struct reply_parser *p, reply_line_cb cb, void *arg);
/* Frees the current reply and prepares for the next one (keeps cb). */
void reply_parser_reset(struct reply_parser *p);
void reply_parser_clear(struct reply_parser *p);

/* Feeds len bytes. *used gets how many were consumed: on REPLY_DONE it stops
 * right after the final line, so bytes that follow (pipelining, or the
 * STARTTLS injection attack) stay with the caller. On an error the partial
 * line is in p->line[0..linelen). */
enum reply_rc reply_parser_feed(struct reply_parser *p, const char *buf,
                                size_t len, size_t *used);

/* Frees the lines of a reply the caller took over (moved out of a parser). */
void smtp_reply_clear(struct smtp_reply *r);

/* All lines joined with '\n' (malloc'ed), or NULL on no memory. */
char *smtp_reply_join(const struct smtp_reply *r);

#endif
