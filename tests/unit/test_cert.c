/* cert.c: RFC 6125 name matching, pin parsing, verify flags, and field
 * extraction from test certificates made by tests/unit/data/gen.sh (the
 * expected fingerprints and pins were computed with openssl then). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "t.h"

/* not_after of every certificate in tests/unit/data (Nov 23 07:27:13 2046
 * GMT) and not_before (Nov 28 07:27:13 2026 GMT). */
#define NOT_AFTER  ((time_t)2426570833LL)
#define NOT_BEFORE ((time_t)1795850833LL)

static const struct {
	const char *pattern, *host;
	bool want;
} name_cases[] = {
	{ "example.com", "example.com", true },
	{ "EXAMPLE.com", "example.COM", true },
	{ "example.com", "example.com.", true },           /* trailing dot */
	{ "example.com.", "example.com", true },
	{ "example.com", "www.example.com", false },
	{ "www.example.com", "www.example.com.evil", false },
	{ "example.com", "examplexcom", false },
	{ "*.example.com", "a.example.com", true },
	{ "*.example.com", "A.EXAMPLE.COM", true },
	{ "*.EXAMPLE.com", "x.example.com", true },
	{ "*.example.com", "a.example.com.", true },
	{ "*.example.com.", "a.example.com", true },
	{ "*.example.com", "example.com", false },          /* never the bare parent */
	{ "*.example.com", "a.b.example.com", false },      /* never across dots */
	{ "*.example.com", ".example.com", false },         /* empty label */
	{ "*.example.com", "aexample.com", false },
	{ "*.example.com", "a.example.com.evil.com", false },
	{ "*.com", "example.com", false },                  /* too broad */
	{ "*", "example", false },
	{ "f*o.example.com", "foo.example.com", false },    /* partial-label wildcards */
	{ "f*.example.com", "foo.example.com", false },
	{ "*o.example.com", "foo.example.com", false },
	{ "a.*.example.com", "a.b.example.com", false },    /* not leftmost */
	{ "*.*.example.com", "a.b.example.com", false },
	{ "**.example.com", "a.example.com", false },
	{ "xn--*.example.com", "xn--bcher-kva.example.com", false }, /* wildcard in an A-label */
	{ "*.example.com", "xn--bcher-kva.example.com", true },      /* whole-label wildcard is fine */
	{ "*.example.com", "*.example.com", false },        /* a host is never a pattern */
	{ "*.0.0.1", "127.0.0.1", false },                  /* no wildcard for IP literals */
	{ "a..example.com", "a..example.com", false },
	{ "", "", false },
	{ "example.com", "", false },
	{ ".", ".", false },
	{ "example.com", "example.com..", false },
	{ "Test CA", "Test CA", false },                    /* not a host name */
	{ "*.example.com", "a b.example.com", false },
	{ "a_b.example.com", "A_B.example.com", true },     /* '_' is seen in MX names */
	{ "*.example.com", "mx-1.example.com", true },
};

static const struct {
	const char *spec;
	int want;
	const char *out;
} pin_cases[] = {
	{ "sha256//AhXdrf2CZUTaAc5FtSVVDtUAUQPCbXu5796Ami3CYmg=", 0,
	  "AhXdrf2CZUTaAc5FtSVVDtUAUQPCbXu5796Ami3CYmg=" },
	{ "sha256//9CdK2X6UUsn4XvvJBWOmrd/oUPaEaDFTuFaZFaGBjQs=", 0,
	  "9CdK2X6UUsn4XvvJBWOmrd/oUPaEaDFTuFaZFaGBjQs=" },
	{ "sha256//", -1, NULL },
	{ "sha256//AhXdrf2CZUTaAc5FtSVVDtUAUQPCbXu5796Ami3CYmg", -1, NULL },   /* 43 chars */
	{ "sha256//AhXdrf2CZUTaAc5FtSVVDtUAUQPCbXu5796Ami3CYmg==", -1, NULL }, /* 45 chars */
	{ "sha256//AhXdrf2CZUTaAc5FtSVVDtUAUQPCbXu5796Ami3CYmgA", -1, NULL },  /* 33 bytes */
	{ "sha256//AhXdrf2CZUTaAc5FtSVVDtUAUQPCbXu5796Ami3CYm!=", -1, NULL },
	{ "sha256//AhXdrf2CZUTaAc5FtSVVDtUAUQPCbXu5796Ami3CY g=", -1, NULL },
	{ "sha1//AhXdrf2CZUTaAc5FtSVVDtUAUQPCbXu5796Ami3CYmg=", -1, NULL },
	{ "AhXdrf2CZUTaAc5FtSVVDtUAUQPCbXu5796Ami3CYmg=", -1, NULL },
	{ "sha256//AhXdrf2CZUTaAc5FtSVVDtUAUQPCbXu5796Ami3CYmg= ", -1, NULL },
	{ "", -1, NULL },
};

static unsigned char *read_file(const char *name, size_t *len)
{
	static const char *dirs[] = { "tests/unit/data", "../tests/unit/data",
	                              "../../tests/unit/data", "data" };
	char path[512];
	unsigned char *buf = NULL;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		const char *env = getenv("SP_TEST_DATA");
		FILE *f;
		long n;
		snprintf(path, sizeof(path), "%s/%s", i == 0 && env ? env : dirs[i], name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
		    (buf = malloc((size_t)n)) != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			*len = (size_t)n;
			fclose(f);
			return buf;
		}
		free(buf);
		buf = NULL;
		fclose(f);
	}
	return NULL;
}

static void test_names(void)
{
	char name[160];
	for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		snprintf(name, sizeof(name), "name_match '%s' vs '%s'",
		         name_cases[i].pattern, name_cases[i].host);
		T_CHECK(name, cert_name_match(name_cases[i].pattern, name_cases[i].host) ==
		              name_cases[i].want);
	}
	T_CHECK("name_match NULL", !cert_name_match(NULL, "a") && !cert_name_match("a", NULL));
}

static void test_pins(void)
{
	char name[160], out[45];
	for (size_t i = 0; i < sizeof(pin_cases) / sizeof(pin_cases[0]); i++) {
		int rc;
		memset(out, 'x', sizeof(out));
		rc = cert_pin_parse(pin_cases[i].spec, out);
		snprintf(name, sizeof(name), "pin_parse '%s'", pin_cases[i].spec);
		T_CHECK(name, rc == pin_cases[i].want);
		if (rc == 0 && pin_cases[i].out)
			T_STREQ(name, out, pin_cases[i].out);
	}
	/* The same 32 bytes with the two unused bits set: either refused or
	 * canonicalised, never kept as text that can never compare equal. */
	{
		int rc = cert_pin_parse("sha256//AhXdrf2CZUTaAc5FtSVVDtUAUQPCbXu5796Ami3CYmh=", out);
		T_CHECK("pin_parse non-canonical",
		        rc == -1 || strcmp(out, "AhXdrf2CZUTaAc5FtSVVDtUAUQPCbXu5796Ami3CYmg=") == 0);
	}
}

static void test_verify_errors(void)
{
	char *e[16];
	size_t n;

	n = cert_verify_errors(0, e, 16);
	T_CHECK("verify_errors none", n == 0);
	n = cert_verify_errors(MBEDTLS_X509_BADCERT_CN_MISMATCH, e, 16);
	T_CHECK("verify_errors CN mismatch skipped", n == 0);
	n = cert_verify_errors(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_CN_MISMATCH |
	                       MBEDTLS_X509_BADCERT_NOT_TRUSTED, e, 16);
	T_CHECK("verify_errors count", n == 2);
	if (n == 2) {
		T_STREQ("verify_errors expired", e[0], "certificate has expired");
		T_STREQ("verify_errors untrusted", e[1],
		        "issuer not trusted (chain does not lead to a trusted root)");
	}
	for (size_t i = 0; i < n; i++)
		free(e[i]);
	n = cert_verify_errors(MBEDTLS_X509_BADCERT_FUTURE | MBEDTLS_X509_BADCERT_BAD_MD |
	                       MBEDTLS_X509_BADCERT_BAD_KEY, e, 1);
	T_CHECK("verify_errors max", n == 1);
	if (n == 1) {
		T_STREQ("verify_errors future", e[0], "certificate is not yet valid");
		free(e[0]);
	}
	n = cert_verify_errors(0x80000000u, e, 16);
	T_CHECK("verify_errors unknown bit", n == 1);
	if (n == 1) {
		T_STREQ("verify_errors unknown text", e[0], "verification failed (flags 0x80000000)");
		free(e[0]);
	}
}

struct cert_case {
	const char *file;
	const char *subject, *issuer;
	const char *san[4];
	size_t nsan;
	const char *key, *signature, *sha256, *spki;
	bool self_signed;
	const char *match[6];      /* hosts that must match */
	const char *nomatch[6];    /* hosts that must not */
};

static const struct cert_case cert_cases[] = {
	{ "rsa_self.der",
	  "C=DE, O=smtp-probe tests, CN=rsa.test", "C=DE, O=smtp-probe tests, CN=rsa.test",
	  { "DNS:rsa.test", "DNS:*.wild.test", "IP:127.0.0.1", "IP:::1" }, 4,
	  "RSA 2048", "RSA-SHA256",
	  "0e4a573641c106fef185c01ecdb7f45ff3f3da5d974443ced0cb9678ae3db8ad",
	  "AhXdrf2CZUTaAc5FtSVVDtUAUQPCbXu5796Ami3CYmg=", true,
	  { "rsa.test", "mx.wild.test", "127.0.0.1", "::1", "[0:0::1]", "RSA.Test." },
	  { "wild.test", "127.0.0.2", "a.b.wild.test", "0:0:0:0:0:0:0:2", "*.wild.test", "::ffff:127.0.0.1" } },
	{ "leaf_ec.der",
	  "O=smtp-probe tests, CN=leaf.test", "O=smtp-probe tests, CN=Test CA",
	  { "DNS:leaf.test", "DNS:mail.leaf.test", NULL, NULL }, 2,
	  "EC P-256", "ECDSA-SHA384",
	  "57bf7e92dd266e5296f6f7040951a4cc55b0e97421956eab496c2e384339c313",
	  "9CdK2X6UUsn4XvvJBWOmrd/oUPaEaDFTuFaZFaGBjQs=", false,
	  { "leaf.test", "MAIL.leaf.test.", NULL, NULL, NULL, NULL },
	  { "www.leaf.test", "127.0.0.1", "Test CA", "[::1]", NULL, NULL } },
	{ "ca.der",
	  "O=smtp-probe tests, CN=Test CA", "O=smtp-probe tests, CN=Test CA",
	  { NULL, NULL, NULL, NULL }, 0,
	  "EC P-384", "ECDSA-SHA384",
	  "c0ea4ca94e5fe1fe643ac1e22856de7206130a5a7729ba4723cda4a6248d5455",
	  "qG79BsyehR4u3q8bVcgOokp55m7KzFa8FIv4WV4r0nA=", true,
	  { NULL, NULL, NULL, NULL, NULL, NULL },
	  { "ca.test", "Test CA", NULL, NULL, NULL, NULL } },
	{ "cn_only.der",
	  "CN=cn-only.test", "CN=cn-only.test",
	  { NULL, NULL, NULL, NULL }, 0,
	  "EC P-521", "ECDSA-SHA512",
	  "1354b878bb86c36e8378e2fd8b547f6c476e185fa587afc99c90bba892a6671d",
	  "PgxD7HA54dpoNJHfoTm+FjQQ6yyUwI1DN/FyVvFL8M0=", true,
	  { "cn-only.test", "CN-ONLY.TEST", NULL, NULL, NULL, NULL },   /* no DNS SAN: CN counts */
	  { "x.cn-only.test", NULL, NULL, NULL, NULL, NULL } },
};

static void test_cert_file(const struct cert_case *cc)
{
	char name[160];
	size_t len = 0;
	unsigned char *der = read_file(cc->file, &len);
	struct cert_info c;
	mbedtls_x509_crt crt;

	snprintf(name, sizeof(name), "%s read", cc->file);
	T_CHECK(name, der != NULL);
	if (der == NULL)
		return;

#define N(what) (snprintf(name, sizeof(name), "%s %s", cc->file, (what)), name)
	T_CHECK(N("extract"), cert_extract_der(der, len, NOT_AFTER - 10 * 86400 + 1, &c) == 0);
	T_STREQ(N("subject"), c.subject, cc->subject);
	T_STREQ(N("issuer"), c.issuer, cc->issuer);
	T_CHECK(N("nsan"), c.nsan == cc->nsan);
	for (size_t i = 0; i < cc->nsan && i < c.nsan; i++)
		T_STREQ(N("san"), c.san[i], cc->san[i]);
	T_STREQ(N("key"), c.key, cc->key);
	T_STREQ(N("signature"), c.signature, cc->signature);
	T_STREQ(N("sha256"), c.sha256, cc->sha256);
	T_STREQ(N("spki_sha256"), c.spki_sha256, cc->spki);
	T_CHECK(N("self_signed"), c.self_signed == cc->self_signed);
	T_CHECK(N("not_after"), c.not_after == NOT_AFTER);
	T_CHECK(N("not_before"), c.not_before == NOT_BEFORE);
	T_CHECK(N("days_left 9"), c.days_left == 9);
	cert_info_clear(&c);

	/* whole days elapsed, the same rule on both sides of expiry; the
	 * expired flag says which side (notAfter itself is still valid) */
	T_CHECK(N("days_left 10"), cert_extract_der(der, len, NOT_AFTER - 10 * 86400, &c) == 0 &&
	                         c.days_left == 10 && !c.expired);
	cert_info_clear(&c);
	T_CHECK(N("days_left 0"), cert_extract_der(der, len, NOT_AFTER - 1, &c) == 0 &&
	                        c.days_left == 0 && !c.expired);
	cert_info_clear(&c);
	T_CHECK(N("at notAfter"), cert_extract_der(der, len, NOT_AFTER, &c) == 0 &&
	                        c.days_left == 0 && !c.expired);
	cert_info_clear(&c);
	T_CHECK(N("days_left 0 expired"), cert_extract_der(der, len, NOT_AFTER + 1, &c) == 0 &&
	                         c.days_left == 0 && c.expired);
	cert_info_clear(&c);
	T_CHECK(N("days_left -1 exact"), cert_extract_der(der, len, NOT_AFTER + 86400, &c) == 0 &&
	                               c.days_left == -1 && c.expired);
	cert_info_clear(&c);
	T_CHECK(N("days_left -1 and a bit"), cert_extract_der(der, len, NOT_AFTER + 86401, &c) == 0 &&
	                         c.days_left == -1);
	cert_info_clear(&c);
	/* the case: 2,162.3 days after notAfter is 2162 days ago */
	T_CHECK(N("days_left -2162"), cert_extract_der(der, len, NOT_AFTER + 2162 * 86400 + 25920,
	                                               &c) == 0 && c.days_left == -2162);
	cert_info_clear(&c);

	/* truncated DER must be refused, not half-read */
	T_CHECK(N("truncated"), cert_extract_der(der, len - 1, 0, &c) == -1 && c.subject == NULL);
	T_CHECK(N("empty"), cert_extract_der(der, 0, 0, &c) == -1);

	mbedtls_x509_crt_init(&crt);
	T_CHECK(N("parse"), mbedtls_x509_crt_parse_der(&crt, der, len) == 0);
	for (size_t i = 0; i < 6; i++) {
		if (cc->match[i]) {
			snprintf(name, sizeof(name), "%s matches %s", cc->file, cc->match[i]);
			T_CHECK(name, cert_matches_host(&crt, cc->match[i]));
		}
		if (cc->nomatch[i]) {
			snprintf(name, sizeof(name), "%s does not match %s", cc->file, cc->nomatch[i]);
			T_CHECK(name, !cert_matches_host(&crt, cc->nomatch[i]));
		}
	}
	T_CHECK(N("matches NULL/empty"), !cert_matches_host(&crt, NULL) && !cert_matches_host(&crt, ""));
	mbedtls_x509_crt_free(&crt);
#undef N
	free(der);
}

/* A NUL inside an RDN must not hide the rest of the name: the whole
 * subject is kept, the NUL written as the hex pair \00 (RFC 4514). */
static void test_nul_in_name(void)
{
	size_t len = 0;
	unsigned char *der = read_file("nul_dn.der", &len);
	struct cert_info c;

	T_CHECK("nul_dn read", der != NULL);
	if (der == NULL)
		return;
	T_CHECK("nul_dn extract", cert_extract_der(der, len, 0, &c) == 0);
	T_STREQ("nul_dn subject whole, NUL escaped", c.subject,
	        "O=Trusted Bank Inc\\00\\, OU\\=x, CN=attacker.evil.test");
	T_STREQ("nul_dn issuer whole", c.issuer,
	        "O=Trusted Bank Inc\\00\\, OU\\=x, CN=attacker.evil.test");
	T_CHECK("nul_dn one SAN", c.nsan == 1);
	if (c.nsan == 1)
		T_STREQ("nul_dn SAN whole, NUL escaped", c.san[0], "DNS:mx\\00.evil.test");
	cert_info_clear(&c);
	free(der);
}

static void test_garbage(void)
{
	static const unsigned char junk[] = { 0x30, 0x82, 0xff, 0xff, 0x30, 0x00 };
	struct cert_info c;
	T_CHECK("extract junk", cert_extract_der(junk, sizeof(junk), 0, &c) == -1);
	T_CHECK("extract NULL-ish", cert_extract_der(junk, 1, 0, &c) == -1);
}

int main(void)
{
	test_names();
	test_pins();
	test_verify_errors();
	for (size_t i = 0; i < sizeof(cert_cases) / sizeof(cert_cases[0]); i++)
		test_cert_file(&cert_cases[i]);
	test_nul_in_name();
	test_garbage();
	T_DONE();
}
