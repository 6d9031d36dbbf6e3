/* libFuzzer target for EHLO parsing: bytes -> replies -> extensions, then
 * every consumer of the extension list (find, SIZE, describe, size_compute). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "smtp_ehlo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(const struct ehlo_info *e)
{
	struct size_info s;
	const char *sz;

	if (e->next > RESULT_MAX_EXT || (e->hostname != NULL && strlen(e->hostname) > 255))
		abort();
	for (size_t i = 0; i < e->next; i++) {
		const struct ehlo_ext *x = &e->ext[i];
		size_t n = strlen(x->params);
		uint64_t v;

		if (x->keyword[0] == '\0' || strchr(x->keyword, ' ') != NULL ||
		    (n > 0 && x->params[n - 1] == ' '))
			abort();
		for (const char *c = x->keyword; *c; c++)
			if (*c >= 'a' && *c <= 'z')
				abort();
		if (smtp_ehlo_find(e, x->keyword) == NULL)
			abort();
		(void)smtp_ehlo_describe(x->keyword);
		if (smtp_ehlo_size(x->params, &v) == 1 && v == 0)
			abort();
	}
	memset(&s, 0, sizeof s);
	sz = smtp_ehlo_find(e, "SIZE");
	s.advertised = sz != NULL;
	s.has_limit = sz != NULL && smtp_ehlo_size(sz, &s.limit) == 1;
	s.binary = smtp_ehlo_find(e, "BINARYMIME") && smtp_ehlo_find(e, "CHUNKING");
	size_compute(&s, 4096);
	if (s.max_attachment_base64 > s.limit || s.max_attachment_binary > s.limit)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply_parser p;
	bool helo = size > 0 && (data[0] & 0x80);
	size_t off = 0;

	reply_parser_init(&p, NULL, NULL);
	while (off < size) {
		size_t used = 0;
		enum reply_rc rc = reply_parser_feed(&p, (const char *)data + off, size - off, &used);

		off += used > 0 ? used : 1;
		if (rc == REPLY_DONE) {
			struct ehlo_info e;
			memset(&e, 0, sizeof e);
			smtp_ehlo_parse(&p.reply, helo, &e);
			if (e.nlines != p.reply.nlines)
				abort();
			fuzz_check(&e);
			smtp_ehlo_clear(&e);
		}
		if (rc == REPLY_NEED_MORE)
			break;
		reply_parser_reset(&p);
	}
	reply_parser_clear(&p);

	/* SIZE's number parser straight on the input too. */
	if (size < 64) {
		char buf[64];
		uint64_t v;
		memcpy(buf, data, size);
		buf[size] = '\0';
		(void)smtp_ehlo_size(buf, &v);
	}
	return 0;
}
