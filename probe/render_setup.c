/* --setup's report: text (discovery, candidates, the recommendation and
 * its reasons, the snippets), JSON (one document, kind "setup") and
 * --explain (the decision in plain words). Reads a finished setup_result;
 * every string that came from the network goes through the sanitiser. */
#include <stdio.h>
#include <string.h>

#include "jsonw.h"
#include "render.h"
#include "render_util.h"
#include "setup.h"

static const char *word(enum status st)
{
	static const char *const w[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

	return (unsigned)st <= ST_UNKNOWN ? w[st] : "UNKNOWN";
}

static const char *mode_words(enum tls_mode m)
{
	return m == TLS_MODE_IMPLICIT ? "implicit TLS" : m == TLS_MODE_STARTTLS ? "STARTTLS" :
	       "no TLS";
}

/* The snippets only, as they are pasted (--config with text output). */
static void snippets(FILE *f, const struct setup_result *sr, bool headed)
{
	const char *const names[3] = { "curl", "postfix", "msmtp" };
	const char *const text[3] = { sr->config_curl, sr->config_postfix, sr->config_msmtp };
	bool first = true;

	for (int i = 0; i < 3; i++) {
		if (text[i] == NULL)
			continue;
		if (!first || headed)
			fputc('\n', f);
		if (headed)
			fprintf(f, "--- %s ---\n", names[i]);
		fputs(text[i], f);
		first = false;
	}
}

bool render_setup_size(char *out, size_t outsz, const struct setup_result *sr, bool unicode)
{
	const struct setup_candidate *c = &sr->cand[sr->rec];
	const struct result *lr = c->login;

	if (lr != NULL && lr->size.checked && lr->size.verified_known) {
		struct size_info v = size_verified(&lr->size);

		render_size_sentence(out, outsz, &v, unicode);
		return true;
	}
	render_size_sentence(out, outsz, &c->r.size, unicode);
	return false;
}

static void size_line(FILE *f, const struct setup_result *sr, const struct render_opts *o)
{
	char line[600];

	if (render_setup_size(line, sizeof(line), sr, o->unicode)) {
		fprintf(f, "  Size:      verified at MAIL FROM: ");
		render_wrap(f, line, 39, 13);
		return;
	}
	fputs("  Size:      ", f);
	render_wrap(f, line, 13, 13);
}

void render_setup_text(FILE *f, const struct setup_result *sr, const struct render_opts *o)
{
	char safe[1000], line[1200];
	size_t i;

	if (sr->configs_only) {
		snippets(f, sr, false);
		return;
	}
	render_safe_buf(safe, sizeof(safe), sr->address, 300);
	fprintf(f, "Relay setup for %s\n", safe);
	fprintf(f, "  Status:    %s%s%s\n", render_status_color(o, sr->status), word(sr->status),
	        render_reset(o));

	fprintf(f, "\nDiscovery\n");
	for (i = 0; i < sr->ndisc; i++) {
		const struct setup_discovery *d = &sr->disc[i];

		render_safe_buf(safe, sizeof(safe), d->name, sizeof(d->name));
		fprintf(f, "  %-11s %s\n", d->source, safe);
		render_safe_buf(safe, sizeof(safe), d->answer, sizeof(d->answer));
		fputs("              ", f);
		render_wrap(f, safe, 14, 14);
	}

	fprintf(f, "\nCandidates (%zu probed, one light connection each%s)\n", sr->ncand,
	        sr->cand_dropped ? "; more were found than the limit of 12" : "");
	for (i = 0; i < sr->ncand; i++) {
		const struct setup_candidate *c = &sr->cand[i];

		fprintf(f, "  %s%2zu. %s:%u  %s  (%s)\n", (int)i == sr->rec ? "*" : " ", i + 1,
		        c->host, (unsigned)c->port, mode_words(c->mode), setup_source_name(c->source));
		render_safe_buf(safe, sizeof(safe), c->verdict, sizeof(c->verdict));
		fputs("       ", f);
		render_wrap(f, safe, 7, 7);
		if (c->login != NULL && c->login->auth.tested) {
			render_safe_buf(safe, sizeof(safe), c->login->auth.reply ? c->login->auth.reply :
			                "", 200);
			render_fmt(line, sizeof(line), "login %s (%s): %s", c->login->auth.accepted ?
			           "accepted" : "refused", c->login->auth.mechanism, safe);
			fputs("       ", f);
			render_wrap(f, line, 7, 7);
		}
	}

	if (sr->rec >= 0) {
		const struct setup_candidate *c = &sr->cand[sr->rec];

		fprintf(f, "\nRecommended: %s port %u, %s", c->host, (unsigned)c->port,
		        mode_words(c->mode));
		if (sr->mechanism[0])
			fprintf(f, ", AUTH %s as %s", sr->mechanism, sr->user);
		fputc('\n', f);
		for (i = 0; i < sr->nreasons; i++) {
			render_safe_buf(safe, sizeof(safe), sr->reasons[i], sizeof(sr->reasons[i]));
			fputs("  - ", f);
			render_wrap(f, safe, 4, 4);
		}
		size_line(f, sr, o);
	} else {
		render_safe_buf(safe, sizeof(safe), sr->missing, sizeof(sr->missing));
		fprintf(f, "\nNo recommendation: ");
		render_wrap(f, safe, 19, 2);
	}

	if (sr->nfindings > 0) {
		fprintf(f, "\nFindings\n");
		for (i = 0; i < sr->nfindings; i++) {
			const struct finding *fd = &sr->findings[i];

			render_safe_buf(safe, sizeof(safe), fd->message ? fd->message : "", 600);
			fprintf(f, "  %s%-8s%s %s: ", render_sev_color(o, fd->sev),
			        fd->sev == SEV_CRITICAL ? "CRITICAL" : fd->sev == SEV_WARNING ?
			        "WARNING" : "info", render_reset(o), fd->code);
			render_wrap(f, safe, 13 + (int)strlen(fd->code), 4);
		}
	}
	if (sr->config_curl || sr->config_postfix || sr->config_msmtp) {
		fprintf(f, "\nConfiguration (the password is a placeholder: never written here)\n");
		snippets(f, sr, true);
	}
}

/* ---- JSON ---- */

static void key_str(struct jsonw *w, const char *k, const char *v)
{
	jsonw_key(w, k);
	jsonw_str(w, v);
}

static void put_login(struct jsonw *w, const struct result *lr)
{
	jsonw_key(w, "login");
	if (lr == NULL) {
		jsonw_null(w);
		return;
	}
	jsonw_obj_begin(w);
	jsonw_key(w, "tested");
	jsonw_bool(w, lr->auth.tested);
	jsonw_key(w, "accepted");
	jsonw_bool(w, lr->auth.accepted);
	key_str(w, "mechanism", lr->auth.mechanism[0] ? lr->auth.mechanism : NULL);
	key_str(w, "reply", lr->auth.tested ? lr->auth.reply : NULL);
	key_str(w, "skipped", lr->auth.skipped[0] ? lr->auth.skipped : NULL);
	render_json_size(w, &lr->size);
	jsonw_key(w, "findings");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < lr->nfindings; i++) {
		jsonw_obj_begin(w);
		key_str(w, "severity", severity_name(lr->findings[i].sev));
		key_str(w, "code", lr->findings[i].code);
		key_str(w, "message", lr->findings[i].message ? lr->findings[i].message : "");
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	jsonw_obj_end(w);
}

void render_setup_json(FILE *f, const struct setup_result *sr, const struct render_opts *o)
{
	struct jsonw w;
	size_t i;

	jsonw_init(&w, f, o && o->pretty);
	jsonw_obj_begin(&w);
	key_str(&w, "schema", "smtp-probe/1");
	key_str(&w, "kind", "setup");
	key_str(&w, "address", sr->address);
	key_str(&w, "domain", sr->domain);
	key_str(&w, "status", status_name(sr->status));
	jsonw_key(&w, "findings");
	jsonw_arr_begin(&w);
	for (i = 0; i < sr->nfindings; i++) {
		jsonw_obj_begin(&w);
		key_str(&w, "severity", severity_name(sr->findings[i].sev));
		key_str(&w, "code", sr->findings[i].code);
		key_str(&w, "message", sr->findings[i].message ? sr->findings[i].message : "");
		jsonw_obj_end(&w);
	}
	jsonw_arr_end(&w);

	jsonw_key(&w, "discovery");
	jsonw_arr_begin(&w);
	for (i = 0; i < sr->ndisc; i++) {
		jsonw_obj_begin(&w);
		key_str(&w, "source", sr->disc[i].source);
		key_str(&w, "name", sr->disc[i].name);
		key_str(&w, "answer", sr->disc[i].answer);
		jsonw_obj_end(&w);
	}
	jsonw_arr_end(&w);

	jsonw_key(&w, "candidates");
	jsonw_arr_begin(&w);
	for (i = 0; i < sr->ncand; i++) {
		const struct setup_candidate *c = &sr->cand[i];

		jsonw_obj_begin(&w);
		render_json_members(&w, &c->r, o);
		key_str(&w, "source", setup_source_name(c->source));
		key_str(&w, "via", c->via);
		jsonw_key(&w, "usable");
		jsonw_bool(&w, c->usable);
		jsonw_key(&w, "cert_valid");
		jsonw_bool(&w, c->cert_valid);
		key_str(&w, "verdict", c->verdict);
		put_login(&w, c->login);
		jsonw_obj_end(&w);
	}
	jsonw_arr_end(&w);
	jsonw_key(&w, "candidates_dropped");
	jsonw_uint(&w, sr->cand_dropped);

	jsonw_key(&w, "recommended");
	if (sr->rec >= 0) {
		const struct setup_candidate *c = &sr->cand[sr->rec];
		const struct result *lr = c->login;

		jsonw_obj_begin(&w);
		key_str(&w, "host", c->host);
		jsonw_key(&w, "port");
		jsonw_uint(&w, c->port);
		key_str(&w, "tls_mode", tls_mode_name(c->mode));
		key_str(&w, "auth_mechanism", sr->mechanism[0] ? sr->mechanism : NULL);
		key_str(&w, "user", c->auth_offered ? sr->user : NULL);
		jsonw_key(&w, "login_accepted");
		if (lr != NULL && lr->auth.tested)
			jsonw_bool(&w, lr->auth.accepted);
		else
			jsonw_null(&w);
		jsonw_key(&w, "size_limit");
		if (sr->size_limit > 0)
			jsonw_uint(&w, sr->size_limit);
		else
			jsonw_null(&w);
		jsonw_key(&w, "size_verified");
		jsonw_bool(&w, sr->size_verified);
		jsonw_key(&w, "reasons");
		jsonw_arr_begin(&w);
		for (i = 0; i < sr->nreasons; i++)
			jsonw_str(&w, sr->reasons[i]);
		jsonw_arr_end(&w);
		jsonw_obj_end(&w);
	} else {
		jsonw_null(&w);
	}
	key_str(&w, "missing", sr->missing[0] ? sr->missing : NULL);

	jsonw_key(&w, "config");
	jsonw_obj_begin(&w);
	key_str(&w, "curl", sr->config_curl);
	key_str(&w, "postfix", sr->config_postfix);
	key_str(&w, "msmtp", sr->config_msmtp);
	jsonw_obj_end(&w);
	jsonw_key(&w, "total_ms");
	jsonw_num(&w, sr->total_ms);
	jsonw_obj_end(&w);
	putc('\n', f);
}

/* ---- --explain ---- */

void render_setup_explain(FILE *f, const struct setup_result *sr, const struct render_opts *o)
{
	char safe[1000], line[1400];
	size_t i, usable = 0;

	render_safe_buf(safe, sizeof(safe), sr->address, 300);
	render_fmt(line, sizeof(line), "To send mail as %s, a program needs the submission "
	           "server of %s: the host, the port, how TLS starts, and how to log in. Mail "
	           "clients find it in this order, and so did this run:", safe, sr->domain);
	render_wrap(f, line, 0, 0);
	fputs("  1. SRV records (RFC 6186, RFC 8314): _submissions._tcp for implicit TLS, "
	      "_submission._tcp for STARTTLS;\n  2. the provider's autoconfig document "
	      "(Thunderbird's config-v1.1.xml, over HTTPS with a verified certificate);\n"
	      "  3. guesses: smtp., mail. and the domain itself on ports 465 and 587;\n"
	      "  4. the MX hosts, which receive mail for the domain and are often not the "
	      "server to send through.\n\n", f);
	for (i = 0; i < sr->ndisc; i++) {
		render_safe_buf(safe, sizeof(safe), sr->disc[i].answer, sizeof(sr->disc[i].answer));
		render_fmt(line, sizeof(line), "%s %s said: %s", sr->disc[i].source,
		           sr->disc[i].name, safe);
		fputs("  ", f);
		render_wrap(f, line, 2, 4);
	}
	for (i = 0; i < sr->ncand; i++)
		usable += sr->cand[i].usable;
	render_fmt(line, sizeof(line), "\nThat gave %zu place%s to try (at most 12). Each got "
	           "one light connection: EHLO, TLS, EHLO again, QUIT; nothing else, no mail. "
	           "%zu answered over TLS, which is the least a password needs.", sr->ncand,
	           sr->ncand == 1 ? "" : "s", usable);
	render_wrap(f, line, 0, 0);
	if (sr->rec < 0) {
		render_safe_buf(safe, sizeof(safe), sr->missing, sizeof(sr->missing));
		render_fmt(line, sizeof(line), "\nSo there is nothing to recommend: %s.", safe);
		render_wrap(f, line, 0, 0);
		return;
	}
	render_fmt(line, sizeof(line), "\nThe choice follows what a careful admin would do: a "
	           "server whose login worked beats one that merely answers; a certificate valid "
	           "for the name you will type beats one that is not; AUTH after TLS beats none; "
	           "implicit TLS on 465 beats STARTTLS on 587 (RFC 8314, no plaintext step to "
	           "attack); and a published answer beats a guess. Here:");
	render_wrap(f, line, 0, 0);
	fprintf(f, "  %s port %u, %s.\n", sr->cand[sr->rec].host,
	        (unsigned)sr->cand[sr->rec].port, mode_words(sr->cand[sr->rec].mode));
	for (i = 0; i < sr->nreasons; i++) {
		render_safe_buf(safe, sizeof(safe), sr->reasons[i], sizeof(sr->reasons[i]));
		fputs("  - ", f);
		render_wrap(f, safe, 4, 4);
	}
	if (sr->nfindings > 0) {
		fputs("\nWhat to look at:\n", f);
		for (i = 0; i < sr->nfindings; i++) {
			render_safe_buf(safe, sizeof(safe), sr->findings[i].message ?
			                sr->findings[i].message : "", 600);
			fputs("  - ", f);
			render_wrap(f, safe, 4, 4);
		}
	}
	render_fmt(line, sizeof(line), "\nThe snippets below use these settings. They name "
	           "a placeholder where the password goes: it is never printed.");
	render_wrap(f, line, 0, 0);
	snippets(f, sr, true);
	(void)o;
}
