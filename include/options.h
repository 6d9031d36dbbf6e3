/* Parsed command line: what the run was asked to do. Filled by cli.c,
 * read by everything else. */
#ifndef SP_OPTIONS_H
#define SP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "result.h"

enum output_fmt { OUT_TEXT = 0, OUT_JSON, OUT_NAGIOS, OUT_PROMETHEUS, OUT_HTML };
enum color_when { COLOR_AUTO = 0, COLOR_ALWAYS, COLOR_NEVER };

#define OPT_MAX_PINS 16

struct options {
	char **targets;                  /* borrowed from argv */
	size_t ntargets;
#define OPT_MAX_H 32
	char *htargets[OPT_MAX_H];       /* -H HOST (borrowed), then the arguments */
	size_t nhtargets;
	uint16_t port;                   /* 0: from target or default */
	bool mode_set;
	enum tls_mode mode;
	bool mx;                         /* --mx, or a user@domain target */
	bool all_addresses;
	size_t concurrency;              /* probes in flight at once */
	const char *targets_file;        /* -f FILE, "-" = stdin, NULL none */
	size_t per_host;                 /* connections at once to one host (batch) */
	double rate;                     /* new probes per second, 0 = unlimited */
	unsigned shard_k, shard_n;       /* --shard K/N: only shard K of 1..N; N 0 = all */
	double deadline_ms;              /* whole-probe deadline */
	/* Checks that cost extra commands or connections: only when asked. */
	bool dane, mta_sts, tls_versions, starttls_injection, check_tls_required;
	const char *auth_user;           /* --auth USER */
	const char *password_file;       /* --password-file FILE */
	char *password;                  /* owned: read once by cli_parse, wiped by cli_free */
	const char *auth_mech;           /* --auth-mech NAME, NULL = strongest offered */
	bool allow_plaintext_auth;
	const char *mail_from;           /* --from ADDR */
#define OPT_MAX_RCPT 16
	const char *rcpt[OPT_MAX_RCPT];  /* --rcpt ADDR, repeatable */
	size_t nrcpt;
	const char *serve;               /* --serve ADDR:PORT (exporter mode) */
#define OPT_MAX_ALLOW 32
	const char *serve_allow[OPT_MAX_ALLOW]; /* --serve-allow PATTERN */
	size_t nserve_allow;
	const char *serve_allow_net[OPT_MAX_ALLOW]; /* --serve-allow-net ADDRESS/PREFIX */
	size_t nserve_allow_net;
	bool serve_modules;              /* --serve-module / --serve-config given */
	bool only4, only6;
	char helo[256];                  /* "" until defaulted */
	const char *servername;          /* NULL: the host probed */
	char servername_buf[254];        /* --servername given as U-labels: its A-labels */
	const char *cafile, *capath;
	char pins[OPT_MAX_PINS][45];
	size_t npins;
	char resolvers[1024];            /* c-ares csv, "" = system */
	double timeout_ms, connect_timeout_ms;
	enum output_fmt output;
	bool transcript, explain;
	int warn_days, crit_days;
	double warn_time_ms, crit_time_ms; /* --warn-time/--crit-time, 0 = none */
	bool perfdata_plain;             /* --perfdata-plain */
	enum color_when color;
	uint64_t size_reserve;
	const char *setup;               /* --setup ADDRESS, NULL none */
	char setup_buf[320];             /* --setup with an international domain: its A-labels */
	unsigned setup_configs;          /* --config LIST (enum setup_config bits), 0 = all */
	bool size_check;                 /* --size-check */
	/* Connection controls (swaks / s_client habits). */
	const char *bind;                /* --bind ADDR: an IP literal */
	const char *proxy;               /* --proxy socks5://ADDR:PORT */
	uint16_t tls_version;            /* --tls-version: 0x0303 / 0x0304, 0 any */
	bool no_sni;                     /* --no-sni */
	bool showcerts;                  /* --showcerts: the presented chain as PEM */
	const char *client_cert, *client_key;   /* --client-cert / --client-key */
};

/* CLI_ERROR_USAGE: like CLI_ERROR, and the usage line follows the message. */
enum cli_rc { CLI_OK = 0, CLI_EXIT_OK, CLI_ERROR, CLI_ERROR_USAGE };

/* The option table (probe/cli.c, which says how to add an option): one row
 * per option; the parser, --help and the documentation test read it. */
enum cli_group { CLI_G_CONN, CLI_G_BATCH, CLI_G_TLS, CLI_G_AUTH, CLI_G_SETUP, CLI_G_OUTPUT,
                 CLI_G_MON, CLI_G_SERVE, CLI_G_INFO, CLI_G_COUNT };
/* Stores arg (NULL for a flag) in o: 0, -1 with a one-line message in err
 * naming the option, or 1 after output that ends the run (--help). */
typedef int cli_handler(struct options *o, const char *arg, char *err, size_t errlen);
struct cli_opt {
	const char *name;                /* long name, without "--" */
	char short_name;                 /* 'p' for -p; 0: none */
	const char *arg;                 /* its argument's name in --help; NULL: a flag */
	cli_handler *handler;
	enum cli_group group;            /* --help section */
	const char *help;                /* --help text; '\n' continues it indented */
};
extern const struct cli_opt cli_opts[];
extern const size_t cli_nopts;

/* Parses argv. CLI_EXIT_OK after --help/--version output; CLI_ERROR with a
 * one-line message in err naming the bad argument. */
enum cli_rc cli_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);
void cli_usage(FILE *f);
/* Wipes and frees what cli_parse allocated (the password). */
void cli_free(struct options *o);

#endif
