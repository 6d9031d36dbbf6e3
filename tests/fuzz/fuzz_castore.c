/* libFuzzer target: a PEM body from a CA file (the user's, or one a
 * package put there) -> the trust store's fast readers in probe/castore.c,
 * checked against the slow, general ones: the subject key by random
 * access equals the key from decoding the body from the start whenever
 * mbedTLS accepts the block, and a body this file decodes itself gives
 * the certificate mbedTLS's PEM reader gives, and is accepted exactly
 * when mbedTLS accepts it. Any difference aborts. The file includes castore.c
 * to reach its static functions. */
#include "../../probe/castore.c"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----\n";
	const char *body = (const char *)data;

	if (size > 16384 || memchr(data, '\0', size) != NULL ||
	    castore_marker(body, size, "-----", 5) != NULL)
		return 0;                       /* the indexer only hands over such bodies */

	char *pem = malloc(sizeof begin + size + sizeof end);
	if (pem == NULL)
		return 0;
	memcpy(pem, begin, sizeof begin - 1);
	memcpy(pem + sizeof begin - 1, body, size);
	memcpy(pem + sizeof begin - 1 + size, end, sizeof end);     /* with its NUL */
	size_t pemlen = sizeof begin - 1 + size + sizeof end - 1;

	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	bool ok = mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, pemlen + 1) == 0;

	uint64_t fast = 0, slow = castore_block_key_seq(body, size);
	if (castore_ra_key(body, size, &fast) && ok && fast != slow)
		abort();

	size_t dl = 0;
	unsigned char *der = castore_ra_der(body, size, &dl);
	if (der != NULL) {
		mbedtls_x509_crt c2;
		mbedtls_x509_crt_init(&c2);
		bool ok2 = mbedtls_x509_crt_parse_der(&c2, der, dl) == 0;
		if (ok2 != ok)
			abort();
		/* (mbedTLS keeps the certificate's own length: bytes decoded
		 * after its end are ignored both ways) */
		if (ok && (crt.raw.len > dl || memcmp(crt.raw.p, der, crt.raw.len) != 0 ||
		           c2.raw.len != crt.raw.len))
			abort();
		mbedtls_x509_crt_free(&c2);
		free(der);
	}
	mbedtls_x509_crt_free(&crt);
	free(pem);
	return 0;
}
