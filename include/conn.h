/* Non-blocking connect with Happy Eyeballs (RFC 8305): addresses
 * interleaved by family, IPv6 first, the next attempt started 250 ms after
 * the previous one (or at once when it fails); the first to connect wins
 * and the others are closed. Each attempt is recorded for the report. */
#ifndef SP_CONN_H
#define SP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dns.h"
#include "loop.h"
#include "result.h"

struct conn;

/* How every connection of a run is made (--bind, --proxy). */
struct conn_opts {
	bool bind_set;
	struct dns_addr bind;            /* --bind: the source address */
	bool proxy_set;
	struct dns_addr proxy;           /* --proxy socks5://ADDR:PORT (RFC 1928, */
	uint16_t proxy_port;             /*  no authentication, CONNECT by address) */
};

/* fd >= 0: connected (TCP_NODELAY set, non-blocking), index into addrs of the
 * winner in *which. fd < 0: every attempt failed or the deadline passed.
 * After the callback the conn is gone: the caller must not touch it. */
typedef void (*conn_cb)(void *arg, int fd, size_t which);

/* att/natt/maxatt: borrowed array in which attempts are recorded. o: NULL
 * or how to connect (borrowed; a proxy makes each attempt a connection to
 * the proxy and a SOCKS5 CONNECT to the address, the attempt counting as
 * connected once the proxy says so). */
struct conn *conn_start(struct loop *l, const struct dns_addr *addrs, size_t n,
                        uint16_t port, double stagger_ms, double timeout_ms,
                        const struct conn_opts *o,
                        struct attempt *att, size_t *natt, size_t maxatt,
                        conn_cb cb, void *arg);
/* Before the callback only: closes every socket, no callback. */
void conn_cancel(struct conn *c);

/* --proxy "socks5://ADDR:PORT" (ADDR an IP literal, [v6] bracketed, or
 * localhost) into the proxy's address and port; -1 when it is not one. */
int conn_proxy_parse(const char *url, struct dns_addr *a, uint16_t *port);

/* Numeric text of an address ("::1", "127.0.0.1"). */
void conn_addr_text(const struct dns_addr *a, char *out, size_t outlen);

#endif
