/* libFuzzer target for target specs (command line and --targets files):
 * any input gives success with a valid host, or a one-line error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char spec[1200], err[160], again[300];
	struct target t, t2;
	uint16_t port;

	if (size >= sizeof spec)
		size = sizeof spec - 1;
	memcpy(spec, data, size);
	spec[size] = '\0';

	memset(err, 'X', sizeof err);
	if (target_parse(spec, &t, err, sizeof err) == 0) {
		size_t n = strnlen(t.host, sizeof t.host);
		if (n == 0 || n == sizeof t.host || err[0] != '\0')
			abort();
		for (size_t i = 0; i < n; i++)
			if (t.host[i] >= 'A' && t.host[i] <= 'Z')
				abort();
		/* What we print must parse back to the same target. */
		if (t.literal == AF_INET6)
			snprintf(again, sizeof again, "[%s]:%u", t.host, t.port ? t.port : 25);
		else
			snprintf(again, sizeof again, "%s:%u", t.host, t.port ? t.port : 25);
		if (target_parse(again, &t2, err, sizeof err) != 0 ||
		    strcmp(t.host, t2.host) != 0 || t.literal != t2.literal)
			abort();
	} else {
		size_t n = strnlen(err, sizeof err);
		if (n == 0 || n == sizeof err || strchr(err, '\n') != NULL)
			abort();
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)err[i] < 0x20 || (unsigned char)err[i] >= 0x7f)
				abort();
		if (t.host[0] != '\0' || t.port != 0)
			abort();
	}
	if (target_port(spec, &port) == 0 && port == 0)
		abort();
	return 0;
}
