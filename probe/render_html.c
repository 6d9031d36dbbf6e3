/* HTML renderer: one self-contained page for a person to read, print or
 * hand to someone else (a provider's support desk, a ticket). Inline CSS
 * and SVG only: no script, no font, no image or style from elsewhere, so it
 * works offline and as a mail attachment, and a Content-Security-Policy of
 * default-src 'none' can hold it.
 *
 * Every string that came from a server, DNS or a certificate goes through
 * the sanitiser in its HTML mode (controls, C1, bidi and invalid UTF-8 made
 * visible, the five HTML-special characters as entities: html_text),
 * and is only ever placed in element content or a double-quoted attribute.
 * Nothing from the network becomes a URL, a tag, an attribute name or CSS. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <mbedtls/base64.h>

#include "mx.h"
#include "render.h"
#include "render_util.h"
#include "sanitize.h"
#include "setup.h"
#include "xmalloc.h"

#define SAFE_MAX 1024             /* bytes of one server string shown */

/* ------------------------------------------------------------ escaping */

/* Text that is already terminal-safe, written with &<>"' as entities. */
static void html_raw(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':  fputs("&amp;", f); break;
		case '<':  fputs("&lt;", f); break;
		case '>':  fputs("&gt;", f); break;
		case '"':  fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:   fputc(s[i], f); break;
		}
	}
}

/* Untrusted text (server, DNS, certificate, target as typed): the
 * sanitiser's HTML mode makes it printable and escapes it for element or
 * double-quoted attribute context in one pass. */
static void html_text(FILE *f, const char *s)
{
	san_puts(f, SAN_HTML, s, SAFE_MAX);
}

/* Our own text (no server bytes): still escaped, it may hold numbers
 * formatted from server data and costs nothing. */
static void html_ours(FILE *f, const char *s)
{
	html_raw(f, s, strlen(s));
}

/* ---------------------------------------------------------- vocabulary */

static const char *status_title(enum status st)
{
	switch (st) {
	case ST_OK:       return "OK";
	case ST_WARNING:  return "WARNING";
	case ST_CRITICAL: return "CRITICAL";
	default:          return "UNKNOWN";
	}
}

static const char *status_sentence(enum status st)
{
	switch (st) {
	case ST_OK:       return "Everything checked is fine.";
	case ST_WARNING:  return "It works, but something needs attention.";
	case ST_CRITICAL: return "Something is broken: mail clients or servers will fail here.";
	default:          return "The probe could not reach a verdict.";
	}
}

static const char *mode_word(enum tls_mode m)
{
	switch (m) {
	case TLS_MODE_STARTTLS: return "STARTTLS";
	case TLS_MODE_IMPLICIT: return "implicit TLS";
	default:                return "no TLS";
	}
}

static const char *family_word(int family)
{
	return family == AF_INET6 ? "IPv6" : family == AF_INET ? "IPv4" : "";
}

/* Why a finding matters, in plain words, for the codes people meet most.
 * The finding's own message says what was seen; this says what follows. */
static const struct {
	const char *code;
	const char *why;
} why_table[] = {
	{ "cert-expired", "Senders that verify certificates (most submission clients, "
	  "DANE and MTA-STS senders) refuse to deliver; others fall back or warn. "
	  "Renew the certificate and reload the server." },
	{ "cert-expires-soon", "Nothing fails yet. Renew before the date shown; "
	  "automated renewal may have stopped working." },
	{ "cert-untrusted", "Clients that verify certificates cannot tell this server "
	  "from an impostor and refuse to send or to log in." },
	{ "cert-hostname-mismatch", "The certificate is for another name: clients "
	  "that verify the name refuse it. Use the name the certificate carries, or "
	  "add this name to it." },
	{ "cert-weak-key", "Modern TLS libraries refuse keys this small; replace the "
	  "key with RSA 2048 or EC P-256 or larger." },
	{ "starttls-missing", "Mail to and from this server travels unencrypted; "
	  "passwords sent here can be read on the way." },
	{ "tls-handshake-failed", "No encrypted session could be set up, so clients "
	  "that insist on TLS cannot use this server." },
	{ "tls-legacy-only", "Current mail clients and servers refuse TLS 1.0 and "
	  "1.1; enable TLS 1.2 and 1.3 on the server." },
	{ "tls-legacy-version", "Old protocol versions stay available to attackers "
	  "who can force a downgrade; switch them off when no old client needs them." },
	{ "smtputf8-missing", "Mail to an address with a non-ASCII local part fails "
	  "at the MX hosts without SMTPUTF8; enable it (Postfix: smtputf8_enable)." },
	{ "smtputf8-ready", "Every MX host accepts internationalised addresses." },
	{ "tls-client-cert-requested", "The server may accept only clients that show a "
	  "certificate it trusts; give one with --client-cert." },
	{ "tls-no-forward-secrecy", "Whoever gets the server's private key later can "
	  "decrypt recorded sessions; prefer ECDHE key exchange." },
	{ "pin-mismatch", "The server's key is not the one you pinned: either the key "
	  "was changed, or this is not the server you expect." },
	{ "server-busy", "The server said it is busy (421). Inconclusive: try again "
	  "later before drawing conclusions." },
	{ "greeting-rejected", "The server refuses this client before any command; "
	  "it may block the address the probe came from." },
	{ "connect-failed", "Nothing answered at this address and port: a firewall, "
	  "a stopped server or the wrong port." },
	{ "timeout", "The server stopped answering within the time allowed." },
	{ "auth-before-tls", "Passwords could be sent unencrypted. Common and often "
	  "deliberate on internal relays; clients should still use TLS." },
	{ "auth-scram-server-unverified", "The server did not prove that it knows the "
	  "password: it may accept any login, or not be the real server." },
	{ "dane-mismatch", "DANE senders will refuse to deliver: the published TLSA "
	  "records do not match the certificate." },
	{ "mta-sts-mismatch", "MTA-STS senders will refuse to deliver to this host." },
	{ "size-not-enforced-at-mail", "The limit is only enforced after the message "
	  "was sent: large messages bounce late instead of being refused early." },
	{ "size-advertised-mismatch", "The server refuses at a different size than it "
	  "announces: clients that trust the announcement will fail." },
	{ "cert-chain-order", "Some clients fail on certificates sent out of order." },
	{ "cert-chain-extra-expired", "Clients that build the chain through the stale "
	  "certificate fail; remove it from the chain file." },
	{ "ipv6-unreachable", "IPv6 senders cannot reach this host at all." },
	{ "setup-no-server", "No candidate answered over TLS, so there is nothing a "
	  "password may safely be sent to: ask the provider for its submission server." },
	{ "setup-cert-not-valid", "Clients that verify the certificate will refuse this "
	  "server under this name; the snippets encrypt without verifying the name." },
	{ "setup-no-auth", "Without AUTH the server relays only for addresses it trusts "
	  "already; a relay elsewhere cannot log in." },
	{ "setup-login-failed", "The user name or password is wrong, or the account may not "
	  "submit mail: the configuration will not work until the login does." },
	{ "setup-login-not-tested", "The password was kept back: it is sent only to a "
	  "server with a valid certificate that offers AUTH after TLS." },
	{ "setup-config-unsafe", "Something here cannot be written into a configuration file "
	  "safely, so no snippet was made: write the settings by hand." },
	{ "setup-srv-not-offered", "The domain says in DNS that it offers no such service "
	  "(an SRV target of \".\")." },
	{ "setup-autoconfig-invalid", "The provider's autoconfig document was refused, so "
	  "mail clients that rely on it will not configure themselves either." },
	{ "setup-autoconfig-plaintext", "The provider's autoconfig names a server without "
	  "TLS; it is used only if STARTTLS works there." },
};

static const char *why_for(const char *code)
{
	for (size_t i = 0; i < sizeof(why_table) / sizeof(why_table[0]); i++)
		if (strcmp(why_table[i].code, code) == 0)
			return why_table[i].why;
	return NULL;
}

/* --------------------------------------------------------------- page */

static const char css[] =
	":root{--ok:#1a7f37;--warn:#9a6700;--crit:#cf222e;--unk:#6e7781;--mut:#57606a;"
	"--bd:#d0d7de;--bg2:#f6f8fa}"
	"*{box-sizing:border-box}"
	"body{font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",sans-serif;margin:0 auto;"
	"max-width:62rem;padding:1rem;color:#1f2328;overflow-wrap:anywhere}"
	"h1{font-size:1.35rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.6rem 0 .5rem;"
	"border-bottom:1px solid var(--bd);padding-bottom:.2rem}h3{font-size:1rem;margin:.3rem 0}"
	".verdict{border-radius:8px;padding:.8rem 1rem;color:#fff}"
	".verdict p{margin:.2rem 0}.st-ok{background:var(--ok)}.st-warning{background:var(--warn)}"
	".st-critical{background:var(--crit)}.st-unknown{background:var(--unk)}"
	".meta{color:var(--mut);font-size:.9rem}"
	"ul.findings{list-style:none;padding:0;margin:0}"
	"ul.findings li{border-left:4px solid var(--bd);padding:.35rem .7rem;margin:.4rem 0;"
	"background:var(--bg2)}"
	"li.sev-critical{border-color:var(--crit)}li.sev-warning{border-color:var(--warn)}"
	"li.sev-info{border-color:var(--unk)}"
	".tag{font-weight:700;font-size:.8rem;text-transform:uppercase}"
	".sev-critical .tag{color:var(--crit)}.sev-warning .tag{color:var(--warn)}"
	".sev-info .tag{color:var(--mut)}"
	"code,pre,.mono{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;font-size:.85rem}"
	".why{color:var(--mut);margin:.15rem 0 0}"
	"table{border-collapse:collapse;width:100%;table-layout:fixed}"
	"td,th{border-bottom:1px solid var(--bd);padding:.25rem .4rem;text-align:left;"
	"vertical-align:top}th{background:var(--bg2)}"
	"table.kv th{width:11rem}"
	"tr.diff-added td{background:#dafbe1}tr.diff-removed td{background:#ffebe9}"
	"tr.diff-changed td{background:#fff8c5}"
	".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(18rem,1fr));gap:.8rem}"
	".card{border:1px solid var(--bd);border-radius:8px;padding:.6rem .8rem}"
	".card dl{margin:0}.card dt{color:var(--mut);font-size:.8rem;margin-top:.35rem}"
	".card dd{margin:0}"
	"svg{display:block;width:100%;height:auto}svg.timeline{max-width:36rem}"
	"svg.validity{max-width:24rem}"
	"table.cands th.port{width:4.5rem}table.cands th.tls{width:7.5rem}"
	"tr.rec td{background:#dafbe1}ul.reasons{margin:.6rem 0}"
	"@media (max-width:40rem){table.kv th{width:38%}body{padding:.5rem}"
	"table.cands thead{display:none}table.cands tr{display:block;"
	"border-bottom:1px solid var(--bd);padding:.3rem 0}"
	"table.cands td{display:inline;border:0;padding:0 .4rem 0 0}"
	"table.cands td.port::before{content:\"port \"}table.cands td:last-child{display:block}}"
	"pre{white-space:pre-wrap;background:var(--bg2);padding:.6rem;border-radius:6px}"
	"details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}"
	"footer{margin-top:2rem;color:var(--mut);font-size:.8rem}"
	"@media print{details{display:block}body{max-width:none}}";

/* The policy the page was written for; served pages repeat it as a header. */
const char render_html_csp[] =
	"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
	"base-uri 'none'; form-action 'self'";

static void page_open(FILE *f, const char *title_target, enum status st)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n", f);
	fprintf(f, "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n",
	        render_html_csp);
	fputs("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
	      "<meta name=\"referrer\" content=\"no-referrer\">\n<title>", f);
	fprintf(f, "%s: ", status_title(st));
	html_text(f, title_target);
	fputs(" (smtp-probe)</title>\n<style>", f);
	fputs(css, f);
	fputs("</style></head>\n<body>\n", f);
}

static void page_close(FILE *f, time_t when)
{
	char date[40] = "";

	render_rfc3339(date, sizeof(date), when);
	fputs("<footer>Made by smtp-probe " SP_VERSION, f);
	if (date[0]) {
		fputs(" on ", f);
		html_ours(f, date);
	}
	fputs(". No mail was sent. This page loads nothing from elsewhere.</footer>\n"
	      "</body></html>\n", f);
}

static const char *st_class(enum status st)
{
	switch (st) {
	case ST_OK:       return "st-ok";
	case ST_WARNING:  return "st-warning";
	case ST_CRITICAL: return "st-critical";
	default:          return "st-unknown";
	}
}

/* Findings, most severe first, each with why it matters. */
static void findings_list(FILE *f, const struct finding *fd, size_t n)
{
	static const enum severity order[] = { SEV_CRITICAL, SEV_WARNING, SEV_INFO };

	if (n == 0) {
		fputs("<p>No findings.</p>\n", f);
		return;
	}
	fputs("<ul class=\"findings\">\n", f);
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; i < n && i < RESULT_MAX_FINDINGS; i++) {
			const char *why;

			if (fd[i].sev != order[k])
				continue;
			fprintf(f, "<li class=\"sev-%s\"><span class=\"tag\">%s</span> <code>",
			        severity_name(fd[i].sev), severity_name(fd[i].sev));
			html_text(f, fd[i].code);
			fputs("</code>: ", f);
			html_text(f, fd[i].message);
			why = why_for(fd[i].code);
			if (why) {
				fputs("<p class=\"why\">", f);
				html_ours(f, why);
				fputs("</p>", f);
			}
			fputs("</li>\n", f);
		}
	fputs("</ul>\n", f);
}

static void kv_row(FILE *f, const char *k, const char *untrusted)
{
	fputs("<tr><th>", f);
	html_ours(f, k);
	fputs("</th><td>", f);
	html_text(f, untrusted);
	fputs("</td></tr>\n", f);
}

/* ----------------------------------------------------------- timeline */

struct phase {
	const char *name;
	double start, ms;
};

/* The steps of one probe in the order they happened, each starting where
 * the previous one ended (the engine starts the next step the moment the
 * previous one completes). */
static size_t phases_of(const struct result *r, struct phase *p, size_t max)
{
	const struct timings *t = &r->t;
	struct step { const char *name; double ms; } seq[8];
	size_t n = 0, k = 0;
	double at = 0;

	seq[n++] = (struct step){ "DNS", t->dns_ms };
	seq[n++] = (struct step){ "connect", t->connect_ms };
	if (r->tls_mode == TLS_MODE_IMPLICIT) {
		seq[n++] = (struct step){ "TLS handshake", t->tls_ms };
		seq[n++] = (struct step){ "greeting wait", t->greeting_ms };
		seq[n++] = (struct step){ "EHLO", t->ehlo_ms };
	} else {
		seq[n++] = (struct step){ "greeting wait", t->greeting_ms };
		seq[n++] = (struct step){ "EHLO", t->ehlo_ms };
		seq[n++] = (struct step){ "STARTTLS", t->starttls_ms };
		seq[n++] = (struct step){ "TLS handshake", t->tls_ms };
		seq[n++] = (struct step){ "EHLO after TLS", t->ehlo_tls_ms };
	}
	for (size_t i = 0; i < n && k < max; i++) {
		if (!(seq[i].ms >= 0) || !isfinite(seq[i].ms))
			continue;
		p[k].name = seq[i].name;
		p[k].start = at;
		p[k].ms = seq[i].ms;
		at += seq[i].ms;
		k++;
	}
	return k;
}

static double phases_end(const struct phase *p, size_t n)
{
	return n ? p[n - 1].start + p[n - 1].ms : 0;
}

static const char *phase_color(const char *name, double ms)
{
	if (strcmp(name, "greeting wait") == 0 && ms >= 1000)
		return "#cf222e";         /* a postscreen pause or a tarpit */
	if (strcmp(name, "DNS") == 0)
		return "#8250df";
	if (strcmp(name, "TLS handshake") == 0 || strcmp(name, "STARTTLS") == 0)
		return "#0969da";
	return "#2da44e";
}

#define TL_W      400.0           /* SVG user units */
#define TL_LABEL  92.0
#define TL_BAR    (TL_W - TL_LABEL - 58.0)
#define TL_ROW    20.0

/* One row per step, bars placed on a common time axis. */
static void timeline_single(FILE *f, const struct result *r)
{
	struct phase p[8] = { { 0 } };
	size_t n = phases_of(r, p, 8);
	double total = phases_end(p, n), scale;

	if (n == 0) {
		fputs("<p>No step was timed.</p>\n", f);
		return;
	}
	if (r->t.total_ms > total)
		total = r->t.total_ms;
	scale = total > 0 ? TL_BAR / total : 0;
	fprintf(f, "<svg class=\"timeline\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
	        "aria-label=\"Timeline of the probe\">\n", TL_W, (double)(n + 1) * TL_ROW + 6);
	for (size_t i = 0; i < n; i++) {
		double y = (double)i * TL_ROW + 4, x = TL_LABEL + p[i].start * scale;
		double w = p[i].ms * scale;

		if (w < 1)
			w = 1;
		fprintf(f, "<text x=\"0\" y=\"%.1f\" font-size=\"11\">%s</text>", y + 12, p[i].name);
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" fill=\"%s\">"
		        "<title>%s: %.1f ms</title></rect>",
		        x, y, w, phase_color(p[i].name, p[i].ms), p[i].name, p[i].ms);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%.1f ms</text>\n",
		        x + w + 4, y + 12, p[i].ms);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#57606a\">total "
	        "%.1f ms</text>\n", TL_LABEL, (double)n * TL_ROW + 16, r->t.total_ms);
	fputs("</svg>\n", f);
	if (r->t.greeting_ms >= 1000)
		fprintf(f, "<p>The server waited %.1f s before its greeting: a pre-greeting "
		        "pause (Postfix postscreen, a tarpit) that every sender pays.</p>\n",
		        r->t.greeting_ms / 1000);
}

/* --mx: one row per probed address, --setup one per host and port (the
 * candidates often share an address), the steps stacked along it. */
static void timeline_rows(FILE *f, const struct result *const *rs, size_t nr, bool by_port)
{
	double total = 0, scale;

	if (nr == 0)
		return;
	for (size_t i = 0; i < nr; i++) {
		struct phase p[8] = { { 0 } };
		double e = phases_end(p, phases_of(rs[i], p, 8));

		if (e > total)
			total = e;
	}
	scale = total > 0 ? TL_BAR / total : 0;
	fprintf(f, "<svg class=\"timeline\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
	        "aria-label=\"Timeline per host\">\n", TL_W, (double)(nr + 1) * TL_ROW + 6);
	for (size_t i = 0; i < nr; i++) {
		struct phase p[8] = { { 0 } };
		size_t n = phases_of(rs[i], p, 8);
		double y = (double)i * TL_ROW + 4;

		fputs("<text x=\"0\" font-size=\"10\" y=\"", f);
		fprintf(f, "%.1f\">", y + 12);
		if (by_port) {
			html_text(f, rs[i]->host);
			fprintf(f, ":%u", (unsigned)rs[i]->port);
		} else {
			html_text(f, rs[i]->address[0] ? rs[i]->address : rs[i]->host);
		}
		fputs("</text>", f);
		for (size_t k = 0; k < n; k++) {
			double w = p[k].ms * scale;

			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" "
			        "fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.5\"><title>%s: %.1f ms"
			        "</title></rect>", TL_LABEL + p[k].start * scale, y,
			        w < 1 ? 1 : w, phase_color(p[k].name, p[k].ms), p[k].name, p[k].ms);
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%.1f ms</text>\n",
		        TL_LABEL + phases_end(p, n) * scale + 4, y + 12, phases_end(p, n));
	}
	fputs("</svg>\n<p class=\"meta\">Bars: DNS (purple), connect, greeting and EHLO "
	      "(green), STARTTLS and handshake (blue), a greeting wait of a second or more "
	      "(red).</p>\n", f);
}

/* ---------------------------------------------------------- sections */

static const char *ext_params(const struct ehlo_info *e, const char *kw, bool *found)
{
	*found = false;
	for (size_t i = 0; e->present && i < e->next; i++)
		if (strcmp(e->ext[i].keyword, kw) == 0) {
			*found = true;
			return e->ext[i].params;
		}
	return "";
}

static void ext_row(FILE *f, const struct result *r, const char *kw, bool tls_only_table)
{
	bool b = false, a = false;
	const char *pb = ext_params(&r->ehlo, kw, &b);
	const char *pa = ext_params(&r->ehlo_tls, kw, &a);
	const char *cls = "", *note = "";

	if (!tls_only_table && r->ehlo_tls.present) {
		if (b && !a) {
			cls = " class=\"diff-removed\"";
			note = "before TLS only";
		} else if (!b && a) {
			cls = " class=\"diff-added\"";
			note = "after TLS only";
		} else if (strcmp(pb, pa) != 0) {
			cls = " class=\"diff-changed\"";
			note = "changed";
		}
	}
	fprintf(f, "<tr%s><td class=\"mono\">", cls);
	html_text(f, kw);
	fputs("</td><td class=\"mono\">", f);
	if (b)
		html_text(f, pb[0] ? pb : "\u2713");
	fputs("</td>", f);
	if (!tls_only_table) {
		fputs("<td class=\"mono\">", f);
		if (a)
			html_text(f, pa[0] ? pa : "\u2713");
		fprintf(f, "</td><td>%s</td>", note);
	}
	fputs("</tr>\n", f);
}

static void section_extensions(FILE *f, const struct result *r)
{
	bool both = r->ehlo_tls.present;

	if (!r->ehlo.present && !r->ehlo_tls.present)
		return;
	fputs("<h2>EHLO extensions</h2>\n", f);
	if (r->ehlo.helo)
		fputs("<p>The server did not understand EHLO; HELO was used, so no "
		      "extensions are known.</p>\n", f);
	if (both)
		fputs("<table><thead><tr><th>Extension</th><th>before TLS</th><th>after TLS"
		      "</th><th>difference</th></tr></thead><tbody>\n", f);
	else
		fputs("<table><thead><tr><th>Extension</th><th>parameters</th></tr></thead>"
		      "<tbody>\n", f);
	for (size_t i = 0; r->ehlo.present && i < r->ehlo.next; i++)
		ext_row(f, r, r->ehlo.ext[i].keyword, !both);
	if (both)
		for (size_t i = 0; i < r->ehlo_tls.next; i++) {
			bool seen;

			ext_params(&r->ehlo, r->ehlo_tls.ext[i].keyword, &seen);
			if (!seen)
				ext_row(f, r, r->ehlo_tls.ext[i].keyword, false);
		}
	if (!r->ehlo.present && r->ehlo_tls.present)
		for (size_t i = 0; i < r->ehlo_tls.next; i++)
			ext_row(f, r, r->ehlo_tls.ext[i].keyword, false);
	fputs("</tbody></table>\n", f);
}

/* Validity as a bar: not_before .. not_after, with today and the warning
 * and critical thresholds marked. */
static void validity_bar(FILE *f, const struct cert_info *c, time_t now,
                         int warn_days, int crit_days)
{
	double span = difftime(c->not_after, c->not_before), W = 300;
	double warn_x, crit_x, now_x;
	char nb[16], na[16];

	if (!(span > 0))
		return;
	now_x = difftime(now, c->not_before) / span * W;
	warn_x = (difftime(c->not_after, c->not_before) - (double)warn_days * 86400) / span * W;
	crit_x = (difftime(c->not_after, c->not_before) - (double)crit_days * 86400) / span * W;
	now_x = now_x < 0 ? 0 : now_x > W ? W : now_x;
	warn_x = warn_x < 0 ? 0 : warn_x;
	crit_x = crit_x < 0 ? 0 : crit_x;
	render_date(nb, sizeof(nb), c->not_before);
	render_date(na, sizeof(na), c->not_after);
	fprintf(f, "<svg class=\"validity\" viewBox=\"0 -12 %.0f 54\" role=\"img\" aria-label=\"Validity from %s "
	        "to %s\">", W, nb, na);
	fprintf(f, "<rect x=\"0\" y=\"8\" width=\"%.1f\" height=\"10\" fill=\"#2da44e\"/>", warn_x);
	fprintf(f, "<rect x=\"%.1f\" y=\"8\" width=\"%.1f\" height=\"10\" fill=\"#bf8700\">"
	        "<title>warning: %d days before expiry</title></rect>",
	        warn_x, crit_x - warn_x > 0 ? crit_x - warn_x : 0, warn_days);
	fprintf(f, "<rect x=\"%.1f\" y=\"8\" width=\"%.1f\" height=\"10\" fill=\"#cf222e\">"
	        "<title>critical: %d days before expiry</title></rect>",
	        crit_x, W - crit_x > 0 ? W - crit_x : 0, crit_days);
	fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"2\" y2=\"24\" stroke=\"#1f2328\" "
	        "stroke-width=\"2\"><title>today</title></line>", now_x, now_x);
	fprintf(f, "<text x=\"0\" y=\"38\" font-size=\"10\">%s</text>", nb);
	fprintf(f, "<text x=\"%.0f\" y=\"38\" font-size=\"10\" text-anchor=\"end\">%s</text>",
	        W, na);
	fprintf(f, "<text x=\"%.1f\" y=\"-2\" font-size=\"10\" text-anchor=\"%s\">today</text>",
	        now_x, now_x > W - 30 ? "end" : now_x < 30 ? "start" : "middle");
	fputs("</svg>", f);
}

static void cert_card(FILE *f, const struct result *r, size_t i, time_t now)
{
	const struct cert_info *c = &r->tls.chain[i];
	char days[64];

	fputs("<div class=\"card\"><h3>", f);
	if (i == 0)
		fputs("Server certificate", f);
	else if (c->self_signed)
		fputs("Root", f);
	else
		fprintf(f, "Intermediate %zu", i);
	fputs("</h3><dl>\n<dt>subject</dt><dd>", f);
	html_text(f, c->subject);
	fputs("</dd>\n<dt>issuer</dt><dd>", f);
	html_text(f, c->issuer);
	fputs("</dd>\n", f);
	if (c->nsan > 0) {
		fputs("<dt>names (SAN)</dt><dd>", f);
		for (size_t k = 0; k < c->nsan && k < RESULT_MAX_SAN; k++) {
			if (k)
				fputs(", ", f);
			html_text(f, c->san[k]);
		}
		fputs("</dd>\n", f);
	}
	if (c->days_left < 0)
		snprintf(days, sizeof(days), "expired %ld day%s ago", -c->days_left,
		         c->days_left == -1 ? "" : "s");
	else
		snprintf(days, sizeof(days), "%ld day%s left", c->days_left,
		         c->days_left == 1 ? "" : "s");
	fputs("<dt>validity</dt><dd>", f);
	html_ours(f, days);
	validity_bar(f, c, now, r->warn_days, r->crit_days);
	fputs("</dd>\n<dt>key, signature</dt><dd>", f);
	html_text(f, c->key);
	fputs(", ", f);
	html_text(f, c->signature);
	fputs("</dd>\n<dt>SHA-256 fingerprint</dt><dd class=\"mono\">", f);
	html_text(f, c->sha256);
	fputs("</dd>\n<dt>SPKI pin</dt><dd class=\"mono\">sha256//", f);
	html_text(f, c->spki_sha256);
	fputs("</dd>\n", f);
	if (i == 0) {
		char rec[400];

		if (render_tlsa_311(rec, sizeof(rec), r)) {
			fputs("<dt>TLSA record pinning this key</dt><dd class=\"mono\">", f);
			html_text(f, rec);
			fputs("</dd>\n", f);
		}
	}
	fputs("</dl></div>\n", f);
}

static void section_tls(FILE *f, const struct result *r, time_t now)
{
	if (!r->tls.attempted)
		return;
	fputs("<h2>TLS</h2>\n<table class=\"kv\"><tbody>\n", f);
	if (r->tls.ok) {
		kv_row(f, "version", r->tls.version);
		kv_row(f, "cipher", r->tls.cipher);
		if (r->tls.group[0])
			kv_row(f, "key exchange", r->tls.group);
	} else {
		kv_row(f, "handshake", r->tls.error[0] ? r->tls.error : "failed");
	}
	if (r->tls.verified) {
		kv_row(f, "trusted", r->tls.trusted ? "yes" : "no");
		kv_row(f, "name matches", r->tls.hostname_match ? "yes" : "no");
		kv_row(f, "name checked", r->tls.servername);
		for (size_t i = 0; i < r->tls.nerrors && i < 16; i++)
			kv_row(f, "problem", r->tls.errors[i]);
	}
	fputs("</tbody></table>\n", f);
	if (r->tls.nchain == 0)
		return;
	fprintf(f, "<h2>Certificate chain (%zu presented)</h2>\n<div class=\"cards\">\n",
	        r->tls.chain_total);
	for (size_t i = 0; i < r->tls.nchain && i < RESULT_MAX_CHAIN; i++)
		cert_card(f, r, i, now);
	fputs("</div>\n", f);
}

static void section_limits(FILE *f, const struct result *r)
{
	char s[512], n[32];

	if (!r->ehlo.present && !r->ehlo_tls.present)
		return;
	fputs("<h2>Attachment limit</h2>\n<table class=\"kv\"><tbody>\n", f);
	render_size_sentence(s, sizeof(s), &r->size, true);
	kv_row(f, "SIZE", s);
	if (r->size.has_limit) {
		render_thousands(n, sizeof(n), r->size.max_attachment_base64);
		snprintf(s, sizeof(s), "%s bytes (base64-encoded in the message)", n);
		kv_row(f, "largest attachment", s);
	}
	if (r->size.checked) {
		render_size_check_sentence(s, sizeof(s), &r->size, true);
		kv_row(f, "size check", s);
	}
	fputs("</tbody></table>\n", f);
}

static void section_connection(FILE *f, const struct result *r)
{
	char s[200];

	fputs("<h2>Connection</h2>\n<table class=\"kv\"><tbody>\n", f);
	for (size_t i = 0; i < r->nattempts && i < RESULT_MAX_ATTEMPTS; i++) {
		const struct attempt *a = &r->attempts[i];

		if (a->error[0])
			snprintf(s, sizeof(s), "%s (%s): %s", a->address, family_word(a->family),
			         a->error);
		else
			snprintf(s, sizeof(s), "%s (%s): connected in %.1f ms", a->address,
			         family_word(a->family), a->connect_ms);
		kv_row(f, "attempt", s);
	}
	if (r->greeting.present) {
		snprintf(s, sizeof(s), "%d", r->greeting.code);
		kv_row(f, "greeting code", s);
		kv_row(f, "greeting", r->greeting.text);
	}
	if (r->auth.mechanisms || r->auth.mechanisms_tls) {
		if (r->auth.mechanisms)
			kv_row(f, "AUTH before TLS", r->auth.mechanisms);
		if (r->auth.mechanisms_tls)
			kv_row(f, "AUTH after TLS", r->auth.mechanisms_tls);
	}
	if (r->auth.tested)
		kv_row(f, "login", r->auth.accepted ? "accepted" : "refused");
	fputs("</tbody></table>\n", f);
}

/* The plain-language dialogue, as --explain prints it, in a fold. The
 * explain renderer has already made server text terminal-safe. */
static void section_explain(FILE *f, const struct result *r)
{
	struct render_opts ro = { .unicode = true };
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if (r->ntranscript == 0)
		return;
	m = open_memstream(&buf, &len);
	if (m == NULL)
		return;
	render_explain(m, r, &ro);
	if (fclose(m) != 0) {
		free(buf);
		return;
	}
	fputs("<details><summary>The dialogue, explained line by line</summary>\n<pre>", f);
	html_raw(f, buf, len);
	fputs("</pre></details>\n", f);
	free(buf);
}

static void header_block(FILE *f, const struct result *r, enum status st)
{
	char line[200];

	fprintf(f, "<header class=\"verdict %s\"><h1>%s: ", st_class(st), status_title(st));
	html_text(f, r->target);
	fprintf(f, "</h1><p>%s</p></header>\n", status_sentence(st));
	fputs("<p class=\"meta\">", f);
	if (r->address[0]) {
		snprintf(line, sizeof(line), "%s (%s), port %u, %s", r->address,
		         family_word(r->family), r->port, mode_word(r->tls_mode));
		html_text(f, line);
	} else {
		snprintf(line, sizeof(line), "no address answered, port %u, %s", r->port,
		         mode_word(r->tls_mode));
		html_ours(f, line);
	}
	fputs("</p>\n", f);
}

/* One probe's body (used alone and inside a domain page). */
static void result_body(FILE *f, const struct result *r, time_t now, bool timeline)
{
	fputs("<h2>Findings</h2>\n", f);
	findings_list(f, r->findings, r->nfindings);
	if (timeline) {
		fputs("<h2>Timeline</h2>\n", f);
		timeline_single(f, r);
	}
	section_connection(f, r);
	section_extensions(f, r);
	section_tls(f, r, now);
	section_limits(f, r);
	section_explain(f, r);
}

void render_html(FILE *f, const struct result *r, const struct render_opts *o)
{
	time_t now = r->started ? r->started : time(NULL);

	(void)o;
	page_open(f, r->target, r->status);
	header_block(f, r, r->status);
	result_body(f, r, now, true);
	page_close(f, now);
}

void render_domain_html(FILE *f, const struct domain_result *d, const struct render_opts *o)
{
	time_t now = d->nprobes ? d->probes[0].started : time(NULL);
	char line[160];

	(void)o;
	if (now == 0)
		now = time(NULL);
	page_open(f, d->domain, d->status);
	fprintf(f, "<header class=\"verdict %s\"><h1>%s: ", st_class(d->status),
	        status_title(d->status));
	html_text(f, d->domain);
	fprintf(f, "</h1><p>%s</p></header>\n", status_sentence(d->status));
	snprintf(line, sizeof(line), "%zu MX host%s, %zu answered; %zu of %zu addresses answered, "
	         "%zu with STARTTLS.", d->nmx, d->nmx == 1 ? "" : "s", d->hosts_answered,
	         d->addresses_answered, d->addresses_probed, d->starttls_count);
	fputs("<p class=\"meta\">", f);
	html_ours(f, line);
	fputs("</p>\n<h2>Domain findings</h2>\n", f);
	findings_list(f, d->findings, d->nfindings);
	if (d->nmx > 0) {
		fputs("<h2>MX hosts</h2>\n<table><thead><tr><th>preference</th><th>host</th>"
		      "</tr></thead><tbody>\n", f);
		for (size_t i = 0; i < d->nmx && i < MX_MAX_HOSTS; i++) {
			fprintf(f, "<tr><td>%u</td><td>", (unsigned)d->mx[i].preference);
			html_text(f, d->mx[i].name);
			fputs("</td></tr>\n", f);
		}
		fputs("</tbody></table>\n", f);
	}
	if (d->nprobes > 0) {
		const struct result **rs = xcalloc(d->nprobes, sizeof(*rs));

		for (size_t i = 0; i < d->nprobes; i++)
			rs[i] = &d->probes[i];
		fputs("<h2>Timeline</h2>\n", f);
		timeline_rows(f, rs, d->nprobes, false);
		free(rs);
	}
	for (size_t i = 0; i < d->nprobes; i++) {
		const struct result *r = &d->probes[i];

		fprintf(f, "<details%s><summary>%s: ", r->status != ST_OK ? " open" : "",
		        status_title(r->status));
		html_text(f, r->host);
		if (r->address[0]) {
			fputs(" (", f);
			html_text(f, r->address);
			fputs(")", f);
		}
		fputs("</summary>\n", f);
		result_body(f, r, now, true);
		fputs("</details>\n", f);
	}
	page_close(f, now);
}

/* ------------------------------------------------------ --setup page */

static const char *source_word(enum setup_source s)
{
	switch (s) {
	case SRC_SRV:        return "SRV record";
	case SRC_AUTOCONFIG: return "autoconfig";
	case SRC_GUESS:      return "guess";
	default:             return "MX host";
	}
}

/* The decision first: what to configure, or why nothing qualifies. */
static void setup_verdict(FILE *f, const struct setup_result *sr)
{
	char line[400];

	fprintf(f, "<header class=\"verdict %s\"><h1>%s: relay setup for ", st_class(sr->status),
	        status_title(sr->status));
	html_text(f, sr->address);
	fputs("</h1>", f);
	if (sr->rec >= 0) {
		const struct setup_candidate *c = &sr->cand[sr->rec];

		fputs("<p id=\"recommended\">Recommended: <strong class=\"mono\">", f);
		html_text(f, c->host);
		snprintf(line, sizeof(line), "</strong> port %u, %s", (unsigned)c->port,
		         mode_word(c->mode));
		fputs(line, f);
		if (sr->mechanism[0]) {
			fputs(", AUTH ", f);
			html_text(f, sr->mechanism);
			fputs(" as ", f);
			html_text(f, sr->user);
		}
		fputs("</p>", f);
	} else {
		fputs("<p id=\"recommended\">No recommendation: ", f);
		html_text(f, sr->missing);
		fputs("</p>", f);
	}
	fprintf(f, "<p>%s</p></header>\n", status_sentence(sr->status));
	if (sr->rec >= 0 && sr->nreasons > 0) {
		fputs("<ul class=\"reasons\">\n", f);
		for (size_t i = 0; i < sr->nreasons && i < SETUP_MAX_REASONS; i++) {
			fputs("<li>", f);
			html_text(f, sr->reasons[i]);
			fputs("</li>\n", f);
		}
		fputs("</ul>\n", f);
	}
	if (sr->rec >= 0) {
		bool verified = render_setup_size(line, sizeof(line), sr, true);

		fputs("<p class=\"meta\">Size: ", f);
		if (verified)
			fputs("verified at MAIL FROM: ", f);
		html_text(f, line);
		fputs("</p>\n", f);
	}
}

static void setup_html_discovery(FILE *f, const struct setup_result *sr)
{
	if (sr->ndisc == 0)
		return;
	fputs("<h2>Discovery</h2>\n<table><thead><tr><th>source</th><th>asked</th>"
	      "<th>answer</th></tr></thead><tbody>\n", f);
	for (size_t i = 0; i < sr->ndisc && i < SETUP_MAX_DISCOVERY; i++) {
		fputs("<tr><td>", f);
		html_text(f, sr->disc[i].source);
		fputs("</td><td class=\"mono\">", f);
		html_text(f, sr->disc[i].name);
		fputs("</td><td>", f);
		html_text(f, sr->disc[i].answer);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

/* One row per host:port tried, the recommended one marked. */
static void setup_candidates(FILE *f, const struct setup_result *sr)
{
	fprintf(f, "<h2>Candidates tried (%zu)</h2>\n", sr->ncand);
	if (sr->cand_dropped)
		fprintf(f, "<p class=\"meta\">More were found than the limit of %d: %zu not "
		        "probed.</p>\n", SETUP_MAX_CANDIDATES, sr->cand_dropped);
	if (sr->ncand == 0) {
		fputs("<p>No server was found to try.</p>\n", f);
		return;
	}
	fputs("<table class=\"cands\"><thead><tr><th>host</th><th class=\"port\">port</th>"
	      "<th class=\"tls\">TLS</th><th>result</th></tr></thead><tbody>\n", f);
	for (size_t i = 0; i < sr->ncand && i < SETUP_MAX_CANDIDATES; i++) {
		const struct setup_candidate *c = &sr->cand[i];
		bool rec = (int)i == sr->rec;

		fprintf(f, "<tr class=\"cand%s\"><td class=\"mono\">", rec ? " rec" : "");
		html_text(f, c->host);
		fprintf(f, "</td><td class=\"port\">%u</td><td class=\"tls\">%s</td><td>",
		        (unsigned)c->port, mode_word(c->mode));
		if (rec)
			fputs("<strong>recommended</strong>, ", f);
		html_text(f, c->verdict);
		fputs("<br><span class=\"meta\">", f);
		if (c->via[0])
			html_text(f, c->via);
		else
			html_ours(f, source_word(c->source));
		fputs("</span>", f);
		if (c->login != NULL && c->login->auth.tested) {
			fprintf(f, "<br>login %s (", c->login->auth.accepted ? "accepted" : "refused");
			html_text(f, c->login->auth.mechanism);
			fputs("): ", f);
			html_text(f, c->login->auth.reply ? c->login->auth.reply : "");
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

/* A snippet line by line: the sanitiser shows a newline as \x0A, and a
 * snippet is lines to paste. */
static void snippet_lines(FILE *f, const char *s)
{
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		san_write(f, SAN_HTML, s, n);
		fputc('\n', f);
		s += n + (nl != NULL);
	}
}

static void setup_html_snippets(FILE *f, const struct setup_result *sr)
{
	const char *const names[3] = { "curl", "Postfix (relay client)", "msmtp" };
	const char *const text[3] = { sr->config_curl, sr->config_postfix, sr->config_msmtp };

	if (!text[0] && !text[1] && !text[2])
		return;
	fputs("<h2>Configuration</h2>\n<p>The password is a placeholder: it is never written "
	      "here.</p>\n", f);
	for (int i = 0; i < 3; i++) {
		if (text[i] == NULL)
			continue;
		fputs("<h3>", f);
		html_ours(f, names[i]);
		fputs("</h3>\n<pre class=\"snippet\">", f);
		snippet_lines(f, text[i]);
		fputs("</pre>\n", f);
	}
}

/* Each candidate's light probe (and its login connection) as the single
 * page draws it, folded; the recommended one and failures open. */
static void setup_probes(FILE *f, const struct setup_result *sr, time_t now)
{
	for (size_t i = 0; i < sr->ncand && i < SETUP_MAX_CANDIDATES; i++) {
		const struct setup_candidate *c = &sr->cand[i];
		const struct result *r = &c->r;

		fprintf(f, "<details%s><summary>%s: ", (int)i == sr->rec ? " open" : "",
		        status_title(r->status));
		html_text(f, c->host);
		fprintf(f, " port %u, %s</summary>\n", (unsigned)c->port, mode_word(c->mode));
		result_body(f, r, now, true);
		if (c->login != NULL) {
			fputs("<h3>Login connection</h3>\n", f);
			findings_list(f, c->login->findings, c->login->nfindings);
			section_explain(f, c->login);
		}
		fputs("</details>\n", f);
	}
}

void render_setup_html(FILE *f, const struct setup_result *sr, const struct render_opts *o)
{
	time_t now = sr->ncand ? sr->cand[0].r.started : 0;

	(void)o;
	if (now == 0)
		now = time(NULL);
	page_open(f, sr->address, sr->status);
	setup_verdict(f, sr);
	fputs("<h2>Findings</h2>\n", f);
	findings_list(f, sr->findings, sr->nfindings);
	setup_candidates(f, sr);
	setup_html_snippets(f, sr);
	setup_html_discovery(f, sr);
	if (sr->ncand > 0) {
		const struct result *rs[SETUP_MAX_CANDIDATES];
		size_t n = 0;

		for (; n < sr->ncand && n < SETUP_MAX_CANDIDATES; n++)
			rs[n] = &sr->cand[n].r;
		fputs("<h2>Timeline</h2>\n", f);
		timeline_rows(f, rs, n, true);
		fputs("<h2>Each candidate</h2>\n", f);
		setup_probes(f, sr, now);
	}
	page_close(f, now);
}
