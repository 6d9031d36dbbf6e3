/* Unit tests for the attachment limit arithmetic (docs/design.md "The
 * attachment limit"), including the worked example and overflow edges. */
#include "t.h"
#include "result.h"

struct size_case {
	const char *name;
	bool has_limit;
	uint64_t limit;
	uint64_t reserve;
	bool binary;
	uint64_t want_base64;
	uint64_t want_binary;
};

static const struct size_case cases[] = {
	/* The real relay of docs/design.md: 104853504 * 57 / 78 = 76623714.46 */
	{ "worked example", true, 104857600, 4096, false, 76623714, 0 },
	{ "worked example, binary", true, 104857600, 4096, true, 76623714, 104853504 },
	{ "10 MB", true, 10240000, 4096, false, 7480083, 0 },
	{ "no limit", false, 0, 4096, true, 0, 0 },
	{ "limit below reserve", true, 1000, 4096, true, 0, 0 },
	{ "limit equals reserve", true, 4096, 4096, false, 0, 0 },
	{ "one line of base64", true, 4096 + 78, 4096, false, 57, 0 },
	{ "77 bytes of room", true, 4096 + 77, 4096, false, 56, 0 },
	{ "zero reserve", true, 78, 0, false, 57, 0 },
	/* UINT64_MAX = 78 * 236496718893712200 + 15; 15 * 57 / 78 = 10.
	 * A naive limit * 57 would overflow. */
	{ "uint64 max", true, UINT64_MAX, 0, true, 13480312976941595410ULL, UINT64_MAX },
	{ "uint64 max - reserve", true, UINT64_MAX, 4096, false,
	  (UINT64_MAX - 4096) / 78 * 57 + (UINT64_MAX - 4096) % 78 * 57 / 78, 0 },
};

int main(void)
{
	char name[128];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct size_case *c = &cases[i];
		struct size_info s = { .advertised = true, .has_limit = c->has_limit,
		                       .limit = c->limit, .binary = c->binary,
		                       .max_attachment_base64 = 999, .max_attachment_binary = 999 };
		size_compute(&s, c->reserve);
		snprintf(name, sizeof name, "size %s: base64", c->name);
		if (s.max_attachment_base64 != c->want_base64)
			printf("# got %llu want %llu\n", (unsigned long long)s.max_attachment_base64,
			       (unsigned long long)c->want_base64);
		T_CHECK(name, s.max_attachment_base64 == c->want_base64);
		snprintf(name, sizeof name, "size %s: binary", c->name);
		T_CHECK(name, s.max_attachment_binary == c->want_binary);
		snprintf(name, sizeof name, "size %s: reserve kept", c->name);
		T_CHECK(name, s.reserve == c->reserve && s.limit == c->limit);
	}

	/* Same as exact 128-bit arithmetic for a spread of limits. */
	bool exact = true;
	for (uint64_t x = 1; x < UINT64_MAX / 3; x = x * 3 + 7) {
		struct size_info s = { .has_limit = true, .limit = x };
		size_compute(&s, 0);
		if ((unsigned __int128)s.max_attachment_base64 != (unsigned __int128)x * 57 / 78)
			exact = false;
	}
	T_CHECK("size matches 128-bit floor", exact);
	T_DONE();
}
