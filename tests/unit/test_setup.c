/* setup_recommend / setup_snippets: the ranking (TLS required, valid
 * certificate, AUTH, implicit TLS before STARTTLS, published before
 * guessed), the reasons, and snippets that carry placeholders and refuse
 * values that cannot be quoted safely. */
#include <stdlib.h>
#include "render.h"
#include "setup.h"
#include "t.h"

static void cand(struct setup_result *sr, const char *host, uint16_t port, enum tls_mode m,
                 enum setup_source src, bool tls, bool valid, const char *auth)
{
	struct setup_candidate *c = &sr->cand[sr->ncand++];

	snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = port;
	c->mode = m;
	c->source = src;
	snprintf(c->via, sizeof(c->via), "test");
	c->r.greeting.present = true;
	c->r.greeting.code = 220;
	c->r.tls.ok = tls;
	c->r.ehlo_tls.present = tls;
	c->r.starttls_offered = tls && m == TLS_MODE_STARTTLS;
	snprintf(c->r.tls.version, sizeof(c->r.tls.version), "TLSv1.3");
	c->r.tls.trusted = c->r.tls.hostname_match = valid;
	c->r.auth.mechanisms_tls = auth ? strdup(auth) : NULL;
	c->r.size.advertised = c->r.size.has_limit = true;
	c->r.size.limit = 10485760;
}

static void fresh(struct setup_result *sr)
{
	setup_result_init(sr);
	sr->address = strdup("you@example.test");
	sr->domain = strdup("example.test");
}

int main(void)
{
	struct setup_result *sr = malloc(sizeof(*sr));

	fresh(sr);
	cand(sr, "plain.example.test", 587, TLS_MODE_STARTTLS, SRC_SRV, false, false, "PLAIN");
	cand(sr, "sub.example.test", 587, TLS_MODE_STARTTLS, SRC_SRV, true, true, "PLAIN LOGIN");
	cand(sr, "smtp.example.test", 465, TLS_MODE_IMPLICIT, SRC_GUESS, true, true, "PLAIN LOGIN");
	cand(sr, "bad.example.test", 465, TLS_MODE_IMPLICIT, SRC_SRV, true, false, "PLAIN");
	setup_recommend(sr);
	T_CHECK("rank: no TLS never usable", !sr->cand[0].usable);
	T_CHECK("rank: implicit TLS with a valid certificate wins", sr->rec == 2);
	T_CHECK("rank: reasons name the runner-up", sr->nreasons > 0 &&
	        strstr(sr->reasons[sr->nreasons - 1], "sub.example.test:587") != NULL &&
	        strstr(sr->reasons[sr->nreasons - 1], "RFC 8314") != NULL);
	T_STREQ("rank: mechanism picked from the offer", sr->mechanism, "PLAIN");
	T_STREQ("rank: user is the address", sr->user, "you@example.test");
	setup_snippets(sr);
	T_CHECK("snippets: all three", sr->config_curl && sr->config_postfix && sr->config_msmtp);
	T_CHECK("curl: smtps and ssl-reqd", strstr(sr->config_curl,
	        "--url 'smtps://smtp.example.test:465' --ssl-reqd") != NULL);
	T_CHECK("curl: password placeholder", strstr(sr->config_curl, "$SMTP_PASSWORD") != NULL);
	T_CHECK("curl: no --cacert without --cafile", strstr(sr->config_curl, "--cacert") == NULL);
	T_CHECK("postfix: relayhost", strstr(sr->config_postfix,
	        "\nrelayhost = [smtp.example.test]:465\n") != NULL);
	T_CHECK("postfix: wrappermode", strstr(sr->config_postfix, "\nsmtp_tls_wrappermode = yes\n"));
	T_CHECK("postfix: secure", strstr(sr->config_postfix, "\nsmtp_tls_security_level = secure\n"));
	T_CHECK("postfix: size", strstr(sr->config_postfix, "\nmessage_size_limit = 10485760\n"));
	T_CHECK("postfix: comments on their own lines only", strstr(sr->config_postfix, " # ") == NULL);
	T_CHECK("postfix: sasl_passwd placeholder", strstr(sr->config_postfix,
	        "[smtp.example.test]:465 you@example.test:YOUR-PASSWORD") != NULL);
	T_CHECK("msmtp: implicit", strstr(sr->config_msmtp, "\ntls on\ntls_starttls off\n"));
	T_CHECK("msmtp: passwordeval placeholder", strstr(sr->config_msmtp, "passwordeval") != NULL);
	setup_result_clear(sr);

	/* Only a certificate for another name: recommended, Postfix told to encrypt. */
	fresh(sr);
	cand(sr, "bad.example.test", 587, TLS_MODE_STARTTLS, SRC_SRV, true, false, NULL);
	setup_recommend(sr);
	setup_snippets(sr);
	T_CHECK("bad cert: still recommended", sr->rec == 0);
	T_CHECK("bad cert: encrypt, not secure", sr->config_postfix &&
	        strstr(sr->config_postfix, "smtp_tls_security_level = encrypt") != NULL);
	T_CHECK("no auth: no SASL lines", strstr(sr->config_postfix, "sasl") == NULL &&
	        strstr(sr->config_msmtp, "\nauth off\n") != NULL &&
	        strstr(sr->config_curl, "--user") == NULL);
	T_CHECK("starttls: smtp:// with --ssl-reqd", strstr(sr->config_curl,
	        "'smtp://bad.example.test:587' --ssl-reqd") != NULL);
	setup_result_clear(sr);

	/* Nothing over TLS: no recommendation, no snippets, a reason. */
	fresh(sr);
	cand(sr, "plain.example.test", 25, TLS_MODE_STARTTLS, SRC_GUESS, false, false, "PLAIN");
	setup_recommend(sr);
	setup_snippets(sr);
	T_CHECK("no tls: nothing", sr->rec == -1 && sr->config_curl == NULL);
	T_CHECK("no tls: says why", strstr(sr->missing, "without TLS") != NULL);
	setup_result_clear(sr);

	/* A user name from autoconfig that would break out of quoting. */
	fresh(sr);
	cand(sr, "sub.example.test", 587, TLS_MODE_STARTTLS, SRC_AUTOCONFIG, true, true, "PLAIN");
	snprintf(sr->cand[0].ac_user, sizeof(sr->cand[0].ac_user), "x'; rm -rf / #");
	setup_recommend(sr);
	T_STREQ("unsafe autoconfig user: the address instead", sr->user, "you@example.test");
	sr->cafile = strdup("/tmp/my ca.pem");
	setup_snippets(sr);
	T_CHECK("unsafe CA path: no snippets, a finding", sr->config_curl == NULL &&
	        sr->nfindings == 1 && strcmp(sr->findings[0].code, "setup-config-unsafe") == 0);
	setup_result_clear(sr);

	/* -o html: server and DNS text in every field the page shows arrives
	 * escaped; the page runs nothing and shows the recommendation first. */
	fresh(sr);
	cand(sr, "sub.example.test", 587, TLS_MODE_STARTTLS, SRC_SRV, true, true, "PLAIN");
	cand(sr, "x.example.test", 465, TLS_MODE_IMPLICIT, SRC_GUESS, false, false, NULL);
	setup_recommend(sr);
	setup_snippets(sr);
	snprintf(sr->cand[1].verdict, sizeof(sr->cand[1].verdict),
	         "not usable: <script>alert(1)</script>\x1b[2J");
	snprintf(sr->cand[0].via, sizeof(sr->cand[0].via), "SRV \"><img src=x onerror=alert(1)>");
	snprintf(sr->disc[0].source, sizeof(sr->disc[0].source), "srv");
	snprintf(sr->disc[0].name, sizeof(sr->disc[0].name), "_submission._tcp.example.test");
	snprintf(sr->disc[0].answer, sizeof(sr->disc[0].answer), "0 1 587 <b>\xe2\x80\xae</b>");
	sr->ndisc = 1;
	{
		char *page = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&page, &len);
		struct render_opts ro = { 0 };

		render_setup_html(m, sr, &ro);
		fclose(m);
		T_CHECK("html: recommendation first", strstr(page, "<p id=\"recommended\">Recommended: "
		        "<strong class=\"mono\">sub.example.test</strong> port 587, STARTTLS") != NULL &&
		        strstr(page, "recommended") < strstr(page, "<h2>Findings"));
		T_CHECK("html: candidate rows", strstr(page, "<td class=\"mono\">x.example.test</td>"
		        "<td class=\"port\">465</td><td class=\"tls\">implicit TLS</td>") != NULL);
		T_CHECK("html: server text escaped", strstr(page, "&lt;script&gt;alert(1)") != NULL &&
		        strstr(page, "&quot;&gt;&lt;img src=x") != NULL &&
		        strstr(page, "&lt;b&gt;") != NULL && strstr(page, "\\x1B[2J") != NULL);
		T_CHECK("html: nothing injected", strstr(page, "<script") == NULL &&
		        strstr(page, "<img") == NULL && strstr(page, "<b>") == NULL &&
		        strchr(page, 0x1b) == NULL && strstr(page, "\xe2\x80\xae") == NULL);
		T_CHECK("html: snippets, a placeholder", strstr(page, "<pre class=\"snippet\">") &&
		        strstr(page, "YOUR-PASSWORD") != NULL && strstr(page, "\\x0A") == NULL);
		free(page);
	}
	setup_result_clear(sr);

	T_CHECK("config parse", setup_config_parse("curl,msmtp") == (SETUP_CFG_CURL | SETUP_CFG_MSMTP) &&
	        setup_config_parse("postfix") == SETUP_CFG_POSTFIX && setup_config_parse("x") < 0 &&
	        setup_config_parse("") < 0);
	free(sr);
	T_DONE();
}
