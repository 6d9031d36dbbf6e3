/* The result model: everything one probe learnt, filled by the engine and
 * only read by the renderers. One struct per probed address; a domain
 * (--mx) wraps several of them. All server text is stored raw but bounded;
 * each renderer escapes it for its own format. */
#ifndef SP_RESULT_H
#define SP_RESULT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum status { ST_OK = 0, ST_WARNING = 1, ST_CRITICAL = 2, ST_UNKNOWN = 3 };
enum severity { SEV_INFO = 0, SEV_WARNING = 1, SEV_CRITICAL = 2 };
enum tls_mode { TLS_MODE_STARTTLS = 0, TLS_MODE_IMPLICIT, TLS_MODE_NONE };

const char *status_name(enum status s);       /* "ok", "warning", ... */
const char *severity_name(enum severity s);   /* "info", ... */
const char *tls_mode_name(enum tls_mode m);   /* "starttls", ... */

#define RESULT_MAX_FINDINGS    64
#define RESULT_MAX_ATTEMPTS    16
#define RESULT_MAX_TRANSCRIPT  400   /* lines kept; later ones are counted */
#define RESULT_MAX_LINE        512   /* bytes kept of one transcript line */
#define RESULT_MAX_CHAIN       10    /* certificates kept of a chain */
#define RESULT_MAX_SAN         32
#define RESULT_MAX_EXT         64    /* EHLO extensions kept */

struct finding {
	enum severity sev;
	char code[40];
	char *message;                    /* owned */
};

struct attempt {
	char address[64];                 /* numeric, no brackets */
	int family;                       /* AF_INET / AF_INET6 */
	double connect_ms;                /* < 0: never connected */
	char error[96];                   /* "" when it connected */
};

struct ehlo_ext {
	char *keyword;                    /* owned, upper-cased */
	char *params;                     /* owned, "" when none */
};

/* One EHLO (or HELO) exchange. */
struct ehlo_info {
	bool present;                     /* a reply was received */
	bool helo;                        /* HELO fallback was used */
	int code;
	char *hostname;                   /* owned: first word of line 1, or NULL */
	char **lines;                     /* owned: reply text after "250-" */
	size_t nlines;
	struct ehlo_ext *ext;             /* owned */
	size_t next;
};

struct size_info {
	bool advertised;                  /* SIZE keyword seen */
	bool has_limit;                   /* SIZE with a non-zero number */
	uint64_t limit;
	uint64_t reserve;
	uint64_t max_attachment_base64;
	bool binary;                      /* BINARYMIME + CHUNKING */
	uint64_t max_attachment_binary;
	/* --size-check: what MAIL FROM ... SIZE=N proved (RFC 1870). */
	bool checked;                     /* the check ran */
	bool verified_known;              /* some SIZE=N was accepted */
	uint64_t verified;                /* the largest SIZE=N accepted (up to the advertised limit) */
	uint64_t refused;                 /* the smallest SIZE=N refused as too big, 0 none */
	int enforced;                     /* 1 refused above the limit at MAIL, 0 not, -1 unknown */
	unsigned pairs;                   /* MAIL/RSET pairs sent */
	char note[160];                   /* why the check could not tell, "" */
};

struct cert_info {
	char *subject;                    /* owned, RFC 4514-ish one line */
	char *issuer;                     /* owned */
	char *san[RESULT_MAX_SAN];        /* owned: "DNS:x", "IP:1.2.3.4" as in the cert */
	size_t nsan;
	time_t not_before, not_after;     /* UTC seconds */
	long days_left;                   /* whole days (not_after - now) / 86400, toward 0 */
	bool expired;                     /* not_after < the probe's time */
	char key[32];                     /* "RSA 2048", "EC P-256", "Ed25519" */
	char signature[48];               /* "RSA-SHA256", "ECDSA-SHA384" */
	char sha256[65];                  /* lowercase hex of the DER */
	char spki_sha256[45];             /* base64, as used by --pin sha256//... */
	char serial[2 * 32 + 1];          /* lowercase hex, "" unknown */
	bool self_signed;
	/* For DANE (RFC 6698 matching of Full/SHA-512 data): the DER, and where
	 * the SubjectPublicKeyInfo lies in it. Owned; dropped (NULL) once the
	 * probe's DANE check is done, so a finished result does not keep it. */
	unsigned char *der;
	size_t der_len, spki_off, spki_len;
};

struct tls_info {
	bool attempted;                   /* a handshake was started */
	bool ok;                          /* handshake completed */
	char version[16];                 /* "TLSv1.3" */
	char cipher[64];                  /* IANA name */
	char group[32];                   /* "x25519", "secp256r1", "" unknown */
	char alpn[32];
	char error[160];                  /* handshake failure, "" if none */
	int error_code;                   /* its mbedTLS code (JSON only), 0 none */
	uint16_t server_version;          /* ServerHello's version, 0 none seen */
	bool version_refused;             /* the handshake ended with alert 70
	                                     (protocol_version) */
	uint16_t legacy_best;             /* version_refused: the newest version a
	                                     legacy ClientHello on an extra
	                                     connection got a ServerHello for */
	bool verified;                    /* verification ran (a chain was seen) */
	bool trusted;
	bool hostname_match;
	char servername[256];             /* the name verified / sent as SNI */
	char *errors[16];                 /* owned: verification problems */
	size_t nerrors;
	struct cert_info *chain;          /* owned: nchain certificates, at most
	                                     RESULT_MAX_CHAIN (tls_chain_alloc) */
	size_t nchain;
	size_t chain_total;               /* certificates presented, even if > kept */
	bool pin_checked, pin_match;
};

struct auth_info {
	char *mechanisms;                 /* owned: AUTH params before TLS, NULL none */
	char *mechanisms_tls;             /* owned: after TLS */
	bool tested, accepted;
	char *reply;                      /* owned: server reply to the AUTH test */
	char mechanism[24];               /* mechanism tried, "" none */
	char skipped[200];                /* why --auth sent no AUTH, "" if it did */
};

/* One command's reply (--from/--rcpt, --check-tls-required). Fixed size:
 * result_clear need not know about it. */
struct cmd_reply {
	bool sent;                        /* the command went out */
	int code;                         /* 0: no reply */
	char text[256];                   /* reply lines joined by ' ', bounded */
};

#define RESULT_MAX_RCPT 16
struct envelope_info {
	bool tested;
	char mail_from[256];              /* as given; "" is MAIL FROM:<> */
	struct cmd_reply mail;
	size_t nrcpt;
	struct {
		char address[256];
		bool outside;             /* domain not the probed host's (open-relay rule) */
		struct cmd_reply reply;
	} rcpt[RESULT_MAX_RCPT];
	struct cmd_reply rset;
};

/* --check-tls-required: MAIL FROM:<> on the cleartext channel. */
struct tlsreq_info {
	bool tested;
	int required;                     /* 1 refused (TLS enforced), 0 accepted, -1 unclear */
	struct cmd_reply mail, rset;
	char note[160];                   /* why not tested / inconclusive, "" */
};

/* --tls-versions: one extra connection per version. */
enum tlsver_state { TLSV_UNTESTED = 0, TLSV_ACCEPTED, TLSV_REFUSED, TLSV_UNKNOWN };
#define RESULT_TLSV_N 4               /* [0] TLSv1.0 .. [3] TLSv1.3 */
struct tlsvers_info {
	bool tested;
	enum tlsver_state v[RESULT_TLSV_N];
	char detail[RESULT_TLSV_N][160];  /* cipher, alert or error seen */
};

/* --starttls-injection: the extra connection's outcome. */
struct injection_info {
	bool tested;
	int vulnerable;                   /* 1 yes, 0 no, -1 inconclusive */
	char detail[200];
};

/* Milliseconds; < 0 means the step did not happen. */
struct timings {
	double dns_ms, connect_ms, greeting_ms, ehlo_ms, starttls_ms, tls_ms,
	       ehlo_tls_ms, total_ms;
};

/* Reverse DNS of the address probed (--mx). */
struct ptr_info {
	bool checked;
	char *name;                       /* owned: PTR target, NULL when none */
	bool confirmed;                   /* the name resolves back (FCrDNS) */
	char error[64];                   /* "" or why the lookup failed */
};

/* DANE (RFC 6698, 7671, 7672): the TLSA records at _PORT._tcp.HOST and how
 * each matched the presented chain. Fixed size: result_clear frees nothing. */
#define RESULT_MAX_TLSA       16
#define RESULT_TLSA_DATA_HEX  128   /* hex digits kept of one record's data */

struct tlsa_info {
	unsigned usage, selector, matching;
	char data[RESULT_TLSA_DATA_HEX + 1]; /* lowercase hex, cut (see data_len) */
	size_t data_len;                  /* bytes of association data */
	bool usable;                      /* DANE-TA/EE with a known selector and matching type */
	bool matched;                     /* the association data matched the chain */
};

struct dane_info {
	bool checked;                     /* a TLSA lookup was made */
	char name[300];                   /* "_25._tcp.mx1.example" */
	bool authenticated;               /* the resolver set AD (DNSSEC validated) */
	/* "valid" | "mismatch" | "no-records" | "unusable" | "lookup-failed"
	 * | "no-tls" (TLSA published, no chain to match); unauthenticated
	 * records: "unsigned-match" | "unsigned-mismatch" | "unsigned-no-tls" */
	char result[24];
	char error[96];                   /* lookup failure or why a match was refused */
	struct tlsa_info records[RESULT_MAX_TLSA];
	size_t nrecords;
	size_t records_total;             /* TLSA records in the answer, even if > kept */
};

/* What a '*' transcript line records. The text is for people; renderers
 * that interpret events (--explain) switch on the type and read the typed
 * fields, never the wording. */
enum tev {
	TEV_NONE = 0,                     /* a 'C' or 'S' line */
	TEV_NOTE,                         /* a note with no meaning of its own */
	TEV_RESOLVED,                     /* the host name resolved */
	TEV_DNS_FAILED,
	TEV_CONNECTING,
	TEV_CONNECT_FAILED,
	TEV_CONNECTED,
	TEV_TLS_START,
	TEV_TLS_DONE,                     /* u.tls */
	TEV_TLS_FAILED,
	TEV_CERT,                         /* u.cert */
	TEV_VERIFY_OK,
	TEV_VERIFY_FAILED,                /* u.verify */
	TEV_PIN,                          /* u.pin */
	TEV_INJECTED_BYTES,               /* bytes came with the 220 to STARTTLS */
	TEV_TIMEOUT,
	TEV_CLOSED,                       /* u.closed */
	TEV_AUTH_SKIPPED,                 /* --auth asked for, no AUTH sent */
	TEV_EXTRA,                        /* an extra connection starts: u.extra */
	TEV_LEGACY_HELLO,                 /* a legacy ClientHello went out */
	TEV_LEGACY_RESULT,                /* its answer: u.legacy */
	TEV_INJECT_SENT,                  /* STARTTLS and NOOP in one packet */
	TEV_COUNT
};

struct tevent {
	enum tev type;
	union {
		struct {                  /* TEV_TLS_DONE; "" = not known */
			char version[16], cipher[64], group[32];
		} tls;
		struct { int index; } cert;           /* place in the chain, -1 unknown */
		struct { char reason[160]; } verify;  /* the problem, when the model keeps none */
		struct { bool match; } pin;           /* a pinned key matched */
		struct { bool by_server; } closed;    /* the server hung up (not a failed read) */
		struct { bool injection; } extra;     /* the --starttls-injection connection */
		struct { bool accepted; } legacy;     /* the deprecated version was accepted */
	} u;
};

struct tline {
	double t_ms;                      /* since probe start */
	char dir;                         /* 'C' client, 'S' server, '*' event */
	char *line;                       /* owned, no CRLF, bounded */
	struct tevent *ev;                /* owned: '*' lines with a type other than TEV_NOTE */
};

struct result {
	char *target;                     /* owned: as given */
	char *host;                       /* owned: host name (A-labels) or literal */
	char *host_unicode;               /* owned: its U-label form (IDN), NULL when none */
	uint16_t port;
	enum tls_mode tls_mode;
	enum status status;               /* computed by result_finish() */

	/* Both arrays grow as needed (most probes have a few findings and
	 * one or two attempts: fixed arrays of the maximum made every probe in
	 * flight 6 KiB larger). */
	struct finding *findings;         /* owned: nfindings of findings_cap, at most
	                                     RESULT_MAX_FINDINGS (result_add) */
	size_t nfindings, findings_cap;

	struct attempt *attempts;         /* owned: nattempts of attempts_cap, at most
	                                     RESULT_MAX_ATTEMPTS (result_attempts_reserve) */
	size_t nattempts, attempts_cap;
	char address[64];                 /* the address the dialogue ran on, "" none */
	char proxy[80];                   /* --proxy: "socks5://ADDR:PORT", "" direct */
	char source[64];                  /* --bind: the local address, "" the kernel's choice */
	int family;                       /* 0 none */

	struct {
		bool present;
		int code;
		char *text;               /* owned: all lines joined by '\n' */
		char *hostname;           /* owned: first word, or NULL */
	} greeting;

	struct ehlo_info ehlo, ehlo_tls;
	struct ehlo_info ehlo_auth;       /* after a successful --auth login */
	bool starttls_offered;
	int starttls_code;                /* reply to STARTTLS, 0 if not sent */
	struct size_info size;
	struct auth_info auth;
	struct tls_info tls;
	struct timings t;

	bool want_transcript;
	bool keep_der;                    /* --showcerts: the chain's DER stays for the report */
	struct tline *transcript;         /* owned, RESULT_MAX_TRANSCRIPT slots, allocated
	                                   * at the first line (only -v/--explain pay) */
	size_t ntranscript;
	size_t transcript_dropped;

	struct ptr_info ptr;
	struct dane_info *dane;           /* owned: --dane (3 KiB), NULL when not asked */

	int warn_days, crit_days;         /* thresholds used (for renderers) */
	double warn_time_ms, crit_time_ms; /* --warn-time/--crit-time, 0 unset */
	time_t started;                   /* wall clock of probe start */

	/* Checks that cost commands or connections: only when asked. */
	struct envelope_info *envelope;   /* owned: --from / --rcpt (9 KiB), NULL when not asked */
	struct tlsreq_info tls_required;  /* --check-tls-required */
	struct tlsvers_info tls_versions; /* --tls-versions */
	struct injection_info injection;  /* --starttls-injection */
};

void result_init(struct result *r);
void result_clear(struct result *r);

/* Room for n certificates (at most RESULT_MAX_CHAIN) in ti->chain, zeroed,
 * nchain 0; what the chain held before is freed. A chain is allocated at
 * its size because most are 2 or 3 certificates: a fixed array of 10 made
 * every probe in flight 4 KiB larger. tls_chain_free frees it. */
void tls_chain_alloc(struct tls_info *ti, size_t n);

/* Room for more attempts in r->attempts (up to RESULT_MAX_ATTEMPTS in all);
 * attempts_cap says how many fit. Not while a connection records into the
 * array (conn_start borrows it). */
void result_attempts_reserve(struct result *r, size_t more);
void tls_chain_free(struct tls_info *ti);

/* Adds a finding; the message is printf-formatted and truncated to 400
 * bytes. A code already present is not added twice. */
void result_add(struct result *r, enum severity sev, const char *code,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
bool result_has(const struct result *r, const char *code);
/* Removes the finding with this code, if any (a later connection told more). */
void result_drop(struct result *r, const char *code);
/* tls-legacy-only: the server's newest version is 'version' (0x0300..0x0302),
 * learnt as 'how' says ("its ServerHello", ...). */
void result_legacy_only(struct result *r, uint16_t version, const char *how);

/* The same for any findings array (a domain's, say). */
void findings_add(struct finding *f, size_t *n, enum severity sev, const char *code,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void findings_vadd(struct finding *f, size_t *n, enum severity sev, const char *code,
                   const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
enum status findings_status(const struct finding *f, size_t n);
void findings_clear(struct finding *f, size_t *n);

/* Computes r->status from the findings (info never changes it). */
enum status result_finish(struct result *r);

/* The address a result is about: the one its dialogue ran on, else the
 * last one it tried (every connection failed); "" when it got no further
 * than DNS. *family (may be NULL) is AF_INET, AF_INET6 or 0 with it. */
const char *result_addr(const struct result *r, int *family);

/* Appends a transcript line (bytes copied, cut at RESULT_MAX_LINE). */
void result_transcript(struct result *r, double t_ms, char dir,
                       const char *line, size_t len);
/* Appends a '*' line of this event (ev copied; NULL: TEV_NOTE). */
void result_event(struct result *r, double t_ms, const struct tevent *ev,
                  const char *line, size_t len);
/* The event of a transcript line: TEV_NONE for 'C'/'S', TEV_NOTE when untyped. */
enum tev tline_type(const struct tline *t);

/* Attachment limit arithmetic (docs/design.md "The attachment limit"). */
void size_compute(struct size_info *s, uint64_t reserve);
/* s as if the server had advertised what --size-check verified (the limit
 * and attachment sizes from s->verified); s itself when nothing was. */
struct size_info size_verified(const struct size_info *s);

#endif
