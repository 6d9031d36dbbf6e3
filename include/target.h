/* Target spec parser: host | host:port | [v6]:port | smtp:// | smtps:// |
 * submission:// | user@domain | domain. Pure and fuzzable. */
#ifndef SP_TARGET_H
#define SP_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "result.h"

struct target {
	char host[254];          /* name (lower-cased, no trailing dot, A-labels) or IP literal */
	char host_unicode[254];  /* the name with U-labels (IDNA2008) when it has any, else "" */
	uint16_t port;           /* 0 when not given */
	bool port_given;         /* written in the target (not a scheme default) */
	bool mode_set;           /* scheme fixed a TLS mode */
	enum tls_mode mode;
	int literal;             /* 0, AF_INET or AF_INET6 when host is an IP literal */
	bool mail_domain;        /* given as user@domain: implies --mx */
	bool utf8_local;         /* user@domain with a non-ASCII local part (needs SMTPUTF8) */
};

/* 0 on success; -1 with a one-line reason in err. */
int target_parse(const char *spec, struct target *t, char *err, size_t errlen);

/* Which of n shards a target belongs to (--shard), 0..n-1: FNV-1a (64-bit)
 * of the host as target_parse gives it (lower case, no trailing dot; a
 * user@domain or --mx target: the domain, so all its MX hosts go with it),
 * or of the whole spec if it does not parse; modulo n. The same on every
 * machine and run. */
unsigned target_shard(const char *spec, unsigned n);

/* Strict decimal port 1..65535; 0 on success. */
int target_port(const char *s, uint16_t *port);

#endif
