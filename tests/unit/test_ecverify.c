/* probe/ecverify.c: the fast P-256 verification gives exactly the verdict
 * of mbedTLS's algorithm (ecverify_generic, on mbedTLS's own ECP code) on
 * signatures made by mbedTLS's signer: valid ones, forged ones (hash, r or
 * s changed), r and s at and beyond their bounds, keys whose tables make
 * the point addition double or cancel (Q = G, Q = -G, Q = 2G), a hash that
 * is 0 mod n, hashes shorter and longer than 256 bits, a signature whose
 * x(R) is above n; and the hook that
 * mbedTLS calls hands other curves and bad points to the generic path. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "ecverify.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/ecdsa.h>
#include <mbedtls/sha256.h>

#include "t.h"

/* A deterministic generator (xorshift64*): test keys and nonces, never
 * anything secret. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static int test_rng(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		rng_state ^= rng_state >> 12;
		rng_state ^= rng_state << 25;
		rng_state ^= rng_state >> 27;
		out[i] = (unsigned char)((rng_state * 0x2545f4914f6cdd1dULL) >> 56);
	}
	return 0;
}

struct tally {
	int agree, disagree, accepted, refused;
};

/* Both paths on one input; they must return the same code. */
static int both(struct tally *t, mbedtls_ecp_group *grp, const unsigned char *h, size_t hl,
                const mbedtls_ecp_point *Q, const mbedtls_mpi *r, const mbedtls_mpi *s)
{
	int fast = ecverify_p256(grp, h, hl, Q, r, s);
	int ref = ecverify_generic(grp, h, hl, Q, r, s);
	if (fast == ref) {
		t->agree++;
	} else {
		t->disagree++;
		printf("# disagree: fast %d, mbedTLS's algorithm %d (hash length %zu)\n",
		       fast, ref, hl);
	}
	if (ref == 0)
		t->accepted++;
	else
		t->refused++;
	return ref;
}

/* Signs a random hash of length hl with d and runs both paths on the
 * signature and on three forgeries. Returns how many verdicts were right. */
static int round_trip(struct tally *t, mbedtls_ecp_group *grp, const mbedtls_mpi *d,
                      const mbedtls_ecp_point *Q, size_t hl, const unsigned char *fixed)
{
	unsigned char h[64];
	mbedtls_mpi r, s, x;
	int right = 0;

	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	mbedtls_mpi_init(&x);
	if (fixed)
		memcpy(h, fixed, hl);
	else
		test_rng(NULL, h, hl);
	if (mbedtls_ecdsa_sign(grp, &r, &s, d, h, hl, test_rng, NULL) != 0)
		goto out;
	right += both(t, grp, h, hl, Q, &r, &s) == 0;
	h[0] ^= 0x01;   /* within the leftmost 256 bits that count */
	right += both(t, grp, h, hl, Q, &r, &s) == MBEDTLS_ERR_ECP_VERIFY_FAILED;
	h[0] ^= 0x01;   /* within the leftmost 256 bits that count */
	mbedtls_mpi_add_int(&x, &r, 1);
	right += both(t, grp, h, hl, Q, &x, &s) == MBEDTLS_ERR_ECP_VERIFY_FAILED;
	mbedtls_mpi_add_int(&x, &s, 1);
	right += both(t, grp, h, hl, Q, &r, &x) == MBEDTLS_ERR_ECP_VERIFY_FAILED;
out:
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	mbedtls_mpi_free(&x);
	return right;
}

static void key_from_scalar(mbedtls_ecp_group *grp, mbedtls_mpi *d, mbedtls_ecp_point *Q)
{
	mbedtls_ecp_mul(grp, Q, d, &grp->G, test_rng, NULL);
}

/* A signature whose R has x(R) >= n, so that r = x(R) - n: the case that
 * verification must compare as r + n. Made without a private key: R is a
 * point with x in [n, p), s = 1 and e = 5, and Q = (R - eG)/r, so that
 * u1 G + u2 Q = eG + r Q = R. Returns 0 when made. */
static int high_x_signature(mbedtls_ecp_group *grp, unsigned char h[32], mbedtls_ecp_point *Q,
                            mbedtls_mpi *r, mbedtls_mpi *s)
{
	mbedtls_mpi x, rhs, t, e, m1, m2;
	mbedtls_ecp_point R;
	int ret = -1;
	mbedtls_mpi_init(&x); mbedtls_mpi_init(&rhs); mbedtls_mpi_init(&t);
	mbedtls_mpi_init(&e); mbedtls_mpi_init(&m1); mbedtls_mpi_init(&m2);
	mbedtls_ecp_point_init(&R);
	/* y = rhs^((p+1)/4) is a root when rhs is a square (p = 3 mod 4) */
	mbedtls_mpi_copy(&x, &grp->N);
	for (int tries = 0; tries < 200; tries++) {
		mbedtls_mpi_add_int(&x, &x, 1);
		mbedtls_mpi_mul_mpi(&rhs, &x, &x);
		mbedtls_mpi_sub_int(&rhs, &rhs, 3);
		mbedtls_mpi_mul_mpi(&rhs, &rhs, &x);
		mbedtls_mpi_add_mpi(&rhs, &rhs, &grp->B);
		mbedtls_mpi_mod_mpi(&rhs, &rhs, &grp->P);
		mbedtls_mpi_add_int(&t, &grp->P, 1);
		mbedtls_mpi_shift_r(&t, 2);
		mbedtls_mpi_exp_mod(&R.Y, &rhs, &t, &grp->P, NULL);
		mbedtls_mpi_mul_mpi(&t, &R.Y, &R.Y);
		mbedtls_mpi_mod_mpi(&t, &t, &grp->P);
		if (mbedtls_mpi_cmp_mpi(&t, &rhs) == 0)
			break;
	}
	mbedtls_mpi_copy(&R.X, &x);
	mbedtls_mpi_lset(&R.Z, 1);
	if (mbedtls_ecp_check_pubkey(grp, &R) != 0)
		goto out;
	mbedtls_mpi_sub_mpi(r, &x, &grp->N);
	mbedtls_mpi_lset(s, 1);
	mbedtls_mpi_lset(&e, 5);
	memset(h, 0, 32);
	h[31] = 5;
	/* Q = r^-1 R + (-e r^-1) G */
	mbedtls_mpi_inv_mod(&m1, r, &grp->N);
	mbedtls_mpi_mul_mpi(&m2, &e, &m1);
	mbedtls_mpi_mod_mpi(&m2, &m2, &grp->N);
	mbedtls_mpi_sub_mpi(&m2, &grp->N, &m2);
	if (mbedtls_ecp_muladd(grp, Q, &m1, &R, &m2, &grp->G) == 0)
		ret = 0;
out:
	mbedtls_mpi_free(&x); mbedtls_mpi_free(&rhs); mbedtls_mpi_free(&t);
	mbedtls_mpi_free(&e); mbedtls_mpi_free(&m1); mbedtls_mpi_free(&m2);
	mbedtls_ecp_point_free(&R);
	return ret;
}

#ifdef P256_GTABLE_LEN
/* Compiled when this file is included after probe/ecverify.c
 * (test_ecverify_portable), which makes its static table visible: every
 * entry i is (2i+1)G, as mbedTLS computes it, in Montgomery form. */
static int gtable_ok(mbedtls_ecp_group *grp)
{
	mbedtls_mpi k, v;
	mbedtls_ecp_point P;
	int ok = 1;
	mbedtls_mpi_init(&k); mbedtls_mpi_init(&v);
	mbedtls_ecp_point_init(&P);
	for (int i = 0; i < P256_GTABLE_LEN; i++) {
		mbedtls_mpi_lset(&k, 2 * i + 1);
		mbedtls_ecp_mul(grp, &P, &k, &grp->G, test_rng, NULL);
		for (int c = 0; c < 2; c++) {
			unsigned char want[32], got[32];
			mbedtls_mpi_copy(&v, c ? &P.Y : &P.X);
			mbedtls_mpi_shift_l(&v, 256);
			mbedtls_mpi_mod_mpi(&v, &v, &grp->P);
			mbedtls_mpi_write_binary(&v, want, sizeof want);
			for (int b = 0; b < 32; b++)
				got[b] = (unsigned char)(P256_GTABLE[i][c][3 - b / 8] >> (56 - 8 * (b % 8)));
			ok &= memcmp(want, got, sizeof want) == 0;
		}
	}
	mbedtls_mpi_free(&k); mbedtls_mpi_free(&v);
	mbedtls_ecp_point_free(&P);
	return ok;
}
#endif

int main(void)
{
	mbedtls_ecp_group grp;
	mbedtls_mpi d;
	mbedtls_ecp_point Q;
	struct tally t = { 0 };
	static const size_t lens[] = { 32, 20, 48, 64, 1 };

	mbedtls_ecp_group_init(&grp);
	mbedtls_mpi_init(&d);
	mbedtls_ecp_point_init(&Q);
	mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);

	/* Random keys, random hashes of every length. */
	int right = 0, want = 0;
	for (int i = 0; i < 150; i++) {
		mbedtls_ecp_gen_keypair(&grp, &d, &Q, test_rng, NULL);
		right += round_trip(&t, &grp, &d, &Q, lens[i % 5], NULL);
		want += 4;
	}
	T_CHECK("p256: 150 random keys: signatures accepted, forgeries refused", right == want);

	/* Keys whose multiples collide with G's in the additions. */
	static const int small[] = { 1, 2, -1, -2 };
	right = want = 0;
	for (size_t k = 0; k < sizeof small / sizeof small[0]; k++) {
		if (small[k] > 0) {
			mbedtls_mpi_lset(&d, small[k]);
		} else {
			mbedtls_mpi_copy(&d, &grp.N);
			mbedtls_mpi_sub_int(&d, &d, -small[k]);
		}
		key_from_scalar(&grp, &d, &Q);
		for (int i = 0; i < 64; i++) {
			right += round_trip(&t, &grp, &d, &Q, 32, NULL);
			want += 4;
		}
	}
	T_CHECK("p256: Q = G, 2G, -G, -2G (doubling and cancelling additions)", right == want);

	/* A hash equal to n: e = 0 mod n, so u1 = 0. */
	unsigned char nbytes[32];
	mbedtls_mpi_write_binary(&grp.N, nbytes, sizeof nbytes);
	mbedtls_ecp_gen_keypair(&grp, &d, &Q, test_rng, NULL);
	T_CHECK("p256: hash = n (u1 = 0)", round_trip(&t, &grp, &d, &Q, 32, nbytes) == 4);

	/* r and s at and beyond the bounds 1 and n - 1. */
	mbedtls_mpi r, s;
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	unsigned char h[32];
	test_rng(NULL, h, sizeof h);
	int refused = 0;
	const mbedtls_mpi *edges[6];
	mbedtls_mpi zero, one, n1, n, n2, neg;
	mbedtls_mpi_init(&zero); mbedtls_mpi_init(&one); mbedtls_mpi_init(&n1);
	mbedtls_mpi_init(&n); mbedtls_mpi_init(&n2); mbedtls_mpi_init(&neg);
	mbedtls_mpi_lset(&zero, 0);
	mbedtls_mpi_lset(&one, 1);
	mbedtls_mpi_copy(&n, &grp.N);
	mbedtls_mpi_sub_int(&n1, &grp.N, 1);
	mbedtls_mpi_lset(&n2, 1);
	mbedtls_mpi_shift_l(&n2, 300);
	mbedtls_mpi_lset(&neg, -5);
	edges[0] = &zero; edges[1] = &one; edges[2] = &n1; edges[3] = &n; edges[4] = &n2;
	edges[5] = &neg;
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 6; j++)
			refused += both(&t, &grp, h, sizeof h, &Q, edges[i], edges[j]) != 0;
	T_CHECK("p256: r, s in {0, 1, n-1, n, 2^300, -5}: no such signature verifies",
	        refused == 36);

	/* The hook: P-256 through the fast path, the same verdicts. */
	mbedtls_ecp_gen_keypair(&grp, &d, &Q, test_rng, NULL);
	test_rng(NULL, h, sizeof h);
	mbedtls_ecdsa_sign(&grp, &r, &s, &d, h, sizeof h, test_rng, NULL);
	T_CHECK("hook: mbedtls_ecdsa_verify accepts a P-256 signature",
	        mbedtls_ecdsa_verify(&grp, h, sizeof h, &Q, &r, &s) == 0);
	h[0] ^= 0x80;
	T_CHECK("hook: and refuses it for another hash",
	        mbedtls_ecdsa_verify(&grp, h, sizeof h, &Q, &r, &s) ==
	        MBEDTLS_ERR_ECP_VERIFY_FAILED);
	h[0] ^= 0x80;

	/* A public key off the curve: not the fast path's case; the library's
	 * algorithm refuses it. */
	mbedtls_ecp_point bad;
	mbedtls_ecp_point_init(&bad);
	mbedtls_ecp_copy(&bad, &Q);
	mbedtls_mpi_add_int(&bad.Y, &bad.Y, 1);
	T_CHECK("p256: a point off the curve is left to the generic path",
	        ecverify_p256(&grp, h, sizeof h, &bad, &r, &s) == ECVERIFY_NOT_HANDLED);
	T_CHECK("hook: a point off the curve is refused",
	        mbedtls_ecdsa_verify(&grp, h, sizeof h, &bad, &r, &s) != 0);
	mbedtls_mpi_copy(&bad.Y, &Q.Y);
	mbedtls_mpi_add_mpi(&bad.X, &Q.X, &grp.P);
	T_CHECK("p256: a coordinate >= p is left to the generic path",
	        ecverify_p256(&grp, h, sizeof h, &bad, &r, &s) == ECVERIFY_NOT_HANDLED);
	mbedtls_ecp_point_free(&bad);

	/* RFC 6979 A.2.5: P-256, SHA-256, message "sample". */
	static const char *ux = "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6";
	static const char *uy = "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";
	static const char *vr = "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716";
	static const char *vs = "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8";
	mbedtls_ecp_point U;
	mbedtls_ecp_point_init(&U);
	mbedtls_mpi_read_string(&U.X, 16, ux);
	mbedtls_mpi_read_string(&U.Y, 16, uy);
	mbedtls_mpi_lset(&U.Z, 1);
	mbedtls_mpi_read_string(&r, 16, vr);
	mbedtls_mpi_read_string(&s, 16, vs);
	unsigned char dig[32];
	mbedtls_sha256((const unsigned char *)"sample", 6, dig, 0);
	T_CHECK("p256: RFC 6979 A.2.5 test vector verifies (fast path)",
	        ecverify_p256(&grp, dig, sizeof dig, &U, &r, &s) == 0);
	T_CHECK("p256: RFC 6979 A.2.5 test vector verifies (generic path)",
	        ecverify_generic(&grp, dig, sizeof dig, &U, &r, &s) == 0);
	mbedtls_ecp_point_free(&U);

	/* x(R) >= n: accepted as r + n, and nothing near it is. */
	unsigned char hx[32];
	T_CHECK("p256: made a signature whose x(R) is above n",
	        high_x_signature(&grp, hx, &Q, &r, &s) == 0);
	T_CHECK("p256: x(R) = r + n verifies on both paths",
	        both(&t, &grp, hx, sizeof hx, &Q, &r, &s) == 0 &&
	        ecverify_p256(&grp, hx, sizeof hx, &Q, &r, &s) == 0);
	mbedtls_mpi_add_int(&r, &r, 1);
	T_CHECK("p256: x(R) = r + n - 1 is refused", both(&t, &grp, hx, sizeof hx, &Q, &r, &s) ==
	        MBEDTLS_ERR_ECP_VERIFY_FAILED);
	mbedtls_mpi_sub_int(&r, &r, 1);
	hx[31] ^= 2;
	T_CHECK("p256: the x(R) >= n signature on another hash is refused",
	        both(&t, &grp, hx, sizeof hx, &Q, &r, &s) == MBEDTLS_ERR_ECP_VERIFY_FAILED);

#ifdef P256_GTABLE_LEN
	T_CHECK("p256: the constant table holds 1G, 3G, ..., 127G", gtable_ok(&grp));
#endif

	/* Another curve goes to the generic path, which verifies it. */
	mbedtls_ecp_group g384;
	mbedtls_ecp_group_init(&g384);
	mbedtls_ecp_group_load(&g384, MBEDTLS_ECP_DP_SECP384R1);
	mbedtls_ecp_gen_keypair(&g384, &d, &Q, test_rng, NULL);
	unsigned char h48[48];
	test_rng(NULL, h48, sizeof h48);
	mbedtls_ecdsa_sign(&g384, &r, &s, &d, h48, sizeof h48, test_rng, NULL);
	T_CHECK("p384: not the fast path's curve",
	        ecverify_p256(&g384, h48, sizeof h48, &Q, &r, &s) == ECVERIFY_NOT_HANDLED);
	T_CHECK("hook: a P-384 signature verifies",
	        mbedtls_ecdsa_verify(&g384, h48, sizeof h48, &Q, &r, &s) == 0);
	h48[47] ^= 1;
	T_CHECK("hook: a P-384 forgery is refused",
	        mbedtls_ecdsa_verify(&g384, h48, sizeof h48, &Q, &r, &s) ==
	        MBEDTLS_ERR_ECP_VERIFY_FAILED);
	mbedtls_ecp_group_free(&g384);

	printf("# %d verdicts compared: %d accepted, %d refused\n", t.agree + t.disagree,
	       t.accepted, t.refused);
	T_CHECK("p256: the fast path and mbedTLS's algorithm never disagree",
	        t.disagree == 0 && t.agree > 1600);

	mbedtls_mpi_free(&r); mbedtls_mpi_free(&s);
	mbedtls_mpi_free(&zero); mbedtls_mpi_free(&one); mbedtls_mpi_free(&n1);
	mbedtls_mpi_free(&n); mbedtls_mpi_free(&n2); mbedtls_mpi_free(&neg);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&Q);
	mbedtls_ecp_group_free(&grp);
	T_DONE();
}
