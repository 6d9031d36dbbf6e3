/* JSON renderer: one document per result, keys as in docs/design.md "The result
 * model and JSON". Every server string goes through json_escape, so the
 * document is valid whatever bytes the server sent. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "jsonw.h"
#include "render.h"
#include "tlsver.h"
#include "render_util.h"

static void key_str(struct jsonw *w, const char *k, const char *v)
{
	jsonw_key(w, k);
	jsonw_str(w, v);
}

/* "" means "none" for fixed-size fields of the model. */
static void key_str_or_null(struct jsonw *w, const char *k, const char *v)
{
	jsonw_key(w, k);
	jsonw_str(w, v && v[0] ? v : NULL);
}

static void key_ms(struct jsonw *w, const char *k, double v)
{
	jsonw_key(w, k);
	if (v < 0)
		jsonw_null(w);
	else
		jsonw_num(w, v);
}

static void key_bool(struct jsonw *w, const char *k, bool v)
{
	jsonw_key(w, k);
	jsonw_bool(w, v);
}

static const char *family_name(int family)
{
	if (family == AF_INET)
		return "ipv4";
	if (family == AF_INET6)
		return "ipv6";
	return NULL;
}

static void key_time(struct jsonw *w, const char *k, time_t t)
{
	char buf[32];

	render_rfc3339(buf, sizeof(buf), t);
	key_str_or_null(w, k, buf);
}

/* "PLAIN LOGIN" -> ["PLAIN", "LOGIN"]; NULL -> null. */
static void key_words(struct jsonw *w, const char *k, const char *s)
{
	jsonw_key(w, k);
	if (s == NULL) {
		jsonw_null(w);
		return;
	}
	jsonw_arr_begin(w);
	while (*s) {
		size_t n;

		while (*s == ' ' || *s == '\t')
			s++;
		n = strcspn(s, " \t");
		if (n)
			jsonw_strn(w, s, n);
		s += n;
	}
	jsonw_arr_end(w);
}

static void put_ehlo(struct jsonw *w, const char *k, const struct ehlo_info *e)
{
	jsonw_key(w, k);
	if (!e->present) {
		jsonw_null(w);
		return;
	}
	jsonw_obj_begin(w);
	jsonw_key(w, "code");
	jsonw_int(w, e->code);
	key_str(w, "hostname", e->hostname);
	key_bool(w, "helo", e->helo);
	jsonw_key(w, "lines");
	jsonw_arr_begin(w);
	for (size_t i = 0; e->lines && i < e->nlines; i++)
		jsonw_str(w, e->lines[i]);
	jsonw_arr_end(w);
	jsonw_key(w, "extensions");
	jsonw_obj_begin(w);
	for (size_t i = 0; e->ext && i < e->next; i++) {
		bool dup = false;

		if (e->ext[i].keyword == NULL)
			continue;
		/* Duplicate keys are legal JSON but most parsers keep the last;
		 * we promise the first, as the server's first word counts. */
		for (size_t j = 0; j < i && !dup; j++)
			dup = e->ext[j].keyword && strcmp(e->ext[j].keyword, e->ext[i].keyword) == 0;
		if (dup)
			continue;
		jsonw_key(w, e->ext[i].keyword);
		jsonw_str(w, e->ext[i].params ? e->ext[i].params : "");
	}
	jsonw_obj_end(w);
	jsonw_obj_end(w);
}

static void key_bytes(struct jsonw *w, const char *key, bool known, uint64_t v)
{
	jsonw_key(w, key);
	if (known)
		jsonw_uint(w, v);
	else
		jsonw_null(w);
}

/* --size-check: what MAIL FROM ... SIZE=N proved; the attachment limit
 * from the verified figure. */
static void put_size_check(struct jsonw *w, const struct size_info *s)
{
	struct size_info v = size_verified(s);

	jsonw_key(w, "check");
	if (!s->checked) {
		jsonw_null(w);
		return;
	}
	jsonw_obj_begin(w);
	key_bytes(w, "verified", s->verified_known, s->verified);
	key_bytes(w, "refused", s->refused > 0, s->refused);
	jsonw_key(w, "enforced");
	if (s->enforced < 0)
		jsonw_null(w);
	else
		jsonw_bool(w, s->enforced == 1);
	jsonw_key(w, "pairs");
	jsonw_uint(w, s->pairs);
	key_bytes(w, "max_attachment_base64", v.verified_known, v.max_attachment_base64);
	jsonw_key(w, "note");
	jsonw_str(w, s->note[0] ? s->note : NULL);
	jsonw_obj_end(w);
}

void render_json_size(struct jsonw *w, const struct size_info *s)
{
	jsonw_key(w, "size");
	jsonw_obj_begin(w);
	key_bool(w, "advertised", s->advertised);
	jsonw_key(w, "limit");
	if (s->has_limit)
		jsonw_uint(w, s->limit);
	else
		jsonw_null(w);
	jsonw_key(w, "reserve");
	jsonw_uint(w, s->reserve);
	jsonw_key(w, "max_attachment_base64");
	if (s->has_limit)
		jsonw_uint(w, s->max_attachment_base64);
	else
		jsonw_null(w);
	jsonw_key(w, "max_attachment_binary");
	if (s->has_limit && s->binary)
		jsonw_uint(w, s->max_attachment_binary);
	else
		jsonw_null(w);
	/* --size-check's verdict beside the advertised limit (null when not
	 * asked or not learnt); its details in "check". */
	key_bytes(w, "verified", s->checked && s->verified_known, s->verified);
	jsonw_key(w, "enforced");
	if (!s->checked || s->enforced < 0)
		jsonw_null(w);
	else
		jsonw_bool(w, s->enforced == 1);
	put_size_check(w, s);
	jsonw_obj_end(w);
}

static void put_cert(struct jsonw *w, const struct cert_info *c)
{
	jsonw_obj_begin(w);
	key_str(w, "subject", c->subject);
	key_str(w, "issuer", c->issuer);
	jsonw_key(w, "san");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < c->nsan && i < RESULT_MAX_SAN; i++)
		jsonw_str(w, c->san[i]);
	jsonw_arr_end(w);
	key_time(w, "not_before", c->not_before);
	key_time(w, "not_after", c->not_after);
	jsonw_key(w, "days_left");
	jsonw_int(w, c->days_left);
	key_str_or_null(w, "key", c->key);
	key_str_or_null(w, "signature", c->signature);
	key_str_or_null(w, "sha256", c->sha256);
	key_str_or_null(w, "spki_sha256", c->spki_sha256);
	key_bool(w, "self_signed", c->self_signed);
	if (c->der != NULL) {                /* --showcerts */
		char *pem = NULL;
		size_t n = 0;
		FILE *m = open_memstream(&pem, &n);

		if (m != NULL) {
			render_pem(m, c->der, c->der_len);
			if (fclose(m) == 0 && pem != NULL)
				key_str(w, "pem", pem);
		}
		free(pem);
	}
	jsonw_obj_end(w);
}

/* {code, text, accepted} of one command, or null when it was not sent. */
static void put_cmd_reply(struct jsonw *w, const struct cmd_reply *c)
{
	if (!c->sent) {
		jsonw_null(w);
		return;
	}
	jsonw_obj_begin(w);
	jsonw_key(w, "code");
	if (c->code)
		jsonw_int(w, c->code);
	else
		jsonw_null(w);
	key_str(w, "text", c->code ? c->text : NULL);
	key_bool(w, "accepted", c->code / 100 == 2);
	jsonw_obj_end(w);
}

static void put_envelope(struct jsonw *w, const struct envelope_info *e)
{
	if (e == NULL || !e->tested)
		return;
	jsonw_key(w, "envelope");
	jsonw_obj_begin(w);
	jsonw_key(w, "mail_from");
	jsonw_obj_begin(w);
	key_str(w, "address", e->mail_from);
	jsonw_key(w, "code");
	if (e->mail.code)
		jsonw_int(w, e->mail.code);
	else
		jsonw_null(w);
	key_str(w, "text", e->mail.code ? e->mail.text : NULL);
	key_bool(w, "accepted", e->mail.code / 100 == 2);
	jsonw_obj_end(w);
	jsonw_key(w, "rcpt");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < e->nrcpt && i < RESULT_MAX_RCPT; i++) {
		jsonw_obj_begin(w);
		key_str(w, "address", e->rcpt[i].address);
		key_bool(w, "sent", e->rcpt[i].reply.sent);
		jsonw_key(w, "code");
		if (e->rcpt[i].reply.code)
			jsonw_int(w, e->rcpt[i].reply.code);
		else
			jsonw_null(w);
		key_str(w, "text", e->rcpt[i].reply.code ? e->rcpt[i].reply.text : NULL);
		key_bool(w, "accepted", e->rcpt[i].reply.code / 100 == 2);
		key_bool(w, "outside", e->rcpt[i].outside);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	jsonw_key(w, "rset");
	put_cmd_reply(w, &e->rset);
	jsonw_obj_end(w);
}

static void put_tristate(struct jsonw *w, const char *k, int v)
{
	jsonw_key(w, k);
	if (v < 0)
		jsonw_null(w);
	else
		jsonw_bool(w, v > 0);
}

static void put_tls_required(struct jsonw *w, const struct tlsreq_info *t)
{
	if (!t->tested)
		return;
	jsonw_key(w, "tls_required");
	jsonw_obj_begin(w);
	put_tristate(w, "required", t->required);
	jsonw_key(w, "mail");
	put_cmd_reply(w, &t->mail);
	jsonw_key(w, "rset");
	put_cmd_reply(w, &t->rset);
	key_str_or_null(w, "note", t->note);
	jsonw_obj_end(w);
}

static void put_injection(struct jsonw *w, const struct injection_info *in)
{
	if (!in->tested)
		return;
	jsonw_key(w, "starttls_injection");
	jsonw_obj_begin(w);
	put_tristate(w, "vulnerable", in->vulnerable);
	key_str_or_null(w, "detail", in->detail);
	jsonw_obj_end(w);
}

/* "versions": {"TLSv1.0": true|false|null, ...}: null when not learnt. */
static void put_tls_versions(struct jsonw *w, const struct tlsvers_info *tv)
{
	static const char *const names[RESULT_TLSV_N] = {
		"TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"
	};

	if (!tv->tested)
		return;
	jsonw_key(w, "versions");
	jsonw_obj_begin(w);
	for (size_t i = 0; i < RESULT_TLSV_N; i++) {
		jsonw_key(w, names[i]);
		if (tv->v[i] == TLSV_ACCEPTED || tv->v[i] == TLSV_REFUSED)
			jsonw_bool(w, tv->v[i] == TLSV_ACCEPTED);
		else
			jsonw_null(w);
	}
	jsonw_obj_end(w);
	jsonw_key(w, "versions_detail");
	jsonw_obj_begin(w);
	for (size_t i = 0; i < RESULT_TLSV_N; i++)
		key_str_or_null(w, names[i], tv->detail[i]);
	jsonw_obj_end(w);
}

static void put_tls(struct jsonw *w, const struct tls_info *t, const struct tlsvers_info *tv)
{
	jsonw_key(w, "tls");
	if (!t->attempted) {
		jsonw_null(w);
		return;
	}
	jsonw_obj_begin(w);
	key_bool(w, "ok", t->ok);
	key_str_or_null(w, "version", t->version);
	key_str_or_null(w, "cipher", t->cipher);
	key_str_or_null(w, "group", t->group);
	key_str_or_null(w, "alpn", t->alpn);
	key_str_or_null(w, "error", t->error);
	/* The library's code for the failure: for bug reports, never shown
	 * as text (error says it in words). */
	jsonw_key(w, "error_code");
	if (t->error_code != 0)
		jsonw_int(w, t->error_code);
	else
		jsonw_null(w);
	key_str_or_null(w, "server_version", tlsver_name(t->server_version));
	key_str_or_null(w, "servername", t->servername);
	jsonw_key(w, "verify");
	jsonw_obj_begin(w);
	key_bool(w, "checked", t->verified);
	key_bool(w, "trusted", t->trusted);
	key_bool(w, "hostname_match", t->hostname_match);
	jsonw_key(w, "errors");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < t->nerrors && i < 16; i++)
		jsonw_str(w, t->errors[i]);
	jsonw_arr_end(w);
	jsonw_obj_end(w);
	jsonw_key(w, "pin");
	jsonw_obj_begin(w);
	key_bool(w, "checked", t->pin_checked);
	jsonw_key(w, "match");         /* null: no --pin to compare with */
	if (t->pin_checked)
		jsonw_bool(w, t->pin_match);
	else
		jsonw_null(w);
	jsonw_obj_end(w);
	put_tls_versions(w, tv);
	jsonw_key(w, "chain_total");
	jsonw_uint(w, t->chain_total);
	jsonw_key(w, "chain");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < t->nchain && i < RESULT_MAX_CHAIN; i++)
		put_cert(w, &t->chain[i]);
	jsonw_arr_end(w);
	jsonw_obj_end(w);
}

static void put_timings(struct jsonw *w, const struct timings *t)
{
	jsonw_key(w, "timings");
	jsonw_obj_begin(w);
	key_ms(w, "dns_ms", t->dns_ms);
	key_ms(w, "connect_ms", t->connect_ms);
	key_ms(w, "greeting_ms", t->greeting_ms);
	key_ms(w, "ehlo_ms", t->ehlo_ms);
	key_ms(w, "starttls_ms", t->starttls_ms);
	key_ms(w, "tls_ms", t->tls_ms);
	key_ms(w, "ehlo_tls_ms", t->ehlo_tls_ms);
	key_ms(w, "total_ms", t->total_ms);
	jsonw_obj_end(w);
}

static void put_transcript(struct jsonw *w, const struct result *r)
{
	jsonw_key(w, "transcript");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < r->ntranscript && i < RESULT_MAX_TRANSCRIPT; i++) {
		const struct tline *t = &r->transcript[i];
		char dir[2] = { (t->dir == 'C' || t->dir == 'S') ? t->dir : '*', 0 };

		jsonw_obj_begin(w);
		key_ms(w, "t_ms", t->t_ms);
		key_str(w, "dir", dir);
		key_str(w, "line", t->line ? t->line : "");
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	jsonw_key(w, "transcript_dropped");
	jsonw_uint(w, r->transcript_dropped);
}

static void put_ptr(struct jsonw *w, const struct ptr_info *p)
{
	jsonw_key(w, "ptr");
	if (!p->checked) {
		jsonw_null(w);
		return;
	}
	jsonw_obj_begin(w);
	key_str(w, "name", p->name);
	key_bool(w, "confirmed", p->confirmed);
	key_str_or_null(w, "error", p->error);
	jsonw_obj_end(w);
}

/* --dane only: like the transcript, the key is there when it was asked for. */
static void put_dane(struct jsonw *w, const struct dane_info *d)
{
	if (d == NULL || !d->checked)
		return;
	jsonw_key(w, "dane");
	jsonw_obj_begin(w);
	key_str(w, "name", d->name);
	key_bool(w, "authenticated", d->authenticated);
	key_str(w, "result", d->result);
	key_str_or_null(w, "error", d->error);
	jsonw_key(w, "records_total");
	jsonw_uint(w, d->records_total);
	jsonw_key(w, "records");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < d->nrecords && i < RESULT_MAX_TLSA; i++) {
		const struct tlsa_info *t = &d->records[i];

		jsonw_obj_begin(w);
		jsonw_key(w, "usage");
		jsonw_uint(w, t->usage);
		jsonw_key(w, "selector");
		jsonw_uint(w, t->selector);
		jsonw_key(w, "matching");
		jsonw_uint(w, t->matching);
		key_str(w, "data", t->data);
		jsonw_key(w, "data_len");
		jsonw_uint(w, t->data_len);
		key_bool(w, "usable", t->usable);
		key_bool(w, "matched", t->matched);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	jsonw_obj_end(w);
}

void render_json(FILE *f, const struct result *r, const struct render_opts *o)
{
	struct jsonw w;

	jsonw_init(&w, f, o && o->pretty);
	render_json_object(&w, r, o);
	putc('\n', f);
}

void render_json_bad_target(FILE *f, const char *target, const char *why)
{
	struct jsonw w;

	jsonw_init(&w, f, false);
	jsonw_obj_begin(&w);
	key_str(&w, "schema", "smtp-probe/1");
	key_str(&w, "target", target);
	key_str(&w, "status", "unknown");
	key_str(&w, "error", why);
	jsonw_obj_end(&w);
	putc('\n', f);
}

void render_json_object(struct jsonw *w, const struct result *r, const struct render_opts *o)
{
	jsonw_obj_begin(w);
	render_json_members(w, r, o);
	jsonw_obj_end(w);
}

void render_json_members(struct jsonw *w, const struct result *r, const struct render_opts *o)
{
	key_str(w, "schema", "smtp-probe/1");
	key_str(w, "target", r->target);
	key_str(w, "host", r->host);
	key_str(w, "host_unicode", r->host_unicode);
	jsonw_key(w, "port");
	jsonw_uint(w, r->port);
	key_str(w, "tls_mode", tls_mode_name(r->tls_mode));
	key_str(w, "status", status_name(r->status));
	key_time(w, "started", r->started);

	jsonw_key(w, "findings");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < r->nfindings && i < RESULT_MAX_FINDINGS; i++) {
		const struct finding *fd = &r->findings[i];

		jsonw_obj_begin(w);
		key_str(w, "severity", severity_name(fd->sev));
		jsonw_key(w, "code");
		jsonw_strn(w, fd->code, strnlen(fd->code, sizeof(fd->code)));
		key_str(w, "message", fd->message ? fd->message : "");
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);

	jsonw_key(w, "attempts");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < r->nattempts && i < RESULT_MAX_ATTEMPTS; i++) {
		const struct attempt *a = &r->attempts[i];

		jsonw_obj_begin(w);
		jsonw_key(w, "address");
		jsonw_strn(w, a->address, strnlen(a->address, sizeof(a->address)));
		key_str(w, "family", family_name(a->family));
		key_ms(w, "connect_ms", a->connect_ms);
		jsonw_key(w, "error");
		jsonw_strn(w, a->error[0] ? a->error : NULL, strnlen(a->error, sizeof(a->error)));
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	key_str_or_null(w, "address", r->address);
	key_str(w, "family", family_name(r->family));
	key_str_or_null(w, "proxy", r->proxy);
	key_str_or_null(w, "source_address", r->source);

	jsonw_key(w, "greeting");
	if (r->greeting.present) {
		jsonw_obj_begin(w);
		jsonw_key(w, "code");
		jsonw_int(w, r->greeting.code);
		key_str(w, "text", r->greeting.text);
		key_str(w, "hostname", r->greeting.hostname);
		jsonw_obj_end(w);
	} else {
		jsonw_null(w);
	}

	put_ehlo(w, "ehlo", &r->ehlo);
	put_ehlo(w, "ehlo_tls", &r->ehlo_tls);
	if (r->ehlo_auth.present)
		put_ehlo(w, "ehlo_auth", &r->ehlo_auth);

	jsonw_key(w, "starttls");
	jsonw_obj_begin(w);
	key_bool(w, "offered", r->starttls_offered);
	jsonw_key(w, "code");
	if (r->starttls_code)
		jsonw_int(w, r->starttls_code);
	else
		jsonw_null(w);
	jsonw_obj_end(w);

	render_json_size(w, &r->size);

	jsonw_key(w, "auth");
	jsonw_obj_begin(w);
	/* [] when that EHLO answered without AUTH; null when it never came. */
	key_words(w, "mechanisms", r->auth.mechanisms ? r->auth.mechanisms :
	          r->ehlo.present ? "" : NULL);
	key_words(w, "mechanisms_tls", r->auth.mechanisms_tls ? r->auth.mechanisms_tls :
	          r->ehlo_tls.present ? "" : NULL);
	key_bool(w, "tested", r->auth.tested);
	key_bool(w, "accepted", r->auth.accepted);
	key_str(w, "reply", r->auth.tested ? r->auth.reply : NULL);
	/* Keys of the checks run only when asked appear only then, so the
	 * default document stays as it was. */
	if (r->auth.mechanism[0])
		key_str(w, "mechanism", r->auth.mechanism);
	if (r->auth.skipped[0])
		key_str(w, "skipped", r->auth.skipped);
	jsonw_obj_end(w);
	put_envelope(w, r->envelope);
	put_tls_required(w, &r->tls_required);
	put_injection(w, &r->injection);

	put_tls(w, &r->tls, &r->tls_versions);
	put_ptr(w, &r->ptr);
	put_dane(w, r->dane);
	put_timings(w, &r->t);
	if ((o && (o->transcript || o->explain)) || r->want_transcript)
		put_transcript(w, r);
}
