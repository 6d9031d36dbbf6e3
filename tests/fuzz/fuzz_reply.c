/* libFuzzer target for the SMTP reply parser. The input is a byte stream
 * from a server; it is parsed twice, whole and in chunk sizes derived from
 * the input, and both runs must see the same replies (the network may cut
 * bytes anywhere). Invariants on every finished reply are checked too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_trace {
	uint64_t hash;               /* of every outcome, in order */
	size_t nout;
};

static void fuzz_mix(struct fuzz_trace *t, uint64_t v)
{
	t->hash = (t->hash ^ v) * 0x100000001b3ULL;
	t->nout++;
}

static void fuzz_line(void *arg, const char *line, size_t len)
{
	struct fuzz_trace *t = arg;

	if (len > REPLY_MAX_LINE || memchr(line, '\0', len) != NULL || line[len] != '\0')
		abort();
	fuzz_mix(t, len);
}

static void fuzz_check_reply(const struct smtp_reply *r)
{
	char *j;

	if (r->code < 200 || r->code > 559 || r->nlines < 1 || r->nlines > REPLY_MAX_LINES ||
	    r->bytes > REPLY_MAX_BYTES || strlen(r->enhanced) >= sizeof r->enhanced)
		abort();
	for (size_t i = 0; i < r->nlines; i++)
		if (strlen(r->lines[i]) > REPLY_MAX_LINE)
			abort();
	j = smtp_reply_join(r);
	free(j);
}

/* Feeds data in chunks: chunk == 0 means one feed of everything, else the
 * sizes come from a small generator seeded by chunk. */
static void fuzz_run(const uint8_t *data, size_t size, uint32_t chunk, struct fuzz_trace *t)
{
	struct reply_parser p;
	size_t off = 0;
	uint32_t rng = chunk;

	reply_parser_init(&p, fuzz_line, t);
	while (off < size) {
		size_t n = size - off, used = 0;
		enum reply_rc rc;

		if (chunk != 0) {
			rng = rng * 1103515245u + 12345u;
			n = (rng >> 16) % 8 == 0 ? (rng >> 8) % 4096 + 1 : (rng >> 16) % 7 + 1;
			if (n > size - off)
				n = size - off;
		}
		rc = reply_parser_feed(&p, (const char *)data + off, n, &used);
		if (used > n || (rc == REPLY_NEED_MORE && used != n))
			abort();
		off += used;
		if (rc == REPLY_NEED_MORE)
			continue;
		fuzz_mix(t, (uint64_t)rc << 32 | off);
		if (rc == REPLY_DONE) {
			fuzz_check_reply(&p.reply);
			fuzz_mix(t, (uint64_t)p.reply.code << 32 | p.reply.nlines);
		} else if (p.linelen > REPLY_MAX_LINE || strlen(reply_rc_name(rc)) == 0) {
			abort();
		}
		if (used == 0 && rc != REPLY_DONE)
			off++;           /* never loop without progress */
		reply_parser_reset(&p);
	}
	fuzz_mix(t, p.reply.nlines);
	reply_parser_clear(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_trace whole = { 0xcbf29ce484222325ULL, 0 };
	struct fuzz_trace cut = { 0xcbf29ce484222325ULL, 0 };
	uint32_t seed = 1;

	for (size_t i = 0; i < size && i < 4; i++)
		seed = seed * 31 + data[i];
	fuzz_run(data, size, 0, &whole);
	fuzz_run(data, size, seed | 1, &cut);
	if (whole.hash != cut.hash || whole.nout != cut.nout)
		abort();
	return 0;
}
