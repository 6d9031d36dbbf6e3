/* The relay setup assistant (--setup ADDRESS): discover the submission
 * server of a mail address as mail clients do (RFC 6186/8314 SRV, the
 * Thunderbird autoconfig document, guesses, the MX hosts), probe each
 * candidate lightly and in parallel, recommend one with its reasons and
 * write configuration snippets for it. The password never reaches any
 * snippet or output. */
#ifndef SP_SETUP_H
#define SP_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "result.h"
#include "probe.h"

#define SETUP_MAX_CANDIDATES 12       /* host:port pairs probed, at most */
#define SETUP_MAX_DISCOVERY  24       /* discovery lines kept */
#define SETUP_MAX_REASONS    8
#define SETUP_MAX_LOGINS     3        /* login attempts, one connection each */

/* Where a candidate came from, in precedence order. */
enum setup_source { SRC_SRV = 0, SRC_AUTOCONFIG, SRC_GUESS, SRC_MX };
const char *setup_source_name(enum setup_source s);   /* "srv", "autoconfig", ... */

/* One question asked during discovery and what it answered. */
struct setup_discovery {
	char source[16];                  /* "srv" | "autoconfig" | "guess" | "mx" */
	char name[320];                   /* the DNS name or URL asked */
	char answer[480];                 /* what it said, one line (network text, raw) */
};

struct setup_candidate {
	char host[254];
	uint16_t port;
	enum tls_mode mode;               /* implicit (465, _submissions, SSL) or starttls */
	enum setup_source source;
	char via[200];                    /* "SRV _submissions._tcp.example.org priority 0 weight 1" */
	char ac_auth[32];                 /* autoconfig's <authentication>, "" none */
	char ac_user[256];                /* autoconfig's <username>, substituted */
	bool ac_plain;                    /* autoconfig said socketType plain */
	struct result r;                  /* the light probe */
	struct result *login;             /* owned: the login connection (--auth), NULL none */
	/* verdict, from the probe */
	bool reachable, tls_ok, cert_valid, auth_offered;
	bool usable;                      /* reachable over TLS: may be recommended */
	char verdict[240];                /* one line: why (not) */
};

/* Config snippets asked for with --config (bit per kind). */
enum setup_config { SETUP_CFG_CURL = 1, SETUP_CFG_POSTFIX = 2, SETUP_CFG_MSMTP = 4,
                    SETUP_CFG_ALL = 7 };

struct setup_result {
	char *address;                    /* owned: as given */
	char *domain;                     /* owned */
	enum status status;
	struct finding findings[RESULT_MAX_FINDINGS];
	size_t nfindings;
	struct setup_discovery disc[SETUP_MAX_DISCOVERY];
	size_t ndisc;
	struct setup_candidate cand[SETUP_MAX_CANDIDATES];
	size_t ncand;
	size_t cand_dropped;              /* discovered beyond the limit, not probed */
	int rec;                          /* recommended candidate, -1 none */
	char reasons[SETUP_MAX_REASONS][240];
	size_t nreasons;
	char missing[400];                /* why nothing qualifies, "" when something does */
	char user[256];                   /* login name for the snippets */
	char mechanism[24];               /* AUTH mechanism to use, "" none */
	bool login_tested, login_ok;
	uint64_t size_limit;              /* for message_size_limit, 0 unknown */
	bool size_verified;               /* ... proven at MAIL, not only advertised */
	char *cafile;                     /* owned: --cafile as an absolute path (snippets name it) */
	const char *auth_user;            /* borrowed: --auth USER, NULL none */
	unsigned configs;                 /* enum setup_config bits */
	bool configs_only;                /* --config given: text output is the snippets alone */
	char *config_curl, *config_postfix, *config_msmtp;   /* owned, NULL when not asked */
	double total_ms;
};

void setup_result_init(struct setup_result *sr);
void setup_result_clear(struct setup_result *sr);

struct setup_run;
typedef void (*setup_done_cb)(void *arg);

/* Starts the assistant for address ("user@domain"). cb runs from the loop
 * once the recommendation and snippets are in sr. */
struct setup_run *setup_start(const struct probe_env *env, const char *address,
                              struct setup_result *sr, setup_done_cb cb, void *arg);
void setup_free(struct setup_run *s);

/* Pure parts, for the unit tests. */
/* Ranks the probed candidates and fills rec, reasons, missing. */
void setup_recommend(struct setup_result *sr);
/* Writes the snippets asked for in sr->configs for the recommended
 * candidate (placeholders, never a password). */
void setup_snippets(struct setup_result *sr);
/* "--config curl,msmtp" -> bits; -1 on an unknown name. */
int setup_config_parse(const char *list);

#endif
