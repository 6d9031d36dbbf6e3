/*
 * runstat: run a command and write its wall time, user and system CPU time
 * and peak RSS to a file, for scripts/bench/measure.py.
 *
 *   runstat OUTFILE COMMAND [ARGS...]
 *   OUTFILE gets one line: wall_us user_us sys_us maxrss_kib exit_code
 *
 * Why a separate program: Linux's ru_maxrss for a child is at least the
 * resident size of the process that forked it (exec records the old memory
 * map's high-water mark), so measuring from the Python driver would report
 * every tool as at least Python's ~14 MiB. This launcher is a few hundred
 * KiB, far below every tool measured. Stdin, stdout and stderr pass through.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status = 0, code;
	pid_t pid;
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: runstat OUTFILE COMMAND [ARGS...]\n");
		return 127;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0)
		return 127;
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return 127;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	f = fopen(argv[1], "w");
	if (f == NULL)
		return 127;
	fprintf(f, "%lld %lld %lld %ld %d\n",
	        (long long)(t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000,
	        (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
	        (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec,
	        ru.ru_maxrss, code);
	fclose(f);
	return code;
}
