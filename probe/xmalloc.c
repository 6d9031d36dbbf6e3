/* Allocation that cannot fail: see xmalloc.h for the policy. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"

void xmalloc_fatal(const char *what)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "smtp-probe: out of memory (%s)\n", what);

	/* write(2): stdio may need the memory that is missing. */
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	exit(3);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		xmalloc_fatal("malloc");
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		xmalloc_fatal("calloc");
	return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	size_t bytes;
	void *q;

	if (size != 0 && n > SIZE_MAX / size)
		xmalloc_fatal("size overflow");
	bytes = n * size;
	q = realloc(p, bytes != 0 ? bytes : 1);
	if (q == NULL)
		xmalloc_fatal("realloc");
	return q;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		xmalloc_fatal("strdup");
	return p;
}
