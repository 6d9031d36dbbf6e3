/* libFuzzer target for probe/ecverify.c: the fast P-256 verification and
 * mbedTLS's algorithm (ecverify_generic) must return the same code for any
 * key, hash and (r, s). Input: 1 byte of flags, 32 bytes of private scalar
 * (the key Q = dG; d = 0 or >= n is taken mod n, 0 -> 1), 32 bytes each of
 * r and s, then the hash (0 to 64 bytes). Flag bit 0: instead of the given
 * r and s, sign the hash with d (so valid signatures are fuzzed too), then
 * XOR the given r into the signature's r when bit 1 is set. Flag bit 2:
 * r and s are read as 33-byte-wide values shifted by the flag's high bits
 * (values at and beyond n). */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecdsa.h>

#include "ecverify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_rng(void *ctx, unsigned char *out, size_t len)
{
	uint64_t *st = ctx;
	for (size_t i = 0; i < len; i++) {
		*st ^= *st >> 12;
		*st ^= *st << 25;
		*st ^= *st >> 27;
		out[i] = (unsigned char)((*st * 0x2545f4914f6cdd1dULL) >> 56);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point Q;
	mbedtls_mpi d, r, s, x;
	uint64_t st = 0x853c49e6748fea9bULL;

	if (size < 97)
		return 0;
	unsigned flags = data[0];
	size_t hlen = size - 97 > 64 ? 64 : size - 97;
	const uint8_t *hash = data + 97;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&Q);
	mbedtls_mpi_init(&d);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	mbedtls_mpi_init(&x);
	if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) != 0)
		abort();
	mbedtls_mpi_read_binary(&d, data + 1, 32);
	mbedtls_mpi_mod_mpi(&d, &d, &grp.N);
	if (mbedtls_mpi_cmp_int(&d, 0) == 0)
		mbedtls_mpi_lset(&d, 1);
	if (mbedtls_ecp_mul(&grp, &Q, &d, &grp.G, fuzz_rng, &st) != 0)
		abort();
	mbedtls_mpi_read_binary(&r, data + 33, 32);
	mbedtls_mpi_read_binary(&s, data + 65, 32);
	if (flags & 4) {
		mbedtls_mpi_shift_l(&r, (flags >> 4) & 7);
		mbedtls_mpi_shift_l(&s, (flags >> 5) & 3);
	}
	if (flags & 1) {
		mbedtls_mpi_copy(&x, &r);
		if (mbedtls_ecdsa_sign(&grp, &r, &s, &d, hash, hlen, fuzz_rng, &st) != 0)
			abort();
		if (flags & 2) {
			/* r XOR the input's r, kept below 2^256 */
			unsigned char a[32], b[32];
			mbedtls_mpi_write_binary(&r, a, 32);
			mbedtls_mpi_write_binary(&x, b, 32);
			for (int i = 0; i < 32; i++)
				a[i] ^= b[i];
			mbedtls_mpi_read_binary(&r, a, 32);
		}
	}
	int fast = ecverify_p256(&grp, hash, hlen, &Q, &r, &s);
	int ref = ecverify_generic(&grp, hash, hlen, &Q, &r, &s);
	if (fast != ref)
		abort();
	if ((flags & 3) == 1 && ref != 0)
		abort();                        /* an untouched signature must verify */

	mbedtls_ecp_group_free(&grp);
	mbedtls_ecp_point_free(&Q);
	mbedtls_mpi_free(&d);
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	mbedtls_mpi_free(&x);
	return 0;
}
