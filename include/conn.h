/* Non-blocking connect with Happy Eyeballs (RFC 8305): addresses
 * interleaved by family, IPv6 first, the next attempt started 250 ms after
 * the previous one (or at once when it fails); the first to connect wins
 * and the others are closed. Each attempt is recorded for the report. */
#ifndef SP_CONN_H
#define SP_CONN_H

#include <stddef.h>
#include <stdint.h>
#include "dns.h"
#include "loop.h"
#include "result.h"

struct conn;

/* fd >= 0: connected (TCP_NODELAY set, non-blocking), index into addrs of the
 * winner in *which. fd < 0: every attempt failed or the deadline passed.
 * After the callback the conn is gone: the caller must not touch it. */
typedef void (*conn_cb)(void *arg, int fd, size_t which);

/* att/natt/maxatt: borrowed array in which attempts are recorded. */
struct conn *conn_start(struct loop *l, const struct dns_addr *addrs, size_t n,
                        uint16_t port, double stagger_ms, double timeout_ms,
                        struct attempt *att, size_t *natt, size_t maxatt,
                        conn_cb cb, void *arg);
/* Before the callback only: closes every socket, no callback. */
void conn_cancel(struct conn *c);

/* Numeric text of an address ("::1", "127.0.0.1"). */
void conn_addr_text(const struct dns_addr *a, char *out, size_t outlen);

#endif
