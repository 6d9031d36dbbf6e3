/* The exporter's pure guards: which targets --serve-allow patterns admit
 * (address patterns only address literals, name patterns only names) and
 * which addresses --serve-allow-net networks contain. */
#include <arpa/inet.h>
#include <string.h>

#include "serve.h"
#include "t.h"

struct allow_case {
	const char *pattern, *host;
	int literal;
	unsigned port;
	bool want;
};

static const struct allow_case allow_cases[] = {
	{ "127.0.0.*:44*", "127.0.0.1", AF_INET, 443, true },
	{ "127.0.0.*:44*", "127.0.0.1.attacker.example", 0, 443, false },
	{ "127.0.0.*", "127.0.0.1.attacker.example", 0, 25, false },
	{ "10.[0-3].*", "10.2.0.1", AF_INET, 25, true },
	{ "10.[0-3].*", "10.2.0.1.evil.test", 0, 25, false },
	{ "[::1]:25", "::1", AF_INET6, 25, true },
	{ "[::1]:25", "0:0::1", AF_INET6, 25, true },            /* canonical form */
	{ "[::1]:25", "127.0.0.1", AF_INET, 25, false },
	{ "*.example.org:25", "mx.example.org", 0, 25, true },
	{ "*.example.org:25", "MX.Example.ORG", 0, 25, true },
	{ "*.example.org:25", "mx.example.org", 0, 587, false },
	{ "mx?.example.net", "mx1.example.net", 0, 465, true },
	{ "*", "anything.test", 0, 25, true },
	{ "*", "192.0.2.1", AF_INET, 25, true },
	{ "*:25", "::1", AF_INET6, 25, true },
	{ "*.example.org", "192.0.2.1", AF_INET, 25, false },
};

static void test_allowed(void)
{
	char name[160];

	for (size_t i = 0; i < sizeof(allow_cases) / sizeof(allow_cases[0]); i++) {
		const struct allow_case *c = &allow_cases[i];
		const char *pats[1] = { c->pattern };

		snprintf(name, sizeof(name), "allow '%s' %s %s:%u", c->pattern,
		         c->want ? "admits" : "refuses", c->host, c->port);
		T_CHECK(name, serve_allowed(pats, 1, c->host, c->literal, (uint16_t)c->port) == c->want);
	}
}

static bool in(const char *net, const char *addr)
{
	struct serve_net n;
	unsigned char a[16];
	char err[160];
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;

	if (serve_net_parse(net, &n, err, sizeof(err)) != 0 || inet_pton(fam, addr, a) != 1)
		return false;
	return serve_net_contains(&n, 1, fam, a);
}

static void test_nets(void)
{
	struct serve_net n;
	char err[160];

	T_CHECK("net 127.0.0.0/8 has 127.1.2.3", in("127.0.0.0/8", "127.1.2.3"));
	T_CHECK("net 127.0.0.0/8 lacks 128.0.0.1", !in("127.0.0.0/8", "128.0.0.1"));
	T_CHECK("net 192.0.2.0/25 has .127", in("192.0.2.0/25", "192.0.2.127"));
	T_CHECK("net 192.0.2.0/25 lacks .128", !in("192.0.2.0/25", "192.0.2.128"));
	T_CHECK("net bare address is /32", in("192.0.2.1", "192.0.2.1") && !in("192.0.2.1", "192.0.2.2"));
	T_CHECK("net 0.0.0.0/0 has all IPv4", in("0.0.0.0/0", "203.0.113.9"));
	T_CHECK("net IPv4 lacks IPv6", !in("0.0.0.0/0", "::1"));
	T_CHECK("net 2001:db8::/32 has 2001:db8:1::1", in("2001:db8::/32", "2001:db8:1::1"));
	T_CHECK("net 2001:db8::/32 lacks 2001:db9::1", !in("2001:db8::/32", "2001:db9::1"));
	T_CHECK("net IPv4-mapped judged as IPv4", in("127.0.0.0/8", "::ffff:127.0.0.1"));
	T_CHECK("net IPv4-mapped outside", !in("10.0.0.0/8", "::ffff:127.0.0.1"));
	T_CHECK("net parse refuses /33", serve_net_parse("10.0.0.0/33", &n, err, sizeof(err)) != 0);
	T_CHECK("net parse refuses a name", serve_net_parse("example.org/8", &n, err, sizeof(err)) != 0);
	T_CHECK("net parse refuses '/'", serve_net_parse("10.0.0.0/", &n, err, sizeof(err)) != 0);
	T_CHECK("net parse refuses /-1", serve_net_parse("10.0.0.0/-1", &n, err, sizeof(err)) != 0);
	T_CHECK("net parse error names the option", strstr(err, "--serve-allow-net") != NULL);
}

int main(void)
{
	test_allowed();
	test_nets();
	T_DONE();
}
