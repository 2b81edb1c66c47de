# crmscope - one plain Makefile: all, test, demo, bench, fuzz, clean.
# Dependencies are Debian packages found through pkg-config (scripts/setup.sh).

CC      ?= cc
PKGS    := sqlite3 gsl jansson libutf8proc libsodium
WARN    := -std=c11 -Wall -Wextra -Wshadow -Wconversion -Wstrict-prototypes \
           -Wmissing-prototypes -Werror
CPPFLAGS := -D_GNU_SOURCE -Iinclude -Isrc
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lpthread -lm
OPT     := -O2 -g
BUILD   := build

LIB_SRC  := $(sort $(wildcard src/core/*.c src/ingest/*.c src/store/*.c src/data/*.c \
              src/metrics/*.c src/models/*.c src/clean/*.c src/report/*.c src/demo/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_SUPPORT := tests/support.c
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/rel/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/rel/%.o)
TLIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/san/%.o)
TCLI_OBJ := $(filter-out $(BUILD)/san/src/cli/main.o,$(CLI_SRC:%.c=$(BUILD)/san/%.o))
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/san/%.o) $(TEST_SUPPORT:%.c=$(BUILD)/san/%.o)
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all setup test unit fuzz fuzz-run demo bench clean
all: $(BUILD)/crmscope

setup:
	@sh scripts/setup.sh

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) $(CPPFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O1 -g $(SAN) $(CPPFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libcrmscope.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/crmscope: $(CLI_OBJ) $(BUILD)/libcrmscope.a
	$(CC) $(OPT) -o $@ $(CLI_OBJ) $(BUILD)/libcrmscope.a $(PKG_LIBS)

# All tests link into one Criterion binary, so the run ends on one summary.
# A hang fails the run through timeout(1); tests set no .timeout of their own:
# under --jobs 2, Criterion 2.4 reports a spurious leak for concurrent timed tests.
$(BUILD)/crmscope_tests: $(TEST_OBJ) $(TLIB_OBJ) $(TCLI_OBJ)
	$(CC) -g $(SAN) -o $@ $^ $(PKG_LIBS) -lcriterion

# Fuzz targets: clang's libFuzzer with ASan and UBSan.
FUZZ_FLAGS := -g -O1 -Werror=incompatible-function-pointer-types -Werror=implicit-function-declaration -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -Iinclude -Isrc
$(BUILD)/fuzz/%: fuzz/%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB_SRC) $(PKG_LIBS)

FUZZ_BINS := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)
fuzz: setup $(FUZZ_BINS)

# A short run of every fuzz target (seconds each); `make fuzz-run FUZZ_SECONDS=600` for more.
FUZZ_SECONDS ?= 15
fuzz-run: fuzz
	@for f in $(FUZZ_BINS); do \
	  name=$$(basename $$f); mkdir -p $(BUILD)/corpus/$$name; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=0 \
	    $(BUILD)/corpus/$$name tests/corpus/$$name 2>$(BUILD)/corpus/$$name.log \
	    || { tail -50 $(BUILD)/corpus/$$name.log; exit 1; }; \
	done

unit: setup $(BUILD)/crmscope $(BUILD)/crmscope_tests
	CRMSCOPE_BIN=$(BUILD)/crmscope ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  timeout 900 $(BUILD)/crmscope_tests --jobs 2

test: setup
	@$(MAKE) --no-print-directory fuzz-run
	@$(MAKE) --no-print-directory unit

demo: setup $(BUILD)/crmscope
	sh scripts/demo.sh

bench: setup $(BUILD)/crmscope
	sh scripts/setup.sh --bench
	sh bench/run.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
