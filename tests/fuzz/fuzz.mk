# Fuzz targets: libFuzzer with clang, ASan and UBSan, over the project's
# objects rebuilt with clang into $(FUZZ_BUILD).
#   make fuzz         each target FUZZ_SECONDS (default 600), one after the
#                     other; prints runs, coverage and corpus size; fails on
#                     any finding (crash, leak, UB, timeout, OOM)
#   make fuzz-smoke   each target FUZZ_SMOKE_SECONDS (default 15)
# Seeds are in tests/fuzz/corpus/<target>/; new inputs found while fuzzing
# go to $(FUZZ_BUILD)/corpus/<target>/, findings to $(FUZZ_BUILD)/findings/.
FUZZ_CC          ?= clang
FUZZ_BUILD       ?= build/fuzz
FUZZ_SECONDS     ?= 600
FUZZ_SMOKE_SECONDS ?= 15
FUZZ_TARGETS      = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS         = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
FUZZ_SAN          = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS       = -std=c11 -D_GNU_SOURCE -DGLUEMETAD_VERSION='"$(VERSION)"' -g -O1 \
                    -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla \
                    $(FUZZ_SAN) -Iinclude $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_OBJ          = $(LIB_SRC:src/%.c=$(FUZZ_BUILD)/obj/%.o)

.PHONY: fuzz fuzz-smoke fuzz-build

fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/obj/%.o: src/%.c $(wildcard include/*.h) | $(FUZZ_BUILD)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wmissing-prototypes -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libgluemetad.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $(FUZZ_OBJ)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_BUILD)/libgluemetad.a \
                      $(wildcard include/*.h) $(wildcard src/*.c)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libgluemetad.a $(LIBS) -lpthread

$(FUZZ_BUILD)/obj:
	mkdir -p $@

fuzz: deps-test fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: deps-test fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

# The seed corpora replayed through each target, built with $(CC) and the
# project's flags (no libFuzzer, no sanitizer), under valgrind.
REPLAY_BUILD      = $(BUILD)/replay
REPLAY_BINS       = $(FUZZ_TARGETS:%=$(REPLAY_BUILD)/%)

.PHONY: fuzz-replay-valgrind

$(REPLAY_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h \
                        $(BUILD)/libgluemetad.a $(wildcard include/*.h)
	@mkdir -p $(REPLAY_BUILD)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< tests/fuzz/replay.c \
	    $(BUILD)/libgluemetad.a $(LIBS) -lpthread

fuzz-replay-valgrind: $(REPLAY_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do echo "== valgrind $$t: tests/fuzz/corpus/$$t"; \
	    $(VALGRIND) $(REPLAY_BUILD)/$$t tests/fuzz/corpus/$$t; done
