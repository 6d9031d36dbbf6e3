/* SMTP reply parser (RFC 5321 §4.2): bytes in, {code, enhanced status,
 * lines} out. Incremental, so a reply may arrive in any number of pieces,
 * and bounded: every cap is checked as bytes arrive, never only at LF. */
#include "smtp_reply.h"
#include "xmalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const reply_rc_names[] = {
	[REPLY_NEED_MORE]     = "incomplete reply",
	[REPLY_DONE]          = "complete reply",
	[REPLY_ERR_LONG_LINE] = "reply line too long",
	[REPLY_ERR_TOO_MANY]  = "reply too large",
	[REPLY_ERR_SYNTAX]    = "malformed reply line",
	[REPLY_ERR_MISMATCH]  = "reply code changed inside a multi-line reply",
	[REPLY_ERR_CODE]      = "invalid reply code",
};
_Static_assert(sizeof reply_rc_names / sizeof reply_rc_names[0] == REPLY_ERR_CODE + 1,
               "reply_rc_names must name every enum reply_rc");

const char *reply_rc_name(enum reply_rc rc)
{
	if ((unsigned)rc >= sizeof reply_rc_names / sizeof reply_rc_names[0])
		return "unknown";
	return reply_rc_names[rc];
}

void reply_parser_init(struct reply_parser *p, reply_line_cb cb, void *arg)
{
	memset(p, 0, sizeof *p);
	p->on_line = cb;
	p->arg = arg;
}

void smtp_reply_clear(struct smtp_reply *r)
{
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
	memset(r, 0, sizeof *r);
}

void reply_parser_reset(struct reply_parser *p)
{
	smtp_reply_clear(&p->reply);
	p->linelen = 0;
	p->line[0] = '\0';
	p->line_had_cr = false;
	p->done = false;
}

void reply_parser_clear(struct reply_parser *p)
{
	smtp_reply_clear(&p->reply);
	memset(p, 0, sizeof *p);
}

static bool reply_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 3463 §2: class "." subject "." detail, class 2/4/5, subject and
 * detail 1-3 digits, then end of text or a space. Copies it to out. */
static void reply_enhanced(const char *s, size_t len, char out[16])
{
	size_t i = 0, n;

	out[0] = '\0';
	if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return;
	i = 2;
	for (n = 0; i < len && reply_is_digit(s[i]) && n < 4; i++, n++)
		;
	if (n < 1 || n > 3 || i >= len || s[i] != '.')
		return;
	i++;
	for (n = 0; i < len && reply_is_digit(s[i]) && n < 4; i++, n++)
		;
	if (n < 1 || n > 3)
		return;
	if (i < len && s[i] != ' ' && s[i] != '\t')
		return;
	memcpy(out, s, i);   /* i <= 9: "5.999.999" */
	out[i] = '\0';
}

/* Appends one line's text to the reply, growing the array in steps up to
 * REPLY_MAX_LINES (the caller checked the cap). */
static enum reply_rc reply_add_line(struct smtp_reply *r, const char *text, size_t len)
{
	char *copy;

	/* Capacity is 8, 16, 32, ...: full when nlines is 0 or such a power. */
	if (r->nlines == 0 || (r->nlines >= 8 && (r->nlines & (r->nlines - 1)) == 0)) {
		size_t cap = r->nlines == 0 ? 8 : r->nlines * 2;
		r->lines = xreallocarray(r->lines, cap, sizeof *r->lines);
	}
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	r->lines[r->nlines++] = copy;
	return REPLY_NEED_MORE;
}

/* Validates the complete line in p->line and adds it to the reply.
 * Returns REPLY_DONE for the final line, REPLY_NEED_MORE for a
 * continuation, or an error. */
static enum reply_rc reply_end_line(struct reply_parser *p)
{
	struct smtp_reply *r = &p->reply;
	const char *s = p->line;
	size_t len = p->linelen;
	enum reply_rc rc;
	int code;

	p->line[len] = '\0';
	if (p->on_line != NULL)
		p->on_line(p->arg, s, len);

	if (len < 3 || !reply_is_digit(s[0]) || !reply_is_digit(s[1]) || !reply_is_digit(s[2]))
		return REPLY_ERR_SYNTAX;
	if (len > 3 && s[3] != ' ' && s[3] != '-')
		return REPLY_ERR_SYNTAX;
	/* RFC 5321 §4.2: first digit 2-5 and second 0-5 are the defined
	 * replies; 1yz is never used by SMTP. */
	if (s[0] < '2' || s[0] > '5' || s[1] > '5')
		return REPLY_ERR_CODE;
	code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (r->nlines > 0 && code != r->code)
		return REPLY_ERR_MISMATCH;
	if (r->nlines >= REPLY_MAX_LINES)
		return REPLY_ERR_TOO_MANY;

	rc = reply_add_line(r, len > 3 ? s + 4 : "", len > 3 ? len - 4 : 0);
	if (rc != REPLY_NEED_MORE)
		return rc;
	if (r->nlines == 1) {
		r->code = code;
		reply_enhanced(r->lines[0], len > 3 ? len - 4 : 0, r->enhanced);
	}
	p->linelen = 0;
	if (len == 3 || s[3] == ' ')
		return REPLY_DONE;
	return REPLY_NEED_MORE;
}

/* Adds one content byte to the line; fails the moment the line would pass
 * REPLY_MAX_LINE, so a server cannot stream a line forever. */
static enum reply_rc reply_put(struct reply_parser *p, char c)
{
	if (p->linelen >= REPLY_MAX_LINE)
		return REPLY_ERR_LONG_LINE;
	if (c == '\0') {
		c = '?';
		p->reply.had_nul = true;
	}
	p->line[p->linelen++] = c;
	return REPLY_NEED_MORE;
}

enum reply_rc reply_parser_feed(struct reply_parser *p, const char *buf,
                                size_t len, size_t *used)
{
	enum reply_rc rc = REPLY_NEED_MORE;
	size_t i = 0;

	if (p->done) {
		/* The finished reply waits to be taken; bytes stay with the caller. */
		rc = REPLY_DONE;
		goto done;
	}
	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (p->reply.bytes >= REPLY_MAX_BYTES) {
			rc = REPLY_ERR_TOO_MANY;
			goto done;
		}
		p->reply.bytes++;
		if (c == '\n') {
			if (!p->line_had_cr)
				p->reply.bare_lf = true;
			p->line_had_cr = false;
			rc = reply_end_line(p);
			if (rc == REPLY_DONE) {
				p->done = true;
				i++;
				goto done;
			}
			if (rc != REPLY_NEED_MORE) {
				i++;
				goto done;
			}
			continue;
		}
		if (p->line_had_cr) {
			/* A CR not followed by LF is part of the line. */
			p->line_had_cr = false;
			rc = reply_put(p, '\r');
			if (rc != REPLY_NEED_MORE) {
				i++;
				goto done;
			}
		}
		if (c == '\r') {
			p->line_had_cr = true;
			continue;
		}
		rc = reply_put(p, c);
		if (rc != REPLY_NEED_MORE) {
			i++;
			goto done;
		}
	}
done:
	if (rc != REPLY_DONE && rc != REPLY_NEED_MORE)
		p->line[p->linelen] = '\0';
	if (used != NULL)
		*used = i;
	return rc;
}

char *smtp_reply_join(const struct smtp_reply *r)
{
	size_t total = 1, off = 0;
	char *out;

	for (size_t i = 0; i < r->nlines; i++)
		total += strlen(r->lines[i]) + 1;
	out = xmalloc(total);
	for (size_t i = 0; i < r->nlines; i++) {
		size_t n = strlen(r->lines[i]);
		if (i > 0)
			out[off++] = '\n';
		memcpy(out + off, r->lines[i], n);
		off += n;
	}
	out[off] = '\0';
	return out;
}
