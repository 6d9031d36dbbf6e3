/* Thunderbird autoconfig (config-v1.1.xml) parsing with libexpat. Only the
 * outgoing SMTP servers are read. The document comes from a web server we
 * do not control: it is bounded in bytes and nesting depth, every text
 * field has a ceiling, and a DOCTYPE is refused before any entity could be
 * declared, so no entity is ever expanded (no "billion laughs", no
 * external entity fetch). */
#include "autoconfig.h"
#include "lazylib.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define AC_TEXT_MAX 256

enum ac_field { F_NONE = 0, F_HOSTNAME, F_PORT, F_SOCKET, F_AUTH, F_USERNAME };

struct ac_parse {
	const struct lazy_expat *x;
	XML_Parser p;
	struct autoconfig *ac;
	const char *addr;
	int depth;
	bool root_seen, in_provider, in_smtp, smtp_kept;
	enum ac_field field;
	char text[AC_TEXT_MAX];
	size_t tlen;
	bool text_over;
	char err[160];
};

const char *autoconfig_socket_name(enum ac_socket s)
{
	static const char *const names[] = { "", "plain", "STARTTLS", "SSL" };
	_Static_assert(sizeof(names) / sizeof(names[0]) == AC_SOCKET_SSL + 1, "socket names");
	return (unsigned)s <= AC_SOCKET_SSL ? names[s] : "";
}

const char *autoconfig_version(void)
{
	static char buf[48];
	const struct lazy_expat *x = lazy_expat(NULL);

	if (x == NULL)
		return "libexpat (not loadable)";
	XML_Expat_Version v = x->ExpatVersionInfo();
	snprintf(buf, sizeof(buf), "libexpat %d.%d.%d", v.major, v.minor, v.micro);
	return buf;
}

static void ac_fail(struct ac_parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ac_fail(struct ac_parse *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(ps->err, sizeof(ps->err), fmt, ap);
		va_end(ap);
	}
	ps->x->StopParser(ps->p, XML_FALSE);
}

/* Copies src into dst (bounded) with the address placeholders replaced;
 * false when the result does not fit. */
static bool ac_substitute(const char *src, const char *addr, char *dst, size_t dstlen)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
	size_t o = 0;

	while (*src) {
		const char *rep = NULL;
		size_t rlen = 0, skip = 0;

		if (*src == '%' && at != NULL) {
			if (strncmp(src, "%EMAILADDRESS%", 14) == 0) {
				rep = addr;
				rlen = strlen(addr);
				skip = 14;
			} else if (strncmp(src, "%EMAILLOCALPART%", 16) == 0) {
				rep = addr;
				rlen = (size_t)(at - addr);
				skip = 16;
			} else if (strncmp(src, "%EMAILDOMAIN%", 13) == 0) {
				rep = at + 1;
				rlen = strlen(at + 1);
				skip = 13;
			}
		}
		if (rep == NULL) {
			rep = src;
			rlen = 1;
			skip = 1;
		}
		if (o + rlen >= dstlen)
			return false;
		memcpy(dst + o, rep, rlen);
		o += rlen;
		src += skip;
	}
	dst[o] = '\0';
	return true;
}

/* A host name as a mail client would use it: letters, digits, '-', '.'. */
static bool ac_hostname_ok(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 253 || h[0] == '.' || h[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.')
			return false;
	return true;
}

static struct autoconfig_smtp *ac_cur(struct ac_parse *ps)
{
	return ps->smtp_kept ? &ps->ac->smtp[ps->ac->nsmtp - 1] : NULL;
}

static void XMLCALL ac_start(void *data, const XML_Char *name, const XML_Char **atts)
{
	struct ac_parse *ps = data;

	if (++ps->depth > AUTOCONFIG_MAX_DEPTH) {
		ac_fail(ps, "elements nested deeper than %d levels", AUTOCONFIG_MAX_DEPTH);
		return;
	}
	ps->field = F_NONE;
	if (ps->depth == 1) {
		if (strcmp(name, "clientConfig") != 0) {
			ac_fail(ps, "the root element is <%.40s>, not <clientConfig>", name);
			return;
		}
		ps->root_seen = true;
	} else if (ps->depth == 2 && strcmp(name, "emailProvider") == 0) {
		ps->in_provider = true;
		for (size_t i = 0; atts[i] != NULL && atts[i + 1] != NULL; i += 2)
			if (strcmp(atts[i], "id") == 0 && ps->ac->provider[0] == '\0')
				snprintf(ps->ac->provider, sizeof(ps->ac->provider), "%s", atts[i + 1]);
	} else if (ps->depth == 3 && ps->in_provider && strcmp(name, "outgoingServer") == 0) {
		bool smtp = false;

		for (size_t i = 0; atts[i] != NULL && atts[i + 1] != NULL; i += 2)
			if (strcmp(atts[i], "type") == 0 && strcasecmp(atts[i + 1], "smtp") == 0)
				smtp = true;
		if (!smtp)
			return;
		ps->in_smtp = true;
		ps->ac->smtp_total++;
		ps->smtp_kept = ps->ac->nsmtp < AUTOCONFIG_MAX_SMTP;
		if (ps->smtp_kept)
			memset(&ps->ac->smtp[ps->ac->nsmtp++], 0, sizeof(ps->ac->smtp[0]));
	} else if (ps->depth == 4 && ps->in_smtp && ps->smtp_kept) {
		ps->field = strcmp(name, "hostname") == 0 ? F_HOSTNAME :
		            strcmp(name, "port") == 0 ? F_PORT :
		            strcmp(name, "socketType") == 0 ? F_SOCKET :
		            strcmp(name, "authentication") == 0 ? F_AUTH :
		            strcmp(name, "username") == 0 ? F_USERNAME : F_NONE;
		ps->tlen = 0;
		ps->text_over = false;
	}
}

static void ac_trim(char *s)
{
	size_t n = strlen(s), b = 0;

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (isspace((unsigned char)s[b]))
		b++;
	memmove(s, s + b, n - b + 1);
}

static void ac_field_done(struct ac_parse *ps)
{
	struct autoconfig_smtp *sv = ac_cur(ps);
	char v[AC_TEXT_MAX];

	if (sv == NULL)
		return;
	memcpy(v, ps->text, ps->tlen);
	v[ps->tlen] = '\0';
	ac_trim(v);
	if (ps->text_over) {
		snprintf(sv->problem, sizeof(sv->problem), "a field is longer than %d bytes",
		         AC_TEXT_MAX - 1);
		return;
	}
	switch (ps->field) {
	case F_HOSTNAME:
		if (!ac_substitute(v, ps->addr, sv->hostname, sizeof(sv->hostname)) ||
		    !ac_hostname_ok(sv->hostname)) {
			snprintf(sv->problem, sizeof(sv->problem), "the hostname is not a host name");
			sv->hostname[0] = '\0';
			break;
		}
		for (char *c = sv->hostname; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		break;
	case F_PORT: {
		unsigned long p = 0;
		size_t i;

		for (i = 0; v[i] >= '0' && v[i] <= '9' && i < 6; i++)
			p = p * 10 + (unsigned long)(v[i] - '0');
		if (i == 0 || v[i] != '\0' || p == 0 || p > 65535)
			snprintf(sv->problem, sizeof(sv->problem), "the port is not 1..65535");
		else
			sv->port = (uint16_t)p;
		break;
	}
	case F_SOCKET:
		sv->socket = strcasecmp(v, "SSL") == 0 ? AC_SOCKET_SSL :
		             strcasecmp(v, "STARTTLS") == 0 ? AC_SOCKET_STARTTLS :
		             strcasecmp(v, "plain") == 0 ? AC_SOCKET_PLAIN : AC_SOCKET_UNSET;
		if (sv->socket == AC_SOCKET_UNSET)
			snprintf(sv->problem, sizeof(sv->problem), "unknown socketType");
		break;
	case F_AUTH:
		if (sv->nauth < AUTOCONFIG_MAX_AUTH && v[0] != '\0' && strlen(v) < sizeof(sv->auth[0]))
			snprintf(sv->auth[sv->nauth++], sizeof(sv->auth[0]), "%s", v);
		break;
	case F_USERNAME:
		if (!ac_substitute(v, ps->addr, sv->username, sizeof(sv->username)))
			sv->username[0] = '\0';
		break;
	case F_NONE:
		break;
	}
}

static void XMLCALL ac_end(void *data, const XML_Char *name)
{
	struct ac_parse *ps = data;

	(void)name;
	if (ps->depth == 4 && ps->field != F_NONE)
		ac_field_done(ps);
	ps->field = F_NONE;
	if (ps->depth == 3 && ps->in_smtp) {
		struct autoconfig_smtp *sv = ac_cur(ps);

		if (sv != NULL && sv->problem[0] == '\0') {
			if (sv->hostname[0] == '\0')
				snprintf(sv->problem, sizeof(sv->problem), "no hostname");
			else if (sv->port == 0)
				snprintf(sv->problem, sizeof(sv->problem), "no port");
		}
		ps->in_smtp = ps->smtp_kept = false;
	}
	if (ps->depth == 2)
		ps->in_provider = false;
	ps->depth--;
}

static void XMLCALL ac_text(void *data, const XML_Char *s, int len)
{
	struct ac_parse *ps = data;

	if (ps->field == F_NONE || len <= 0)
		return;
	if (ps->tlen + (size_t)len >= sizeof(ps->text)) {
		ps->text_over = true;
		return;
	}
	memcpy(ps->text + ps->tlen, s, (size_t)len);
	ps->tlen += (size_t)len;
}

/* A document type declaration is where entities are declared: refusing it
 * refuses every entity expansion and external fetch. Config files have none. */
static void XMLCALL ac_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	ac_fail(data, "a document type declaration (DOCTYPE) is refused: entities are never "
	        "expanded");
}

static void XMLCALL ac_entity(void *data, const XML_Char *name, int is_param,
                              const XML_Char *value, int vlen, const XML_Char *base,
                              const XML_Char *sysid, const XML_Char *pubid,
                              const XML_Char *notation)
{
	(void)name; (void)is_param; (void)value; (void)vlen; (void)base;
	(void)sysid; (void)pubid; (void)notation;
	ac_fail(data, "an entity declaration is refused");
}

int autoconfig_parse(const char *xml, size_t len, const char *addr, struct autoconfig *ac,
                     char *err, size_t errlen)
{
	struct ac_parse ps;
	int rc = -1;

	memset(ac, 0, sizeof(*ac));
	memset(&ps, 0, sizeof(ps));
	if (len > AUTOCONFIG_MAX_BYTES) {
		snprintf(err, errlen, "the document is larger than %d bytes", AUTOCONFIG_MAX_BYTES);
		return -1;
	}
	const char *why = NULL;
	ps.x = lazy_expat(&why);
	if (ps.x == NULL) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	ps.p = ps.x->ParserCreate(NULL);
	if (ps.p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ps.ac = ac;
	ps.addr = addr;
	ps.x->SetUserData(ps.p, &ps);
	ps.x->SetElementHandler(ps.p, ac_start, ac_end);
	ps.x->SetCharacterDataHandler(ps.p, ac_text);
	ps.x->SetStartDoctypeDeclHandler(ps.p, ac_doctype);
	ps.x->SetEntityDeclHandler(ps.p, ac_entity);
	ps.x->SetParamEntityParsing(ps.p, XML_PARAM_ENTITY_PARSING_NEVER);
	if (ps.x->Parse(ps.p, xml, (int)len, XML_TRUE) == XML_STATUS_ERROR) {
		if (ps.err[0])
			snprintf(err, errlen, "%s", ps.err);
		else
			snprintf(err, errlen, "not well-formed XML (line %lu: %s)",
			         (unsigned long)ps.x->GetCurrentLineNumber(ps.p),
			         ps.x->ErrorString(ps.x->GetErrorCode(ps.p)));
		goto done;
	}
	if (!ps.root_seen) {
		snprintf(err, errlen, "no <clientConfig> element");
		goto done;
	}
	rc = 0;
done:
	ps.x->ParserFree(ps.p);
	if (rc != 0)
		memset(ac, 0, sizeof(*ac));
	return rc;
}
