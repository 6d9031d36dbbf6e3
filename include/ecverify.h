/* ECDSA signature verification for mbedTLS (MBEDTLS_ECDSA_VERIFY_ALT):
 * P-256 in fast, variable-time arithmetic (verification has no secret),
 * every other curve through mbedTLS's public ECP API. probe/ecverify.c. */
#ifndef SP_ECVERIFY_H
#define SP_ECVERIFY_H

#include <stddef.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>

/* Both follow mbedTLS's mbedtls_ecdsa_verify() (SEC1 4.1.4): 0 for a valid
 * signature, MBEDTLS_ERR_ECP_VERIFY_FAILED for a wrong one, another
 * MBEDTLS_ERR_* for unusable input. */

/* P-256 only; ECVERIFY_NOT_HANDLED when grp is another curve or Q is not an
 * affine point on it (the caller then uses ecverify_generic). */
#define ECVERIFY_NOT_HANDLED 1
int ecverify_p256(const mbedtls_ecp_group *grp, const unsigned char *hash, size_t hlen,
                  const mbedtls_ecp_point *Q, const mbedtls_mpi *r, const mbedtls_mpi *s);

/* Any curve mbedTLS can do ECDSA on: the algorithm of mbedTLS's ecdsa.c. */
int ecverify_generic(mbedtls_ecp_group *grp, const unsigned char *hash, size_t hlen,
                     const mbedtls_ecp_point *Q, const mbedtls_mpi *r, const mbedtls_mpi *s);

#endif
