/* argv -> struct options. No I/O beyond reading files named on the command
 * line. Every bad argument gets one line naming it (and exit 3 in main). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "cert.h"
#include "dns.h"
#include "options.h"
#include "serve.h"
#include "setup.h"
#include "target.h"
#include "tlsio.h"

enum {
	O_STARTTLS = 1000, O_IMPLICIT, O_NOTLS, O_MX, O_HELO, O_SERVERNAME,
	O_CAFILE, O_CAPATH, O_PIN, O_RESOLVER, O_TIMEOUT, O_CTIMEOUT, O_JSON,
	O_EXPLAIN, O_WARN, O_CRIT, O_COLOR, O_RESERVE, O_ALLADDR, O_PERHOST, O_RATE,
	O_DEADLINE, O_DANE, O_MTASTS, O_TLSVER, O_INJECT, O_CHKTLS, O_AUTH, O_PWFILE,
	O_AUTHMECH, O_PLAINAUTH, O_FROM, O_RCPT, O_SERVE, O_SERVEALLOW, O_SETUP, O_CONFIG
};

static const struct option longopts[] = {
	{ "port",            required_argument, NULL, 'p' },
	{ "starttls",        no_argument,       NULL, O_STARTTLS },
	{ "implicit-tls",    no_argument,       NULL, O_IMPLICIT },
	{ "no-tls",          no_argument,       NULL, O_NOTLS },
	{ "mx",              no_argument,       NULL, O_MX },
	{ "all-addresses",   no_argument,       NULL, O_ALLADDR },
	{ "concurrency",     required_argument, NULL, 'c' },
	{ "targets",         required_argument, NULL, 'f' },
	{ "per-host",        required_argument, NULL, O_PERHOST },
	{ "rate",            required_argument, NULL, O_RATE },
	{ "deadline",        required_argument, NULL, O_DEADLINE },
	{ "dane",            no_argument,       NULL, O_DANE },
	{ "mta-sts",         no_argument,       NULL, O_MTASTS },
	{ "tls-versions",    no_argument,       NULL, O_TLSVER },
	{ "starttls-injection", no_argument,    NULL, O_INJECT },
	{ "check-tls-required", no_argument,    NULL, O_CHKTLS },
	{ "auth",            required_argument, NULL, O_AUTH },
	{ "password-file",   required_argument, NULL, O_PWFILE },
	{ "auth-mech",       required_argument, NULL, O_AUTHMECH },
	{ "allow-plaintext-auth", no_argument,  NULL, O_PLAINAUTH },
	{ "from",            required_argument, NULL, O_FROM },
	{ "rcpt",            required_argument, NULL, O_RCPT },
	{ "serve",           required_argument, NULL, O_SERVE },
	{ "setup",           required_argument, NULL, O_SETUP },
	{ "config",          required_argument, NULL, O_CONFIG },
	{ "serve-allow",     required_argument, NULL, O_SERVEALLOW },
	{ "ipv4",            no_argument,       NULL, '4' },
	{ "ipv6",            no_argument,       NULL, '6' },
	{ "helo",            required_argument, NULL, O_HELO },
	{ "servername",      required_argument, NULL, O_SERVERNAME },
	{ "cafile",          required_argument, NULL, O_CAFILE },
	{ "capath",          required_argument, NULL, O_CAPATH },
	{ "pin",             required_argument, NULL, O_PIN },
	{ "resolver",        required_argument, NULL, O_RESOLVER },
	{ "timeout",         required_argument, NULL, O_TIMEOUT },
	{ "connect-timeout", required_argument, NULL, O_CTIMEOUT },
	{ "output",          required_argument, NULL, 'o' },
	{ "json",            no_argument,       NULL, O_JSON },
	{ "transcript",      no_argument,       NULL, 'v' },
	{ "explain",         no_argument,       NULL, O_EXPLAIN },
	{ "warn-days",       required_argument, NULL, O_WARN },
	{ "crit-days",       required_argument, NULL, O_CRIT },
	{ "size-reserve",    required_argument, NULL, O_RESERVE },
	{ "color",           required_argument, NULL, O_COLOR },
	{ "help",            no_argument,       NULL, 'h' },
	{ "version",         no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

void cli_usage(FILE *f)
{
	fputs(
"usage: smtp-probe [OPTIONS] TARGET...\n"
"Ask an SMTP server what it offers, without ever sending mail.\n"
"\n"
"TARGET   host | host:port | [v6addr]:port | smtp://host[:port]\n"
"         | smtps://host[:port] | submission://host[:port]\n"
"         | user@domain or domain (with --mx)\n"
"\n"
"Connection:\n"
"  -p, --port N            port (default 25; smtps:// 465, submission:// 587)\n"
"      --starttls | --implicit-tls | --no-tls\n"
"                          TLS mode (default: STARTTLS when offered, implicit on 465)\n"
"  -4, -6                  one address family only (default: both, Happy Eyeballs)\n"
"      --mx                look up the domain's MX hosts and probe each\n"
"      --all-addresses     probe every address of every host (default: first\n"
"                          that answers)\n"
"      --helo NAME         name sent in EHLO/HELO (default: this host's FQDN)\n"
"      --resolver IP[:PORT]  DNS server to ask, repeatable (default: resolv.conf)\n"
"      --timeout SECONDS   per step (default 10)\n"
"      --connect-timeout SECONDS  (default: --timeout)\n"
"Batch:\n"
"  -f, --targets FILE      targets one per line ('-' = stdin; # comments);\n"
"                          JSON Lines with -o json, a table with -o text\n"
"  -c, --concurrency N     probes in flight at once (default 64; 16 for --mx)\n"
"      --per-host N        probes at once to one host (batch; default 1)\n"
"      --rate N            new probes per second (default: no limit)\n"
"      --deadline SECONDS  whole-probe deadline (default 60)\n"
"TLS and certificates:\n"
"      --servername NAME   SNI and name to verify (default: the host probed)\n"
"      --cafile FILE | --capath DIR   trust anchors (default: system store)\n"
"      --pin sha256//BASE64  expected SPKI pin, repeatable\n"
"      --warn-days N --crit-days N   expiry thresholds (default 30 / 7)\n"
"      --tls-versions      also try TLS 1.2 and 1.3 alone and detect TLS 1.0/1.1\n"
"                          (four extra connections)\n"
"      --starttls-injection  test the STARTTLS command-injection flaw\n"
"                          (CVE-2011-0411; one extra connection)\n"
"      --check-tls-required  send MAIL FROM:<> before STARTTLS (then RSET) to\n"
"                          see whether the server insists on TLS\n"
"Credentials and envelope (no mail is ever sent):\n"
"      --auth USER         test a login; password from $SMTP_PROBE_PASSWORD or\n"
"                          --password-file FILE (first line); never shown\n"
"      --auth-mech NAME    SCRAM-SHA-256, CRAM-MD5, PLAIN or LOGIN (default: the\n"
"                          strongest offered)\n"
"      --allow-plaintext-auth  also log in without TLS (default: refuse)\n"
"      --from ADDR         test MAIL FROM:<ADDR> (\"\" for <>), then RSET\n"
"      --rcpt ADDR         test RCPT TO:<ADDR> after --from, repeatable\n"
"Output:\n"
"  -o, --output FORMAT     text (default) | json | nagios | prometheus;\n"
"      --json              same as -o json\n"
"  -v, --transcript        the SMTP dialogue, timestamped\n"
"      --explain           the dialogue explained line by line\n"
"      --size-reserve N    bytes kept for headers in the attachment limit (4096)\n"
"      --color WHEN        auto | always | never\n"
"Relay setup assistant (no mail is ever sent):\n"
"      --setup ADDRESS     find the submission server for ADDRESS (SRV, autoconfig,\n"
"                          guesses, MX), probe each candidate lightly, recommend\n"
"                          one and print configuration snippets; with --auth,\n"
"                          prove the login on it\n"
"      --config LIST       only these snippets: curl,postfix,msmtp (default all)\n"
"Exporter (Prometheus, like blackbox_exporter):\n"
"      --serve ADDR:PORT   answer GET /probe?target=HOST[:PORT] and /metrics over\n"
"                          HTTP instead of probing targets; IP:PORT, [IPv6]:PORT,\n"
"                          or :PORT for 127.0.0.1; -c probes at once\n"
"      --serve-allow PATTERN  targets the exporter may probe, repeatable: a host\n"
"                          glob with an optional :PORT glob ('*.example.org:25');\n"
"                          without one every /probe is refused (403)\n"
"  -h, --help              this help;  -V, --version   versions\n"
"\n"
"Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad usage).\n", f);
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_seconds(const char *s, double *ms)
{
	char *end;
	double v;

	if (s == NULL || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(v > 0) || v > 3600)
		return -1;
	*ms = v * 1000.0;
	return 0;
}

/* "ip", "ip:port", "[v6]", "[v6]:port", bare v6 -> c-ares csv entry. */
static int add_resolver(struct options *o, const char *arg, char *err, size_t errlen)
{
	char host[64], entry[96];
	const char *port = NULL;
	unsigned char buf[16];
	unsigned long long p;
	size_t len = strlen(o->resolvers);
	int v6;

	if (arg[0] == '[') {
		const char *e = strchr(arg, ']');

		if (e == NULL || (size_t)(e - arg - 1) >= sizeof(host))
			goto bad;
		memcpy(host, arg + 1, (size_t)(e - arg - 1));
		host[e - arg - 1] = '\0';
		if (e[1] == ':')
			port = e + 2;
		else if (e[1] != '\0')
			goto bad;
	} else if (strchr(arg, ':') != NULL && strchr(arg, ':') == strrchr(arg, ':')) {
		const char *c = strchr(arg, ':');

		if ((size_t)(c - arg) >= sizeof(host))
			goto bad;
		memcpy(host, arg, (size_t)(c - arg));
		host[c - arg] = '\0';
		port = c + 1;
	} else {
		if (strlen(arg) >= sizeof(host))
			goto bad;
		strcpy(host, arg);
	}
	v6 = strchr(host, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, buf) != 1)
		goto bad;
	if (port != NULL && (parse_uint(port, 65535, &p) != 0 || p == 0))
		goto bad;
	snprintf(entry, sizeof(entry), "%s%s%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "",
	         port ? ":" : "", port ? port : "");
	if (len + strlen(entry) + 2 > sizeof(o->resolvers)) {
		snprintf(err, errlen, "too many --resolver options");
		return -1;
	}
	snprintf(o->resolvers + len, sizeof(o->resolvers) - len, "%s%s", len ? "," : "", entry);
	return 0;
bad:
	snprintf(err, errlen, "bad --resolver '%s': want IP or IP:PORT ([v6]:PORT)", arg);
	return -1;
}

static int check_readable(const char *what, const char *path, bool dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "cannot read %s '%s': %s", what, path, strerror(errno));
		return -1;
	}
	if (dir ? !S_ISDIR(st.st_mode) : S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s '%s' is %s a directory", what, path, dir ? "not" : "");
		return -1;
	}
	if (access(path, R_OK) != 0) {
		snprintf(err, errlen, "cannot read %s '%s': %s", what, path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A mail address for --setup: local@domain, printable ASCII without
 * spaces, quotes or shell signs (it goes into configuration snippets), the
 * domain a host name. */
static int cli_setup_address(const char *a)
{
	const char *at = strrchr(a, '@');
	struct target t;
	char e2[200];

	if (at == NULL || at == a || strlen(a) > 254)
		return -1;
	for (const char *c = a; *c; c++)
		if (*c <= ' ' || *c > '~' || strchr("\"'\\$`#;&|<>(){}*?!,", *c) != NULL)
			return -1;
	if (strchr(a, '@') != at)
		return -1;
	if (target_parse(at + 1, &t, e2, sizeof(e2)) != 0 || t.literal || t.port || t.mode_set ||
	    strchr(at + 1, '.') == NULL)
		return -1;
	return 0;
}

/* Combinations of the checks that cost commands or connections. The
 * password is read here once so a missing one is bad usage (exit 3), then
 * wiped; the probe reads it again only when it sends AUTH. */
static int cli_check_tests(const struct options *o, char *err, size_t errlen)
{
	char pw[AUTH_MAX_SECRET];

	if (o->nrcpt > 0 && o->mail_from == NULL) {
		snprintf(err, errlen, "--rcpt needs --from ADDR (\"\" for MAIL FROM:<>)");
		return -1;
	}
	if (o->auth_user == NULL && (o->password_file || o->auth_mech || o->allow_plaintext_auth)) {
		snprintf(err, errlen, "%s needs --auth USER", o->password_file ? "--password-file" :
		         o->auth_mech ? "--auth-mech" : "--allow-plaintext-auth");
		return -1;
	}
	if (o->auth_mech != NULL && auth_mech_parse(o->auth_mech) == AUTH_MECH_NONE) {
		snprintf(err, errlen, "bad --auth-mech '%.40s': want SCRAM-SHA-256, CRAM-MD5, PLAIN or LOGIN",
		         o->auth_mech);
		return -1;
	}
	if (o->mode_set && o->mode == TLS_MODE_NONE && (o->tls_versions || o->starttls_injection)) {
		snprintf(err, errlen, "%s needs TLS: not with --no-tls",
		         o->tls_versions ? "--tls-versions" : "--starttls-injection");
		return -1;
	}
	if (o->mode_set && o->mode == TLS_MODE_IMPLICIT &&
	    (o->starttls_injection || o->check_tls_required)) {
		snprintf(err, errlen, "%s needs a STARTTLS port: not with --implicit-tls",
		         o->starttls_injection ? "--starttls-injection" : "--check-tls-required");
		return -1;
	}
	if (o->auth_user != NULL) {
		int rc = auth_password_load(o->password_file, pw, sizeof(pw), err, errlen);

		auth_wipe(pw, sizeof(pw));
		if (rc != 0)
			return -1;
	}
	return 0;
}

enum cli_rc cli_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	unsigned long long v;
	int c, i;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = 10000;
	o->warn_days = 30;
	o->crit_days = 7;
	o->size_reserve = 4096;
	o->concurrency = 0;          /* defaulted below */
	o->per_host = 1;
	o->deadline_ms = 60000;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":p:46o:c:f:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (target_port(optarg, &o->port) != 0) {
				snprintf(err, errlen, "bad --port '%s': want 1..65535", optarg);
				return CLI_ERROR;
			}
			break;
		case O_STARTTLS:
		case O_IMPLICIT:
		case O_NOTLS:
			if (o->mode_set) {
				snprintf(err, errlen, "--starttls, --implicit-tls and --no-tls exclude each other");
				return CLI_ERROR;
			}
			o->mode_set = true;
			o->mode = c == O_STARTTLS ? TLS_MODE_STARTTLS :
			          c == O_IMPLICIT ? TLS_MODE_IMPLICIT : TLS_MODE_NONE;
			break;
		case O_MX:
			o->mx = true;
			break;
		case O_ALLADDR:
			o->all_addresses = true;
			break;
		case 'c':
			if (parse_uint(optarg, 10000, &v) != 0 || v == 0) {
				snprintf(err, errlen, "bad --concurrency '%s': want 1..10000", optarg);
				return CLI_ERROR;
			}
			o->concurrency = (size_t)v;
			break;
		case 'f':
			if (strcmp(optarg, "-") != 0 &&
			    check_readable("targets file", optarg, false, err, errlen) != 0)
				return CLI_ERROR;
			o->targets_file = optarg;
			break;
		case O_PERHOST:
			if (parse_uint(optarg, 1000, &v) != 0 || v == 0) {
				snprintf(err, errlen, "bad --per-host '%s': want 1..1000", optarg);
				return CLI_ERROR;
			}
			o->per_host = (size_t)v;
			break;
		case O_RATE:
			if (parse_seconds(optarg, &o->rate) != 0) {
				snprintf(err, errlen, "bad --rate '%s': want probes per second", optarg);
				return CLI_ERROR;
			}
			o->rate /= 1000.0;   /* parse_seconds scaled it */
			break;
		case O_DEADLINE:
			if (parse_seconds(optarg, &o->deadline_ms) != 0) {
				snprintf(err, errlen, "bad --deadline '%s': want seconds, 0 < N <= 3600",
				         optarg);
				return CLI_ERROR;
			}
			break;
		case O_DANE:
			o->dane = true;
			break;
		case O_MTASTS:
			o->mta_sts = true;
			break;
		case O_TLSVER:
			o->tls_versions = true;
			break;
		case O_INJECT:
			o->starttls_injection = true;
			break;
		case O_CHKTLS:
			o->check_tls_required = true;
			break;
		case O_AUTH:
			if (optarg[0] == '\0' || strlen(optarg) > 255) {
				snprintf(err, errlen, "bad --auth '%.60s': want a user name", optarg);
				return CLI_ERROR;
			}
			o->auth_user = optarg;
			break;
		case O_PWFILE:
			if (check_readable("password file", optarg, false, err, errlen) != 0)
				return CLI_ERROR;
			o->password_file = optarg;
			break;
		case O_AUTHMECH:
			o->auth_mech = optarg;
			break;
		case O_PLAINAUTH:
			o->allow_plaintext_auth = true;
			break;
		case O_FROM:
			if (strlen(optarg) > 254 || strpbrk(optarg, "<> \r\n") != NULL) {
				snprintf(err, errlen, "bad --from '%.60s': want an address (or \"\" for <>)",
				         optarg);
				return CLI_ERROR;
			}
			o->mail_from = optarg;
			break;
		case O_RCPT:
			if (o->nrcpt == OPT_MAX_RCPT) {
				snprintf(err, errlen, "too many --rcpt options (at most %d)", OPT_MAX_RCPT);
				return CLI_ERROR;
			}
			if (optarg[0] == '\0' || strlen(optarg) > 254 ||
			    strpbrk(optarg, "<> \r\n") != NULL || strchr(optarg, '@') == NULL) {
				snprintf(err, errlen, "bad --rcpt '%.60s': want user@domain", optarg);
				return CLI_ERROR;
			}
			o->rcpt[o->nrcpt++] = optarg;
			break;
		case O_SERVE: {
			struct sockaddr_storage ss;
			socklen_t sslen;

			if (serve_addr_parse(optarg, &ss, &sslen, err, errlen) != 0)
				return CLI_ERROR;
			o->serve = optarg;
			break;
		}
		case O_SETUP:
			if (cli_setup_address(optarg) != 0) {
				snprintf(err, errlen, "bad --setup '%.80s': want a mail address "
				         "(user@domain)", optarg);
				return CLI_ERROR;
			}
			o->setup = optarg;
			break;
		case O_CONFIG: {
			int bits = setup_config_parse(optarg);

			if (bits < 0) {
				snprintf(err, errlen, "bad --config '%.60s': want curl, postfix, msmtp "
				         "(comma-separated)", optarg);
				return CLI_ERROR;
			}
			o->setup_configs = (unsigned)bits;
			break;
		}
		case O_SERVEALLOW:
			if (o->nserve_allow == OPT_MAX_ALLOW) {
				snprintf(err, errlen, "too many --serve-allow options (at most %d)",
				         OPT_MAX_ALLOW);
				return CLI_ERROR;
			}
			if (serve_pattern_check(optarg, err, errlen) != 0)
				return CLI_ERROR;
			o->serve_allow[o->nserve_allow++] = optarg;
			break;
		case '4':
			o->only4 = true;
			break;
		case '6':
			o->only6 = true;
			break;
		case O_HELO: {
			struct target t;
			char e2[128];

			if (target_parse(optarg, &t, e2, sizeof(e2)) != 0 || t.port || t.mode_set ||
			    t.mail_domain || strlen(optarg) >= sizeof(o->helo)) {
				snprintf(err, errlen, "bad --helo '%s': want a host name", optarg);
				return CLI_ERROR;
			}
			snprintf(o->helo, sizeof(o->helo), "%s", optarg);
			break;
		}
		case O_SERVERNAME:
			if (optarg[0] == '\0' || strlen(optarg) > 253 || strpbrk(optarg, " /\\@:") != NULL) {
				snprintf(err, errlen, "bad --servername '%s': want a host name", optarg);
				return CLI_ERROR;
			}
			o->servername = optarg;
			break;
		case O_CAFILE:
			if (check_readable("CA file", optarg, false, err, errlen) != 0)
				return CLI_ERROR;
			o->cafile = optarg;
			break;
		case O_CAPATH:
			if (check_readable("CA directory", optarg, true, err, errlen) != 0)
				return CLI_ERROR;
			o->capath = optarg;
			break;
		case O_PIN:
			if (o->npins == OPT_MAX_PINS) {
				snprintf(err, errlen, "too many --pin options (at most %d)", OPT_MAX_PINS);
				return CLI_ERROR;
			}
			if (cert_pin_parse(optarg, o->pins[o->npins]) != 0) {
				snprintf(err, errlen, "bad --pin '%.80s': want sha256//BASE64 "
				         "(44 characters of base64)", optarg);
				return CLI_ERROR;
			}
			o->npins++;
			break;
		case O_RESOLVER:
			if (add_resolver(o, optarg, err, errlen) != 0)
				return CLI_ERROR;
			break;
		case O_TIMEOUT:
			if (parse_seconds(optarg, &o->timeout_ms) != 0) {
				snprintf(err, errlen, "bad --timeout '%s': want seconds, 0 < N <= 3600", optarg);
				return CLI_ERROR;
			}
			break;
		case O_CTIMEOUT:
			if (parse_seconds(optarg, &o->connect_timeout_ms) != 0) {
				snprintf(err, errlen, "bad --connect-timeout '%s': want seconds, 0 < N <= 3600",
				         optarg);
				return CLI_ERROR;
			}
			break;
		case 'o':
			if (strcmp(optarg, "text") == 0)
				o->output = OUT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->output = OUT_JSON;
			else if (strcmp(optarg, "nagios") == 0)
				o->output = OUT_NAGIOS;
			else if (strcmp(optarg, "prometheus") == 0)
				o->output = OUT_PROMETHEUS;
			else {
				snprintf(err, errlen, "bad --output '%s': want text, json, nagios or prometheus",
				         optarg);
				return CLI_ERROR;
			}
			break;
		case O_JSON:
			o->output = OUT_JSON;
			break;
		case 'v':
			o->transcript = true;
			break;
		case O_EXPLAIN:
			o->explain = true;
			break;
		case O_WARN:
		case O_CRIT:
			if (parse_uint(optarg, 100000, &v) != 0) {
				snprintf(err, errlen, "bad --%s '%s': want a number of days",
				         c == O_WARN ? "warn-days" : "crit-days", optarg);
				return CLI_ERROR;
			}
			if (c == O_WARN)
				o->warn_days = (int)v;
			else
				o->crit_days = (int)v;
			break;
		case O_RESERVE:
			if (parse_uint(optarg, 1ULL << 40, &v) != 0) {
				snprintf(err, errlen, "bad --size-reserve '%s': want bytes", optarg);
				return CLI_ERROR;
			}
			o->size_reserve = v;
			break;
		case O_COLOR:
			if (strcmp(optarg, "auto") == 0)
				o->color = COLOR_AUTO;
			else if (strcmp(optarg, "always") == 0)
				o->color = COLOR_ALWAYS;
			else if (strcmp(optarg, "never") == 0)
				o->color = COLOR_NEVER;
			else {
				snprintf(err, errlen, "bad --color '%s': want auto, always or never", optarg);
				return CLI_ERROR;
			}
			break;
		case 'h':
			cli_usage(stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("smtp-probe %s (%s, %s)\n", SP_VERSION, tlsio_version(), dns_version());
			return CLI_EXIT_OK;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return CLI_ERROR;
		default:
			snprintf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
			return CLI_ERROR;
		}
	}
	if (o->only4 && o->only6) {
		snprintf(err, errlen, "-4 and -6 exclude each other");
		return CLI_ERROR;
	}
	if (o->connect_timeout_ms <= 0)
		o->connect_timeout_ms = o->timeout_ms;
	if (o->warn_days < o->crit_days) {
		snprintf(err, errlen, "--warn-days %d is below --crit-days %d", o->warn_days,
		         o->crit_days);
		return CLI_ERROR;
	}
	if (o->concurrency == 0)
		o->concurrency = o->targets_file ? 64 : 16;
	if (o->targets_file && (o->output == OUT_NAGIOS || o->output == OUT_PROMETHEUS)) {
		snprintf(err, errlen, "-f works with -o text or json (JSON Lines)");
		return CLI_ERROR;
	}
	if (o->mx && (o->output == OUT_NAGIOS || o->output == OUT_PROMETHEUS)) {
		snprintf(err, errlen, "--mx works with -o text or json (for monitoring, "
		         "name the MX hosts as targets)");
		return CLI_ERROR;
	}
	if (o->setup_configs && o->setup == NULL) {
		snprintf(err, errlen, "--config needs --setup ADDRESS");
		return CLI_ERROR;
	}
	if (o->setup != NULL) {
		/* The assistant finds host, port and TLS mode itself, one name per
		 * candidate: options that fix them for one server make no sense. */
		const char *bad = optind < argc ? "a target" : o->targets_file ? "-f" :
		                  o->mx ? "--mx" : o->port ? "--port" : o->mode_set ? "a TLS mode option" :
		                  o->servername ? "--servername" : o->npins ? "--pin" :
		                  o->mail_from ? "--from" : o->dane ? "--dane" :
		                  o->mta_sts ? "--mta-sts" : o->tls_versions ? "--tls-versions" :
		                  o->starttls_injection ? "--starttls-injection" :
		                  o->check_tls_required ? "--check-tls-required" :
		                  o->output == OUT_NAGIOS ? "-o nagios" :
		                  o->output == OUT_PROMETHEUS ? "-o prometheus" : NULL;

		if (bad != NULL || o->serve != NULL) {
			snprintf(err, errlen, "--setup takes no %s: it discovers the server itself",
			         bad ? bad : "--serve");
			return CLI_ERROR;
		}
		if (cli_check_tests(o, err, errlen) != 0)
			return CLI_ERROR;
		return CLI_OK;
	}
	if (o->serve != NULL) {
		/* The exporter takes its targets from HTTP requests only. */
		if (optind < argc || o->targets_file != NULL || o->mx) {
			snprintf(err, errlen, "--serve takes no targets, -f or --mx: targets come "
			         "from /probe?target= requests");
			return CLI_ERROR;
		}
		return CLI_OK;
	}
	if (o->nserve_allow > 0) {
		snprintf(err, errlen, "--serve-allow needs --serve");
		return CLI_ERROR;
	}
	if (cli_check_tests(o, err, errlen) != 0)
		return CLI_ERROR;
	if (optind >= argc && o->targets_file == NULL) {
		snprintf(err, errlen, "no target given (see --help)");
		return CLI_ERROR;
	}
	o->targets = argv + optind;
	o->ntargets = (size_t)(argc - optind);
	for (i = 0; i < (int)o->ntargets; i++) {
		struct target t;
		char e2[200];

		if (target_parse(o->targets[i], &t, e2, sizeof(e2)) != 0) {
			snprintf(err, errlen, "bad target: %s", e2);
			return CLI_ERROR;
		}
		if ((o->mx || t.mail_domain) && (t.literal || t.mode_set)) {
			snprintf(err, errlen, "bad target '%s' for --mx: want a mail domain",
			         o->targets[i]);
			return CLI_ERROR;
		}
		if ((o->mx || t.mail_domain) && t.port) {
			snprintf(err, errlen, "bad target '%s' for --mx: give the port with --port",
			         o->targets[i]);
			return CLI_ERROR;
		}
	}
	return CLI_OK;
}
