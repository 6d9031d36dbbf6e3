/* Libraries loaded on first use (dlopen): libidn2 for international names,
 * libexpat for the autoconfig XML of --setup. See probe/lazylib.c. */
#ifndef SMTP_PROBE_LAZYLIB_H
#define SMTP_PROBE_LAZYLIB_H

#include <expat.h>
#include <idn2.h>

/* Typed from the libraries' own headers: a changed prototype is a compile
 * error here, not a crash. */
struct lazy_idn2 {
	__typeof__(idn2_to_ascii_8z) *to_ascii_8z;
	__typeof__(idn2_to_unicode_8z8z) *to_unicode_8z8z;
	__typeof__(idn2_strerror) *strerror;
	__typeof__(idn2_free) *free;
};

struct lazy_expat {
	__typeof__(XML_ParserCreate) *ParserCreate;
	__typeof__(XML_ParserFree) *ParserFree;
	__typeof__(XML_SetUserData) *SetUserData;
	__typeof__(XML_SetElementHandler) *SetElementHandler;
	__typeof__(XML_SetCharacterDataHandler) *SetCharacterDataHandler;
	__typeof__(XML_SetStartDoctypeDeclHandler) *SetStartDoctypeDeclHandler;
	__typeof__(XML_SetEntityDeclHandler) *SetEntityDeclHandler;
	__typeof__(XML_SetParamEntityParsing) *SetParamEntityParsing;
	__typeof__(XML_Parse) *Parse;
	__typeof__(XML_StopParser) *StopParser;
	__typeof__(XML_GetErrorCode) *GetErrorCode;
	__typeof__(XML_ErrorString) *ErrorString;
	__typeof__(XML_GetCurrentLineNumber) *GetCurrentLineNumber;
	__typeof__(XML_ExpatVersionInfo) *ExpatVersionInfo;
};

/* The library's functions, loaded on the first call; NULL when it cannot
 * be loaded, with why in *why ("libidn2, for international names, could
 * not be loaded (libidn2.so.0: cannot open shared object file: No such
 * file or directory)"). Later calls answer the same without trying again. */
const struct lazy_idn2 *lazy_idn2(const char **why);
const struct lazy_expat *lazy_expat(const char **why);

#endif
