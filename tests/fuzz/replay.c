/* Replays fuzz corpus files through a fuzz target's LLVMFuzzerTestOneInput
 * without libFuzzer, so `make test` (gcc, no clang needed) keeps every seed
 * and every past crash as a regression test. Linked once per target:
 *
 *     replay-fuzz_reply NAME FILE...
 *
 * prints "ok replay/NAME" when every file went through, or
 * "FAIL replay/NAME: FILE: why" for files that cannot be read. A file that
 * crashes the target kills the driver (abort, or a sanitizer report under
 * `make asan`): the line "# replaying FILE" on stderr, printed before each
 * file, says which one. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer's -max_len for `make fuzz`: larger corpus files are cut the
 * same way, so the replay feeds what the fuzzer fed. */
#define REPLAY_MAX_LEN 70000

/* Reads up to REPLAY_MAX_LEN bytes of path into a fresh buffer (owned by
 * the caller). Returns NULL with *why set on error. */
static uint8_t *replay_read(const char *path, size_t *len, const char **why)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n;

	*why = NULL;
	if (f == NULL) {
		*why = strerror(errno);
		return NULL;
	}
	/* +1: a zero-length file still gets a distinct, non-NULL buffer. */
	buf = malloc(REPLAY_MAX_LEN + 1);
	if (buf == NULL) {
		*why = "out of memory";
		goto done;
	}
	n = fread(buf, 1, REPLAY_MAX_LEN, f);
	if (ferror(f)) {
		*why = "read error";
		free(buf);
		buf = NULL;
		goto done;
	}
	*len = n;
done:
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	const char *name;
	int i, bad = 0, done = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s NAME [FILE...]\n", argv[0]);
		return 2;
	}
	name = argv[1];
	for (i = 2; i < argc; i++) {
		const char *why;
		size_t len = 0;
		uint8_t *buf = replay_read(argv[i], &len, &why);
		uint8_t *exact;

		if (buf == NULL) {
			printf("FAIL replay/%s: %s: %s\n", name, argv[i], why);
			bad++;
			continue;
		}
		/* An exact-size copy, so ASan sees a read one past the input. */
		exact = malloc(len ? len : 1);
		if (exact == NULL) {
			free(buf);
			printf("FAIL replay/%s: %s: out of memory\n", name, argv[i]);
			bad++;
			continue;
		}
		memcpy(exact, buf, len);
		free(buf);
		fprintf(stderr, "# replaying %s (%zu bytes)\n", argv[i], len);
		fflush(stderr);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
		done++;
	}
	if (done == 0 && bad == 0) {
		printf("FAIL replay/%s: empty corpus\n", name);
		return 1;
	}
	if (bad == 0)
		printf("ok replay/%s (%d files)\n", name, done);
	return bad ? 1 : 0;
}
