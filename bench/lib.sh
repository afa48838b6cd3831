# Shared helpers for the benchmark scripts (sourced, not run).
#
# Everything a benchmark starts (PostgreSQL, tokenq servers, the peer) is
# recorded by pid and stopped by pid at exit; databases and logs live under
# $BENCH_WORK. Settings, all optional:
#   TQ=build/tokenq        the binary under test
#   BENCH_WORK=/tmp/tokenq-bench   scratch: databases, logs, the peer's copy
#   BENCH_PG_PORT=         a PostgreSQL already started by bench/run.sh; when
#                          unset, a script starts its own on a free port
#                          55490..55499 (tests/pg.sh: fsync and
#                          synchronous_commit on) and stops it at exit
#   REPS=3                 repetitions of every measurement (medians reported)

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
TQ=${TQ:-$ROOT/build/tokenq}
BENCH_WORK=${BENCH_WORK:-/tmp/tokenq-bench}
RESULTS=${RESULTS:-$BENCH_DIR/results}
PYTHON=${PYTHON:-/usr/bin/python3}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
REPS=${REPS:-3}
mkdir -p "$BENCH_WORK" "$RESULTS"

_started_pids=()
_pg_dir=""

bench_cleanup() {
	local pid
	for pid in "${_started_pids[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
			kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	_started_pids=()
	if [ -n "$_pg_dir" ]; then
		"$ROOT/tests/pg.sh" stop "$_pg_dir" fast >/dev/null 2>&1 || true
		rm -rf "$_pg_dir"
		_pg_dir=""
	fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# No socket at all on the port (TIME-WAIT included: tokenq binds without SO_REUSEADDR).
port_free() { ! ss -Htan "sport = :$1" 2>/dev/null | grep -q .; }

# A free TCP port for an HTTP server: above the kernel's ephemeral range
# (32768-60999), so no outgoing connection can hold it.
free_port() {
	local p
	for _ in $(seq 200); do
		p=$((61000 + RANDOM % 4000))
		port_free "$p" && { echo "$p"; return; }
	done
	die "no free port"
}

# ---- PostgreSQL ----

# Starts our own PostgreSQL unless BENCH_PG_PORT names one; sets PGPORT, PGDIR.
pg_up() {
	if [ -n "${BENCH_PG_PORT:-}" ]; then
		PGPORT=$BENCH_PG_PORT
		PGDIR=${BENCH_PG_DIR:-/tmp/bench-pg-$PGPORT}
		return
	fi
	local p
	for p in $(seq 55490 55499); do
		port_free "$p" || continue
		rm -rf "/tmp/bench-pg-$p"
		if "$ROOT/tests/pg.sh" start "/tmp/bench-pg-$p" "$p" >/dev/null 2>&1; then
			PGPORT=$p
			PGDIR=/tmp/bench-pg-$p
			_pg_dir=$PGDIR
			log "started PostgreSQL on 127.0.0.1:$PGPORT ($PGDIR)"
			return
		fi
		rm -rf "/tmp/bench-pg-$p"
	done
	die "could not start PostgreSQL on any port 55490..55499"
}

psql_db() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres -d "$@"; }
pg_url() { echo "postgres://postgres@127.0.0.1:$PGPORT/$1"; }
pg_postmaster() { head -1 "${PGDIR:-/nonexistent}/data/postmaster.pid" 2>/dev/null || echo 0; }

# A brand-new empty database NAME.
pg_fresh_db() {
	psql_db postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
}

# ---- tokenq ----

# tq_start NAME DBURL: starts tokenq on a free port; sets TQ_PID, TQ_PORT.
# Its log is $BENCH_WORK/NAME.log; extra environment may be passed before.
tq_start() {
	local name=$1 url=$2
	TQ_PORT=$(free_port)
	"$TQ" serve --listen "127.0.0.1:$TQ_PORT" --database "$url" >"$BENCH_WORK/$name.log" 2>&1 &
	TQ_PID=$!
	_started_pids+=("$TQ_PID")
	for _ in $(seq 300); do
		curl -fsS -o /dev/null "http://127.0.0.1:$TQ_PORT/healthz" 2>/dev/null && return 0
		kill -0 "$TQ_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$BENCH_WORK/$name.log" >&2
	die "tokenq ($name) did not start"
}

stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
threads_of() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }

# ---- the seed peer (Node.js + Prisma), run through its own run.sh ----

# PEER_SRC: a checkout of the Node.js + Prisma implementation measured side
# by side (see bench/README.md); the peer's runs need it.
PEER_SRC=${PEER_SRC:-}
PEER_COPY=${PEER_COPY:-/tmp/tokenq-bench-peer}

# Copies the peer (once; node_modules are kept between runs) and starts it
# with run.sh on our PostgreSQL: its PGROOT is a directory whose data/ links
# to our cluster, so run.sh finds PostgreSQL running and does not start one.
# Sets PEER_PORT, PEER_PID, PEER_DB.
peer_up() {
	[ -n "$PEER_SRC" ] && [ -d "$PEER_SRC" ] ||
		die "set PEER_SRC to a checkout of the Node.js + Prisma peer to measure it side by side"
	local root=$BENCH_WORK/peer-root
	if [ ! -f "$PEER_COPY/run.sh" ] || ! cmp -s "$PEER_SRC/src/server.ts" "$PEER_COPY/src/server.ts"; then
		mkdir -p "$PEER_COPY"
		cp -r "$PEER_SRC/." "$PEER_COPY/"
		chmod -R u+w "$PEER_COPY"
	fi
	mkdir -p "$root"
	ln -sfn "$PGDIR/data" "$root/data"
	chown postgres "$root" 2>/dev/null || true
	PEER_PORT=$(free_port)
	PEER_DB=prisma_seed
	(cd "$PEER_COPY" && PGPORT=$PGPORT PGROOT=$root DBNAME=$PEER_DB PORT=$PEER_PORT ./run.sh) \
		>"$BENCH_WORK/peer-setup.log" 2>&1 || { cat "$BENCH_WORK/peer-setup.log" >&2; return 1; }
	PEER_PID=$(cat "$root/server.pid")
	_started_pids+=("$PEER_PID")
}

# TRUNCATE the peer's tables: a new day, as its own bench does.
peer_reset() {
	psql_db "$PEER_DB" -c "TRUNCATE tokens, orders, token_sequence RESTART IDENTITY"
}

# ---- statistics ----

# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else printf "%.6g\n", (a[NR/2]+a[NR/2+1])/2}'; }

machine_line() {
	echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
}
