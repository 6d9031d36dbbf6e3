/* The Thunderbird autoconfig document (config-v1.1.xml): the outgoing
 * (SMTP) servers a mail provider publishes for its users. Pure and
 * fuzzable: the document is parsed with libexpat, bounded in size and
 * depth, and a document type declaration (the door to entity expansion,
 * "billion laughs" and external entities) is refused outright. */
#ifndef SP_AUTOCONFIG_H
#define SP_AUTOCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTOCONFIG_MAX_BYTES   65536   /* a real one is 1-3 KB */
#define AUTOCONFIG_MAX_DEPTH   12      /* clientConfig/emailProvider/outgoingServer/... */
#define AUTOCONFIG_MAX_SMTP    4       /* outgoing servers kept */
#define AUTOCONFIG_MAX_AUTH    4       /* <authentication> values kept per server */

enum ac_socket {
	AC_SOCKET_UNSET = 0,
	AC_SOCKET_PLAIN,                  /* "plain": no TLS at all */
	AC_SOCKET_STARTTLS,               /* "STARTTLS" */
	AC_SOCKET_SSL                     /* "SSL": implicit TLS (RFC 8314) */
};
const char *autoconfig_socket_name(enum ac_socket s);   /* "plain", "STARTTLS", "SSL", "" */

struct autoconfig_smtp {
	char hostname[254];               /* placeholders substituted, lower-cased */
	uint16_t port;                    /* 0 when absent or invalid */
	enum ac_socket socket;
	char auth[AUTOCONFIG_MAX_AUTH][32];/* "password-cleartext", "password-encrypted", ... */
	size_t nauth;
	char username[256];               /* placeholders substituted, "" none */
	char problem[120];                /* why this entry cannot be used, "" when it can */
};

struct autoconfig {
	char provider[128];               /* emailProvider id, "" none */
	struct autoconfig_smtp smtp[AUTOCONFIG_MAX_SMTP];
	size_t nsmtp;
	size_t smtp_total;                /* outgoingServer type="smtp" elements seen */
};

/* Parses the document for the mail address addr (for %EMAILADDRESS%,
 * %EMAILLOCALPART% and %EMAILDOMAIN%). 0, or -1 with a one-line reason in
 * err (not well-formed, too large, too deep, a DOCTYPE, not a clientConfig). */
int autoconfig_parse(const char *xml, size_t len, const char *addr, struct autoconfig *ac,
                     char *err, size_t errlen);

/* "libexpat 2.5.0" */
const char *autoconfig_version(void);

#endif
