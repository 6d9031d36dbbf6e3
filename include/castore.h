/* Trust anchors loaded lazily, and a bounded cache of chain verdicts.
 *
 * A PEM bundle (the system's ca-certificates.crt has ~140 certificates) is
 * indexed by subject name on load, from the DER, without parsing any
 * certificate; a certificate is parsed only when a chain names it as an
 * issuer. Verification of a chain against the store gives the same verdict
 * as mbedTLS's verification against the fully parsed bundle: the anchors
 * handed to mbedTLS are every anchor whose subject could match an issuer in
 * the chain, in file order (docs/performance.md explains why). */
#ifndef SP_CASTORE_H
#define SP_CASTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <mbedtls/x509_crt.h>

struct castore;

struct castore_stats {
	size_t indexed;          /* certificates indexed (PEM blocks) */
	size_t parsed;           /* of which parsed so far (or tried) */
	size_t verified;         /* chains verified by mbedTLS */
	size_t cached;           /* chains answered from the cache */
};

struct castore *castore_new(void);
void castore_free(struct castore *cs);

/* Index a PEM file. 0 if it holds at least one certificate block (and, if
 * check, one of them parses: a file the user named must be usable); -1
 * otherwise (unreadable, not PEM, nothing usable), with nothing added: the
 * caller then loads the file the ordinary way, which also gives the error. */
int castore_add_pem_file(struct castore *cs, const char *path, bool check);

/* Same from memory (copied); for tests. */
int castore_add_pem(struct castore *cs, const char *pem, size_t len, bool check);

/* Anchors parsed the ordinary way (a directory, a DER file), searched after
 * the indexed ones: borrowed, must outlive cs, NULL for none. */
void castore_set_eager(struct castore *cs, mbedtls_x509_crt *eager);

/* Any anchor at all (indexed or eager)? */
bool castore_empty(const struct castore *cs);

/* mbedtls_x509_crt_verify(chain, anchors, no CRL, no name) with the
 * anchors this chain can reach, answered from the cache when the same chain
 * (SHA-256 of every certificate's DER) was verified before by this store and
 * no certificate involved has crossed a validity date since. Returns what
 * mbedtls_x509_crt_verify returns; *flags its flags. */
int castore_verify(struct castore *cs, mbedtls_x509_crt *chain, uint32_t *flags);

void castore_get_stats(const struct castore *cs, struct castore_stats *st);

/* The clock the cache's validity dates are compared with (time() unless a
 * test sets another; mbedTLS itself always uses the real one). */
void castore_set_clock(struct castore *cs, time_t (*clock)(time_t *));

#endif
