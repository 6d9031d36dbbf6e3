/* SASL client encodings for the --auth test. Pure functions; secrets live
 * only in caller buffers and in locals wiped before returning. */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/sha256.h>
#include <mbedtls/platform_util.h>

static const char *const auth_names[] = { "", "LOGIN", "PLAIN", "CRAM-MD5",
                                          "SCRAM-SHA-256" };
_Static_assert(sizeof(auth_names) / sizeof(auth_names[0]) == AUTH_MECH_SCRAM_SHA256 + 1,
               "auth mechanism names");

void auth_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		mbedtls_platform_zeroize(p, n);
}

const char *auth_mech_name(enum auth_mech m)
{
	return (unsigned)m <= AUTH_MECH_SCRAM_SHA256 ? auth_names[m] : "";
}

enum auth_mech auth_mech_parse(const char *name)
{
	if (name == NULL)
		return AUTH_MECH_NONE;
	for (unsigned m = AUTH_MECH_LOGIN; m <= AUTH_MECH_SCRAM_SHA256; m++)
		if (strcasecmp(name, auth_names[m]) == 0)
			return (enum auth_mech)m;
	return AUTH_MECH_NONE;
}

bool auth_mech_offered(const char *offered, enum auth_mech m)
{
	const char *want = auth_mech_name(m);
	size_t wn = strlen(want);

	if (offered == NULL || wn == 0)
		return false;
	while (*offered) {
		size_t n;

		while (*offered == ' ' || *offered == '\t' || *offered == '=')
			offered++;   /* "AUTH=LOGIN PLAIN" from old servers */
		n = strcspn(offered, " \t=");
		if (n == wn && strncasecmp(offered, want, n) == 0)
			return true;
		offered += n;
	}
	return false;
}

enum auth_mech auth_mech_pick(const char *offered)
{
	for (unsigned m = AUTH_MECH_SCRAM_SHA256; m >= AUTH_MECH_LOGIN; m--)
		if (auth_mech_offered(offered, (enum auth_mech)m))
			return (enum auth_mech)m;
	return AUTH_MECH_NONE;
}

int auth_b64(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	size_t olen = 0;

	if (mbedtls_base64_encode((unsigned char *)out, outlen, &olen, in, n) != 0)
		return -1;
	out[olen] = '\0';    /* mbedTLS leaves room for it */
	return 0;
}

void auth_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hexd[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[in[i] >> 4];
		out[2 * i + 1] = hexd[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int auth_plain(const char *user, const char *pw, char *out, size_t outlen)
{
	unsigned char msg[AUTH_MAX_MSG];
	size_t u = strlen(user), p = strlen(pw);
	int rc = -1;

	if (u + p + 2 > sizeof(msg))
		goto done;
	msg[0] = '\0';                   /* empty authorization identity */
	memcpy(msg + 1, user, u);
	msg[1 + u] = '\0';
	memcpy(msg + 2 + u, pw, p);
	rc = auth_b64(msg, u + p + 2, out, outlen);
done:
	auth_wipe(msg, sizeof(msg));
	return rc;
}

int auth_cram_md5(const char *user, const char *pw, const char *challenge_b64,
                  char *out, size_t outlen)
{
	unsigned char chal[AUTH_MAX_MSG], mac[16];
	char msg[AUTH_MAX_MSG];
	size_t clen = 0, u = strlen(user);
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_MD5);
	int rc = -1;

	if (md == NULL || u + 1 + 32 + 1 > sizeof(msg))
		goto done;
	if (mbedtls_base64_decode(chal, sizeof(chal), &clen, (const unsigned char *)challenge_b64,
	                          strlen(challenge_b64)) != 0 || clen == 0)
		goto done;
	if (mbedtls_md_hmac(md, (const unsigned char *)pw, strlen(pw), chal, clen, mac) != 0)
		goto done;
	memcpy(msg, user, u);
	msg[u] = ' ';
	auth_hex(mac, sizeof(mac), msg + u + 1);
	rc = auth_b64((const unsigned char *)msg, strlen(msg), out, outlen);
done:
	auth_wipe(mac, sizeof(mac));
	auth_wipe(msg, sizeof(msg));
	auth_wipe(chal, sizeof(chal));
	return rc;
}

/* ---- SCRAM-SHA-256 (RFC 5802 section 3, RFC 7677) ---- */

static int hmac256(const unsigned char *key, size_t klen, const void *msg, size_t mlen,
                   unsigned char out[32])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

	return md == NULL ? -1 : mbedtls_md_hmac(md, key, klen, msg, mlen, out);
}

int auth_scram_first(struct auth_scram *sc, const char *user, const char *nonce,
                     char *out, size_t outlen)
{
	char msg[AUTH_MAX_MSG];
	size_t o = 0;

	memset(sc, 0, sizeof(*sc));
	if (strlen(nonce) >= sizeof(sc->nonce) || strchr(nonce, ',') != NULL)
		return -1;
	snprintf(sc->nonce, sizeof(sc->nonce), "%s", nonce);
	/* saslname: "=" and "," are escaped as =3D and =2C. */
	o += (size_t)snprintf(sc->bare, sizeof(sc->bare), "n=");
	for (const char *p = user; *p; p++) {
		const char *esc = *p == '=' ? "=3D" : *p == ',' ? "=2C" : NULL;
		size_t n = esc ? 3 : 1;

		if (o + n + 1 >= sizeof(sc->bare))
			return -1;
		if (esc)
			memcpy(sc->bare + o, esc, 3);
		else
			sc->bare[o] = *p;
		o += n;
	}
	sc->bare[o] = '\0';
	if (o + 3 + strlen(nonce) + 1 > sizeof(sc->bare))
		return -1;
	snprintf(sc->bare + o, sizeof(sc->bare) - o, ",r=%s", nonce);
	if ((size_t)snprintf(msg, sizeof(msg), "n,,%s", sc->bare) >= sizeof(msg))
		return -1;
	return auth_b64((const unsigned char *)msg, strlen(msg), out, outlen);
}

/* Value of attribute "k=" in a comma-separated SCRAM message, or NULL;
 * *len gets its length. */
static const char *scram_attr(const char *m, char k, size_t *len)
{
	for (const char *p = m; *p; ) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n >= 2 && p[0] == k && p[1] == '=') {
			*len = n - 2;
			return p + 2;
		}
		p += n + (e ? 1 : 0);
	}
	return NULL;
}

int auth_scram_final(struct auth_scram *sc, const char *pw, const char *server_first_b64,
                     char *out, size_t outlen, char *err, size_t errlen)
{
	unsigned char sfirst[AUTH_MAX_MSG], salt[128], salted[32], ckey[32], skey[32],
	              stored[32], csig[32], proof[32];
	char without[AUTH_MAX_MSG], authmsg[3 * AUTH_MAX_MSG], final[AUTH_MAX_MSG],
	     proof64[64], iter_s[16];
	const char *r, *sa, *it;
	size_t flen = 0, rl, sl, il, saltlen = 0;
	unsigned long iter;
	char *end;
	int rc = -1;

	if (mbedtls_base64_decode(sfirst, sizeof(sfirst) - 1, &flen,
	                          (const unsigned char *)server_first_b64,
	                          strlen(server_first_b64)) != 0 || flen == 0) {
		snprintf(err, errlen, "the server's SCRAM challenge is not base64");
		goto done;
	}
	sfirst[flen] = '\0';
	if (memchr(sfirst, '\0', flen) != NULL) {
		snprintf(err, errlen, "the server's SCRAM challenge contains a NUL byte");
		goto done;
	}
	r = scram_attr((const char *)sfirst, 'r', &rl);
	sa = scram_attr((const char *)sfirst, 's', &sl);
	it = scram_attr((const char *)sfirst, 'i', &il);
	if (r == NULL || sa == NULL || it == NULL) {
		snprintf(err, errlen, "the server's SCRAM challenge lacks r=, s= or i=");
		goto done;
	}
	/* The server's nonce must start with ours (RFC 5802 5.1). */
	if (rl <= strlen(sc->nonce) || strncmp(r, sc->nonce, strlen(sc->nonce)) != 0) {
		snprintf(err, errlen, "the server's SCRAM nonce does not extend the client's");
		goto done;
	}
	if (il == 0 || il >= sizeof(iter_s)) {
		snprintf(err, errlen, "the server's SCRAM iteration count is malformed");
		goto done;
	}
	memcpy(iter_s, it, il);
	iter_s[il] = '\0';
	iter = strtoul(iter_s, &end, 10);
	if (*end != '\0' || iter < 1 || iter > AUTH_SCRAM_MAX_ITER) {
		snprintf(err, errlen, "the server asks for %s SCRAM iterations (1..%d accepted)",
		         iter_s, AUTH_SCRAM_MAX_ITER);
		goto done;
	}
	if (mbedtls_base64_decode(salt, sizeof(salt), &saltlen, (const unsigned char *)sa, sl) != 0 ||
	    saltlen == 0) {
		snprintf(err, errlen, "the server's SCRAM salt is not base64");
		goto done;
	}
	if ((size_t)snprintf(without, sizeof(without), "c=biws,r=%.*s", (int)rl, r) >= sizeof(without) ||
	    (size_t)snprintf(authmsg, sizeof(authmsg), "%s,%s,%s", sc->bare, (const char *)sfirst,
	                     without) >= sizeof(authmsg)) {
		snprintf(err, errlen, "the server's SCRAM challenge is too long");
		goto done;
	}
	if (mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256, (const unsigned char *)pw, strlen(pw),
	                                  salt, saltlen, (unsigned int)iter, sizeof(salted),
	                                  salted) != 0 ||
	    hmac256(salted, sizeof(salted), "Client Key", 10, ckey) != 0 ||
	    mbedtls_sha256(ckey, sizeof(ckey), stored, 0) != 0 ||
	    hmac256(stored, sizeof(stored), authmsg, strlen(authmsg), csig) != 0 ||
	    hmac256(salted, sizeof(salted), "Server Key", 10, skey) != 0 ||
	    hmac256(skey, sizeof(skey), authmsg, strlen(authmsg), sc->server_sig) != 0) {
		snprintf(err, errlen, "SCRAM computation failed");
		goto done;
	}
	sc->have_sig = true;
	for (size_t i = 0; i < sizeof(proof); i++)
		proof[i] = ckey[i] ^ csig[i];
	if (auth_b64(proof, sizeof(proof), proof64, sizeof(proof64)) != 0 ||
	    (size_t)snprintf(final, sizeof(final), "%s,p=%s", without, proof64) >= sizeof(final))
		goto done;
	rc = auth_b64((const unsigned char *)final, strlen(final), out, outlen);
done:
	auth_wipe(salted, sizeof(salted));
	auth_wipe(ckey, sizeof(ckey));
	auth_wipe(skey, sizeof(skey));
	auth_wipe(stored, sizeof(stored));
	auth_wipe(csig, sizeof(csig));
	auth_wipe(proof, sizeof(proof));
	auth_wipe(proof64, sizeof(proof64));
	auth_wipe(final, sizeof(final));
	return rc;
}

int auth_scram_verify(const struct auth_scram *sc, const char *server_final_b64)
{
	unsigned char fin[AUTH_MAX_MSG], sig[64];
	size_t flen = 0, vl, slen = 0;
	const char *v;

	if (!sc->have_sig ||
	    mbedtls_base64_decode(fin, sizeof(fin) - 1, &flen, (const unsigned char *)server_final_b64,
	                          strlen(server_final_b64)) != 0)
		return -1;
	fin[flen] = '\0';
	v = scram_attr((const char *)fin, 'v', &vl);
	if (v == NULL || mbedtls_base64_decode(sig, sizeof(sig), &slen,
	                                       (const unsigned char *)v, vl) != 0 ||
	    slen != sizeof(sc->server_sig))
		return -1;
	return memcmp(sig, sc->server_sig, slen) == 0 ? 0 : -1;
}

int auth_password_load(const char *file, char *out, size_t outlen,
                       char *err, size_t errlen)
{
	size_t n;

	out[0] = '\0';
	if (file != NULL) {
		FILE *f = fopen(file, "r");

		if (f == NULL) {
			snprintf(err, errlen, "cannot read --password-file '%s': %s", file,
			         strerror(errno));
			return -1;
		}
		if (fgets(out, (int)outlen, f) == NULL)
			out[0] = '\0';
		n = strlen(out);
		if (n + 1 == outlen && out[n - 1] != '\n') {
			fclose(f);
			auth_wipe(out, outlen);
			snprintf(err, errlen, "the password in '%s' is too long (at most %zu bytes)",
			         file, outlen - 2);
			return -1;
		}
		fclose(f);
	} else {
		const char *env = getenv("SMTP_PROBE_PASSWORD");

		if (env == NULL || env[0] == '\0') {
			snprintf(err, errlen, "--auth needs a password: set $SMTP_PROBE_PASSWORD "
			         "or give --password-file FILE");
			return -1;
		}
		if (strlen(env) >= outlen) {
			snprintf(err, errlen, "$SMTP_PROBE_PASSWORD is too long (at most %zu bytes)",
			         outlen - 1);
			return -1;
		}
		snprintf(out, outlen, "%s", env);
	}
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	if (n == 0) {
		if (file != NULL)
			snprintf(err, errlen, "the password file '%s' is empty", file);
		else
			snprintf(err, errlen, "$SMTP_PROBE_PASSWORD is empty");
		return -1;
	}
	return 0;
}
