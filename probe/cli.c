/* argv -> struct options, driven by one table of options (cli_opts below):
 * the parser, --help and the documentation test all read it. No I/O beyond
 * reading files named on the command line. Every bad argument gets one line
 * naming it (and exit 3 in main). */
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
#include "conn.h"
#include "ip.h"
#include "dns.h"
#include "loop.h"
#include "options.h"
#include "serve.h"
#include "serve_module.h"
#include "setup.h"
#include "target.h"
#include "tlsio.h"
#include "xmalloc.h"

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

/* ---- Handlers: one per option (or per family of options). Each gets the
 * option's argument (NULL for a flag), stores it in o, and returns 0, or
 * -1 with a one-line message in err naming the option, or CLI_STOP after
 * output that ends the run (--help, --version). */

#define CLI_STOP 1

static int opt_port(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (target_port(arg, &o->port) != 0) {
		snprintf(err, errlen, "bad --port '%s': want 1..65535", arg);
		return -1;
	}
	return 0;
}

static int set_mode(struct options *o, enum tls_mode mode, char *err, size_t errlen)
{
	if (o->mode_set) {
		snprintf(err, errlen, "--starttls, --implicit-tls and --no-tls exclude each other");
		return -1;
	}
	o->mode_set = true;
	o->mode = mode;
	return 0;
}

static int opt_starttls(struct options *o, const char *arg, char *err, size_t errlen)
{
	(void)arg;
	return set_mode(o, TLS_MODE_STARTTLS, err, errlen);
}

static int opt_implicit(struct options *o, const char *arg, char *err, size_t errlen)
{
	(void)arg;
	return set_mode(o, TLS_MODE_IMPLICIT, err, errlen);
}

static int opt_notls(struct options *o, const char *arg, char *err, size_t errlen)
{
	(void)arg;
	return set_mode(o, TLS_MODE_NONE, err, errlen);
}

/* Flags that only set a bool: the field is named by the row's handler. */
#define FLAG_HANDLER(fn, field) \
	static int fn(struct options *o, const char *arg, char *err, size_t errlen) \
	{ (void)arg; (void)err; (void)errlen; o->field = true; return 0; }

FLAG_HANDLER(opt_mx, mx)
FLAG_HANDLER(opt_alladdr, all_addresses)
FLAG_HANDLER(opt_dane, dane)
FLAG_HANDLER(opt_mtasts, mta_sts)
FLAG_HANDLER(opt_tlsversions, tls_versions)
FLAG_HANDLER(opt_injection, starttls_injection)
FLAG_HANDLER(opt_chktls, check_tls_required)
FLAG_HANDLER(opt_sizecheck, size_check)
FLAG_HANDLER(opt_nosni, no_sni)
FLAG_HANDLER(opt_showcerts, showcerts)

static int opt_bind(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (ip_literal(arg, NULL) == 0 || arg[0] == '[') {
		snprintf(err, errlen, "bad --bind '%.60s': want this machine's IPv4 or IPv6 "
		         "address (no brackets, no name)", arg);
		return -1;
	}
	o->bind = arg;
	return 0;
}

static int opt_proxy(struct options *o, const char *arg, char *err, size_t errlen)
{
	struct dns_addr a;
	uint16_t port;

	if (strncasecmp(arg, "socks5h://", 10) == 0) {
		snprintf(err, errlen, "--proxy socks5h:// is not supported: smtp-probe resolves "
		         "names itself (--resolver) and asks the proxy for the address; use "
		         "socks5://");
		return -1;
	}
	if (conn_proxy_parse(arg, &a, &port) != 0) {
		snprintf(err, errlen, "bad --proxy '%.80s': want socks5://ADDR:PORT with an IP "
		         "address or localhost (e.g. socks5://127.0.0.1:1080 for ssh -D 1080)", arg);
		return -1;
	}
	o->proxy = arg;
	return 0;
}

static int opt_tlsversion(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (strcmp(arg, "1.2") == 0)
		o->tls_version = 0x0303;
	else if (strcmp(arg, "1.3") == 0)
		o->tls_version = 0x0304;
	else {
		snprintf(err, errlen, "bad --tls-version '%.20s': want 1.2 or 1.3 (TLS 1.0 and "
		         "1.1 are detected by --tls-versions, never negotiated)", arg);
		return -1;
	}
	return 0;
}

static int opt_clientcert(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (check_readable("client certificate", arg, false, err, errlen) != 0)
		return -1;
	o->client_cert = arg;
	return 0;
}

static int opt_clientkey(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (check_readable("client key", arg, false, err, errlen) != 0)
		return -1;
	o->client_key = arg;
	return 0;
}
FLAG_HANDLER(opt_plainauth, allow_plaintext_auth)
FLAG_HANDLER(opt_ipv4, only4)
FLAG_HANDLER(opt_ipv6, only6)
FLAG_HANDLER(opt_transcript, transcript)
FLAG_HANDLER(opt_explain, explain)
FLAG_HANDLER(opt_perfplain, perfdata_plain)

static int opt_concurrency(struct options *o, const char *arg, char *err, size_t errlen)
{
	unsigned long long v;

	if (parse_uint(arg, 10000, &v) != 0 || v == 0) {
		snprintf(err, errlen, "bad --concurrency '%s': want 1..10000", arg);
		return -1;
	}
	o->concurrency = (size_t)v;
	return 0;
}

static int opt_targets(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (strcmp(arg, "-") != 0 && check_readable("targets file", arg, false, err, errlen) != 0)
		return -1;
	o->targets_file = arg;
	return 0;
}

static int opt_perhost(struct options *o, const char *arg, char *err, size_t errlen)
{
	unsigned long long v;

	if (parse_uint(arg, 1000, &v) != 0 || v == 0) {
		snprintf(err, errlen, "bad --per-host '%s': want 1..1000", arg);
		return -1;
	}
	o->per_host = (size_t)v;
	return 0;
}

static int opt_rate(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (parse_seconds(arg, &o->rate) != 0) {
		snprintf(err, errlen, "bad --rate '%s': want probes per second", arg);
		return -1;
	}
	o->rate /= 1000.0;   /* parse_seconds scaled it */
	return 0;
}

/* K/N, 1 <= K <= N <= 10000: this run's share of the targets (docs/usage.md). */
static int opt_shard(struct options *o, const char *arg, char *err, size_t errlen)
{
	unsigned long long k, n;
	const char *slash = strchr(arg, '/');
	char kbuf[8];

	if (slash == NULL || (size_t)(slash - arg) >= sizeof(kbuf))
		goto bad;
	memcpy(kbuf, arg, (size_t)(slash - arg));
	kbuf[slash - arg] = '\0';
	if (parse_uint(kbuf, 10000, &k) != 0 || parse_uint(slash + 1, 10000, &n) != 0 ||
	    k == 0 || n == 0 || k > n)
		goto bad;
	o->shard_k = (unsigned)k;
	o->shard_n = (unsigned)n;
	return 0;
bad:
	snprintf(err, errlen, "bad --shard '%s': want K/N, 1 <= K <= N <= 10000", arg);
	return -1;
}

static int opt_deadline(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (parse_seconds(arg, &o->deadline_ms) != 0) {
		snprintf(err, errlen, "bad --deadline '%s': want seconds, 0 < N <= 3600", arg);
		return -1;
	}
	return 0;
}

/* -t: the whole-probe deadline under the name monitoring plugins use. */
static int opt_t(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (parse_seconds(arg, &o->deadline_ms) != 0) {
		snprintf(err, errlen, "bad -t '%s': want seconds, 0 < N <= 3600", arg);
		return -1;
	}
	return 0;
}

/* -H HOST: a target, as check_smtp takes it; joined with the arguments. */
static int opt_H(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (o->nhtargets == OPT_MAX_H) {
		snprintf(err, errlen, "too many -H options (at most %d)", OPT_MAX_H);
		return -1;
	}
	o->htargets[o->nhtargets++] = (char *)arg;
	return 0;
}

static int opt_warntime(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (parse_seconds(arg, &o->warn_time_ms) != 0) {
		snprintf(err, errlen, "bad --warn-time '%s': want seconds, 0 < N <= 3600", arg);
		return -1;
	}
	return 0;
}

static int opt_crittime(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (parse_seconds(arg, &o->crit_time_ms) != 0) {
		snprintf(err, errlen, "bad --crit-time '%s': want seconds, 0 < N <= 3600", arg);
		return -1;
	}
	return 0;
}

static int opt_auth(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (arg[0] == '\0' || strlen(arg) > 255) {
		snprintf(err, errlen, "bad --auth '%.60s': want a user name", arg);
		return -1;
	}
	o->auth_user = arg;
	return 0;
}

static int opt_pwfile(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (check_readable("password file", arg, false, err, errlen) != 0)
		return -1;
	o->password_file = arg;
	return 0;
}

static int opt_authmech(struct options *o, const char *arg, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	o->auth_mech = arg;          /* checked after the loop (cli_check_tests) */
	return 0;
}

static int opt_from(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (strlen(arg) > 254 || strpbrk(arg, "<> \r\n") != NULL) {
		snprintf(err, errlen, "bad --from '%.60s': want an address (or \"\" for <>)", arg);
		return -1;
	}
	o->mail_from = arg;
	return 0;
}

static int opt_rcpt(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (o->nrcpt == OPT_MAX_RCPT) {
		snprintf(err, errlen, "too many --rcpt options (at most %d)", OPT_MAX_RCPT);
		return -1;
	}
	if (arg[0] == '\0' || strlen(arg) > 254 ||
	    strpbrk(arg, "<> \r\n") != NULL || strchr(arg, '@') == NULL) {
		snprintf(err, errlen, "bad --rcpt '%.60s': want user@domain", arg);
		return -1;
	}
	o->rcpt[o->nrcpt++] = arg;
	return 0;
}

static int opt_serve(struct options *o, const char *arg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	if (serve_addr_parse(arg, &ss, &sslen, err, errlen) != 0)
		return -1;
	o->serve = arg;
	return 0;
}

static int opt_serveallownet(struct options *o, const char *arg, char *err, size_t errlen)
{
	struct serve_net net;

	if (o->nserve_allow_net == OPT_MAX_ALLOW) {
		snprintf(err, errlen, "too many --serve-allow-net options (at most %d)",
		         OPT_MAX_ALLOW);
		return -1;
	}
	if (serve_net_parse(arg, &net, err, errlen) != 0)
		return -1;
	o->serve_allow_net[o->nserve_allow_net++] = arg;
	return 0;
}

static int opt_servemodule(struct options *o, const char *arg, char *err, size_t errlen)
{
	o->serve_modules = true;
	return serve_module_add(o, arg, err, errlen);
}

static int opt_serveconfig(struct options *o, const char *arg, char *err, size_t errlen)
{
	o->serve_modules = true;
	return serve_module_load(o, arg, err, errlen);
}

static int opt_serveallow(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (o->nserve_allow == OPT_MAX_ALLOW) {
		snprintf(err, errlen, "too many --serve-allow options (at most %d)", OPT_MAX_ALLOW);
		return -1;
	}
	if (serve_pattern_check(arg, err, errlen) != 0)
		return -1;
	o->serve_allow[o->nserve_allow++] = arg;
	return 0;
}

static int opt_helo(struct options *o, const char *arg, char *err, size_t errlen)
{
	struct target t;
	char e2[128];

	if (target_parse(arg, &t, e2, sizeof(e2)) != 0 || t.port || t.mode_set ||
	    t.mail_domain || strlen(arg) >= sizeof(o->helo)) {
		snprintf(err, errlen, "bad --helo '%s': want a host name", arg);
		return -1;
	}
	snprintf(o->helo, sizeof(o->helo), "%s", arg);
	return 0;
}

static int opt_servername(struct options *o, const char *arg, char *err, size_t errlen)
{
	struct target t;
	char why[200];

	if (arg[0] == '\0' || strlen(arg) > 253 || strpbrk(arg, " /\\@:") != NULL) {
		snprintf(err, errlen, "bad --servername '%s': want a host name", arg);
		return -1;
	}
	o->servername = arg;
	/* An international name goes out as its A-labels (SNI, certificates). */
	for (const char *p = arg; *p; p++)
		if ((unsigned char)*p >= 0x80) {
			if (target_parse(arg, &t, why, sizeof(why)) != 0 || t.literal) {
				snprintf(err, errlen, "bad --servername: %s", why);
				return -1;
			}
			snprintf(o->servername_buf, sizeof(o->servername_buf), "%s", t.host);
			o->servername = o->servername_buf;
			break;
		}
	return 0;
}

static int opt_cafile(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (check_readable("CA file", arg, false, err, errlen) != 0)
		return -1;
	o->cafile = arg;
	return 0;
}

static int opt_capath(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (check_readable("CA directory", arg, true, err, errlen) != 0)
		return -1;
	o->capath = arg;
	return 0;
}

static int opt_pin(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (o->npins == OPT_MAX_PINS) {
		snprintf(err, errlen, "too many --pin options (at most %d)", OPT_MAX_PINS);
		return -1;
	}
	if (cert_pin_parse(arg, o->pins[o->npins]) != 0) {
		snprintf(err, errlen, "bad --pin '%.80s': want sha256//BASE64 "
		         "(44 characters of base64)", arg);
		return -1;
	}
	o->npins++;
	return 0;
}

static int opt_resolver(struct options *o, const char *arg, char *err, size_t errlen)
{
	return add_resolver(o, arg, err, errlen);
}

static int opt_timeout(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (parse_seconds(arg, &o->timeout_ms) != 0) {
		snprintf(err, errlen, "bad --timeout '%s': want seconds, 0 < N <= 3600", arg);
		return -1;
	}
	return 0;
}

static int opt_ctimeout(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (parse_seconds(arg, &o->connect_timeout_ms) != 0) {
		snprintf(err, errlen, "bad --connect-timeout '%s': want seconds, 0 < N <= 3600", arg);
		return -1;
	}
	return 0;
}

static int opt_output(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (strcmp(arg, "text") == 0)
		o->output = OUT_TEXT;
	else if (strcmp(arg, "json") == 0)
		o->output = OUT_JSON;
	else if (strcmp(arg, "nagios") == 0)
		o->output = OUT_NAGIOS;
	else if (strcmp(arg, "prometheus") == 0)
		o->output = OUT_PROMETHEUS;
	else if (strcmp(arg, "html") == 0)
		o->output = OUT_HTML;
	else {
		snprintf(err, errlen, "bad --output '%s': want text, json, nagios, prometheus "
		         "or html", arg);
		return -1;
	}
	return 0;
}

static int opt_json(struct options *o, const char *arg, char *err, size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	o->output = OUT_JSON;
	return 0;
}

static int days(const char *name, const char *arg, int *out, char *err, size_t errlen)
{
	unsigned long long v;

	if (parse_uint(arg, 100000, &v) != 0) {
		snprintf(err, errlen, "bad --%s '%s': want a number of days", name, arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int opt_warndays(struct options *o, const char *arg, char *err, size_t errlen)
{
	return days("warn-days", arg, &o->warn_days, err, errlen);
}

static int opt_critdays(struct options *o, const char *arg, char *err, size_t errlen)
{
	return days("crit-days", arg, &o->crit_days, err, errlen);
}

static int opt_reserve(struct options *o, const char *arg, char *err, size_t errlen)
{
	unsigned long long v;

	if (parse_uint(arg, 1ULL << 40, &v) != 0) {
		snprintf(err, errlen, "bad --size-reserve '%s': want bytes", arg);
		return -1;
	}
	o->size_reserve = v;
	return 0;
}

static int opt_color(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (strcmp(arg, "auto") == 0)
		o->color = COLOR_AUTO;
	else if (strcmp(arg, "always") == 0)
		o->color = COLOR_ALWAYS;
	else if (strcmp(arg, "never") == 0)
		o->color = COLOR_NEVER;
	else {
		snprintf(err, errlen, "bad --color '%s': want auto, always or never", arg);
		return -1;
	}
	return 0;
}

static int opt_help(struct options *o, const char *arg, char *err, size_t errlen)
{
	(void)o;
	(void)arg;
	(void)err;
	(void)errlen;
	cli_usage(stdout);
	return CLI_STOP;
}

static int opt_version(struct options *o, const char *arg, char *err, size_t errlen)
{
	(void)o;
	(void)arg;
	(void)err;
	(void)errlen;
	printf("smtp-probe %s (%s, %s, %s loop)\n", SP_VERSION, tlsio_version(), dns_version(),
	       loop_backend());
	return CLI_STOP;
}

/* A mail address for --setup: local@domain, printable ASCII without
 * spaces, quotes or shell signs (it goes into configuration snippets), the
 * domain a host name with a dot. */
static int opt_setup(struct options *o, const char *arg, char *err, size_t errlen)
{
	const char *at = strrchr(arg, '@');
	struct target t;
	char e2[200];
	bool ok = at != NULL && at != arg && strlen(arg) <= 254 && strchr(arg, '@') == at;

	/* An international domain: the assistant works with its A-labels, what
	 * DNS, certificates and the snippets need. A non-ASCII local part
	 * needs SMTPUTF8 end to end, which the snippets cannot promise. */
	for (const char *c = arg; ok && *c; c++)
		if ((unsigned char)*c >= 0x80) {
			if (c < at) {
				snprintf(err, errlen, "bad --setup '%.80s': the local part is not ASCII; "
				         "such an address needs SMTPUTF8 (RFC 6531) on every server and in "
				         "the client, which the configuration snippets cannot promise", arg);
				return -1;
			}
			if (target_parse(at + 1, &t, e2, sizeof(e2)) != 0) {
				snprintf(err, errlen, "bad --setup '%.80s': %s", arg, e2);
				return -1;
			}
			snprintf(o->setup_buf, sizeof(o->setup_buf), "%.*s@%s", (int)(at - arg), arg,
			         t.host);
			arg = o->setup_buf;
			at = strrchr(arg, '@');
			ok = strlen(arg) <= 254;
			break;
		}
	for (const char *c = arg; ok && *c; c++)
		if (*c <= ' ' || *c > '~' || strchr("\"'\\$`#;&|<>(){}*?!,", *c) != NULL)
			ok = false;
	if (ok && (target_parse(at + 1, &t, e2, sizeof(e2)) != 0 || t.literal || t.port ||
	           t.mode_set || strchr(at + 1, '.') == NULL))
		ok = false;
	if (!ok) {
		snprintf(err, errlen, "bad --setup '%.80s': want a mail address (user@domain)", arg);
		return -1;
	}
	o->setup = arg;
	return 0;
}

static int opt_config(struct options *o, const char *arg, char *err, size_t errlen)
{
	int bits = setup_config_parse(arg);

	if (bits < 0) {
		snprintf(err, errlen, "bad --config '%.60s': want curl, postfix, msmtp "
		         "(comma-separated)", arg);
		return -1;
	}
	o->setup_configs = (unsigned)bits;
	return 0;
}

/* ---- The option table: the parser, --help and the documentation check
 * (tests/unit/test_cli.c: every row is in --help, doc/smtp-probe.1 and both
 * completions/) all read it, so they cannot drift apart.
 *
 * To add an option:
 *   1. add its field to struct options (include/options.h);
 *   2. write a handler above (opt_NAME: check the argument, name the option
 *      in the error, store it; 0 or -1) — a plain flag is one FLAG_HANDLER line;
 *   3. add one row below, in the place --help should show it: long name
 *      (without "--"), short letter or 0, the argument's name in --help
 *      (NULL for a flag), handler, help group, help text ('\n' continues
 *      the text on an indented line);
 *   4. checks that combine options go after the getopt loop in cli_parse
 *      (or cli_check_tests);
 *   5. document it in doc/smtp-probe.1, completions/smtp-probe.bash,
 *      completions/_smtp-probe (and docs/usage.md): `make test` fails until
 *      all three name it.
 * Rows of one group print in table order. */
const struct cli_opt cli_opts[] = {
	/* Connection */
	{ "port", 'p', "N", opt_port, CLI_G_CONN,
	  "port (default 25; smtps:// 465, submission:// 587)" },
	{ "starttls", 0, NULL, opt_starttls, CLI_G_CONN,
	  "TLS via STARTTLS; its absence is critical\n"
	  "(default: STARTTLS when offered, implicit on 465)" },
	{ "implicit-tls", 0, NULL, opt_implicit, CLI_G_CONN,
	  "TLS from the first byte (SMTPS)" },
	{ "no-tls", 0, NULL, opt_notls, CLI_G_CONN,
	  "never start TLS" },
	{ "ipv4", '4', NULL, opt_ipv4, CLI_G_CONN,
	  "IPv4 addresses only (default: both, Happy Eyeballs)" },
	{ "ipv6", '6', NULL, opt_ipv6, CLI_G_CONN,
	  "IPv6 addresses only" },
	{ "mx", 0, NULL, opt_mx, CLI_G_CONN,
	  "look up the domain's MX hosts and probe each" },
	{ "all-addresses", 0, NULL, opt_alladdr, CLI_G_CONN,
	  "probe every address of the host (with --mx: of every\n"
	  "MX host), each reported on its own (default: the first\n"
	  "that answers)" },
	{ "helo", 0, "NAME", opt_helo, CLI_G_CONN,
	  "name sent in EHLO/HELO (default: this host's FQDN)" },
	{ "resolver", 0, "IP[:PORT]", opt_resolver, CLI_G_CONN,
	  "DNS server to ask, repeatable (default: resolv.conf)" },
	{ "timeout", 0, "SECONDS", opt_timeout, CLI_G_CONN,
	  "per step (default 10)" },
	{ "connect-timeout", 0, "SECONDS", opt_ctimeout, CLI_G_CONN,
	  "TCP connection (default: --timeout)" },
	{ "bind", 0, "ADDR", opt_bind, CLI_G_CONN,
	  "connect from this local address (IPv4 or IPv6)" },
	{ "proxy", 0, "URL", opt_proxy, CLI_G_CONN,
	  "connect through a SOCKS5 proxy: socks5://ADDR:PORT\n"
	  "(e.g. ssh -D 1080: socks5://127.0.0.1:1080)" },
	/* Batch */
	{ "targets", 'f', "FILE", opt_targets, CLI_G_BATCH,
	  "targets one per line ('-' = stdin; # comments);\n"
	  "JSON Lines with -o json, a table with -o text" },
	{ "concurrency", 'c', "N", opt_concurrency, CLI_G_BATCH,
	  "probes in flight at once (default 64 with -f, else 16)" },
	{ "per-host", 0, "N", opt_perhost, CLI_G_BATCH,
	  "probes at once to one host (batch; default 1)" },
	{ "rate", 0, "N", opt_rate, CLI_G_BATCH,
	  "new probes per second (default: no limit)" },
	{ "shard", 0, "K/N", opt_shard, CLI_G_BATCH,
	  "probe only share K of N of the targets (by a hash of\n"
	  "each target's host; N runs together probe each once)" },
	{ "deadline", 0, "SECONDS", opt_deadline, CLI_G_BATCH,
	  "whole-probe deadline (default 60)" },
	/* TLS and certificates */
	{ "servername", 0, "NAME", opt_servername, CLI_G_TLS,
	  "SNI and name to verify (default: the host probed)" },
	{ "showcerts", 0, NULL, opt_showcerts, CLI_G_TLS,
	  "the presented certificates as PEM too (text and JSON),\n"
	  "like openssl s_client -showcerts" },
	{ "no-sni", 0, NULL, opt_nosni, CLI_G_TLS,
	  "send no SNI (the name is still verified)" },
	{ "tls-version", 0, "1.2|1.3", opt_tlsversion, CLI_G_TLS,
	  "offer only this TLS version" },
	{ "client-cert", 0, "FILE", opt_clientcert, CLI_G_TLS,
	  "client certificate (PEM) for servers that ask for one" },
	{ "client-key", 0, "FILE", opt_clientkey, CLI_G_TLS,
	  "its private key (PEM, unencrypted; default: in\n"
	  "--client-cert's file)" },
	{ "cafile", 0, "FILE", opt_cafile, CLI_G_TLS,
	  "trust anchors from a PEM file (default: system store)" },
	{ "capath", 0, "DIR", opt_capath, CLI_G_TLS,
	  "trust anchors from a directory (default: system store)" },
	{ "pin", 0, "sha256//BASE64", opt_pin, CLI_G_TLS,
	  "expected SPKI pin, repeatable" },
	{ "warn-days", 0, "N", opt_warndays, CLI_G_TLS,
	  "certificate expiry warning threshold (default 30)" },
	{ "crit-days", 0, "N", opt_critdays, CLI_G_TLS,
	  "certificate expiry critical threshold (default 7)" },
	{ "dane", 0, NULL, opt_dane, CLI_G_TLS,
	  "match the chain against the TLSA records (DANE,\n"
	  "RFC 7672; the resolver's AD bit is trusted)" },
	{ "mta-sts", 0, NULL, opt_mtasts, CLI_G_TLS,
	  "check the domain's MTA-STS policy (RFC 8461; fetched\n"
	  "over HTTPS) and report its TLS-RPT record" },
	{ "tls-versions", 0, NULL, opt_tlsversions, CLI_G_TLS,
	  "also try TLS 1.2 and 1.3 alone and detect TLS 1.0/1.1\n"
	  "(four extra connections)" },
	{ "starttls-injection", 0, NULL, opt_injection, CLI_G_TLS,
	  "test the STARTTLS command-injection flaw\n"
	  "(CVE-2011-0411; one extra connection)" },
	{ "check-tls-required", 0, NULL, opt_chktls, CLI_G_TLS,
	  "send MAIL FROM:<> before STARTTLS (then RSET) to\n"
	  "see whether the server insists on TLS" },
	/* Credentials and envelope */
	{ "auth", 0, "USER", opt_auth, CLI_G_AUTH,
	  "test a login; password from $SMTP_PROBE_PASSWORD or\n"
	  "--password-file FILE (first line); never shown" },
	{ "password-file", 0, "FILE", opt_pwfile, CLI_G_AUTH,
	  "read the --auth password from FILE's first line" },
	{ "auth-mech", 0, "NAME", opt_authmech, CLI_G_AUTH,
	  "SCRAM-SHA-256, CRAM-MD5, PLAIN or LOGIN (default: the\n"
	  "strongest offered)" },
	{ "allow-plaintext-auth", 0, NULL, opt_plainauth, CLI_G_AUTH,
	  "also log in without TLS (default: refuse)" },
	{ "from", 0, "ADDR", opt_from, CLI_G_AUTH,
	  "test MAIL FROM:<ADDR> (\"\" for <>), then RSET" },
	{ "rcpt", 0, "ADDR", opt_rcpt, CLI_G_AUTH,
	  "test RCPT TO:<ADDR> after --from, repeatable" },
	{ "size-check", 0, NULL, opt_sizecheck, CLI_G_AUTH,
	  "verify the size limit: MAIL FROM ... SIZE=N at the\n"
	  "limit and one byte over (bisection without SIZE, at\n"
	  "most 12 MAIL/RSET pairs, after --auth); never DATA" },
	/* Relay setup assistant */
	{ "setup", 0, "ADDRESS", opt_setup, CLI_G_SETUP,
	  "find the submission server for ADDRESS (SRV,\n"
	  "autoconfig, guesses, MX), probe each candidate\n"
	  "lightly, recommend one, print configuration snippets;\n"
	  "with --auth, prove the login on it" },
	{ "config", 0, "LIST", opt_config, CLI_G_SETUP,
	  "only these snippets: curl,postfix,msmtp (default all)" },
	/* Output */
	{ "output", 'o', "FORMAT", opt_output, CLI_G_OUTPUT,
	  "text (default) | json | nagios | prometheus | html" },
	{ "json", 0, NULL, opt_json, CLI_G_OUTPUT,
	  "same as -o json" },
	{ "transcript", 'v', NULL, opt_transcript, CLI_G_OUTPUT,
	  "the SMTP dialogue, timestamped" },
	{ "explain", 0, NULL, opt_explain, CLI_G_OUTPUT,
	  "the dialogue explained line by line" },
	{ "size-reserve", 0, "N", opt_reserve, CLI_G_OUTPUT,
	  "bytes kept for headers in the attachment limit (4096)" },
	{ "color", 0, "WHEN", opt_color, CLI_G_OUTPUT,
	  "auto | always | never" },
	/* Monitoring plugin conventions (check_smtp, check_ssl_cert) */
	{ "host", 'H', "HOST", opt_H, CLI_G_MON,
	  "a target, as monitoring plugins take it (repeatable;\n"
	  "same as a TARGET argument)" },
	{ "time-limit", 't', "SECONDS", opt_t, CLI_G_MON,
	  "whole-probe deadline (same as --deadline)" },
	{ "warn-time", 0, "SECONDS", opt_warntime, CLI_G_MON,
	  "WARNING (probe-slow) when the whole probe takes\n"
	  "longer; also the threshold of the time perfdata" },
	{ "crit-time", 0, "SECONDS", opt_crittime, CLI_G_MON,
	  "CRITICAL (probe-slow) when the whole probe takes longer" },
	{ "perfdata-plain", 0, NULL, opt_perfplain, CLI_G_MON,
	  "-o nagios: perfdata thresholds as plain numbers\n"
	  "(cert_days_left=364;30;7) for Icinga 2, which drops\n"
	  "ranges; the exit status is the same" },
	/* Exporter */
	{ "serve", 0, "ADDR:PORT", opt_serve, CLI_G_SERVE,
	  "answer GET /probe?target=HOST[:PORT] and /metrics over\n"
	  "HTTP instead of probing targets; IP:PORT, [IPv6]:PORT,\n"
	  "or :PORT for 127.0.0.1; -c probes at once" },
	{ "serve-allow", 0, "PATTERN", opt_serveallow, CLI_G_SERVE,
	  "targets the exporter may probe, repeatable: a host\n"
	  "glob with an optional :PORT glob ('*.example.org:25');\n"
	  "without one every /probe is refused (403); address\n"
	  "patterns match only IP literals, name patterns only names" },
	{ "serve-allow-net", 0, "CIDR", opt_serveallownet, CLI_G_SERVE,
	  "networks the exporter may connect to, repeatable\n"
	  "('192.0.2.0/24'): checked on every resolved address\n"
	  "before connecting" },
	{ "serve-module", 0, "NAME:OPTIONS", opt_servemodule, CLI_G_SERVE,
	  "a module for /probe?module=NAME: probe options on top\n"
	  "of the exporter's ('tls:--implicit-tls -p 465'),\n"
	  "repeatable" },
	{ "serve-config", 0, "FILE", opt_serveconfig, CLI_G_SERVE,
	  "modules from a file, one 'NAME: OPTIONS' per line" },
	/* Information */
	{ "help", 'h', NULL, opt_help, CLI_G_INFO,
	  "this help" },
	{ "version", 'V', NULL, opt_version, CLI_G_INFO,
	  "versions of smtp-probe, mbedTLS and c-ares" },
};
const size_t cli_nopts = sizeof(cli_opts) / sizeof(cli_opts[0]);

static const char *const group_title[CLI_G_COUNT] = {
	[CLI_G_CONN] = "Connection:",
	[CLI_G_BATCH] = "Batch:",
	[CLI_G_TLS] = "TLS and certificates:",
	[CLI_G_AUTH] = "Credentials and envelope (no mail is ever sent):",
	[CLI_G_SETUP] = "Relay setup assistant (no mail is ever sent):",
	[CLI_G_OUTPUT] = "Output:",
	[CLI_G_MON] = "Monitoring plugin (Nagios, Icinga; -o nagios):",
	[CLI_G_SERVE] = "Exporter (Prometheus, like blackbox_exporter):",
	[CLI_G_INFO] = "Information:",
};

#define HELP_COL 26      /* where the help text starts */

static void usage_row(FILE *f, const struct cli_opt *r)
{
	char syn[80];
	const char *p, *nl;
	int n;

	if (r->short_name != 0)
		n = snprintf(syn, sizeof(syn), "  -%c, --%s%s%s", r->short_name, r->name,
		             r->arg ? " " : "", r->arg ? r->arg : "");
	else
		n = snprintf(syn, sizeof(syn), "      --%s%s%s", r->name,
		             r->arg ? " " : "", r->arg ? r->arg : "");
	if (n < HELP_COL - 2)
		fprintf(f, "%-*s", HELP_COL, syn);
	else
		fprintf(f, "%s  ", syn);
	for (p = r->help; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		fprintf(f, "%.*s\n%*s", (int)(nl - p), p, HELP_COL, "");
	fprintf(f, "%s\n", p);
}

void cli_usage(FILE *f)
{
	size_t i;
	int g;

	fputs("usage: smtp-probe [OPTIONS] TARGET...\n"
	      "Ask an SMTP server what it offers, without ever sending mail.\n"
	      "\n"
	      "TARGET   host | host:port | [v6addr]:port | smtp://host[:port]\n"
	      "         | smtps://host[:port] | submission://host[:port]\n"
	      "         | user@domain or domain (with --mx)\n", f);
	for (g = 0; g < CLI_G_COUNT; g++) {
		fprintf(f, "\n%s\n", group_title[g]);
		for (i = 0; i < cli_nopts; i++)
			if ((int)cli_opts[i].group == g)
				usage_row(f, &cli_opts[i]);
	}
	fputs("\nExit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad usage).\n", f);
}

/* getopt_long's tables, built from cli_opts once per parse. A long option
 * returns CLI_LONG + its row; a short one its letter. */
#define CLI_LONG 1000

static const struct cli_opt *row_of(int c)
{
	size_t i;

	if (c >= CLI_LONG && (size_t)(c - CLI_LONG) < cli_nopts)
		return &cli_opts[c - CLI_LONG];
	for (i = 0; i < cli_nopts; i++)
		if (cli_opts[i].short_name != 0 && cli_opts[i].short_name == c)
			return &cli_opts[i];
	return NULL;
}

static void getopt_tables(struct option *lo, char *shortopts, size_t shortlen)
{
	size_t i, n = 0;

	shortopts[n++] = ':';        /* ':' for a missing value, not '?' */
	for (i = 0; i < cli_nopts; i++) {
		lo[i].name = cli_opts[i].name;
		lo[i].has_arg = cli_opts[i].arg ? required_argument : no_argument;
		lo[i].flag = NULL;
		lo[i].val = CLI_LONG + (int)i;
		if (cli_opts[i].short_name != 0 && n + 3 < shortlen) {
			shortopts[n++] = cli_opts[i].short_name;
			if (cli_opts[i].arg)
				shortopts[n++] = ':';
		}
	}
	memset(&lo[cli_nopts], 0, sizeof(lo[0]));
	shortopts[n] = '\0';
}

/* Combinations of the checks that cost commands or connections. The
 * password is read here, once and bounded, so a missing one is bad usage
 * (exit 3) and a FIFO or <(pass show x) works: reading such a file a
 * second time at AUTH would block or find it empty. */
static int cli_check_tests(struct options *o, char *err, size_t errlen)
{
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
	if (o->client_key != NULL && o->client_cert == NULL) {
		snprintf(err, errlen, "--client-key needs --client-cert");
		return -1;
	}
	if (o->size_check && o->mx) {
		/* An MX refuses nothing by size from us that it would not refuse
		 * from anyone: per host, not per domain. */
		snprintf(err, errlen, "--size-check probes one server: give the host, not --mx");
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
		o->password = xcalloc(1, AUTH_MAX_SECRET);
		if (auth_password_load(o->password_file, o->password, AUTH_MAX_SECRET,
		                       err, errlen) != 0) {
			cli_free(o);
			return -1;
		}
	}
	return 0;
}

void cli_free(struct options *o)
{
	if (o->password != NULL) {
		auth_wipe(o->password, AUTH_MAX_SECRET);
		free(o->password);
		o->password = NULL;
	}
}

enum cli_rc cli_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	struct option lo[sizeof(cli_opts) / sizeof(cli_opts[0]) + 1];
	char shortopts[2 * sizeof(cli_opts) / sizeof(cli_opts[0]) + 2];
	const struct cli_opt *r;
	int c, i, rc;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = 10000;
	o->warn_days = 30;
	o->crit_days = 7;
	o->size_reserve = 4096;
	o->concurrency = 0;          /* defaulted below */
	o->per_host = 1;
	o->deadline_ms = 60000;
	getopt_tables(lo, shortopts, sizeof(shortopts));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		if (c == ':') {
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return CLI_ERROR;
		}
		r = row_of(c);
		if (r == NULL) {
			snprintf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
			return CLI_ERROR;
		}
		rc = r->handler(o, r->arg ? optarg : NULL, err, errlen);
		if (rc == CLI_STOP)
			return CLI_EXIT_OK;
		if (rc != 0)
			return CLI_ERROR;
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
	if (o->shard_n > 0 && o->targets_file == NULL) {
		snprintf(err, errlen, "--shard needs -f: it splits a target list between runs");
		return CLI_ERROR;
	}
	if (o->targets_file && (o->output == OUT_NAGIOS || o->output == OUT_PROMETHEUS)) {
		snprintf(err, errlen, "-f works with -o text or json (JSON Lines)");
		return CLI_ERROR;
	}
	if (o->warn_time_ms > 0 && o->crit_time_ms > 0 && o->warn_time_ms > o->crit_time_ms) {
		snprintf(err, errlen, "--warn-time %g is above --crit-time %g",
		         o->warn_time_ms / 1000.0, o->crit_time_ms / 1000.0);
		return CLI_ERROR;
	}
	if (o->output == OUT_HTML && (o->targets_file != NULL ||
	                              argc - optind + (int)o->nhtargets > 1)) {
		snprintf(err, errlen, "-o html makes one page for one target (a host, or a "
		         "domain with --mx)");
		return CLI_ERROR;
	}
	if (o->mx && o->output == OUT_PROMETHEUS) {
		snprintf(err, errlen, "--mx works with -o text, json, html or nagios (for Prometheus, "
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
		const char *bad = optind < argc ? "a target" : o->nhtargets ? "-H" :
		                  o->targets_file ? "-f" :
		                  o->mx ? "--mx" : o->port ? "--port" : o->mode_set ? "TLS mode option" :
		                  o->servername ? "--servername" : o->npins ? "--pin" :
		                  o->mail_from ? "--from" : o->dane ? "--dane" :
		                  o->mta_sts ? "--mta-sts" : o->tls_versions ? "--tls-versions" :
		                  o->starttls_injection ? "--starttls-injection" :
		                  o->check_tls_required ? "--check-tls-required" :
		                  o->serve ? "--serve" : o->output == OUT_NAGIOS ? "-o nagios" :
		                  o->output == OUT_PROMETHEUS ? "-o prometheus" : NULL;

		if (bad != NULL) {
			snprintf(err, errlen, "--setup takes no %s: it discovers the server itself",
			         bad);
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
		return cli_check_tests(o, err, errlen) == 0 ? CLI_OK : CLI_ERROR;
	}
	if (o->nserve_allow > 0 || o->nserve_allow_net > 0 || o->serve_modules) {
		snprintf(err, errlen, "%s needs --serve",
		         o->nserve_allow > 0 ? "--serve-allow" : o->nserve_allow_net > 0 ?
		         "--serve-allow-net" : "--serve-module/--serve-config");
		return CLI_ERROR;
	}
	if (cli_check_tests(o, err, errlen) != 0)
		return CLI_ERROR;
	if (optind >= argc && o->targets_file == NULL && o->nhtargets == 0) {
		/* Run bare, the tool says how it is used, not only what is missing. */
		snprintf(err, errlen, "no target given");
		return CLI_ERROR_USAGE;
	}
	o->targets = argv + optind;
	o->ntargets = (size_t)(argc - optind);
	if (o->nhtargets > 0) {
		/* -H targets first, then the arguments, in one array. */
		if (o->nhtargets + o->ntargets > OPT_MAX_H) {
			snprintf(err, errlen, "-H with more than %d targets in all: give them as "
			         "arguments", OPT_MAX_H);
			return CLI_ERROR;
		}
		for (i = 0; i < (int)o->ntargets; i++)
			o->htargets[o->nhtargets + (size_t)i] = o->targets[i];
		o->targets = o->htargets;
		o->ntargets += o->nhtargets;
	}
	for (i = 0; i < (int)o->ntargets; i++) {
		struct target t;
		char e2[200];

		if (target_parse(o->targets[i], &t, e2, sizeof(e2)) != 0) {
			snprintf(err, errlen, "bad target: %s", e2);
			return CLI_ERROR;
		}
		/* One page holds one probe or one domain: a host's addresses
		 * would be pages of their own. */
		if (o->all_addresses && !o->mx && !t.mail_domain && !t.literal &&
		    o->output == OUT_HTML) {
			snprintf(err, errlen, "-o html shows one probe or one domain: --all-addresses "
			         "on the host '%s' works with -o text, json, nagios or prometheus",
			         o->targets[i]);
			return CLI_ERROR;
		}
		if ((o->mx || t.mail_domain) && (t.literal || t.mode_set)) {
			snprintf(err, errlen, "bad target '%s' for --mx: want a mail domain",
			         o->targets[i]);
			return CLI_ERROR;
		}
		if (o->port && t.port_given && t.port != o->port) {
			snprintf(err, errlen, "-p %u conflicts with port %u in '%s': give one",
			         (unsigned)o->port, (unsigned)t.port, o->targets[i]);
			return CLI_ERROR;
		}
		if ((o->mx || t.mail_domain) && o->output == OUT_NAGIOS && o->ntargets > 1) {
			snprintf(err, errlen, "-o nagios checks one mail domain at a time ('%s')",
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
