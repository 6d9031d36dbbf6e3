/* Unit tests for the option table (probe/cli.c): every row is shown by
 * --help and documented in doc/smtp-probe.1 and both completions/, so the
 * parser, the help and the docs cannot drift apart; every row parses (a
 * value is required exactly when the row names one); the two options that
 * --help used to omit (--dane, --mta-sts) set their fields.
 * Reads the docs relative to the top of the tree (tests/run.sh runs it there). */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include "t.h"
#include "options.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	buf[fread(buf, 1, (size_t)n, f)] = '\0';
	fclose(f);
	return buf;
}

/* roff's "\-" is a plain '-' for this purpose. */
static void unescape_roff(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == '-')
			s++;
		*w++ = *s;
	}
	*w = '\0';
}

static int word_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* opt ("--port", "-p") occurs in text as a whole word. */
static int has_opt(const char *text, const char *opt)
{
	const char *p = text;
	size_t n = strlen(opt);

	while (text != NULL && (p = strstr(p, opt)) != NULL) {
		if ((p == text || !word_char(p[-1])) && !word_char(p[n]))
			return 1;
		p++;
	}
	return 0;
}

static char *help_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	cli_usage(f);
	fclose(f);
	return buf;
}

static void check_docs(void)
{
	char *help = help_text(), *man = slurp("doc/smtp-probe.1");
	char *bash = slurp("completions/smtp-probe.bash"), *zsh = slurp("completions/_smtp-probe");
	char name[80], opt[64];
	size_t i;

	T_CHECK("docs: files-readable", help && man && bash && zsh);
	if (man)
		unescape_roff(man);
	T_CHECK("table: has-rows", cli_nopts >= 40);
	for (i = 0; i < cli_nopts; i++) {
		const struct cli_opt *r = &cli_opts[i];
		int k;

		for (k = 0; k < 2; k++) {
			if (k == 0)
				snprintf(opt, sizeof(opt), "--%s", r->name);
			else if (r->short_name != 0)
				snprintf(opt, sizeof(opt), "-%c", r->short_name);
			else
				break;
			snprintf(name, sizeof(name), "help-shows %s", opt);
			T_CHECK(name, has_opt(help, opt));
			snprintf(name, sizeof(name), "man-page-documents %s", opt);
			T_CHECK(name, has_opt(man, opt));
			snprintf(name, sizeof(name), "bash-completion-has %s", opt);
			T_CHECK(name, has_opt(bash, opt));
			snprintf(name, sizeof(name), "zsh-completion-has %s", opt);
			T_CHECK(name, has_opt(zsh, opt));
		}
		snprintf(name, sizeof(name), "row-complete --%s", r->name);
		T_CHECK(name, r->handler != NULL && r->help != NULL && r->help[0] != '\0' &&
		        r->group < CLI_G_COUNT);
	}
	free(help);
	free(man);
	free(bash);
	free(zsh);
}

static void check_unique(void)
{
	size_t i, j;
	int dup = 0;

	for (i = 0; i < cli_nopts; i++)
		for (j = i + 1; j < cli_nopts; j++)
			if (strcmp(cli_opts[i].name, cli_opts[j].name) == 0 ||
			    (cli_opts[i].short_name != 0 &&
			     cli_opts[i].short_name == cli_opts[j].short_name)) {
				printf("# duplicate option: --%s / --%s\n", cli_opts[i].name,
				       cli_opts[j].name);
				dup = 1;
			}
	T_CHECK("table: names-unique", !dup);
}

static enum cli_rc parse(struct options *o, char *err, size_t errlen, int argc, ...)
{
	char *argv[16];
	va_list ap;
	int i;

	va_start(ap, argc);
	argv[0] = (char *)"smtp-probe";
	for (i = 1; i < argc && i < 15; i++)
		argv[i] = va_arg(ap, char *);
	argv[i] = NULL;
	va_end(ap);
	err[0] = '\0';
	return cli_parse(argc, argv, o, err, errlen);
}

/* A row with an argument refuses to go without one, naming the option. */
static void check_values(void)
{
	struct options o;
	char err[512], name[80], opt[64], want[96];
	size_t i;

	for (i = 0; i < cli_nopts; i++) {
		if (cli_opts[i].arg == NULL)
			continue;
		snprintf(opt, sizeof(opt), "--%s", cli_opts[i].name);
		snprintf(want, sizeof(want), "option '%s' needs a value", opt);
		snprintf(name, sizeof(name), "needs-value %s", opt);
		T_CHECK(name, parse(&o, err, sizeof(err), 2, opt) == CLI_ERROR &&
		        strcmp(err, want) == 0);
	}
	T_CHECK("needs-value -p", parse(&o, err, sizeof(err), 2, "-p") == CLI_ERROR &&
	        strcmp(err, "option '-p' needs a value") == 0);
	T_CHECK("flag-takes-no-value --dane",
	        parse(&o, err, sizeof(err), 3, "--dane=yes", "h") == CLI_ERROR &&
	        strstr(err, "--dane=yes") != NULL);
	T_CHECK("unknown-option", parse(&o, err, sizeof(err), 3, "--bogus", "h") == CLI_ERROR &&
	        strcmp(err, "unknown option '--bogus' (see --help)") == 0);
}

static void check_parse(void)
{
	struct options o;
	char err[512];

	T_CHECK("parse: dane-mta-sts",
	        parse(&o, err, sizeof(err), 4, "--dane", "--mta-sts", "example.org") == CLI_OK &&
	        o.dane && o.mta_sts && !o.tls_versions && o.ntargets == 1);
	T_CHECK("parse: defaults", parse(&o, err, sizeof(err), 2, "h") == CLI_OK &&
	        o.timeout_ms == 10000 && o.connect_timeout_ms == 10000 && o.concurrency == 16 &&
	        o.warn_days == 30 && o.crit_days == 7 && o.per_host == 1 && o.port == 0);
	T_CHECK("parse: short-and-long",
	        parse(&o, err, sizeof(err), 6, "-p587", "-v", "--output=json", "-4", "h") ==
	        CLI_OK && o.port == 587 && o.transcript && o.output == OUT_JSON && o.only4);
	T_CHECK("parse: bad-port-names-it", parse(&o, err, sizeof(err), 3, "-p", "0") ==
	        CLI_ERROR && strcmp(err, "bad --port '0': want 1..65535") == 0);
	T_CHECK("parse: tls-modes-exclusive",
	        parse(&o, err, sizeof(err), 4, "--starttls", "--no-tls", "h") == CLI_ERROR &&
	        strstr(err, "exclude each other") != NULL);
}

int main(void)
{
	check_docs();
	check_unique();
	check_values();
	check_parse();
	T_DONE();
}
