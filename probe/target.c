/* Target spec parser: turns what the user typed into {host, port, TLS mode}.
 * Pure (inet_pton and libidn2 only, never a resolver), so every form and
 * every error is unit-tested and fuzzed. Errors are one line that quotes
 * the bad part. International names (IDNA2008, RFC 5890-5893, with the
 * UTS #46 mapping browsers and mail clients apply) become A-labels: what
 * DNS, SNI and certificates carry; the U-label form is kept for display. */
#include "target.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "lazylib.h"
#include "sanitize.h"

#define TARGET_MAX_SPEC  1024    /* longer than any host:port or URL we take */
#define TARGET_MAX_NAME  253     /* RFC 1035 §2.3.4, text form without the root dot */
#define TARGET_MAX_LABEL 63

static const struct {
	const char *scheme;
	uint16_t port;
	enum tls_mode mode;
} target_schemes[] = {
	{ "smtp",        25,  TLS_MODE_STARTTLS },
	{ "smtps",       465, TLS_MODE_IMPLICIT },
	{ "submission",  587, TLS_MODE_STARTTLS },
	{ "submissions", 465, TLS_MODE_IMPLICIT },   /* RFC 8314 */
};

/* Copies s[0..n) for an error message: at most 60 bytes, whole UTF-8
 * characters as typed (an international name reads as itself), control
 * bytes, invalid UTF-8 and the code points that mislead a terminal (bidi,
 * C1) shown as '?', so the message stays one printable line. */
static void target_quote(char *out, size_t outlen, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c >= 0x80 ? san_utf8_len((const unsigned char *)s + i, n - i) : 1;
		uint32_t cp = 0;

		if (i >= 60 && n > 63 && o + 4 < outlen) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x80 && k > 1 && o + k < outlen) {
			cp = c & (0xff >> (k + 1));
			for (size_t j = 1; j < k; j++)
				cp = cp << 6 | ((unsigned char)s[i + j] & 0x3f);
			if (!san_cp_unsafe(cp)) {
				memcpy(out + o, s + i, k);
				o += k;
				i += k - 1;
				continue;
			}
		}
		out[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
		if (c >= 0x80 && k > 1)
			i += k - 1;     /* one '?' per character */
	}
	out[o] = '\0';
}

static void target_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void target_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char target_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int target_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t n;

	if (s == NULL)
		return -1;
	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++) {
		if (n >= 5)
			return -1;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (n == 0 || s[n] != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* Validates a host name already lower-cased into out (trailing dot gone):
 * LDH labels of 1-63 bytes, 253 in all; '_' allowed for service labels
 * such as _mta-sts. Returns NULL or the reason. */
static const char *target_check_name(const char *h)
{
	size_t len = strlen(h), label = 0;
	bool all_digits = true;

	if (len == 0)
		return "empty host name";
	if (len > TARGET_MAX_NAME)
		return "host name longer than 253 bytes";
	for (size_t i = 0; i <= len; i++) {
		char c = h[i];
		if (c == '.' || c == '\0') {
			if (label == 0)
				return "empty label";
			if (h[i - 1] == '-')
				return "label ends with '-'";
			if (c == '.')
				all_digits = true;
			label = 0;
			continue;
		}
		if (++label > TARGET_MAX_LABEL)
			return "label longer than 63 bytes";
		if (label == 1 && c == '-')
			return "label starts with '-'";
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return "bad character";
		if (c < '0' || c > '9')
			all_digits = false;
	}
	/* RFC 3696 §2: a top-level label is never all digits, so "1.2.3"
	 * or "300.1.1.1" is a mistyped address, not a name. */
	if (all_digits)
		return "not a valid IP address or host name";
	return NULL;
}

/* IDNA2008 through libidn2 (idn, loaded by the caller): in[0..n), with
 * non-ASCII characters, into its A-label form in buf (lower case, no root
 * dot) and its U-label form in uni. NULL, or why it is not a valid
 * international name. */
static const char *target_idna(const struct lazy_idn2 *idn, char *buf, size_t bufsz,
                               char *uni, size_t unisz, const char *in, size_t n)
{
	char tmp[TARGET_MAX_SPEC + 1];
	char *a = NULL, *u = NULL;
	int rc;

	if (n >= sizeof tmp)
		return "name too long";
	memcpy(tmp, in, n);
	tmp[n] = '\0';
	if (n > 0 && tmp[n - 1] == '.')
		tmp[--n] = '\0';
	rc = idn->to_ascii_8z(tmp, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
		return idn->strerror(rc);
	if (strlen(a) >= bufsz) {
		idn->free(a);
		return "name too long (as A-labels)";
	}
	for (size_t i = 0; a[i] != '\0'; i++)
		buf[i] = target_lower(a[i]);
	buf[strlen(a)] = '\0';
	idn->free(a);
	uni[0] = '\0';
	if (idn->to_unicode_8z8z(buf, &u, 0) == IDN2_OK && strlen(u) < unisz &&
	    strcmp(u, buf) != 0)
		memcpy(uni, u, strlen(u) + 1);     /* "" when the name is ASCII after all */
	idn->free(u);
	return NULL;
}

/* Host part [host_s, host_s+host_n): an IP literal (brackets already
 * removed, bracketed says they were there) or a name. */
static int target_set_host(struct target *t, const char *host_s, size_t host_n,
                           bool bracketed, const char *spec, char *err, size_t errlen)
{
	char buf[TARGET_MAX_NAME + 2], q[80], qs[80];
	unsigned char addr[16];
	const char *why;

	target_quote(q, sizeof q, host_s, host_n);
	target_quote(qs, sizeof qs, spec, strlen(spec));
	if (host_n == 0) {
		target_err(err, errlen, "missing host in '%s'", qs);
		return -1;
	}
	for (size_t i = 0; i < host_n; i++)
		if ((unsigned char)host_s[i] >= 0x80) {
			const struct lazy_idn2 *idn = lazy_idn2(&why);
			if (idn == NULL) {
				target_err(err, errlen, "cannot use the international name '%s' in '%s': %s",
				           q, qs, why);
				return -1;
			}
			why = target_idna(idn, buf, sizeof buf, t->host_unicode, sizeof t->host_unicode,
			                  host_s, host_n);
			if (why != NULL) {
				target_err(err, errlen, "bad host name '%s' in '%s': not a valid "
				           "international name (IDNA2008: %s)", q, qs, why);
				return -1;
			}
			host_n = strlen(buf);
			break;
		}
	if (t->host_unicode[0] == '\0') {
		if (host_n >= sizeof buf) {
			target_err(err, errlen, "host name too long in '%s'", qs);
			return -1;
		}
		for (size_t i = 0; i < host_n; i++)
			buf[i] = target_lower(host_s[i]);
		buf[host_n] = '\0';
	}

	if (inet_pton(AF_INET6, buf, addr) == 1) {
		/* Canonical text, so "0:0::1" and "::1" are one target. */
		inet_ntop(AF_INET6, addr, t->host, sizeof t->host);
		t->literal = AF_INET6;
		return 0;
	}
	if (inet_pton(AF_INET, buf, addr) == 1) {
		inet_ntop(AF_INET, addr, t->host, sizeof t->host);
		t->literal = AF_INET;
		return 0;
	}
	if (bracketed || memchr(buf, ':', host_n) != NULL) {
		target_err(err, errlen, "bad IP address '%s' in '%s'", q, qs);
		return -1;
	}
	if (buf[host_n - 1] == '.')
		buf[--host_n] = '\0';  /* one root dot: "mx.example." is absolute */
	why = target_check_name(buf);
	if (why != NULL) {
		target_err(err, errlen, "bad host name '%s' in '%s': %s", q, qs, why);
		return -1;
	}
	memcpy(t->host, buf, host_n + 1);
	/* Typed as A-labels: the U-label form for display, when they are valid. */
	/* (Without libidn2 the name is shown as typed.) */
	const struct lazy_idn2 *idn;
	if (t->host_unicode[0] == '\0' && strstr(t->host, "xn--") != NULL &&
	    (idn = lazy_idn2(NULL)) != NULL) {
		char *u = NULL;

		if (idn->to_unicode_8z8z(t->host, &u, 0) == IDN2_OK && strlen(u) < sizeof t->host_unicode &&
		    strcmp(u, t->host) != 0)
			memcpy(t->host_unicode, u, strlen(u) + 1);
		idn->free(u);
	}
	return 0;
}

static int target_set_port(struct target *t, const char *p, const char *spec,
                           char *err, size_t errlen)
{
	char q[80], qs[80];

	if (target_port(p, &t->port) == 0) {
		t->port_given = true;
		return 0;
	}
	target_quote(q, sizeof q, p, strlen(p));
	target_quote(qs, sizeof qs, spec, strlen(spec));
	target_err(err, errlen, "bad port '%s' in '%s'", q, qs);
	return -1;
}

/* host | host:port | [addr] | [addr]:port | bare IPv6, in s (NUL-ended).
 * in_url: a URL needs brackets around IPv6 (RFC 3986 §3.2.2). */
static int target_hostport(struct target *t, const char *s, bool in_url,
                           const char *spec, char *err, size_t errlen)
{
	const char *colon, *close;
	char qs[80];

	target_quote(qs, sizeof qs, spec, strlen(spec));
	if (s[0] == '[') {
		close = strchr(s, ']');
		if (close == NULL) {
			target_err(err, errlen, "missing ']' in '%s'", qs);
			return -1;
		}
		if (close[1] != '\0' && close[1] != ':') {
			target_err(err, errlen, "unexpected text after ']' in '%s'", qs);
			return -1;
		}
		if (target_set_host(t, s + 1, (size_t)(close - s - 1), true, spec, err, errlen) != 0)
			return -1;
		if (close[1] == ':')
			return target_set_port(t, close + 2, spec, err, errlen);
		return 0;
	}
	colon = strchr(s, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		/* Two or more colons: an IPv6 literal, which cannot take a port
		 * without brackets. */
		if (in_url) {
			target_err(err, errlen, "IPv6 address needs brackets in '%s'", qs);
			return -1;
		}
		/* "::1:5025" is a valid address, but far more likely ::1 port
		 * 5025: refuse the guess, say how to write either. */
		{
			const char *last = strrchr(s, ':');
			size_t dn = strlen(last + 1);
			char pre[64];
			unsigned char a6[16];

			if (dn >= 1 && dn <= 5 && strspn(last + 1, "0123456789") == dn &&
			    last[-1] != ':' && (size_t)(last - s) < sizeof pre) {
				memcpy(pre, s, (size_t)(last - s));
				pre[last - s] = '\0';
				if (inet_pton(AF_INET6, pre, a6) == 1) {
					target_err(err, errlen, "ambiguous '%s': for port %s of %s write "
					           "'[%s]:%s'; for the address write '[%s]'", qs, last + 1,
					           pre, pre, last + 1, qs);
					return -1;
				}
			}
		}
		return target_set_host(t, s, strlen(s), false, spec, err, errlen);
	}
	if (colon == NULL)
		return target_set_host(t, s, strlen(s), false, spec, err, errlen);
	if (target_set_host(t, s, (size_t)(colon - s), false, spec, err, errlen) != 0)
		return -1;
	return target_set_port(t, colon + 1, spec, err, errlen);
}

int target_parse(const char *spec, struct target *t, char *err, size_t errlen)
{
	char buf[TARGET_MAX_SPEC + 1], qs[80], q[80];
	const char *sep, *at;
	size_t len;
	int rc = -1;

	memset(t, 0, sizeof *t);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (spec == NULL || spec[0] == '\0') {
		target_err(err, errlen, "empty target");
		goto done;
	}
	len = strlen(spec);
	target_quote(qs, sizeof qs, spec, len);
	if (len > TARGET_MAX_SPEC) {
		target_err(err, errlen, "target too long: '%s'", qs);
		goto done;
	}
	memcpy(buf, spec, len + 1);

	sep = strstr(buf, "://");
	if (sep != NULL) {
		size_t slen = (size_t)(sep - buf), i;
		char *rest = buf + slen + 3, *slash;

		for (i = 0; i < sizeof target_schemes / sizeof target_schemes[0]; i++)
			if (strlen(target_schemes[i].scheme) == slen &&
			    strncasecmp(target_schemes[i].scheme, buf, slen) == 0)
				break;
		if (i == sizeof target_schemes / sizeof target_schemes[0]) {
			target_quote(q, sizeof q, buf, slen);
			target_err(err, errlen, "unknown scheme '%s' in '%s'", q, qs);
			goto done;
		}
		t->mode_set = true;
		t->mode = target_schemes[i].mode;
		slash = strchr(rest, '/');
		if (slash != NULL) {
			if (slash[1] != '\0') {
				target_err(err, errlen, "unexpected path in '%s'", qs);
				goto done;
			}
			*slash = '\0';
		}
		if (strchr(rest, '@') != NULL) {
			target_err(err, errlen, "user name not supported in '%s'", qs);
			goto done;
		}
		if (target_hostport(t, rest, true, spec, err, errlen) != 0)
			goto done;
		if (t->port == 0)
			t->port = target_schemes[i].port;
		rc = 0;
		goto done;
	}

	at = strchr(buf, '@');
	if (at != NULL) {
		/* user@domain: only the domain matters, and it is probed through
		 * its MX records, so no port and no address literal. */
		const char *dom = at + 1;

		if (at == buf) {
			target_err(err, errlen, "empty local part in '%s'", qs);
			goto done;
		}
		for (const char *p = buf; p < at; p++)
			if ((unsigned char)*p >= 0x80)
				t->utf8_local = true;   /* RFC 6531: only with SMTPUTF8 */
		if (strchr(dom, '@') != NULL) {
			target_err(err, errlen, "more than one '@' in '%s'", qs);
			goto done;
		}
		if (dom[0] == '\0') {
			target_err(err, errlen, "missing domain in '%s'", qs);
			goto done;
		}
		if (strchr(dom, ':') != NULL || dom[0] == '[') {
			target_err(err, errlen, "mail domain must be a name in '%s'", qs);
			goto done;
		}
		if (target_set_host(t, dom, strlen(dom), false, spec, err, errlen) != 0)
			goto done;
		if (t->literal != 0) {
			target_err(err, errlen, "mail domain must be a name in '%s'", qs);
			goto done;
		}
		t->mail_domain = true;
		rc = 0;
		goto done;
	}

	rc = target_hostport(t, buf, false, spec, err, errlen);
done:
	if (rc != 0)
		memset(t, 0, sizeof *t);   /* leave no half-parsed target behind */
	return rc;
}

unsigned target_shard(const char *spec, unsigned n)
{
	struct target t;
	char err[8];
	const char *key = spec;
	uint64_t h = 0xcbf29ce484222325ull;

	if (n <= 1)
		return 0;
	if (target_parse(spec, &t, err, sizeof(err)) == 0)
		key = t.host;
	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	return (unsigned)(h % n);
}
