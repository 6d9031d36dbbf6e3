/* probe/castore.c's random-access reading of PEM bodies gives the subject
 * key that decoding from the start gives, and its whole-body decoding the
 * DER that mbedTLS's PEM reader gives, for every certificate mbedTLS
 * accepts, whatever the layout: the system bundle as it is, with "\r\n"
 * line ends, re-wrapped at 76 and at 4 digits, at lengths that are not a
 * multiple of 4, with spaces before the line ends, with one line split in
 * two (so that the line lengths still add up, the case a check of line
 * ends alone would miss), and with a digit replaced by '*' (then mbedTLS
 * refuses the block and the key does not matter). It must also be the
 * path actually taken on the usual layouts, or nothing is saved. The file
 * includes castore.c to reach its static functions. */
#include "../../probe/castore.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

#define BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

/* The digits of one body, without line ends. */
static size_t digits(const char *body, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (body[i] != '\n' && body[i] != '\r' && body[i] != ' ')
			out[o++] = body[i];
	return o;
}

enum layout { LF, CRLF, W76, W4, W66, SPACES, SPLIT, BADCHAR, LAYOUTS };
static const char *const layout_name[LAYOUTS] = {
	"lines of 64 (as in the bundle)", "\\r\\n line ends", "lines of 76", "lines of 4",
	"lines of 66", "spaces before line ends", "one line split in two", "a '*' digit",
};

/* A PEM block (BEGIN line, body, END line) of the digits in layout. */
static size_t make_block(const char *d, size_t nd, enum layout l, char *out)
{
	size_t w = l == W76 ? 76 : l == W4 ? 4 : l == W66 ? 66 : 64, o = 0;
	const char *eol = l == CRLF ? "\r\n" : l == SPACES ? "  \n" : "\n";

	o += (size_t)sprintf(out, "-----BEGIN CERTIFICATE-----%s", l == CRLF ? "\r\n" : "\n");
	for (size_t i = 0, line = 0; i < nd; i += w, line++) {
		size_t take = nd - i < w ? nd - i : w;
		if (l == SPLIT && line == 2 && take == w) {     /* 60 + "\n" + 3 + ... = 65 + 1 */
			memcpy(out + o, d + i, 60);
			o += 60;
			out[o++] = '\n';
			memcpy(out + o, d + i + 60, 3);
			o += 3;
			out[o++] = '\n';
			i -= 1;                 /* one digit moves to the next line */
			continue;
		}
		memcpy(out + o, d + i, take);
		if (l == BADCHAR && line == 2)
			out[o + 10] = '*';
		o += take;
		o += (size_t)sprintf(out + o, "%s", eol);
	}
	o += (size_t)sprintf(out + o, "-----END CERTIFICATE-----\n");
	return o;
}

int main(void)
{
	size_t len = 0;
	char *bundle = slurp(BUNDLE, &len);

	T_CHECK("layout: the system bundle is readable (" BUNDLE ")", bundle != NULL);
	if (bundle == NULL)
		T_DONE();

	int blocks = 0, fast[LAYOUTS] = { 0 }, same[LAYOUTS] = { 0 }, accepted[LAYOUTS] = { 0 };
	int der_used[LAYOUTS] = { 0 }, der_same[LAYOUTS] = { 0 };
	char *d = malloc(len), *blk = malloc(len * 2 + 256);
	const char *p = bundle, *end = bundle + len;
	for (;;) {
		const char *b = castore_marker(p, (size_t)(end - p), castore_begin,
		                               sizeof castore_begin - 1);
		if (b == NULL)
			break;
		const char *body = b + sizeof castore_begin - 1;
		const char *e = castore_marker(body, (size_t)(end - body), castore_end,
		                               sizeof castore_end - 1);
		if (e == NULL)
			break;
		p = e + 1;
		blocks++;
		size_t nd = digits(body, (size_t)(e - body), d);

		for (int l = 0; l < LAYOUTS; l++) {
			size_t bl = make_block(d, nd, (enum layout)l, blk);
			blk[bl] = '\0';
			const char *bb = blk + strlen("-----BEGIN CERTIFICATE-----");
			size_t bn = (size_t)(strstr(bb, castore_end) - bb);
			uint64_t kf = 0, ks = castore_block_key_seq(bb, bn);
			bool took = castore_ra_key(bb, bn, &kf);
			mbedtls_x509_crt c;
			mbedtls_x509_crt_init(&c);
			bool ok = mbedtls_x509_crt_parse(&c, (const unsigned char *)blk, bl + 1) == 0;
			size_t dl = 0;
			unsigned char *der = castore_ra_der(bb, bn, &dl);
			der_used[l] += der != NULL;
			if (der != NULL)
				der_same[l] += ok && c.raw.len == dl && memcmp(c.raw.p, der, dl) == 0;
			free(der);
			mbedtls_x509_crt_free(&c);
			fast[l] += took;
			accepted[l] += ok;
			/* mbedTLS refuses the block: its key cannot matter */
			same[l] += !ok || castore_block_key(bb, bn) == ks;
			if (ok && took && kf != ks)
				printf("# %s: block %d: random access %016llx, from the start %016llx\n",
				       layout_name[l], blocks, (unsigned long long)kf,
				       (unsigned long long)ks);
		}
	}
	printf("# %d blocks in %s\n", blocks, BUNDLE);
	T_CHECK("layout: the bundle has certificates", blocks > 50);
	for (int l = 0; l < LAYOUTS; l++) {
		char n[160];
		printf("# %s: mbedTLS accepts %d, random access used for %d, whole DER decoded "
		       "for %d\n", layout_name[l], accepted[l], fast[l], der_used[l]);
		snprintf(n, sizeof n, "layout: %s: a DER decoded here is mbedTLS's, byte for byte",
		         layout_name[l]);
		T_CHECK(n, der_same[l] == der_used[l]);
		snprintf(n, sizeof n, "layout: %s: the same key as decoding from the start",
		         layout_name[l]);
		T_CHECK(n, same[l] == blocks);
	}
	T_CHECK("layout: mbedTLS accepts every re-wrapped block but the '*' one",
	        accepted[LF] == blocks && accepted[CRLF] == blocks && accepted[W76] == blocks &&
	        accepted[W4] == blocks && accepted[W66] == blocks && accepted[SPACES] == blocks &&
	        accepted[SPLIT] == blocks && accepted[BADCHAR] == 0);
	T_CHECK("layout: random access used for every block of the usual layouts (64, 76, \\r\\n, 4)",
	        fast[LF] == blocks && fast[CRLF] == blocks && fast[W76] == blocks &&
	        fast[W4] == blocks);
	T_CHECK("layout: not used where lines are not whole groups (66) or end in spaces",
	        fast[W66] == 0 && fast[SPACES] == 0);
	T_CHECK("layout: whole DER decoded here for every block of the usual layouts",
	        der_used[LF] == blocks && der_used[CRLF] == blocks && der_used[W76] == blocks &&
	        der_used[W4] == blocks);
	T_CHECK("layout: ... and never for a split line, a bad digit, 66 or trailing spaces",
	        der_used[SPLIT] == 0 && der_used[BADCHAR] == 0 && der_used[W66] == 0 &&
	        der_used[SPACES] == 0);

	/* The line check itself: a line of 60 + "\n" + 3 has its last '\n'
	 * where a line of 64 would, and is still refused. */
	{
		char body[512];
		size_t o = 0;
		memcpy(body + o, "\n", 1), o += 1;
		for (int line = 0; line < 4; line++) {
			for (int i = 0; i < 64; i++)
				body[o++] = "ABCD"[i % 4];
			if (line == 1)
				body[o - 4] = '\n';       /* 60 digits, '\n', 3 digits */
			body[o++] = '\n';
		}
		struct castore_ra r;
		unsigned char out[8];
		T_CHECK("layout: lines of 64 recognised", castore_ra_init(&r, body, o) &&
		        r.len == 64 && r.stride == 65);
		T_CHECK("layout: line 0 reads", castore_ra_read(&r, 0, 3, out));
		T_CHECK("layout: a line of 60 + \\n + 3 is refused though its end is in place",
		        !castore_ra_lines(&r, 2) && !castore_ra_read(&r, 150, 3, out));
	}
	free(d);
	free(blk);
	free(bundle);
	T_DONE();
}
