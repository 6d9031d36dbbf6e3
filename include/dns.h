/* One c-ares channel per run, driven by the loop through the socket-state
 * callback; no c-ares thread. Queries report a classified outcome so that
 * NXDOMAIN, NODATA, SERVFAIL and timeouts become distinct findings. */
#ifndef SP_DNS_H
#define SP_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <ares.h>
#include "loop.h"

enum dns_err {
	DNS_OK = 0,
	DNS_NXDOMAIN,            /* the name does not exist */
	DNS_NODATA,              /* the name exists, no record of that type */
	DNS_SERVFAIL,
	DNS_REFUSED,
	DNS_TIMEOUT,
	DNS_BADRESP,             /* malformed or mismatched answer */
	DNS_ERROR,               /* anything else (no server, no memory, ...) */
	DNS_CANCELLED
};
const char *dns_err_name(enum dns_err e);

#define DNS_MAX_ADDRS 16

struct dns_addr {
	int family;              /* AF_INET / AF_INET6 */
	unsigned char addr[16];
};

struct dns;
struct dns_query;

/* servers: "ip[:port],..." in c-ares csv form, or NULL for resolv.conf. */
struct dns *dns_new(struct loop *l, const char *servers, double timeout_ms,
                    char *err, size_t errlen);
void dns_free(struct dns *d);

/* A raw record query; rec is NULL unless the outcome is DNS_OK/DNS_NODATA. */
typedef void (*dns_rr_cb)(void *arg, enum dns_err e, const ares_dns_record_t *rec);
struct dns_query *dns_query_rr(struct dns *d, const char *name,
                               ares_dns_rec_type_t type, dns_rr_cb cb, void *arg);

/* The same with the EDNS0 DNSSEC OK bit (RFC 3225) and AD set in the query
 * (RFC 6840 5.7), for answers whose authenticity matters (TLSA). The
 * outcome is classified from the answer's RCODE as for dns_query_rr;
 * *ad tells whether the resolver said it validated the answer (its AD
 * flag): we trust the resolver, as posttls-finger does. */
typedef void (*dns_sec_cb)(void *arg, enum dns_err e, bool ad, const ares_dns_record_t *rec);
struct dns_query *dns_query_dnssec(struct dns *d, const char *name,
                                   ares_dns_rec_type_t type, dns_sec_cb cb, void *arg);

/* SRV records (RFC 2782) of an answer, best first: lowest priority, then
 * highest weight (a deterministic stand-in for the weighted random pick, so
 * reports are reproducible). At most max kept, the best ones however many
 * the answer holds; *total counts them all. A single record whose target is
 * "." says the service is explicitly not offered (RFC 2782): *refused. */
#define DNS_MAX_SRV 8
struct dns_srv {
	unsigned priority, weight;
	unsigned short port;
	char target[256];             /* no trailing dot, "" for "." */
};
size_t dns_srv_collect(const ares_dns_record_t *rec, const char *name, struct dns_srv *out,
                       size_t max, size_t *total, bool *refused);

/* The outcome of an address lookup. */
struct dns_answer {
	enum dns_err e4, e6;         /* per family; DNS_NODATA when not asked */
	const struct dns_addr *addrs;/* AAAA first then A, deduplicated */
	size_t n;                    /* at most DNS_MAX_ADDRS */
	bool cname;                  /* the name is an alias (CNAME) */
	char canonical[256];         /* the name the alias chain ended at */
};

/* A and/or AAAA in parallel; one callback when both are in. */
typedef void (*dns_addr_cb)(void *arg, const struct dns_answer *a);
struct dns_query *dns_resolve(struct dns *d, const char *name, bool want4,
                              bool want6, dns_addr_cb cb, void *arg);

/* The caller no longer wants the answer: the callback will not be called;
 * memory is released when c-ares finishes with the query. */
void dns_cancel(struct dns_query *q);

/* This host's FQDN for EHLO: gethostname(), qualified through /etc/hosts
 * when it has no dot (never through DNS). */
void dns_local_fqdn(struct dns *d, char *out, size_t outlen);

/* Same DNS name? Case-insensitive, a trailing dot ignored. */
bool dns_name_eq(const char *x, const char *y);

/* Finding code for a failed lookup: "dns-nxdomain", "dns-timeout", ... */
const char *dns_err_code(enum dns_err e);

/* "c-ares 1.34.5" */
const char *dns_version(void);

#endif
