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

/* One function to look up: its name and where its pointer goes. */
struct lazy_sym {
	const char *name;
	size_t off;             /* in the library's struct of pointers */
};

/* Loads soname and every sym into fns (dlsym's void * copied byte for
 * byte into the function pointer: POSIX guarantees one representation);
 * 0 when all are there. Once per library: later calls give the same. */
static int lazy_load(struct lazy_state *st, const char *what, const char *soname,
                     const struct lazy_sym *syms, size_t n, void *fns)
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
		void *f = dlsym(h, syms[i].name);
		if (f == NULL) {
			snprintf(st->why, sizeof st->why, "%s could not be loaded (%s has no %s)",
			         what, soname, syms[i].name);
			dlclose(h);
			return -1;
		}
		memcpy((char *)fns + syms[i].off, &f, sizeof f);
	}
	st->ok = 1;                     /* kept open for the life of the process */
	return 0;
}

#define SYM(type, field, name) { name, offsetof(struct type, field) }

static struct lazy_state idn2_state;
static struct lazy_idn2 idn2_fns;

const struct lazy_idn2 *lazy_idn2(const char **why)
{
	static const struct lazy_sym syms[] = {
		SYM(lazy_idn2, to_ascii_8z, "idn2_to_ascii_8z"),
		SYM(lazy_idn2, to_unicode_8z8z, "idn2_to_unicode_8z8z"),
		SYM(lazy_idn2, strerror, "idn2_strerror"),
		SYM(lazy_idn2, free, "idn2_free"),
	};

	if (lazy_load(&idn2_state, "libidn2, for international names,", LAZY_IDN2_SONAME,
	              syms, sizeof syms / sizeof syms[0], &idn2_fns) != 0) {
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
	static const struct lazy_sym syms[] = {
		SYM(lazy_expat, ParserCreate, "XML_ParserCreate"),
		SYM(lazy_expat, ParserFree, "XML_ParserFree"),
		SYM(lazy_expat, SetUserData, "XML_SetUserData"),
		SYM(lazy_expat, SetElementHandler, "XML_SetElementHandler"),
		SYM(lazy_expat, SetCharacterDataHandler, "XML_SetCharacterDataHandler"),
		SYM(lazy_expat, SetStartDoctypeDeclHandler, "XML_SetStartDoctypeDeclHandler"),
		SYM(lazy_expat, SetEntityDeclHandler, "XML_SetEntityDeclHandler"),
		SYM(lazy_expat, SetParamEntityParsing, "XML_SetParamEntityParsing"),
		SYM(lazy_expat, Parse, "XML_Parse"),
		SYM(lazy_expat, StopParser, "XML_StopParser"),
		SYM(lazy_expat, GetErrorCode, "XML_GetErrorCode"),
		SYM(lazy_expat, ErrorString, "XML_ErrorString"),
		SYM(lazy_expat, GetCurrentLineNumber, "XML_GetCurrentLineNumber"),
		SYM(lazy_expat, ExpatVersionInfo, "XML_ExpatVersionInfo"),
	};

	if (lazy_load(&expat_state, "libexpat, for autoconfig XML,", LAZY_EXPAT_SONAME,
	              syms, sizeof syms / sizeof syms[0], &expat_fns) != 0) {
		if (why != NULL)
			*why = expat_state.why;
		return NULL;
	}
	return &expat_fns;
}
