/* --explain: the SMTP dialogue line by line, each line followed by what it
 * means for someone configuring an app, printer or NAS to use this relay.
 * Written for a relay admin, not a protocol lawyer. Reads only the result:
 * the transcript for the order of events, the model for the numbers. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "render.h"
#include "render_util.h"
#include "tlsver.h"
#include "smtp_ehlo.h"

#define HEAD_COL    11           /* "%8.1f %c " */
#define EXPL_INDENT 13

enum ex_cmd { EX_NONE, EX_EHLO, EX_HELO, EX_STARTTLS, EX_AUTH, EX_MAIL,
              EX_RCPT, EX_RSET, EX_QUIT, EX_OTHER };

struct ex_state {
	enum ex_cmd cmd;           /* last command sent: whose reply this is */
	size_t reply_line;         /* index of the line within the reply */
	bool tls_up;               /* encrypted from here on */
	bool logged_in;            /* a 235 answered AUTH: the next EHLO is ehlo_auth */
	bool in_auth;              /* a 334 answered AUTH: the next line is its answer */
	bool awaiting;             /* cmd's reply has not ended yet */
	bool rset_queued;          /* RSET pipelined behind MAIL: its reply comes next */
	bool mail_size;            /* the MAIL carried SIZE= (--size-check) */
	size_t cert_seen;          /* "certificate" events so far */
	bool said_event_note;
};

/* Explanation paragraph under a transcript line. */
static void say(FILE *f, const char *text)
{
	fprintf(f, "%*s", EXPL_INDENT, "");
	render_wrap(f, text, EXPL_INDENT, EXPL_INDENT);
}

static void say_at(FILE *f, int indent, const char *text)
{
	fprintf(f, "%*s", indent, "");
	render_wrap(f, text, indent, indent + 2);
}

/* A "- item" whose continuation lines hang under the item's text. */
static void say_item(FILE *f, const char *text)
{
	fprintf(f, "%*s", EXPL_INDENT, "");
	render_wrap(f, text, EXPL_INDENT, EXPL_INDENT + 2);
}

static bool contains_nocase(const char *s, const char *needle)
{
	return strcasestr(s, needle) != NULL;
}

static enum ex_cmd classify_command(const char *line)
{
	static const struct { const char *word; enum ex_cmd cmd; } cmds[] = {
		{ "EHLO", EX_EHLO }, { "HELO", EX_HELO }, { "STARTTLS", EX_STARTTLS },
		{ "AUTH", EX_AUTH }, { "MAIL", EX_MAIL }, { "RCPT", EX_RCPT },
		{ "RSET", EX_RSET }, { "QUIT", EX_QUIT },
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		size_t n = strlen(cmds[i].word);

		if (strncasecmp(line, cmds[i].word, n) == 0 &&
		    (line[n] == '\0' || line[n] == ' '))
			return cmds[i].cmd;
	}
	return EX_OTHER;
}

/* "250-SIZE 1024" -> code 250, last=false, text "SIZE 1024". */
static int reply_code(const char *line, bool *last, const char **text)
{
	*last = true;
	*text = line;
	if (!isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return 0;
	if (line[3] == '-')
		*last = false;
	else if (line[3] != ' ' && line[3] != '\0')
		return 0;
	*text = line[3] ? line + 4 : line + 3;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* First word of s, made safe, into out. */
static void first_word(char *out, size_t outsz, const char *s)
{
	char w[256];
	size_t n = strcspn(s, " ");

	if (n >= sizeof(w))
		n = sizeof(w) - 1;
	memcpy(w, s, n);
	w[n] = '\0';
	render_safe_buf(out, outsz, w, n);
}

static void explain_greeting(FILE *f, const struct result *r, int code, const char *text)
{
	char buf[1024], host[1100];

	first_word(host, sizeof(host), text);
	switch (code) {
	case 220:
		render_fmt(buf, sizeof(buf), "Greeting, code 220: the server is ready to "
		           "talk. It calls itself \"%s\"; for a relay inside your network "
		           "any name is fine, for a public server it should be a name "
		           "that resolves to this address.", host);
		break;
	case 421:
		render_fmt(buf, sizeof(buf), "Code 421: the server is busy or is "
		           "deliberately slowing this client down (a tarpit against spam). "
		           "It is not down: try again later, or from an address it "
		           "trusts.");
		break;
	case 554:
		render_fmt(buf, sizeof(buf), "Code 554: the server refuses to talk to this "
		           "client at all, usually because of the client's IP address "
		           "(blocklist, or not in the relay's allowed networks). Ask its "
		           "admin to allow the address your app sends from.");
		break;
	default:
		render_fmt(buf, sizeof(buf), "Greeting with code %d: %s", code,
		           code >= 200 && code < 300 ? "the server is ready." :
		           code >= 400 && code < 500 ? "a temporary refusal: try again later." :
		           "the server refuses this client.");
	}
	(void)r;
	say(f, buf);
}

static void explain_size(FILE *f, const struct result *r, const char *params)
{
	struct size_info s;
	char buf[1024], lim[32], lh[48], att[32], ah[48];
	uint64_t limit = 0;
	int rc = smtp_ehlo_size(params, &limit);

	if (rc < 0) {
		say(f, "SIZE: the largest message the server accepts, but the number "
		    "it gives is malformed, so the limit is unknown.");
		return;
	}
	if (rc == 0) {
		say(f, "SIZE without a number (or 0): the server announces no fixed "
		    "limit on message size. It may still refuse a very large message "
		    "once it has been sent.");
		return;
	}
	memset(&s, 0, sizeof(s));
	s.advertised = s.has_limit = true;
	s.limit = limit;
	size_compute(&s, r->size.reserve ? r->size.reserve : 4096);
	render_thousands(lim, sizeof(lim), s.limit);
	render_human(lh, sizeof(lh), s.limit, true);
	render_thousands(att, sizeof(att), s.max_attachment_base64);
	render_human(ah, sizeof(ah), s.max_attachment_base64, true);
	render_fmt(buf, sizeof(buf), "SIZE: the largest message this server accepts "
	           "is %s bytes (%s). Attachments grow by about a third when encoded "
	           "for mail (base64), and headers need room, so the largest file "
	           "you can attach is about %s bytes (%s).", lim, lh, att, ah);
	say(f, buf);
}

static void explain_auth(FILE *f, const struct result *r, const struct ex_state *st,
                         const char *params)
{
	char buf[1400], mech[1100];

	render_safe_buf(mech, sizeof(mech), params, 256);
	if (!st->tls_up && r->tls_mode != TLS_MODE_NONE) {
		render_fmt(buf, sizeof(buf), "AUTH: the server accepts a login (methods: "
		           "%s) even before encryption. Make sure your app uses STARTTLS "
		           "first, or its password crosses the network readable.", mech);
	} else if (st->tls_up && r->auth.mechanisms == NULL && r->ehlo.present &&
	           r->tls_mode == TLS_MODE_STARTTLS) {
		render_fmt(buf, sizeof(buf), "AUTH appears only now that the connection is "
		           "encrypted: servers hide login before encryption so that "
		           "passwords never travel in clear. In your app choose STARTTLS "
		           "and one of these methods: %s.", mech);
	} else {
		render_fmt(buf, sizeof(buf), "AUTH: the server accepts a login with these "
		           "methods: %s.", mech);
	}
	if (contains_nocase(params, "PLAIN") || contains_nocase(params, "LOGIN"))
		render_appendf(buf, sizeof(buf), " PLAIN and LOGIN send user name and "
		               "password, protected by the encryption.");
	if (contains_nocase(params, "XOAUTH2") || contains_nocase(params, "OAUTHBEARER"))
		render_appendf(buf, sizeof(buf), " XOAUTH2/OAUTHBEARER log in with a "
		               "token instead of a password.");
	say(f, buf);
}

static bool kw_in(const struct ehlo_info *e, const char *kw)
{
	for (size_t i = 0; e->ext && i < e->next; i++)
		if (e->ext[i].keyword && strcasecmp(e->ext[i].keyword, kw) == 0)
			return true;
	return false;
}

/* One extension line of an EHLO reply. */
static void explain_ext(FILE *f, const struct result *r, const struct ex_state *st,
                        const char *text)
{
	char kw[64], buf[1400], safe_kw[300];
	const char *params, *what;
	size_t n = strcspn(text, " =");

	/* "AUTH=LOGIN" is its own (old) keyword; keep '=' in the word then. */
	if (text[n] == '=')
		n += strcspn(text + n, " ");
	if (n >= sizeof(kw))
		n = sizeof(kw) - 1;
	memcpy(kw, text, n);
	kw[n] = '\0';
	params = text + n;
	while (*params == ' ')
		params++;

	/* After a login, and after STARTTLS, repeat only what changed: the
	 * rest was explained a few lines up. */
	if (st->logged_in) {
		const struct ehlo_info *prev = r->ehlo_tls.present ? &r->ehlo_tls : &r->ehlo;
		const char *before = smtp_ehlo_find(prev, kw);
		size_t plen = strlen(params);

		while (plen && (params[plen - 1] == ' ' || params[plen - 1] == '\t'))
			plen--;
		if (before && strlen(before) == plen && strncmp(before, params, plen) == 0) {
			say(f, "Same as before the login.");
			return;
		}
	} else if (st->tls_up && r->tls_mode == TLS_MODE_STARTTLS && r->ehlo.present) {
		const char *before = smtp_ehlo_find(&r->ehlo, kw);

		size_t plen = strlen(params);

		while (plen && (params[plen - 1] == ' ' || params[plen - 1] == '\t'))
			plen--;
		if (before && strlen(before) == plen && strncmp(before, params, plen) == 0) {
			say(f, "Same as before encryption.");
			return;
		}
	}
	if (strcasecmp(kw, "SIZE") == 0) {
		explain_size(f, r, params);
	} else if (strcasecmp(kw, "AUTH") == 0) {
		explain_auth(f, r, st, params);
	} else if (strcasecmp(kw, "STARTTLS") == 0) {
		say(f, st->tls_up ?
		    "STARTTLS offered again inside TLS: unusual but harmless." :
		    "STARTTLS: the server can encrypt this connection. In your app or "
		    "device choose \"STARTTLS\" (sometimes called \"TLS\" or "
		    "\"explicit TLS\"), usually with port 587 or 25; \"SSL/TLS\" means "
		    "implicit TLS on port 465.");
	} else if ((what = smtp_ehlo_describe(kw)) != NULL) {
		render_safe_buf(safe_kw, sizeof(safe_kw), kw, sizeof(kw));
		render_fmt(buf, sizeof(buf), "%s: %s.", safe_kw, what);
		say(f, buf);
	} else {
		render_safe_buf(safe_kw, sizeof(safe_kw), kw, sizeof(kw));
		render_fmt(buf, sizeof(buf), "%s: an extension this probe does not know, "
		           "usually vendor-specific; you can ignore it.", safe_kw);
		say(f, buf);
	}
	if (st->tls_up && r->ehlo.present && r->tls_mode == TLS_MODE_STARTTLS &&
	    !kw_in(&r->ehlo, kw) && strcasecmp(kw, "AUTH") != 0)
		say(f, "(Offered only after encryption.)");
}

static void explain_ehlo_reply(FILE *f, const struct result *r, struct ex_state *st,
                               int code, const char *text)
{
	char buf[1024], host[1100];

	if (st->reply_line > 0) {
		if (code >= 200 && code < 300)
			explain_ext(f, r, st, text);
		return;
	}
	if (code >= 200 && code < 300) {
		first_word(host, sizeof(host), text);
		render_fmt(buf, sizeof(buf), "The server answers as \"%s\"%s", host,
		           st->cmd == EX_HELO ? ". After HELO there is no list of "
		           "extensions: an old-style server, or one that refused EHLO." :
		           " and lists the extensions it supports, one per line:");
		say(f, buf);
		return;
	}
	if (st->cmd == EX_EHLO) {
		render_fmt(buf, sizeof(buf), "The server refuses EHLO (code %d). The probe "
		           "falls back to the older HELO, which tells nothing about "
		           "features such as encryption or login.", code);
		say(f, buf);
	} else {
		render_fmt(buf, sizeof(buf), "The server refuses HELO too (code %d): it "
		           "will not accept this client.", code);
		say(f, buf);
	}
}

static void explain_client(FILE *f, const struct result *r, struct ex_state *st,
                           const char *line)
{
	enum ex_cmd c = classify_command(line);

	st->reply_line = 0;
	/* A multi-step login (LOGIN, CRAM-MD5, SCRAM): the client's answers
	 * to 334 are part of AUTH, so the 235 after them is its verdict. */
	if (st->in_auth && (c == EX_OTHER || (line[0] == '*' && line[1] == '\0'))) {
		st->cmd = EX_AUTH;
		say(f, line[0] == '*' ? "The probe cancels the login: it cannot answer "
		    "this step." : line[0] == '\0' ? "The probe acknowledges the "
		    "server's last login message (an empty line ends the exchange)." :
		    "The probe sends the next part of the login (hidden here: it holds "
		    "the user name, the password or a proof derived from it).");
		return;
	}
	/* --size-check pipelines RSET behind MAIL: MAIL's reply comes first. */
	if (st->awaiting && st->cmd == EX_MAIL && c == EX_RSET) {
		st->rset_queued = true;
		say(f, "The probe cancels the test in the same breath (PIPELINING), so "
		    "nothing is sent; the server answers both in order.");
		return;
	}
	st->cmd = c;
	st->awaiting = true;
	st->mail_size = c == EX_MAIL && strcasestr(line, " SIZE=") != NULL;
	switch (st->cmd) {
	case EX_EHLO:
		if (st->logged_in) {
			say(f, "After the login the probe asks once more: some servers show "
			    "more to a client that has logged in (a larger SIZE, other "
			    "limits).");
			break;
		}
		say(f, st->tls_up && r->tls_mode == TLS_MODE_STARTTLS ?
		    "Inside the encrypted connection the probe asks again: what a server "
		    "said before encryption could have been altered on the way, so it no "
		    "longer counts, and many servers offer more now (usually login)." :
		    "The probe introduces itself (EHLO and a name) and asks which "
		    "extensions (features) the server supports.");
		break;
	case EX_HELO:
		say(f, "The probe introduces itself the old way (HELO), which asks for "
		    "no feature list.");
		break;
	case EX_STARTTLS:
		say(f, "The probe asks to switch this connection to encryption "
		    "(STARTTLS).");
		break;
	case EX_AUTH:
		say(f, "The probe tests the login you gave. The password is never shown "
		    "or stored.");
		break;
	case EX_MAIL:
		say(f, st->mail_size ? "The probe announces a message of this many bytes "
		    "(SIZE=, RFC 1870) to learn whether the server would take one that "
		    "large. No message is ever sent." :
		    "The probe tests whether this sender address is accepted. No "
		    "message is ever sent.");
		break;
	case EX_RCPT:
		say(f, "The probe tests whether the server would take mail for this "
		    "recipient (whether it relays for you).");
		break;
	case EX_RSET:
		say(f, "The probe cancels the test, so nothing is sent.");
		break;
	case EX_QUIT:
		say(f, "The probe says goodbye. No mail was sent.");
		break;
	default:
		break;
	}
}

static void explain_other_reply(FILE *f, const struct result *r, struct ex_state *st,
                                int code)
{
	if (st->reply_line > 0)
		return;
	switch (st->cmd) {
	case EX_STARTTLS:
		if (code == 220)
			say(f, "The server agrees. From here on the connection is "
			    "encrypted: next comes the TLS handshake, then everything "
			    "is private.");
		else if (code == 454)
			say(f, "The server cannot start TLS right now (454), usually a "
			    "certificate or key problem in its configuration. Mail to it "
			    "would travel unencrypted.");
		else
			say(f, "The server refuses to start encryption.");
		break;
	case EX_AUTH:
		if (code / 100 == 2 && !r->auth.accepted &&
		    strcmp(r->auth.mechanism, "SCRAM-SHA-256") == 0)
			say(f, "The server says the login succeeded, but it never proved "
			    "that it knows the password (SCRAM's server signature is "
			    "missing): a server that does not know the password can only "
			    "pretend. Not counted as a login.");
		else if (code == 235)
			say(f, "Login accepted: your app can use these credentials.");
		else if (code == 334)
			say(f, "The server asks for the next part of the login.");
		else if (code == 535)
			say(f, "Login rejected: wrong user name or password, or this "
			    "method is not allowed for the account.");
		else if (code == 538)
			say(f, "This login method needs encryption first: use STARTTLS.");
		else
			say(f, "The login did not succeed.");
		break;
	case EX_MAIL:
		if (st->mail_size && code / 100 == 2)
			say(f, "The server would take a message this large.");
		else if (st->mail_size && code == 552)
			say(f, "Too large: the server refuses a message of this size as soon as "
			    "it is announced, before anything is uploaded (its limit is "
			    "enforced at MAIL FROM).");
		else if (code == 250)
			say(f, "Sender accepted.");
		else if (code == 530)
			say(f, "The server requires login (or encryption) before it takes "
			    "mail: configure your app to authenticate.");
		else
			say(f, "Sender refused.");
		break;
	case EX_RCPT:
		if (code == 250 || code == 251)
			say(f, "Recipient accepted: this relay would take the mail.");
		else if (code == 554 || code == 550 || code == 553)
			say(f, "Recipient refused. \"Relay access denied\" means the server "
			    "does not forward mail for you to other domains without a "
			    "login or an allowed IP address.");
		else if (code >= 400 && code < 500)
			say(f, "Temporarily refused (greylisting or a busy server): a real "
			    "sender would retry later.");
		else
			say(f, "Recipient refused.");
		break;
	case EX_QUIT:
		say(f, code == 221 ? "The server closes the connection." :
		    "Not the answer to QUIT: the server is answering a command that was "
		    "sent before encryption started (the injected NOOP).");
		break;
	default:
		break;
	}
}

static void explain_server(FILE *f, const struct result *r, struct ex_state *st,
                           const char *line)
{
	bool last;
	const char *text;
	int code = reply_code(line, &last, &text);

	if (code == 0) {
		say(f, "Not a valid SMTP reply: the server (or something in between, "
		    "such as a firewall or a web server on this port) does not speak "
		    "SMTP properly.");
		return;
	}
	if (code == 421 && st->cmd != EX_NONE && st->reply_line == 0) {
		say(f, "Code 421: the server is closing the connection: it is busy, "
		    "shutting down or limiting this client. Not necessarily down: try "
		    "later.");
	} else if (st->cmd == EX_NONE) {
		if (st->reply_line == 0)
			explain_greeting(f, r, code, text);
	} else if (st->cmd == EX_EHLO || st->cmd == EX_HELO) {
		explain_ehlo_reply(f, r, st, code, text);
	} else {
		explain_other_reply(f, r, st, code);
	}
	st->reply_line = last ? 0 : st->reply_line + 1;
	if (last && st->cmd == EX_STARTTLS && code == 220)
		st->tls_up = true;
	if (last && st->cmd == EX_AUTH && code == 235 && r->auth.accepted)
		st->logged_in = true;
	if (last)
		st->in_auth = st->cmd == EX_AUTH && code == 334;
	if (last) {
		st->awaiting = st->rset_queued;
		if (st->rset_queued)
			st->cmd = EX_RSET;
		st->rset_queued = false;
	}
}

static void explain_tls_done(FILE *f, const struct result *r, const struct tevent *ev)
{
	char ver[32] = "", cipher[96] = "", group[48] = "", buf[1400];

	/* The model is the fallback for any part the event does not carry. */
	render_fmt(ver, sizeof(ver), "%s", ev->u.tls.version);
	render_fmt(cipher, sizeof(cipher), "%s", ev->u.tls.cipher);
	render_fmt(group, sizeof(group), "%s", ev->u.tls.group);
	if (!ver[0])
		render_fmt(ver, sizeof(ver), "%s", r->tls.version);
	if (!cipher[0])
		render_fmt(cipher, sizeof(cipher), "%s", r->tls.cipher);
	if (!group[0])
		render_fmt(group, sizeof(group), "%s", r->tls.group);

	if (strstr(ver, "1.3"))
		render_fmt(buf, sizeof(buf), "Encryption is up with TLS 1.3, the current "
		           "version: fast and secure.");
	else if (strstr(ver, "1.2"))
		render_fmt(buf, sizeof(buf), "Encryption is up with TLS 1.2: still secure "
		           "and widely used; TLS 1.3 is newer.");
	else if (ver[0])
		render_fmt(buf, sizeof(buf), "Encryption is up, but with an outdated "
		           "version (%.31s) that current clients refuse: update the "
		           "server's TLS settings.", ver);
	else
		render_fmt(buf, sizeof(buf), "Encryption is up.");
	if (tlsver_suite_no_fs(cipher))
		render_appendf(buf, sizeof(buf), " The suite (%.95s) uses a static key "
		               "exchange: the session keys are protected only by the "
		               "server's long-term key, so there is no forward secrecy. "
		               "Anyone who later obtains that key can decrypt recorded mail. "
		               "Prefer ECDHE suites (and TLS 1.3) on the server.", cipher);
	else if (strstr(cipher, "GCM") || strstr(cipher, "CHACHA20") || strstr(cipher, "CCM"))
		render_appendf(buf, sizeof(buf), " The cipher (%.95s) is a modern "
		               "authenticated one.", cipher);
	else if (strstr(cipher, "CBC"))
		render_appendf(buf, sizeof(buf), " The cipher (%.95s) uses the older CBC "
		               "mode: it works but is no longer recommended.", cipher);
	else if (strstr(cipher, "RC4") || strstr(cipher, "3DES") || strstr(cipher, "NULL"))
		render_appendf(buf, sizeof(buf), " The cipher (%.95s) is weak: disable it "
		               "on the server.", cipher);
	if (group[0])
		render_appendf(buf, sizeof(buf), " The keys were agreed with %.47s, which "
		               "gives forward secrecy: recorded traffic stays private even "
		               "if the server's key leaks later.", group);
	say(f, buf);
}

/* Why the handshake failed, as far as the model knows; only a claim about
 * other clients that holds for them too. */
static void explain_tls_failed(FILE *f, const struct result *r)
{
	uint16_t v = r->tls.server_version;

	if (v != 0 && v < 0x0303)
		say(f, v == 0x0302 ? "The server answered with TLS 1.1, older than "
		    "anything the probe accepts: it speaks nothing newer. Clients that "
		    "require TLS 1.2 or later (current mail software, OpenSSL's defaults, "
		    "browsers) fail the same way; only old clients that still allow "
		    "TLS 1.0/1.1 would connect, over a deprecated protocol. Enable "
		    "TLS 1.2 and 1.3 on the server." :
		    "The server answered with TLS 1.0 (or older), which the probe does "
		    "not accept: it speaks nothing newer. Clients that require TLS 1.2 "
		    "or later (current mail software, OpenSSL's defaults, browsers) fail "
		    "the same way; only old clients that still allow TLS 1.0 would "
		    "connect, over a deprecated protocol. Enable TLS 1.2 and 1.3 on the "
		    "server.");
	else if (r->tls.legacy_best != 0)
		say(f, r->tls.legacy_best == 0x0302 ? "The server refused TLS 1.2 and 1.3 "
		    "(alert protocol_version: \"I do not speak that version\"); asked with "
		    "TLS 1.1 on another connection, it answered: TLS 1.1 is the newest it "
		    "speaks. Clients that require TLS 1.2 or later (current mail software, "
		    "OpenSSL's defaults, browsers) fail the same way; only old clients that "
		    "still allow TLS 1.0/1.1 would connect, over a deprecated protocol. "
		    "Enable TLS 1.2 and 1.3 on the server." :
		    "The server refused TLS 1.2 and 1.3 (alert protocol_version: \"I do not "
		    "speak that version\"); asked with TLS 1.0 on another connection, it "
		    "answered: TLS 1.0 is the newest it speaks. Clients that require TLS 1.2 "
		    "or later (current mail software, OpenSSL's defaults, browsers) fail the "
		    "same way; only old clients that still allow TLS 1.0 would connect, over "
		    "a deprecated protocol. Enable TLS 1.2 and 1.3 on the server.");
	else
		say(f, "The encrypted connection could not be set up (the reason is "
		    "on the line). Usually the server and the probe have no TLS version "
		    "or cipher in common, or the server's certificate or key is "
		    "misconfigured. Clients with similar TLS settings (TLS 1.2 or 1.3, "
		    "current ciphers) will most likely fail the same way.");
}

static void explain_cert(FILE *f, const struct result *r, struct ex_state *st,
                         const struct tevent *ev)
{
	char buf[4096], subj[1100], iss[1100], date[32];
	const struct cert_info *c;
	size_t i = st->cert_seen++;

	/* The event names its place in the chain, or the certificates are counted. */
	if (ev->u.cert.index >= 0)
		i = (size_t)ev->u.cert.index;

	if (i >= r->tls.nchain) {
		say(f, "The server presents a certificate: its identity card, signed by "
		    "a certificate authority.");
		return;
	}
	c = &r->tls.chain[i];
	render_safe_buf(subj, sizeof(subj), c->subject, 256);
	render_safe_buf(iss, sizeof(iss), c->issuer, 256);
	render_date(date, sizeof(date), c->not_after);
	if (i == 0)
		render_fmt(buf, sizeof(buf), "The server proves its identity with a "
		           "certificate for %s, issued by %s.", subj, iss);
	else if (c->self_signed)
		/* Sending the root is harmless but useless: clients must have it. */
		render_fmt(buf, sizeof(buf), "The root certificate of the chain (%s, "
		           "self-signed): clients trust it only if they already have it; "
		           "sending it along adds nothing.", subj);
	else
		render_fmt(buf, sizeof(buf), "An intermediate certificate (%s, issued by "
		           "%s): it links the server's certificate to an authority that "
		           "clients already trust.", subj, iss);
	if (c->expired)
		render_appendf(buf, sizeof(buf), " It EXPIRED on %s: clients that check "
		               "certificates refuse to connect. Renew it now and reload the "
		               "mail server.", date);
	else if (c->days_left < r->crit_days)
		render_appendf(buf, sizeof(buf), " It expires on %s, in %ld days: renew it "
		               "urgently.", date, c->days_left);
	else if (c->days_left < r->warn_days)
		render_appendf(buf, sizeof(buf), " It expires on %s, in %ld days: renew "
		               "it soon.", date, c->days_left);
	else
		render_appendf(buf, sizeof(buf), " It is valid until %s (%ld days): nothing "
		               "to do now; monitoring warns %d days before.", date,
		               c->days_left, r->warn_days);
	if (c->self_signed && i == 0)
		render_appendf(buf, sizeof(buf), " It is self-signed: nobody vouches for "
		               "it, so clients refuse it unless told to trust this exact "
		               "certificate.");
	say(f, buf);
}

/* One verification problem, in words for the person who has to fix it. */
static void explain_verify_error(FILE *f, const struct result *r, const char *err)
{
	char buf[1400], name[1100], e[1100];

	render_safe_buf(e, sizeof(e), err, 256);
	render_safe_buf(name, sizeof(name), r->tls.servername[0] ? r->tls.servername :
	                r->host ? r->host : "?", 256);
	if (contains_nocase(err, "expired"))
		render_fmt(buf, sizeof(buf), "- %s: the certificate's end date has passed. "
		           "Renew it (for example with certbot) and reload the mail "
		           "server.", e);
	else if (contains_nocase(err, "future") || contains_nocase(err, "not yet"))
		render_fmt(buf, sizeof(buf), "- %s: the certificate is not valid yet; check "
		           "the clocks and the certificate's start date.", e);
	else if (contains_nocase(err, "mismatch") || contains_nocase(err, "hostname") ||
	         contains_nocase(err, "name"))
		render_fmt(buf, sizeof(buf), "- %s: the certificate is not made out for %s. "
		           "Use a name that is on the certificate in your app, or get a "
		           "certificate that includes this name.", e, name);
	else if (contains_nocase(err, "self"))
		render_fmt(buf, sizeof(buf), "- %s: the certificate signed itself, so no "
		           "authority vouches for it. Get one from a CA (e.g. Let's "
		           "Encrypt), or install it as trusted on every client.", e);
	else if (contains_nocase(err, "revoked"))
		render_fmt(buf, sizeof(buf), "- %s: the authority has withdrawn this "
		           "certificate; replace it.", e);
	else if (contains_nocase(err, "omits its intermediate"))
		render_fmt(buf, sizeof(buf), "- %s: the server presents its certificate "
		           "without the intermediate certificate that links it to a "
		           "trusted authority. Clients do not fetch it themselves, so "
		           "they refuse the chain. Configure the full chain file (e.g. "
		           "fullchain.pem: certificate plus intermediate).", e);
	else if (contains_nocase(err, "trust") || contains_nocase(err, "unknown") ||
	         contains_nocase(err, "issuer") || strstr(err, "CA") != NULL)
		render_fmt(buf, sizeof(buf), "- %s: no trusted authority vouches for this "
		           "certificate. Often the server does not send its intermediate "
		           "certificate (configure the full chain file, e.g. "
		           "fullchain.pem), or it comes from a private CA.", e);
	else if (contains_nocase(err, "weak") || contains_nocase(err, "unacceptable"))
		render_fmt(buf, sizeof(buf), "- %s: the certificate uses a weak key or "
		           "signature. Reissue it with a modern one (RSA 2048+ or EC "
		           "P-256, SHA-256).", e);
	else
		render_fmt(buf, sizeof(buf), "- %s: clients that check certificates will "
		           "refuse this one.", e);
	say_item(f, buf);
}

static void explain_verify_failed(FILE *f, const struct result *r, const struct tevent *ev)
{
	say(f, "Certificate verification failed: mail still gets encrypted, but a "
	    "client that checks certificates (most apps and devices do) will refuse "
	    "to connect. Why:");
	if (r->tls.nerrors || (r->tls.verified && !r->tls.hostname_match)) {
		for (size_t i = 0; i < r->tls.nerrors && i < 16; i++)
			explain_verify_error(f, r, r->tls.errors[i] ? r->tls.errors[i] : "");
		/* The name check is kept apart from the chain errors in the model. */
		if (r->tls.verified && !r->tls.hostname_match)
			explain_verify_error(f, r, "name mismatch");
		return;
	}
	/* No list in the model: the event's reason. */
	explain_verify_error(f, r, ev->u.verify.reason);
}

/* A '*' line: what the probe noted, by the event's type (the wording of
 * the note is for people and may change). */
static void explain_event(FILE *f, const struct result *r, struct ex_state *st,
                          const struct tline *t)
{
	static const struct tevent none;
	const struct tevent *ev = t->ev != NULL ? t->ev : &none;
	char buf[1400], name[1100];

	switch (tline_type(t)) {
	case TEV_EXTRA:
		/* A new connection: its greeting and EHLO start from scratch. */
		st->cmd = EX_NONE;
		st->reply_line = 0;
		st->tls_up = false;
		say(f, ev->u.extra.injection ?
		    "A separate connection for the STARTTLS injection test: STARTTLS and "
		    "NOOP go out in one packet. A safe server forgets the NOOP when "
		    "encryption starts; a flawed one answers it inside TLS, so an attacker "
		    "could slip commands into your encrypted session." :
		    "A separate connection to learn which TLS versions the server accepts: "
		    "it offers one version only and stops right after the handshake.");
		return;
	case TEV_LEGACY_HELLO:
		say(f, "An old-style TLS hello offering only this deprecated version. The "
		    "probe reads the server's first answer and hangs up: a ServerHello for "
		    "this version means the server still accepts it.");
		return;
	case TEV_LEGACY_RESULT:
		say(f, ev->u.legacy.accepted ?
		    "The server accepted the deprecated version: old clients can still "
		    "connect with weak protection (RFC 8996 retired TLS 1.0 and 1.1)." :
		    "The server refused the deprecated version: good.");
		return;
	case TEV_INJECT_SENT:
		say(f, "Both commands went out in a single packet, before encryption.");
		return;
	case TEV_AUTH_SKIPPED:
		say(f, "The login you asked for was not tried, for the reason given: no "
		    "password was sent.");
		return;
	case TEV_TLS_DONE:
		st->tls_up = true;
		explain_tls_done(f, r, ev);
		return;
	case TEV_TLS_FAILED:
		explain_tls_failed(f, r);
		return;
	case TEV_TLS_START:
		say(f, "The TLS handshake begins. The probe names the server it expects "
		    "(SNI), so a server with several names can pick the right "
		    "certificate.");
		return;
	case TEV_CERT:
		explain_cert(f, r, st, ev);
		return;
	case TEV_VERIFY_OK:
		render_safe_buf(name, sizeof(name), r->tls.servername[0] ?
		                r->tls.servername : r->host ? r->host : "this server", 256);
		render_fmt(buf, sizeof(buf), "Certificate verified: it leads to an "
		           "authority this system trusts and is valid for %s, so apps "
		           "and devices will accept it.", name);
		say(f, buf);
		return;
	case TEV_VERIFY_FAILED:
		explain_verify_failed(f, r, ev);
		return;
	case TEV_PIN:
		say(f, !ev->u.pin.match ?
		    "The server's key is not the one you pinned: either the certificate "
		    "was renewed with a new key (update the pin) or you are not talking "
		    "to your server." :
		    "The server's key matches the pin you gave.");
		return;
	case TEV_INJECTED_BYTES:
		say(f, "Extra bytes came together with the 220 reply to STARTTLS, "
		    "before encryption started. That is the sign of the STARTTLS "
		    "command-injection flaw (in the server or a device in between): "
		    "the probe threw them away. Update the server software.");
		return;
	case TEV_RESOLVED:
		say(f, "The name was looked up in DNS: these are the addresses the "
		    "probe can try.");
		return;
	case TEV_DNS_FAILED:
		say(f, "The name could not be looked up in DNS: check its spelling, or "
		    "the DNS server used.");
		return;
	case TEV_CONNECT_FAILED:
		say(f, "No TCP connection: nothing listens on this port, a "
		    "firewall blocks it, or the address is unreachable.");
		return;
	case TEV_CONNECTED:
		say(f, "The connection is up. In SMTP the server speaks first.");
		return;
	case TEV_CONNECTING:
		say(f, "The probe opens a network (TCP) connection to the server.");
		return;
	case TEV_TIMEOUT:
		say(f, "The server did not answer in time. A slow server, a firewall "
		    "that silently drops traffic, or a tarpit.");
		return;
	case TEV_CLOSED:
		say(f, ev->u.closed.by_server ?
		    "The server hung up. If this happens before the dialogue is over, "
		    "it is refusing this client or has crashed." :
		    "The connection is closed.");
		return;
	case TEV_NONE:
	case TEV_NOTE:
	case TEV_COUNT:
		break;
	}
	if (!st->said_event_note) {
		st->said_event_note = true;
		say(f, "(Lines marked * are notes from the probe, not sent on the "
		    "wire.)");
	}
}

/* The settings a relay admin would type into the app, in one place. */
static void in_short(FILE *f, const struct result *r)
{
	char buf[1400], s1[1100];
	const char *mech = r->auth.mechanisms_tls ? r->auth.mechanisms_tls : r->auth.mechanisms;

	fputs("In short\n", f);
	render_safe_buf(s1, sizeof(s1), r->host ? r->host : "?", 256);
	render_fmt(buf, sizeof(buf), "%s, port %u", s1, r->port);
	fprintf(f, "  %-12s ", "server");
	render_wrap(f, buf, 15, 15);
	if (r->tls.ok)
		render_fmt(buf, sizeof(buf), "%s", r->tls_mode == TLS_MODE_IMPLICIT ?
		           "SSL/TLS (implicit TLS)" : "STARTTLS");
	else if (r->tls_mode == TLS_MODE_NONE)
		render_fmt(buf, sizeof(buf), "none tested (--no-tls)");
	else
		render_fmt(buf, sizeof(buf), "no working encryption");
	if (r->tls.ok && r->tls.verified && !r->tls.trusted)
		render_appendf(buf, sizeof(buf), ", but the certificate is not trusted");
	else if (r->tls.ok && r->tls.verified && !r->tls.hostname_match)
		render_appendf(buf, sizeof(buf), ", but the certificate is for another name");
	fprintf(f, "  %-12s ", "security");
	render_wrap(f, buf, 15, 15);
	if (mech) {
		render_safe_buf(s1, sizeof(s1), mech, 256);
		render_fmt(buf, sizeof(buf), "%s%s", s1,
		           r->auth.mechanisms == NULL && r->auth.mechanisms_tls &&
		           r->tls_mode == TLS_MODE_STARTTLS && r->ehlo.present ?
		           " (only after STARTTLS)" : "");
	} else {
		render_fmt(buf, sizeof(buf), "not offered (the server relays by IP "
		           "address, or not at all)");
	}
	if (r->auth.tested)
		render_appendf(buf, sizeof(buf), "; your login was %s",
		               r->auth.accepted ? "accepted" : "rejected");
	fprintf(f, "  %-12s ", "login");
	render_wrap(f, buf, 15, 15);
	if (r->size.has_limit) {
		char att[32], ah[48];

		render_thousands(att, sizeof(att), r->size.max_attachment_base64);
		render_human(ah, sizeof(ah), r->size.max_attachment_base64, true);
		render_fmt(buf, sizeof(buf), "up to about %s bytes (%s)", att, ah);
	} else if (r->size.advertised) {
		render_fmt(buf, sizeof(buf), "no fixed limit announced");
	} else {
		render_fmt(buf, sizeof(buf), "limit not announced");
	}
	fprintf(f, "  %-12s ", "attachments");
	render_wrap(f, buf, 15, 15);
}

static void no_dialogue(FILE *f, const struct result *r)
{
	char buf[1400], a[300], e[400];

	fputs("There was no dialogue with the server.\n", f);
	/* Reasons at the left margin: there is no transcript line to hang them on. */
	for (size_t i = 0; i < r->nattempts && i < RESULT_MAX_ATTEMPTS; i++) {
		if (!r->attempts[i].error[0])
			continue;
		render_safe_buf(a, sizeof(a), r->attempts[i].address, sizeof(r->attempts[i].address));
		render_safe_buf(e, sizeof(e), r->attempts[i].error, sizeof(r->attempts[i].error));
		render_fmt(buf, sizeof(buf), "- Connecting to %s failed: %s.", a, e);
		say_at(f, 2, buf);
	}
	if (r->nattempts == 0)
		say_at(f, 2, "- No address was tried: the name did not resolve, or no "
		       "address of the requested family exists.");
	if (r->greeting.present && !r->want_transcript)
		say_at(f, 2, "(The dialogue was not recorded for this probe.)");
	else if (r->nfindings)
		say_at(f, 2, "The verdict below says why.");
}

void render_explain(FILE *f, const struct result *r, const struct render_opts *o)
{
	struct ex_state st;
	char head[32], line[RESULT_MAX_LINE * 4 + 8], host[1100];

	memset(&st, 0, sizeof(st));
	/* With implicit TLS the whole dialogue is inside TLS already. */
	st.tls_up = false;
	render_safe_buf(host, sizeof(host), r->host ? r->host : "?", 256);
	render_fmt(line, sizeof(line), "The dialogue with %s%s%s%s, port %u, explained "
	           "line by line. C: sent by the probe, S: the server, *: a note.",
	           host, r->address[0] ? " (" : "", r->address[0] ? r->address : "",
	           r->address[0] ? ")" : "", r->port);
	render_wrap(f, line, 0, 0);
	fputc('\n', f);
	if (r->ntranscript == 0)
		no_dialogue(f, r);
	for (size_t i = 0; i < r->ntranscript && i < RESULT_MAX_TRANSCRIPT; i++) {
		const struct tline *t = &r->transcript[i];
		const char *raw = t->line ? t->line : "";
		char dir = (t->dir == 'C' || t->dir == 'S') ? t->dir : '*';

		render_safe_buf(line, sizeof(line), raw, RESULT_MAX_LINE);
		render_fmt(head, sizeof(head), "%8.1f %c ", t->t_ms, dir);
		fputs(head, f);
		render_wrap(f, line, HEAD_COL, EXPL_INDENT);
		if (dir == 'C')
			explain_client(f, r, &st, raw);
		else if (dir == 'S')
			explain_server(f, r, &st, raw);
		else
			explain_event(f, r, &st, t);
	}
	if (r->transcript_dropped)
		fprintf(f, "  (%zu more lines were not kept)\n", r->transcript_dropped);
	fputc('\n', f);
	/* Settings advice only when there was a server to advise about. */
	if (r->greeting.present) {
		in_short(f, r);
		fputc('\n', f);
	}
	render_verdict(f, r, o);
}
