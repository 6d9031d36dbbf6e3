/* DANE for SMTP (RFC 6698, 7671, 7672): the TLSA records at _PORT._tcp.HOST,
 * asked for with the DNSSEC OK bit, matched against the chain a probe saw.
 * The matching is pure (tables of certificates in, verdicts out); the
 * lookup runs on the loop after the probe's dialogue has ended. */
#ifndef SP_DANE_H
#define SP_DANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dns.h"
#include "loop.h"
#include "result.h"

/* TLSA fields (RFC 6698 2.1, RFC 7218 acronyms). */
enum { DANE_PKIX_TA = 0, DANE_PKIX_EE = 1, DANE_TA = 2, DANE_EE = 3 };
enum { DANE_SEL_CERT = 0, DANE_SEL_SPKI = 1 };
enum { DANE_MT_FULL = 0, DANE_MT_SHA256 = 1, DANE_MT_SHA512 = 2 };

struct dane_tlsa {
	unsigned usage, selector, matching;
	const unsigned char *data;        /* borrowed */
	size_t len;
};

/* Does the association data match this certificate (selector, matching
 * type)? 1 yes, 0 no, -1 cannot tell (unknown selector or matching type,
 * or the certificate's DER was not kept). */
int dane_cert_matches(const struct dane_tlsa *t, const struct cert_info *c);

/* One record against a chain (chain[0] the leaf), RFC 7672 3.1:
 * DANE-EE(3) matches the leaf only, names and dates ignored; DANE-TA(2)
 * matches an issuer in the chain (not the leaf), and then the chain below
 * it must verify up to it and the leaf must match host_ok (the caller's
 * name check). *matched: the data matched some eligible certificate;
 * returns true when the record authenticates the server. why (may be
 * NULL) says what failed when matched but not authenticated. PKIX usages
 * (0/1) and unknown parameters never authenticate (unusable for SMTP). */
bool dane_record_check(const struct dane_tlsa *t, const struct cert_info *chain,
                       size_t n, bool host_ok, bool *matched, char *why, size_t whylen);

/* Is the record usable for SMTP (usage 2/3, selector 0/1, matching 0..2)? */
bool dane_record_usable(const struct dane_tlsa *t);

/* Evaluates the TLSA records in rec (as answered) against r->tls and writes
 * r->dane and the dane-* findings of r. e / ad: the lookup's outcome. */
void dane_evaluate(struct result *r, enum dns_err e, bool ad, const ares_dns_record_t *rec);

/* The asynchronous check: looks up _port._tcp.host with DO, evaluates,
 * (alias, when the host name is a CNAME: RFC 7672 2.2.2 asks for TLSA at
 * the expanded name first, when that expansion is secure; we try it first
 * and keep it when its answer is authenticated and has records, else fall
 * back to the host name itself; NULL: no alias),
 * drops the chain's kept DER, recomputes r's status, and calls cb from the
 * loop (never from inside dane_check_start). The owner frees the check
 * after the callback has returned. */
struct dane_check;
typedef void (*dane_done_cb)(void *arg);
struct dane_check *dane_check_start(struct loop *l, struct dns *dns, const char *host,
                                    const char *alias, uint16_t port, struct result *r,
                                    dane_done_cb cb, void *arg);
void dane_check_free(struct dane_check *c);

/* Frees the DER kept in r's chain (no longer needed once DANE is done). */
void dane_drop_der(struct result *r);

#endif
