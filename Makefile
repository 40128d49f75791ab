# gluemetad — build, test, demo, install.
PREFIX     ?= /usr/local
DESTDIR    ?=
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),$(PREFIX)/lib/systemd/system)
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DOCDIR     ?= $(PREFIX)/share/doc/gluemetad
BUILD      ?= build
CC         ?= cc
PKGS        = libuv libcurl yaml-0.1 libcjson openssl libsystemd
SHARED     ?= $(abspath ../shared)
PYTHON     ?= /usr/bin/python3

# STYLE's warnings.  -Wno-format-truncation: every snprintf into a fixed
# buffer here truncates on purpose (names shortened for a log line, a
# history entry, an error message), and gcc's guess at the longest output
# would flag each of them.
WARN        = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
              -Wmissing-declarations -Wpointer-arith -Wcast-qual -Wno-format-truncation
CFLAGS     ?= -O2 -g
VERSION     = 0.1.0
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE -DGLUEMETAD_VERSION='"$(VERSION)"' $(CPPFLAGS) \
              $(WARN) $(CFLAGS) $(SAN) -Iinclude \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS        = $(LDFLAGS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
# gluemetactl needs cJSON alone: no TLS or event-loop library to load and
# relocate at each start (a third of a `status` call's time).
CTL_LIBS    = $(LDFLAGS) $(shell pkg-config --libs libcjson 2>/dev/null)
TEST_LIBS   = $(shell pkg-config --libs cmocka 2>/dev/null)

LIB_SRC     = $(filter-out src/main.c src/gluemetactl.c,$(wildcard src/*.c))
LIB_OBJ     = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRC    = $(wildcard tests/unit/test_*.c)
UNIT_BIN    = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

VALGRIND    = valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
              --errors-for-leak-kinds=definite,indirect --error-exitcode=99
SAN_FLAGS   = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: all deps deps-test check unit integration demo bench clean install uninstall \
        check-asan check-valgrind deb rpm deps-packaging check-packaging check-cron \
        image deps-image check-image check-deploy deps-deploy

all: $(BUILD)/gluemetad $(BUILD)/gluemetactl

deps:
	@sh scripts/deps.sh build

deps-test:
	@sh scripts/deps.sh test

.PHONY: deps-demo check-shared check-fresh
deps-demo:
	@sh scripts/deps.sh demo $(SHARED)

# The specification folder SHARED (outside the repository) the tests check
# gluemetad against: stops at once, naming what is missing, when it is not
# there.
check-shared:
	@sh scripts/check-shared.sh $(SHARED)

$(BUILD)/obj/%.o: src/%.c $(wildcard include/*.h) | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libgluemetad.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $(LIB_OBJ)

$(BUILD)/gluemetad: $(BUILD)/obj/main.o $(BUILD)/libgluemetad.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/gluemetactl: $(BUILD)/obj/gluemetactl.o $(BUILD)/obj/util.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(CTL_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libgluemetad.a $(wildcard include/*.h) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -DSHARED_DIR='"$(SHARED)"' -o $@ $< $(BUILD)/libgluemetad.a $(TEST_LIBS) $(LIBS)

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

unit: check-shared $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done
	$(MAKE) check-cron

# The schedules of random cron expressions in five zones, around their
# daylight saving changes, against croniter (python3-croniter); each known
# difference is explained and counted, any other fails.
CRON_COUNT ?= 10000
check-cron: $(BUILD)/gluemetad
	$(PYTHON) tests/cron/differential.py --binary $(BUILD)/gluemetad --count $(CRON_COUNT)

# The integration classes run JOBS at a time (default: twice the CPUs, at
# least 2); CLASSES=module.Class,... runs only those, K=text only the tests
# whose id holds it.
INTEGRATION_ARGS = $(if $(CLASSES),--classes $(CLASSES)) $(if $(K),-k $(K)) $(if $(JOBS),--jobs $(JOBS))
integration: check-shared $(BUILD)/gluemetad
	$(PYTHON) tests/integration/run.py --binary $(BUILD)/gluemetad --shared $(SHARED) \
	    --label "$(or $(LABEL),integration)" $(INTEGRATION_ARGS)

# make check: every phase, timed; at the end the time of each phase, the ten
# slowest classes of each integration pass, and a check that nothing (no
# process, no temporary file) was left behind.  What runs under which tool:
#   plain        unit tests, the whole integration suite
#   ASan/UBSan   unit tests, the whole integration suite
#   valgrind     unit tests, the fuzz seed corpora replayed through each fuzz
#                target's input function, and an integration subset
#                (VALGRIND_CLASSES: daemon lifecycle and reloads, metrics, transport
#                faults, an OpenMetadata restart, one full ingest, tags and
#                owners, lineage, usage, incremental runs, text from outside, and the
#                failure matrix and property test of test_safety.py, reduced
#                under a checker to one fault kind per read and 5 seeds); valgrind is 20-50x slower, so the rest of the suite,
#                which exercises the same code paths, runs under ASan only
#   fuzz smoke   each libFuzzer target FUZZ_SMOKE_SECONDS
#   deploy       the Kubernetes manifests validated offline (kubernetes-models)
#   packaging    the .deb and .rpm built, linted, installed (root only)
#   image        the OCI image built and run under podman (root only)
# One phase alone: make unit | integration | check-asan | check-valgrind |
# fuzz-smoke | check-deploy | check-packaging | check-image.
CHECK_PHASES = all unit integration check-asan check-valgrind fuzz-smoke check-deploy
check: check-shared deps-test
	@sh tests/check.sh $(CHECK_PHASES) $(if $(filter 0,$(shell id -u)),check-packaging check-image)
	@[ "$$(id -u)" -eq 0 ] || echo "check-packaging and check-image skipped: they install packages and need root"

# The whole suite again on a build with AddressSanitizer and UBSan.
check-asan: check-shared deps-test
	ASAN_OPTIONS=exitcode=98:detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=halt_on_error=1:exitcode=97:print_stacktrace=1 \
	$(MAKE) BUILD=build/asan SAN="$(SAN_FLAGS)" CFLAGS="-O1 -g" LABEL="integration (ASan/UBSan)" \
	    CRON_COUNT=1000 \
	    all unit integration

VALGRIND_CLASSES = test_daemon.TestDaemon test_faults.TestSighupStorm test_faults.TestTransportFaults \
                   test_faults.TestOpenMetadataRestart test_ingest.TestEstate test_parity.TestTagsOwners \
                   test_parity.TestLineage test_incremental.TestIncremental \
                   test_text.TestOutsideText test_safety.TestGlueReadFailures \
                   test_safety.TestGlueReadFailures2 test_safety.TestAwsReadFailures \
                   test_safety.TestOpenMetadataReadFailures1 test_safety.TestOpenMetadataReadFailures2 \
                   test_safety.TestRandomFailures1 test_parity.TestUsage test_metrics.TestMetrics \
                   test_safety.TestLineageReadFailuresOverride test_operate.TestOneInstance \
                   test_operate.TestStrictProtocol test_health.TestStateNotSaved \
                   test_health.TestReloadResult test_check.TestCheckDaemon \
                   test_access.TestAccessLevels test_connections.TestIdleConnections \
                   test_schedule.TestCatchUp test_schedule.TestClockSteps \
                   test_cluster.TestJsonLogs test_cluster.TestReloadOnChange \
                   test_events.TestEvents test_events.TestEventsResilience
comma := ,
empty :=
space := $(empty) $(empty)

# The unit tests, the fuzz corpora and an integration subset under valgrind.
check-valgrind: check-shared deps-test
	$(MAKE) all $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== valgrind $$t"; $(VALGRIND) $$t; done
	$(PYTHON) tests/cron/differential.py --binary $(BUILD)/gluemetad --count 200 \
	    --wrapper "$(VALGRIND)"
	$(MAKE) fuzz-replay-valgrind
	GLUEMETAD_WRAPPER="$(VALGRIND)" $(MAKE) integration LABEL="integration (valgrind)" \
	    CLASSES="$(or $(CLASSES),$(subst $(space),$(comma),$(strip $(VALGRIND_CLASSES))))"

# The stand-ins on ports the kernel chooses, one ingest, what landed; runs
# without SHARED too (unchecked).  KEEP=1 keeps its temporary files.
demo: deps-demo
	$(MAKE) all
	$(PYTHON) tests/standins/demo.py --binary $(BUILD)/gluemetad --shared $(SHARED) \
	    $(if $(filter 1,$(KEEP)),--keep)

# Figures, not pass/fail: gluemetad against the stand-ins with injected latency,
# a sequential replica of OpenMetadata's connector, the idle daemon (not in check).
bench: check-shared
	@sh scripts/deps.sh bench
	$(MAKE) all
	$(PYTHON) tests/bench/bench.py --binary $(BUILD)/gluemetad --shared $(SHARED) \
	    --json $(BUILD)/bench.json $(BENCH_ARGS)
	@echo "the README's tables from these figures: $(PYTHON) tests/bench/table.py $(BUILD)/bench.json"

install: $(BUILD)/gluemetad $(BUILD)/gluemetactl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(COMPLETIONDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/gluemetad/workflows $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(BUILD)/gluemetad $(DESTDIR)$(SBINDIR)/gluemetad
	install -m 0755 $(BUILD)/gluemetactl $(DESTDIR)$(BINDIR)/gluemetactl
	install -m 0644 man/gluemetactl.1 $(DESTDIR)$(MANDIR)/man1/gluemetactl.1
	install -m 0644 man/gluemetad.yaml.5 $(DESTDIR)$(MANDIR)/man5/gluemetad.yaml.5
	install -m 0644 man/gluemetad.8 $(DESTDIR)$(MANDIR)/man8/gluemetad.8
	sed -e 's|/usr/sbin/gluemetad|$(SBINDIR)/gluemetad|g' \
	    -e 's|/usr/bin/gluemetactl|$(BINDIR)/gluemetactl|g' \
	    -e 's|/etc/gluemetad/|$(SYSCONFDIR)/gluemetad/|g' systemd/gluemetad.service \
	    > $(DESTDIR)$(UNITDIR)/gluemetad.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/gluemetad.service
	install -m 0644 systemd/gluemetad.sysusers $(DESTDIR)$(SYSUSERSDIR)/gluemetad.conf
	install -m 0644 systemd/gluemetad.tmpfiles $(DESTDIR)$(TMPFILESDIR)/gluemetad.conf
	install -m 0644 completion/gluemetactl $(DESTDIR)$(COMPLETIONDIR)/gluemetactl
	ln -sf gluemetactl $(DESTDIR)$(COMPLETIONDIR)/gluemetad
	install -m 0644 conf/examples/*.yaml conf/examples/*.yml $(DESTDIR)$(DOCDIR)/examples/
	@# configuration is never overwritten
	test -e $(DESTDIR)$(SYSCONFDIR)/gluemetad/gluemetad.yaml || \
	    install -m 0640 conf/gluemetad.yaml $(DESTDIR)$(SYSCONFDIR)/gluemetad/gluemetad.yaml

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/gluemetad $(DESTDIR)$(BINDIR)/gluemetactl \
	    $(DESTDIR)$(MANDIR)/man1/gluemetactl.1 $(DESTDIR)$(MANDIR)/man5/gluemetad.yaml.5 \
	    $(DESTDIR)$(MANDIR)/man8/gluemetad.8 $(DESTDIR)$(UNITDIR)/gluemetad.service \
	    $(DESTDIR)$(SYSUSERSDIR)/gluemetad.conf $(DESTDIR)$(TMPFILESDIR)/gluemetad.conf \
	    $(DESTDIR)$(COMPLETIONDIR)/gluemetactl $(DESTDIR)$(COMPLETIONDIR)/gluemetad
	rm -rf $(DESTDIR)$(DOCDIR)

deps-packaging:
	@sh scripts/deps.sh packaging

# Debian package: build/deb/gluemetad_$(VERSION)_*.deb, checked by lintian.
deb: deps-packaging
	rm -rf build/deb && mkdir -p build/deb/gluemetad-$(VERSION)
	tar -cf - Makefile README.md src include man conf systemd completion scripts \
	    | tar -C build/deb/gluemetad-$(VERSION) -xf -
	cp -r packaging/debian build/deb/gluemetad-$(VERSION)/debian
	cd build/deb/gluemetad-$(VERSION) && dpkg-buildpackage -us -uc -b
	@# lintian leaves a cache file in TMPDIR: give it one of its own, removed after
	mkdir -p build/deb/tmp && TMPDIR=$(abspath build/deb/tmp) \
	    lintian --fail-on warning --suppress-tags bad-distribution-in-changes-file build/deb/*.changes; \
	    rc=$$?; rm -rf build/deb/tmp; exit $$rc

# RPM package: build/rpm/RPMS/*/gluemetad-$(VERSION)-*.rpm.
rpm: deps-packaging
	rm -rf build/rpm && mkdir -p build/rpm/SOURCES build/rpm/src/gluemetad-$(VERSION)
	tar -cf - Makefile README.md src include man conf systemd completion scripts \
	    | tar -C build/rpm/src/gluemetad-$(VERSION) -xf -
	tar -C build/rpm/src -czf build/rpm/SOURCES/gluemetad-$(VERSION).tar.gz gluemetad-$(VERSION)
	rpmbuild -bb --define "_topdir $(abspath build/rpm)" --nodeps packaging/rpm/gluemetad.spec

# The README's first steps on a minimal Debian 12 (root; not part of check):
# a root filesystem from mmdebstrap --variant=minbase, the working tree
# copied in; make demo and make check without SHARED, then with it beside
# the copy make deb; the .deb installed with apt in a second minimal root
# filesystem and the unit's ExecReload run against a started daemon there.
# FULL=1 also runs the whole make check, KEEP=1 keeps the root filesystems,
# MIRROR= overrides the mirrors (default: this machine's apt sources).
check-fresh:
	@KEEP="$(KEEP)" FULL="$(FULL)" MIRROR="$(MIRROR)" sh scripts/check-fresh.sh $(SHARED)

# Lint, security exposure, and the .deb installed and run (needs root).
check-packaging: deb rpm
	$(PYTHON) tests/packaging/test_installed.py

deps-image:
	@sh scripts/deps.sh image

# The OCI image gluemetad:$(VERSION), saved as build/gluemetad.oci.tar
# (root: mmdebstrap, chroot, podman; the Debian root filesystem it builds in
# is kept in build/oci/builder).
image: deps-image
	sh packaging/oci/build.sh $(VERSION)

# The image run under podman against the stand-ins (root only).
check-image: check-shared
	@if [ "$$(id -u)" -ne 0 ]; then echo "check-image skipped: it needs root (mmdebstrap, chroot, podman)"; exit 0; fi; \
	$(MAKE) --no-print-directory image && \
	GLUEMETAD_SHARED=$(SHARED) $(PYTHON) tests/image/test_image.py $(VERSION)

deps-deploy:
	@sh scripts/deps.sh deploy

# deploy/kubernetes validated offline: every object against the Kubernetes
# schemas of kubernetes-models (pinned in tests/deploy/package-lock.json,
# installed with npm ci into $(BUILD)/deploy-node), every key one the
# schemas know, kustomization.yaml's resources all there, and the
# ConfigMaps' files accepted by gluemetad check.
check-deploy: deps-deploy $(BUILD)/gluemetad
	rm -rf $(BUILD)/deploy-node && mkdir -p $(BUILD)/deploy-node
	cp tests/deploy/package.json tests/deploy/package-lock.json $(BUILD)/deploy-node/
	cd $(BUILD)/deploy-node && npm ci --silent --no-audit --no-fund --ignore-scripts
	$(PYTHON) tests/deploy/test_manifests.py --node-modules $(abspath $(BUILD)/deploy-node/node_modules) \
	    --binary $(BUILD)/gluemetad

clean:
	rm -rf $(BUILD)

-include tests/fuzz/fuzz.mk
