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
#include <mbedtls/platform_util.h>

static const char *const auth_names[] = { "", "LOGIN", "PLAIN", "CRAM-MD5" };
_Static_assert(sizeof(auth_names) / sizeof(auth_names[0]) == AUTH_MECH_CRAM_MD5 + 1,
               "auth mechanism names");

void auth_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		mbedtls_platform_zeroize(p, n);
}

const char *auth_mech_name(enum auth_mech m)
{
	return (unsigned)m <= AUTH_MECH_CRAM_MD5 ? auth_names[m] : "";
}

enum auth_mech auth_mech_parse(const char *name)
{
	if (name == NULL)
		return AUTH_MECH_NONE;
	for (unsigned m = AUTH_MECH_LOGIN; m <= AUTH_MECH_CRAM_MD5; m++)
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
	for (unsigned m = AUTH_MECH_CRAM_MD5; m >= AUTH_MECH_LOGIN; m--)
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
