/* Minimal unit-test helpers: each check prints "ok NAME" or "FAIL NAME: why";
 * tests/run.sh counts them. main() returns non-zero if any check failed. */
#ifndef SP_T_H
#define SP_T_H
#include <stdio.h>
#include <string.h>

static int t_failed, t_passed;

#define T_CHECK(name, cond) do { \
	if (cond) { t_passed++; printf("ok %s\n", (name)); } \
	else { t_failed++; printf("FAIL %s: %s (%s:%d)\n", (name), #cond, __FILE__, __LINE__); } \
} while (0)

#define T_STREQ(name, got, want) do { \
	const char *t_g = (got), *t_w = (want); \
	if ((t_g == NULL && t_w == NULL) || (t_g && t_w && strcmp(t_g, t_w) == 0)) { \
		t_passed++; printf("ok %s\n", (name)); } \
	else { t_failed++; printf("FAIL %s: got \"%s\", want \"%s\" (%s:%d)\n", (name), \
		t_g ? t_g : "(null)", t_w ? t_w : "(null)", __FILE__, __LINE__); } \
} while (0)

#define T_DONE() return t_failed ? 1 : 0
#endif
