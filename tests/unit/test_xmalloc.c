/* The out-of-memory policy: an allocation that cannot be met ends the
 * process with one line on stderr and exit 3, never a NULL to the caller. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"
#include "xmalloc.h"

#if defined(__SANITIZE_ADDRESS__)
/* Under ASan (make asan) an impossible size aborts in the sanitizer unless
 * it may return NULL, which is what the policy is about. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}
#endif

/* Runs f in a child; its exit code and what it wrote to stderr. */
static int in_child(void (*f)(void), char *err, size_t errlen)
{
	int fds[2], st = 0;
	pid_t pid;
	ssize_t n;
	size_t got;

	fflush(stdout);              /* or the child's exit prints it again */
	if (pipe(fds) != 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		f();
		_exit(0);                /* f returned: the policy was not applied */
	}
	close(fds[1]);
	got = 0;
	while (got + 1 < errlen && (n = read(fds[0], err + got, errlen - 1 - got)) > 0)
		got += (size_t)n;
	err[got] = '\0';
	close(fds[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void huge_malloc(void)
{
	volatile size_t n = SIZE_MAX / 2;
	void *p = xmalloc(n);

	printf("%p\n", p);
}

static void overflow_array(void)
{
	void *p = xreallocarray(NULL, SIZE_MAX / 4, 8);

	printf("%p\n", p);
}

int main(void)
{
	char err[400];
	int rc;
	char *s;
	void *p;

	/* The positive case first: ordinary sizes work. */
	p = xcalloc(4, 8);
	T_CHECK("xcalloc zeroed", p != NULL && ((const char *)p)[31] == 0);
	p = xreallocarray(p, 1000, 8);
	T_CHECK("xreallocarray grows", p != NULL);
	free(p);
	s = xstrdup("mx1.test");
	T_STREQ("xstrdup", s, "mx1.test");
	free(s);
	p = xmalloc(0);
	T_CHECK("xmalloc(0) is not NULL", p != NULL);
	free(p);

	rc = in_child(huge_malloc, err, sizeof(err));
	T_CHECK("huge malloc exits 3", rc == 3);
	T_CHECK("huge malloc says so in one line", (s = strstr(err, "smtp-probe: out of memory")) != NULL &&
	        strchr(s, '\n') == err + strlen(err) - 1 &&
	        strstr(s + 1, "smtp-probe:") == NULL);
	T_CHECK("size overflow exits 3", in_child(overflow_array, err, sizeof(err)) == 3);
	T_CHECK("size overflow says so", strstr(err, "out of memory (size overflow)") != NULL);
	T_DONE();
}
