/* Libraries loaded on first use: libidn2 (international names) and
 * libexpat (the autoconfig XML of the relay setup assistant).
 *
 * Why: most runs need neither. A probe of an ASCII name or of an address
 * never converts a name, and only --setup reads XML; yet a library linked
 * in is mapped and relocated on every start, with its dependencies
 * (libidn2 brings libunistring, 1.7 MB): 0.52 of the 0.83 million
 * instructions smtp-probe spent starting, and a fifth of its start-up page
 * faults (docs/performance.md, "Start-up"). Loading them with dlopen when
 * first needed makes every other run pay nothing. Postfix does the same
 * with its optional lookup tables (dynamicmaps.cf).
 *
 * The sonames are the ones this build compiled against (the Makefile reads
 * them from the development libraries; the Debian package depends on both
 * libraries by name, as dpkg-shlibdeps cannot see a dlopen). A library that
 * is missing or lacks a function fails only the run that needs it, with
 * dlerror()'s words; a probe of an ASCII name still works. */
#include "lazylib.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#ifndef LAZY_IDN2_SONAME
#define LAZY_IDN2_SONAME "libidn2.so.0"
#endif
#ifndef LAZY_EXPAT_SONAME
#define LAZY_EXPAT_SONAME "libexpat.so.1"
#endif

_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "dlsym results fit function pointers");

struct lazy_state {
	int tried;              /* loading was attempted (result below is final) */
	int ok;
	char why[256];
};

/* Resolves names[i] into fns[i] from soname; 0 when all are there. */
static int lazy_load(struct lazy_state *st, const char *what, const char *soname,
                     const char *const *names, void **fns, size_t n)
{
	if (st->tried)
		return st->ok ? 0 : -1;
	st->tried = 1;
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *e = dlerror();
		snprintf(st->why, sizeof st->why, "%s could not be loaded (%s)", what,
		         e != NULL ? e : soname);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		fns[i] = dlsym(h, names[i]);
		if (fns[i] == NULL) {
			snprintf(st->why, sizeof st->why, "%s could not be loaded (%s has no %s)",
			         what, soname, names[i]);
			dlclose(h);
			return -1;
		}
	}
	st->ok = 1;                     /* kept open for the life of the process */
	return 0;
}

/* Where a function pointer goes: dlsym's void * is copied into it byte
 * for byte (POSIX guarantees the two have one representation). */
#define LAZY_SLOT(s, f) ((void *)&(s).f)

static struct lazy_state idn2_state;
static struct lazy_idn2 idn2_fns;

const struct lazy_idn2 *lazy_idn2(const char **why)
{
	static const char *const names[] = {
		"idn2_to_ascii_8z", "idn2_to_unicode_8z8z", "idn2_strerror", "idn2_free",
	};
	void *fns[sizeof names / sizeof names[0]];

	if (!idn2_state.tried && lazy_load(&idn2_state, "libidn2, for international names,", LAZY_IDN2_SONAME, names, fns,
	                                   sizeof names / sizeof names[0]) == 0) {
		void *slot[] = {
			LAZY_SLOT(idn2_fns, to_ascii_8z), LAZY_SLOT(idn2_fns, to_unicode_8z8z),
			LAZY_SLOT(idn2_fns, strerror), LAZY_SLOT(idn2_fns, free),
		};
		_Static_assert(sizeof slot / sizeof slot[0] == sizeof names / sizeof names[0],
		               "one slot per name");
		for (size_t i = 0; i < sizeof slot / sizeof slot[0]; i++)
			memcpy(slot[i], &fns[i], sizeof fns[i]);
	}
	if (!idn2_state.ok) {
		if (why != NULL)
			*why = idn2_state.why;
		return NULL;
	}
	return &idn2_fns;
}

static struct lazy_state expat_state;
static struct lazy_expat expat_fns;

const struct lazy_expat *lazy_expat(const char **why)
{
	static const char *const names[] = {
		"XML_ParserCreate", "XML_ParserFree", "XML_SetUserData",
		"XML_SetElementHandler", "XML_SetCharacterDataHandler",
		"XML_SetStartDoctypeDeclHandler", "XML_SetEntityDeclHandler",
		"XML_SetParamEntityParsing", "XML_Parse", "XML_StopParser",
		"XML_GetErrorCode", "XML_ErrorString", "XML_GetCurrentLineNumber",
		"XML_ExpatVersionInfo",
	};
	void *fns[sizeof names / sizeof names[0]];

	if (!expat_state.tried && lazy_load(&expat_state, "libexpat, for autoconfig XML,", LAZY_EXPAT_SONAME, names, fns,
	                                    sizeof names / sizeof names[0]) == 0) {
		void *slot[] = {
			LAZY_SLOT(expat_fns, ParserCreate), LAZY_SLOT(expat_fns, ParserFree),
			LAZY_SLOT(expat_fns, SetUserData), LAZY_SLOT(expat_fns, SetElementHandler),
			LAZY_SLOT(expat_fns, SetCharacterDataHandler),
			LAZY_SLOT(expat_fns, SetStartDoctypeDeclHandler),
			LAZY_SLOT(expat_fns, SetEntityDeclHandler),
			LAZY_SLOT(expat_fns, SetParamEntityParsing), LAZY_SLOT(expat_fns, Parse),
			LAZY_SLOT(expat_fns, StopParser), LAZY_SLOT(expat_fns, GetErrorCode),
			LAZY_SLOT(expat_fns, ErrorString), LAZY_SLOT(expat_fns, GetCurrentLineNumber),
			LAZY_SLOT(expat_fns, ExpatVersionInfo),
		};
		_Static_assert(sizeof slot / sizeof slot[0] == sizeof names / sizeof names[0],
		               "one slot per name");
		for (size_t i = 0; i < sizeof slot / sizeof slot[0]; i++)
			memcpy(slot[i], &fns[i], sizeof fns[i]);
	}
	if (!expat_state.ok) {
		if (why != NULL)
			*why = expat_state.why;
		return NULL;
	}
	return &expat_fns;
}

int lazy_idn2_loaded(void)
{
	return idn2_state.ok;
}

int lazy_expat_loaded(void)
{
	return expat_state.ok;
}
