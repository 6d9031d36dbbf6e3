/* mbedTLS over a non-blocking socket: one config per run, one context per
 * probe, the verdict read back instead of enforced. The bio callbacks also
 * watch the server's cleartext handshake records to learn the key-exchange
 * group, which mbedTLS 3.6 keeps only in its private handshake struct. */
#include "compat.h"
#include "ip.h"
#include "tlsio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "castore.h"
#include "cert.h"
#include "tlsver.h"
#include "xmalloc.h"

#define TLSIO_SYS_CAFILE "/etc/ssl/certs/ca-certificates.crt"
#define TLSIO_SYS_CAPATH "/etc/ssl/certs"
#define TLSIO_NAME_MAX   256
#define TLSIO_MAX_CAFILE (16 << 20) /* bytes of a --cafile (mbedTLS reads it whole) */
#define TLSIO_SNIFF_MAX  512     /* bytes kept of one handshake message */

struct tlsio_cfg {
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;             /* owned: anchors parsed up front (directories, DER) */
	struct castore *store;           /* owned: PEM anchors parsed on demand, verdict cache */
	bool have_ca;
	bool no_sni;                     /* --no-sni: the name is verified, not sent */
	bool own_set;                    /* --client-cert: own_crt and own_key are loaded */
	mbedtls_x509_crt own_crt;
	mbedtls_pk_context own_key;
};

/* A passive reader of the server's handshake records up to the first
 * record that is not a cleartext handshake record (ChangeCipherSpec or
 * encrypted data): ServerHello's key_share (TLS 1.3) and the start of
 * ServerKeyExchange (TLS 1.2) name the group. Bounded: message bodies past
 * TLSIO_SNIFF_MAX bytes are skipped, not stored. */
struct tlsio_sniff {
	bool done;
	bool seen;                       /* any byte received */
	unsigned char first;             /* the first byte: 0x16 if TLS */
	unsigned char rhdr[5];
	size_t rhdr_got, rec_left;
	unsigned char hhdr[4];
	size_t hhdr_got, msg_left;
	unsigned char body[TLSIO_SNIFF_MAX];
	size_t body_len;
	uint16_t group;                  /* TLS NamedGroup, 0 unknown */
	uint16_t version;                /* ServerHello's version (supported_versions
	                                    for TLS 1.3), 0 none seen */
	unsigned char ske[3];            /* first bytes of ServerKeyExchange */
	size_t ske_len;
	size_t dh_plen;                  /* TLS 1.2 DHE: length of p */
	bool cert_request;               /* TLS 1.2 CertificateRequest seen (in clear) */
};

struct tlsio {
	mbedtls_ssl_context ssl;
	struct tlsio_cfg *cfg;           /* borrowed */
	int fd;                          /* borrowed: the probe owns it */
	int sys_errno;                   /* errno of the last failed send/recv */
	int last_error;                  /* mbedTLS code of the last failure, 0 none */
	bool gave_up;                    /* ... a message mbedTLS cannot handle */
	bool version_alert;              /* the server sent alert 70 protocol_version */
	bool eof;                        /* recv returned 0 */
	char name[TLSIO_NAME_MAX];       /* the name to verify, "" none */
	bool sni;                        /* the name goes out as SNI */
	struct tlsio_sniff sn;
};

static int tlsio_psa_users;

/* mbedTLS 3.6.6 offers rsa_pss_rsae_* in a TLS 1.2+1.3 ClientHello but then
 * rejects a TLS 1.2 ServerKeyExchange signed with them (ILLEGAL_PARAMETER;
 * Mbed-TLS/mbedtls#10668, fixed upstream by #10672). Listing PKCS#1 v1.5
 * before PSS makes servers that follow the client's order (OpenSSL's
 * default) pick PKCS#1 in TLS 1.2; TLS 1.3 is unaffected, since it only
 * allows PSS for RSA CertificateVerify. Unsupported entries are skipped
 * by mbedTLS when the extension is written. */
static const uint16_t tlsio_sig_algs[] = {
	MBEDTLS_TLS1_3_SIG_ECDSA_SECP256R1_SHA256,
	MBEDTLS_TLS1_3_SIG_ECDSA_SECP384R1_SHA384,
	MBEDTLS_TLS1_3_SIG_ECDSA_SECP521R1_SHA512,
	MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA256,
	MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA384,
	MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA512,
	MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA256,
	MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA384,
	MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA512,
	MBEDTLS_TLS1_3_SIG_NONE
};

static void tlsio_sniff_message(struct tlsio_sniff *sn, unsigned char type)
{
	const unsigned char *b = sn->body, *end = sn->body + sn->body_len;

	if (type == 13) {                /* CertificateRequest (TLS 1.2: still in clear) */
		sn->cert_request = true;
		return;
	}
	if (type == 12) {                /* ServerKeyExchange */
		sn->ske_len = sn->body_len < 3 ? sn->body_len : 3;
		memcpy(sn->ske, b, sn->ske_len);
		if (sn->body_len >= 2)
			sn->dh_plen = (size_t)b[0] << 8 | b[1];
		return;
	}
	if (type != 2)                   /* ServerHello (and HelloRetryRequest) */
		return;
	/* version(2) random(32) session_id<1> cipher(2) compression(1) ext<2> */
	if (end - b < 35)
		return;
	sn->version = (uint16_t)(b[0] << 8 | b[1]);
	b += 34;
	if ((size_t)(end - b) < 1u + b[0] + 3u)
		return;
	b += 1 + b[0] + 3;
	if (end - b < 2)
		return;
	b += 2;                          /* extensions length: walk to `end` */
	while (end - b >= 4) {
		unsigned etype = (unsigned)b[0] << 8 | b[1];
		size_t elen = (size_t)b[2] << 8 | b[3];
		b += 4;
		if ((size_t)(end - b) < elen)
			return;
		/* key_share: server_share.group, or HRR's selected_group */
		if (etype == 51 && elen >= 2)
			sn->group = (uint16_t)(b[0] << 8 | b[1]);
		/* supported_versions: the version TLS 1.3 actually selected */
		if (etype == 43 && elen == 2)
			sn->version = (uint16_t)(b[0] << 8 | b[1]);
		b += elen;
	}
}

static void tlsio_sniff_hs(struct tlsio_sniff *sn, const unsigned char *p, size_t n)
{
	while (n > 0) {
		if (sn->hhdr_got < 4) {
			sn->hhdr[sn->hhdr_got++] = *p++;
			n--;
			if (sn->hhdr_got == 4) {
				sn->msg_left = (size_t)sn->hhdr[1] << 16 |
				               (size_t)sn->hhdr[2] << 8 | sn->hhdr[3];
				sn->body_len = 0;
				if (sn->msg_left == 0) {
					tlsio_sniff_message(sn, sn->hhdr[0]);
					sn->hhdr_got = 0;
				}
			}
			continue;
		}
		size_t k = n < sn->msg_left ? n : sn->msg_left;
		size_t keep = TLSIO_SNIFF_MAX - sn->body_len;
		if (keep > k)
			keep = k;
		memcpy(sn->body + sn->body_len, p, keep);
		sn->body_len += keep;
		sn->msg_left -= k;
		p += k;
		n -= k;
		if (sn->msg_left == 0) {
			tlsio_sniff_message(sn, sn->hhdr[0]);
			sn->hhdr_got = 0;
		}
	}
}

static void tlsio_sniff(struct tlsio_sniff *sn, const unsigned char *p, size_t n)
{
	if (!sn->seen && n > 0) {
		sn->seen = true;
		sn->first = p[0];
	}
	while (n > 0 && !sn->done) {
		if (sn->rec_left == 0) {
			sn->rhdr[sn->rhdr_got++] = *p++;
			n--;
			if (sn->rhdr_got == 5) {
				sn->rhdr_got = 0;
				sn->rec_left = (size_t)sn->rhdr[3] << 8 | sn->rhdr[4];
				if (sn->rhdr[0] != MBEDTLS_SSL_MSG_HANDSHAKE)
					sn->done = true;
			}
			continue;
		}
		size_t k = n < sn->rec_left ? n : sn->rec_left;
		tlsio_sniff_hs(sn, p, k);
		sn->rec_left -= k;
		p += k;
		n -= k;
	}
}

static int tlsio_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tlsio *t = ctx;
	ssize_t n;

	do
		n = send(t->fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	t->sys_errno = errno;
	return (errno == EPIPE || errno == ECONNRESET) ? MBEDTLS_ERR_NET_CONN_RESET
	                                               : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int tlsio_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tlsio *t = ctx;
	ssize_t n;

	do
		n = recv(t->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		tlsio_sniff(&t->sn, buf, (size_t)n);
		return (int)n;
	}
	if (n == 0) {
		t->eof = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return MBEDTLS_ERR_SSL_WANT_READ;
	t->sys_errno = errno;
	return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

static const char *tlsio_version_name(uint16_t v)
{
	switch (v) {
	case 0x0300: return "SSL 3.0";
	case 0x0301: return "TLS 1.0";
	case 0x0302: return "TLS 1.1";
	case 0x0303: return "TLS 1.2";
	case 0x0304: return "TLS 1.3";
	default:     return "an unknown version";
	}
}

/* A sentence for every error an mbedTLS 3.6 handshake, read or write can
 * return; the library's own strings never reach an output (the numeric
 * code is kept for JSON: tls.error_code). */
static const char *tlsio_error_sentence(int ret)
{
	switch (ret) {
	case MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE:
		return "the server chose a feature the probe's TLS library does not implement";
	case MBEDTLS_ERR_SSL_INVALID_MAC:
		return "a record from the server failed its integrity check (corrupted "
		       "in transit, or keys that do not match)";
	case MBEDTLS_ERR_SSL_INVALID_RECORD:
		return "the server sent a malformed TLS record";
	case MBEDTLS_ERR_SSL_DECODE_ERROR:
		return "the server sent a handshake message that could not be decoded";
	case MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION:
		return "the server sent a TLS extension the probe did not offer";
	case MBEDTLS_ERR_SSL_NO_APPLICATION_PROTOCOL:
		return "the server and the probe have no application protocol (ALPN) in common";
	case MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE:
		return "the server sent a TLS message the protocol does not allow at that point";
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
		return "the server sent a fatal TLS alert";
	case MBEDTLS_ERR_SSL_UNRECOGNIZED_NAME:
		return "the server does not know the name the probe asked for (SNI)";
	case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
	case MBEDTLS_ERR_SSL_CONN_EOF:
		return "the server closed the connection";
	case MBEDTLS_ERR_SSL_BAD_CERTIFICATE:
		return "the server's certificate message could not be parsed";
	case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
		return "the server answered with a TLS version outside 1.2-1.3, the versions "
		       "the probe speaks";
	case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
		return "the server and the probe have no cipher suite, group or signature "
		       "algorithm in common";
	case MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER:
		return "the server sent a value a handshake message may not carry";
	case MBEDTLS_ERR_SSL_UNEXPECTED_RECORD:
		return "the server sent a record of a type not expected at that point";
	case MBEDTLS_ERR_SSL_PK_TYPE_MISMATCH:
		return "the server's key type does not match the cipher suite it chose";
	case MBEDTLS_ERR_SSL_UNKNOWN_IDENTITY:
		return "the server asked for a pre-shared key identity the probe does not have";
	case MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED:
		return "the session ticket expired";
	case MBEDTLS_ERR_SSL_COUNTER_WRAPPING:
		return "the record counter would wrap: the connection carried too many records";
	case MBEDTLS_ERR_SSL_WAITING_SERVER_HELLO_RENEGO:
	case MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED:
	case MBEDTLS_ERR_SSL_CLIENT_RECONNECT:
		return "the server asked for a renegotiation or reconnection the probe does not do";
	case MBEDTLS_ERR_SSL_TIMEOUT:
		return "the TLS exchange timed out";
	case MBEDTLS_ERR_SSL_RECEIVED_EARLY_DATA:
	case MBEDTLS_ERR_SSL_CANNOT_READ_EARLY_DATA:
	case MBEDTLS_ERR_SSL_CANNOT_WRITE_EARLY_DATA:
		return "an early-data (0-RTT) exchange failed";
	case MBEDTLS_ERR_SSL_UNEXPECTED_CID:
		return "the server sent a connection ID the probe did not negotiate";
	case MBEDTLS_ERR_SSL_ALLOC_FAILED:
		return "the probe ran out of memory during the TLS exchange";
	case MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL:
		return "a TLS message did not fit the probe's buffers";
	case MBEDTLS_ERR_SSL_NO_RNG:
	case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
	case MBEDTLS_ERR_SSL_PRIVATE_KEY_REQUIRED:
	case MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED:
	case MBEDTLS_ERR_SSL_CACHE_ENTRY_NOT_FOUND:
	case MBEDTLS_ERR_SSL_HW_ACCEL_FAILED:
	case MBEDTLS_ERR_SSL_HW_ACCEL_FALLTHROUGH:
	case MBEDTLS_ERR_SSL_INTERNAL_ERROR:
	case MBEDTLS_ERR_SSL_VERSION_MISMATCH:
	case MBEDTLS_ERR_SSL_BAD_CONFIG:
	case MBEDTLS_ERR_SSL_BAD_INPUT_DATA:
	case MBEDTLS_ERR_SSL_CERTIFICATE_VERIFICATION_WITHOUT_HOSTNAME:
		return "the probe's TLS library failed internally (a probe problem, not the server's)";
	default:
		break;
	}
	/* Not from the TLS layer: the crypto and X.509 modules below it
	 * (mbedTLS codes: X.509 -0x2000..-0x2FFF, the rest is crypto). */
	if (-ret >= 0x2000 && -ret <= 0x2FFF)
		return "a certificate from the server could not be parsed";
	return "a signature, key or key exchange value from the server could not be "
	       "verified or used";
}

/* One readable line for an mbedTLS failure of this connection. */
static void tlsio_error(struct tlsio *t, int ret, const char *what, char *err, size_t errlen)
{
	bool alert = ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE &&
	             t->ssl.MBEDTLS_PRIVATE(in_msgtype) == MBEDTLS_SSL_MSG_ALERT &&
	             t->ssl.MBEDTLS_PRIVATE(in_msg) != NULL;

	t->last_error = ret;
	/* protocol_version: the server speaks none of the versions offered. */
	t->version_alert = alert && t->ssl.MBEDTLS_PRIVATE(in_msg)[1] == 70;
	if (err == NULL || errlen == 0)
		return;
	if (alert) {
		unsigned d = t->ssl.MBEDTLS_PRIVATE(in_msg)[1];

		snprintf(err, errlen, "%s: server sent TLS alert %u (%s)", what, d, tlsver_alert_name(d));
		return;
	}
	if (ret == MBEDTLS_ERR_SSL_CONN_EOF || (ret == 0 && t->eof)) {
		snprintf(err, errlen, "%s: connection closed by the server", what);
		return;
	}
	/* A record type outside 20..24 as the very first byte: the server
	 * is not speaking TLS here (an SMTP banner on an "smtps" port, HTTP). */
	if (ret == MBEDTLS_ERR_SSL_INVALID_RECORD && t->sn.seen &&
	    (t->sn.first < 20 || t->sn.first > 24)) {
		snprintf(err, errlen, "%s: the server did not answer with TLS (first byte 0x%02x)",
		         what, t->sn.first);
		return;
	}
	if ((ret == MBEDTLS_ERR_NET_CONN_RESET || ret == MBEDTLS_ERR_NET_SEND_FAILED ||
	     ret == MBEDTLS_ERR_NET_RECV_FAILED) && t->sys_errno != 0) {
		snprintf(err, errlen, "%s: %s", what, strerror(t->sys_errno));
		return;
	}
	if (ret == MBEDTLS_ERR_NET_CONN_RESET) {
		snprintf(err, errlen, "%s: the connection was reset", what);
		return;
	}
	if (ret == MBEDTLS_ERR_NET_SEND_FAILED || ret == MBEDTLS_ERR_NET_RECV_FAILED) {
		snprintf(err, errlen, "%s: the connection failed", what);
		return;
	}
	if (ret == MBEDTLS_ERR_SSL_BAD_INPUT_DATA &&
	    !mbedtls_ssl_is_handshake_over(&t->ssl)) {
		/* mbedTLS needs a whole handshake message in its input buffer: a
		 * certificate chain larger than that cannot be read at all. */
		snprintf(err, errlen, "%s: a handshake message (most likely the certificate "
		         "chain) is larger than the %d-byte TLS input buffer", what,
		         MBEDTLS_SSL_IN_CONTENT_LEN);
		return;
	}
	/* The server answered our 1.2/1.3 hello with an older version: it
	 * speaks nothing newer (a server picks the highest both sides have). */
	if (ret == MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION && t->sn.version != 0 &&
	    t->sn.version < 0x0303) {
		snprintf(err, errlen, "%s: the server answered with %s, older than TLS 1.2, "
		         "the oldest version the probe and current mail software accept",
		         what, tlsio_version_name(t->sn.version));
		return;
	}
	/* After the handshake, TLS 1.3 allows post-handshake messages that
	 * mbedTLS 3.6 handles only in part (NewSessionTicket yes, KeyUpdate
	 * no): the library gives up on a legal message. */
	if (ret == MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE && mbedtls_ssl_is_handshake_over(&t->ssl) &&
	    t->ssl.MBEDTLS_PRIVATE(in_msgtype) == MBEDTLS_SSL_MSG_HANDSHAKE &&
	    t->ssl.MBEDTLS_PRIVATE(in_msg) != NULL &&
	    mbedtls_ssl_get_version_number(&t->ssl) == MBEDTLS_SSL_VERSION_TLS1_3) {
		unsigned type = t->ssl.MBEDTLS_PRIVATE(in_msg)[0];

		t->gave_up = true;
		snprintf(err, errlen, "%s: the probe's TLS library cannot process the TLS 1.3 "
		         "%s the server sent, a message TLS 1.3 allows", what,
		         type == 24 ? "KeyUpdate" : type == 13 ? "CertificateRequest" :
		         "post-handshake message");
		return;
	}
	snprintf(err, errlen, "%s: %s", what, tlsio_error_sentence(ret));
}

static const char *tlsio_ca_error(int ret)
{
	if (ret == MBEDTLS_ERR_X509_FILE_IO_ERROR)
		return "it cannot be read";
	if (ret == MBEDTLS_ERR_X509_ALLOC_FAILED)
		return "out of memory";
	return "it holds no certificate in PEM or DER form that could be parsed";
}

/* A CA file named by the user must load; a system one may be missing. */
static int tlsio_load_file(mbedtls_x509_crt *ca, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	int ret;

	struct stat st;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read CA file '%s': %s", path, strerror(errno));
		return -1;
	}
	/* mbedTLS reads the whole file into memory: a CA bundle is well under
	 * 1 MiB, so anything past the bound is a mistake, refused before it
	 * is read. */
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > TLSIO_MAX_CAFILE) {
		fclose(f);
		snprintf(err, errlen, "CA file '%s' is too large (%.1f MiB; at most %d MiB)",
		         path, (double)st.st_size / 1048576.0, TLSIO_MAX_CAFILE >> 20);
		return -1;
	}
	fclose(f);
	ret = mbedtls_x509_crt_parse_file(ca, path);
	if (ret < 0) {
		snprintf(err, errlen, "cannot read CA file '%s': %s", path,
		         tlsio_ca_error(ret));
		return -1;
	}
	if (ca->raw.p == NULL) {
		snprintf(err, errlen, "cannot read CA file '%s': no certificate could be parsed", path);
		return -1;
	}
	return 0;
}

/* parse_path also counts non-certificate files as failures; only an
 * unreadable directory or no certificate at all is an error. */
static int tlsio_load_dir(mbedtls_x509_crt *ca, const char *path, char *err, size_t errlen)
{
	int ret = mbedtls_x509_crt_parse_path(ca, path);

	if (ret < 0) {
		snprintf(err, errlen, "cannot read CA directory '%s': %s", path,
		         tlsio_ca_error(ret));
		return -1;
	}
	if (ca->raw.p == NULL) {
		snprintf(err, errlen, "cannot read CA directory '%s': no certificate could be parsed", path);
		return -1;
	}
	return 0;
}

struct tlsio_cfg *tlsio_cfg_new(const char *cafile, const char *capath,
                                char *err, size_t errlen)
{
	struct tlsio_cfg *cfg = NULL;
	char scratch[256];
	psa_status_t st;
	int ret;

	st = psa_crypto_init();
	if (st != PSA_SUCCESS) {
		snprintf(err, errlen, "PSA crypto initialisation failed (%d)", (int)st);
		return NULL;
	}
	tlsio_psa_users++;
	cfg = xcalloc(1, sizeof(*cfg));
	mbedtls_ssl_config_init(&cfg->conf);
	mbedtls_x509_crt_init(&cfg->ca);
	mbedtls_x509_crt_init(&cfg->own_crt);
	mbedtls_pk_init(&cfg->own_key);

	cfg->store = castore_new();
	/* PEM files are indexed and parsed certificate by certificate when a
	 * chain needs them (probe/castore.c); whatever the index cannot take
	 * (DER, directories) is parsed here, which also names the error. */
	if (cafile != NULL || capath != NULL) {
		if (cafile != NULL && castore_add_pem_file(cfg->store, cafile, true) != 0 &&
		    tlsio_load_file(&cfg->ca, cafile, err, errlen) != 0)
			goto fail;
		if (capath != NULL && tlsio_load_dir(&cfg->ca, capath, err, errlen) != 0)
			goto fail;
	} else if (castore_add_pem_file(cfg->store, TLSIO_SYS_CAFILE, false) != 0 &&
	           tlsio_load_file(&cfg->ca, TLSIO_SYS_CAFILE, scratch, sizeof(scratch)) != 0) {
		/* No system store is not an error: every chain is then untrusted. */
		(void)tlsio_load_dir(&cfg->ca, TLSIO_SYS_CAPATH, scratch, sizeof(scratch));
	}
	castore_set_eager(cfg->store, &cfg->ca);
	cfg->have_ca = !castore_empty(cfg->store);

	ret = mbedtls_ssl_config_defaults(&cfg->conf, MBEDTLS_SSL_IS_CLIENT,
	                                  MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret != 0) {
		snprintf(err, errlen, "TLS configuration failed (mbedTLS error -0x%04x)",
		         (unsigned)-ret);
		goto fail;
	}
	mbedtls_ssl_conf_min_tls_version(&cfg->conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(&cfg->conf, MBEDTLS_SSL_VERSION_TLS1_3);
	/* A probe reports a bad chain, it does not refuse to look at it. */
	/* The chain is verified by tlsio_info after the handshake, not during
	 * it: mbedTLS aborts a handshake whose chain is too long to verify even
	 * with VERIFY_OPTIONAL, and a probe must report, not abort. Signatures
	 * of the handshake itself (CertificateVerify, ServerKeyExchange) are
	 * checked either way. */
	mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_sig_algs(&cfg->conf, tlsio_sig_algs);
	/* No CA chain in the config: the handshake verifies nothing (above),
	 * tlsio_info does, through the store. */
	mbedtls_ssl_conf_rng(&cfg->conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
	return cfg;
fail:
	if (cfg != NULL)
		tlsio_cfg_free(cfg);             /* drops the PSA reference too */
	else if (--tlsio_psa_users == 0)
		mbedtls_psa_crypto_free();
	return NULL;
}

void tlsio_cfg_free(struct tlsio_cfg *cfg)
{
	if (cfg == NULL)
		return;
	mbedtls_ssl_config_free(&cfg->conf);
	castore_free(cfg->store);
	mbedtls_x509_crt_free(&cfg->ca);
	mbedtls_x509_crt_free(&cfg->own_crt);
	mbedtls_pk_free(&cfg->own_key);
	free(cfg);
	if (--tlsio_psa_users == 0)
		mbedtls_psa_crypto_free();
}

int tlsio_cfg_pin_version(struct tlsio_cfg *cfg, uint16_t version)
{
	mbedtls_ssl_protocol_version v;

	if (version == 0x0303)
		v = MBEDTLS_SSL_VERSION_TLS1_2;
	else if (version == 0x0304)
		v = MBEDTLS_SSL_VERSION_TLS1_3;
	else
		return -1;
	mbedtls_ssl_conf_min_tls_version(&cfg->conf, v);
	mbedtls_ssl_conf_max_tls_version(&cfg->conf, v);
	return 0;
}

void tlsio_cfg_no_sni(struct tlsio_cfg *cfg)
{
	cfg->no_sni = true;
}

int tlsio_cfg_client_cert(struct tlsio_cfg *cfg, const char *certfile, const char *keyfile,
                          char *err, size_t errlen)
{
	int ret;

	if (!cfg->own_set) {
		ret = mbedtls_x509_crt_parse_file(&cfg->own_crt, certfile);
		if (ret != 0) {
			snprintf(err, errlen, "cannot read the client certificate '%s' (mbedTLS error "
			         "-0x%04x): want a PEM certificate (and its chain)", certfile,
			         (unsigned)-ret);
			return -1;
		}
		ret = mbedtls_pk_parse_keyfile(&cfg->own_key, keyfile ? keyfile : certfile, NULL,
		                               mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
		if (ret != 0) {
			snprintf(err, errlen, "cannot read the client key '%s' (mbedTLS error -0x%04x): "
			         "want an unencrypted PEM private key%s", keyfile ? keyfile : certfile,
			         (unsigned)-ret, keyfile ? "" : " (give --client-key FILE)");
			return -1;
		}
		if (mbedtls_pk_check_pair(&cfg->own_crt.pk, &cfg->own_key, mbedtls_psa_get_random,
		                          MBEDTLS_PSA_RANDOM_STATE) != 0) {
			snprintf(err, errlen, "the client key does not belong to the client certificate");
			return -1;
		}
		cfg->own_set = true;
	}
	ret = mbedtls_ssl_conf_own_cert(&cfg->conf, &cfg->own_crt, &cfg->own_key);
	if (ret != 0) {
		snprintf(err, errlen, "cannot use the client certificate (mbedTLS error -0x%04x)",
		         (unsigned)-ret);
		return -1;
	}
	return 0;
}

struct tlsio *tlsio_new(struct tlsio_cfg *cfg, int fd, const char *servername,
                        char *err, size_t errlen)
{
	struct tlsio *t = xcalloc(1, sizeof(*t));
	char sni[TLSIO_NAME_MAX];
	int ret;

	t->fd = fd;
	t->cfg = cfg;
	mbedtls_ssl_init(&t->ssl);
	if ((ret = mbedtls_ssl_setup(&t->ssl, &cfg->conf)) != 0) {
		tlsio_error(t, ret, "TLS setup failed", err, errlen);
		goto fail;
	}
	if (servername != NULL && *servername != '\0') {
		size_t n = strlen(servername);
		if (n >= sizeof(t->name)) {
			snprintf(err, errlen, "server name too long (%zu bytes)", n);
			goto fail;
		}
		memcpy(t->name, servername, n + 1);
	}
	if (t->name[0] == '\0' || ip_literal(t->name, NULL) || cfg->no_sni) {
		/* RFC 6066 3: no IP literals in SNI; the explicit NULL also tells
		 * mbedTLS >= 3.6.3 that skipping its name check is deliberate (the
		 * name is matched by tlsio_info either way). */
		ret = mbedtls_ssl_set_hostname(&t->ssl, NULL);
	} else {
		size_t n = strlen(t->name);
		memcpy(sni, t->name, n + 1);
		if (sni[n - 1] == '.')       /* SNI is sent without the root dot */
			sni[n - 1] = '\0';
		ret = mbedtls_ssl_set_hostname(&t->ssl, sni);
		t->sni = true;
	}
	if (ret != 0) {
		tlsio_error(t, ret, "cannot set server name", err, errlen);
		goto fail;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, tlsio_bio_send, tlsio_bio_recv, NULL);
	return t;
fail:
	tlsio_free(t);
	return NULL;
}

void tlsio_free(struct tlsio *t)
{
	if (t == NULL)
		return;
	mbedtls_ssl_free(&t->ssl);
	free(t);
}

enum tlsio_rc tlsio_handshake(struct tlsio *t, char *err, size_t errlen)
{
	int ret = mbedtls_ssl_handshake(&t->ssl);

	switch (ret) {
	case 0:
		return TLSIO_OK;
	case MBEDTLS_ERR_SSL_WANT_READ:
		return TLSIO_WANT_READ;
	case MBEDTLS_ERR_SSL_WANT_WRITE:
		return TLSIO_WANT_WRITE;
	default:
		tlsio_error(t, ret, "TLS handshake failed", err, errlen);
		return TLSIO_FAIL;
	}
}

enum tlsio_rc tlsio_read(struct tlsio *t, void *buf, size_t len, size_t *got,
                         char *err, size_t errlen)
{
	/* Each NewSessionTicket consumes a record, so this ends; the bound only
	 * guards against a server that floods tickets. */
	for (int i = 0; i < 64; i++) {
		int ret = mbedtls_ssl_read(&t->ssl, buf, len);
		*got = 0;
		if (ret > 0) {
			*got = (size_t)ret;
			return TLSIO_OK;
		}
		switch (ret) {
		case 0:
		case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
		case MBEDTLS_ERR_SSL_CONN_EOF:
			return TLSIO_CLOSED;
		case MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET:
			continue;
		case MBEDTLS_ERR_SSL_WANT_READ:
			return TLSIO_WANT_READ;
		case MBEDTLS_ERR_SSL_WANT_WRITE:
			return TLSIO_WANT_WRITE;
		default:
			tlsio_error(t, ret, "TLS read failed", err, errlen);
			return TLSIO_FAIL;
		}
	}
	return TLSIO_WANT_READ;
}

/* On WANT_*, call again later with the same buffer (mbedTLS keeps the
 * record it already built). */
enum tlsio_rc tlsio_write(struct tlsio *t, const void *buf, size_t len,
                          size_t *put, char *err, size_t errlen)
{
	int ret = mbedtls_ssl_write(&t->ssl, buf, len);

	*put = 0;
	if (ret >= 0) {
		*put = (size_t)ret;
		return TLSIO_OK;
	}
	switch (ret) {
	case MBEDTLS_ERR_SSL_WANT_READ:
		return TLSIO_WANT_READ;
	case MBEDTLS_ERR_SSL_WANT_WRITE:
		return TLSIO_WANT_WRITE;
	default:
		tlsio_error(t, ret, "TLS write failed", err, errlen);
		return TLSIO_FAIL;
	}
}

size_t tlsio_pending(const struct tlsio *t)
{
	return mbedtls_ssl_get_bytes_avail(&t->ssl);
}

/* TLS NamedGroup registry names (IANA "TLS Supported Groups"). */
static const char *tlsio_group_name(uint16_t g)
{
	switch (g) {
	case 21:     return "secp224r1";
	case 22:     return "secp256k1";
	case 23:     return "secp256r1";
	case 24:     return "secp384r1";
	case 25:     return "secp521r1";
	case 26:     return "brainpoolP256r1";
	case 27:     return "brainpoolP384r1";
	case 28:     return "brainpoolP512r1";
	case 29:     return "x25519";
	case 30:     return "x448";
	case 31:     return "brainpoolP256r1tls13";
	case 32:     return "brainpoolP384r1tls13";
	case 33:     return "brainpoolP512r1tls13";
	case 256:    return "ffdhe2048";
	case 257:    return "ffdhe3072";
	case 258:    return "ffdhe4096";
	case 259:    return "ffdhe6144";
	case 260:    return "ffdhe8192";
	case 0x11eb: return "SecP256r1MLKEM768";
	case 0x11ec: return "X25519MLKEM768";
	case 0x11ed: return "SecP384r1MLKEM1024";
	default:     return NULL;
	}
}

static void tlsio_group_text(const struct tlsio *t, const char *suite, char *out, size_t outlen)
{
	const struct tlsio_sniff *sn = &t->sn;
	uint16_t g = sn->group;
	const char *name;

	out[0] = '\0';
	/* TLS 1.2: ServerKeyExchange is ECDHE (curve_type 3 = named_curve) or
	 * DHE (p first); the suite says which, the bytes alone could mislead. */
	if (g == 0 && strstr(suite, "-ECDHE-") != NULL && sn->ske_len == 3 && sn->ske[0] == 3)
		g = (uint16_t)(sn->ske[1] << 8 | sn->ske[2]);
	if (g == 0 && strstr(suite, "-DHE-") != NULL && sn->dh_plen > 0) {
		snprintf(out, outlen, "dhe%zu", sn->dh_plen * 8);
		return;
	}
	if (g == 0)
		return;                  /* RSA key transport, or PSK only */
	if ((name = tlsio_group_name(g)) != NULL)
		snprintf(out, outlen, "%s", name);
	else
		snprintf(out, outlen, "0x%04x", g);
}

/* mbedTLS "TLS1-3-AES-128-GCM-SHA256" / "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"
 * -> IANA "TLS_AES_128_GCM_SHA256" / "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256". */
static void tlsio_cipher_text(const char *suite, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	if (strncmp(suite, "TLS1-3-", 7) == 0 && outlen > 4) {
		memcpy(out, "TLS_", 4);
		o = 4;
		suite += 7;
	}
	for (; *suite && o + 1 < outlen; suite++)
		out[o++] = *suite == '-' ? '_' : *suite;
	out[o] = '\0';
}

static void tlsio_explain_missing_intermediate(struct tls_info *ti, uint32_t flags);

void tlsio_info(struct tlsio *t, const char *servername, time_t now,
                struct tls_info *ti)
{
	const mbedtls_x509_crt *crt = mbedtls_ssl_get_peer_cert(&t->ssl);
	const char *suite = mbedtls_ssl_get_ciphersuite(&t->ssl);
	const char *alpn = mbedtls_ssl_get_alpn_protocol(&t->ssl);
	uint32_t flags = (uint32_t)-1;
	char name[sizeof(ti->servername)];
	bool too_long = false;

	/* Copied first: the caller may pass ti->servername itself. */
	snprintf(name, sizeof(name), "%s", servername != NULL ? servername : t->name);

	size_t ncrt = 0;
	for (const mbedtls_x509_crt *c = crt; c != NULL && c->raw.p != NULL; c = c->next)
		ncrt++;
	size_t cap = ncrt < RESULT_MAX_CHAIN ? ncrt : RESULT_MAX_CHAIN;
	tls_chain_alloc(ti, cap);
	for (size_t i = 0; i < ti->nerrors; i++)
		free(ti->errors[i]);
	ti->chain_total = ti->nerrors = 0;

	snprintf(ti->version, sizeof(ti->version), "%s", mbedtls_ssl_get_version(&t->ssl));
	if (suite != NULL)
		tlsio_cipher_text(suite, ti->cipher, sizeof(ti->cipher));
	else
		ti->cipher[0] = '\0';
	tlsio_group_text(t, suite ? suite : "", ti->group, sizeof(ti->group));
	snprintf(ti->alpn, sizeof(ti->alpn), "%s", alpn ? alpn : "");
	snprintf(ti->servername, sizeof(ti->servername), "%s", name);
	ti->server_version = t->sn.version;

	for (const mbedtls_x509_crt *c = crt; c != NULL && c->raw.p != NULL; c = c->next) {
		if (ti->nchain < cap && cert_extract(c, now, &ti->chain[ti->nchain]) == 0)
			ti->nchain++;
		ti->chain_total++;
	}
	if (crt != NULL) {
		int vr;

		flags = 0;
		vr = castore_verify(t->cfg->store, (mbedtls_x509_crt *)crt, &flags);
		if (vr == MBEDTLS_ERR_X509_FATAL_ERROR) {
			/* More than MBEDTLS_X509_MAX_INTERMEDIATE_CA links. */
			too_long = true;
			flags |= MBEDTLS_X509_BADCERT_NOT_TRUSTED;
		} else if (!t->cfg->have_ca) {
			flags |= MBEDTLS_X509_BADCERT_NOT_TRUSTED;
		}
	}
	/* A weak key is not a trust problem: the chain may well lead to a
	 * trusted root. It is reported on its own (cert-weak-key), with the
	 * size and the floor, from the chain's key sizes. */
	flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_BAD_KEY;
	ti->verified = crt != NULL;
	ti->trusted = ti->verified && (flags & ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH) == 0;
	ti->hostname_match = crt != NULL && name[0] != '\0' && cert_matches_host(crt, name);
	if (ti->verified && too_long) {
		char msg[96];

		snprintf(msg, sizeof(msg), "chain too long to verify (more than %d intermediate "
		         "certificates)", MBEDTLS_X509_MAX_INTERMEDIATE_CA);
		ti->errors[0] = xstrdup(msg);
		ti->nerrors = 1;
	} else if (ti->verified) {
		ti->nerrors = cert_verify_errors(flags, ti->errors,
		                                 sizeof(ti->errors) / sizeof(ti->errors[0]));
		tlsio_explain_missing_intermediate(ti, flags);
	}
}

/* A server that sends only its leaf, not self-signed, whose issuer is not a
 * trust anchor: the classic missing intermediate. Said as such instead of
 * the bare "issuer not trusted". */
static void tlsio_explain_missing_intermediate(struct tls_info *ti, uint32_t flags)
{
	if (!(flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) || ti->chain_total != 1 ||
	    ti->nchain != 1 || ti->chain[0].self_signed)
		return;
	for (size_t i = 0; i < ti->nerrors; i++) {
		char *e;

		if (ti->errors[i] == NULL || strncmp(ti->errors[i], "issuer not trusted", 18) != 0)
			continue;
		e = xstrdup("issuer not trusted: the server sent only its own certificate, "
		            "and its issuer is not a trusted root; the server most likely "
		            "omits its intermediate certificate");
		free(ti->errors[i]);
		ti->errors[i] = e;
	}
}

void tlsio_fail_info(const struct tlsio *t, struct tls_info *ti)
{
	ti->error_code = t->last_error;
	ti->server_version = t->sn.version;
	ti->version_refused = t->version_alert;
}

uint16_t tlsio_legacy_version(const struct tlsio *t)
{
	return t->sn.version != 0 && t->sn.version < 0x0303 ? t->sn.version : 0;
}

bool tlsio_sends_sni(const struct tlsio *t)
{
	return t->sni;
}

bool tlsio_cert_requested(const struct tlsio *t)
{
	return t->sn.cert_request;
}

bool tlsio_gave_up(const struct tlsio *t)
{
	return t->gave_up;
}

const char *tlsio_version(void)
{
	static char buf[32];   /* the API asks for at least 18 bytes */

	if (buf[0] == '\0')
		mbedtls_version_get_string_full(buf);
	return buf;
}
