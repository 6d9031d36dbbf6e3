/* libFuzzer target: DER bytes from a hostile server -> cert_extract_der,
 * and, when they parse, the name check a probe would run on them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cert_info c;
	mbedtls_x509_crt crt;
	char *errs[16];
	size_t n;

	if (cert_extract_der(data, size, (time_t)1800000000, &c) == 0)
		cert_info_clear(&c);

	mbedtls_x509_crt_init(&crt);
	if (mbedtls_x509_crt_parse_der(&crt, data, size) == 0) {
		(void)cert_matches_host(&crt, "mail.example.com");
		(void)cert_matches_host(&crt, "127.0.0.1");
		(void)cert_matches_host(&crt, "::1");
	}
	mbedtls_x509_crt_free(&crt);

	/* The flag mapping and the pin parser take the same bytes too. */
	if (size >= 4) {
		uint32_t flags = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
		                 (uint32_t)data[2] << 8 | data[3];
		n = cert_verify_errors(flags, errs, sizeof(errs) / sizeof(errs[0]));
		while (n > 0)
			free(errs[--n]);
	}
	if (size < 128) {
		char spec[128], out[45];
		for (size_t i = 0; i < size; i++)
			spec[i] = (char)data[i];
		spec[size] = '\0';
		(void)cert_pin_parse(spec, out);
		(void)cert_name_match(spec, "a.example.com");
		(void)cert_name_match("*.example.com", spec);
	}
	return 0;
}
