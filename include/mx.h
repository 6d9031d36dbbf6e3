/* A mail domain's routing audit (--mx): MX lookup (null MX, implicit MX),
 * every MX host's addresses, one probe per host (or per address with
 * --all-addresses) in flight together, reverse DNS of each address probed,
 * and a summary that names what differs between hosts and families. */
#ifndef SP_MX_H
#define SP_MX_H

#include "dns.h"
#include "mtasts.h"
#include "result.h"
#include "probe.h"

#define MX_MAX_HOSTS 16

struct mx_host {
	unsigned preference;
	char name[256];
	bool ip_literal;                  /* the MX names an address (RFC 5321 forbids) */
	bool cname;                       /* the MX host is an alias */
	char canonical[256];              /* where the alias chain ended, "" none */
	bool from_additional;             /* addresses came with the MX answer */
	bool resolved;                    /* the address lookup has answered */
	enum dns_err e4, e6;
	struct dns_addr addrs[DNS_MAX_ADDRS];
	size_t naddrs;
	size_t probes, answered;          /* probes run / that reached SMTP */
	bool has4, has6, ok4, ok6;        /* families present / that answered */
	/* --mta-sts: this host against the domain's policy */
	bool sts_checked;                 /* a valid policy was there to compare with */
	bool sts_match;                   /* an mx pattern of the policy matches the name */
	bool sts_cert_judged;             /* some probe of it reached SMTP */
	bool sts_cert_ok;                 /* every such probe had TLS with a valid certificate */
};

struct domain_result {
	char *target;                     /* owned: as given */
	char *domain;                     /* owned (A-labels) */
	char *domain_unicode;             /* owned: its U-label form (IDN), NULL when none */
	bool utf8_local;                  /* a user@domain target whose local part is not ASCII */
	enum status status;
	struct finding findings[RESULT_MAX_FINDINGS];
	size_t nfindings;
	bool null_mx, implicit_mx;
	struct mx_host mx[MX_MAX_HOSTS];
	size_t nmx;
	struct result *probes;            /* owned array */
	size_t nprobes;
	double dns_ms, total_ms;
	/* summary */
	size_t hosts_answered, addresses_probed, addresses_answered, starttls_count;
	struct mtasts_info mta_sts;       /* --mta-sts */
	struct tlsrpt_info tls_rpt;       /* --mta-sts */
};

void domain_result_init(struct domain_result *d);
void domain_result_clear(struct domain_result *d);

struct mx_audit;
typedef void (*mx_done_cb)(void *arg, struct mx_audit *a);

struct mx_audit *mx_audit_new(const struct probe_env *env, const char *spec,
                              const char *domain, struct domain_result *d,
                              mx_done_cb cb, void *arg);
void mx_audit_start(struct mx_audit *a);
/* Ends the audit now (the run's deadline): lookups cancelled, probes
 * ended, findings say what was cut short; the done callback follows. */
void mx_audit_abort(struct mx_audit *a, const char *why);
void mx_audit_free(struct mx_audit *a);

#endif
