/* dane.c: TLSA matching (RFC 6698 / 7671 / 7672) for every usage, selector
 * and matching type, against the certificates of tests/unit/data (leaf_ec
 * is signed by ca). Expected digests and SPKI bytes were computed with
 * openssl, independently of the code under test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "dane.h"
#include "t.h"

#define LEAF_CERT_SHA256 "57bf7e92dd266e5296f6f7040951a4cc55b0e97421956eab496c2e384339c313"
#define LEAF_CERT_SHA512 "5190ed2f558d112fff1a21557287c42cd0436141a756e673b3b32cd16452b528" \
                         "f05473879317bc3672c4e2d42488348472b263f03b2c6421b77bd1625ed60495"
#define LEAF_SPKI_SHA256 "f4274ad97e9452c9f85efbc90563a6addfe850f684683153b8569915a1818d0b"
#define LEAF_SPKI_SHA512 "85fb5d521d86fc307d55886d8897850987e8f254ada34b6eb8831f91b02bfc3b" \
                         "de3f6663762e182bf5400bc3e423ec30de43ac11963dfab15d01a340756569f7"
#define LEAF_SPKI "3059301306072a8648ce3d020106082a8648ce3d0301070342000495473ab651b2576f24" \
                  "f737ff9f4b8cd95e831011298cf67548b522b9a21a398b0efb0360842d263a020e349f" \
                  "c4691c95e1ce729ee6f7824f5fd7001eeeea63b9"
#define CA_CERT_SHA256 "c0ea4ca94e5fe1fe643ac1e22856de7206130a5a7729ba4723cda4a6248d5455"
#define CA_CERT_SHA512 "914f7c469c4fa01f20bd0dece5c20b9d57b0ef5cf7c0956701bbb97c537bcc44" \
                       "044df1a7ec529d8c9b8075679f6a05353624329c1ce6229e89e5972831492801"
#define CA_SPKI_SHA256 "a86efd06cc9e851e2edeaf1b55c80ea24a79e66ecacc56bc148bf8595e2bd270"
#define CA_SPKI_SHA512 "61574e49b9f343aad79ec41fa3408cf7126ae220424ceb25e8d377f9f734f93f" \
                       "6a4d0d0de8a78cc95e966b8e21518b09598e0813496341b4e4da385040e42edd"
#define CA_SPKI "3076301006072a8648ce3d020106052b8104002203620004a0bbd193246ed06d72d25c3d3c" \
                "8ca2f3766a21e83b29bf4b4ddcfd0303e75c6dca1bdcc1720f57b3066c89cbe2ac685fc95e" \
                "430d032221989dcef3ecc99a9b6af43b2649f94f17455894168541ba1d0f30245b43878f" \
                "608ab3942bf867e919fc"
#define ZERO32 "0000000000000000000000000000000000000000000000000000000000000000"
#define FULL_LEAF "@leaf"   /* the whole DER of leaf_ec */
#define FULL_CA   "@ca"

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n)) != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static size_t unhex(const char *h, unsigned char *out, size_t max)
{
	size_t n = 0;

	for (; h[0] && h[1] && n < max; h += 2) {
		unsigned v;

		sscanf(h, "%2x", &v);
		out[n++] = (unsigned char)v;
	}
	return n;
}

static const struct {
	const char *name;
	unsigned usage, selector, matching;
	const char *data;            /* hex, or FULL_LEAF / FULL_CA */
	bool host_ok;
	bool want_matched, want_ok;
} cases[] = {
	/* DANE-EE(3): the leaf, every selector and matching type. */
	{ "ee-cert-full",    3, 0, 0, FULL_LEAF,        true,  true,  true },
	{ "ee-cert-sha256",  3, 0, 1, LEAF_CERT_SHA256, true,  true,  true },
	{ "ee-cert-sha512",  3, 0, 2, LEAF_CERT_SHA512, true,  true,  true },
	{ "ee-spki-full",    3, 1, 0, LEAF_SPKI,        true,  true,  true },
	{ "ee-spki-sha256",  3, 1, 1, LEAF_SPKI_SHA256, true,  true,  true },
	{ "ee-spki-sha512",  3, 1, 2, LEAF_SPKI_SHA512, true,  true,  true },
	/* RFC 7672 3.1.1: names are ignored with DANE-EE. */
	{ "ee-ignores-name", 3, 1, 1, LEAF_SPKI_SHA256, false, true,  true },
	{ "ee-wrong-digest", 3, 1, 1, ZERO32,           true,  false, false },
	{ "ee-not-the-ca",   3, 1, 1, CA_SPKI_SHA256,   true,  false, false },
	{ "ee-sel-mismatch", 3, 0, 1, LEAF_SPKI_SHA256, true,  false, false },
	{ "ee-short-data",   3, 1, 1, "f4274ad9",       true,  false, false },
	/* DANE-TA(2): the issuer in the chain, chain verified, name checked. */
	{ "ta-cert-full",    2, 0, 0, FULL_CA,          true,  true,  true },
	{ "ta-cert-sha256",  2, 0, 1, CA_CERT_SHA256,   true,  true,  true },
	{ "ta-cert-sha512",  2, 0, 2, CA_CERT_SHA512,   true,  true,  true },
	{ "ta-spki-full",    2, 1, 0, CA_SPKI,          true,  true,  true },
	{ "ta-spki-sha256",  2, 1, 1, CA_SPKI_SHA256,   true,  true,  true },
	{ "ta-spki-sha512",  2, 1, 2, CA_SPKI_SHA512,   true,  true,  true },
	{ "ta-name-checked", 2, 1, 1, CA_SPKI_SHA256,   false, true,  false },
	{ "ta-not-the-leaf", 2, 1, 1, LEAF_SPKI_SHA256, true,  false, false },
	{ "ta-wrong",        2, 0, 1, ZERO32,           true,  false, false },
	/* PKIX-TA(0) / PKIX-EE(1): may match, never authenticate for SMTP. */
	{ "pkix-ta",         0, 0, 1, CA_CERT_SHA256,   true,  true,  false },
	{ "pkix-ee",         1, 1, 1, LEAF_SPKI_SHA256, true,  true,  false },
	/* Unknown usage / selector / matching type. */
	{ "usage-4",         4, 1, 1, LEAF_SPKI_SHA256, true,  false, false },
	{ "selector-2",      3, 2, 1, LEAF_SPKI_SHA256, true,  false, false },
	{ "matching-3",      3, 1, 3, LEAF_SPKI_SHA256, true,  false, false },
};

int main(void)
{
	struct cert_info chain[2];
	unsigned char *leaf, *ca, data[512];
	size_t leaf_len = 0, ca_len = 0;

	leaf = read_file("tests/unit/data/leaf_ec.der", &leaf_len);
	ca = read_file("tests/unit/data/ca.der", &ca_len);
	T_CHECK("dane-data-present", leaf != NULL && ca != NULL);
	if (leaf == NULL || ca == NULL)
		T_DONE();
	T_CHECK("dane-extract-leaf", cert_extract_der(leaf, leaf_len, 0, &chain[0]) == 0);
	T_CHECK("dane-extract-ca", cert_extract_der(ca, ca_len, 0, &chain[1]) == 0);
	T_CHECK("dane-der-kept", chain[0].der != NULL && chain[0].der_len == leaf_len &&
	        chain[0].spki_len == 91);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dane_tlsa t;
		bool matched = false, ok;
		char why[160], name[80];

		t.usage = cases[i].usage;
		t.selector = cases[i].selector;
		t.matching = cases[i].matching;
		if (strcmp(cases[i].data, FULL_LEAF) == 0) {
			t.data = leaf;
			t.len = leaf_len;
		} else if (strcmp(cases[i].data, FULL_CA) == 0) {
			t.data = ca;
			t.len = ca_len;
		} else {
			t.len = unhex(cases[i].data, data, sizeof(data));
			t.data = data;
		}
		ok = dane_record_check(&t, chain, 2, cases[i].host_ok, &matched, why, sizeof(why));
		snprintf(name, sizeof(name), "dane-%s-matched", cases[i].name);
		T_CHECK(name, matched == cases[i].want_matched);
		snprintf(name, sizeof(name), "dane-%s-ok", cases[i].name);
		T_CHECK(name, ok == cases[i].want_ok);
	}

	/* A DANE-TA record needs the issuer in the chain: leaf alone fails. */
	{
		struct dane_tlsa t = { 2, 1, 1, data, 0 };
		bool matched;

		t.len = unhex(CA_SPKI_SHA256, data, sizeof(data));
		T_CHECK("dane-ta-needs-chain", !dane_record_check(&t, chain, 1, true, &matched, NULL, 0) &&
		        !matched);
	}
	/* A "chain" whose TA did not sign the leaf: the match alone is not enough. */
	{
		struct cert_info wrong[2];
		size_t rl = 0;
		unsigned char *rsa = read_file("tests/unit/data/rsa_self.der", &rl);
		struct dane_tlsa t = { 2, 0, 1, data, 0 };
		bool matched = false;
		char why[160] = "";

		if (rsa != NULL && cert_extract_der(rsa, rl, 0, &wrong[1]) == 0) {
			wrong[0] = chain[0];
			t.matching = 0;    /* Full: the whole DER of rsa_self */
			t.data = rsa;
			t.len = rl;
			T_CHECK("dane-ta-unsigned-chain",
			        !dane_record_check(&t, wrong, 2, true, &matched, why, sizeof(why)) &&
			        matched && strstr(why, "does not verify") != NULL);
			cert_info_clear(&wrong[1]);
		} else {
			T_CHECK("dane-ta-unsigned-chain", false);
		}
		free(rsa);
	}
	/* No DER kept (dropped after the check): cannot tell, never matches. */
	{
		struct dane_tlsa t = { 3, 1, 1, data, 0 };

		t.len = unhex(LEAF_SPKI_SHA256, data, sizeof(data));
		T_CHECK("dane-cert-matches-1", dane_cert_matches(&t, &chain[0]) == 1);
		cert_info_drop_der(&chain[0]);
		T_CHECK("dane-cert-matches-dropped", dane_cert_matches(&t, &chain[0]) == -1);
	}
	{
		struct dane_tlsa u1 = { 1, 1, 1, NULL, 0 }, u3 = { 3, 1, 2, NULL, 0 },
		                 u2 = { 2, 0, 0, NULL, 0 }, bad = { 3, 1, 3, NULL, 0 };

		T_CHECK("dane-usable-pkix", !dane_record_usable(&u1));
		T_CHECK("dane-usable-ee", dane_record_usable(&u3));
		T_CHECK("dane-usable-ta", dane_record_usable(&u2));
		T_CHECK("dane-usable-bad-mt", !dane_record_usable(&bad));
	}
	cert_info_clear(&chain[0]);
	cert_info_clear(&chain[1]);
	free(leaf);
	free(ca);
	T_DONE();
}
