/* probe/ecverify.c's field arithmetic checked directly, on the build's own
 * code path (adc/sbb chains on x86-64): the dedicated squaring equals the
 * multiplication of a number by itself, and the multiplication equals
 * mbedTLS's bignum result a*b*2^-256 mod p, on edge values (0, 1, 2^64-1,
 * p-1, p-2, 2^255, values with long runs of ones) and 20,000 random ones;
 * the binary inversion mod n gives a*a^-1 = 1. The file includes
 * ecverify.c to reach its static functions. */
#include "../../probe/ecverify.c"

#include <stdio.h>
#include <string.h>

#include <mbedtls/bignum.h>

#include "t.h"

static uint64_t st = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	st ^= st >> 12;
	st ^= st << 25;
	st ^= st >> 27;
	return st * 0x2545f4914f6cdd1dULL;
}

static void to_mpi(mbedtls_mpi *X, const uint64_t a[4])
{
	unsigned char b[32];
	for (int i = 0; i < 32; i++)
		b[i] = (unsigned char)(a[3 - i / 8] >> (56 - 8 * (i % 8)));
	mbedtls_mpi_read_binary(X, b, sizeof b);
}

/* a random number below m, often with runs of ones or zeros */
static void below(uint64_t r[4], const uint64_t m[4])
{
	do {
		for (int i = 0; i < 4; i++) {
			uint64_t v = rnd();
			switch (rnd() % 8) {
			case 0: v = ~0ULL; break;
			case 1: v = 0; break;
			case 2: v |= 0xffffffff00000000ULL; break;
			default: break;
			}
			r[i] = v;
		}
	} while (geq(r, m));
}

int main(void)
{
	const uint64_t *p = P256_F.m, *n = P256_N.m;
	mbedtls_mpi A, B, P, Rinv, E, G;
	mbedtls_mpi_init(&A); mbedtls_mpi_init(&B); mbedtls_mpi_init(&P);
	mbedtls_mpi_init(&Rinv); mbedtls_mpi_init(&E); mbedtls_mpi_init(&G);
	to_mpi(&P, p);
	mbedtls_mpi_lset(&Rinv, 1);
	mbedtls_mpi_shift_l(&Rinv, 256);
	mbedtls_mpi_inv_mod(&Rinv, &Rinv, &P);

	uint64_t edge[][4] = {
		{ 0, 0, 0, 0 }, { 1, 0, 0, 0 }, { ~0ULL, 0, 0, 0 }, { 0, 0, 0, 1ULL << 63 },
		{ p[0] - 1, p[1], p[2], p[3] }, { p[0] - 2, p[1], p[2], p[3] },
		{ ~0ULL, ~0ULL, ~0ULL, 0 }, { 0, ~0ULL, 0, ~0ULL >> 1 },
	};
	int sqr_ok = 1, mul_ok = 1, cases = 0;
	for (int i = 0; i < 20000 + 64; i++) {
		uint64_t a[4], b[4], m[4], q[4], want[4];
		if (i < 64) {
			memcpy(a, edge[i % 8], sizeof a);
			memcpy(b, edge[i / 8], sizeof b);
		} else {
			below(a, p);
			below(b, p);
		}
		p256_mul(m, a, b);
		p256_sqr(q, a);
		p256_mul(want, a, a);
		sqr_ok &= memcmp(q, want, sizeof q) == 0;
		/* a b 2^-256 mod p by mbedTLS */
		to_mpi(&A, a);
		to_mpi(&B, b);
		mbedtls_mpi_mul_mpi(&E, &A, &B);
		mbedtls_mpi_mul_mpi(&E, &E, &Rinv);
		mbedtls_mpi_mod_mpi(&E, &E, &P);
		to_mpi(&G, m);
		mul_ok &= mbedtls_mpi_cmp_mpi(&E, &G) == 0;
		cases++;
	}
	printf("# %d products and squares\n", cases);
	T_CHECK("arith: p256_mul is a*b/2^256 mod p (mbedTLS bignum), edges and random", mul_ok);
	T_CHECK("arith: p256_sqr(a) == p256_mul(a, a)", sqr_ok);

	int inv_ok = 1;
	for (int i = 0; i < 2000; i++) {
		uint64_t a[4], w[4], one[4];
		if (i == 0)
			memcpy(a, (uint64_t[4]){ 1, 0, 0, 0 }, sizeof a);
		else if (i == 1)
			memcpy(a, (uint64_t[4]){ n[0] - 1, n[1], n[2], n[3] }, sizeof a);
		else
			do
				below(a, n);
			while (is_zero(a));
		inv_mod(w, a, n);
		/* a * w in Montgomery form, times R^2, is a*w*R mod n... compare plainly */
		uint64_t am[4], wm[4];
		mont_mul(am, a, P256_N.rr, &P256_N);   /* a R */
		mont_mul(wm, w, P256_N.rr, &P256_N);   /* w R */
		mont_mul(one, am, wm, &P256_N);        /* a w R */
		inv_ok &= memcmp(one, P256_N.one, sizeof one) == 0 && !geq(w, n);
	}
	T_CHECK("arith: inv_mod(a) * a = 1 mod n (a = 1, n-1 and 1,998 random)", inv_ok);

	mbedtls_mpi_free(&A); mbedtls_mpi_free(&B); mbedtls_mpi_free(&P);
	mbedtls_mpi_free(&Rinv); mbedtls_mpi_free(&E); mbedtls_mpi_free(&G);
	T_DONE();
}
