/* Allocation that cannot fail: out of memory ends the run with one line on
 * stderr and exit 3 (UNKNOWN), as OpenSMTPD's xmalloc does. A probe run
 * that is out of memory cannot report anything meaningful, and error paths
 * for it were never exercised; so no caller checks for NULL, and the loop's
 * timer and fd registration return nothing (see docs/design.md, Errors). */
#ifndef SP_XMALLOC_H
#define SP_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n) __attribute__((malloc, returns_nonnull));
void *xcalloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull));
/* realloc of n * size bytes, the product checked for overflow. */
void *xreallocarray(void *p, size_t n, size_t size) __attribute__((returns_nonnull));
char *xstrdup(const char *s) __attribute__((malloc, returns_nonnull));
/* The one fatal exit: "smtp-probe: out of memory (what)", exit 3. */
_Noreturn void xmalloc_fatal(const char *what);

#endif
