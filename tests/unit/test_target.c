/* Unit tests for target specs: every accepted form and every error. */
#include <sys/socket.h>
#include "t.h"
#include "target.h"

struct target_case {
	const char *spec;
	int rc;
	const char *host;        /* on success; on error: the expected err text */
	uint16_t port;
	bool mode_set;
	enum tls_mode mode;
	int literal;
	bool mail_domain;
};

#define OK 0
#define ERR -1
#define ST TLS_MODE_STARTTLS
#define IM TLS_MODE_IMPLICIT

static const struct target_case cases[] = {
	/* names */
	{ "mx.example.org", OK, "mx.example.org", 0, false, ST, 0, false },
	{ "MX.Example.ORG", OK, "mx.example.org", 0, false, ST, 0, false },
	{ "mx.example.org.", OK, "mx.example.org", 0, false, ST, 0, false },
	{ "localhost", OK, "localhost", 0, false, ST, 0, false },
	{ "mx.example.org:587", OK, "mx.example.org", 587, false, ST, 0, false },
	{ "mx.example.org.:2525", OK, "mx.example.org", 2525, false, ST, 0, false },
	{ "_mta-sts.example.org", OK, "_mta-sts.example.org", 0, false, ST, 0, false },
	{ "a-b.c9.example", OK, "a-b.c9.example", 0, false, ST, 0, false },
	{ "1example.com", OK, "1example.com", 0, false, ST, 0, false },
	{ "123.example", OK, "123.example", 0, false, ST, 0, false },
	{ "x:1", OK, "x", 1, false, ST, 0, false },
	{ "x:65535", OK, "x", 65535, false, ST, 0, false },
	{ "x:00025", OK, "x", 25, false, ST, 0, false },
	/* IP literals */
	{ "192.0.2.1", OK, "192.0.2.1", 0, false, ST, AF_INET, false },
	{ "192.0.2.1:25", OK, "192.0.2.1", 25, false, ST, AF_INET, false },
	{ "[192.0.2.1]:25", OK, "192.0.2.1", 25, false, ST, AF_INET, false },
	{ "[::1]", OK, "::1", 0, false, ST, AF_INET6, false },
	{ "[::1]:465", OK, "::1", 465, false, ST, AF_INET6, false },
	{ "[2001:DB8::1]:25", OK, "2001:db8::1", 25, false, ST, AF_INET6, false },
	{ "::1", OK, "::1", 0, false, ST, AF_INET6, false },
	{ "2001:db8:0:0::25", OK, "2001:db8::25", 0, false, ST, AF_INET6, false },
	{ "::ffff:192.0.2.1", OK, "::ffff:192.0.2.1", 0, false, ST, AF_INET6, false },
	/* schemes */
	{ "smtp://mx.example", OK, "mx.example", 25, true, ST, 0, false },
	{ "smtp://mx.example/", OK, "mx.example", 25, true, ST, 0, false },
	{ "smtp://mx.example:2525", OK, "mx.example", 2525, true, ST, 0, false },
	{ "smtp://mx.example:2525/", OK, "mx.example", 2525, true, ST, 0, false },
	{ "SMTP://MX.example", OK, "mx.example", 25, true, ST, 0, false },
	{ "smtps://mx.example", OK, "mx.example", 465, true, IM, 0, false },
	{ "smtps://mx.example:4650", OK, "mx.example", 4650, true, IM, 0, false },
	{ "submission://mx.example", OK, "mx.example", 587, true, ST, 0, false },
	{ "submission://mx.example:25", OK, "mx.example", 25, true, ST, 0, false },
	{ "submissions://mx.example", OK, "mx.example", 465, true, IM, 0, false },
	{ "smtp://[::1]:2525", OK, "::1", 2525, true, ST, AF_INET6, false },
	{ "smtps://[::1]", OK, "::1", 465, true, IM, AF_INET6, false },
	{ "smtp://127.0.0.1", OK, "127.0.0.1", 25, true, ST, AF_INET, false },
	/* mail addresses */
	{ "postmaster@Example.ORG", OK, "example.org", 0, false, ST, 0, true },
	{ "a.b+c@example.org.", OK, "example.org", 0, false, ST, 0, true },
	/* errors */
	{ "", ERR, "empty target", 0, false, ST, 0, false },
	{ "mx.example:70000", ERR, "bad port '70000' in 'mx.example:70000'", 0, false, ST, 0, false },
	{ "mx.example:0", ERR, "bad port '0' in 'mx.example:0'", 0, false, ST, 0, false },
	{ "::1:5025", ERR, "ambiguous '::1:5025': for port 5025 of ::1 write '[::1]:5025'; for the address write '[::1:5025]'", 0, false, ST, 0, false },
	{ "2001:db8::1:25", ERR, "ambiguous '2001:db8::1:25': for port 25 of 2001:db8::1 write '[2001:db8::1]:25'; for the address write '[2001:db8::1:25]'", 0, false, ST, 0, false },
	{ "[2001:db8::1:25]", OK, "2001:db8::1:25", 0, false, ST, AF_INET6, false },
	{ "fe80::25", OK, "fe80::25", 0, false, ST, AF_INET6, false },
	{ "mx.example:", ERR, "bad port '' in 'mx.example:'", 0, false, ST, 0, false },
	{ "mx.example:-1", ERR, "bad port '-1' in 'mx.example:-1'", 0, false, ST, 0, false },
	{ "mx.example:+25", ERR, "bad port '+25' in 'mx.example:+25'", 0, false, ST, 0, false },
	{ "mx.example:25x", ERR, "bad port '25x' in 'mx.example:25x'", 0, false, ST, 0, false },
	{ "mx.example:000025", ERR, "bad port '000025' in 'mx.example:000025'", 0, false, ST, 0, false },
	{ "[::1]:99999", ERR, "bad port '99999' in '[::1]:99999'", 0, false, ST, 0, false },
	{ "smtp://mx:0", ERR, "bad port '0' in 'smtp://mx:0'", 0, false, ST, 0, false },
	{ "http://mx.example", ERR, "unknown scheme 'http' in 'http://mx.example'", 0, false, ST, 0, false },
	{ "://mx.example", ERR, "unknown scheme '' in '://mx.example'", 0, false, ST, 0, false },
	{ "smtp://", ERR, "missing host in 'smtp://'", 0, false, ST, 0, false },
	{ "smtp://mx/path", ERR, "unexpected path in 'smtp://mx/path'", 0, false, ST, 0, false },
	{ "smtp://u@mx", ERR, "user name not supported in 'smtp://u@mx'", 0, false, ST, 0, false },
	{ "smtp://::1", ERR, "IPv6 address needs brackets in 'smtp://::1'", 0, false, ST, 0, false },
	{ "[::1", ERR, "missing ']' in '[::1'", 0, false, ST, 0, false },
	{ "[::1]x", ERR, "unexpected text after ']' in '[::1]x'", 0, false, ST, 0, false },
	{ "[mx.example]", ERR, "bad IP address 'mx.example' in '[mx.example]'", 0, false, ST, 0, false },
	{ "[]:25", ERR, "missing host in '[]:25'", 0, false, ST, 0, false },
	{ "2001:db8::zz", ERR, "bad IP address '2001:db8::zz' in '2001:db8::zz'", 0, false, ST, 0, false },
	{ "fe80::1%eth0", ERR, "bad IP address 'fe80::1%eth0' in 'fe80::1%eth0'", 0, false, ST, 0, false },
	{ ":25", ERR, "missing host in ':25'", 0, false, ST, 0, false },
	{ "a..b", ERR, "bad host name 'a..b' in 'a..b': empty label", 0, false, ST, 0, false },
	{ ".a", ERR, "bad host name '.a' in '.a': empty label", 0, false, ST, 0, false },
	{ ".", ERR, "bad host name '.' in '.': empty host name", 0, false, ST, 0, false },
	{ "mx.example..", ERR, "bad host name 'mx.example..' in 'mx.example..': empty label", 0, false, ST, 0, false },
	{ "-mx.example", ERR, "bad host name '-mx.example' in '-mx.example': label starts with '-'", 0, false, ST, 0, false },
	{ "mx-.example", ERR, "bad host name 'mx-.example' in 'mx-.example': label ends with '-'", 0, false, ST, 0, false },
	{ "mx example", ERR, "bad host name 'mx example' in 'mx example': bad character", 0, false, ST, 0, false },
	{ "mx\texample", ERR, "bad host name 'mx?example' in 'mx?example': bad character", 0, false, ST, 0, false },
	{ "m\xc3\xa4il.example", OK, "xn--mil-qla.example", 0, false, ST, 0, false },   /* IDNA2008 */
	{ "m\xff" "il.example", ERR, "bad host name 'm?il.example' in 'm?il.example': not a valid international name (IDNA2008: string encoding error)", 0, false, ST, 0, false },
	{ "1.2.3", ERR, "bad host name '1.2.3' in '1.2.3': not a valid IP address or host name", 0, false, ST, 0, false },
	{ "256.1.1.1", ERR, "bad host name '256.1.1.1' in '256.1.1.1': not a valid IP address or host name", 0, false, ST, 0, false },
	{ "@example.org", ERR, "empty local part in '@example.org'", 0, false, ST, 0, false },
	{ "user@", ERR, "missing domain in 'user@'", 0, false, ST, 0, false },
	{ "a@b@example.org", ERR, "more than one '@' in 'a@b@example.org'", 0, false, ST, 0, false },
	{ "user@example.org:25", ERR, "mail domain must be a name in 'user@example.org:25'", 0, false, ST, 0, false },
	{ "user@[192.0.2.1]", ERR, "mail domain must be a name in 'user@[192.0.2.1]'", 0, false, ST, 0, false },
	{ "user@192.0.2.1", ERR, "mail domain must be a name in 'user@192.0.2.1'", 0, false, ST, 0, false },
	{ "user@bad..domain", ERR, "bad host name 'bad..domain' in 'user@bad..domain': empty label", 0, false, ST, 0, false },
};

static void run_case(const struct target_case *c)
{
	struct target t;
	char err[200] = "junk", name[300];
	int rc = target_parse(c->spec, &t, err, sizeof err);

	snprintf(name, sizeof name, "target '%s': rc", c->spec);
	if (rc != c->rc)
		printf("# err: %s\n", err);
	T_CHECK(name, rc == c->rc);
	if (c->rc == OK) {
		snprintf(name, sizeof name, "target '%s': host", c->spec);
		T_STREQ(name, t.host, c->host);
		snprintf(name, sizeof name, "target '%s': fields", c->spec);
		T_CHECK(name, t.port == c->port && t.mode_set == c->mode_set &&
		        (!c->mode_set || t.mode == c->mode) && t.literal == c->literal &&
		        t.mail_domain == c->mail_domain && err[0] == '\0');
	} else {
		snprintf(name, sizeof name, "target '%s': err", c->spec);
		T_STREQ(name, err, c->host);
		snprintf(name, sizeof name, "target '%s': cleared", c->spec);
		T_CHECK(name, t.host[0] == '\0' && t.port == 0);
	}
}

static void test_lengths(void)
{
	char spec[1100], err[200];
	struct target t;
	size_t off = 0;

	/* 63-byte label: fine; 64: too long. */
	memset(spec, 'a', 63);
	strcpy(spec + 63, ".example");
	T_CHECK("target 63-byte label", target_parse(spec, &t, err, sizeof err) == 0);
	memset(spec, 'a', 64);
	strcpy(spec + 64, ".example");
	T_CHECK("target 64-byte label", target_parse(spec, &t, err, sizeof err) != 0 &&
	        strstr(err, "label longer than 63 bytes") != NULL);

	/* 253 bytes total: fine (with or without the root dot); 254: too long. */
	for (int i = 0; i < 4; i++) {
		memset(spec + off, 'b', 62);
		off += 62;
		spec[off++] = '.';
	}
	spec[off] = '\0';             /* 252 bytes ending in '.' */
	memcpy(spec + off, "c", 2);   /* 253 */
	T_CHECK("target 253-byte name", target_parse(spec, &t, err, sizeof err) == 0 &&
	        strlen(t.host) == 253);
	memcpy(spec + off, "c.", 3);  /* 253 + root dot */
	T_CHECK("target 253-byte name + dot", target_parse(spec, &t, err, sizeof err) == 0);
	memcpy(spec + off, "cc", 3);  /* 254 */
	T_CHECK("target 254-byte name", target_parse(spec, &t, err, sizeof err) != 0 &&
	        strstr(err, "longer than 253") != NULL);
	memset(spec, 'd', 400);
	spec[400] = '\0';
	T_CHECK("target 400-byte name", target_parse(spec, &t, err, sizeof err) != 0 &&
	        strstr(err, "too long") != NULL && strstr(err, "...") != NULL);
	memset(spec, 'e', 1050);
	spec[1050] = '\0';
	T_CHECK("target spec too long", target_parse(spec, &t, err, sizeof err) != 0 &&
	        strncmp(err, "target too long", 15) == 0);

	/* A tiny err buffer is truncated, never overrun. */
	char small[8];
	T_CHECK("target small err buffer", target_parse("x:0", &t, small, sizeof small) != 0 &&
	        strlen(small) == 7);
	T_CHECK("target NULL err", target_parse("x:0", &t, NULL, 0) != 0);
	T_CHECK("target NULL spec", target_parse(NULL, &t, err, sizeof err) != 0);
}

struct port_case { const char *s; int rc; uint16_t port; };

static const struct port_case port_cases[] = {
	{ "25", 0, 25 }, { "1", 0, 1 }, { "65535", 0, 65535 }, { "0465", 0, 465 },
	{ "0", -1, 0 }, { "65536", -1, 0 }, { "", -1, 0 }, { "-25", -1, 0 },
	{ "+25", -1, 0 }, { " 25", -1, 0 }, { "25 ", -1, 0 }, { "2 5", -1, 0 },
	{ "99999999999999999999", -1, 0 }, { "0x19", -1, 0 }, { "smtp", -1, 0 },
};

static void test_port(void)
{
	char name[80];

	for (size_t i = 0; i < sizeof port_cases / sizeof port_cases[0]; i++) {
		uint16_t p = 7;
		int rc = target_port(port_cases[i].s, &p);
		snprintf(name, sizeof name, "target_port '%s'", port_cases[i].s);
		T_CHECK(name, rc == port_cases[i].rc && (rc != 0 || p == port_cases[i].port));
	}
	T_CHECK("target_port NULL", target_port(NULL, &(uint16_t){ 0 }) != 0);
}

/* --shard: one host, one shard, whatever the spelling; a partition. */
static void test_shard(void)
{
	static const char *same[] = { "mx1.example.org", "MX1.Example.ORG", "mx1.example.org.",
	                              "mx1.example.org:587", "smtps://mx1.example.org",
	                              "submission://MX1.example.org:2525" };
	unsigned k = target_shard(same[0], 7), counts[7] = { 0 };
	bool ok = true;
	char spec[64];

	for (size_t i = 1; i < sizeof same / sizeof same[0]; i++)
		ok = ok && target_shard(same[i], 7) == k;
	T_CHECK("target_shard: same host, same shard", ok);
	/* user@domain: the domain (its MX hosts are probed in its one job). */
	T_CHECK("target_shard: user@domain by domain",
	        target_shard("postmaster@Example.ORG", 5) == target_shard("example.org", 5));
	/* Stable across machines and releases: FNV-1a 64 of "example.org". */
	T_CHECK("target_shard: fixed hash", target_shard("example.org", 1000) ==
	        (unsigned)(0xee7160631269bf51ull % 1000));
	T_CHECK("target_shard: n 1 and 0 give shard 0",
	        target_shard("a.example", 1) == 0 && target_shard("a.example", 0) == 0);
	/* Unparsable specs still land in exactly one shard. */
	T_CHECK("target_shard: bad spec in range", target_shard("[::1", 3) < 3);
	/* 7,000 hosts over 7 shards: none empty, none more than twice its share. */
	for (int i = 0; i < 7000; i++) {
		snprintf(spec, sizeof spec, "mx%d.domain%d.example", i % 3, i);
		counts[target_shard(spec, 7)]++;
	}
	ok = true;
	for (int i = 0; i < 7; i++)
		ok = ok && counts[i] > 500 && counts[i] < 2000;
	T_CHECK("target_shard: spread over every shard", ok);
}

/* International names: A-labels for DNS, SNI and certificates, the
 * U-label form kept; refusals quote the name as typed. */
static void test_idn(void)
{
	struct target t;
	char err[200];

	T_CHECK("idn: bücher.test to its A-label", target_parse("bücher.test:25", &t, err,
	        sizeof err) == 0 && strcmp(t.host, "xn--bcher-kva.test") == 0 &&
	        strcmp(t.host_unicode, "bücher.test") == 0 && t.port == 25 && t.literal == 0);
	T_CHECK("idn: UTS #46 maps upper case", target_parse("BÜCHER.TEST", &t, err,
	        sizeof err) == 0 && strcmp(t.host, "xn--bcher-kva.test") == 0);
	T_CHECK("idn: typed as A-labels, U-label shown", target_parse("xn--bcher-kva.test", &t,
	        err, sizeof err) == 0 && strcmp(t.host, "xn--bcher-kva.test") == 0 &&
	        strcmp(t.host_unicode, "bücher.test") == 0);
	T_CHECK("idn: ASCII names have no U-label form", target_parse("mx1.test", &t, err,
	        sizeof err) == 0 && t.host_unicode[0] == '\0');
	T_CHECK("idn: a URL", target_parse("smtps://bücher.test", &t, err, sizeof err) == 0 &&
	        strcmp(t.host, "xn--bcher-kva.test") == 0 && t.port == 465);
	T_CHECK("idn: user@domain, local part ASCII", target_parse("a@bücher.test", &t, err,
	        sizeof err) == 0 && t.mail_domain && !t.utf8_local &&
	        strcmp(t.host, "xn--bcher-kva.test") == 0);
	T_CHECK("idn: user@domain, local part not ASCII", target_parse("ü@bücher.test", &t, err,
	        sizeof err) == 0 && t.utf8_local);
	T_CHECK("idn: disallowed code point refused, quoted as typed",
	        target_parse("bad☃.test", &t, err, sizeof err) != 0 &&
	        strstr(err, "'bad☃.test'") != NULL && strstr(err, "IDNA2008") != NULL &&
	        strstr(err, "??") == NULL);
	T_CHECK("idn: a bidi override is never echoed raw",
	        target_parse("a\xe2\x80\xae" "b.test", &t, err, sizeof err) != 0 &&
	        strstr(err, "\xe2\x80\xae") == NULL);
	T_CHECK("idn: invalid UTF-8 refused", target_parse("a\xff" ".test", &t, err, sizeof err) != 0);
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
	test_lengths();
	test_port();
	test_shard();
	test_idn();
	T_DONE();
}
