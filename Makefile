# tokenq — build, run, test.
#
#   make                 build/tokenq
#   make run             install what is missing, build, serve on sqlite:tokenq.db
#   make test            install what is missing, build, run every test suite
#   make SANITIZE=address,undefined test    the same under ASan + UBSan
#   make bench           the benchmarks (not part of test)
#   make install         PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
CFLAGS ?= -O2 -g
SANITIZE ?=
PYTHON ?= /usr/bin/python3

comma := ,
ifeq ($(SANITIZE),)
B := build
else
B := build/san-$(subst $(comma),-,$(SANITIZE))
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wvla -Wwrite-strings -Werror
PKGS := libmicrohttpd jansson libpq sqlite3 libqrencode libcurl harfbuzz freetype2 fribidi
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
SAN_FLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SAN_FLAGS) -pthread -Isrc -DTOKENQ_VERSION='"$(VERSION)"' \
	$(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS) -pthread
LIBS = $(PKG_LIBS) -lm

SRC := $(wildcard src/*/*.c)
OBJ := $(SRC:%.c=$(B)/%.o) $(B)/gen/embedded.o
MIGRATIONS := $(sort $(wildcard migrations/*/*.sql))
WEB := $(sort $(wildcard web/*.*))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
STORE_CONTRACT := $(sort $(wildcard tests/store/*.c))

.PHONY: all run deps test test-unit test-store test-http test-openapi test-hooks test-print test-e2e test-fuzz test-upgrade check-format format bench install clean

all: $(B)/tokenq

$(B)/tokenq: $(B)/src/main.o $(B)/libtokenq.a
	@echo "  LINK    $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/libtokenq.a: $(OBJ)
	@rm -f $@ && ar rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -o $@ $<

$(B)/gen/embedded.c: $(B)/tools/embed $(MIGRATIONS) $(WEB) Makefile
	@mkdir -p $(dir $@)
	@$(B)/tools/embed $@ $(foreach f,$(MIGRATIONS),$(f)=$(f)) $(foreach f,$(WEB),$(f)=$(f))

$(B)/gen/embedded.o: $(B)/gen/embedded.c
	@$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libtokenq.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) -o $@ $< $(B)/libtokenq.a \
		$(ALL_LDFLAGS) $(LIBS) $(shell pkg-config --libs cmocka)

$(B)/tests/store_contract: $(STORE_CONTRACT) tests/store/contract.h $(B)/libtokenq.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) -o $@ $(STORE_CONTRACT) $(B)/libtokenq.a \
		$(ALL_LDFLAGS) $(LIBS) $(shell pkg-config --libs cmocka)

$(B)/tests/print_driver: tests/print/print_driver.c $(B)/libtokenq.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libtokenq.a $(ALL_LDFLAGS) $(LIBS)

run:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory all
	$(B)/tokenq serve $(ARGS)

deps:
	@scripts/deps.sh test

# Every suite, against a throwaway PostgreSQL server started for the run.
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory all $(UNIT_TESTS) $(B)/tests/store_contract $(B)/tests/hooks_driver \
		$(B)/tests/print_driver
	@B=$(B) PYTHON=$(PYTHON) SANITIZE=$(SANITIZE) tests/run.sh $(SUITES)

# One suite at a time: make test-unit | test-store | test-http | test-upgrade | test-openapi |
# test-hooks | test-print | test-e2e | test-fuzz
test-unit test-store test-http test-upgrade test-openapi test-hooks test-print test-e2e test-fuzz:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory all $(UNIT_TESTS) $(B)/tests/store_contract $(B)/tests/hooks_driver \
		$(B)/tests/print_driver
	@B=$(B) PYTHON=$(PYTHON) SANITIZE=$(SANITIZE) tests/run.sh $(@:test-%=%)

check-format:
	clang-format --dry-run --Werror $(SRC) $(wildcard src/*/*.h) src/main.c tests/unit/*.c tests/store/*.c tests/store/*.h tests/hooks/*.c tests/print/*.c tools/*.c

format:
	clang-format -i $(SRC) $(wildcard src/*/*.h) src/main.c $(wildcard tests/unit/*.c tests/store/*.c tests/store/*.h tests/print/*.c tools/*.c)

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	bench/run.sh

install: $(B)/tokenq
	install -D -m 0755 $(B)/tokenq $(DESTDIR)$(PREFIX)/bin/tokenq
	install -D -m 0644 docs/tokenq.1 $(DESTDIR)$(PREFIX)/share/man/man1/tokenq.1
	install -D -m 0644 docs/operations.md $(DESTDIR)$(PREFIX)/share/doc/tokenq/operations.md
	install -D -m 0644 packaging/tokenq.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/tokenq.conf
	mkdir -p $(DESTDIR)$(PREFIX)/lib/systemd/system
	for u in tokenq.service tokenq-backup.service tokenq-backup.timer; do \
		sed 's|/usr/local/|$(PREFIX)/|g' packaging/$$u > $(DESTDIR)$(PREFIX)/lib/systemd/system/$$u; \
	done

clean:
	rm -rf build

# Further targets kept beside their suites (fuzzing, fault injection, soak).
-include $(wildcard mk/*.mk)

-include $(OBJ:.o=.d) $(B)/src/main.d
