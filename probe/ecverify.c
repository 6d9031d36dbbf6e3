/* ECDSA verification for mbedTLS (its MBEDTLS_ECDSA_VERIFY_ALT hook).
 *
 * Why: a probe verifies two ECDSA P-256 signatures, the server's
 * CertificateVerify and (unless the chain's verdict is cached) the leaf's
 * signature by its CA. mbedTLS 3.6 spends ~13 million instructions on each,
 * in generic bignum code and constant-time modular inversions that protect
 * secrets a verification does not have: the hash, the signature and the
 * public key are all public. Here P-256 is computed with 4 x 64-bit
 * Montgomery arithmetic in variable time, in a few hundred thousand.
 *
 * Scope: P-256 with the public key an affine point on the curve (which is
 * what mbedTLS's key parsers produce). Anything else, other curves first,
 * goes through ecverify_generic(): mbedTLS's own algorithm (SEC1 4.1.4, as
 * in its ecdsa.c) on its public ECP API, so results cannot differ from the
 * library's. tests/unit/test_ecverify.c compares the two on random, forged
 * and edge-case signatures, and tests/fuzz/fuzz_ecverify.c on anything.
 *
 * Only the pinned mbedTLS is built with MBEDTLS_ECDSA_VERIFY_ALT
 * (scripts/mbedtls-config.h); a system mbedTLS keeps its own code and this
 * file then defines only the two ecverify_* functions. */
/* An alternative implementation reads mbedTLS's structures (points,
 * groups) the way mbedTLS documents for it. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "ecverify.h"

#include <stdint.h>
#include <string.h>

#include <mbedtls/ecdsa.h>

typedef unsigned __int128 u128;

/* A 256-bit odd modulus m > 2^255 (P-256's p and n) and its Montgomery
 * constants for R = 2^256. Numbers are little-endian 64-bit limbs, always
 * fully reduced (< m), so zero and equality are plain comparisons. */
struct mod {
	uint64_t m[4];
	uint64_t m0inv;   /* -m^-1 mod 2^64 */
	uint64_t one[4];  /* R mod m: 1 in Montgomery form */
	uint64_t rr[4];   /* R^2 mod m: turns x into x*R */
};

static int is_zero(const uint64_t a[4])
{
	return (a[0] | a[1] | a[2] | a[3]) == 0;
}

static int geq(const uint64_t a[4], const uint64_t b[4])
{
	for (int i = 3; i >= 0; i--)
		if (a[i] != b[i])
			return a[i] > b[i];
	return 1;
}

static uint64_t sub4(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	uint64_t borrow = 0;
	for (int i = 0; i < 4; i++) {
		u128 t = (u128)a[i] - b[i] - borrow;
		r[i] = (uint64_t)t;
		borrow = (uint64_t)(t >> 64) & 1;
	}
	return borrow;
}

/* r = a + b as 256-bit numbers; returns the carry out. */
static uint64_t add4(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	uint64_t carry = 0;
	for (int i = 0; i < 4; i++) {
		u128 t = (u128)a[i] + b[i] + carry;
		r[i] = (uint64_t)t;
		carry = (uint64_t)(t >> 64);
	}
	return carry;
}

/* The arithmetic below is nearly all of a verification's time. Two
 * versions: on x86-64 with GCC or Clang the carries go through
 * _addcarry_u64/_subborrow_u64 (plain adc/sbb, no CPU extension), which the
 * compiler keeps in one flag chain; elsewhere, or with ECVERIFY_PORTABLE
 * (tests/unit/test_ecverify_portable.c builds it that way on every run),
 * 128-bit additions. Both are inlined with constant moduli where the
 * callers pass them. Measured: the x86-64 version takes 37 % fewer
 * instructions per verification. */
/* P-256's p = 2^256 - 2^224 + 2^192 + 2^96 - 1 as constants (ecverify_p256
 * checks the group's p against them); -p^-1 mod 2^64 = 1. */
#define P256_P0 0xffffffffffffffffULL
#define P256_P1 0x00000000ffffffffULL
#define P256_P2 0x0000000000000000ULL
#define P256_P3 0xffffffff00000001ULL

/* Montgomery reduction by P-256's p needs no multiplication but one: with
 * q = t0 (as -p^-1 mod 2^64 = 1), (t + q p) / 2^64 is
 * t / 2^64 + q 2^32 + q p3 2^128, where p3 = 2^64 - 2^32 + 1 is p's top
 * limb: t0 cancels exactly, q 2^32 spans limbs 0-1, q p3 limbs 2-3. */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(ECVERIFY_PORTABLE)
#include <x86intrin.h>
typedef unsigned long long ull;

/* r = a + b mod m, for a, b < m. */
static void mod_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                    const struct mod *M)
{
	ull t0, t1, t2, t3, u0, u1, u2, u3, top;
	unsigned char c, bw;
	c = _addcarry_u64(0, a[0], b[0], &t0);
	c = _addcarry_u64(c, a[1], b[1], &t1);
	c = _addcarry_u64(c, a[2], b[2], &t2);
	c = _addcarry_u64(c, a[3], b[3], &t3);
	bw = _subborrow_u64(0, t0, M->m[0], &u0);
	bw = _subborrow_u64(bw, t1, M->m[1], &u1);
	bw = _subborrow_u64(bw, t2, M->m[2], &u2);
	bw = _subborrow_u64(bw, t3, M->m[3], &u3);
	bw = _subborrow_u64(bw, c, 0, &top);    /* no borrow: the sum is >= m */
	if (!bw) {
		r[0] = u0, r[1] = u1, r[2] = u2, r[3] = u3;
	} else {
		r[0] = t0, r[1] = t1, r[2] = t2, r[3] = t3;
	}
}

/* r = a - b mod m, for a, b < m. */
static void mod_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                    const struct mod *M)
{
	ull t0, t1, t2, t3;
	unsigned char c, bw;
	bw = _subborrow_u64(0, a[0], b[0], &t0);
	bw = _subborrow_u64(bw, a[1], b[1], &t1);
	bw = _subborrow_u64(bw, a[2], b[2], &t2);
	bw = _subborrow_u64(bw, a[3], b[3], &t3);
	if (bw) {
		c = _addcarry_u64(0, t0, M->m[0], &t0);
		c = _addcarry_u64(c, t1, M->m[1], &t1);
		c = _addcarry_u64(c, t2, M->m[2], &t2);
		_addcarry_u64(c, t3, M->m[3], &t3);
	}
	r[0] = t0, r[1] = t1, r[2] = t2, r[3] = t3;
}

/* t < 2m in five limbs t0..t4: r = t mod m, one conditional subtraction
 * decided on all five limbs. */
static inline __attribute__((always_inline)) void
final_sub(uint64_t r[4], ull t0, ull t1, ull t2, ull t3, ull t4, uint64_t m0, uint64_t m1,
          uint64_t m2, uint64_t m3)
{
	ull u0, u1, u2, u3, top;
	unsigned char bw;
	bw = _subborrow_u64(0, t0, m0, &u0);
	bw = _subborrow_u64(bw, t1, m1, &u1);
	bw = _subborrow_u64(bw, t2, m2, &u2);
	bw = _subborrow_u64(bw, t3, m3, &u3);
	bw = _subborrow_u64(bw, t4, 0, &top);
	if (!bw) {
		r[0] = u0, r[1] = u1, r[2] = u2, r[3] = u3;
	} else {
		r[0] = t0, r[1] = t1, r[2] = t2, r[3] = t3;
	}
}

/* The first half of a CIOS round, t (t0..t4, carry out in t5) += a*bi,
 * with a in a0..a3; the callers' macros add the reduction. */
#define MAC_ROUND(bi) do { \
		u128 p0 = (u128)a0 * (bi), p1 = (u128)a1 * (bi); \
		u128 p2 = (u128)a2 * (bi), p3 = (u128)a3 * (bi); \
		ull r0 = (ull)p0, r1, r2, r3, r4; \
		unsigned char c; \
		c = _addcarry_u64(0, (ull)(p0 >> 64), (ull)p1, &r1); \
		c = _addcarry_u64(c, (ull)(p1 >> 64), (ull)p2, &r2); \
		c = _addcarry_u64(c, (ull)(p2 >> 64), (ull)p3, &r3); \
		_addcarry_u64(c, (ull)(p3 >> 64), 0, &r4); \
		c = _addcarry_u64(0, t0, r0, &t0); \
		c = _addcarry_u64(c, t1, r1, &t1); \
		c = _addcarry_u64(c, t2, r2, &t2); \
		c = _addcarry_u64(c, t3, r3, &t3); \
		c = _addcarry_u64(c, t4, r4, &t4); \
		t5 = c; \
	} while (0)

/* r = a*b/R mod m (CIOS Montgomery multiplication), for a, b < m: each
 * round adds a*b[i], then q*m with q chosen to clear the low limb, and
 * drops that limb. t stays < 2m. */
static inline __attribute__((always_inline)) void
mont_mul_k(uint64_t r[4], const uint64_t a[4], const uint64_t b[4], uint64_t m0,
           uint64_t m1, uint64_t m2, uint64_t m3, uint64_t m0inv)
{
	ull t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5;
	const uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
#define MM_ROUND(bi) do { \
		MAC_ROUND(bi); \
		uint64_t q = (uint64_t)t0 * m0inv; \
		u128 q0 = (u128)q * m0, q1 = (u128)q * m1, q2 = (u128)q * m2, q3 = (u128)q * m3; \
		ull r0 = (ull)q0, r1, r2, r3, r4, low; \
		unsigned char c; \
		c = _addcarry_u64(0, (ull)(q0 >> 64), (ull)q1, &r1); \
		c = _addcarry_u64(c, (ull)(q1 >> 64), (ull)q2, &r2); \
		c = _addcarry_u64(c, (ull)(q2 >> 64), (ull)q3, &r3); \
		_addcarry_u64(c, (ull)(q3 >> 64), 0, &r4); \
		c = _addcarry_u64(0, t0, r0, &low);        /* low is 0: dropped */ \
		c = _addcarry_u64(c, t1, r1, &t0); \
		c = _addcarry_u64(c, t2, r2, &t1); \
		c = _addcarry_u64(c, t3, r3, &t2); \
		c = _addcarry_u64(c, t4, r4, &t3); \
		t4 = t5 + c; \
		(void)low; \
	} while (0)
	MM_ROUND(b[0]);
	MM_ROUND(b[1]);
	MM_ROUND(b[2]);
	MM_ROUND(b[3]);
#undef MM_ROUND
	final_sub(r, t0, t1, t2, t3, t4, m0, m1, m2, m3);
}

/* r = a*b/R mod p for P-256's p (CIOS with the reduction above). */
static inline __attribute__((always_inline)) void
p256_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	ull t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5;
	const uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
#define P_ROUND(bi) do { \
		MAC_ROUND(bi); \
		uint64_t q = t0; \
		u128 qp3 = (u128)q * P256_P3; \
		unsigned char c; \
		c = _addcarry_u64(0, t1, q << 32, &t0); \
		c = _addcarry_u64(c, t2, q >> 32, &t1); \
		c = _addcarry_u64(c, t3, (ull)qp3, &t2); \
		c = _addcarry_u64(c, t4, (ull)(qp3 >> 64), &t3); \
		t4 = t5 + c; \
	} while (0)
	P_ROUND(b[0]);
	P_ROUND(b[1]);
	P_ROUND(b[2]);
	P_ROUND(b[3]);
#undef P_ROUND
	final_sub(r, t0, t1, t2, t3, t4, P256_P0, P256_P1, P256_P2, P256_P3);
}

/* r = a*a/R mod p: the ten distinct products (six doubled) instead of
 * sixteen, then four rounds of the reduction above on the 8-limb square. */
static inline __attribute__((always_inline)) void
p256_sqr(uint64_t r[4], const uint64_t a[4])
{
	const uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
	u128 m01 = (u128)a0 * a1, m02 = (u128)a0 * a2, m03 = (u128)a0 * a3;
	u128 m12 = (u128)a1 * a2, m13 = (u128)a1 * a3, m23 = (u128)a2 * a3;
	ull c1, c2, c3, c4, c5, c6, c7, t0, t1, t2, t3, t4, t5, t6, t7;
	unsigned char c;

	/* the cross products: limbs 1..6 */
	c1 = (ull)m01;
	c = _addcarry_u64(0, (ull)(m01 >> 64), (ull)m02, &c2);
	c = _addcarry_u64(c, (ull)(m02 >> 64), (ull)m03, &c3);
	c = _addcarry_u64(c, (ull)(m03 >> 64), (ull)m13, &c4);
	c = _addcarry_u64(c, (ull)(m13 >> 64), (ull)m23, &c5);
	_addcarry_u64(c, (ull)(m23 >> 64), 0, &c6);
	c = _addcarry_u64(0, c3, (ull)m12, &c3);
	c = _addcarry_u64(c, c4, (ull)(m12 >> 64), &c4);
	c = _addcarry_u64(c, c5, 0, &c5);
	_addcarry_u64(c, c6, 0, &c6);           /* the sum is < 2^383: no carry out */
	/* doubled */
	c7 = c6 >> 63;
	c6 = c6 << 1 | c5 >> 63;
	c5 = c5 << 1 | c4 >> 63;
	c4 = c4 << 1 | c3 >> 63;
	c3 = c3 << 1 | c2 >> 63;
	c2 = c2 << 1 | c1 >> 63;
	c1 <<= 1;
	/* plus the squares */
	u128 s0 = (u128)a0 * a0, s1 = (u128)a1 * a1, s2 = (u128)a2 * a2, s3 = (u128)a3 * a3;
	t0 = (ull)s0;
	c = _addcarry_u64(0, c1, (ull)(s0 >> 64), &t1);
	c = _addcarry_u64(c, c2, (ull)s1, &t2);
	c = _addcarry_u64(c, c3, (ull)(s1 >> 64), &t3);
	c = _addcarry_u64(c, c4, (ull)s2, &t4);
	c = _addcarry_u64(c, c5, (ull)(s2 >> 64), &t5);
	c = _addcarry_u64(c, c6, (ull)s3, &t6);
	_addcarry_u64(c, c7, (ull)(s3 >> 64), &t7);   /* a^2 < 2^512 */
	/* four reduction rounds, each dropping the (zero) low limb */
	for (int i = 0; i < 4; i++) {
		uint64_t q = t0;
		u128 qp3 = (u128)q * P256_P3;
		c = _addcarry_u64(0, t1, q << 32, &t0);
		c = _addcarry_u64(c, t2, q >> 32, &t1);
		c = _addcarry_u64(c, t3, (ull)qp3, &t2);
		c = _addcarry_u64(c, t4, (ull)(qp3 >> 64), &t3);
		c = _addcarry_u64(c, t5, 0, &t4);
		c = _addcarry_u64(c, t6, 0, &t5);
		c = _addcarry_u64(c, t7, 0, &t6);
		t7 = c;
	}
	/* < 2p, in t0..t4 */
	final_sub(r, t0, t1, t2, t3, t4, P256_P0, P256_P1, P256_P2, P256_P3);
}

#else /* portable */

/* r = a + b mod m, for a, b < m. */
static void mod_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                    const struct mod *M)
{
	uint64_t t[4], u[4];
	uint64_t carry = add4(t, a, b);
	uint64_t borrow = sub4(u, t, M->m);
	memcpy(r, carry || !borrow ? u : t, sizeof t);
}

/* r = a - b mod m, for a, b < m. */
static void mod_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                    const struct mod *M)
{
	uint64_t t[4];
	if (sub4(t, a, b))
		add4(t, t, M->m);
	memcpy(r, t, sizeof t);
}

/* t < 2m in five limbs t0..t4: r = t mod m, one conditional subtraction. */
static inline __attribute__((always_inline)) void
final_sub(uint64_t r[4], uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4,
          uint64_t m0, uint64_t m1, uint64_t m2, uint64_t m3)
{
	u128 d;
	uint64_t u0, u1, u2, u3, borrow;
	d = (u128)t0 - m0;                   u0 = (uint64_t)d; borrow = (uint64_t)(d >> 64) & 1;
	d = (u128)t1 - m1 - borrow;          u1 = (uint64_t)d; borrow = (uint64_t)(d >> 64) & 1;
	d = (u128)t2 - m2 - borrow;          u2 = (uint64_t)d; borrow = (uint64_t)(d >> 64) & 1;
	d = (u128)t3 - m3 - borrow;          u3 = (uint64_t)d; borrow = (uint64_t)(d >> 64) & 1;
	if (t4 || !borrow) {
		r[0] = u0, r[1] = u1, r[2] = u2, r[3] = u3;
	} else {
		r[0] = t0, r[1] = t1, r[2] = t2, r[3] = t3;
	}
}

/* The first half of a CIOS round, t (t0..t4, carry out in t5) += a*bi. */
#define MAC_ROUND(bi) do { \
		c = (u128)a0 * (bi) + t0;            t0 = (uint64_t)c; c >>= 64; \
		c += (u128)a1 * (bi) + t1;           t1 = (uint64_t)c; c >>= 64; \
		c += (u128)a2 * (bi) + t2;           t2 = (uint64_t)c; c >>= 64; \
		c += (u128)a3 * (bi) + t3;           t3 = (uint64_t)c; c >>= 64; \
		c += t4;                             t4 = (uint64_t)c; t5 = (uint64_t)(c >> 64); \
	} while (0)

/* r = a*b/R mod m (CIOS Montgomery multiplication), for a, b < m. */
static inline __attribute__((always_inline)) void
mont_mul_k(uint64_t r[4], const uint64_t a[4], const uint64_t b[4], uint64_t m0,
           uint64_t m1, uint64_t m2, uint64_t m3, uint64_t m0inv)
{
	uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5;
	const uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
	u128 c;
#define MM_ROUND(bi) do { \
		MAC_ROUND(bi); \
		uint64_t q = t0 * m0inv; \
		c = ((u128)q * m0 + t0) >> 64; \
		c += (u128)q * m1 + t1;              t0 = (uint64_t)c; c >>= 64; \
		c += (u128)q * m2 + t2;              t1 = (uint64_t)c; c >>= 64; \
		c += (u128)q * m3 + t3;              t2 = (uint64_t)c; c >>= 64; \
		c += t4;                             t3 = (uint64_t)c; \
		t4 = t5 + (uint64_t)(c >> 64); \
	} while (0)
	MM_ROUND(b[0]);
	MM_ROUND(b[1]);
	MM_ROUND(b[2]);
	MM_ROUND(b[3]);
#undef MM_ROUND
	final_sub(r, t0, t1, t2, t3, t4, m0, m1, m2, m3);
}

/* r = a*b/R mod p for P-256's p (CIOS with the reduction above). */
static inline __attribute__((always_inline)) void
p256_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5;
	const uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
	u128 c;
#define P_ROUND(bi) do { \
		MAC_ROUND(bi); \
		uint64_t q = t0; \
		u128 qp3 = (u128)q * P256_P3; \
		c = (u128)t1 + (q << 32);            t0 = (uint64_t)c; c >>= 64; \
		c += (u128)t2 + (q >> 32);           t1 = (uint64_t)c; c >>= 64; \
		c += (u128)t3 + (uint64_t)qp3;       t2 = (uint64_t)c; c >>= 64; \
		c += (u128)t4 + (uint64_t)(qp3 >> 64); t3 = (uint64_t)c; \
		t4 = t5 + (uint64_t)(c >> 64); \
	} while (0)
	P_ROUND(b[0]);
	P_ROUND(b[1]);
	P_ROUND(b[2]);
	P_ROUND(b[3]);
#undef P_ROUND
	final_sub(r, t0, t1, t2, t3, t4, P256_P0, P256_P1, P256_P2, P256_P3);
}

/* The portable version squares by multiplying. */
static inline __attribute__((always_inline)) void
p256_sqr(uint64_t r[4], const uint64_t a[4])
{
	p256_mul(r, a, a);
}

#endif


/* Any modulus (P-256's n here). */
static void mont_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                     const struct mod *M)
{
	mont_mul_k(r, a, b, M->m[0], M->m[1], M->m[2], M->m[3], M->m0inv);
}

static void fe_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                   const struct mod *F)
{
	(void)F;
	p256_mul(r, a, b);
}

static void fe_sqr(uint64_t r[4], const uint64_t a[4], const struct mod *F)
{
	(void)F;
	p256_sqr(r, a);
}

/* a /= 2 mod m (m odd, a < m): (a + m) / 2 when a is odd, the carry of
 * the sum shifted back in. */
/* a = (top 2^256 + a) / 2 */
static void shr1(uint64_t a[4], uint64_t top)
{
	for (int i = 0; i < 3; i++)
		a[i] = a[i] >> 1 | a[i + 1] << 63;
	a[3] = a[3] >> 1 | top << 63;
}

static void half_mod(uint64_t a[4], const uint64_t m[4])
{
	shr1(a, a[0] & 1 ? add4(a, a, m) : 0);
}

/* r = a^-1 mod m, plain numbers, for an odd m and 0 < a < m with
 * gcd(a, m) = 1 (m prime here): the binary extended Euclidean algorithm,
 * in variable time (a verification's numbers are all public). Keeps
 * u = x1 a, v = x2 a (mod m) while u and v shrink to 1. */
static void inv_mod(uint64_t r[4], const uint64_t a[4], const uint64_t m[4])
{
	static const uint64_t one[4] = { 1, 0, 0, 0 };
	uint64_t u[4], v[4], x1[4] = { 1, 0, 0, 0 }, x2[4] = { 0 };
	memcpy(u, a, sizeof u);
	memcpy(v, m, sizeof v);
	while (memcmp(u, one, sizeof u) != 0 && memcmp(v, one, sizeof v) != 0) {
		while (!(u[0] & 1)) {
			shr1(u, 0);
			half_mod(x1, m);
		}
		while (!(v[0] & 1)) {
			shr1(v, 0);
			half_mod(x2, m);
		}
		if (geq(u, v)) {
			sub4(u, u, v);
			if (sub4(x1, x1, x2))
				add4(x1, x1, m);
		} else {
			sub4(v, v, u);
			if (sub4(x2, x2, x1))
				add4(x2, x2, m);
		}
	}
	memcpy(r, memcmp(u, one, sizeof u) == 0 ? x1 : x2, sizeof x1);
}

#include "ecverify_table.h"

/* 32 big-endian bytes into little-endian limbs. */
static void from_be32(uint64_t r[4], const unsigned char b[32])
{
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (int k = 0; k < 8; k++)
			v = v << 8 | b[24 - 8 * i + k];
		r[i] = v;
	}
}

/* X (0 <= X < 2^256) into limbs; -1 if it does not fit or is negative. */
static int load(uint64_t r[4], const mbedtls_mpi *X)
{
	unsigned char b[32];
	if (mbedtls_mpi_cmp_int(X, 0) < 0 || mbedtls_mpi_write_binary(X, b, sizeof b) != 0)
		return -1;
	from_be32(r, b);
	return 0;
}

/* A point in Jacobian coordinates, Montgomery form; z == 0 is infinity. */
struct jac {
	uint64_t x[4], y[4], z[4];
};

/* r = 2a on y^2 = x^3 - 3x + b ("dbl-2001-b"); r may be a. */
static void dbl(struct jac *r, const struct jac *a, const struct mod *F)
{
	uint64_t delta[4], gamma[4], beta[4], alpha[4], t[4], u[4], x3[4];
	if (is_zero(a->z)) {
		*r = *a;
		return;
	}
	fe_sqr(delta, a->z, F);
	fe_sqr(gamma, a->y, F);
	fe_mul(beta, a->x, gamma, F);
	mod_sub(t, a->x, delta, F);
	mod_add(u, a->x, delta, F);
	fe_mul(alpha, t, u, F);
	mod_add(t, alpha, alpha, F);
	mod_add(alpha, t, alpha, F);            /* 3(x - delta)(x + delta) */
	mod_add(t, a->y, a->z, F);
	fe_sqr(t, t, F);
	mod_sub(t, t, gamma, F);
	mod_sub(r->z, t, delta, F);             /* (y + z)^2 - gamma - delta */
	mod_add(beta, beta, beta, F);
	mod_add(beta, beta, beta, F);           /* 4 beta */
	fe_sqr(t, alpha, F);
	mod_sub(t, t, beta, F);
	mod_sub(x3, t, beta, F);                /* alpha^2 - 8 beta */
	mod_sub(u, beta, x3, F);
	fe_mul(u, alpha, u, F);
	fe_sqr(gamma, gamma, F);
	mod_add(gamma, gamma, gamma, F);
	mod_add(gamma, gamma, gamma, F);
	mod_add(gamma, gamma, gamma, F);        /* 8 gamma^2 */
	mod_sub(r->y, u, gamma, F);
	memcpy(r->x, x3, sizeof x3);
}

/* r = a + b ("add-2007-bl"), with the cases that formula cannot take:
 * an infinite operand, a == b (doubling), a == -b (infinity). */
static void add(struct jac *r, const struct jac *a, const struct jac *b, const struct mod *F)
{
	uint64_t z1z1[4], z2z2[4], u1[4], u2[4], s1[4], s2[4], h[4], i[4], j[4], rr[4], v[4];
	uint64_t t[4], x3[4], y3[4], z3[4];
	if (is_zero(a->z)) {
		*r = *b;
		return;
	}
	if (is_zero(b->z)) {
		*r = *a;
		return;
	}
	fe_sqr(z1z1, a->z, F);
	fe_sqr(z2z2, b->z, F);
	fe_mul(u1, a->x, z2z2, F);
	fe_mul(u2, b->x, z1z1, F);
	fe_mul(s1, a->y, b->z, F);
	fe_mul(s1, s1, z2z2, F);
	fe_mul(s2, b->y, a->z, F);
	fe_mul(s2, s2, z1z1, F);
	mod_sub(h, u2, u1, F);
	mod_sub(rr, s2, s1, F);
	if (is_zero(h)) {
		if (is_zero(rr))
			dbl(r, a, F);
		else
			memset(r, 0, sizeof *r);
		return;
	}
	mod_add(rr, rr, rr, F);                 /* r = 2(s2 - s1) */
	mod_add(i, h, h, F);
	fe_sqr(i, i, F);                   /* I = (2h)^2 */
	fe_mul(j, h, i, F);                   /* J = h I */
	fe_mul(v, u1, i, F);                  /* V = u1 I */
	fe_mul(t, a->z, b->z, F);
	fe_mul(t, t, h, F);
	mod_add(z3, t, t, F);                   /* 2 z1 z2 h */
	fe_sqr(x3, rr, F);
	mod_sub(x3, x3, j, F);
	mod_sub(x3, x3, v, F);
	mod_sub(x3, x3, v, F);                  /* r^2 - J - 2V */
	mod_sub(t, v, x3, F);
	fe_mul(t, rr, t, F);
	fe_mul(s1, s1, j, F);
	mod_add(s1, s1, s1, F);
	mod_sub(y3, t, s1, F);                  /* r(V - x3) - 2 s1 J */
	memcpy(r->x, x3, sizeof x3);
	memcpy(r->y, y3, sizeof y3);
	memcpy(r->z, z3, sizeof z3);
}

/* r = a + (x, y), the second point affine in Montgomery form
 * ("madd-2007-bl" with z3 = 2 z1 h), with the cases that formula cannot
 * take: a infinite, a == (x, y), a == -(x, y). r may be a. */
static void madd(struct jac *r, const struct jac *a, const uint64_t x[4],
                 const uint64_t y[4], const struct mod *F)
{
	uint64_t z1z1[4], u2[4], s2[4], h[4], hh[4], i[4], j[4], rr[4], v[4], t[4];
	if (is_zero(a->z)) {
		memcpy(r->x, x, sizeof r->x);
		memcpy(r->y, y, sizeof r->y);
		memcpy(r->z, F->one, sizeof r->z);
		return;
	}
	fe_sqr(z1z1, a->z, F);
	fe_mul(u2, x, z1z1, F);
	fe_mul(s2, y, a->z, F);
	fe_mul(s2, s2, z1z1, F);
	mod_sub(h, u2, a->x, F);
	mod_sub(rr, s2, a->y, F);
	if (is_zero(h)) {
		if (is_zero(rr))
			dbl(r, a, F);
		else
			memset(r, 0, sizeof *r);
		return;
	}
	mod_add(rr, rr, rr, F);                 /* r = 2(s2 - y1) */
	fe_sqr(hh, h, F);
	mod_add(i, hh, hh, F);
	mod_add(i, i, i, F);                    /* I = 4 h^2 */
	fe_mul(j, h, i, F);                     /* J = h I */
	fe_mul(v, a->x, i, F);                  /* V = x1 I */
	fe_mul(t, a->z, h, F);
	mod_add(r->z, t, t, F);                 /* 2 z1 h */
	fe_mul(t, a->y, j, F);
	mod_add(j, j, v, F);
	mod_add(j, j, v, F);                    /* J + 2V */
	fe_sqr(u2, rr, F);
	mod_sub(r->x, u2, j, F);                /* r^2 - J - 2V */
	mod_sub(v, v, r->x, F);
	fe_mul(v, rr, v, F);
	mod_add(t, t, t, F);
	mod_sub(r->y, v, t, F);                 /* r(V - x3) - 2 y1 J */
}

/* The width-w NAF of k < 2^256: k = sum naf[i] 2^i with every non-zero
 * digit odd, |digit| < 2^(w-1), and at least w-1 zeros after each. Returns
 * the number of digits (at most 257). */
static int wnaf(signed char naf[258], const uint64_t k[4], int w)
{
	uint64_t t[5] = { k[0], k[1], k[2], k[3], 0 };
	int len = 0;
	memset(naf, 0, 258);
	while (t[0] | t[1] | t[2] | t[3] | t[4]) {
		if (t[0] & 1) {
			int d = (int)(t[0] & ((1u << w) - 1));
			if (d >= 1 << (w - 1))
				d -= 1 << w;
			naf[len] = (signed char)d;
			/* t -= d: clears the low w bits; t < 2^256 + 2^(w-1) */
			uint64_t carry = d < 0 ? (uint64_t)-d : 0;
			uint64_t borrow = d > 0 ? (uint64_t)d : 0;
			for (int i = 0; i < 5; i++) {
				uint64_t before = t[i];
				t[i] = before + carry - borrow;
				carry = carry && t[i] < before;
				borrow = borrow && t[i] > before;
			}
		}
		for (int i = 0; i < 4; i++)
			t[i] = t[i] >> 1 | t[i + 1] << 63;
		t[4] >>= 1;
		len++;
	}
	return len;
}

/* u1 G + u2 Q (Shamir's trick on width-w NAFs): G's odd multiples are
 * the constant affine table (mixed additions, width 8), Q's are computed
 * here in Jacobian form (width 5: Q, 3Q, ..., 15Q). */
#define Q_WINDOW 5
static void muladd(struct jac *acc, const uint64_t u1[4], const uint64_t u2[4],
                   const struct jac *q, const struct mod *F)
{
	static const uint64_t zero[4];
	signed char n1[258], n2[258];
	struct jac tq[1 << (Q_WINDOW - 2)], q2, neg;
	tq[0] = *q;
	dbl(&q2, q, F);
	for (int i = 1; i < 1 << (Q_WINDOW - 2); i++)
		add(&tq[i], &tq[i - 1], &q2, F);

	int l1 = wnaf(n1, u1, 8), l2 = wnaf(n2, u2, Q_WINDOW);
	memset(acc, 0, sizeof *acc);
	for (int i = (l1 > l2 ? l1 : l2) - 1; i >= 0; i--) {
		dbl(acc, acc, F);
		if (n1[i]) {
			const uint64_t(*g)[4] = P256_GTABLE[(n1[i] < 0 ? -n1[i] : n1[i]) / 2];
			uint64_t y[4];
			if (n1[i] < 0)
				mod_sub(y, zero, g[1], F);
			madd(acc, acc, g[0], n1[i] < 0 ? y : g[1], F);
		}
		if (n2[i] > 0) {
			add(acc, acc, &tq[n2[i] / 2], F);
		} else if (n2[i] < 0) {
			neg = tq[-n2[i] / 2];
			mod_sub(neg.y, zero, neg.y, F);
			add(acc, acc, &neg, F);
		}
	}
}

int ecverify_p256(const mbedtls_ecp_group *grp, const unsigned char *hash, size_t hlen,
                  const mbedtls_ecp_point *Q, const mbedtls_mpi *r, const mbedtls_mpi *s)
{
	const struct mod *F = &P256_F, *N = &P256_N;
	uint64_t p[4], n[4], b[4], gx[4], gy[4], qx[4], qy[4], rl[4], sl[4], e[4];

	/* The group must be exactly P-256 (the table holds its G). */
	if (grp->id != MBEDTLS_ECP_DP_SECP256R1 || grp->nbits != 256 ||
	    mbedtls_mpi_cmp_int(&Q->Z, 1) != 0 || mbedtls_mpi_cmp_int(&grp->G.Z, 1) != 0 ||
	    load(p, &grp->P) || load(n, &grp->N) || load(b, &grp->B) ||
	    load(gx, &grp->G.X) || load(gy, &grp->G.Y) || load(qx, &Q->X) || load(qy, &Q->Y) ||
	    memcmp(p, F->m, sizeof p) != 0 || memcmp(n, N->m, sizeof n) != 0 ||
	    memcmp(gx, P256_GX, sizeof gx) != 0 || memcmp(gy, P256_GY, sizeof gy) != 0 ||
	    geq(qx, p) || geq(qy, p))
		return ECVERIFY_NOT_HANDLED;

	/* Q on y^2 = x^3 - 3x + b, else the library's path says what it is. */
	struct jac q;
	uint64_t lhs[4], rhs[4], t[4], bm[4];
	fe_mul(q.x, qx, F->rr, F);
	fe_mul(q.y, qy, F->rr, F);
	memcpy(q.z, F->one, sizeof q.z);
	fe_sqr(lhs, q.y, F);
	fe_sqr(rhs, q.x, F);
	fe_mul(rhs, rhs, q.x, F);
	mod_add(t, q.x, q.x, F);
	mod_add(t, t, q.x, F);
	mod_sub(rhs, rhs, t, F);
	fe_mul(bm, b, F->rr, F);
	mod_add(rhs, rhs, bm, F);
	if (memcmp(lhs, rhs, sizeof lhs) != 0)
		return ECVERIFY_NOT_HANDLED;

	/* SEC1 4.1.4 step 1: 1 <= r, s < n */
	if (mbedtls_mpi_cmp_int(r, 1) < 0 || mbedtls_mpi_cmp_mpi(r, &grp->N) >= 0 ||
	    mbedtls_mpi_cmp_int(s, 1) < 0 || mbedtls_mpi_cmp_mpi(s, &grp->N) >= 0)
		return MBEDTLS_ERR_ECP_VERIFY_FAILED;
	if (load(rl, r) || load(sl, s))
		return MBEDTLS_ERR_ECP_VERIFY_FAILED;

	/* Step 3: e = the hash's leftmost 256 bits, reduced mod n. */
	unsigned char eb[32] = { 0 };
	size_t use = hlen < sizeof eb ? hlen : sizeof eb;
	if (use)
		memcpy(eb + sizeof eb - use, hash, use);
	from_be32(e, eb);
	if (geq(e, n))
		sub4(e, e, n);

	/* Step 4: u1 = e/s, u2 = r/s mod n. mont_mul of a plain number by
	 * one in Montgomery form gives the plain product. (1 <= s < n and n
	 * is prime, so s has an inverse.) */
	uint64_t w[4], u1[4], u2[4];
	inv_mod(w, sl, N->m);                   /* 1/s, plain */
	mont_mul(w, w, N->rr, N);               /* in Montgomery form */
	mont_mul(u1, e, w, N);
	mont_mul(u2, rl, w, N);

	/* Step 5: R = u1 G + u2 Q, not infinity. */
	struct jac R;
	muladd(&R, u1, u2, &q, F);
	if (is_zero(R.z))
		return MBEDTLS_ERR_ECP_VERIFY_FAILED;

	/* Steps 6-8: x(R) mod n == r. x(R) = X/Z^2 < p < 2n, so it is r or
	 * r + n (when that is < p): X == c Z^2 for c one of them, all in
	 * Montgomery form, and no inversion. */
	uint64_t zz[4], c[4], cz[4];
	fe_mul(zz, R.z, R.z, F);
	fe_mul(c, rl, F->rr, F);
	fe_mul(cz, c, zz, F);
	if (memcmp(cz, R.x, sizeof cz) == 0)
		return 0;
	uint64_t rn[4], carry = 0;
	for (int i = 0; i < 4; i++) {
		u128 v = (u128)rl[i] + n[i] + carry;
		rn[i] = (uint64_t)v;
		carry = (uint64_t)(v >> 64);
	}
	if (carry || geq(rn, p))
		return MBEDTLS_ERR_ECP_VERIFY_FAILED;
	fe_mul(c, rn, F->rr, F);
	fe_mul(cz, c, zz, F);
	return memcmp(cz, R.x, sizeof cz) == 0 ? 0 : MBEDTLS_ERR_ECP_VERIFY_FAILED;
}

int ecverify_generic(mbedtls_ecp_group *grp, const unsigned char *hash, size_t hlen,
                     const mbedtls_ecp_point *Q, const mbedtls_mpi *r, const mbedtls_mpi *s)
{
	int ret;
	mbedtls_mpi e, s_inv, u1, u2;
	mbedtls_ecp_point R;

	if (!mbedtls_ecdsa_can_do(grp->id) || grp->N.p == NULL)
		return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
	if (mbedtls_mpi_cmp_int(r, 1) < 0 || mbedtls_mpi_cmp_mpi(r, &grp->N) >= 0 ||
	    mbedtls_mpi_cmp_int(s, 1) < 0 || mbedtls_mpi_cmp_mpi(s, &grp->N) >= 0)
		return MBEDTLS_ERR_ECP_VERIFY_FAILED;

	mbedtls_ecp_point_init(&R);
	mbedtls_mpi_init(&e);
	mbedtls_mpi_init(&s_inv);
	mbedtls_mpi_init(&u1);
	mbedtls_mpi_init(&u2);

	/* e: the hash's leftmost nbits bits, reduced mod n */
	size_t n_size = (grp->nbits + 7) / 8;
	size_t use = hlen > n_size ? n_size : hlen;
	MBEDTLS_MPI_CHK(mbedtls_mpi_read_binary(&e, hash, use));
	if (use * 8 > grp->nbits)
		MBEDTLS_MPI_CHK(mbedtls_mpi_shift_r(&e, use * 8 - grp->nbits));
	if (mbedtls_mpi_cmp_mpi(&e, &grp->N) >= 0)
		MBEDTLS_MPI_CHK(mbedtls_mpi_sub_mpi(&e, &e, &grp->N));

	MBEDTLS_MPI_CHK(mbedtls_mpi_inv_mod(&s_inv, s, &grp->N));
	MBEDTLS_MPI_CHK(mbedtls_mpi_mul_mpi(&u1, &e, &s_inv));
	MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(&u1, &u1, &grp->N));
	MBEDTLS_MPI_CHK(mbedtls_mpi_mul_mpi(&u2, r, &s_inv));
	MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(&u2, &u2, &grp->N));

	MBEDTLS_MPI_CHK(mbedtls_ecp_muladd(grp, &R, &u1, &grp->G, &u2, Q));
	if (mbedtls_ecp_is_zero(&R)) {
		ret = MBEDTLS_ERR_ECP_VERIFY_FAILED;
		goto cleanup;
	}
	MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(&R.X, &R.X, &grp->N));
	if (mbedtls_mpi_cmp_mpi(&R.X, r) != 0)
		ret = MBEDTLS_ERR_ECP_VERIFY_FAILED;

cleanup:
	mbedtls_ecp_point_free(&R);
	mbedtls_mpi_free(&e);
	mbedtls_mpi_free(&s_inv);
	mbedtls_mpi_free(&u1);
	mbedtls_mpi_free(&u2);
	return ret;
}

#if defined(MBEDTLS_ECDSA_VERIFY_ALT)
/* The hook: mbedTLS calls this for every ECDSA verification (X.509
 * signatures, TLS 1.3 CertificateVerify, TLS 1.2 ServerKeyExchange). */
int mbedtls_ecdsa_verify(mbedtls_ecp_group *grp, const unsigned char *buf, size_t blen,
                         const mbedtls_ecp_point *Q, const mbedtls_mpi *r,
                         const mbedtls_mpi *s)
{
	int ret = ecverify_p256(grp, buf, blen, Q, r, s);
	return ret == ECVERIFY_NOT_HANDLED ? ecverify_generic(grp, buf, blen, Q, r, s) : ret;
}
#endif
