/* IP literals: the one place that decides whether a name is an address.
 * Pure (inet_pton only). */
#ifndef SP_IP_H
#define SP_IP_H

/* AF_INET or AF_INET6 when s is an IPv4 or IPv6 literal ("[...]" brackets
 * and a "%zone" suffix tolerated), else 0. The address goes to addr (16
 * bytes; 4 used for IPv4) unless addr is NULL. */
int ip_literal(const char *s, unsigned char *addr);

#endif
