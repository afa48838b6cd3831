# Hardening: fuzzing, valgrind, ThreadSanitizer and the soak run.
# Included by the Makefile (-include mk/*.mk); uses its B, SRC, PKG_CFLAGS,
# LIBS, VERSION and UNIT_TESTS.
#
#   make fuzz-build        the libFuzzer targets in $(B)/fuzz/ (clang)
#   make fuzz              each target for FUZZ_SECONDS (default 60), then the
#                          regression inputs; prints executions per target
#   make fuzz-short        what `make test` runs: about 20 s per target
#   make test-fault        the fault-injection tests (tests/fault, default
#                          selection; FAULT_ARGS="-m slow" for the long ones)
#   make test-valgrind     unit tests, store contract suite and a short HTTP
#                          session under valgrind memcheck
#   make test-tsan         store contract suite and a short HTTP load under
#                          ThreadSanitizer, built in build/tsan
#   make soak              tests/soak/soak.sh, SOAK_MINUTES (default 30)

.PHONY: fuzz fuzz-build fuzz-short test-fault test-valgrind test-tsan soak

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_B := $(B)/fuzz
FUZZ_TARGETS := order token route config http
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)
# pointer-overflow stays recoverable only so that tests/fuzz/ubsan.supp can
# name a known finding; run.sh sets halt_on_error=1, so anything else stops.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fsanitize-recover=pointer-overflow -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=gnu11 -g -O1 -pthread -Isrc -DTOKENQ_VERSION='"$(VERSION)"' \
	-DTOKENQ_FUZZING $(PKG_CFLAGS) -MMD -MP $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
	-Wno-unused-parameter
FUZZ_OBJ := $(SRC:%.c=$(FUZZ_B)/%.o) $(FUZZ_B)/gen/embedded.o

# The flags live here: objects are rebuilt when this file changes.
$(FUZZ_OBJ): mk/hardening.mk

$(FUZZ_B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_B)/gen/embedded.o: $(B)/gen/embedded.c
	@mkdir -p $(dir $@)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

# An archive, so that a harness that includes a .c (fuzz_route includes
# src/http/server.c to reach its statics) does not also pull in its object.
$(FUZZ_B)/libtokenq.a: $(FUZZ_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_B)/libtokenq.a
	@echo "  FUZZLD  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WARN) -Werror -fsanitize=fuzzer -Itests/fuzz -o $@ $< \
		$(FUZZ_B)/libtokenq.a $(LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_NO_BUILD=1 FUZZ_DIR=$(FUZZ_B) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh long

fuzz-short: fuzz-build
	@FUZZ_NO_BUILD=1 FUZZ_DIR=$(FUZZ_B) tests/fuzz/run.sh short

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_BINS:=.d)

# ---- fault injection ----

test-fault: all
	@TOKENQ_BIN=$(CURDIR)/$(B)/tokenq $(PYTHON) -m pytest -q -p no:cacheprovider tests/fault $(FAULT_ARGS)

# ---- valgrind memcheck ----

VALGRIND ?= valgrind
VALGRIND_FLAGS := --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect --track-origins=yes --num-callers=30 --quiet \
	--suppressions=tests/fault/valgrind.supp

# Plain build (no sanitizer: valgrind and ASan do not mix).
test-valgrind:
	@$(MAKE) --no-print-directory SANITIZE= all \
		$(patsubst tests/unit/%.c,build/tests/%,$(wildcard tests/unit/test_*.c)) build/tests/store_contract
	@VALGRIND="$(VALGRIND) $(VALGRIND_FLAGS)" B=build PYTHON=$(PYTHON) tests/fault/memcheck.sh valgrind

# ---- ThreadSanitizer ----

TSAN_B := build/tsan
TSAN_CFLAGS = -std=gnu11 -g -O1 -pthread -Isrc -DTOKENQ_VERSION='"$(VERSION)"' $(PKG_CFLAGS) \
	-MMD -MP -fsanitize=thread -fno-omit-frame-pointer
TSAN_OBJ := $(SRC:%.c=$(TSAN_B)/%.o) $(TSAN_B)/gen/embedded.o

$(TSAN_B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  TSANCC  $<"
	@$(CC) $(TSAN_CFLAGS) -c -o $@ $<

$(TSAN_B)/gen/embedded.o: $(B)/gen/embedded.c
	@mkdir -p $(dir $@)
	@$(CC) $(TSAN_CFLAGS) -c -o $@ $<

$(TSAN_B)/libtokenq.a: $(TSAN_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(TSAN_B)/tokenq: $(TSAN_B)/src/main.o $(TSAN_B)/libtokenq.a
	@echo "  TSANLD  $@"
	@$(CC) -fsanitize=thread -pthread -o $@ $^ $(LIBS)

$(TSAN_B)/tests/store_contract: $(STORE_CONTRACT) tests/store/contract.h $(TSAN_B)/libtokenq.a
	@mkdir -p $(dir $@)
	@echo "  TSANLD  $@"
	@$(CC) $(TSAN_CFLAGS) $(shell pkg-config --cflags cmocka) -o $@ $(STORE_CONTRACT) $(TSAN_B)/libtokenq.a \
		-fsanitize=thread -pthread $(LIBS) $(shell pkg-config --libs cmocka)

test-tsan: $(TSAN_B)/tokenq $(TSAN_B)/tests/store_contract
	@B=$(TSAN_B) PYTHON=$(PYTHON) tests/fault/memcheck.sh tsan

-include $(TSAN_OBJ:.o=.d) $(TSAN_B)/src/main.d

# ---- soak ----

soak: all
	@B=$(B) PYTHON=$(PYTHON) tests/soak/soak.sh
