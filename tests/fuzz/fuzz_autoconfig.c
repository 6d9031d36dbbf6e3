/* libFuzzer target for the autoconfig XML parser (documents from a web
 * server we do not control): any input parses or is refused with a
 * one-line reason; what is kept is bounded and NUL-terminated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "autoconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct autoconfig ac;
	char err[200];

	memset(err, 'X', sizeof(err));
	if (autoconfig_parse((const char *)data, size, "you@example.test", &ac, err,
	                     sizeof(err)) == 0) {
		if (ac.nsmtp > AUTOCONFIG_MAX_SMTP || ac.nsmtp > ac.smtp_total)
			abort();
		for (size_t i = 0; i < ac.nsmtp; i++)
			if (strnlen(ac.smtp[i].hostname, sizeof(ac.smtp[i].hostname)) ==
			    sizeof(ac.smtp[i].hostname) ||
			    strnlen(ac.smtp[i].username, sizeof(ac.smtp[i].username)) ==
			    sizeof(ac.smtp[i].username) || ac.smtp[i].nauth > AUTOCONFIG_MAX_AUTH)
				abort();
	} else if (strnlen(err, sizeof(err)) == sizeof(err) || err[0] == '\0') {
		abort();
	}
	return 0;
}
