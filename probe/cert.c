/* Certificates: an mbedTLS certificate turned into the plain struct
 * cert_info, RFC 6125 host name matching, verification flags turned into
 * phrases, and SPKI pin parsing. Nothing here touches a socket. */
#include "cert.h"
#include "ip.h"
#include "xmalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>

#define CERT_DN_MAX   1024      /* subject / issuer text, cut here */
#define CERT_SAN_MAX  256       /* one SAN's text */
#define CERT_HOST_MAX 253       /* RFC 1035 name length, text form */

static char cert_lower(char ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

/* Equal ignoring ASCII case; locale-free on purpose (a Turkish locale must
 * not change what a certificate matches). */
static bool cert_eq_nocase(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cert_lower(a[i]) != cert_lower(b[i]))
			return false;
	return true;
}

/* Certificate times are UTC: timegm(), never mktime() and the TZ. */
static time_t cert_time(const mbedtls_x509_time *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = t->year - 1900;
	tm.tm_mon = t->mon >= 1 && t->mon <= 12 ? t->mon - 1 : 0;
	tm.tm_mday = t->day >= 1 && t->day <= 31 ? t->day : 1;
	tm.tm_hour = t->hour;
	tm.tm_min = t->min;
	tm.tm_sec = t->sec;
	return timegm(&tm);
}

/* Whole days from b to a, the same rule both ways: 5.7 days ahead is 5 days
 * left, 2162.3 days past is 2162 days ago (C division truncates toward 0).
 * Whether the date has passed is a separate flag: 0 may be either side. */
static long cert_days_between(time_t a, time_t b)
{
	return (long)(((long long)a - (long long)b) / 86400);
}

/* Bounded text builder for cert_dn: a piece goes in whole or not at all,
 * and a cut is marked "...". */
struct dn_buf {
	char s[CERT_DN_MAX];
	size_t len;
	bool cut;
};

static void dn_put(struct dn_buf *b, const char *p, size_t n)
{
	if (b->cut || b->len + n + 4 > sizeof(b->s)) {
		b->cut = true;
		return;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
}

static void dn_hex(struct dn_buf *b, unsigned char c, bool backslash)
{
	static const char hx[] = "0123456789ABCDEF";
	char e[3] = { '\\', hx[c >> 4], hx[c & 15] };

	if (backslash)
		dn_put(b, e, 3);
	else
		dn_put(b, e + 1, 2);
}

/* The distinguished name as one line in the style of RFC 4514 (most
 * significant first as the certificate lists it, ", " between RDNs, " + "
 * inside one). Written here rather than with mbedtls_x509_dn_gets, which
 * stops at a NUL in a value: "O=Trusted Bank Inc\0..." must not hide the
 * CN that follows. Specials are backslash-escaped, control bytes and NUL
 * become \XX hex pairs, other bytes (UTF-8) stay for the renderers'
 * sanitiser; non-string values are #hex as in RFC 4514. */
static char *cert_dn(const mbedtls_x509_name *dn)
{
	struct dn_buf b;
	const mbedtls_x509_name *n;
	bool merge = false, first = true;

	memset(&b, 0, sizeof(b));
	for (n = dn; n != NULL; n = n->next) {
		const char *sn = NULL;
		char oid[64];
		int tag = n->val.tag;
		bool text = tag == MBEDTLS_ASN1_UTF8_STRING || tag == MBEDTLS_ASN1_PRINTABLE_STRING ||
		            tag == MBEDTLS_ASN1_IA5_STRING || tag == MBEDTLS_ASN1_T61_STRING;

		if (n->oid.p == NULL)
			continue;
		if (!first)
			dn_put(&b, merge ? " + " : ", ", merge ? 3 : 2);
		first = false;
		if (mbedtls_oid_get_attr_short_name(&n->oid, &sn) == 0) {
			dn_put(&b, sn, strlen(sn));
		} else {
			int r = mbedtls_oid_get_numeric_string(oid, sizeof(oid), &n->oid);

			dn_put(&b, r > 0 ? oid : "??", r > 0 ? (size_t)r : 2);
			text = false;
		}
		dn_put(&b, "=", 1);
		if (!text) {
			dn_put(&b, "#", 1);
			for (size_t i = 0; i < n->val.len; i++)
				dn_hex(&b, n->val.p[i], false);
		} else {
			for (size_t i = 0; i < n->val.len; i++) {
				unsigned char c = n->val.p[i];

				if (c < 0x20 || c == 0x7f) {
					dn_hex(&b, c, true);
					continue;
				}
				if (strchr(",=+<>;\"\\", c) != NULL || (i == 0 && (c == '#' || c == ' ')) ||
				    (i + 1 == n->val.len && c == ' '))
					dn_put(&b, "\\", 1);
				dn_put(&b, (const char *)&n->val.p[i], 1);
			}
		}
		merge = n->MBEDTLS_PRIVATE(next_merged) != 0;
	}
	if (b.cut) {
		memcpy(b.s + b.len, "...", 3);
		b.len += 3;
	}
	b.s[b.len] = '\0';
	return xstrdup(b.s);
}

/* "DNS:name" / "IP:addr" / "other"; bytes kept raw (the renderers'
 * sanitiser shows them) except NUL, written \00 as in the subject: a NUL
 * would silently shorten the name (the classic NUL-in-CN spoof). */
static char *cert_san_text(const mbedtls_x509_buf *b)
{
	char buf[CERT_SAN_MAX * 3 + 8];
	int type = b->tag & MBEDTLS_ASN1_TAG_VALUE_MASK;

	if ((b->tag & MBEDTLS_ASN1_CONTEXT_SPECIFIC) == 0)
		return xstrdup("other");
	if (type == MBEDTLS_X509_SAN_DNS_NAME) {
		size_t n = b->len < CERT_SAN_MAX ? b->len : CERT_SAN_MAX, o = 4;
		memcpy(buf, "DNS:", 4);
		for (size_t i = 0; i < n && o + 4 < sizeof(buf); i++) {
			if (b->p[i] == 0) {
				memcpy(buf + o, "\\00", 3);
				o += 3;
			} else {
				buf[o++] = (char)b->p[i];
			}
		}
		buf[o] = '\0';
		return xstrdup(buf);
	}
	if (type == MBEDTLS_X509_SAN_IP_ADDRESS) {
		char ip[INET6_ADDRSTRLEN];
		if (b->len == 4 && inet_ntop(AF_INET, b->p, ip, sizeof(ip)))
			snprintf(buf, sizeof(buf), "IP:%s", ip);
		else if (b->len == 16 && inet_ntop(AF_INET6, b->p, ip, sizeof(ip)))
			snprintf(buf, sizeof(buf), "IP:%s", ip);
		else
			snprintf(buf, sizeof(buf), "IP:?");
		return xstrdup(buf);
	}
	return xstrdup("other");
}

/* Key type and size from the SubjectPublicKeyInfo DER: the curve is read
 * from the algorithm parameters, which works whether or not mbedTLS keeps
 * EC keys in PSA (mbedtls_pk_ec() is unusable then). */
static void cert_key_text(const mbedtls_x509_crt *crt, char *out, size_t outlen)
{
	static const struct { const char *oid; size_t len; const char *name; } curves[] = {
		{ MBEDTLS_OID_EC_GRP_SECP256R1, MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_SECP256R1), "P-256" },
		{ MBEDTLS_OID_EC_GRP_SECP384R1, MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_SECP384R1), "P-384" },
		{ MBEDTLS_OID_EC_GRP_SECP521R1, MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_SECP521R1), "P-521" },
		{ MBEDTLS_OID_EC_GRP_SECP224R1, MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_SECP224R1), "P-224" },
		{ MBEDTLS_OID_EC_GRP_SECP192R1, MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_SECP192R1), "P-192" },
		{ MBEDTLS_OID_EC_GRP_SECP256K1, MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_SECP256K1), "secp256k1" },
		{ MBEDTLS_OID_EC_GRP_BP256R1, MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_BP256R1), "brainpoolP256r1" },
		{ MBEDTLS_OID_EC_GRP_BP384R1, MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_BP384R1), "brainpoolP384r1" },
		{ MBEDTLS_OID_EC_GRP_BP512R1, MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_BP512R1), "brainpoolP512r1" },
	};
	unsigned char *p = crt->pk_raw.p, *end = p + crt->pk_raw.len;
	size_t len;
	mbedtls_asn1_buf alg, params;
	mbedtls_pk_type_t type = mbedtls_pk_get_type(&crt->pk);

	if (type == MBEDTLS_PK_RSA || type == MBEDTLS_PK_RSASSA_PSS) {
		snprintf(out, outlen, "RSA %zu", mbedtls_pk_get_bitlen(&crt->pk));
		return;
	}
	snprintf(out, outlen, "%s", "unknown");
	/* SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING } */
	if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
		return;
	if (mbedtls_asn1_get_alg(&p, p + len, &alg, &params) != 0)
		return;
	if (MBEDTLS_OID_CMP(MBEDTLS_OID_ED25519, &alg) == 0) {
		snprintf(out, outlen, "%s", "Ed25519");
		return;
	}
	if (MBEDTLS_OID_CMP(MBEDTLS_OID_EC_ALG_UNRESTRICTED, &alg) != 0 &&
	    MBEDTLS_OID_CMP(MBEDTLS_OID_EC_ALG_ECDH, &alg) != 0)
		return;
	if (params.tag == MBEDTLS_ASN1_OID) {
		for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
			if (params.len == curves[i].len &&
			    memcmp(params.p, curves[i].oid, params.len) == 0) {
				snprintf(out, outlen, "EC %s", curves[i].name);
				return;
			}
		}
	}
	snprintf(out, outlen, "EC %zu", mbedtls_pk_get_bitlen(&crt->pk));
}

static const char *cert_md_name(mbedtls_md_type_t md)
{
	switch (md) {
	case MBEDTLS_MD_MD5:       return "MD5";
	case MBEDTLS_MD_SHA1:      return "SHA1";
	case MBEDTLS_MD_SHA224:    return "SHA224";
	case MBEDTLS_MD_SHA256:    return "SHA256";
	case MBEDTLS_MD_SHA384:    return "SHA384";
	case MBEDTLS_MD_SHA512:    return "SHA512";
	case MBEDTLS_MD_RIPEMD160: return "RIPEMD160";
	default:                   return "unknown";
	}
}

static void cert_sig_text(const mbedtls_x509_crt *crt, char *out, size_t outlen)
{
	mbedtls_md_type_t md = crt->MBEDTLS_PRIVATE(sig_md);

	switch (crt->MBEDTLS_PRIVATE(sig_pk)) {
	case MBEDTLS_PK_RSA:
		snprintf(out, outlen, "RSA-%s", cert_md_name(md));
		break;
	case MBEDTLS_PK_ECDSA:
		snprintf(out, outlen, "ECDSA-%s", cert_md_name(md));
		break;
	case MBEDTLS_PK_RSASSA_PSS:
		snprintf(out, outlen, "%s", "RSASSA-PSS");
		break;
	default:
		snprintf(out, outlen, "%s", "unknown");
		break;
	}
}

void cert_info_clear(struct cert_info *c)
{
	free(c->subject);
	free(c->issuer);
	for (size_t i = 0; i < c->nsan; i++)
		free(c->san[i]);
	free(c->der);
	memset(c, 0, sizeof(*c));
}

int cert_extract(const mbedtls_x509_crt *crt, time_t now, struct cert_info *c)
{
	int rc = -1;
	unsigned char md[32];
	size_t olen = 0;
	const mbedtls_x509_sequence *s;

	memset(c, 0, sizeof(*c));
	c->subject = cert_dn(&crt->subject);
	c->issuer = cert_dn(&crt->issuer);
	for (s = &crt->subject_alt_names; s != NULL && c->nsan < RESULT_MAX_SAN; s = s->next) {
		if (s->buf.p == NULL)
			continue;   /* the empty head of a certificate without SANs */
		c->san[c->nsan++] = cert_san_text(&s->buf);
	}
	/* Serial as lowercase hex, as blackbox_exporter's serialnumber label;
	 * RFC 5280 caps it at 20 octets, a longer one is cut. */
	{
		size_t skip = 0;   /* DER's leading 0x00 of a positive number */

		while (skip + 1 < crt->serial.len && crt->serial.p[skip] == 0)
			skip++;
		for (size_t i = skip; i < crt->serial.len && 2 * (i - skip) + 2 < sizeof(c->serial); i++)
			snprintf(c->serial + 2 * (i - skip), 3, "%02x", crt->serial.p[i]);
	}
	c->not_before = cert_time(&crt->valid_from);
	c->not_after = cert_time(&crt->valid_to);
	c->days_left = cert_days_between(c->not_after, now);
	c->expired = c->not_after < now;   /* notAfter itself is still valid (RFC 5280 4.1.2.5) */
	cert_key_text(crt, c->key, sizeof(c->key));
	cert_sig_text(crt, c->signature, sizeof(c->signature));

	if (mbedtls_sha256(crt->raw.p, crt->raw.len, md, 0) != 0)
		goto done;
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(c->sha256 + 2 * i, 3, "%02x", md[i]);
	if (mbedtls_sha256(crt->pk_raw.p, crt->pk_raw.len, md, 0) != 0)
		goto done;
	if (mbedtls_base64_encode((unsigned char *)c->spki_sha256, sizeof(c->spki_sha256),
	                          &olen, md, sizeof(md)) != 0)
		goto done;
	c->self_signed = crt->subject_raw.len == crt->issuer_raw.len &&
	                 memcmp(crt->subject_raw.p, crt->issuer_raw.p, crt->subject_raw.len) == 0;
	/* Kept for DANE matching; mbedTLS parses in place, so the SPKI lies
	 * inside the DER (checked rather than assumed). */
	c->der = xmalloc(crt->raw.len ? crt->raw.len : 1);
	memcpy(c->der, crt->raw.p, crt->raw.len);
	c->der_len = crt->raw.len;
	if (crt->pk_raw.p >= crt->raw.p && crt->pk_raw.len <= crt->raw.len &&
	    (size_t)(crt->pk_raw.p - crt->raw.p) <= crt->raw.len - crt->pk_raw.len) {
		c->spki_off = (size_t)(crt->pk_raw.p - crt->raw.p);
		c->spki_len = crt->pk_raw.len;
	}
	rc = 0;
done:
	if (rc != 0)
		cert_info_clear(c);
	return rc;
}

void cert_info_drop_der(struct cert_info *c)
{
	free(c->der);
	c->der = NULL;
	c->der_len = c->spki_off = c->spki_len = 0;
}

int cert_extract_der(const unsigned char *der, size_t len, time_t now,
                     struct cert_info *c)
{
	int rc = -1;
	mbedtls_x509_crt crt;

	mbedtls_x509_crt_init(&crt);
	memset(c, 0, sizeof(*c));
	if (mbedtls_x509_crt_parse_der(&crt, der, len) != 0)
		goto done;
	rc = cert_extract(&crt, now, c);
done:
	mbedtls_x509_crt_free(&crt);
	return rc;
}

/* Copies name without one trailing dot into out; false if it does not fit
 * or is empty. */
static bool cert_norm(const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n >= outlen)
		return false;
	memcpy(out, name, n);
	out[n] = '\0';
	return true;
}

/* Letters, digits, '-', '_' (seen in real MX names), '*' (checked by the
 * caller), in non-empty labels: anything else ("Test CA", "a..b", raw
 * UTF-8) is not a host name and matches nothing. */
static bool cert_labels_ok(const char *s)
{
	if (*s == '.')
		return false;
	for (; *s; s++) {
		char ch = cert_lower(*s);
		if (ch == '.') {
			if (s[1] == '.' || s[1] == '\0')
				return false;
		} else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		             ch == '-' || ch == '_' || ch == '*' || ch == ':')) {
			return false;
		}
	}
	return true;
}

bool cert_name_match(const char *pattern, const char *host)
{
	char p[CERT_HOST_MAX + 2], h[CERT_HOST_MAX + 2];
	const char *prest, *hrest;

	if (pattern == NULL || host == NULL)
		return false;
	if (!cert_norm(pattern, p, sizeof(p)) || !cert_norm(host, h, sizeof(h)))
		return false;
	if (!cert_labels_ok(p) || !cert_labels_ok(h) || strchr(h, '*') != NULL)
		return false;

	if (strchr(p, '*') == NULL)
		return strlen(p) == strlen(h) && cert_eq_nocase(p, h, strlen(p));

	/* RFC 6125 6.4.3, strict form: "*" must be the whole leftmost label,
	 * the only one, with at least two labels after it (no "*.com"), and
	 * it never stands for an IP address. */
	if (p[0] != '*' || p[1] != '.')
		return false;
	prest = p + 1;                         /* ".example.com" */
	if (strchr(prest, '*') != NULL || strchr(prest + 1, '.') == NULL)
		return false;
	if (ip_literal(h, NULL))
		return false;
	hrest = strchr(h, '.');                /* exactly one label in front */
	if (hrest == NULL || hrest == h)
		return false;
	return strlen(hrest) == strlen(prest) && cert_eq_nocase(hrest, prest, strlen(prest));
}

/* Host as an IP literal ("[::1]" brackets and a "%zone" tolerated): its
 * bytes in out, the length (4 or 16), or 0 for a name. */
static size_t cert_host_ip(const char *host, unsigned char out[16])
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);
	char *pct;

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, host, n);
	buf[n] = '\0';
	if ((pct = strchr(buf, '%')) != NULL)
		*pct = '\0';
	if (inet_pton(AF_INET, buf, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, buf, out) == 1)
		return 16;
	return 0;
}

/* A name from the certificate as C text; false if it holds a NUL (a name
 * that cannot be what it seems) or is too long to be a host name. */
static bool cert_buf_name(const unsigned char *p, size_t len, char *out, size_t outlen)
{
	if (len == 0 || len >= outlen || memchr(p, '\0', len) != NULL)
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

bool cert_matches_host(const mbedtls_x509_crt *crt, const char *host)
{
	unsigned char ip[16];
	size_t iplen;
	bool have_dns = false;
	char name[CERT_HOST_MAX + 2];
	const mbedtls_x509_sequence *s;
	const mbedtls_x509_name *dn;

	if (crt == NULL || host == NULL || *host == '\0')
		return false;
	iplen = cert_host_ip(host, ip);

	for (s = &crt->subject_alt_names; s != NULL; s = s->next) {
		int type = s->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK;
		if (s->buf.p == NULL || (s->buf.tag & MBEDTLS_ASN1_CONTEXT_SPECIFIC) == 0)
			continue;
		if (type == MBEDTLS_X509_SAN_IP_ADDRESS) {
			if (iplen != 0 && s->buf.len == iplen && memcmp(s->buf.p, ip, iplen) == 0)
				return true;
		} else if (type == MBEDTLS_X509_SAN_DNS_NAME) {
			have_dns = true;
			if (iplen == 0 && cert_buf_name(s->buf.p, s->buf.len, name, sizeof(name)) &&
			    cert_name_match(name, host))
				return true;
		}
	}
	/* An IP literal is only ever matched by an iPAddress SAN (RFC 6125
	 * 1.7.2 leaves IPs out of CN matching; browsers do the same). */
	if (iplen != 0 || have_dns)
		return false;
	for (dn = &crt->subject; dn != NULL; dn = dn->next) {
		if (dn->oid.p == NULL || MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &dn->oid) != 0)
			continue;
		if (cert_buf_name(dn->val.p, dn->val.len, name, sizeof(name)) &&
		    cert_name_match(name, host))
			return true;
	}
	return false;
}

size_t cert_verify_errors(uint32_t flags, char **errors, size_t max)
{
	static const struct { uint32_t flag; const char *text; } map[] = {
		{ MBEDTLS_X509_BADCERT_EXPIRED, "certificate has expired" },
		{ MBEDTLS_X509_BADCERT_FUTURE, "certificate is not yet valid" },
		{ MBEDTLS_X509_BADCERT_NOT_TRUSTED, "issuer not trusted (chain does not lead to a trusted root)" },
		{ MBEDTLS_X509_BADCERT_REVOKED, "certificate is revoked" },
		{ MBEDTLS_X509_BADCERT_MISSING, "no certificate was presented" },
		{ MBEDTLS_X509_BADCERT_SKIP_VERIFY, "certificate verification was skipped" },
		{ MBEDTLS_X509_BADCERT_KEY_USAGE, "key usage does not allow this use" },
		{ MBEDTLS_X509_BADCERT_EXT_KEY_USAGE, "extended key usage does not include server authentication" },
		{ MBEDTLS_X509_BADCERT_NS_CERT_TYPE, "Netscape certificate type does not allow this use" },
		{ MBEDTLS_X509_BADCERT_BAD_MD, "signature uses an unacceptable hash" },
		{ MBEDTLS_X509_BADCERT_BAD_PK, "signature uses an unacceptable algorithm" },
		{ MBEDTLS_X509_BADCERT_BAD_KEY, "key is too weak" },
		{ MBEDTLS_X509_BADCERT_OTHER, "certificate rejected for another reason" },
		{ MBEDTLS_X509_BADCRL_NOT_TRUSTED, "CRL is not signed by a trusted CA" },
		{ MBEDTLS_X509_BADCRL_EXPIRED, "CRL has expired" },
		{ MBEDTLS_X509_BADCRL_FUTURE, "CRL is not yet valid" },
		{ MBEDTLS_X509_BADCRL_BAD_MD, "CRL signature uses an unacceptable hash" },
		{ MBEDTLS_X509_BADCRL_BAD_PK, "CRL signature uses an unacceptable algorithm" },
		{ MBEDTLS_X509_BADCRL_BAD_KEY, "CRL is signed with a key that is too weak" },
	};
	size_t n = 0;
	uint32_t known = MBEDTLS_X509_BADCERT_CN_MISMATCH;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		known |= map[i].flag;
		if ((flags & map[i].flag) == 0 || n >= max)
			continue;
		errors[n++] = xstrdup(map[i].text);
	}
	if ((flags & ~known) != 0 && n < max) {
		char buf[64];
		snprintf(buf, sizeof(buf), "verification failed (flags 0x%x)", (unsigned)(flags & ~known));
		errors[n++] = xstrdup(buf);
	}
	return n;
}

bool cert_key_weak(const struct cert_info *c, char *why, size_t whylen)
{
	long bits;

	if (strncmp(c->key, "RSA ", 4) == 0) {
		bits = strtol(c->key + 4, NULL, 10);
		if (bits > 0 && bits < 2048) {
			snprintf(why, whylen, "an RSA key of %ld bits, below the 2048-bit floor", bits);
			return true;
		}
	} else if (strcmp(c->key, "EC P-192") == 0 || strcmp(c->key, "EC P-224") == 0) {
		snprintf(why, whylen, "an EC key on %s, below the 256-bit floor", c->key + 3);
		return true;
	}
	return false;
}

int cert_pin_parse(const char *spec, char out[45])
{
	static const char prefix[] = "sha256//";
	unsigned char bin[48];
	size_t olen = 0;
	const char *b64;

	if (spec == NULL || strncmp(spec, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	b64 = spec + sizeof(prefix) - 1;
	if (strlen(b64) != 44 || b64[43] != '=' || b64[42] == '=')
		return -1;
	if (mbedtls_base64_decode(bin, sizeof(bin), &olen, (const unsigned char *)b64, 44) != 0 ||
	    olen != 32)
		return -1;
	/* Re-encoded so that a non-canonical spelling of the same bytes still
	 * compares equal, as text, with cert_info.spki_sha256. */
	if (mbedtls_base64_encode((unsigned char *)out, 45, &olen, bin, 32) != 0)
		return -1;
	return 0;
}
