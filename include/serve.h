/* Exporter mode (--serve): a small HTTP/1.1 server in the run's event loop.
 * GET /probe?target=... answers with the Prometheus metrics of a fresh probe
 * (the blackbox_exporter pattern: Prometheus schedules and spreads the
 * probes), GET /metrics with the exporter's own counters. */
#ifndef SP_SERVE_H
#define SP_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "probe.h"

#define SERVE_DEFAULT_ADDR "127.0.0.1"

/* "IPv4:PORT", "[IPv6]:PORT" or ":PORT" (then 127.0.0.1): IP literals only,
 * never a name (binding must not depend on the resolver). 0, or -1 with a
 * one-line reason in err. */
int serve_addr_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen,
                     char *err, size_t errlen);
/* A --serve-allow PATTERN is well formed: "HOSTGLOB", "HOSTGLOB:PORTGLOB",
 * "[V6GLOB]" or "[V6GLOB]:PORTGLOB". 0, or -1 with a reason in err. */
int serve_pattern_check(const char *pattern, char *err, size_t errlen);
/* host (as target_parse leaves it: lower case, IPv6 without brackets) and
 * port match one of the n patterns (fnmatch, case-insensitive). literal is
 * the address family when host is an IP literal, else 0: an address-shaped
 * pattern matches only literals (in canonical form), a name pattern only
 * names; '*' both (docs/monitoring.md says exactly how). */
bool serve_allowed(const char *const *patterns, size_t n, const char *host, int literal,
                   uint16_t port);

/* --serve-allow-net ADDRESS[/PREFIX]: the networks the exporter may
 * connect to, checked on every address before connecting. */
struct serve_net {
	int family;
	unsigned char addr[16];
	unsigned prefix;
};
int serve_net_parse(const char *spec, struct serve_net *net, char *err, size_t errlen);
/* addr (4 or 16 bytes of family; an IPv4-mapped IPv6 address counts as its
 * IPv4 address) is inside one of the n networks. */
bool serve_net_contains(const struct serve_net *nets, size_t n, int family,
                        const unsigned char *addr);

/* Runs the exporter on env (all borrowed) until sigfd (a signalfd for
 * SIGTERM/SIGINT, borrowed) becomes readable, then shuts down cleanly:
 * stops accepting, lets probes in flight finish for a short grace, answers
 * or closes every connection. 0 then; -1 with err when it cannot start. */
int serve_run(const struct probe_env *env, int sigfd, char *err, size_t errlen);

#endif
