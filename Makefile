# shelly-tui build. Sources are picked up by wildcard so that a new module needs no edit here:
#   src/<layer>/<mod>.c        -> $(BUILD)/libshelly.a (everything but the two mains)
#   src/cli/main.c             -> $(BUILD)/shelly-tui
#   src/agent/provisioner.c    -> $(BUILD)/shelly-provisioner
#   tests/sim/*.c              -> $(BUILD)/shelly-sim
#   tests/unit/test_<x>.c      -> $(BUILD)/tests/test_<x>   (cmocka)
#   tests/fuzz/fuzz_<x>.c      -> $(BUILD)/fuzz/replay_<x> (gcc, replays tests/fuzz/corpus/<x>)
#                                 $(BUILD)/fuzz/fuzz_<x>   (clang libFuzzer, `make fuzz`)
BUILD   ?= build
CC      ?= cc
# libcurl is the GnuTLS flavour (libcurl4-gnutls-dev): with libmicrohttpd (GnuTLS too) and our
# certificate digests on GnuTLS, the process sets up one TLS library instead of two (RSS).
PKGS     = ncursesw libcurl libcjson sqlite3 avahi-client libmicrohttpd gnutls
# libavahi-client is loaded with dlopen by src/discovery/avahi_lib.c (only a process that
# browses pays for it and its eight dependencies); the simulator and the unit tests, which
# publish services themselves, link it.
AVAHI_LIBS := $(shell pkg-config --libs avahi-client 2>/dev/null)
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla $(WERROR)
WERROR  ?= -Werror
OPT     ?= -O2 -g
# CFLAGS from the command line or the environment are added last, never replace these.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(OPT) -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(WARN) -Iinclude -MMD -MP \
	$(PKG_CFLAGS) $(CFLAGS)
# Its runtime library, libcurl-gnutls.so.4, is linked by name: the headers of both flavours'
# -dev packages are the same, so a machine that has the OpenSSL flavour's installed links it too.
CURL_GNUTLS := $(if $(filter /%,$(shell $(CC) -print-file-name=libcurl-gnutls.so.4)),-l:libcurl-gnutls.so.4,-lcurl)
# Start-up: the dynamic loader looks every symbol up along the process's library list, in
# order, and libcrypto (loaded for libcurl's libssh2), SQLite and GnuTLS each bind hundreds to
# thousands of their own symbols. Listed first (then libc, which the rest bind to), those
# lookups stop early: a third fewer instructions in the loader, 6% of a poll of 200 devices.
CRYPTO_EARLY := $(if $(shell ldd $(shell $(CC) -print-file-name=libcurl-gnutls.so.4) 2>/dev/null | grep -o 'libcrypto\.so\.3'),-l:libcrypto.so.3)
EARLY_LIBS := -Wl,--push-state,--no-as-needed $(CRYPTO_EARLY) -lsqlite3 -lgnutls -lc -Wl,--pop-state
LIBS    := $(EARLY_LIBS) $(filter-out $(AVAHI_LIBS),$(patsubst -lcurl,$(CURL_GNUTLS),$(shell pkg-config --libs $(PKGS) 2>/dev/null))) -lm
# The simulator's test PKI and the unit tests' certificates are made with OpenSSL (libssl-dev).
TEST_LIBS = -lcrypto $(AVAHI_LIBS)
# Installation (make install / uninstall): DESTDIR stages, PREFIX is where it runs from.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/shelly-tui
UNITDIR ?= $(PREFIX)/lib/systemd/system
# Every top-level man page <prog>.1 names a program built as $(BUILD)/<prog>; every file in
# themes/ (but a README) is a theme; every deploy/systemd/*.service is a unit. New ones need no
# edit here.
MAN1     = $(wildcard *.1)
PROGS    = $(MAN1:.1=)
THEMES  ?= $(filter-out $(patsubst %/.,%,$(wildcard themes/*/.)) themes/README%,$(wildcard themes/*))
UNITS    = $(wildcard deploy/systemd/*.service)
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC  = $(filter-out src/cli/main.c src/agent/provisioner.c,$(wildcard src/*/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
SIM_SRC  = $(wildcard tests/sim/*.c)
SIM_OBJ  = $(SIM_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
REPLAY   = $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/fuzz/replay_%)
FUZZERS  = $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/fuzz/fuzz_%)

.PHONY: all install uninstall FORCE deps deps-test run demo check check-plain check-san test bench fuzz lint clean
# Keep the objects of tests and fuzz replays (intermediate files of chained rules) between runs.
.SECONDARY:
all: $(BUILD)/shelly-tui $(BUILD)/shelly-provisioner $(BUILD)/shelly-sim $(UNIT_BIN) $(REPLAY)

# deps: what building and running need (`make run`, `make demo`); deps-test: that, the test
# toolchain and the npm models of the k8s test (`make check`, `make bench`, `make fuzz`).
deps:
	@sh tools/deps.sh build

deps-test:
	@sh tools/deps.sh test

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The data directory is compiled into one object. Its stamp holds DATADIR and changes, which
# rebuilds the object, only when DATADIR does ('+': also under make -n and -q).
$(BUILD)/src/util/datadir.o: ALL_CFLAGS += -DSHELLY_TUI_DATADIR='"$(DATADIR)"'
$(BUILD)/src/util/datadir.o: $(BUILD)/datadir.stamp
$(BUILD)/datadir.stamp: FORCE
	+@mkdir -p $(dir $@) && { echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' >$@; }

$(BUILD)/libshelly.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/shelly-tui: $(BUILD)/src/cli/main.o $(BUILD)/libshelly.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/shelly-provisioner: $(BUILD)/src/agent/provisioner.o $(BUILD)/libshelly.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/shelly-sim: $(SIM_OBJ) $(BUILD)/libshelly.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS) $(TEST_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libshelly.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS) $(TEST_LIBS) -lcmocka

$(BUILD)/fuzz/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(BUILD)/libshelly.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# libFuzzer builds need clang; they are separate from the gcc build and not part of `make check`.
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Iinclude -g -O1 \
		-fsanitize=fuzzer,address,undefined $(shell pkg-config --cflags $(PKGS)) \
		-o $@ $< $(LIB_SRC) $(LIBS)

fuzz: deps-test $(FUZZERS)

# Units name /usr/local/bin in the tree; the installed copy names $(BINDIR).
install: $(PROGS:%=$(BUILD)/%)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR)
	install -m 0755 $(PROGS:%=$(BUILD)/%) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(if $(THEMES),install -d $(DESTDIR)$(DATADIR)/themes)
	$(if $(THEMES),install -m 0644 $(THEMES) $(DESTDIR)$(DATADIR)/themes/)
	$(foreach u,$(UNITS),sed 's|/usr/local/bin/|$(BINDIR)/|g' $(u) >$(DESTDIR)$(UNITDIR)/$(notdir $(u)) && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$(notdir $(u)) &&) true

uninstall:
	rm -f $(PROGS:%=$(DESTDIR)$(BINDIR)/%) $(MAN1:%=$(DESTDIR)$(MANDIR)/man1/%)
	rm -f $(foreach t,$(THEMES),$(DESTDIR)$(DATADIR)/themes/$(notdir $(t)))
	rm -f $(foreach u,$(UNITS),$(DESTDIR)$(UNITDIR)/$(notdir $(u)))
	@rmdir $(DESTDIR)$(DATADIR)/themes $(DESTDIR)$(DATADIR) 2>/dev/null || true

# make run DB=path: the console on that database (else the default one).
run: deps $(BUILD)/shelly-tui
	$(BUILD)/shelly-tui $(if $(DB),--db '$(DB)')

demo: deps all
	sh tools/demo.sh $(BUILD)

# The whole suite: plain build, then the same suite under ASan+UBSan; one closing line.
check: deps-test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=build-san OPT="-O1 -g $(SAN)" all
	@sh tests/run.sh build build-san

check-plain: deps-test all
	@sh tests/run.sh build

check-san: deps-test
	@$(MAKE) --no-print-directory BUILD=build-san OPT="-O1 -g $(SAN)" all
	@sh tests/run.sh build-san

bench: deps-test all
	sh tests/bench/run.sh $(BUILD)

lint:
	mandoc -Tlint -W warning shelly-tui.1 shelly-provisioner.1

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
