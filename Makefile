# smtp-probe. `make` builds build/smtp-probe; `make test` runs every test.
# mbedTLS 3.x >= 3.6.7 and c-ares >= 1.28 come from pkg-config when the
# system has them, otherwise scripts/deps.sh builds pinned releases (mbedTLS
# with scripts/patches/) into deps/prefix. docs/building.md says why.
# libexpat and libidn2 always come from the system (loaded when needed).

CC         ?= cc
PKG_CONFIG ?= pkg-config
# LOOP=poll: the event loop on poll(2) instead of epoll (the backend used
# off Linux; CI tests both). It builds into build-poll unless BUILD is given.
LOOP       ?= epoll
ifeq ($(LOOP),poll)
BUILD      ?= build-poll
LOOP_CFLAGS = -DLOOP_POLL
else ifneq ($(LOOP),epoll)
$(error LOOP=$(LOOP): want epoll or poll)
endif
BUILD      ?= build
PREFIX     ?= /usr/local
VERSION    := 0.1.0

WARN    = -Wall -Wextra -Wshadow -Wformat=2 -Wconversion -Wno-sign-conversion \
          -Wstrict-prototypes -Wmissing-prototypes -Wno-format-truncation
# -Wno-format-truncation: every text buffer is bounded and snprintf's
# cutting of an over-long server string is the intended behaviour (docs/design.md, "Code habits"),
# and gcc's guess at it changes with -O level (it fired only at -O1, in
# `make asan`). CI (which sets CI=true) turns every warning into an error; locally they
# stay warnings so a new compiler's new warning does not stop a build.
ifeq ($(CI),true)
WARN   += -Werror
endif
HARDEN  = -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -Iinclude \
             -DSP_VERSION='"$(VERSION)"' $(LOOP_CFLAGS) $(DEP_CFLAGS) $(LAZY_CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS) $(EXTRA_LDFLAGS)

# A system mbedTLS is used only from MBEDTLS_MIN_SYSTEM on, and only 3.x
# (the API this code is written for). 3.6.6 refuses TLS 1.2 servers that sign
# with RSA-PSS (a regression of its CVE-2026-25834 fix; our patch in
# scripts/patches/ fixes it, and upstream's 3.6 branch did after 3.6.6), and
# releases before 3.6.6 lack that CVE fix: an older system mbedTLS is refused
# with a message, and the pinned, patched 3.6.6 is built instead. A
# distribution whose mbedTLS carries the fix can say so with
# MBEDTLS_MIN_SYSTEM=its version.
MBEDTLS_MIN_SYSTEM ?= 3.6.7
# (pkg-config checks one version bound per call.)
SYS_DEPS := $(shell $(PKG_CONFIG) --atleast-version=$(MBEDTLS_MIN_SYSTEM) mbedtls 2>/dev/null && \
              $(PKG_CONFIG) --max-version=3.999 mbedtls 2>/dev/null && \
              $(PKG_CONFIG) --atleast-version=1.28.0 libcares 2>/dev/null && echo yes)
ifeq ($(SYS_DEPS),yes)
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags mbedtls mbedx509 mbedcrypto libcares)
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs mbedtls mbedx509 mbedcrypto libcares)
DEP_STAMP  :=
else
SYS_MBEDTLS := $(shell $(PKG_CONFIG) --atleast-version=3.6.0 mbedtls 2>/dev/null && \
                 $(PKG_CONFIG) --max-version=3.999 mbedtls 2>/dev/null && \
                 $(PKG_CONFIG) --modversion mbedtls 2>/dev/null)
ifneq ($(SYS_MBEDTLS),)
$(info smtp-probe: not using the system mbedTLS $(SYS_MBEDTLS): before $(MBEDTLS_MIN_SYSTEM) it lacks the TLS 1.2 RSA-PSS fix of scripts/patches/ (or the CVE-2026-25834 fix); building the pinned, patched mbedTLS in $(DEPS)/ instead (MBEDTLS_MIN_SYSTEM=$(SYS_MBEDTLS) if yours is patched))
endif
# scripts/deps.sh builds both libraries into $(DEPS)/prefix; its one stamp
# file is named after a hash of the pins and of scripts/patches/*, so a
# changed patch rebuilds mbedTLS, and `make -j` runs the script once.
DEPS       ?= deps
DEP_PREFIX := $(DEPS)/prefix
DEP_CFLAGS := -I$(DEP_PREFIX)/include -DCARES_STATICLIB
# -u: the pinned mbedTLS calls our mbedtls_ecdsa_verify (probe/ecverify.c,
# MBEDTLS_ECDSA_VERIFY_ALT in scripts/mbedtls-config.h); nothing of ours
# calls it, so the linker is told to take it from libprobe.a.
DEP_LIBS   := -Wl,-u,mbedtls_ecdsa_verify \
              $(DEP_PREFIX)/lib/libmbedtls.a $(DEP_PREFIX)/lib/libmbedx509.a \
              $(DEP_PREFIX)/lib/libmbedcrypto.a $(DEP_PREFIX)/lib/libcares.a
DEP_STAMP  := $(shell DEPS=$(DEPS) bash scripts/deps.sh --stamp)
endif
# libexpat (Debian: libexpat1-dev) parses the autoconfig XML of --setup;
# libidn2 (Debian: libidn2-dev) converts international names (IDNA2008).
# Neither is linked: probe/lazylib.c loads each with dlopen the first time a
# run needs it (most runs never do; docs/performance.md, "Start-up"). Only
# their headers are compiled against, and the sonames to load are read
# from the development libraries (the file `-lNAME` would link).
DEP_CFLAGS += $(shell $(PKG_CONFIG) --cflags expat libidn2 2>/dev/null)
soname = $(shell f=$$($(CC) -print-file-name=lib$(1).so); \
           objdump -p "$$f" 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')
EXPAT_SONAME := $(or $(call soname,expat),libexpat.so.1)
IDN2_SONAME  := $(or $(call soname,idn2),libidn2.so.0)
LAZY_CFLAGS  := -DLAZY_EXPAT_SONAME='"$(EXPAT_SONAME)"' -DLAZY_IDN2_SONAME='"$(IDN2_SONAME)"'

LIB_SRC  := $(filter-out probe/main.c,$(wildcard probe/*.c))
LIB_OBJ  := $(LIB_SRC:probe/%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)

.PHONY: all test unit replay asan fuzz fuzz-build demo clean distclean analyze install uninstall
all: $(BUILD)/smtp-probe

# The build's Debian packages first (as root: installed when missing; else
# the one apt command to run), then the pinned mbedTLS and c-ares.
$(DEP_STAMP):
	bash scripts/test-deps.sh build
	DEPS=$(DEPS) bash scripts/deps.sh

# Each object, test and replay binary depends on the headers it includes:
# the compiler lists them (-MMD) in a .d file next to it, read back here
# (-MP: a deleted header is not an error).
# A target whose .d file is missing (a build dir from before -MMD, or a
# deleted .d) is rebuilt: the .d is a prerequisite with an empty rule.
DEPFLAGS = -MMD -MP
DEP_FILES = $(LIB_OBJ:.o=.d) $(BUILD)/obj/main.d $(UNIT_BIN:=.d) $(REPLAY_BIN:=.d) \
            $(BUILD)/fuzz-replay/replay.d
$(DEP_FILES): ;
-include $(wildcard $(DEP_FILES))

$(BUILD)/obj/%.o: probe/%.c $(BUILD)/obj/%.d | $(DEP_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

# The P-256 arithmetic of ECDSA verification: -O3 saves 12 % of its
# instructions (docs/performance.md); the rest stays at -O2.
$(BUILD)/obj/ecverify.o: CFLAGS += -O3

$(BUILD)/libprobe.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/smtp-probe: $(BUILD)/obj/main.o $(BUILD)/libprobe.a $(DEP_STAMP)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(BUILD)/obj/main.o $(BUILD)/libprobe.a $(DEP_LIBS) -lm

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/tests/%.d $(BUILD)/libprobe.a $(DEP_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Wno-missing-prototypes $(ALL_LDFLAGS) -Itests/unit -o $@ $< $(BUILD)/libprobe.a $(DEP_LIBS) -lm

unit: $(UNIT_BIN)

# Each fuzz target linked with tests/fuzz/replay.c instead of libFuzzer (gcc
# is enough): tests/run.sh replays tests/fuzz/corpus/TARGET/* through it.
$(BUILD)/fuzz-replay/replay.o: tests/fuzz/replay.c $(BUILD)/fuzz-replay/replay.d | $(DEP_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/fuzz-replay/%: tests/fuzz/%.c $(BUILD)/fuzz-replay/%.d $(BUILD)/fuzz-replay/replay.o $(BUILD)/libprobe.a $(DEP_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/fuzz-replay/replay.o $(BUILD)/libprobe.a $(DEP_LIBS) -lm

replay: $(REPLAY_BIN)

# The whole suite: unit, fuzz corpus replay, integration against real
# Postfix/aiosmtpd/DNS, faults. TESTENV_REUSE=DIR runs it against a test
# environment that is already up (tests/run.sh neither starts nor stops it).
# First installs (as root, with apt) the Debian packages the build and the
# tests need and that are missing, or stops with the command to run:
# scripts/test-deps.sh holds the one list of them.
test:
	bash scripts/test-deps.sh build test
	$(MAKE) all unit replay
	BUILD=$(BUILD) LOOP=$(LOOP) bash tests/run.sh

# The whole suite again under AddressSanitizer + UBSan (no recovery) and
# LeakSanitizer. A sanitizer report exits 86 (never a probe exit code) so
# no test can take it for a status. Uses the same ports as `make test`:
# not while another suite's test environment is up, unless TESTENV_REUSE.
ASAN_ENV = ASAN_OPTIONS=exitcode=86:detect_leaks=1:abort_on_error=0:strict_string_checks=1 \
           UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=86 \
           LSAN_OPTIONS=exitcode=86
asan:
	$(ASAN_ENV) $(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -U_FORTIFY_SOURCE" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" test

# libFuzzer targets (clang); `make fuzz FUZZ_SECONDS=600` to run each longer.
# The library goes through an archive so each target links only the
# objects it uses.
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude $(DEP_CFLAGS) -DSP_VERSION='"$(VERSION)"'
fuzz-build: | $(DEP_STAMP)
	@bash scripts/test-deps.sh build fuzz
	@mkdir -p build-fuzz/obj
	@rm -f build-fuzz/libprobe.a
	@for f in $(LIB_SRC); do \
	  clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined \
	    -c -o build-fuzz/obj/$$(basename $$f .c).o $$f || exit 1; done
	@ar rcs build-fuzz/libprobe.a build-fuzz/obj/*.o
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "  CC $$n"; \
	  clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -o build-fuzz/$$n $$f build-fuzz/libprobe.a $(DEP_LIBS) -lm || exit 1; done
fuzz: fuzz-build
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  mkdir -p build-fuzz/corpus-$$n; \
	  build-fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=70000 -artifact_prefix=build-fuzz/$$n- build-fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

demo: all
	bash scripts/demo.sh

analyze:
	@bash scripts/test-deps.sh analyze
	cppcheck --enable=warning,portability --error-exitcode=1 --inline-suppr -Iinclude -q probe

clean:
	rm -rf build build-asan build-fuzz build-poll

distclean: clean
	rm -rf $(DEPS)

# Installation (packagers: DESTDIR, PREFIX, BINDIR, MANDIR; the Debian
# package uses `make install DESTDIR=debian/smtp-probe PREFIX=/usr`).
# Not stripped: dh_strip and distribution tools do that themselves.
INSTALL     ?= install
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
DATADIR     ?= $(PREFIX)/share/smtp-probe
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions

install: $(BUILD)/smtp-probe
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR) \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	$(INSTALL) -m 0755 $(BUILD)/smtp-probe $(DESTDIR)$(BINDIR)/smtp-probe
	$(INSTALL) -m 0644 doc/smtp-probe.1 $(DESTDIR)$(MANDIR)/man1/smtp-probe.1
	$(INSTALL) -m 0644 docs/smtp-probe.schema.json $(DESTDIR)$(DATADIR)/smtp-probe.schema.json
	$(INSTALL) -m 0644 completions/smtp-probe.bash $(DESTDIR)$(BASHCOMPDIR)/smtp-probe
	$(INSTALL) -m 0644 completions/_smtp-probe $(DESTDIR)$(ZSHCOMPDIR)/_smtp-probe

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/smtp-probe $(DESTDIR)$(MANDIR)/man1/smtp-probe.1 \
	  $(DESTDIR)$(DATADIR)/smtp-probe.schema.json \
	  $(DESTDIR)$(BASHCOMPDIR)/smtp-probe $(DESTDIR)$(ZSHCOMPDIR)/_smtp-probe
	-rmdir $(DESTDIR)$(DATADIR) 2>/dev/null || true
