# dreamwatch — build, test, benchmark, install.
#   make            build ./dreamwatch
#   make run        set up and watch the sample night
#   make check      set up and run every test (closing line "N passed, N failed")
#   make bench      benchmarks, as ratios against a reference measured in the same run
#   make asan|tsan  sanitizer builds in build-asan/ and build-tsan/ (and run the tests there)
#   make valgrind   the real binary under valgrind on representative paths
#   make install    PREFIX=/usr/local DESTDIR=

VERSION := 0.1.0
PREFIX  ?= /usr/local
DATADIR ?= $(PREFIX)/share/dreamwatch
MANDIR  ?= $(PREFIX)/share/man
B       ?= build
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 -Wno-format-truncation
ifneq ($(CI),)
WARN    += -Werror
endif
SAN     ?=
DW_CPPFLAGS := -D_GNU_SOURCE -Isrc -I$(B)/gen -DDW_VERSION='"$(VERSION)"' -DDW_DATADIR='"$(DATADIR)"'
# Tests, benches and fuzzers find the tree's own files (models, the example config, ../shared) through this;
# the installed program never sees the source path.
TEST_CPPFLAGS := -DDW_SRCDIR='"$(CURDIR)"' -Itests/unit
DW_CFLAGS   := -std=c11 -pthread $(WARN) $(SAN) $(CFLAGS)
LDLIBS  := $(shell pkg-config --libs ncursesw libserialport inih fftw3 2>/dev/null || echo -lncursesw -ltinfo -lserialport -linih -lfftw3) -lmosquitto -ledf -lm -lpthread

MAIN    := src/app/main.c
SRCS    := $(filter-out $(MAIN),$(wildcard src/*/*.c))
OBJS    := $(SRCS:%.c=$(B)/%.o) $(B)/gen/models.o
MODELS  := $(wildcard src/staging/models/*.dwm)
UNIT    := $(wildcard tests/unit/test_*.c)
UNITBIN := $(UNIT:tests/unit/%.c=$(B)/tests/%)
FUZZ    := $(wildcard tests/fuzz/fuzz_*.c)
BENCH   := $(wildcard tests/bench/bench_*.c)
BENCHBIN:= $(BENCH:tests/bench/%.c=$(B)/bench/%)
SAMPLE  := sample-data/sample-night.edf

.PHONY: all deps deps-check run check check-run test bench bench-run asan tsan valgrind fuzz soak install uninstall clean layers
# `make` builds and nothing else; set-up (Debian packages) is `make deps`, which run and check call first.
all: dreamwatch $(SAMPLE)

deps-check:
	@sh tools/deps.sh check

dreamwatch: $(B)/dreamwatch
	@cp $< $@

$(B)/dreamwatch: $(B)/src/app/main.o $(B)/libdw.a
	$(CC) $(DW_CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/libdw.a: $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/%.o: %.c | $(B)/gen/models.c
	@mkdir -p $(dir $@)
	$(CC) $(DW_CPPFLAGS) $(DW_CFLAGS) -MMD -MP -c -o $@ $<

# The shipped models are compiled in (text, and its numbers as C literals: no decimals parsed at start),
# so the binary stages without any file beside it.
$(B)/gen/models.c: $(MODELS) tools/embed.sh src/staging/models_embedded.h
	@mkdir -p $(dir $@)
	sh tools/embed.sh $(MODELS) > $@
$(B)/gen/models.o: $(B)/gen/models.c
	$(CC) $(DW_CPPFLAGS) $(DW_CFLAGS) -c -o $@ $<

# The sample night is committed compressed; the EDF itself is made on first build.
$(SAMPLE): $(SAMPLE).gz
	gzip -dc $< > $@.tmp && mv $@.tmp $@

$(B)/tests/%: tests/unit/%.c $(B)/libdw.a
	@mkdir -p $(dir $@)
	$(CC) $(DW_CPPFLAGS) $(TEST_CPPFLAGS) $(DW_CFLAGS) -MMD -MP -o $@ $< $(B)/libdw.a $(LDLIBS)

$(B)/bench/%: tests/bench/%.c $(B)/libdw.a
	@mkdir -p $(dir $@)
	$(CC) $(DW_CPPFLAGS) $(TEST_CPPFLAGS) $(DW_CFLAGS) -MMD -MP -o $@ $< $(B)/libdw.a $(LDLIBS)

deps:
	@sh tools/deps.sh build

run:
	@sh tools/deps.sh build
	@$(MAKE) --no-print-directory all
	./dreamwatch

check:
	@sh tools/deps.sh check
	@$(MAKE) --no-print-directory check-run
check-run: all $(UNITBIN)
	@B=$(B) sh tests/run.sh

# Layers point down (src/*/: base < dsp < edf < sources < record < staging < session < monitor < screen < app).
layers:
	@sh tests/layers.sh

test: check

bench:
	@sh tools/deps.sh check
	@$(MAKE) --no-print-directory bench-run
bench-run: all $(BENCHBIN) $(B)/bench/wardsim $(B)/bench/wake_floor
	@B=$(B) sh tests/bench.sh

# tests/run.sh sends any sanitizer report to $(B)/sanitizer-logs/ and counts each as a FAIL. clang for
# asan: its ASan runtime holds UBSan, so UBSan reports go there too (GCC's separate libubsan ignores log_path).
asan:
	$(MAKE) B=build-asan CC=clang SAN='-fsanitize=address,undefined -fno-omit-frame-pointer -Wno-unknown-warning-option' CFLAGS='-O1 -g' check
tsan:
	$(MAKE) B=build-tsan SAN='-fsanitize=thread' CFLAGS='-O1 -g' check
# The real binary under valgrind memcheck (full leak check) on representative paths; about 2 min of CPU.
valgrind: all
	@DW_BIN=$(CURDIR)/$(B)/dreamwatch sh tests/valgrind.sh

# 100 SIGKILLs of `record` at random times up to 45 s (about 40 min; make check runs 10 up to 5 s): every
# recording reads in MNE before recover and in EDFlib after, at most 1.0 s of data and no annotation lost.
soak: all
	@sh tools/deps.sh check
	@DW_BIN=$(CURDIR)/$(B)/dreamwatch KILL_MAX_S=45 sh tests/soak/kill_record.sh 100

# libFuzzer targets (clang); `make check` runs each briefly, `make fuzz FUZZ_SECONDS=600` longer. A target's
# own libFuzzer options sit in its source on a line "/* fuzz: OPTIONS */" (e.g. -max_len for line readers).
FUZZ_SECONDS ?= 600
FUZZBIN := $(FUZZ:tests/fuzz/%.c=build-fuzz/%)
FUZZFLAGS := -std=c11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZOBJS := $(SRCS:%.c=build-fuzz/obj/%.o) build-fuzz/obj/models.o
build-fuzz/obj/%.o: %.c | $(B)/gen/models.c
	@mkdir -p $(dir $@)
	clang $(FUZZFLAGS) -fsanitize=fuzzer-no-link $(DW_CPPFLAGS) -MMD -MP -c -o $@ $<
build-fuzz/obj/models.o: $(B)/gen/models.c
	@mkdir -p $(dir $@)
	clang $(FUZZFLAGS) $(DW_CPPFLAGS) -c -o $@ $<
build-fuzz/libdw.a: $(FUZZOBJS)
	@rm -f $@
	ar rcs $@ $^
build-fuzz/%: tests/fuzz/%.c build-fuzz/libdw.a
	clang $(FUZZFLAGS) -fsanitize=fuzzer $(DW_CPPFLAGS) $(TEST_CPPFLAGS) -o $@ $< build-fuzz/libdw.a $(LDLIBS)
fuzz: $(FUZZBIN)
	@for f in $(FUZZBIN); do n=$$(basename $$f); mkdir -p build-fuzz/corpus-$$n; \
	  $$f $$(sed -n 's|^/\* fuzz: \([^*]*\) \*/.*|\1|p' tests/fuzz/$$n.c) -max_total_time=$(FUZZ_SECONDS) \
	    -print_final_stats=1 build-fuzz/corpus-$$n $$([ -d tests/fuzz/seeds/$${n#fuzz_} ] && echo tests/fuzz/seeds/$${n#fuzz_}) \
	    || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR)/themes $(DESTDIR)$(DATADIR)/models $(DESTDIR)$(DATADIR)/sample-data
	install -m 755 dreamwatch $(DESTDIR)$(PREFIX)/bin/dreamwatch
	install -m 644 man/dreamwatch.1 $(DESTDIR)$(MANDIR)/man1/dreamwatch.1
	install -m 644 themes/*.ini $(DESTDIR)$(DATADIR)/themes/
	install -m 644 $(MODELS) $(DESTDIR)$(DATADIR)/models/
	install -m 644 $(SAMPLE) $(DESTDIR)$(DATADIR)/sample-data/
	install -m 644 sample-data/config.example.ini $(DESTDIR)$(DATADIR)/config.example.ini

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/dreamwatch $(DESTDIR)$(MANDIR)/man1/dreamwatch.1
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-asan build-tsan build-fuzz dreamwatch $(SAMPLE)

-include $(OBJS:.o=.d) $(B)/src/app/main.d $(UNITBIN:=.d) $(BENCHBIN:=.d) $(FUZZOBJS:.o=.d)
