/* libFuzzer target for the two escapers of server text: json_escape must
 * always yield one valid JSON string, render_safe never a byte a terminal
 * acts on. Each writes to /dev/null (real stdio path) and to a memstream
 * that is checked. The first input byte picks a max for render_safe. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "render.h"
#include "../unit/json_check.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = NULL, *copy;
	size_t len = 0, max;
	FILE *f;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	json_escape(devnull, (const char *)data, size);

	f = open_memstream(&buf, &len);
	if (f == NULL)
		abort();
	json_escape(f, (const char *)data, size);
	fclose(f);
	if (!json_check_string(buf, len))
		abort();
	free(buf);

	/* render_safe takes a C string: give it a terminated copy. */
	copy = malloc(size + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	max = size ? (size_t)data[0] * 4 : 0;
	render_safe(devnull, copy, max);
	buf = NULL;
	len = 0;
	f = open_memstream(&buf, &len);
	if (f == NULL)
		abort();
	render_safe(f, copy, max);
	fclose(f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c < 0x20 || c == 0x7f)
			abort();
	}
	/* The output is plain ASCII plus well-formed UTF-8: checking it as a
	 * JSON string body (after quoting) tests exactly that. */
	{
		char *q = malloc(len + 3);
		bool ok = true;

		if (q == NULL)
			abort();
		q[0] = '"';
		memcpy(q + 1, buf, len);
		q[len + 1] = '"';
		/* quotes and backslashes are legal in render_safe output; make
		 * them neutral for the JSON check */
		for (size_t i = 1; i <= len; i++)
			if (q[i] == '"' || q[i] == '\\')
				q[i] = '_';
		ok = json_check_string(q, len + 2);
		free(q);
		if (!ok)
			abort();
	}
	free(buf);
	free(copy);
	return 0;
}
