/* The fixed result the renderer tests share: a STARTTLS probe of a Postfix
 * on 127.0.0.1 with a two-certificate chain whose leaf expires in `days`
 * days. Each test adds its own details, then calls result_finish(). */
#ifndef SP_RENDER_FIXTURE_H
#define SP_RENDER_FIXTURE_H
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "result.h"

#define FIXTURE_NOW ((time_t)1767225600)   /* 2026-01-01T00:00:00Z */

static void fixture_base(struct result *r, const char *target, long days)
{
	struct cert_info *c;

	result_init(r);
	r->target = strdup(target);
	r->host = strdup("mx1.test");
	r->port = 25;
	r->tls_mode = TLS_MODE_STARTTLS;
	snprintf(r->address, sizeof(r->address), "127.0.0.1");
	r->family = AF_INET;
	r->greeting.present = true;
	r->greeting.code = 220;
	r->greeting.text = strdup("mx1.test ESMTP Postfix");
	r->ehlo.present = r->ehlo_tls.present = true;
	r->ehlo.code = r->ehlo_tls.code = 250;
	r->starttls_offered = true;
	r->size.advertised = r->size.has_limit = true;
	r->size.limit = 104857600;
	size_compute(&r->size, 4096);
	r->tls.attempted = r->tls.ok = r->tls.verified = true;
	r->tls.trusted = r->tls.hostname_match = true;
	snprintf(r->tls.version, sizeof(r->tls.version), "TLSv1.3");
	snprintf(r->tls.cipher, sizeof(r->tls.cipher), "TLS1-3-AES-256-GCM-SHA384");
	snprintf(r->tls.group, sizeof(r->tls.group), "x25519");
	tls_chain_alloc(&r->tls, 2);
	r->tls.nchain = r->tls.chain_total = 2;
	c = &r->tls.chain[0];
	c->subject = strdup("CN=mx1.test");
	c->issuer = strdup("CN=Test CA");
	c->not_after = FIXTURE_NOW + days * 86400;
	c->days_left = days;
	c = &r->tls.chain[1];
	c->subject = strdup("CN=Test CA");
	c->issuer = strdup("CN=Test CA");
	c->not_after = FIXTURE_NOW + 3650L * 86400;
	c->days_left = 3650;
	r->t.connect_ms = 0.21;
	r->t.greeting_ms = 1.5;
	r->t.ehlo_ms = 0.3;
	r->t.starttls_ms = 0.2;
	r->t.tls_ms = 4.25;
	r->t.ehlo_tls_ms = 0.3;
	r->t.total_ms = 52.4;
	r->started = FIXTURE_NOW;
}

/* As if no certificate had been seen. */
static void drop_chain(struct result *r)
{
	tls_chain_free(&r->tls);
}

#endif
