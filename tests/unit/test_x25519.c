/* The x25519 public keys of the pinned mbedTLS, whose PSA layer computes
 * them through HACL* (scripts/patches/mbedtls-3.6.6-x25519-everest-keygen
 * .patch): RFC 7748's test vectors (6.1), and 200 generated key pairs
 * against mbedTLS's own Montgomery ladder (mbedtls_ecp_mul), and a
 * key exchange between two generated keys. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include <stdio.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/psa_util.h>
#include <psa/crypto.h>

#include "t.h"

static void unhex(const char *h, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
}

static psa_key_id_t import(const unsigned char priv[32])
{
	psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
	psa_key_id_t id = 0;
	psa_set_key_type(&a, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY));
	psa_set_key_bits(&a, 255);
	psa_set_key_usage_flags(&a, PSA_KEY_USAGE_DERIVE | PSA_KEY_USAGE_EXPORT);
	psa_set_key_algorithm(&a, PSA_ALG_ECDH);
	if (psa_import_key(&a, priv, 32, &id) != PSA_SUCCESS)
		return 0;
	return id;
}

static int generate(psa_key_id_t *id)
{
	psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
	psa_set_key_type(&a, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY));
	psa_set_key_bits(&a, 255);
	psa_set_key_usage_flags(&a, PSA_KEY_USAGE_DERIVE | PSA_KEY_USAGE_EXPORT);
	psa_set_key_algorithm(&a, PSA_ALG_ECDH);
	return psa_generate_key(&a, id) == PSA_SUCCESS;
}

/* The public key of priv by mbedTLS's ladder, not through PSA. */
static int ladder(const unsigned char priv[32], unsigned char pub[32])
{
	mbedtls_ecp_keypair kp;
	mbedtls_ecp_point Q;
	int ok;
	mbedtls_ecp_keypair_init(&kp);
	mbedtls_ecp_point_init(&Q);
	ok = mbedtls_ecp_read_key(MBEDTLS_ECP_DP_CURVE25519, &kp, priv, 32) == 0 &&
	     mbedtls_ecp_mul(&kp.grp, &Q, &kp.d, &kp.grp.G, mbedtls_psa_get_random,
	                     MBEDTLS_PSA_RANDOM_STATE) == 0 &&
	     mbedtls_mpi_write_binary_le(&Q.X, pub, 32) == 0;
	mbedtls_ecp_point_free(&Q);
	mbedtls_ecp_keypair_free(&kp);
	return ok;
}

int main(void)
{
	static const char *vec[][2] = {
		{ "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
		  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a" },
		{ "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
		  "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f" },
	};
	unsigned char priv[32], want[32], got[32], other[32];
	size_t len;

	if (psa_crypto_init() != PSA_SUCCESS) {
		printf("FAIL x25519: psa_crypto_init\n");
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		unhex(vec[i][0], priv, 32);
		unhex(vec[i][1], want, 32);
		psa_key_id_t id = import(priv);
		int ok = id != 0 && psa_export_public_key(id, got, sizeof got, &len) == PSA_SUCCESS &&
		         len == 32 && memcmp(got, want, 32) == 0;
		T_CHECK(i == 0 ? "x25519: RFC 7748 6.1 Alice's public key" :
		                 "x25519: RFC 7748 6.1 Bob's public key", ok);
		T_CHECK(i == 0 ? "x25519: the ladder agrees on Alice's" :
		                 "x25519: the ladder agrees on Bob's",
		        ladder(priv, other) && memcmp(other, want, 32) == 0);
		psa_destroy_key(id);
	}

	int same = 0;
	for (int i = 0; i < 200; i++) {
		psa_key_id_t id;
		if (!generate(&id))
			break;
		if (psa_export_key(id, priv, sizeof priv, &len) == PSA_SUCCESS && len == 32 &&
		    psa_export_public_key(id, got, sizeof got, &len) == PSA_SUCCESS && len == 32 &&
		    ladder(priv, other) && memcmp(got, other, 32) == 0)
			same++;
		psa_destroy_key(id);
	}
	T_CHECK("x25519: 200 generated key pairs: the public key is the ladder's", same == 200);

	/* A key exchange: both sides derive the same secret. */
	psa_key_id_t a, b;
	unsigned char pa[32], pb[32], sa[32], sb[32];
	size_t la, lb;
	int ok = generate(&a) && generate(&b) &&
	         psa_export_public_key(a, pa, sizeof pa, &len) == PSA_SUCCESS &&
	         psa_export_public_key(b, pb, sizeof pb, &len) == PSA_SUCCESS &&
	         psa_raw_key_agreement(PSA_ALG_ECDH, a, pb, 32, sa, sizeof sa, &la) == PSA_SUCCESS &&
	         psa_raw_key_agreement(PSA_ALG_ECDH, b, pa, 32, sb, sizeof sb, &lb) == PSA_SUCCESS &&
	         la == 32 && lb == 32 && memcmp(sa, sb, 32) == 0;
	T_CHECK("x25519: two generated keys agree on the shared secret", ok);
	mbedtls_psa_crypto_free();
	T_DONE();
}
