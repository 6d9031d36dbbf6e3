/* ip_literal: the one decision "is this name an address", and the one TLS
 * alert-name table. */
#include <stdint.h>
#include <sys/socket.h>

#include "ip.h"
#include "t.h"
#include "tlsver.h"

static const struct {
	const char *name, *in;
	int family;
} cases[] = {
	{ "v4", "192.0.2.1", AF_INET },
	{ "v6", "2001:db8::1", AF_INET6 },
	{ "v6 loopback", "::1", AF_INET6 },
	{ "v6 bracketed", "[::1]", AF_INET6 },
	{ "v6 zone", "fe80::1%eth0", AF_INET6 },
	{ "v4-mapped", "::ffff:192.0.2.1", AF_INET6 },
	{ "name", "mx1.example", 0 },
	{ "digits and dots, not an address", "1.2.3", 0 },
	{ "colon, not an address", "a:b", 0 },
	{ "v4 out of range", "256.1.1.1", 0 },
	{ "empty", "", 0 },
	{ "empty brackets", "[]", 0 },
	{ "v4 in brackets", "[192.0.2.1]", AF_INET },
	{ "trailing dot", "192.0.2.1.", 0 },
	{ "too long", "0000:0000:0000:0000:0000:0000:0000:0000:0000", 0 },
};

int main(void)
{
	unsigned char a[16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[120];

		snprintf(name, sizeof(name), "ip_literal %s", cases[i].name);
		T_CHECK(name, ip_literal(cases[i].in, NULL) == cases[i].family);
	}
	T_CHECK("ip_literal v4 bytes", ip_literal("192.0.2.1", a) == AF_INET &&
	        a[0] == 192 && a[1] == 0 && a[2] == 2 && a[3] == 1);
	T_CHECK("ip_literal v6 bytes", ip_literal("[::1]", a) == AF_INET6 &&
	        a[0] == 0 && a[15] == 1);

	T_STREQ("alert 40", tlsver_alert_name(40), "handshake_failure");
	T_STREQ("alert 70", tlsver_alert_name(70), "protocol_version");
	T_STREQ("alert 10", tlsver_alert_name(10), "unexpected_message");
	T_STREQ("alert 112", tlsver_alert_name(112), "unrecognized_name");
	T_STREQ("alert unknown", tlsver_alert_name(255), "unknown");
	T_DONE();
}
