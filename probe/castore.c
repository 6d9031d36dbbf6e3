/* Trust anchors parsed only when a chain needs them, and chain verdicts
 * remembered for the run.
 *
 * Why lazily: parsing the ~140 certificates of the system bundle costs more
 * CPU than the whole TLS handshake of a probe, to use one of them (or none,
 * for a private CA). Instead each PEM block's subject name is read from the
 * first bytes of its DER (a few hundred bytes of base64, no certificate
 * parsed) and reduced to a key; a chain's issuers are reduced the same way.
 *
 * Why the verdict cannot change: mbedTLS looks for a certificate's parent
 * among the trusted anchors by x509_name_cmp(child->issuer, anchor->subject),
 * which compares attribute by attribute (same OIDs in the same order, values
 * equal byte for byte or, for UTF8String/PrintableString, ignoring ASCII
 * case), and trusts a self-signed leaf only if an anchor is byte-identical
 * to it (so has its subject too). The key hashes OIDs and ASCII-lowercased
 * values and ignores string types and RDN grouping: names mbedTLS finds equal
 * always have equal keys, so every anchor mbedTLS could pick is among those
 * handed to it, in the bundle's order (which decides between anchors of the
 * same name); anchors with other keys cannot be picked. A block whose name
 * cannot be read here gets key 0 and is always handed over.
 *
 * Why a cache: in a batch, --mx or the exporter the same chain comes back
 * again and again (one provider, many domains). Its verdict depends only on
 * the chain, the anchors (fixed for a store) and the clock, so it is kept,
 * keyed by the SHA-256 of the chain's DER, until the first moment a
 * certificate involved crosses its notBefore or notAfter. The handshake's
 * own signature (CertificateVerify, ServerKeyExchange) is checked by mbedTLS
 * on every connection regardless. */
#include "castore.h"
#include "xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <psa/crypto.h>

#define CASTORE_FILE_MAX  (16u << 20)   /* larger: left to tlsio.c, which refuses them */
#define CASTORE_CACHE     256           /* chain verdicts kept (ring) */
#define CASTORE_CHAIN_MAX 64            /* issuer keys looked at per chain */

static const char castore_begin[] = "-----BEGIN CERTIFICATE-----";
static const char castore_end[] = "-----END CERTIFICATE-----";

struct castore_anchor {
	uint64_t key;                /* subject key; 0: unknown, always a candidate */
	const char *pem;             /* borrowed from a castore_text: BEGIN .. END line */
	size_t len;
	size_t body_len;             /* the base64 body: after BEGIN, up to END */
	mbedtls_x509_crt *crt;       /* owned: parsed on first use, NULL before or if bad */
	bool tried;                  /* parsing attempted */
};

struct castore_text {
	char *p;                     /* owned */
	struct castore_text *next;
};

struct castore_verdict {
	unsigned char id[32];        /* SHA-256 over the chain's DER */
	time_t until;                /* valid while now < until */
	uint32_t flags;
	int ret;
	bool used;
};

struct castore {
	struct castore_text *texts;          /* owned: file contents the anchors point into */
	struct castore_anchor *a;            /* owned, file order */
	size_t n, cap;
	mbedtls_x509_crt *eager;             /* borrowed */
	struct castore_verdict cache[CASTORE_CACHE];
	size_t cache_next;
	struct castore_stats st;
	time_t (*clock)(time_t *);           /* time(), or a test's */
};

/* ------------------------------------------------------------ name keys */

#define CASTORE_SEED       0xcbf29ce484222325ull
#define CASTORE_MIX        0x9e3779b97f4a7c15ull

/* ASCII upper-case letters of the eight bytes of w made lower-case, all
 * at once: a byte is one when it is ASCII (top bit clear) and at least 'A'
 * but not above 'Z'; 0x20 is added to those. */
static uint64_t castore_lower8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t low7 = w & (0x7f * ones);
	uint64_t ge_a = low7 + (0x80 - 'A') * ones;      /* top bit: >= 'A' */
	uint64_t gt_z = low7 + (0x7f - 'Z') * ones;      /* top bit: > 'Z' */
	uint64_t upper = (ge_a & ~gt_z) & ~w & (0x80 * ones);
	return w | upper >> 2;
}

/* Mixes p[0..n) into h eight bytes at a time (the last word zero-padded),
 * ASCII case folded when fold. Any function of the bytes would do for
 * correctness (equal names must get equal keys; a collision only hands
 * mbedTLS one more anchor to reject); this one is cheap. */
static uint64_t castore_mix(uint64_t h, const unsigned char *p, size_t n, bool fold)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t w = 0;
		if (n - i >= 8)
			memcpy(&w, p + i, 8);
		else
			for (size_t k = 0; k < n - i; k++)
				w |= (uint64_t)p[i + k] << (8 * k);
		if (fold)
			w = castore_lower8(w);
		h = (h ^ w) * CASTORE_MIX;
		h ^= h >> 29;
	}
	return h;
}

static uint64_t castore_attr(uint64_t h, const unsigned char *oid, size_t oidlen,
                             const unsigned char *val, size_t vallen)
{
	h = (h ^ ((uint64_t)oidlen << 32 | vallen)) * CASTORE_MIX;
	h = castore_mix(h, oid, oidlen, false);
	return castore_mix(h, val, vallen, true);
}

static uint64_t castore_key_final(uint64_t h)
{
	return h == 0 ? 1 : h;           /* 0 means "unknown" */
}

/* Key of a parsed name. An empty name (mbedTLS leaves one zeroed entry)
 * hashes like the empty DER name. */
static uint64_t castore_name_key(const mbedtls_x509_name *n)
{
	uint64_t h = CASTORE_SEED;

	for (; n != NULL; n = n->next) {
		if (n->oid.p == NULL)
			continue;
		h = castore_attr(h, n->oid.p, n->oid.len, n->val.p, n->val.len);
	}
	return castore_key_final(h);
}

/* One DER header at p (avail bytes there): tag, content length, header
 * size; 0 if it does not fit or is not DER we read. The content is not
 * required to fit. */
static size_t castore_der_hdr(const unsigned char *p, size_t avail, unsigned char *tag,
                              size_t *len)
{
	size_t nb, l = 0;

	if (avail < 2)
		return 0;
	*tag = p[0];
	if (p[1] < 0x80) {
		*len = p[1];
		return 2;
	}
	nb = p[1] & 0x7f;
	if (nb == 0 || nb > 3 || avail < 2 + nb)
		return 0;
	for (size_t i = 0; i < nb; i++)
		l = l << 8 | p[2 + i];
	*len = l;
	return 2 + nb;
}

enum castore_walk { CASTORE_KEY, CASTORE_SHORT, CASTORE_BAD };

/* Key of a Name's content (the RDN sequence), which lies whole in p..p+n. */
static enum castore_walk castore_der_name(const unsigned char *p, size_t n, uint64_t *key)
{
	uint64_t h = CASTORE_SEED;
	size_t off = 0;

	while (off < n) {
		unsigned char tag;
		size_t len, hl = castore_der_hdr(p + off, n - off, &tag, &len);
		if (hl == 0 || tag != 0x31 || len > n - off - hl)
			return CASTORE_BAD;
		size_t s = off + hl, send = s + len;
		off = send;
		while (s < send) {                       /* AttributeTypeAndValue */
			size_t alen, ah = castore_der_hdr(p + s, send - s, &tag, &alen);
			if (ah == 0 || tag != 0x30 || alen > send - s - ah)
				return CASTORE_BAD;
			size_t t = s + ah, tend = t + alen;
			s = tend;
			size_t olen, oh = castore_der_hdr(p + t, tend - t, &tag, &olen);
			if (oh == 0 || tag != 0x06 || olen > tend - t - oh)
				return CASTORE_BAD;
			const unsigned char *oid = p + t + oh;
			t += oh + olen;
			size_t vlen, vh = castore_der_hdr(p + t, tend - t, &tag, &vlen);
			if (vh == 0 || vlen != tend - t - vh)
				return CASTORE_BAD;
			h = castore_attr(h, oid, olen, p + t + vh, vlen);
		}
	}
	*key = castore_key_final(h);
	return CASTORE_KEY;
}

/* Subject key of a certificate from the first n bytes of its DER. */
static enum castore_walk castore_der_subject(const unsigned char *p, size_t n, uint64_t *key)
{
	unsigned char tag;
	size_t len, hl, off = 0;

	/* Certificate and tbsCertificate: headers only. */
	for (int i = 0; i < 2; i++) {
		if ((hl = castore_der_hdr(p + off, n - off, &tag, &len)) == 0)
			return n < 16 ? CASTORE_SHORT : CASTORE_BAD;
		if (tag != 0x30)
			return CASTORE_BAD;
		off += hl;
	}
	/* [0] version (optional), serial, signature, issuer, validity: skipped. */
	for (int i = 0; i < 5; i++) {
		if ((hl = castore_der_hdr(p + off, n - off, &tag, &len)) == 0)
			return CASTORE_SHORT;
		if (i == 0 && tag != 0xa0)
			i++;                             /* no version field */
		if (len > n - off - hl)
			return CASTORE_SHORT;
		off += hl + len;
	}
	if ((hl = castore_der_hdr(p + off, n - off, &tag, &len)) == 0)
		return CASTORE_SHORT;
	if (tag != 0x30)
		return CASTORE_BAD;
	if (len > n - off - hl)
		return CASTORE_SHORT;
	return castore_der_name(p + off + hl, len, key);
}

/* ------------------------------------------------------------ base64 */

/* Base64 digit values 0..63; 64 white space (skipped), 65 padding, 66 not
 * base64. A table: this runs over the start of every anchor in the store. */
static const unsigned char castore_b64[256] = {
	66, 66, 66, 66, 66, 66, 66, 66, 66, 64, 64, 66, 66, 64, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	64, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 62, 66, 66, 66, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 66, 66, 66, 65, 66, 66,
	66,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 66, 66, 66, 66, 66,
	66, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
};

/* A base64 text decoded a little at a time. */
struct castore_b64dec {
	const char *s;
	size_t n, i;
	uint32_t acc;
	int bits;
	bool bad;                        /* a character that is not base64 */
};

/* Decodes until out holds max bytes or the text ends; the new length.
 * Locals, not d->: out may alias anything, the compiler would reload. */
static size_t castore_b64_more(struct castore_b64dec *d, unsigned char *out, size_t o, size_t max)
{
	const unsigned char *s = (const unsigned char *)d->s;
	size_t i = d->i, n = d->n;
	uint32_t acc = d->acc;
	int bits = d->bits;

	while (i < n && o < max) {
		/* Four digits at once: the common case inside a line. */
		if (bits == 0 && n - i >= 4 && max - o >= 3) {
			uint32_t a = castore_b64[s[i]], b = castore_b64[s[i + 1]],
			         c = castore_b64[s[i + 2]], e = castore_b64[s[i + 3]];
			if ((a | b | c | e) < 64) {
				uint32_t v = a << 18 | b << 12 | c << 6 | e;
				out[o] = (unsigned char)(v >> 16);
				out[o + 1] = (unsigned char)(v >> 8);
				out[o + 2] = (unsigned char)v;
				o += 3;
				i += 4;
				continue;
			}
		}
		unsigned char c = castore_b64[s[i++]];
		if (c == 64)
			continue;
		if (c == 65) {
			i = n;
			break;
		}
		if (c == 66) {
			d->bad = true;
			break;
		}
		acc = acc << 6 | c;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
		if (bits == 0)
			acc = 0;
	}
	d->i = i;
	d->acc = acc;
	d->bits = bits;
	return o;
}

/* ------------------------------------------------------------ index */

struct castore *castore_new(void)
{
	struct castore *cs = xcalloc(1, sizeof(*cs));

	cs->clock = time;
	return cs;
}

void castore_free(struct castore *cs)
{
	if (cs == NULL)
		return;
	for (size_t i = 0; i < cs->n; i++) {
		mbedtls_x509_crt_free(cs->a[i].crt);
		free(cs->a[i].crt);
	}
	free(cs->a);
	while (cs->texts != NULL) {
		struct castore_text *t = cs->texts;
		cs->texts = t->next;
		free(t->p);
		free(t);
	}
	free(cs);
}

static uint64_t castore_block_key_seq(const char *b64, size_t n);

/* Random access into a PEM body laid out the usual way: lines of the same
 * length (a multiple of 4), each ending in "\n" or "\r\n". Then DER byte k
 * is in base64 group k/3, whose four characters sit at a computed place,
 * and the subject's key needs only the groups of a few headers and of the
 * subject itself: about a third of what decoding from the start reads
 * (the issuer, as long as the subject, comes first and is skipped).
 *
 * A line is used only after it is checked: its '\n' exactly where the
 * layout puts it (found by memchr from the line's start, so no shorter
 * line hides inside), "\r" before it when the first line had one, and its
 * last character a base64 digit. For every body mbedTLS's decoder accepts
 * (spaces only before a line end, "\r" only in "\r\n", nothing but digits
 * otherwise) a checked line therefore holds exactly its length in digits,
 * and the bytes read here are the ones decoding from the start gives.
 * A body mbedTLS refuses can never be an anchor, whatever its key. Any
 * other layout (the last line, padding, a header line, other lengths)
 * makes castore_ra_key give up, and the block is decoded from the start. */
struct castore_ra {
	const unsigned char *s;
	size_t n;
	size_t first;               /* offset of the first line */
	size_t len;                 /* digits per line */
	size_t stride;              /* len + 1 or + 2 */
	size_t checked;             /* lines 0 .. checked-1 are known good */
	unsigned char head[48];     /* the DER's first bytes, decoded at once: */
	size_t headlen;             /* the headers up to the issuer's lie there */
};

static bool castore_ra_init(struct castore_ra *r, const char *b64, size_t n)
{
	const unsigned char *s = (const unsigned char *)b64, *nl;
	size_t first;

	if (n >= 2 && s[0] == '\r' && s[1] == '\n')
		first = 2;
	else if (n >= 1 && s[0] == '\n')
		first = 1;
	else
		return false;
	nl = memchr(s + first, '\n', n - first);
	if (nl == NULL)
		return false;
	size_t end = (size_t)(nl - s);
	bool cr = end > first && s[end - 1] == '\r';
	size_t len = end - first - cr;
	if (len == 0 || len % 4 != 0 || castore_b64[s[first + len - 1]] >= 64)
		return false;
	*r = (struct castore_ra){ .s = s, .n = n, .first = first, .len = len,
	                          .stride = len + 1 + cr, .checked = 1 };
	return true;
}

/* Checks lines up to and including line. */
static bool castore_ra_lines(struct castore_ra *r, size_t line)
{
	bool cr = r->stride == r->len + 2;

	for (; r->checked <= line; r->checked++) {
		size_t start = r->first + r->checked * r->stride;
		if (start + r->stride > r->n)
			return false;
		const unsigned char *nl = memchr(r->s + start, '\n', r->stride);
		if (nl != r->s + start + r->stride - 1 || (cr && r->s[start + r->len] != '\r') ||
		    castore_b64[r->s[start + r->len - 1]] >= 64)
			return false;
	}
	return true;
}

/* Four digits at q into v; false if one is not a digit. */
static inline bool castore_ra_group(const unsigned char *q, uint32_t *v)
{
	uint32_t a = castore_b64[q[0]], b = castore_b64[q[1]], c = castore_b64[q[2]],
	         e = castore_b64[q[3]];
	*v = a << 18 | b << 12 | c << 6 | e;
	return (a | b | c | e) < 64;
}

/* DER bytes [k, k + cnt) into out; false if the layout does not hold. */
static bool castore_ra_read(struct castore_ra *r, size_t k, size_t cnt,
                            unsigned char *restrict out)
{
	const size_t per_line = r->len / 4, gap = r->stride - r->len;
	size_t g = k / 3, col = g % per_line, skip = k - g * 3;
	unsigned char *w = out, *const wend = out + cnt;
	uint32_t v;

	if (cnt == 0)
		return true;
	if (!castore_ra_lines(r, ((k + cnt + 2) / 3 - 1) / per_line))
		return false;
	const unsigned char *q = r->s + r->first + g / per_line * r->stride + col * 4;
	if (skip != 0) {                        /* the first group, in part */
		if (!castore_ra_group(q, &v))
			return false;
		for (size_t i = skip; i < 3 && w < wend; i++)
			*w++ = (unsigned char)(v >> (16 - 8 * i));
		q += 4;
		if (++col == per_line)
			col = 0, q += gap;
	}
	while (wend - w >= 3) {                 /* whole groups, a line's run at a time */
		size_t run = per_line - col, want = (size_t)(wend - w) / 3;
		if (run > want)
			run = want;
		for (size_t i = 0; i < run; i++, q += 4, w += 3) {
			if (!castore_ra_group(q, &v))
				return false;
			w[0] = (unsigned char)(v >> 16);
			w[1] = (unsigned char)(v >> 8);
			w[2] = (unsigned char)v;
		}
		col += run;
		if (col == per_line)
			col = 0, q += gap;
	}
	if (w < wend) {                         /* the last group, in part */
		if (!castore_ra_group(q, &v))
			return false;
		for (int i = 0; w < wend; i++)
			*w++ = (unsigned char)(v >> (16 - 8 * i));
	}
	return true;
}

/* One DER header at DER offset off (within limit): as castore_der_hdr. */
static size_t castore_ra_hdr(struct castore_ra *r, size_t off, size_t limit, unsigned char *tag,
                             size_t *len)
{
	unsigned char h[5];
	size_t avail = limit > off ? limit - off : 0;

	if (avail > sizeof h)
		avail = sizeof h;
	if (avail < 2)
		return 0;
	if (off + avail <= r->headlen)
		return castore_der_hdr(r->head + off, avail, tag, len);
	if (!castore_ra_read(r, off, avail, h))
		return 0;
	return castore_der_hdr(h, avail, tag, len);
}

#define CASTORE_RA_NAME_MAX 1024        /* longer subjects: decoded from the start */

/* The subject's key by random access; false when this cannot tell (the
 * caller then decodes from the start, which also judges bad DER). */
static bool castore_ra_key(const char *b64, size_t n, uint64_t *key)
{
	struct castore_ra r;
	unsigned char tag, name[CASTORE_RA_NAME_MAX];
	size_t len, hl, off = 0, limit;

	if (!castore_ra_init(&r, b64, n))
		return false;
	limit = (r.n / r.stride + 1) * r.len / 4 * 3;    /* above any DER offset in the body */
	r.headlen = limit < sizeof r.head ? limit : sizeof r.head;
	if (!castore_ra_read(&r, 0, r.headlen, r.head))
		r.headlen = 0;                           /* (each header read alone then) */
	for (int i = 0; i < 2; i++) {                    /* Certificate, tbsCertificate */
		if ((hl = castore_ra_hdr(&r, off, limit, &tag, &len)) == 0 || tag != 0x30)
			return false;
		if (i == 0)
			limit = hl + len;
		off += hl;
	}
	for (int i = 0; i < 5; i++) {       /* [0] version (optional), serial, signature, issuer, validity */
		if ((hl = castore_ra_hdr(&r, off, limit, &tag, &len)) == 0)
			return false;
		if (i == 0 && tag != 0xa0)
			i++;
		if (len > limit - off - hl)
			return false;
		off += hl + len;
	}
	if ((hl = castore_ra_hdr(&r, off, limit, &tag, &len)) == 0 || tag != 0x30 ||
	    len > limit - off - hl || len > sizeof name)
		return false;
	if (!castore_ra_read(&r, off + hl, len, name))
		return false;
	return castore_der_name(name, len, key) == CASTORE_KEY;
}

/* The whole DER of a body in castore_ra's layout whose last line may be
 * shorter and end in '=' padding, and which ends right after that line;
 * NULL when it is not so (the caller then lets mbedTLS decode the PEM). On
 * this layout every digit is checked, so the bytes are those mbedTLS's
 * decoder gives (it ignores the unused bits of a padded group, as this
 * does), and mbedTLS's constant-time decoding, ~60 instructions a digit
 * and meant for secret keys, is not needed for a public certificate. */
static unsigned char *castore_ra_der(const char *b64, size_t n, size_t *derlen)
{
	struct castore_ra r;

	if (!castore_ra_init(&r, b64, n))
		return NULL;
	size_t eol = r.stride - r.len, full = (n - r.first) / r.stride;
	size_t tail = r.first + full * r.stride, last = 0;
	if (tail == n && full > 0)                  /* the last line is full: checked below */
		tail -= r.stride, full--;
	if (full > 0 && !castore_ra_lines(&r, full - 1))
		return NULL;
	if (tail < n) {                             /* the last line, which may end in '=' */
		const unsigned char *nl = memchr(r.s + tail, '\n', n - tail);
		if (nl == NULL || (size_t)(nl - r.s) != n - 1 || n - tail <= eol)
			return NULL;
		last = n - tail - eol;
		if (last % 4 != 0 || (eol == 2 && r.s[n - 2] != '\r'))
			return NULL;
	}
	size_t groups = (full * r.len + last) / 4;
	if (groups == 0)
		return NULL;
	/* the last group: "xxxx", "xxx=" or "xx==" */
	const unsigned char *lg = last ? r.s + tail + last - 4 : r.s + tail - eol - 4;
	size_t pad = lg[3] != '=' ? 0 : lg[2] != '=' ? 1 : 2;
	unsigned char *der = xmalloc(groups * 3);
	unsigned char *w = der;
	for (size_t line = 0; line <= full; line++) {
		size_t digits = line < full ? r.len : last;
		const unsigned char *q = r.s + r.first + line * r.stride;
		for (size_t i = 0; i < digits; i += 4, q += 4, w += 3) {
			uint32_t v;
			unsigned char g[4];
			memcpy(g, q, 4);
			if (q == lg && pad > 0) {
				g[3] = 'A';
				if (pad == 2)
					g[2] = 'A';
			}
			if (!castore_ra_group(g, &v)) {
				free(der);
				return NULL;
			}
			w[0] = (unsigned char)(v >> 16);
			w[1] = (unsigned char)(v >> 8);
			w[2] = (unsigned char)v;
		}
	}
	*derlen = groups * 3 - pad;
	return der;
}

/* Subject key of one PEM block's base64 body; 0 if it cannot be read. */
static uint64_t castore_block_key(const char *b64, size_t n)
{
	uint64_t key;

	if (castore_ra_key(b64, n, &key))
		return key;
	return castore_block_key_seq(b64, n);
}

/* The same by decoding from the start: any layout. */
static uint64_t castore_block_key_seq(const char *b64, size_t n)
{
	struct castore_b64dec d = { .s = b64, .n = n };
	unsigned char *der;
	size_t cap = n / 4 * 3 + 3, got = 0, want = 256;
	uint64_t key = 0;

	/* Decoded in steps as the walk needs more: subjects end within the
	 * first few hundred bytes (the system bundle: at most ~500). */
	der = xmalloc(cap);
	for (;;) {
		size_t now = castore_b64_more(&d, der, got, want < cap ? want : cap);
		bool more = now > got;
		got = now;
		if (d.bad)
			break;
		enum castore_walk w = castore_der_subject(der, got, &key);
		if (w == CASTORE_BAD)
			key = 0;
		if (w != CASTORE_SHORT)
			break;
		key = 0;
		if (!more)
			break;
		want += 256;
	}
	free(der);
	return key;
}

/* The first "-----" marker line at or after p (len bytes) that is m; NULL
 * if none. memchr for its first byte: base64 bodies have no '-', so the
 * scan jumps from marker to marker instead of comparing at every byte. */
static const char *castore_marker(const char *p, size_t len, const char *m, size_t mlen)
{
	const char *end = p + len;

	while ((size_t)(end - p) >= mlen) {
		const char *d = memchr(p, '-', (size_t)(end - p) - mlen + 1);
		if (d == NULL)
			return NULL;
		if (memcmp(d, m, mlen) == 0)
			return d;
		p = d + 1;
	}
	return NULL;
}

/* Parses an anchor (once): its certificate, or NULL if mbedTLS refuses it. */
static mbedtls_x509_crt *castore_anchor_crt(struct castore *cs, struct castore_anchor *an)
{
	unsigned char *pem;

	if (an->tried)
		return an->crt;
	an->tried = true;
	cs->st.parsed++;
	an->crt = xmalloc(sizeof(*an->crt));
	mbedtls_x509_crt_init(an->crt);
	/* The body decoded here when it has the usual layout, else mbedTLS's
	 * PEM reader (which wants a NUL-terminated block) decodes it. */
	size_t derlen = 0;
	unsigned char *der = castore_ra_der(an->pem + sizeof(castore_begin) - 1, an->body_len,
	                                    &derlen);
	int ret;
	if (der != NULL) {
		ret = mbedtls_x509_crt_parse_der(an->crt, der, derlen);
		free(der);
	} else {
		pem = xmalloc(an->len + 1);
		memcpy(pem, an->pem, an->len);
		pem[an->len] = '\0';
		ret = mbedtls_x509_crt_parse(an->crt, pem, an->len + 1);
		free(pem);
	}
	if (ret != 0 || an->crt->raw.p == NULL) {
		mbedtls_x509_crt_free(an->crt);
		free(an->crt);
		an->crt = NULL;
	}
	return an->crt;
}

static void castore_drop_from(struct castore *cs, size_t first)
{
	for (size_t i = first; i < cs->n; i++) {
		if (cs->a[i].tried)
			cs->st.parsed--;
		mbedtls_x509_crt_free(cs->a[i].crt);
		free(cs->a[i].crt);
	}
	cs->n = first;
}

/* Indexes text (owned from here on, freed on failure). */
static int castore_add_text(struct castore *cs, char *text, size_t len, bool check)
{
	struct castore_text *t = NULL;
	size_t first = cs->n, off = 0;
	bool ok = !check;

	/* mbedTLS reads a buffer as PEM only up to its first NUL byte: such a
	 * file is left to it. */
	if (len == 0 || memchr(text, '\0', len) != NULL)
		goto fail;
	t = xcalloc(1, sizeof(*t));
	while (off < len) {
		const char *b = castore_marker(text + off, len - off, castore_begin,
		                               sizeof(castore_begin) - 1);
		const char *body, *e;
		size_t end;

		if (b == NULL)
			break;
		body = b + sizeof(castore_begin) - 1;
		e = castore_marker(body, len - (size_t)(body - text), castore_end,
		                   sizeof(castore_end) - 1);
		if (e == NULL)
			break;
		end = (size_t)(e - text) + sizeof(castore_end) - 1;
		if (end < len && text[end] == '\r')
			end++;
		if (end < len && text[end] == '\n')
			end++;
		if (cs->n == cs->cap) {
			size_t ncap = cs->cap ? cs->cap * 2 : 256;

			cs->a = xreallocarray(cs->a, ncap, sizeof(*cs->a));
			cs->cap = ncap;
		}
		cs->a[cs->n++] = (struct castore_anchor){
			.key = castore_block_key(body, (size_t)(e - body)),
			.pem = b, .len = end - (size_t)(b - text), .body_len = (size_t)(e - body),
		};
		off = end;
	}
	/* A file the user named must hold a certificate mbedTLS accepts;
	 * parsing the first good one now also keeps it for later. */
	for (size_t i = first; i < cs->n && !ok; i++)
		ok = castore_anchor_crt(cs, &cs->a[i]) != NULL;
	if (cs->n == first || !ok)
		goto fail;
	t->p = text;
	t->next = cs->texts;
	cs->texts = t;
	cs->st.indexed += cs->n - first;
	return 0;
fail:
	castore_drop_from(cs, first);
	free(text);
	free(t);
	return -1;
}

int castore_add_pem(struct castore *cs, const char *pem, size_t len, bool check)
{
	char *text;

	if (len == 0)
		return -1;
	text = xmalloc(len);
	memcpy(text, pem, len);
	return castore_add_text(cs, text, len, check);
}

int castore_add_pem_file(struct castore *cs, const char *path, bool check)
{
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    (unsigned long long)sb.st_size > CASTORE_FILE_MAX)
		goto done;
	buf = xmalloc((size_t)sb.st_size);
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got == (size_t)sb.st_size) {
		rc = castore_add_text(cs, buf, got, check);
		buf = NULL;                      /* owned by the store or freed */
	}
done:
	free(buf);
	close(fd);
	return rc;
}

void castore_set_eager(struct castore *cs, mbedtls_x509_crt *eager)
{
	cs->eager = eager != NULL && eager->raw.p != NULL ? eager : NULL;
}

bool castore_empty(const struct castore *cs)
{
	return cs->n == 0 && cs->eager == NULL;
}

void castore_get_stats(const struct castore *cs, struct castore_stats *st)
{
	*st = cs->st;
}

void castore_set_clock(struct castore *cs, time_t (*clock)(time_t *))
{
	cs->clock = clock != NULL ? clock : time;
}

/* ------------------------------------------------------------ verify */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): no timegm(), no TZ. */
static long long castore_days(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static long long castore_x509_time(const mbedtls_x509_time *t)
{
	if (t->mon < 1 || t->mon > 12 || t->day < 1 || t->day > 31)
		return 0;
	return castore_days(t->year, (unsigned)t->mon, (unsigned)t->day) * 86400 +
	       (long long)t->hour * 3600 + t->min * 60 + t->sec;
}

/* Lowers *until to this certificate's next validity date after now, the
 * moment mbedTLS's verdict about it can change. */
static void castore_until(const mbedtls_x509_crt *c, long long now, long long *until)
{
	long long from = castore_x509_time(&c->valid_from), to = castore_x509_time(&c->valid_to);

	if (now < from && from < *until)
		*until = from;
	else if (now <= to && to < *until)
		*until = to;
}

static int castore_chain_id(const mbedtls_x509_crt *chain, unsigned char id[32])
{
	psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
	size_t n = 0;

	if (psa_hash_setup(&op, PSA_ALG_SHA_256) != PSA_SUCCESS)
		return -1;
	for (const mbedtls_x509_crt *c = chain; c != NULL && c->raw.p != NULL; c = c->next) {
		unsigned char len[4] = { (unsigned char)(c->raw.len >> 24),
		                         (unsigned char)(c->raw.len >> 16),
		                         (unsigned char)(c->raw.len >> 8), (unsigned char)c->raw.len };
		if (psa_hash_update(&op, len, sizeof(len)) != PSA_SUCCESS ||
		    psa_hash_update(&op, c->raw.p, c->raw.len) != PSA_SUCCESS)
			goto fail;
	}
	if (psa_hash_finish(&op, id, 32, &n) != PSA_SUCCESS || n != 32)
		goto fail;
	return 0;
fail:
	psa_hash_abort(&op);
	return -1;
}

int castore_verify(struct castore *cs, mbedtls_x509_crt *chain, uint32_t *flags)
{
	uint64_t keys[CASTORE_CHAIN_MAX] = {0};
	size_t nkeys = 0;
	mbedtls_x509_crt *head = NULL, *tail = NULL;
	struct castore_verdict *v = NULL;
	unsigned char id[32];
	bool have_id;
	long long now = (long long)cs->clock(NULL), until = (long long)1 << 62;
	int ret;

	have_id = castore_chain_id(chain, id) == 0;
	if (have_id) {
		for (size_t i = 0; i < CASTORE_CACHE; i++) {
			struct castore_verdict *c = &cs->cache[i];
			if (c->used && memcmp(c->id, id, sizeof(id)) == 0) {
				if (now < (long long)c->until) {
					cs->st.cached++;
					*flags = c->flags;
					return c->ret;
				}
				v = c;               /* stale: refreshed below */
				break;
			}
		}
	}

	/* Every issuer the chain names; a longer chain than this cannot be
	 * verified by mbedTLS anyway (MBEDTLS_X509_MAX_INTERMEDIATE_CA), but
	 * then every anchor is a candidate, to be exact. */
	bool all = false;
	for (const mbedtls_x509_crt *c = chain; c != NULL && c->raw.p != NULL; c = c->next) {
		if (nkeys == CASTORE_CHAIN_MAX) {
			all = true;
			break;
		}
		keys[nkeys++] = castore_name_key(&c->issuer);
		castore_until(c, now, &until);
	}
	for (size_t i = 0; i < cs->n; i++) {
		struct castore_anchor *an = &cs->a[i];
		bool want = all || an->key == 0;
		for (size_t k = 0; k < nkeys && !want; k++)
			want = keys[k] == an->key;
		if (!want || castore_anchor_crt(cs, an) == NULL)
			continue;
		if (tail != NULL)
			tail->next = an->crt;
		else
			head = an->crt;
		tail = an->crt;
		castore_until(an->crt, now, &until);
	}
	if (cs->eager != NULL) {
		if (tail != NULL)
			tail->next = cs->eager;
		else
			head = cs->eager;
		for (const mbedtls_x509_crt *c = cs->eager; c != NULL; c = c->next)
			castore_until(c, now, &until);
	}

	*flags = 0;
	ret = mbedtls_x509_crt_verify(chain, head, NULL, NULL, flags, NULL, NULL);
	cs->st.verified++;

	/* Unlink the borrowed anchors again (each is its own list). */
	for (mbedtls_x509_crt *c = head, *nx; c != NULL && c != cs->eager; c = nx) {
		nx = c->next;
		c->next = NULL;
	}

	if (have_id) {
		if (v == NULL) {
			v = &cs->cache[cs->cache_next];
			cs->cache_next = (cs->cache_next + 1) % CASTORE_CACHE;
		}
		memcpy(v->id, id, sizeof(id));
		/* A second early: mbedTLS compares at one-second resolution. */
		v->until = (time_t)(until - 1);
		v->flags = *flags;
		v->ret = ret;
		v->used = true;
	}
	return ret;
}
