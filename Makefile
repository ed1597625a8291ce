# Storj Registry: build, run and test. `make help` lists the targets.
SHELL := /bin/bash
VERSION    := 0.1.0
CC         ?= cc
PKGS       := libmicrohttpd jansson libcurl libcrypto libcrypt yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN       := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
CFLAGS     ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE $(WARN) -DSR_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -pthread
LDLIBS     += $(PKG_LIBS) -pthread

BIN        := backend/storj-registryd
SRCS       := $(wildcard backend/*.c)
LIB_SRCS   := $(filter-out backend/main.c,$(SRCS))
OBJS       := $(SRCS:.c=.o)
LIB_OBJS   := $(LIB_SRCS:.c=.o)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:.c=)
SUPPORT    := $(wildcard tests/unit/support/*.c)

# standalone mode for `make run`
RUN_LISTEN ?= 127.0.0.1:8090
RUN_STATE  ?= $(CURDIR)/.state
RUN_ARGS   ?=

.PHONY: lint-ui all run test unit integration browser extension install-extension \
        asan valgrind fuzz lint format bench deps clean help

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

backend/%.o: backend/%.c $(wildcard backend/*.h)
	$(CC) $(CFLAGS) -c -o $@ $<

# each test links the backend's objects, compiled once (with the same
# CFLAGS: `make asan` rebuilds them all with the sanitizers)
SUPPORT_OBJS := $(SUPPORT:.c=.o)
tests/unit/support/%.o: tests/unit/support/%.c $(wildcard tests/unit/support/*.h backend/*.h)
	$(CC) $(CFLAGS) -Ibackend -Itests/unit/support -c -o $@ $<

tests/unit/test_%: tests/unit/test_%.c $(LIB_OBJS) $(SUPPORT_OBJS) $(wildcard backend/*.h tests/unit/support/*.h)
	$(CC) $(CFLAGS) -Ibackend -Itests/unit/support -o $@ $< $(LIB_OBJS) $(SUPPORT_OBJS) $(LDFLAGS) $(LDLIBS) -lcmocka

help:
	@echo "make            build $(BIN)"
	@echo "make run        build and run the backend standalone on http://$(RUN_LISTEN) (UI + API, local Docker)"
	@echo "make test       everything CI runs: units, sanitizers, valgrind, fuzz, integration, image, browser"
	@echo "make unit       cmocka unit tests"
	@echo "make asan       unit tests under AddressSanitizer + UBSan"
	@echo "make valgrind   unit tests under valgrind"
	@echo "make fuzz       the fuzzers (grant decoder for FUZZ_SECONDS, default 60; the others a third each)"
	@echo "make integration  backend + real Docker engine + real S3 (Ceph RGW)"
	@echo "make browser    the UI in headless Chromium against the real backend"
	@echo "make extension  build the extension image (one index: linux/amd64 + linux/arm64; build/*.oci.tar)"
	@echo "make install-extension  install it in Docker Desktop"
	@echo "make bench      memory, latency and start-time figures into bench/results/"
	@echo "make lint       clang-format check + cppcheck; make format rewrites"

deps:
	@scripts/install-deps.sh

# installs what is missing first (apt-get, with sudo when not root), then
# builds in a fresh make so pkg-config sees the new libraries
run:
	@scripts/install-deps.sh
	@$(MAKE) -s all
	@scripts/run.sh $(RUN_LISTEN) $(RUN_STATE) $(RUN_ARGS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; ./$$t; done

asan:
	$(MAKE) clean-objs
	$(MAKE) unit CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
	$(MAKE) clean-objs

valgrind: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== valgrind $$t"; \
	  valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=1 ./$$t; done

FUZZ_SECONDS ?= 60
# every parser of outside input: the grant decoder for FUZZ_SECONDS, the
# Docker stream decoders, settings (request body and file), the registry's
# manifests, the clean-up's reading, plan and apply from fuzzed registry
# answers (plan), and every YAML file the backend writes from hostile
# strings in the settings (yaml) for a third of it each
FUZZ_CC    := clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -DSR_VERSION='"fuzz"' -Wno-string-plus-int -Ibackend
FUZZ_TARGETS := grant dstream settings browse plan yaml
fuzz:
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(shell pkg-config --cflags jansson) tests/fuzz/fuzz_grant.c backend/grant.c backend/errors.c \
	  -o build/fuzz/fuzz_grant $(shell pkg-config --libs jansson libcrypto)
	$(FUZZ_CC) tests/fuzz/fuzz_dstream.c backend/dstream.c -o build/fuzz/fuzz_dstream $(shell pkg-config --libs jansson)
	$(FUZZ_CC) $(PKG_CFLAGS) tests/fuzz/fuzz_settings.c $(LIB_SRCS) -o build/fuzz/fuzz_settings $(PKG_LIBS) -pthread
	$(FUZZ_CC) $(PKG_CFLAGS) tests/fuzz/fuzz_browse.c $(LIB_SRCS) -o build/fuzz/fuzz_browse $(PKG_LIBS) -pthread
	$(FUZZ_CC) $(PKG_CFLAGS) tests/fuzz/fuzz_plan.c $(LIB_SRCS) -o build/fuzz/fuzz_plan $(PKG_LIBS) -pthread
	$(FUZZ_CC) $(PKG_CFLAGS) -Itests/unit/support tests/fuzz/fuzz_yaml.c tests/unit/support/yamltest.c $(LIB_SRCS) \
	  -o build/fuzz/fuzz_yaml $(PKG_LIBS) -pthread
	@set -e; for t in $(FUZZ_TARGETS); do \
	  secs=$(FUZZ_SECONDS); [ $$t = grant ] || secs=$$(( $(FUZZ_SECONDS) / 3 + 1 )); \
	  rm -rf build/fuzz/corpus-$$t; mkdir -p build/fuzz/corpus-$$t; cp tests/fuzz/corpus/$$t/* build/fuzz/corpus-$$t/; \
	  echo "== fuzz $$t for $$secs s"; \
	  build/fuzz/fuzz_$$t -max_total_time=$$secs -print_final_stats=1 -artifact_prefix=build/fuzz/$$t- build/fuzz/corpus-$$t 2>&1 | \
	    grep -E '^(stat::number_of_executed_runs|==[0-9]+==ERROR|SUMMARY|INFO: Running|#[0-9]+.*DONE)' ; \
	  test $${PIPESTATUS[0]} -eq 0; done

integration: $(BIN)
	tests/integration/run.sh

browser: $(BIN)
	tests/browser/run.sh

extension:
	scripts/build-extension.sh

install-extension:
	scripts/install-extension.sh

test:
	@scripts/install-deps.sh --test
	@tests/run.sh

bench: $(BIN)
	bench/run.sh

lint: lint-ui
	clang-format --dry-run --Werror backend/*.c backend/*.h
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr -D_GNU_SOURCE backend/

# The tab's JavaScript: // @ts-check with JSDoc types, checked by TypeScript's
# compiler (from npm, in tests/browser's dev dependencies; nothing emitted).
TSC = tests/browser/node_modules/.bin/tsc
lint-ui:
	@test -x $(TSC) || (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
	$(TSC) -p ui/tsconfig.json
	@for f in ui/*.js; do head -1 $$f | grep -q '^// @ts-check' || { echo "$$f: first line must be // @ts-check"; exit 1; }; done

format:
	clang-format -i backend/*.c backend/*.h tests/unit/*.c tests/unit/support/*.[ch]

clean-objs:
	rm -f backend/*.o tests/unit/support/*.o $(UNIT_BINS) $(BIN)

clean: clean-objs
	rm -rf build bench/results
