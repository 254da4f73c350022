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
PKGS     = ncursesw libcurl libcjson sqlite3 avahi-client libmicrohttpd
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla $(WERROR)
WERROR  ?= -Werror
OPT     ?= -O2 -g
# CFLAGS from the command line or the environment are added last, never replace these.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(OPT) -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(WARN) -Iinclude -MMD -MP \
	$(PKG_CFLAGS) $(CFLAGS)
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcrypto -lm
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

.PHONY: all deps run demo check check-plain check-san test bench fuzz lint clean
# Keep the objects of tests and fuzz replays (intermediate files of chained rules) between runs.
.SECONDARY:
all: $(BUILD)/shelly-tui $(BUILD)/shelly-provisioner $(BUILD)/shelly-sim $(UNIT_BIN) $(REPLAY)

deps:
	@sh tools/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libshelly.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/shelly-tui: $(BUILD)/src/cli/main.o $(BUILD)/libshelly.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/shelly-provisioner: $(BUILD)/src/agent/provisioner.o $(BUILD)/libshelly.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/shelly-sim: $(SIM_OBJ) $(BUILD)/libshelly.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libshelly.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS) -lcmocka

$(BUILD)/fuzz/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(BUILD)/libshelly.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# libFuzzer builds need clang; they are separate from the gcc build and not part of `make check`.
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Iinclude -g -O1 \
		-fsanitize=fuzzer,address,undefined $(shell pkg-config --cflags $(PKGS)) \
		-o $@ $< $(LIB_SRC) $(LIBS)

fuzz: deps $(FUZZERS)

run: deps $(BUILD)/shelly-tui
	$(BUILD)/shelly-tui --headless

demo: deps all
	sh tools/demo.sh $(BUILD)

# The whole suite: plain build, then the same suite under ASan+UBSan; one closing line.
check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=build-san OPT="-O1 -g $(SAN)" all
	@sh tests/run.sh build build-san

check-plain: deps all
	@sh tests/run.sh build

check-san: deps
	@$(MAKE) --no-print-directory BUILD=build-san OPT="-O1 -g $(SAN)" all
	@sh tests/run.sh build-san

bench: deps all
	sh tests/bench/run.sh $(BUILD)

lint:
	mandoc -Tlint -W warning shelly-tui.1 shelly-provisioner.1

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
