/* SIZE (RFC 1870) -> the largest attachment that fits, as docs/design.md "The
 * attachment limit" defines it. Base64 turns 57 bytes into a 76-character
 * line plus CRLF, 78 bytes on the wire. */
#include "result.h"

/* floor(x * 57 / 78) without overflow: x may be near UINT64_MAX, since
 * the limit is whatever number the server advertised. */
static uint64_t size_base64_fit(uint64_t x)
{
	return (x / 78) * 57 + (x % 78) * 57 / 78;
}

void size_compute(struct size_info *s, uint64_t reserve)
{
	uint64_t room = 0;

	s->reserve = reserve;
	s->max_attachment_base64 = 0;
	s->max_attachment_binary = 0;
	if (!s->has_limit)
		return;          /* no fixed limit: nothing to compute, never "0" */
	if (s->limit > reserve)
		room = s->limit - reserve;
	s->max_attachment_base64 = size_base64_fit(room);
	if (s->binary)
		s->max_attachment_binary = room;
}

struct size_info size_verified(const struct size_info *s)
{
	struct size_info v = *s;

	if (s->checked && s->verified_known) {
		v.advertised = v.has_limit = true;
		v.limit = s->verified;
		size_compute(&v, s->reserve);
	}
	return v;
}
