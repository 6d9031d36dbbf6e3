/* A mail domain's report (--mx): the routing summary first — MX hosts in
 * preference order, which answered, STARTTLS, what differs — then the full
 * report of every probe. Reads a finished domain_result only. */
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "jsonw.h"
#include "mx.h"
#include "render.h"
#include "render_util.h"

static const char *word(enum status st)
{
	static const char *const w[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

	return (unsigned)st <= ST_UNKNOWN ? w[st] : "UNKNOWN";
}

static void host_line(FILE *f, const struct domain_result *d, size_t h)
{
	const struct mx_host *mh = &d->mx[h];
	char addrs[200] = "", safe[300];
	size_t k;

	for (k = 0; k < mh->naddrs; k++) {
		char a[64];

		conn_addr_text(&mh->addrs[k], a, sizeof(a));
		render_appendf(addrs, sizeof(addrs), "%s%s", k ? ", " : "", a);
	}
	render_safe_buf(safe, sizeof(safe), mh->name, 255);
	fprintf(f, "  %5u  %s%s%s\n", mh->preference, safe,
	        mh->cname ? " (alias: CNAME)" : "", mh->ip_literal ? " (an IP address)" : "");
	if (mh->naddrs == 0)
		fprintf(f, "         no address\n");
	else {
		char line[400];

		render_fmt(line, sizeof(line), "%s%s", addrs,
		           mh->from_additional ? " (from the MX answer)" : "");
		fputs("         ", f);
		render_wrap(f, line, 9, 9);
	}
	if (mh->probes > 0)
		fprintf(f, "         %zu of %zu probe%s reached SMTP%s%s\n", mh->answered, mh->probes,
		        mh->probes == 1 ? "" : "s",
		        mh->has6 ? (mh->ok6 ? "; IPv6 answers" : "; IPv6 does not answer") : "",
		        mh->has4 ? (mh->ok4 ? "; IPv4 answers" : "; IPv4 does not answer") : "");
}

/* --mta-sts: the policy and each MX host against it; TLS-RPT. */
static void sts_text(FILE *f, const struct domain_result *d)
{
	const struct mtasts_info *s = &d->mta_sts;
	const struct tlsrpt_info *t = &d->tls_rpt;
	char line[700], safe[1100];
	size_t i;

	if (!s->checked)
		return;
	fprintf(f, "\nMTA-STS\n");
	if (!s->txt_found) {
		fprintf(f, "  no _mta-sts TXT record (v=STSv1): no policy\n");
	} else {
		render_safe_buf(safe, sizeof(safe), s->txt, 255);
		render_fmt(line, sizeof(line), "record   %s%s", safe, s->txt_valid ? "" : " (not valid)");
		fputs("  ", f);
		render_wrap(f, line, 2, 11);
	}
	if (s->url[0]) {
		render_fmt(line, sizeof(line), "policy   %s: %s", s->url,
		           s->policy_valid ? "fetched and valid" : s->fetched ? "fetched, not valid" :
		           "not fetched");
		fputs("  ", f);
		render_wrap(f, line, 2, 11);
	}
	if (s->error[0]) {
		render_safe_buf(safe, sizeof(safe), s->error, 255);
		render_fmt(line, sizeof(line), "problem  %s", safe);
		fputs("  ", f);
		render_wrap(f, line, 2, 11);
	}
	if (s->policy_valid) {
		const struct mtasts_policy *p = &s->policy;

		fprintf(f, "  mode     %s, max_age %u s (%.1f days)\n", mtasts_mode_name(p->mode),
		        p->max_age, p->max_age / 86400.0);
		for (i = 0; i < p->nmx; i++) {
			render_safe_buf(safe, sizeof(safe), p->mx[i], 253);
			fprintf(f, "  mx       %s\n", safe);
		}
		for (i = 0; i < d->nmx; i++) {
			const struct mx_host *mh = &d->mx[i];

			if (!mh->sts_checked)
				continue;
			render_safe_buf(safe, sizeof(safe), mh->name, 253);
			fprintf(f, "  %-8s %s: %s, %s\n", i == 0 ? "hosts" : "", safe,
			        mh->sts_match ? "listed" : "NOT listed",
			        !mh->sts_cert_judged ? "certificate not seen (no answer)" :
			        mh->sts_cert_ok ? "valid certificate" : "NO valid certificate");
		}
	}
	if (t->checked) {
		fprintf(f, "\nTLS-RPT\n");
		if (!t->found) {
			fprintf(f, "  no _smtp._tls TXT record (v=TLSRPTv1): no TLS failure reports\n");
		} else {
			render_safe_buf(safe, sizeof(safe), t->txt, 511);
			render_fmt(line, sizeof(line), "record   %s%s", safe, t->valid ? "" : " (not valid)");
			fputs("  ", f);
			render_wrap(f, line, 2, 11);
			for (i = 0; i < t->rec.nrua; i++) {
				render_safe_buf(safe, sizeof(safe), t->rec.rua[i], 255);
				fprintf(f, "  reports  %s\n", safe);
			}
		}
		if (t->error[0]) {
			render_safe_buf(safe, sizeof(safe), t->error, 159);
			fprintf(f, "  problem  %s\n", safe);
		}
	}
}

static void sts_json(struct jsonw *w, const struct domain_result *d)
{
	const struct mtasts_info *s = &d->mta_sts;
	const struct tlsrpt_info *t = &d->tls_rpt;
	size_t i;

	/* --mta-sts only: the keys are there when the check was asked for. */
	if (!s->checked)
		return;
	jsonw_key(w, "mta_sts");
	{
		jsonw_obj_begin(w);
		jsonw_key(w, "result");
		jsonw_str(w, s->result[0] ? s->result : NULL);
		jsonw_key(w, "record");
		jsonw_str(w, s->txt_found ? s->txt : NULL);
		jsonw_key(w, "record_valid");
		jsonw_bool(w, s->txt_valid);
		jsonw_key(w, "id");
		jsonw_str(w, s->id[0] ? s->id : NULL);
		jsonw_key(w, "policy_url");
		jsonw_str(w, s->url[0] ? s->url : NULL);
		jsonw_key(w, "http_status");
		if (s->http_status)
			jsonw_int(w, s->http_status);
		else
			jsonw_null(w);
		jsonw_key(w, "content_type");
		jsonw_str(w, s->content_type[0] ? s->content_type : NULL);
		jsonw_key(w, "error");
		jsonw_str(w, s->error[0] ? s->error : NULL);
		jsonw_key(w, "policy");
		if (!s->policy_valid) {
			jsonw_null(w);
		} else {
			jsonw_obj_begin(w);
			jsonw_key(w, "version");
			jsonw_str(w, "STSv1");
			jsonw_key(w, "mode");
			jsonw_str(w, mtasts_mode_name(s->policy.mode));
			jsonw_key(w, "max_age");
			jsonw_uint(w, s->policy.max_age);
			jsonw_key(w, "mx");
			jsonw_arr_begin(w);
			for (i = 0; i < s->policy.nmx; i++)
				jsonw_str(w, s->policy.mx[i]);
			jsonw_arr_end(w);
			jsonw_obj_end(w);
		}
		jsonw_key(w, "hosts");
		jsonw_arr_begin(w);
		for (i = 0; i < d->nmx; i++) {
			const struct mx_host *mh = &d->mx[i];

			if (!mh->sts_checked)
				continue;
			jsonw_obj_begin(w);
			jsonw_key(w, "host");
			jsonw_str(w, mh->name);
			jsonw_key(w, "matches_policy");
			jsonw_bool(w, mh->sts_match);
			jsonw_key(w, "certificate_valid");
			if (mh->sts_cert_judged)
				jsonw_bool(w, mh->sts_cert_ok);
			else
				jsonw_null(w);
			jsonw_obj_end(w);
		}
		jsonw_arr_end(w);
		jsonw_obj_end(w);
	}
	jsonw_key(w, "tls_rpt");
	if (!t->checked) {
		jsonw_null(w);
		return;
	}
	jsonw_obj_begin(w);
	jsonw_key(w, "record");
	jsonw_str(w, t->found ? t->txt : NULL);
	jsonw_key(w, "valid");
	jsonw_bool(w, t->valid);
	jsonw_key(w, "rua");
	jsonw_arr_begin(w);
	for (i = 0; i < t->rec.nrua; i++)
		jsonw_str(w, t->rec.rua[i]);
	jsonw_arr_end(w);
	jsonw_key(w, "error");
	jsonw_str(w, t->error[0] ? t->error : NULL);
	jsonw_obj_end(w);
}

void render_domain_text(FILE *f, const struct domain_result *d, const struct render_opts *o)
{
	char safe[300];
	size_t i;

	render_safe_buf(safe, sizeof(safe), d->domain ? d->domain : "", 255);
	if (d->domain_unicode != NULL) {
		char uni[300];

		render_safe_buf(uni, sizeof(uni), d->domain_unicode, 255);
		fprintf(f, "Mail domain %s (%s): %s%s%s\n\n", uni, safe,
		        render_status_color(o, d->status), word(d->status), render_reset(o));
	} else {
		fprintf(f, "Mail domain %s: %s%s%s\n\n", safe, render_status_color(o, d->status),
		        word(d->status), render_reset(o));
	}
	fprintf(f, "Mail routing\n");
	if (d->null_mx)
		fprintf(f, "  null MX (RFC 7505): this domain accepts no mail\n");
	else if (d->nmx == 0)
		fprintf(f, "  no MX host could be determined\n");
	else {
		if (d->implicit_mx)
			fprintf(f, "  no MX records: mail goes to the domain's own address "
			        "(implicit MX)\n");
		fprintf(f, "  pref   host\n");
		for (i = 0; i < d->nmx; i++)
			host_line(f, d, i);
	}
	if (d->dns_ms >= 0)
		fprintf(f, "  DNS    %.1f ms\n", d->dns_ms);
	sts_text(f, d);
	fprintf(f, "\nSummary\n");
	if (!d->null_mx && d->nmx > 0) {
		size_t answered = 0;

		for (i = 0; i < d->nmx; i++)
			if (d->mx[i].answered > 0)
				answered++;
		fprintf(f, "  %zu of %zu MX host%s answered; %zu of %zu address%s probed answered\n",
		        answered, d->nmx, d->nmx == 1 ? "" : "s", d->addresses_answered,
		        d->addresses_probed, d->addresses_probed == 1 ? "" : "es");
		fprintf(f, "  STARTTLS on %zu of %zu that answered\n", d->starttls_count,
		        d->addresses_answered);
	}
	if (d->nfindings == 0)
		fprintf(f, "  no domain-level problems\n");
	for (i = 0; i < d->nfindings; i++) {
		const struct finding *fd = &d->findings[i];
		char line[4 * 400 + 128], msg[4 * 400 + 8];

		/* Domain findings quote DNS and HTTP text (an MX's AUTH list, an
		 * MTA-STS Location or mode): through the sanitiser like all else. */
		render_safe_buf(msg, sizeof(msg), fd->message ? fd->message : "", 400);
		render_fmt(line, sizeof(line), "[%s] %s: %s",
		           fd->sev == SEV_CRITICAL ? "CRITICAL" : fd->sev == SEV_WARNING ?
		           "WARNING" : "INFO", fd->code, msg);
		fprintf(f, "  %s", render_sev_color(o, fd->sev));
		render_wrap(f, line, 2, 4);
		fputs(render_reset(o), f);
	}
	/* One line per probe, so the domain's verdict is explained here. */
	if (d->nprobes > 0)
		fprintf(f, "\nProbes\n");
	for (i = 0; i < d->nprobes; i++) {
		const struct result *r = &d->probes[i];
		const struct finding *worst = NULL;
		char line[600], host[300];
		size_t k;

		for (k = 0; k < r->nfindings; k++)
			if (worst == NULL || r->findings[k].sev > worst->sev)
				worst = &r->findings[k];
		render_safe_buf(host, sizeof(host), r->host ? r->host : "?", 255);
		render_fmt(line, sizeof(line), "%s%s%s%s: %s%s%s", host,
		           r->address[0] ? " (" : "", r->address, r->address[0] ? ")" : "",
		           word(r->status), worst && worst->sev > SEV_INFO ? ", " : "",
		           worst && worst->sev > SEV_INFO ? worst->code : "");
		fprintf(f, "  %s", render_status_color(o, r->status));
		render_wrap(f, line, 2, 4);
		fputs(render_reset(o), f);
	}
	for (i = 0; i < d->nprobes; i++) {
		fprintf(f, "\n--- probe %zu of %zu ", i + 1, d->nprobes);
		fputs("------------------------------------------------------------\n", f);
		if (o->explain)
			render_explain(f, &d->probes[i], o);
		else
			render_text(f, &d->probes[i], o);
	}
}

void render_domain_json(FILE *f, const struct domain_result *d, const struct render_opts *o)
{
	struct jsonw w;
	size_t i, k;

	jsonw_init(&w, f, o && o->pretty);
	jsonw_obj_begin(&w);
	jsonw_key(&w, "schema");
	jsonw_str(&w, "smtp-probe/1");
	jsonw_key(&w, "target");
	jsonw_str(&w, d->target);
	jsonw_key(&w, "domain");
	jsonw_str(&w, d->domain);
	jsonw_key(&w, "domain_unicode");
	jsonw_str(&w, d->domain_unicode);
	jsonw_key(&w, "status");
	jsonw_str(&w, status_name(d->status));
	jsonw_key(&w, "findings");
	jsonw_arr_begin(&w);
	for (i = 0; i < d->nfindings; i++) {
		jsonw_obj_begin(&w);
		jsonw_key(&w, "severity");
		jsonw_str(&w, severity_name(d->findings[i].sev));
		jsonw_key(&w, "code");
		jsonw_str(&w, d->findings[i].code);
		jsonw_key(&w, "message");
		jsonw_str(&w, d->findings[i].message ? d->findings[i].message : "");
		jsonw_obj_end(&w);
	}
	jsonw_arr_end(&w);
	jsonw_key(&w, "null_mx");
	jsonw_bool(&w, d->null_mx);
	jsonw_key(&w, "implicit_mx");
	jsonw_bool(&w, d->implicit_mx);
	jsonw_key(&w, "mx");
	jsonw_arr_begin(&w);
	for (i = 0; i < d->nmx; i++) {
		const struct mx_host *mh = &d->mx[i];

		jsonw_obj_begin(&w);
		jsonw_key(&w, "preference");
		jsonw_uint(&w, mh->preference);
		jsonw_key(&w, "host");
		jsonw_str(&w, mh->name);
		jsonw_key(&w, "cname");
		jsonw_bool(&w, mh->cname);
		jsonw_key(&w, "ip_literal");
		jsonw_bool(&w, mh->ip_literal);
		jsonw_key(&w, "addresses");
		jsonw_arr_begin(&w);
		for (k = 0; k < mh->naddrs; k++) {
			char a[64];

			conn_addr_text(&mh->addrs[k], a, sizeof(a));
			jsonw_str(&w, a);
		}
		jsonw_arr_end(&w);
		jsonw_key(&w, "addresses_from_mx_answer");
		jsonw_bool(&w, mh->from_additional);
		jsonw_obj_end(&w);
	}
	jsonw_arr_end(&w);
	jsonw_key(&w, "summary");
	jsonw_obj_begin(&w);
	jsonw_key(&w, "hosts");
	jsonw_uint(&w, d->nmx);
	jsonw_key(&w, "hosts_answered");
	jsonw_uint(&w, d->hosts_answered);
	jsonw_key(&w, "addresses_probed");
	jsonw_uint(&w, d->addresses_probed);
	jsonw_key(&w, "addresses_answered");
	jsonw_uint(&w, d->addresses_answered);
	jsonw_key(&w, "starttls");
	jsonw_uint(&w, d->starttls_count);
	jsonw_key(&w, "hosts_detail");
	jsonw_arr_begin(&w);
	for (i = 0; i < d->nmx; i++) {
		const struct mx_host *mh = &d->mx[i];

		jsonw_obj_begin(&w);
		jsonw_key(&w, "host");
		jsonw_str(&w, mh->name);
		jsonw_key(&w, "probes");
		jsonw_uint(&w, mh->probes);
		jsonw_key(&w, "answered");
		jsonw_uint(&w, mh->answered);
		jsonw_key(&w, "ipv4");
		if (mh->has4)
			jsonw_bool(&w, mh->ok4);
		else
			jsonw_null(&w);
		jsonw_key(&w, "ipv6");
		if (mh->has6)
			jsonw_bool(&w, mh->ok6);
		else
			jsonw_null(&w);
		jsonw_obj_end(&w);
	}
	jsonw_arr_end(&w);
	jsonw_obj_end(&w);
	sts_json(&w, d);
	jsonw_key(&w, "timings");
	jsonw_obj_begin(&w);
	jsonw_key(&w, "dns_ms");
	if (d->dns_ms >= 0)
		jsonw_num(&w, d->dns_ms);
	else
		jsonw_null(&w);
	jsonw_key(&w, "total_ms");
	if (d->total_ms >= 0)
		jsonw_num(&w, d->total_ms);
	else
		jsonw_null(&w);
	jsonw_obj_end(&w);
	jsonw_key(&w, "probes");
	jsonw_arr_begin(&w);
	for (i = 0; i < d->nprobes; i++)
		render_json_object(&w, &d->probes[i], o);
	jsonw_arr_end(&w);
	jsonw_obj_end(&w);
	putc('\n', f);
}
