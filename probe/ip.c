/* IP literals: the one place that decides whether a name is an address. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "ip.h"

int ip_literal(const char *s, unsigned char *addr)
{
	char buf[INET6_ADDRSTRLEN + 2];
	unsigned char b[16];
	size_t n = strlen(s);
	char *pct;

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if ((pct = strchr(buf, '%')) != NULL)
		*pct = '\0';
	if (addr == NULL)
		addr = b;
	if (inet_pton(AF_INET, buf, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, buf, addr) == 1)
		return AF_INET6;
	return 0;
}
