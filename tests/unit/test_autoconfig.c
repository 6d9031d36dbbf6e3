/* autoconfig_parse: the Thunderbird config-v1.1.xml outgoing servers, and
 * every hostile document refused (entities, depth, size, wrong root). */
#include <stdlib.h>
#include "autoconfig.h"
#include "t.h"

static const char good[] =
"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
"<clientConfig version=\"1.1\">\n"
" <emailProvider id=\"example.test\">\n"
"  <domain>example.test</domain>\n"
"  <incomingServer type=\"imap\"><hostname>imap.example.test</hostname><port>993</port>"
"<socketType>SSL</socketType></incomingServer>\n"
"  <outgoingServer type=\"smtp\">\n"
"   <hostname> Smtp.%EMAILDOMAIN% </hostname>\n"
"   <port>465</port>\n"
"   <socketType>SSL</socketType>\n"
"   <authentication>password-cleartext</authentication>\n"
"   <authentication>OAuth2</authentication>\n"
"   <username>%EMAILADDRESS%</username>\n"
"  </outgoingServer>\n"
"  <outgoingServer type=\"smtp\">\n"
"   <hostname>mail.example.test</hostname><port>587</port>\n"
"   <socketType>STARTTLS</socketType><username>%EMAILLOCALPART%</username>\n"
"  </outgoingServer>\n"
"  <outgoingServer type=\"smtp\"><hostname>x y</hostname><port>70000</port>"
"<socketType>plain</socketType></outgoingServer>\n"
" </emailProvider>\n"
"</clientConfig>\n";

static int parse(const char *xml, struct autoconfig *ac, char *err, size_t errlen)
{
	return autoconfig_parse(xml, strlen(xml), "you@example.test", ac, err, errlen);
}

int main(void)
{
	struct autoconfig ac;
	char err[200] = "";
	int rc;

	rc = parse(good, &ac, err, sizeof(err));
	T_CHECK("good: parses", rc == 0);
	T_STREQ("good: provider", ac.provider, "example.test");
	T_CHECK("good: three smtp servers", ac.nsmtp == 3 && ac.smtp_total == 3);
	T_STREQ("good: hostname substituted, trimmed, lower-cased", ac.smtp[0].hostname,
	        "smtp.example.test");
	T_CHECK("good: port", ac.smtp[0].port == 465);
	T_CHECK("good: SSL", ac.smtp[0].socket == AC_SOCKET_SSL);
	T_CHECK("good: two auth", ac.smtp[0].nauth == 2);
	T_STREQ("good: auth 1", ac.smtp[0].auth[0], "password-cleartext");
	T_STREQ("good: username address", ac.smtp[0].username, "you@example.test");
	T_STREQ("good: no problem", ac.smtp[0].problem, "");
	T_CHECK("good: STARTTLS", ac.smtp[1].socket == AC_SOCKET_STARTTLS && ac.smtp[1].port == 587);
	T_STREQ("good: local part", ac.smtp[1].username, "you");
	T_CHECK("good: bad entry has a problem", ac.smtp[2].problem[0] != '\0');
	T_CHECK("good: plain", ac.smtp[2].socket == AC_SOCKET_PLAIN);

	/* The classic billion-laughs bomb: refused at the DOCTYPE. */
	rc = parse("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	           "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
	           "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
	           "<clientConfig><emailProvider><outgoingServer type=\"smtp\"><hostname>&lol3;"
	           "</hostname></outgoingServer></emailProvider></clientConfig>", &ac, err,
	           sizeof(err));
	T_CHECK("bomb: refused", rc == -1 && strstr(err, "DOCTYPE") != NULL);
	T_CHECK("bomb: nothing kept", ac.nsmtp == 0);

	rc = parse("<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><clientConfig/>", &ac, err, sizeof(err));
	T_CHECK("external entity: refused", rc == -1 && strstr(err, "DOCTYPE") != NULL);

	rc = parse("<clientConfig><emailProvider><outgoingServer type=\"smtp\"><hostname>&x;"
	           "</hostname></outgoingServer></emailProvider></clientConfig>", &ac, err, sizeof(err));
	T_CHECK("undeclared entity: refused", rc == -1 && strstr(err, "not well-formed") != NULL);

	{
		char deep[4096] = "<clientConfig>";
		for (int i = 0; i < 40; i++)
			strcat(deep, "<a>");
		for (int i = 0; i < 40; i++)
			strcat(deep, "</a>");
		strcat(deep, "</clientConfig>");
		rc = parse(deep, &ac, err, sizeof(err));
		T_CHECK("deep: refused", rc == -1 && strstr(err, "deeper") != NULL);
	}
	{
		size_t n = AUTOCONFIG_MAX_BYTES + 100;
		char *big = malloc(n + 1);

		memset(big, ' ', n);
		memcpy(big, "<clientConfig>", 14);
		memcpy(big + n - 15, "</clientConfig>", 15);
		big[n] = '\0';
		rc = autoconfig_parse(big, n, "a@b.test", &ac, err, sizeof(err));
		T_CHECK("huge: refused", rc == -1 && strstr(err, "larger") != NULL);
		free(big);
	}
	rc = parse("<html><body>hello</body></html>", &ac, err, sizeof(err));
	T_CHECK("html: refused", rc == -1 && strstr(err, "clientConfig") != NULL);
	rc = parse("<clientConfig><emailProvider>", &ac, err, sizeof(err));
	T_CHECK("truncated: refused", rc == -1 && strstr(err, "not well-formed") != NULL);
	rc = parse("", &ac, err, sizeof(err));
	T_CHECK("empty: refused", rc == -1);
	{
		char longname[1200];
		snprintf(longname, sizeof(longname), "<clientConfig><emailProvider><outgoingServer "
		         "type=\"smtp\"><hostname>%0500d</hostname><port>25</port></outgoingServer>"
		         "</emailProvider></clientConfig>", 7);
		rc = parse(longname, &ac, err, sizeof(err));
		T_CHECK("long field: parsed, entry unusable", rc == 0 && ac.nsmtp == 1 &&
		        ac.smtp[0].problem[0] != '\0' && ac.smtp[0].hostname[0] == '\0');
	}
	{
		char many[8192] = "<clientConfig><emailProvider>";
		for (int i = 0; i < 20; i++)
			strcat(many, "<outgoingServer type=\"smtp\"><hostname>h.test</hostname><port>25"
			       "</port></outgoingServer>");
		strcat(many, "</emailProvider></clientConfig>");
		rc = parse(many, &ac, err, sizeof(err));
		T_CHECK("many servers: kept bounded, counted", rc == 0 &&
		        ac.nsmtp == AUTOCONFIG_MAX_SMTP && ac.smtp_total == 20);
	}
	rc = parse("<clientConfig><emailProvider><outgoingServer type=\"smtp\"><hostname>"
	           "%EMAILDOMAIN%.evil/x</hostname><port>25</port></outgoingServer></emailProvider>"
	           "</clientConfig>", &ac, err, sizeof(err));
	T_CHECK("hostname with a slash: unusable", rc == 0 && ac.smtp[0].problem[0] != '\0');
	T_CHECK("version", strncmp(autoconfig_version(), "libexpat ", 9) == 0);
	T_DONE();
}
