# gluemetad — build, test, demo, install.
PREFIX     ?= /usr/local
DESTDIR    ?=
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
BUILD      ?= build
CC         ?= cc
PKGS        = libuv libcurl yaml-0.1 libcjson openssl libsystemd
SHARED     ?= $(abspath ../shared)
PYTHON     ?= /usr/bin/python3

WARN        = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
              -Wno-format-truncation
CFLAGS     ?= -O2 -g
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) -Iinclude \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS        = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
TEST_LIBS   = $(shell pkg-config --libs cmocka 2>/dev/null)

LIB_SRC     = $(filter-out src/main.c src/gluemetactl.c,$(wildcard src/*.c))
LIB_OBJ     = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRC    = $(wildcard tests/unit/test_*.c)
UNIT_BIN    = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

VALGRIND    = valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
              --errors-for-leak-kinds=definite,indirect --error-exitcode=99
SAN_FLAGS   = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: all deps deps-test check unit integration demo clean install uninstall \
        check-asan check-valgrind

all: $(BUILD)/gluemetad $(BUILD)/gluemetactl

deps:
	@sh scripts/deps.sh build

deps-test:
	@sh scripts/deps.sh test

$(BUILD)/obj/%.o: src/%.c $(wildcard include/*.h) | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libgluemetad.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $(LIB_OBJ)

$(BUILD)/gluemetad: $(BUILD)/obj/main.o $(BUILD)/libgluemetad.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/gluemetactl: $(BUILD)/obj/gluemetactl.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libgluemetad.a $(wildcard include/*.h) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -DSHARED_DIR='"$(SHARED)"' -o $@ $< $(BUILD)/libgluemetad.a $(TEST_LIBS) $(LIBS)

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

integration: $(BUILD)/gluemetad
	$(PYTHON) tests/integration/run.py --binary $(BUILD)/gluemetad --shared $(SHARED)

check: deps-test
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) integration
	$(MAKE) check-asan
	$(MAKE) check-valgrind

# The whole suite again on a build with AddressSanitizer and UBSan.
check-asan: deps-test
	ASAN_OPTIONS=exitcode=98:detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=halt_on_error=1:exitcode=97:print_stacktrace=1 \
	$(MAKE) BUILD=build/asan SAN="$(SAN_FLAGS)" CFLAGS="-O1 -g" all unit integration

# The unit tests and the integration suite under valgrind (slower).
check-valgrind: deps-test
	$(MAKE) all $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== valgrind $$t"; $(VALGRIND) $$t; done
	GLUEMETAD_WRAPPER="$(VALGRIND)" $(MAKE) integration

demo: deps-test
	$(MAKE) all
	$(PYTHON) tests/standins/demo.py --binary $(BUILD)/gluemetad --shared $(SHARED)

install: $(BUILD)/gluemetad $(BUILD)/gluemetactl
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 $(BUILD)/gluemetad $(DESTDIR)$(SBINDIR)/gluemetad
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/gluemetactl $(DESTDIR)$(BINDIR)/gluemetactl

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/gluemetad $(DESTDIR)$(BINDIR)/gluemetactl

clean:
	rm -rf $(BUILD)
