/* EHLO reply -> greeting host name and extension list (RFC 5321 §4.1.1.1).
 * Pure: the reply has already been bounded by smtp_reply.c, this only
 * splits it. Unknown keywords are kept exactly as the server sent them. */
#include "smtp_ehlo.h"
#include "xmalloc.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EHLO_MAX_HOSTNAME 255   /* RFC 1035 name length in text form */

static char *ehlo_strndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static char ehlo_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool ehlo_is_space(char c)
{
	return c == ' ' || c == '\t';
}

void smtp_ehlo_clear(struct ehlo_info *e)
{
	free(e->hostname);
	for (size_t i = 0; i < e->nlines; i++)
		free(e->lines[i]);
	free(e->lines);
	for (size_t i = 0; i < e->next; i++) {
		free(e->ext[i].keyword);
		free(e->ext[i].params);
	}
	free(e->ext);
	memset(e, 0, sizeof *e);
}

/* One extension line: keyword = first token, upper-cased; params = what
 * follows the first run of spaces, without trailing spaces. Returns 1 if
 * added, 0 if the line holds no keyword. */
static int ehlo_add_ext(struct ehlo_info *e, const char *line)
{
	const char *kw = line, *kwend, *par, *parend;
	struct ehlo_ext *x;

	while (ehlo_is_space(*kw))
		kw++;
	for (kwend = kw; *kwend != '\0' && !ehlo_is_space(*kwend); kwend++)
		;
	if (kwend == kw)
		return 0;
	for (par = kwend; ehlo_is_space(*par); par++)
		;
	for (parend = par + strlen(par); parend > par && ehlo_is_space(parend[-1]); parend--)
		;

	x = &e->ext[e->next];
	x->keyword = ehlo_strndup(kw, (size_t)(kwend - kw));
	x->params = ehlo_strndup(par, (size_t)(parend - par));
	for (char *c = x->keyword; *c != '\0'; c++)
		*c = ehlo_upper(*c);
	e->next++;
	return 1;
}

static bool ehlo_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool smtp_ehlo_is_domain(const char *s, size_t n)
{
	char lit[64];
	unsigned char a[16];
	size_t labels = 0, len = 0;

	if (n == 0 || n > 255)
		return false;
	/* Address literal: [192.0.2.1] or [IPv6:2001:db8::1] (RFC 5321 4.1.3). */
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']' || n - 2 >= sizeof(lit))
			return false;
		memcpy(lit, s + 1, n - 2);
		lit[n - 2] = '\0';
		if (strncasecmp(lit, "IPv6:", 5) == 0)
			return inet_pton(AF_INET6, lit + 5, a) == 1;
		return inet_pton(AF_INET, lit, a) == 1;
	}
	if (n == 9 && strncasecmp(s, "localhost", 9) == 0)
		return true;
	if (s[n - 1] == '.')             /* the root dot */
		n--;
	if (n == 0 || n > 253)
		return false;
	/* Labels of letters, digits, '-' (not first or last) and '_' (seen in
	 * the wild), at most 63 bytes; at least two of them: a single word
	 * ("Hello", "ESMTP") is text, not a name a client could look up. */
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (len == 0 || len > 63 || s[i - 1] == '-')
				return false;
			labels++;
			len = 0;
			continue;
		}
		if (!ehlo_is_alnum(s[i]) && s[i] != '_' && !(s[i] == '-' && len > 0))
			return false;
		len++;
	}
	return labels >= 2;
}

void smtp_ehlo_parse(const struct smtp_reply *r, bool helo, struct ehlo_info *e)
{
	e->present = true;
	e->helo = helo;
	e->code = r->code;

	if (r->nlines > 0) {
		const char *h = r->lines[0];
		size_t n = 0;

		while (ehlo_is_space(*h))
			h++;
		while (h[n] != '\0' && !ehlo_is_space(h[n]) && n <= EHLO_MAX_HOSTNAME)
			n++;
		/* "250-Hello vm" names no host: only a plausible name is kept. */
		if (smtp_ehlo_is_domain(h, n))
			e->hostname = ehlo_strndup(h, n);
		e->lines = xcalloc(r->nlines, sizeof *e->lines);
		for (size_t i = 0; i < r->nlines; i++) {
			e->lines[i] = ehlo_strndup(r->lines[i], strlen(r->lines[i]));
			e->nlines++;
		}
	}

	/* A HELO reply and a refusal carry no extensions (RFC 5321 §4.1.1.1):
	 * their further lines are free text. */
	if (!helo && r->code / 100 == 2 && r->nlines > 1) {
		size_t want = r->nlines - 1;

		if (want > RESULT_MAX_EXT)
			want = RESULT_MAX_EXT;
		e->ext = xcalloc(want, sizeof *e->ext);
		for (size_t i = 1; i < r->nlines && e->next < want; i++)
			ehlo_add_ext(e, r->lines[i]);
	}
}

static bool ehlo_streq_nocase(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (ehlo_upper(*a) != ehlo_upper(*b))
			return false;
	return *a == *b;
}

const char *smtp_ehlo_find(const struct ehlo_info *e, const char *kw)
{
	for (size_t i = 0; i < e->next; i++)
		if (ehlo_streq_nocase(e->ext[i].keyword, kw))
			return e->ext[i].params;
	return NULL;
}

int smtp_ehlo_size(const char *params, uint64_t *limit)
{
	uint64_t v = 0;
	size_t n = 0;
	int rc = -1;

	*limit = 0;
	if (params == NULL)
		return 0;
	while (ehlo_is_space(*params))
		params++;
	if (*params == '\0')
		return 0;            /* RFC 1870 §4: SIZE alone, no fixed limit */
	for (; params[n] >= '0' && params[n] <= '9'; n++) {
		unsigned d = (unsigned)(params[n] - '0');
		if (n >= 20 || v > (UINT64_MAX - d) / 10)
			goto done;
		v = v * 10 + d;
	}
	if (n == 0)
		goto done;
	while (ehlo_is_space(params[n]))
		n++;
	if (params[n] != '\0')
		goto done;
	*limit = v;
	rc = v == 0 ? 0 : 1;     /* SIZE 0 also means no fixed limit */
done:
	return rc;
}

static const struct {
	const char *kw;
	const char *what;
} ehlo_known[] = {
	{ "SIZE",                "largest message accepted, in bytes (RFC 1870)" },
	{ "8BITMIME",            "accepts 8-bit MIME message bodies (RFC 6152)" },
	{ "PIPELINING",          "commands may be sent in batches without waiting (RFC 2920)" },
	{ "AUTH",                "login with these SASL mechanisms (RFC 4954)" },
	{ "STARTTLS",            "can switch this connection to TLS encryption (RFC 3207)" },
	{ "SMTPUTF8",            "accepts UTF-8 addresses and headers (RFC 6531)" },
	{ "CHUNKING",            "accepts the message in chunks with BDAT (RFC 3030)" },
	{ "BINARYMIME",          "accepts binary MIME bodies without encoding (RFC 3030)" },
	{ "DSN",                 "can send delivery status notifications on request (RFC 3461)" },
	{ "ENHANCEDSTATUSCODES", "adds detailed x.y.z status codes to replies (RFC 2034)" },
	{ "REQUIRETLS",          "can require TLS for the whole delivery path (RFC 8689)" },
	{ "LIMITS",              "announces its limits on recipients and transactions (RFC 9422)" },
	{ "DELIVERBY",           "can deliver within a deadline or return the message (RFC 2852)" },
	{ "ETRN",                "can start delivery of mail queued for a domain (RFC 1985)" },
	{ "VRFY",                "can check whether a mailbox exists" },
	{ "EXPN",                "can expand a mailing list to its members" },
	{ "HELP",                "answers the HELP command" },
	{ "MTRK",                "supports message tracking (RFC 3885)" },
	{ "NO-SOLICITING",       "refuses unsolicited mail of the listed kinds (RFC 3865)" },
	{ "FUTURERELEASE",       "can hold a message and release it later (RFC 4865)" },
	{ "XCLIENT",             "lets a trusted proxy pass the real client's details (Postfix)" },
	{ "XFORWARD",            "lets a trusted filter pass the original client's details (Postfix)" },
	{ "MT-PRIORITY",         "accepts a message transfer priority (RFC 6710)" },
	{ "ATRN",                "can send queued mail back on an authenticated turn (RFC 2645)" },
	{ "BURL",                "can fetch message content from an IMAP URL (RFC 4468)" },
	{ "CHECKPOINT",          "can resume an interrupted transfer (RFC 1845)" },
	{ "CONNEG",              "supports content negotiation for fax-style mail (RFC 4141)" },
	{ "RRVS",                "can check that a recipient mailbox was not reassigned (RFC 7293)" },
	{ "SUBMITTER",           "accepts the responsible submitter of a message (RFC 4405)" },
	{ "ONEX",                "accepts only one message per connection (Sendmail)" },
	{ "VERB",                "verbose mode for debugging (Sendmail)" },
	{ "XUSR",                "marks the message as an initial user submission (Sendmail)" },
	{ "X-EXPS",              "Microsoft Exchange server-to-server authentication" },
};

const char *smtp_ehlo_describe(const char *kw)
{
	if (kw == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof ehlo_known / sizeof ehlo_known[0]; i++)
		if (ehlo_streq_nocase(ehlo_known[i].kw, kw))
			return ehlo_known[i].what;
	/* Pre-RFC 2554 form some servers still add for old Outlook clients. */
	if (strncmp(kw, "AUTH=", 5) == 0 || strncmp(kw, "auth=", 5) == 0)
		return "login mechanisms again, in the old AUTH= form for old clients";
	return NULL;
}
