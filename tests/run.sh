#!/bin/sh
# Runs every test suite against real components: the unit tests, the store
# contract suite on SQLite and on a throwaway PostgreSQL server started here,
# the HTTP acceptance tests, the upgrade of databases a release made, the
# OpenAPI document's checks against a running server, the webhook dispatcher,
# the printer tickets and transport, and the browser tests in headless
# Chromium.
#
#   tests/run.sh [unit] [store] [http] [upgrade] [openapi] [hooks] [print] [e2e] [fuzz]
#                (default: all)
#
# Environment: B (build dir, default build), PYTHON, SANITIZE.
# Prints one closing line: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
suites=${*:-unit store http upgrade openapi hooks print e2e fuzz}
export TOKENQ_BIN="$PWD/$B/tokenq"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
failures=""
pass() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); failures="$failures $1"; echo "FAILED - $1"; }
want() { case " $suites " in *" $1 "*) return 0 ;; esac; return 1; }

# One PostgreSQL server for the whole run, on a free port.
pgdir=$(mktemp -d /tmp/tokenq-pg.XXXXXX)
pgport=$(( 56000 + $$ % 4000 ))
cleanup() { tests/pg.sh stop "$pgdir" immediate >/dev/null 2>&1; rm -rf "$pgdir"; }
trap cleanup EXIT INT TERM
if want store || want http || want upgrade || want openapi || want print || want e2e; then
	if url=$(tests/pg.sh start "$pgdir" "$pgport"); then
		export TOKENQ_TEST_PG="$url" TOKENQ_TEST_PG_DIR="$pgdir"
	else
		cat "$pgdir"/*.log 2>/dev/null | tail -20
		fail "postgresql-start"
	fi
fi

if want unit; then
	# Dependencies point one way (docs/architecture.md).
	if scripts/check-layers.sh; then pass "layers"; else fail "layers"; fi
	# Every statement on a venue's tables names its venue (docs/scaling.md).
	if "$PYTHON" scripts/check-venue-filters.py; then pass "venue filters"; else fail "venue filters"; fi
	for t in "$B"/tests/test_*; do
		[ -x "$t" ] || continue
		if "$t"; then pass "unit $(basename "$t")"; else fail "unit $(basename "$t")"; fi
	done
fi

if want store; then
	for backend in sqlite postgresql; do
		if [ "$backend" = postgresql ] && [ -z "${TOKENQ_TEST_PG:-}" ]; then
			fail "store $backend (no PostgreSQL)"
			continue
		fi
		if TOKENQ_TEST_BACKEND=$backend "$B/tests/store_contract"; then
			pass "store contract ($backend)"
		else
			fail "store contract ($backend)"
		fi
	done
fi

# Each Python suite in its own pytest run: their helper modules are separate.
if want http; then
	for dir in tests/http tests/stream tests/ops tests/fault; do
		[ -d "$dir" ] || continue
		if "$PYTHON" -m pytest -q -m "not slow" "$dir"; then
			pass "pytest $dir"
		else
			fail "pytest $dir"
		fi
	done
fi

# Upgrading in place: databases a released tokenq made (tests/upgrade/fixtures)
# migrated by this one, on SQLite and PostgreSQL, with nothing lost.
if want upgrade; then
	if "$PYTHON" -m pytest -q tests/upgrade; then
		pass "pytest tests/upgrade"
	else
		fail "pytest tests/upgrade"
	fi
fi

# The OpenAPI document (web/openapi.json): Redocly's lint, the route table,
# docs/api.md, and every route's answers from real servers checked against it.
if want openapi && [ -d tests/openapi ]; then
	if "$PYTHON" -m pytest -q -m "not slow" tests/openapi; then
		pass "pytest tests/openapi"
	else
		fail "pytest tests/openapi"
	fi
fi

# Webhooks: the dispatcher against a receiver using the Standard Webhooks library.
if want hooks; then
	if { [ -d tests/hooks/node_modules/standardwebhooks ] ||
		(cd tests/hooks && npm ci --no-audit --no-fund --silent); } &&
		(cd tests/hooks && timeout 120 "../../$B/tests/hooks_driver" receiver.js); then
		pass "webhooks"
	else
		fail "webhooks"
	fi
fi

# Printing: tickets against the receipt-printer-encoder package, shaped text
# images against Pillow's rendering, the transport against a fake printer,
# and the server's print queue on SQLite and PostgreSQL.
if want print; then
	if { [ -d tests/print/node_modules/@point-of-sale/receipt-printer-encoder ] ||
		(cd tests/print && npm ci --no-audit --no-fund --silent); } &&
		B=$B timeout 420 "$PYTHON" -m pytest -q -p no:cacheprovider tests/print; then
		pass "printing"
	else
		fail "printing"
	fi
fi

if want e2e && [ -f tests/e2e/run.sh ]; then
	if tests/e2e/run.sh; then pass "browser e2e"; else fail "browser e2e"; fi
fi

if want fuzz && [ -f tests/fuzz/run.sh ]; then
	if tests/fuzz/run.sh short; then pass "fuzz (short)"; else fail "fuzz (short)"; fi
fi

[ -n "$failures" ] && echo "failed suites:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
