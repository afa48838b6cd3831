#!/bin/sh
# Dynamic checks of the whole program, run by mk/hardening.mk:
#
#   tests/fault/memcheck.sh valgrind   (make test-valgrind; B=build, VALGRIND="valgrind ...")
#     the unit tests, the store contract suite (SQLite and PostgreSQL) and
#     the HTTP server for a scripted session (SQLite and PostgreSQL), each
#     under valgrind memcheck: any error or definite/indirect leak fails.
#   tests/fault/memcheck.sh tsan       (make test-tsan; B=build/tsan)
#     the store contract suite (SQLite and PostgreSQL) and the HTTP server
#     for a scripted session plus a short concurrent load, built with
#     -fsanitize=thread: any data race or lock-order report fails.
#
# PostgreSQL: a throwaway cluster on the first free port of 55500-55509
# (tests/pg.sh). Reports are kept in $B/memcheck/ (valgrind) or
# $B/tsan-reports/ (tsan); a summary of each is printed.
set -u
cd "$(dirname "$0")/../.." || exit 1
mode=${1:?usage: tests/fault/memcheck.sh valgrind|tsan}
B=${B:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
out=$B/$([ "$mode" = tsan ] && echo tsan-reports || echo memcheck)
rm -rf "$out"
mkdir -p "$out"
passed=0
failed=0
failures=""
pass() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); failures="$failures
  $1"; echo "FAILED - $1"; }

pgdir=$(mktemp -d /tmp/tokenq-memcheck-pg.XXXXXX)
chmod 755 "$pgdir"
cleanup() {
	tests/pg.sh stop "$pgdir" immediate >/dev/null 2>&1
	rm -rf "$pgdir" "$tmp"
}
tmp=$(mktemp -d /tmp/tokenq-memcheck.XXXXXX)
trap cleanup EXIT INT TERM
pgurl=""
for port in 55500 55501 55502 55503 55504 55505 55506 55507 55508 55509; do
	if "$PYTHON" -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',$port))" 2>/dev/null; then
		if pgurl=$(tests/pg.sh start "$pgdir" "$port" 2>/dev/null); then
			break
		fi
		tests/pg.sh stop "$pgdir" immediate >/dev/null 2>&1
		rm -rf "$pgdir"/data
		pgurl=""
	fi
done
[ -n "$pgurl" ] || echo "note: no PostgreSQL cluster could be started; PostgreSQL runs are skipped"

case $mode in
valgrind)
	run() {
		n=$1
		shift
		$VALGRIND --log-file="$out/$n.%p.log" "$@"
	}
	;;
tsan)
	export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 history_size=4 log_path=$PWD/$out/tsan"
	run() { shift; "$@"; }
	;;
*)
	echo "usage: tests/fault/memcheck.sh valgrind|tsan" >&2
	exit 2
	;;
esac

# A server under the tool for a scripted session; its exit status is the verdict.
serve_session() { # name database-url session-args...
	name=$1 url=$2
	shift 2
	port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	# shellcheck disable=SC2046
	env TOKENQ_TIMEZONE=UTC TOKENQ_QUEUES="A=Dine-in,B=Takeaway" TOKENQ_STREAM_STALL_MS=3000 \
		sh -c 'exec "$@"' run $( [ "$mode" = valgrind ] && echo "$VALGRIND --log-file=$out/$name.%p.log" ) \
		"$B/tokenq" serve --listen "127.0.0.1:$port" --database "$url" >"$out/$name.server.log" 2>&1 &
	spid=$!
	i=0
	until "$PYTHON" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=2)" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 $spid 2>/dev/null; then
			echo "server did not start:"
			tail -20 "$out/$name.server.log"
			kill -9 $spid 2>/dev/null
			return 1
		fi
		sleep 0.2
	done
	if [ "${1:-}" = --drain ]; then
		# SIGTERM while a load is running: the drain path under the tool.
		shift
		"$PYTHON" tests/fault/session.py "$port" --load-only "$@" &
		lpid=$!
		sleep 3
		kill -TERM $spid
		wait $spid
		rc=$?
		wait $lpid
		src=0
	else
		"$PYTHON" tests/fault/session.py "$port" --timeout 120 "$@"
		src=$?
		kill -TERM $spid
		wait $spid
		rc=$?
	fi
	echo "server exit status $rc"
	[ $src -eq 0 ] && [ $rc -eq 0 ]
}

case $mode in
valgrind)
	for t in "$B"/tests/test_*; do
		[ -x "$t" ] || continue
		n=$(basename "$t")
		if run "$n" "$t" >"$out/$n.out" 2>&1; then pass "valgrind $n"; else fail "valgrind $n (see $out/$n.*)"; fi
	done
	;;
esac

# The store contract suite; its direct-load test at 10 orders per thread.
if TOKENQ_TEST_BACKEND=sqlite TOKENQ_TEST_DIRECT_EACH=10 run contract-sqlite "$B/tests/store_contract" \
	>"$out/contract-sqlite.out" 2>&1; then
	pass "$mode store contract (sqlite)"
else
	fail "$mode store contract (sqlite) (see $out/contract-sqlite.*)"
fi
if [ -n "$pgurl" ]; then
	if TOKENQ_TEST_BACKEND=postgresql TOKENQ_TEST_PG="$pgurl" TOKENQ_TEST_DIRECT_EACH=10 \
		run contract-pg "$B/tests/store_contract" >"$out/contract-pg.out" 2>&1; then
		pass "$mode store contract (postgresql)"
	else
		fail "$mode store contract (postgresql) (see $out/contract-pg.*)"
	fi
fi

# The HTTP server: a scripted session (and, under tsan, a concurrent load).
load=""
if [ "$mode" = tsan ]; then load="--load 24 --seconds 8"; else load="--load 4 --seconds 3"; fi
# shellcheck disable=SC2086
if serve_session http-sqlite "sqlite:$tmp/session.db" $load >"$out/http-sqlite.out" 2>&1; then
	pass "$mode http session (sqlite)"
else
	tail -5 "$out/http-sqlite.out"
	fail "$mode http session (sqlite) (see $out/http-sqlite.*)"
fi
if serve_session http-sqlite-drain "sqlite:$tmp/session.db" --drain --load 16 --seconds 8 \
	>"$out/http-sqlite-drain.out" 2>&1; then
	pass "$mode http stopped under load (sqlite)"
else
	tail -5 "$out/http-sqlite-drain.out"
	fail "$mode http stopped under load (sqlite) (see $out/http-sqlite-drain.*)"
fi
if [ -n "$pgurl" ]; then
	psql -X -q "$pgurl" -c "CREATE DATABASE memcheck_session" >/dev/null 2>&1
	# shellcheck disable=SC2086
	if serve_session http-pg "${pgurl%/*}/memcheck_session" $load >"$out/http-pg.out" 2>&1; then
		pass "$mode http session (postgresql)"
	else
		tail -5 "$out/http-pg.out"
		fail "$mode http session (postgresql) (see $out/http-pg.*)"
	fi
	if serve_session http-pg-drain "${pgurl%/*}/memcheck_session" --drain --load 16 --seconds 8 \
		>"$out/http-pg-drain.out" 2>&1; then
		pass "$mode http stopped under load (postgresql)"
	else
		tail -5 "$out/http-pg-drain.out"
		fail "$mode http stopped under load (postgresql) (see $out/http-pg-drain.*)"
	fi
fi

# What the tool said.
if [ "$mode" = tsan ]; then
	races=$(cat "$out"/tsan.* 2>/dev/null | grep -c "^WARNING: ThreadSanitizer" || true)
	echo "ThreadSanitizer: $races reports; distinct:"
	cat "$out"/tsan.* 2>/dev/null | grep "^SUMMARY: ThreadSanitizer" | sort | uniq -c | sort -rn | head -30
else
	echo "valgrind: error summaries with errors:"
	grep -l "ERROR SUMMARY: [1-9]" "$out"/*.log 2>/dev/null | sed 's/^/  /'
	grep -h "definitely lost:\|indirectly lost:" "$out"/*.log 2>/dev/null | sort | uniq -c | sed 's/^/  /'
fi
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
