/* Hand-written ClientHello for TLS 1.0/1.1 and a reader of the first
 * record of the answer. Nothing here completes a handshake: the ServerHello
 * (or an alert) is all the evidence we need. */
#include "tlsver.h"
#include "ip.h"

#include <arpa/inet.h>
#include <string.h>

/* Suites a TLS 1.0 client of ~2015 offered: ECDHE/DHE/RSA with AES-CBC and
 * 3DES, so a server that still accepts the version finds one in common. */
static const uint16_t tlsver_suites[] = {
	0xc00a, 0xc009, 0xc014, 0xc013,   /* ECDHE-ECDSA/RSA-AES256/128-SHA */
	0x0039, 0x0033,                   /* DHE-RSA-AES256/128-SHA */
	0x0035, 0x002f,                   /* AES256/128-SHA */
	0xc012, 0x0016, 0x000a,           /* ECDHE/DHE/RSA 3DES */
	0x00ff                            /* renegotiation info SCSV */
};

static size_t put16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return 2;
}

size_t tlsver_client_hello(unsigned char *out, size_t outlen, uint16_t version,
                           const char *sni, const unsigned char random[32])
{
	unsigned char b[TLSVER_HELLO_MAX];
	size_t o = 0, sni_len = 0, ext_start, hs_start, i;

	if (sni != NULL && sni[0] != '\0' && !ip_literal(sni, NULL))
		sni_len = strlen(sni);
	if (sni_len > 0 && sni[sni_len - 1] == '.')
		sni_len--;
	if (sni_len > 253 || outlen < 5)
		return 0;
	/* record header, handshake header: lengths filled in at the end */
	b[o++] = 0x16;
	o += put16(b + o, 0x0301);        /* record version: 1.0 for compatibility */
	o += 2;
	hs_start = o;
	b[o++] = 0x01;                    /* ClientHello */
	o += 3;
	o += put16(b + o, version);
	memcpy(b + o, random, 32);
	o += 32;
	b[o++] = 0;                       /* no session id */
	o += put16(b + o, sizeof(tlsver_suites));
	for (i = 0; i < sizeof(tlsver_suites) / sizeof(tlsver_suites[0]); i++)
		o += put16(b + o, tlsver_suites[i]);
	b[o++] = 1;                       /* compression: null only */
	b[o++] = 0;
	ext_start = o;
	o += 2;
	if (sni_len > 0) {
		o += put16(b + o, 0x0000);
		o += put16(b + o, sni_len + 5);
		o += put16(b + o, sni_len + 3);
		b[o++] = 0;               /* host_name */
		o += put16(b + o, sni_len);
		memcpy(b + o, sni, sni_len);
		o += sni_len;
	}
	/* supported_groups: x25519, secp256r1, secp384r1 */
	o += put16(b + o, 0x000a);
	o += put16(b + o, 8);
	o += put16(b + o, 6);
	o += put16(b + o, 29);
	o += put16(b + o, 23);
	o += put16(b + o, 24);
	/* ec_point_formats: uncompressed */
	o += put16(b + o, 0x000b);
	o += put16(b + o, 2);
	b[o++] = 1;
	b[o++] = 0;
	put16(b + ext_start, o - ext_start - 2);
	put16(b + 3, o - 5);
	b[hs_start + 1] = 0;
	put16(b + hs_start + 2, o - hs_start - 4);
	if (o > outlen)
		return 0;
	memcpy(out, b, o);
	return o;
}

enum tlsver_rc tlsver_parse(const unsigned char *p, size_t n, uint16_t *version,
                            unsigned *alert)
{
	size_t rlen;

	if (n < 1)
		return TLSVER_NEED_MORE;
	if (p[0] != 0x16 && p[0] != 0x15)
		return TLSVER_NOT_TLS;
	if (n < 5)
		return TLSVER_NEED_MORE;
	if (p[1] != 3)
		return TLSVER_NOT_TLS;
	rlen = (size_t)p[3] << 8 | p[4];
	if (p[0] == 0x15) {
		if (rlen < 2)
			return TLSVER_NOT_TLS;
		if (n < 7)
			return TLSVER_NEED_MORE;
		*alert = p[6];
		return TLSVER_ALERT;
	}
	/* handshake type(1) length(3) server_version(2): enough to decide */
	if (rlen < 6)
		return TLSVER_NOT_TLS;
	if (n < 11)
		return TLSVER_NEED_MORE;
	if (p[5] != 0x02)
		return TLSVER_NOT_TLS;
	*version = (uint16_t)(p[9] << 8 | p[10]);
	return TLSVER_SERVER_HELLO;
}

const char *tlsver_name(uint16_t version)
{
	switch (version) {
	case 0x0301: return "TLSv1.0";
	case 0x0302: return "TLSv1.1";
	case 0x0303: return "TLSv1.2";
	case 0x0304: return "TLSv1.3";
	default:     return "";
	}
}

/* The TLS alert registry (RFC 8446 6, RFC 5246 7.2), one table for every
 * message that names an alert. */
const char *tlsver_alert_name(unsigned d)
{
	switch (d) {
	case 0:   return "close_notify";
	case 10:  return "unexpected_message";
	case 20:  return "bad_record_mac";
	case 22:  return "record_overflow";
	case 40:  return "handshake_failure";
	case 42:  return "bad_certificate";
	case 43:  return "unsupported_certificate";
	case 44:  return "certificate_revoked";
	case 45:  return "certificate_expired";
	case 46:  return "certificate_unknown";
	case 47:  return "illegal_parameter";
	case 48:  return "unknown_ca";
	case 49:  return "access_denied";
	case 50:  return "decode_error";
	case 51:  return "decrypt_error";
	case 70:  return "protocol_version";
	case 71:  return "insufficient_security";
	case 80:  return "internal_error";
	case 86:  return "inappropriate_fallback";
	case 90:  return "user_canceled";
	case 100: return "no_renegotiation";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 112: return "unrecognized_name";
	case 113: return "bad_certificate_status_response";
	case 115: return "unknown_psk_identity";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	default:  return "unknown";
	}
}

bool tlsver_suite_no_fs(const char *suite)
{
	/* TLS 1.3 suites ("TLS_AES_...") have no key exchange in the name and
	 * always use (EC)DHE; TLS 1.2 names say it after "TLS_". */
	return strncmp(suite, "TLS_RSA_WITH_", 13) == 0 ||
	       strncmp(suite, "TLS_DH_", 7) == 0 || strncmp(suite, "TLS_ECDH_", 9) == 0;
}
