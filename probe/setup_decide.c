/* --setup's decision and its output, pure (no I/O, unit-tested): each
 * candidate judged from its probe, the recommendation in the order a
 * careful admin would choose, and the configuration snippets for curl,
 * Postfix and msmtp. A snippet carries a placeholder, never a password,
 * and every value put into one is checked to be safe where it goes
 * (shell words, main.cf values, msmtprc). */
#include "setup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "xmalloc.h"

/* ---- judging one candidate ---- */

static const char *first_problem(const struct result *r)
{
	for (size_t i = 0; i < r->nfindings; i++)
		if (r->findings[i].sev == SEV_CRITICAL && r->findings[i].message != NULL)
			return r->findings[i].message;
	return NULL;
}

static void judge(struct setup_candidate *c)
{
	const struct result *r = &c->r;
	const char *why = first_problem(r);

	c->reachable = r->greeting.present && r->greeting.code == 220;
	c->tls_ok = r->tls.ok && r->ehlo_tls.present;
	c->cert_valid = c->tls_ok && r->tls.trusted && r->tls.hostname_match;
	c->auth_offered = c->tls_ok && r->auth.mechanisms_tls != NULL &&
	                  r->auth.mechanisms_tls[0] != '\0';
	c->usable = c->reachable && c->tls_ok;
	if (!c->reachable)
		snprintf(c->verdict, sizeof(c->verdict), "not usable: %s",
		         why ? why : "no SMTP greeting");
	else if (!c->tls_ok && c->mode == TLS_MODE_STARTTLS && !r->starttls_offered)
		snprintf(c->verdict, sizeof(c->verdict), "not usable: no STARTTLS, so a password "
		         "would travel in clear");
	else if (!c->tls_ok)
		snprintf(c->verdict, sizeof(c->verdict), "not usable: TLS failed%s%s",
		         r->tls.error[0] ? ": " : "", r->tls.error[0] ? r->tls.error : why ? why : "");
	else
		snprintf(c->verdict, sizeof(c->verdict), "usable: %s, %s, certificate %s, %s%s",
		         c->mode == TLS_MODE_IMPLICIT ? "implicit TLS" : "STARTTLS", r->tls.version,
		         c->cert_valid ? "valid for the name" :
		         !r->tls.trusted ? "not trusted" : "not valid for the name",
		         c->auth_offered ? "AUTH " : "no AUTH",
		         c->auth_offered ? r->auth.mechanisms_tls : "");
}

static int login_state(const struct setup_candidate *c)
{
	if (c->login == NULL || !c->login->auth.tested)
		return 0;
	return c->login->auth.accepted ? 1 : -1;
}

/* Higher is better: a login that worked, a certificate valid for the name
 * the user will type, AUTH after TLS, implicit TLS (RFC 8314) before
 * STARTTLS. Equal keys keep the discovery order (SRV, autoconfig, guess, MX). */
static unsigned rank_key(const struct setup_candidate *c)
{
	return (login_state(c) > 0 ? 8u : 0u) | (c->cert_valid ? 4u : 0u) |
	       (c->auth_offered ? 2u : 0u) | (c->mode == TLS_MODE_IMPLICIT ? 1u : 0u);
}

static bool better(const struct setup_candidate *a, const struct setup_candidate *b)
{
	unsigned ka = rank_key(a), kb = rank_key(b);

	if (ka != kb)
		return ka > kb;
	return a->source < b->source;
}

/* Why a beats b, in words: the first rank difference. */
static void why_better(const struct setup_candidate *a, const struct setup_candidate *b,
                       char *out, size_t outlen)
{
	const char *w;

	if (login_state(a) > 0 && login_state(b) < 0)
		w = "the login worked there, and not here";
	else if (a->cert_valid && !b->cert_valid)
		w = "its certificate is valid for its name";
	else if (a->auth_offered && !b->auth_offered)
		w = "it offers AUTH after TLS";
	else if (a->mode == TLS_MODE_IMPLICIT && b->mode != TLS_MODE_IMPLICIT)
		w = "implicit TLS is preferred to STARTTLS (RFC 8314)";
	else if (a->source < b->source)
		w = a->source == SRC_SRV ? "the domain publishes it (SRV)" :
		    a->source == SRC_AUTOCONFIG ? "the provider publishes it (autoconfig)" :
		    "a guess is more likely than the MX host";
	else
		w = "it comes first in the published order";
	snprintf(out, outlen, "preferred to %s:%u (%s): %s", b->host, (unsigned)b->port,
	         b->mode == TLS_MODE_IMPLICIT ? "implicit TLS" : "STARTTLS", w);
}

static void reason(struct setup_result *sr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reason(struct setup_result *sr, const char *fmt, ...)
{
	va_list ap;

	if (sr->nreasons >= SETUP_MAX_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(sr->reasons[sr->nreasons++], sizeof(sr->reasons[0]), fmt, ap);
	va_end(ap);
}

/* A value that can go into a shell word, a main.cf value and an msmtprc
 * line without quoting trouble: printable ASCII, no space, no quote, no
 * backslash, dollar, backtick or '#'. */
static bool config_safe(const char *s)
{
	if (s == NULL || s[0] == '\0' || strlen(s) > 255)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || strchr("\"'\\$`#;&|<>(){}*?!", *s) != NULL)
			return false;
	return true;
}

static void missing_text(struct setup_result *sr)
{
	size_t reach = 0, i;
	const char *err = NULL;

	if (sr->ncand == 0) {
		snprintf(sr->missing, sizeof(sr->missing), "discovery found no server to try");
		return;
	}
	for (i = 0; i < sr->ncand; i++) {
		if (sr->cand[i].reachable)
			reach++;
		else if (err == NULL)
			err = first_problem(&sr->cand[i].r);
	}
	if (reach == 0)
		snprintf(sr->missing, sizeof(sr->missing), "none of the %zu candidates answered "
		         "(%s:%u: %s)", sr->ncand, sr->cand[0].host, (unsigned)sr->cand[0].port,
		         err ? err : "no greeting");
	else
		snprintf(sr->missing, sizeof(sr->missing), "%zu of %zu candidates answered, but "
		         "none over TLS: a password must never be sent without TLS", reach, sr->ncand);
}

void setup_recommend(struct setup_result *sr)
{
	int best = -1, second = -1;
	size_t i;

	sr->rec = -1;
	sr->nreasons = 0;
	sr->missing[0] = '\0';
	sr->login_tested = sr->login_ok = false;
	for (i = 0; i < sr->ncand; i++) {
		struct setup_candidate *c = &sr->cand[i];

		judge(c);
		if (login_state(c) != 0)
			sr->login_tested = true;
		if (login_state(c) > 0)
			sr->login_ok = true;
		if (!c->usable)
			continue;
		if (best < 0 || better(c, &sr->cand[best])) {
			second = best;
			best = (int)i;
		} else if (second < 0 || better(c, &sr->cand[second])) {
			second = (int)i;
		}
	}
	if (best < 0) {
		missing_text(sr);
		return;
	}
	sr->rec = best;
	{
		const struct setup_candidate *c = &sr->cand[best];
		const struct result *r = &c->r;
		const struct result *lr = c->login;
		char line[240];

		reason(sr, "found by %s", c->via);
		reason(sr, "%s, %s", c->mode == TLS_MODE_IMPLICIT ?
		       "implicit TLS from the first byte (RFC 8314 prefers it to STARTTLS)" :
		       "STARTTLS, then TLS for everything after it", r->tls.version);
		if (c->cert_valid)
			reason(sr, "the certificate is trusted and valid for %s", c->host);
		else
			reason(sr, "the certificate is NOT valid for %s (%s)", c->host,
			       r->tls.nerrors > 0 && r->tls.errors[0] ? r->tls.errors[0] :
			       !r->tls.trusted ? "not trusted" : "name mismatch");
		if (c->auth_offered)
			reason(sr, "AUTH after TLS: %s", r->auth.mechanisms_tls);
		else
			reason(sr, "no AUTH after TLS: it relays only for clients it knows by address");
		if (lr != NULL && lr->auth.tested)
			reason(sr, "the login %s (%s)", lr->auth.accepted ? "worked" : "was refused",
			       lr->auth.mechanism);
		if (second >= 0) {
			why_better(c, &sr->cand[second], line, sizeof(line));
			reason(sr, "%s", line);
		}
		/* Snippet values. */
		if (sr->auth_user != NULL && config_safe(sr->auth_user))
			snprintf(sr->user, sizeof(sr->user), "%s", sr->auth_user);
		else if (config_safe(c->ac_user))
			snprintf(sr->user, sizeof(sr->user), "%s", c->ac_user);
		else
			snprintf(sr->user, sizeof(sr->user), "%s", sr->address ? sr->address : "");
		sr->mechanism[0] = '\0';
		if (lr != NULL && lr->auth.accepted)
			snprintf(sr->mechanism, sizeof(sr->mechanism), "%s", lr->auth.mechanism);
		else if (c->auth_offered && auth_mech_pick(r->auth.mechanisms_tls) != AUTH_MECH_NONE)
			snprintf(sr->mechanism, sizeof(sr->mechanism), "%s",
			         auth_mech_name(auth_mech_pick(r->auth.mechanisms_tls)));
		sr->size_limit = r->size.has_limit ? r->size.limit : 0;
		sr->size_verified = false;
		if (lr != NULL && lr->size.verified_known) {
			sr->size_limit = lr->size.verified;
			sr->size_verified = true;
		}
	}
}

/* ---- snippets ---- */

struct sbuf {
	char *p;                          /* owned */
	size_t len, cap;
	bool over;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->p == NULL || b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->over = true;
		return;
	}
	b->len += (size_t)n;
}

static char *sb_done(struct sbuf *b)
{
	if (b->over) {
		free(b->p);
		return NULL;
	}
	return b->p;
}

#define SNIPPET_MAX 4096

static void size_comment(struct sbuf *b, const struct setup_result *sr, const char *lead)
{
	if (sr->size_limit > 0)
		sb_add(b, "%s %llu bytes (SIZE, %s); base64 makes an attachment about 37%% larger "
		       "on the wire.\n", lead,
		       (unsigned long long)sr->size_limit, sr->size_verified ?
		       "verified at MAIL FROM" : "advertised, not verified");
}

static char *snippet_curl(const struct setup_result *sr, const struct setup_candidate *c)
{
	struct sbuf b = { xmalloc(SNIPPET_MAX), 0, SNIPPET_MAX, false };
	bool implicit = c->mode == TLS_MODE_IMPLICIT;

	sb_add(&b, "# curl: send the message in message.eml (headers and body, CRLF line ends) "
	       "through %s.\n", c->host);
	if (implicit)
		sb_add(&b, "# smtps:// is implicit TLS from the first byte (RFC 8314); --ssl-reqd "
		       "refuses any fallback.\n");
	else
		sb_add(&b, "# smtp:// with --ssl-reqd: STARTTLS is required, curl never sends in "
		       "clear.\n");
	if (sr->cafile != NULL)
		sb_add(&b, "# --cacert: the CA that signed this server's certificate (it is not in "
		       "the system store).\n");
	if (c->auth_offered)
		sb_add(&b, "# --user: the login; the password comes from $SMTP_PASSWORD (never "
		       "write it into a script).\n");
	sb_add(&b, "# --mail-rcpt: you, as a test; repeat it for more recipients.\n");
	size_comment(&b, sr, "# Largest message the server takes:");
	sb_add(&b, "curl --url '%s://%s:%u' --ssl-reqd \\\n", implicit ? "smtps" : "smtp",
	       c->host, (unsigned)c->port);
	if (sr->cafile != NULL)
		sb_add(&b, "  --cacert '%s' \\\n", sr->cafile);
	sb_add(&b, "  --mail-from '%s' --mail-rcpt '%s' \\\n", sr->address, sr->address);
	if (c->auth_offered)
		sb_add(&b, "  --user \"%s:$SMTP_PASSWORD\" \\\n", sr->user);
	sb_add(&b, "  --upload-file message.eml\n");
	return sb_done(&b);
}

static char *snippet_postfix(const struct setup_result *sr, const struct setup_candidate *c)
{
	struct sbuf b = { xmalloc(SNIPPET_MAX), 0, SNIPPET_MAX, false };
	bool implicit = c->mode == TLS_MODE_IMPLICIT;

	/* main.cf takes comments only on lines of their own. */
	sb_add(&b, "# Postfix as a relay client of %s:%u.\n", c->host, (unsigned)c->port);
	sb_add(&b, "# --- add to /etc/postfix/main.cf (then: postfix reload) ---\n");
	sb_add(&b, "# Every outgoing message goes to this server; [brackets] skip the MX lookup.\n");
	sb_add(&b, "relayhost = [%s]:%u\n", c->host, (unsigned)c->port);
	if (implicit) {
		sb_add(&b, "# Port %u speaks TLS from the first byte (RFC 8314 implicit TLS).\n",
		       (unsigned)c->port);
		sb_add(&b, "smtp_tls_wrappermode = yes\n");
	}
	if (c->cert_valid) {
		sb_add(&b, "# secure: TLS required, and the certificate must be valid for %s "
		       "(it was when probed).\n", c->host);
		sb_add(&b, "smtp_tls_security_level = secure\n");
	} else {
		sb_add(&b, "# encrypt: TLS required; the certificate is not checked because it "
		       "was NOT valid for %s when probed (fix that, then use secure).\n", c->host);
		sb_add(&b, "smtp_tls_security_level = encrypt\n");
	}
	if (sr->cafile != NULL) {
		sb_add(&b, "# The CA that signed this server's certificate (not in the system store).\n");
		sb_add(&b, "smtp_tls_CAfile = %s\n", sr->cafile);
	}
	if (c->auth_offered) {
		sb_add(&b, "# Log in with SASL (server offers %s); the secret is in sasl_passwd.\n",
		       c->r.auth.mechanisms_tls);
		sb_add(&b, "smtp_sasl_auth_enable = yes\n");
		sb_add(&b, "smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\n");
		sb_add(&b, "# The default refuses PLAIN and LOGIN; TLS is required above, so allow "
		       "them (never anonymous).\n");
		sb_add(&b, "smtp_sasl_security_options = noanonymous\n");
		sb_add(&b, "smtp_sasl_tls_security_options = noanonymous\n");
	}
	if (sr->size_limit > 0) {
		size_comment(&b, sr, "# Never accept more than the server takes:");
		sb_add(&b, "message_size_limit = %llu\n", (unsigned long long)sr->size_limit);
	}
	if (c->auth_offered) {
		sb_add(&b, "# --- /etc/postfix/sasl_passwd (chmod 600; then: postmap "
		       "/etc/postfix/sasl_passwd) ---\n");
		sb_add(&b, "# Replace YOUR-PASSWORD; the key must match relayhost exactly.\n");
		sb_add(&b, "[%s]:%u %s:YOUR-PASSWORD\n", c->host, (unsigned)c->port, sr->user);
	}
	return sb_done(&b);
}

static char *snippet_msmtp(const struct setup_result *sr, const struct setup_candidate *c)
{
	struct sbuf b = { xmalloc(SNIPPET_MAX), 0, SNIPPET_MAX, false };
	bool implicit = c->mode == TLS_MODE_IMPLICIT;

	sb_add(&b, "# ~/.msmtprc (chmod 600): an account for %s.\n", sr->address);
	sb_add(&b, "account %s\n", sr->domain);
	sb_add(&b, "host %s\n", c->host);
	sb_add(&b, "port %u\n", (unsigned)c->port);
	if (implicit)
		sb_add(&b, "# Implicit TLS from the first byte (RFC 8314): tls on, tls_starttls off.\n");
	else
		sb_add(&b, "# STARTTLS: msmtp refuses to go on when TLS cannot be started.\n");
	sb_add(&b, "tls on\n");
	sb_add(&b, "tls_starttls %s\n", implicit ? "off" : "on");
	if (sr->cafile != NULL) {
		sb_add(&b, "# The CA that signed this server's certificate (not in the system store).\n");
		sb_add(&b, "tls_trust_file %s\n", sr->cafile);
	}
	if (!c->cert_valid)
		sb_add(&b, "# WARNING: the certificate was NOT valid for %s when probed; msmtp "
		       "will refuse it until that is fixed.\n", c->host);
	if (c->auth_offered) {
		sb_add(&b, "# Log in (the server offers %s; msmtp picks the strongest).\n",
		       c->r.auth.mechanisms_tls);
		sb_add(&b, "auth on\n");
		sb_add(&b, "user %s\n", sr->user);
		sb_add(&b, "# The password: from $SMTP_PASSWORD here; better, your keyring's "
		       "command (e.g. secret-tool lookup ...).\n");
		sb_add(&b, "passwordeval \"printenv SMTP_PASSWORD\"\n");
	} else {
		sb_add(&b, "auth off\n");
	}
	sb_add(&b, "from %s\n", sr->address);
	size_comment(&b, sr, "# Largest message the server takes:");
	sb_add(&b, "account default : %s\n", sr->domain);
	return sb_done(&b);
}

void setup_snippets(struct setup_result *sr)
{
	const struct setup_candidate *c;

	free(sr->config_curl);
	free(sr->config_postfix);
	free(sr->config_msmtp);
	sr->config_curl = sr->config_postfix = sr->config_msmtp = NULL;
	if (sr->rec < 0 || sr->address == NULL || sr->domain == NULL)
		return;
	c = &sr->cand[sr->rec];
	/* Names from the network went through the target parser (LDH); the
	 * address, user and CA path come from the command line or autoconfig:
	 * refuse what could break out of the snippet's quoting. */
	if (!config_safe(c->host) || !config_safe(sr->address) || !config_safe(sr->domain) ||
	    !config_safe(sr->user) || (sr->cafile != NULL && !config_safe(sr->cafile))) {
		findings_add(sr->findings, &sr->nfindings, SEV_WARNING, "setup-config-unsafe",
		             "no configuration snippets: the address, user name or CA file path "
		             "holds characters (spaces, quotes, shell signs) that cannot be put "
		             "into them safely");
		return;
	}
	if (sr->configs & SETUP_CFG_CURL)
		sr->config_curl = snippet_curl(sr, c);
	if (sr->configs & SETUP_CFG_POSTFIX)
		sr->config_postfix = snippet_postfix(sr, c);
	if (sr->configs & SETUP_CFG_MSMTP)
		sr->config_msmtp = snippet_msmtp(sr, c);
}
