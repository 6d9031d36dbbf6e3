/* DANE for SMTP: TLSA lookup with the DNSSEC OK bit, and the RFC 7671/7672
 * matching of each record against the chain the probe recorded. The
 * resolver's validation is trusted (its AD flag), as posttls-finger does:
 * we do not validate DNSSEC ourselves. */
#include "dane.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509_crt.h>

#include "cert.h"
#include "ip.h"
#include "xmalloc.h"

bool dane_record_usable(const struct dane_tlsa *t)
{
	return (t->usage == DANE_TA || t->usage == DANE_EE) && t->selector <= DANE_SEL_SPKI &&
	       t->matching <= DANE_MT_SHA512;
}

int dane_cert_matches(const struct dane_tlsa *t, const struct cert_info *c)
{
	unsigned char md[64];
	const unsigned char *p;
	size_t n;

	if (c->der == NULL)
		return -1;
	if (t->selector == DANE_SEL_CERT) {
		p = c->der;
		n = c->der_len;
	} else if (t->selector == DANE_SEL_SPKI && c->spki_len > 0) {
		p = c->der + c->spki_off;
		n = c->spki_len;
	} else {
		return -1;
	}
	switch (t->matching) {
	case DANE_MT_FULL:
		return t->len == n && memcmp(t->data, p, n) == 0;
	case DANE_MT_SHA256:
		if (mbedtls_sha256(p, n, md, 0) != 0)
			return -1;
		return t->len == 32 && memcmp(t->data, md, 32) == 0;
	case DANE_MT_SHA512:
		if (mbedtls_sha512(p, n, md, 0) != 0)
			return -1;
		return t->len == 64 && memcmp(t->data, md, 64) == 0;
	default:
		return -1;
	}
}

/* Does chain[0..ta) verify up to chain[ta] as its trust anchor? */
static bool dane_chain_verifies(const struct cert_info *chain, size_t ta, char *why,
                                size_t whylen)
{
	mbedtls_x509_crt below, anchor;
	uint32_t flags = 0;
	bool ok = false;
	char *errs[4];
	size_t nerr, i;

	mbedtls_x509_crt_init(&below);
	mbedtls_x509_crt_init(&anchor);
	for (i = 0; i < ta; i++)
		if (chain[i].der == NULL ||
		    mbedtls_x509_crt_parse_der(&below, chain[i].der, chain[i].der_len) != 0)
			goto done;
	if (chain[ta].der == NULL ||
	    mbedtls_x509_crt_parse_der(&anchor, chain[ta].der, chain[ta].der_len) != 0)
		goto done;
	if (mbedtls_x509_crt_verify(&below, &anchor, NULL, NULL, &flags, NULL, NULL) == 0 &&
	    flags == 0) {
		ok = true;
		goto done;
	}
	nerr = cert_verify_errors(flags, errs, sizeof(errs) / sizeof(errs[0]));
	if (why != NULL)
		snprintf(why, whylen, "the chain does not verify up to the DANE-TA certificate%s%s",
		         nerr ? ": " : "", nerr ? errs[0] : "");
	for (i = 0; i < nerr; i++)
		free(errs[i]);
done:
	mbedtls_x509_crt_free(&below);
	mbedtls_x509_crt_free(&anchor);
	if (!ok && why != NULL && why[0] == '\0')
		snprintf(why, whylen, "the chain could not be parsed for DANE-TA verification");
	return ok;
}

/* RFC 7672 3.1.1 / 3.2.2: where authenticated TLSA records match, they,
 * not the WebPKI, decide whether a DANE sender trusts the server. With a
 * DANE-EE match the key is all that counts (names and dates are not
 * checked); with DANE-TA the chain ends at the published anchor, but its
 * name and dates still count. The PKIX findings that DANE overrules stay,
 * as information, saying why. */
static void dane_decides_trust(struct result *r, bool ee)
{
	static const char *const ee_codes[] = {
		"cert-untrusted", "cert-hostname-mismatch", "cert-expired", "cert-expires-soon",
		"cert-not-yet-valid"
	};
	size_t i, k;

	for (i = 0; i < r->nfindings && i < RESULT_MAX_FINDINGS; i++) {
		struct finding *f = &r->findings[i];
		bool overruled = false;
		char *msg;
		size_t len;

		for (k = 0; k < (ee ? sizeof(ee_codes) / sizeof(ee_codes[0]) : 1); k++)
			overruled |= strcmp(f->code, ee_codes[k]) == 0;
		if (!overruled || f->sev == SEV_INFO)
			continue;
		len = strlen(f->message ? f->message : "") + 160;
		msg = xmalloc(len);
		snprintf(msg, len, "DANE senders trust this server anyway (an authenticated %s "
		         "record matches, RFC 7672); for clients without DANE: %s",
		         ee ? "DANE-EE" : "DANE-TA", f->message ? f->message : "");
		free(f->message);
		f->message = msg;
		f->sev = SEV_INFO;
	}
}

bool dane_record_check(const struct dane_tlsa *t, const struct cert_info *chain,
                       size_t n, bool host_ok, bool *matched, char *why, size_t whylen)
{
	size_t i;

	*matched = false;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (n == 0)
		return false;
	if (t->usage == DANE_EE || t->usage == DANE_PKIX_EE) {
		*matched = dane_cert_matches(t, &chain[0]) == 1;
		/* RFC 7672 3.1.1: with DANE-EE the key is all that counts. */
		return *matched && t->usage == DANE_EE && dane_record_usable(t);
	}
	/* DANE-TA (and PKIX-TA, for the report only): an issuer in the chain.
	 * RFC 7671 5.2.2: the TA must be in the chain the server sends. */
	for (i = 1; i < n; i++) {
		if (dane_cert_matches(t, &chain[i]) != 1)
			continue;
		*matched = true;
		if (t->usage != DANE_TA || !dane_record_usable(t))
			return false;
		if (!dane_chain_verifies(chain, i, why, whylen))
			continue;
		/* RFC 7672 3.2.2: with DANE-TA the name is checked. */
		if (!host_ok) {
			if (why != NULL)
				snprintf(why, whylen, "the chain verifies up to the DANE-TA certificate, "
				         "but the certificate does not match the host name");
			continue;
		}
		return true;
	}
	return false;
}

static const char *usage_name(unsigned u)
{
	static const char *const names[] = { "PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE" };

	return u < 4 ? names[u] : "unknown usage";
}

static void hex_cut(char *out, size_t outlen, const unsigned char *p, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 2 < outlen; i++, o += 2)
		snprintf(out + o, 3, "%02x", p[i]);
	out[o] = '\0';
}

void dane_evaluate(struct result *r, enum dns_err e, bool ad, const ares_dns_record_t *rec)
{
	struct dane_info *di = r->dane;
	size_t i, n, usable = 0, valid = 0, unusable = 0;
	char why[160] = "", list[200] = "";
	bool ee_valid = false;

	di->checked = true;
	di->authenticated = ad;
	if (e == DNS_NXDOMAIN || e == DNS_NODATA) {
		snprintf(di->result, sizeof(di->result), "no-records");
		result_add(r, SEV_INFO, "dane-none",
		           "no TLSA records at %s (%s): this server does not use DANE%s", di->name,
		           e == DNS_NXDOMAIN ? "the name does not exist" : "no TLSA record",
		           ad ? " (the denial is DNSSEC-authenticated)" : "");
		return;
	}
	if (e != DNS_OK || rec == NULL) {
		snprintf(di->result, sizeof(di->result), "lookup-failed");
		snprintf(di->error, sizeof(di->error), "%s", dns_err_name(e));
		result_add(r, SEV_CRITICAL, "dane-lookup-failed",
		           "the TLSA lookup of %s failed (%s): that is not \"no DANE\"; senders "
		           "that use DANE defer mail to this server until it answers", di->name,
		           dns_err_name(e));
		return;
	}
	n = ares_dns_record_rr_cnt(rec, ARES_SECTION_ANSWER);
	for (i = 0; i < n; i++) {
		const ares_dns_rr_t *rr = ares_dns_record_rr_get_const(rec, ARES_SECTION_ANSWER, i);
		struct dane_tlsa t;
		struct tlsa_info *ti;
		bool matched = false, ok;
		char w[160];

		if (ares_dns_rr_get_type(rr) != ARES_REC_TYPE_TLSA)
			continue;
		di->records_total++;
		memset(&t, 0, sizeof(t));
		t.usage = ares_dns_rr_get_u8(rr, ARES_RR_TLSA_CERT_USAGE);
		t.selector = ares_dns_rr_get_u8(rr, ARES_RR_TLSA_SELECTOR);
		t.matching = ares_dns_rr_get_u8(rr, ARES_RR_TLSA_MATCH);
		t.data = ares_dns_rr_get_bin(rr, ARES_RR_TLSA_DATA, &t.len);
		if (t.data == NULL)
			t.len = 0;
		ok = dane_record_check(&t, r->tls.chain, r->tls.ok ? r->tls.nchain : 0,
		                       r->tls.hostname_match, &matched, w, sizeof(w));
		if (dane_record_usable(&t))
			usable++;
		else {
			unusable++;
			if (strlen(list) + 40 < sizeof(list))
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%u %u %u (%s)",
				         list[0] ? ", " : "", t.usage, t.selector, t.matching,
				         usage_name(t.usage));
		}
		if (ok)
			valid++;
		if (ok && t.usage == DANE_EE)
			ee_valid = true;
		if (matched && !ok && w[0] && why[0] == '\0')
			snprintf(why, sizeof(why), "%s", w);
		if (di->nrecords < RESULT_MAX_TLSA) {
			ti = &di->records[di->nrecords++];
			ti->usage = t.usage;
			ti->selector = t.selector;
			ti->matching = t.matching;
			ti->data_len = t.len;
			hex_cut(ti->data, sizeof(ti->data), t.data ? t.data : (const unsigned char *)"", t.len);
			ti->usable = dane_record_usable(&t);
			ti->matched = matched;
		}
	}
	if (di->records_total == 0) {
		snprintf(di->result, sizeof(di->result), "no-records");
		result_add(r, SEV_INFO, "dane-none",
		           "no TLSA records at %s: this server does not use DANE", di->name);
		return;
	}
	if (unusable > 0)
		result_add(r, SEV_WARNING, "dane-unusable-records",
		           "%zu TLSA record%s at %s cannot be used for SMTP (RFC 7672 3.1.3: only "
		           "DANE-TA(2) and DANE-EE(3) with known selector and matching type): %s",
		           unusable, unusable == 1 ? "" : "s", di->name, list);
	if (usable == 0) {
		snprintf(di->result, sizeof(di->result), "unusable");
		if (!ad)
			result_add(r, SEV_WARNING, "dane-unsigned",
			           "the TLSA answer for %s is not DNSSEC-authenticated (the resolver "
			           "did not set AD): DANE senders ignore these records", di->name);
		return;
	}
	/* Unsigned records count for nothing (RFC 7672 2.2): the matching is
	 * information inside dane-unsigned, never dane-valid or dane-mismatch. */
	if (!ad) {
		bool no_tls = !r->tls.ok || r->tls.nchain == 0;

		snprintf(di->result, sizeof(di->result), "%s", no_tls ? "unsigned-no-tls" :
		         valid > 0 ? "unsigned-match" : "unsigned-mismatch");
		if (!no_tls && valid == 0 && why[0])
			snprintf(di->error, sizeof(di->error), "%s", why);
		if (no_tls)
			result_add(r, SEV_WARNING, "dane-unsigned",
			           "the TLSA answer for %s is not DNSSEC-authenticated (the resolver "
			           "did not set AD): DANE senders ignore these records; the server "
			           "presented no certificate to match them against", di->name);
		else if (valid > 0)
			result_add(r, SEV_WARNING, "dane-unsigned",
			           "the TLSA answer for %s is not DNSSEC-authenticated (the resolver "
			           "did not set AD): DANE senders ignore these records; for "
			           "information only, %zu of %zu usable record%s match%s the "
			           "certificate chain", di->name, valid, usable, usable == 1 ? "" : "s",
			           valid == 1 ? "es" : "");
		else
			result_add(r, SEV_WARNING, "dane-unsigned",
			           "the TLSA answer for %s is not DNSSEC-authenticated (the resolver "
			           "did not set AD): DANE senders ignore these records; for "
			           "information only, none of the %zu usable record%s matches the "
			           "certificate chain%s%s", di->name, usable, usable == 1 ? "" : "s",
			           why[0] ? ": " : "", why);
		return;
	}
	if (!r->tls.ok || r->tls.nchain == 0) {
		snprintf(di->result, sizeof(di->result), "no-tls");
		result_add(r, SEV_CRITICAL, "dane-mismatch",
		           "%s publishes TLSA records but the server presented no certificate "
		           "(no TLS): DANE senders will not deliver to it", di->name);
		return;
	}
	if (valid > 0) {
		snprintf(di->result, sizeof(di->result), "valid");
		result_add(r, SEV_INFO, "dane-valid",
		           "%zu of %zu usable DNSSEC-authenticated TLSA record%s at %s match%s "
		           "the certificate chain", valid, usable, usable == 1 ? "" : "s",
		           di->name, valid == 1 ? "es" : "");
		dane_decides_trust(r, ee_valid);
		return;
	}
	snprintf(di->result, sizeof(di->result), "mismatch");
	if (why[0])
		snprintf(di->error, sizeof(di->error), "%s", why);
	result_add(r, SEV_CRITICAL, "dane-mismatch",
	           "none of the %zu usable TLSA record%s at %s matches the certificate chain%s%s: "
	           "DANE senders will refuse to deliver to this server", usable,
	           usable == 1 ? "" : "s", di->name, why[0] ? "; " : "", why);
}

void dane_drop_der(struct result *r)
{
	if (r->keep_der)
		return;                  /* --showcerts prints it */
	for (size_t i = 0; i < r->tls.nchain; i++)
		cert_info_drop_der(&r->tls.chain[i]);
}

struct dane_check {
	struct loop *loop;                /* borrowed */
	struct dns *dns;                  /* borrowed */
	struct result *r;                 /* borrowed */
	char host_name[sizeof(((struct dane_info *)0)->name)];  /* _port._tcp.HOST */
	struct dns_query *q;              /* owned until its callback */
	struct loop_timer deliver;
	dane_done_cb cb;
	void *arg;
	bool answered;
};

static void dane_deliver(struct loop *l, void *arg)
{
	struct dane_check *c = arg;

	(void)l;
	c->cb(c->arg);
}

static void dane_on_tlsa(void *arg, enum dns_err e, bool ad, const ares_dns_record_t *rec)
{
	struct dane_check *c = arg;

	c->q = NULL;
	c->answered = true;
	if (e == DNS_CANCELLED)
		return;
	dane_evaluate(c->r, e, ad, rec);
	dane_drop_der(c->r);
	result_finish(c->r);
	loop_timer_set(c->loop, &c->deliver, 0);
}

static void tlsa_name(char *out, size_t outlen, uint16_t port, const char *host)
{
	size_t n;

	snprintf(out, outlen, "_%u._tcp.%s", (unsigned)port, host);
	n = strlen(out);
	if (n > 1 && out[n - 1] == '.')
		out[n - 1] = '\0';
}

/* The answer at the CNAME-expanded name: kept when it is authenticated and
 * holds records, else the host name's own TLSA records are asked for. */
static void dane_on_alias(void *arg, enum dns_err e, bool ad, const ares_dns_record_t *rec)
{
	struct dane_check *c = arg;
	struct dns_query *q;

	c->q = NULL;
	if (e == DNS_CANCELLED)
		return;
	if (e == DNS_OK && ad) {
		dane_on_tlsa(c, e, ad, rec);
		return;
	}
	snprintf(c->r->dane->name, sizeof(c->r->dane->name), "%s", c->host_name);
	q = dns_query_dnssec(c->dns, c->r->dane->name, ARES_REC_TYPE_TLSA, dane_on_tlsa, c);
	if (q != NULL)
		c->q = q;
	else if (!c->answered) {
		dane_evaluate(c->r, DNS_ERROR, false, NULL);
		dane_drop_der(c->r);
		result_finish(c->r);
		loop_timer_set(c->loop, &c->deliver, 0);
	}
}

struct dane_check *dane_check_start(struct loop *l, struct dns *dns, const char *host,
                                    const char *alias, uint16_t port, struct result *r,
                                    dane_done_cb cb, void *arg)
{
	struct dane_check *c = xcalloc(1, sizeof(*c));
	bool via_alias = alias != NULL && alias[0] != '\0' && !dns_name_eq(alias, host);

	c->loop = l;
	c->dns = dns;
	c->r = r;
	c->cb = cb;
	c->arg = arg;
	if (r->dane == NULL)
		r->dane = xcalloc(1, sizeof(*r->dane));
	loop_timer_init(&c->deliver, dane_deliver, c);
	if (ip_literal(host, NULL) != 0) {
		/* RFC 7672 2.2: TLSA records hang off the MX host *name*. */
		result_add(r, SEV_INFO, "dane-not-applicable",
		           "DANE needs a host name to look up TLSA records; %s is an address",
		           host);
		dane_drop_der(r);
		result_finish(r);
		loop_timer_set(l, &c->deliver, 0);
		return c;
	}
	tlsa_name(c->host_name, sizeof(c->host_name), port, host);
	if (via_alias)
		tlsa_name(r->dane->name, sizeof(r->dane->name), port, alias);
	else
		snprintf(r->dane->name, sizeof(r->dane->name), "%s", c->host_name);
	{
		/* A cached answer calls back from inside the call and may start
		 * the next query: keep the handle only when one is pending. */
		struct dns_query *q = dns_query_dnssec(dns, r->dane->name, ARES_REC_TYPE_TLSA,
		                                       via_alias ? dane_on_alias : dane_on_tlsa, c);

		if (q != NULL)
			c->q = q;
	}
	if (c->q == NULL && !c->answered) {
		/* Not queued: the lookup could not even start. */
		dane_evaluate(r, DNS_ERROR, false, NULL);
		dane_drop_der(r);
		result_finish(r);
		loop_timer_set(l, &c->deliver, 0);
	}
	return c;
}

void dane_check_free(struct dane_check *c)
{
	if (c == NULL)
		return;
	dns_cancel(c->q);
	loop_timer_stop(c->loop, &c->deliver);
	free(c);
}
