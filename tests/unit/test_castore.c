/* The lazy trust store (probe/castore.c): the same verdict as mbedTLS's
 * verification against the fully parsed bundle, only the anchors a chain
 * can reach parsed, the verdict cache and its expiry, hostile input. */
#include "castore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psa/crypto.h>

#include "t.h"

static char *read_text(const char *name, size_t *len)
{
	static const char *dirs[] = { "tests/unit/data", "../tests/unit/data",
	                              "../../tests/unit/data", "data" };
	char path[512];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		const char *env = getenv("SP_TEST_DATA");
		FILE *f;
		long n;
		char *buf;
		if (name[0] == '/')
			snprintf(path, sizeof(path), "%s", name);
		else
			snprintf(path, sizeof(path), "%s/%s", i == 0 && env ? env : dirs[i], name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
		    (buf = malloc((size_t)n + 1)) != NULL) {
			if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
				buf[n] = '\0';
				*len = (size_t)n;
				fclose(f);
				return buf;
			}
			free(buf);
		}
		fclose(f);
	}
	return NULL;
}

/* text = a + b (+ c): a bundle. */
static char *cat3(const char *a, const char *b, const char *c, size_t *len)
{
	size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0, lc = c ? strlen(c) : 0;
	char *s = malloc(la + lb + lc + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, a ? a : "", la);
	memcpy(s + la, b ? b : "", lb);
	memcpy(s + la + lb, c ? c : "", lc);
	s[la + lb + lc] = '\0';
	*len = la + lb + lc;
	return s;
}

/* Eager: mbedTLS parses the whole bundle, then verifies. */
static int eager_verify(const char *bundle, size_t len, mbedtls_x509_crt *chain, uint32_t *flags)
{
	mbedtls_x509_crt ca;
	int ret;

	mbedtls_x509_crt_init(&ca);
	(void)mbedtls_x509_crt_parse(&ca, (const unsigned char *)bundle, len + 1);
	*flags = 0;
	ret = mbedtls_x509_crt_verify(chain, ca.raw.p != NULL ? &ca : NULL, NULL, NULL, flags,
	                              NULL, NULL);
	if (ca.raw.p == NULL)
		*flags |= MBEDTLS_X509_BADCERT_NOT_TRUSTED;
	mbedtls_x509_crt_free(&ca);
	return ret;
}

static mbedtls_x509_crt *chain_of(const char *pem1, const char *pem2)
{
	mbedtls_x509_crt *c = malloc(sizeof(*c));

	mbedtls_x509_crt_init(c);
	if (mbedtls_x509_crt_parse(c, (const unsigned char *)pem1, strlen(pem1) + 1) != 0 ||
	    (pem2 != NULL &&
	     mbedtls_x509_crt_parse(c, (const unsigned char *)pem2, strlen(pem2) + 1) != 0)) {
		mbedtls_x509_crt_free(c);
		free(c);
		return NULL;
	}
	return c;
}

static void chain_free(mbedtls_x509_crt *c)
{
	mbedtls_x509_crt_free(c);
	free(c);
}

/* Same verdict as eager, for one bundle and one chain. */
static void same_verdict(const char *name, const char *bundle, size_t len, mbedtls_x509_crt *chain)
{
	struct castore *cs = castore_new();
	uint32_t fl = 0, fe = 0;
	int rl, re;
	char n[160];

	if (castore_add_pem(cs, bundle, len, false) != 0) {
		/* Nothing indexable: the caller then has no anchors. */
		fl = 0;
		rl = mbedtls_x509_crt_verify(chain, NULL, NULL, NULL, &fl, NULL, NULL);
		fl |= MBEDTLS_X509_BADCERT_NOT_TRUSTED;
	} else {
		rl = castore_verify(cs, chain, &fl);
	}
	re = eager_verify(bundle, len, chain, &fe);
	snprintf(n, sizeof(n), "same verdict: %s (flags %#x)", name, (unsigned)fe);
	T_CHECK(n, rl == re && fl == fe);
	castore_free(cs);
}

static time_t fake_now;
static time_t fake_clock(time_t *t)
{
	if (t != NULL)
		*t = fake_now;
	return fake_now;
}

int main(void)
{
	size_t lca, lup, lleaf, lrsa, lcn, lsys = 0, len;
	char *ca = read_text("ca.pem", &lca), *up = read_text("ca_upper.pem", &lup);
	char *leaf = read_text("leaf_ec.pem", &lleaf), *rsa = read_text("rsa_self.pem", &lrsa);
	char *cn = read_text("cn_only.pem", &lcn);
	char *sys = read_text("/etc/ssl/certs/ca-certificates.crt", &lsys);
	struct castore_stats st;
	struct castore *cs;
	mbedtls_x509_crt *c_leaf, *c_leafca, *c_rsa, *c_cn;
	char *b;
	uint32_t flags, f2;
	int r1, r2;

	if (psa_crypto_init() != PSA_SUCCESS || !ca || !up || !leaf || !rsa || !cn) {
		T_CHECK("castore: test data and PSA", 0);
		T_DONE();
	}
	if (sys == NULL) {               /* no system bundle: the test CA alone */
		sys = strdup("");
		lsys = 0;
	}
	c_leaf = chain_of(leaf, NULL);
	c_leafca = chain_of(leaf, ca);
	c_rsa = chain_of(rsa, NULL);
	c_cn = chain_of(cn, NULL);
	T_CHECK("castore: chains parse", c_leaf && c_leafca && c_rsa && c_cn);

	/* Verdicts: with and without the right anchor, a self-signed leaf
	 * that is itself an anchor, a chain that carries its root, the anchor
	 * only reachable by a case-insensitive name match. */
	b = cat3(sys, ca, rsa, &len);
	same_verdict("leaf, CA in bundle", b, len, c_leaf);
	same_verdict("leaf+CA, CA in bundle", b, len, c_leafca);
	same_verdict("self-signed anchor", b, len, c_rsa);
	same_verdict("self-signed, not in bundle", b, len, c_cn);
	free(b);
	b = cat3(sys, NULL, NULL, &len);
	same_verdict("leaf, CA missing", b, len, c_leaf);
	same_verdict("leaf+CA, CA missing", b, len, c_leafca);
	free(b);
	b = cat3(up, sys, NULL, &len);
	same_verdict("anchor name differs in case", b, len, c_leaf);
	free(b);
	b = cat3(up, ca, NULL, &len);
	same_verdict("two anchors of one name", b, len, c_leaf);
	free(b);

	/* The upper-case anchor must be found, not merely agree on failure. */
	cs = castore_new();
	T_CHECK("castore: index upper-case CA", castore_add_pem(cs, up, lup, true) == 0);
	T_CHECK("castore: leaf trusted through a case-insensitive name",
	        castore_verify(cs, c_leaf, &flags) == 0 && flags == 0);
	castore_free(cs);

	/* Laziness: the system bundle plus the test CA, one chain verified:
	 * one certificate parsed, every one indexed. */
	b = cat3(sys, ca, NULL, &len);
	cs = castore_new();
	T_CHECK("castore: index bundle", castore_add_pem(cs, b, len, false) == 0);
	castore_get_stats(cs, &st);
	{
		size_t blocks = 0;
		for (const char *p = b; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL; p++)
			blocks++;
		char n[96];
		snprintf(n, sizeof(n), "castore: every block indexed (%zu)", blocks);
		T_CHECK(n, st.indexed == blocks && st.parsed == 0);
	}
	r1 = castore_verify(cs, c_leaf, &flags);
	castore_get_stats(cs, &st);
	T_CHECK("castore: trusted via the bundle", r1 == 0 && flags == 0);
	T_CHECK("castore: only the issuer parsed", st.parsed == 1 && st.verified == 1);

	/* Cache: the same chain again is not verified again, same verdict. */
	r2 = castore_verify(cs, c_leaf, &f2);
	castore_get_stats(cs, &st);
	T_CHECK("castore: second time from the cache", st.verified == 1 && st.cached == 1);
	T_CHECK("castore: cached verdict equal", r2 == r1 && f2 == flags);
	/* A different chain (leaf + CA) is a different key. */
	r2 = castore_verify(cs, c_leafca, &f2);
	castore_get_stats(cs, &st);
	T_CHECK("castore: other chain verified", st.verified == 2 && r2 == 0 && f2 == 0);
	/* Past the leaf's notAfter (2046) the cached verdict is not used. */
	castore_set_clock(cs, fake_clock);
	fake_now = time(NULL);
	(void)castore_verify(cs, c_leaf, &f2);
	castore_get_stats(cs, &st);
	T_CHECK("castore: cache still valid now", st.verified == 2 && st.cached == 2);
	fake_now = (time_t)2429000000;   /* 2046-12-20, after every test date */
	(void)castore_verify(cs, c_leaf, &f2);
	castore_get_stats(cs, &st);
	T_CHECK("castore: verified again after a validity date", st.verified == 3);
	castore_free(cs);
	free(b);

	/* Hostile or odd input: no crash, nothing usable, or key 0. */
	{
		static const char *bad[] = {
			"",
			"-----BEGIN CERTIFICATE-----\n",
			"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
			"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
			"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
			"-----BEGIN CERTIFICATE-----\nMIIBIjCCAR6gAwIBAgIBATAKBggqhkjOPQQDAjAAMB4XDTI2\n"
			"-----END CERTIFICATE-----\n",
			"-----BEGIN CERTIFICATE-----\nMID/////\n-----END CERTIFICATE-----\n",
		};
		bool ok = true;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			cs = castore_new();
			if (castore_add_pem(cs, bad[i], strlen(bad[i]), true) != -1)
				ok = false;
			castore_free(cs);
			cs = castore_new();
			if (strlen(bad[i]) > 0 && castore_add_pem(cs, bad[i], strlen(bad[i]), false) == 0 &&
			    (castore_verify(cs, c_leaf, &flags) == 0 ||
			     !(flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)))
				ok = false;
			castore_free(cs);
		}
		T_CHECK("castore: broken blocks refused when checked, harmless otherwise", ok);
		/* A NUL byte: mbedTLS would not read past it, so neither do we. */
		char nul[64] = "-----BEGIN CERTIFICATE-----\n";
		cs = castore_new();
		T_CHECK("castore: NUL in text refused", castore_add_pem(cs, nul, sizeof(nul), false) == -1);
		castore_free(cs);
	}
	/* A block that is fine except for its first byte: key 0 (always a
	 * candidate) and still the same verdict as mbedTLS's. */
	{
		size_t ln;
		char *mangled = cat3(ca, NULL, NULL, &ln);
		char *body = strchr(mangled, '\n') + 1;
		body[0] = body[0] == 'A' ? 'B' : 'A';
		b = cat3(mangled, ca, NULL, &len);
		same_verdict("a mangled block before the CA", b, len, c_leaf);
		free(b);
		free(mangled);
	}

	chain_free(c_leaf);
	chain_free(c_leafca);
	chain_free(c_rsa);
	chain_free(c_cn);
	free(ca);
	free(up);
	free(leaf);
	free(rsa);
	free(cn);
	free(sys);
	mbedtls_psa_crypto_free();
	T_DONE();
}
