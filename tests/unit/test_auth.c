/* SASL encodings against the RFC examples. */
#include <string.h>

#include "auth.h"
#include "t.h"
#include <mbedtls/base64.h>

int main(void)
{
	char out[AUTH_MAX_MSG];

	/* RFC 4616 section 4: "\0tim\0tanstaaftanstaaf". */
	T_CHECK("plain-rc", auth_plain("tim", "tanstaaftanstaaf", out, sizeof(out)) == 0);
	T_STREQ("plain-rfc4616", out, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
	/* RFC 2195 section 2. */
	T_CHECK("cram-rc", auth_cram_md5("tim", "tanstaaftanstaaf",
	        "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
	        out, sizeof(out)) == 0);
	T_STREQ("cram-rfc2195", out,
	        "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
	T_CHECK("cram-bad-challenge", auth_cram_md5("tim", "x", "!!!", out, sizeof(out)) == -1);
	T_CHECK("cram-empty-challenge", auth_cram_md5("tim", "x", "", out, sizeof(out)) == -1);
	T_CHECK("b64-small", auth_b64((const unsigned char *)"abcdef", 6, out, 4) == -1);
	T_CHECK("b64-user", auth_b64((const unsigned char *)"probe@test", 10, out, sizeof(out)) == 0);
	T_STREQ("b64-user-value", out, "cHJvYmVAdGVzdA==");
	auth_hex((const unsigned char *)"\x01\xab", 2, out);
	T_STREQ("hex", out, "01ab");

	T_CHECK("pick-cram", auth_mech_pick("PLAIN LOGIN CRAM-MD5") == AUTH_MECH_CRAM_MD5);
	T_CHECK("pick-plain", auth_mech_pick("LOGIN PLAIN") == AUTH_MECH_PLAIN);
	T_CHECK("pick-login", auth_mech_pick("login") == AUTH_MECH_LOGIN);
	T_CHECK("pick-old-equals", auth_mech_pick("=LOGIN PLAIN") == AUTH_MECH_PLAIN);
	T_CHECK("pick-none", auth_mech_pick("GSSAPI XOAUTH2") == AUTH_MECH_NONE);
	T_CHECK("pick-null", auth_mech_pick(NULL) == AUTH_MECH_NONE);
	T_CHECK("no-prefix-match", !auth_mech_offered("PLAINX", AUTH_MECH_PLAIN));
	T_CHECK("parse", auth_mech_parse("cram-md5") == AUTH_MECH_CRAM_MD5);
	T_CHECK("parse-unknown", auth_mech_parse("SCRAM-SHA-1") == AUTH_MECH_NONE);
	T_STREQ("name", auth_mech_name(AUTH_MECH_PLAIN), "PLAIN");

	{
		char pw[AUTH_MAX_SECRET], err[200];
		FILE *f = fopen("/tmp/sp-test-auth-pw", "w");

		if (f != NULL) {
			fputs("s3cret pass\r\nsecond line\n", f);
			fclose(f);
		}
		T_CHECK("pwfile-rc", auth_password_load("/tmp/sp-test-auth-pw", pw, sizeof(pw),
		        err, sizeof(err)) == 0);
		T_STREQ("pwfile-first-line", pw, "s3cret pass");
		f = fopen("/tmp/sp-test-auth-pw", "w");
		if (f != NULL)
			fclose(f);
		T_CHECK("pwfile-empty", auth_password_load("/tmp/sp-test-auth-pw", pw, sizeof(pw),
		        err, sizeof(err)) == -1);
		remove("/tmp/sp-test-auth-pw");
		T_CHECK("pwfile-missing", auth_password_load("/tmp/sp-test-auth-pw", pw, sizeof(pw),
		        err, sizeof(err)) == -1);
		auth_wipe(pw, sizeof(pw));
		T_CHECK("wiped", pw[0] == '\0' && pw[5] == '\0');
	}
	/* SCRAM-SHA-256: the RFC 7677 section 3 example, end to end. */
	{
		struct auth_scram sc;
		char sout[AUTH_MAX_MSG], dec[AUTH_MAX_MSG], err[160], sfirst[200], sfin[100];
		size_t dl = 0;
		const char *server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		                           "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

		T_CHECK("scram-first-rc", auth_scram_first(&sc, "user", "rOprNGfwEbeRWgbNEkqO",
		                                           sout, sizeof(sout)) == 0);
		mbedtls_base64_decode((unsigned char *)dec, sizeof(dec) - 1, &dl,
		                      (const unsigned char *)sout, strlen(sout));
		dec[dl] = '\0';
		T_STREQ("scram-first", dec, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
		auth_b64((const unsigned char *)server_first, strlen(server_first), sfirst, sizeof(sfirst));
		T_CHECK("scram-final-rc", auth_scram_final(&sc, "pencil", sfirst, sout, sizeof(sout),
		                                           err, sizeof(err)) == 0);
		mbedtls_base64_decode((unsigned char *)dec, sizeof(dec) - 1, &dl,
		                      (const unsigned char *)sout, strlen(sout));
		dec[dl] = '\0';
		T_STREQ("scram-final", dec, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
		auth_b64((const unsigned char *)"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", 46,
		         sfin, sizeof(sfin));
		T_CHECK("scram-server-verified", auth_scram_verify(&sc, sfin) == 0);
		auth_b64((const unsigned char *)"v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", 46,
		         sfin, sizeof(sfin));
		T_CHECK("scram-server-forged", auth_scram_verify(&sc, sfin) == -1);

		/* Hostile or broken challenges are refused, not computed. */
		auth_scram_first(&sc, "us,er=", "abc", sout, sizeof(sout));
		T_CHECK("scram-saslname-escaped", strcmp(sc.bare, "n=us=2Cer=3D,r=abc") == 0);
		auth_b64((const unsigned char *)"r=zzz,s=QUJD,i=4096", 19, sfirst, sizeof(sfirst));
		T_CHECK("scram-foreign-nonce", auth_scram_final(&sc, "pw", sfirst, sout, sizeof(sout),
		                                                err, sizeof(err)) == -1);
		auth_b64((const unsigned char *)"r=abcX,s=QUJD,i=999999999", 25, sfirst, sizeof(sfirst));
		T_CHECK("scram-iterations-capped", auth_scram_final(&sc, "pw", sfirst, sout, sizeof(sout),
		                                                    err, sizeof(err)) == -1 &&
		        strstr(err, "iterations") != NULL);
		auth_b64((const unsigned char *)"r=abcX,i=10", 11, sfirst, sizeof(sfirst));
		T_CHECK("scram-no-salt", auth_scram_final(&sc, "pw", sfirst, sout, sizeof(sout),
		                                          err, sizeof(err)) == -1);
		T_CHECK("scram-not-base64", auth_scram_final(&sc, "pw", "!!!", sout, sizeof(sout),
		                                             err, sizeof(err)) == -1);
		T_CHECK("scram-pick-strongest", auth_mech_pick("PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256") ==
		        AUTH_MECH_SCRAM_SHA256);
	}
	T_DONE();
}
