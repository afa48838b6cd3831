#!/usr/bin/env bash
# POST /api/orders throughput and latency, against the database's own limit
# for one order per transaction and against the seed peer, in one run.
#
#   bench/orders.sh            REPS=3 rounds; in each, for c in 1 8 64, every system in turn
#
# Systems (SYSTEMS to pick):
#   tokenq-pg      tokenq on PostgreSQL (wrk, bench/orders.lua)
#   tokenq-sqlite  tokenq on SQLite (wrk)
#   peer           the seed peer (Node.js + Prisma) on the same PostgreSQL server, POST /orders (wrk)
#   pgbench        pgbench -M prepared: BEGIN; counter upsert; order; event id; event; COMMIT
#                  (bench/pgbench_order.sql), one order per transaction, 5 round trips
#   pgbench-1rt    the same transaction as one statement (bench/pgbench_order_1rt.sql)
#   sqlite-1tx     bench/sqlite_baseline.c: one order per BEGIN IMMEDIATE..COMMIT, N threads
# Interleaving the systems inside each round means the machine's load (it is
# shared) hits all of them alike; each phase records how the CPU was split.
# Env: DURATION=10 WARMUP=2 CONNS="1 8 64" REPS=3 SYSTEMS=... SQLITE_SECS=5
# Output: a table of medians with ratios; raw rows in bench/results/orders-raw.tsv.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$BENCH_DIR/verify.sh"

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-1 8 64}
SQLITE_SECS=${SQLITE_SECS:-5}
SYSTEMS=${SYSTEMS:-tokenq-pg tokenq-sqlite peer pgbench pgbench-1rt sqlite-1tx}
RAW=$RESULTS/orders-raw.tsv
W=$BENCH_WORK/orders
rm -rf "$W"
mkdir -p "$W"
DATE=$(TZ=${TOKENQ_TIMEZONE:-${TZ:-}} date +%F)
NOW_MS=$(($(date +%s) * 1000))

has() { [[ " $SYSTEMS " == *" $1 "* ]]; }

command -v wrk >/dev/null || die "wrk is missing: scripts/deps.sh bench"
SQLITE_BASELINE=${SQLITE_BASELINE:-$BENCH_WORK/sqlite_baseline}
if has sqlite-1tx && [ ! -x "$SQLITE_BASELINE" ]; then
	cc -O2 -pthread -o "$SQLITE_BASELINE" "$BENCH_DIR/sqlite_baseline.c" -lsqlite3
fi

pg_up
echo "# $(machine_line)"
echo "# tokenq: $("$TQ" version)"
echo "# PostgreSQL $(psql_db postgres -Atc 'show server_version') on 127.0.0.1:$PGPORT: fsync=$(psql_db postgres -Atc 'show fsync') synchronous_commit=$(psql_db postgres -Atc 'show synchronous_commit')"

# ---- start everything once; the phases share the servers ----
if has tokenq-pg; then
	pg_fresh_db tq_orders
	tq_start tokenq-pg "$(pg_url tq_orders)"
	TQPG_PID=$TQ_PID TQPG_PORT=$TQ_PORT
fi
if has tokenq-sqlite; then
	rm -f "$W"/tq.db*
	tq_start tokenq-sqlite "sqlite:$W/tq.db"
	TQSL_PID=$TQ_PID TQSL_PORT=$TQ_PORT
fi
if has peer; then
	log "starting the seed peer (npm install on first use)..."
	peer_up || die "the seed peer did not start (see $BENCH_WORK/peer-setup.log)"
	echo "# peer: node $(node -v), Prisma $(node -p "require('$PEER_COPY/node_modules/prisma/package.json').version"), pool of 10, pid $PEER_PID"
fi
if has pgbench || has pgbench-1rt; then
	pg_fresh_db pgb
	pg_fresh_db pgb1
	"$TQ" migrate --database "$(pg_url pgb)" >/dev/null 2>&1
	"$TQ" migrate --database "$(pg_url pgb1)" >/dev/null 2>&1
fi
if has sqlite-1tx; then
	rm -f "$W"/base.db*
	"$TQ" migrate --database "sqlite:$W/base.db" >/dev/null 2>&1
fi

# Waits until no statement of database $1 is running (wrk does not wait for
# the requests in flight when it stops).
pg_idle() {
	for _ in $(seq 300); do
		[ "$(psql_db "$1" -Atc "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state NOT IN ('idle')")" = 0 ] && return
		sleep 0.1
	done
}

pg_max_id() { psql_db "$1" -Atc "SELECT coalesce(max(id), 0) FROM orders"; }

field() { sed -E "s/.*\"$1\":([-0-9.]+).*/\1/" <<<"$2"; }

# run_wrk NAME URL MODE CONNS TAG PID... -> prints "ops p50 p99 non2xx sockerr" and the cpu line to $W/cpu
run_wrk() {
	local name=$1 url=$2 mode=$3 c=$4 tag=$5 pid=$6 threads=2 out s0 s1
	[ "$c" -lt 2 ] && threads=1
	wrk -t"$threads" -c"$c" -d"${WARMUP}s" --timeout 10s -s "$BENCH_DIR/orders.lua" "$url" -- "$mode" "w$tag" "$W" >/dev/null
	s0=$("$PYTHON" "$BENCH_DIR/cpu.py" snap "server=$pid" "postgres=$(pg_postmaster)" "bench=$$")
	out=$(wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$BENCH_DIR/orders.lua" "$url" -- "$mode" "m$tag" "$W" | grep '^WRKJSON')
	s1=$("$PYTHON" "$BENCH_DIR/cpu.py" snap "server=$pid" "postgres=$(pg_postmaster)" "bench=$$")
	"$PYTHON" "$BENCH_DIR/cpu.py" diff "$s0" "$s1" "$name" postgres "bench(wrk)" >"$W/cpu"
	echo "$out" >>"$W/wrk.json"
	local sockerr
	sockerr=$(sed -E 's/.*"connect":([0-9]+),"read":([0-9]+),"write":([0-9]+),"timeout":([0-9]+).*/\1 \2 \3 \4/' <<<"$out" | awk '{print $1+$2+$3+$4}')
	echo "$(field ok_rps "$out") $(field p50_ms "$out") $(field p99_ms "$out") $(field non2xx "$out") $sockerr"
}

# run_pgbench DB SCRIPT CONNS -> "ops p50 p99 failed 0" (p50/p99 from the per-transaction log)
run_pgbench() {
	local db=$1 script=$2 c=$3 j=2 s0 s1 out
	[ "$c" -lt 2 ] && j=1
	rm -f "$W"/pgbench_log.*
	s0=$("$PYTHON" "$BENCH_DIR/cpu.py" snap "postgres=$(pg_postmaster)" "bench=$$")
	out=$(cd "$W" && PGHOST=127.0.0.1 PGPORT=$PGPORT PGUSER=postgres pgbench -n -M prepared -c "$c" -j "$j" \
		-T "$DURATION" -l --log-prefix=pgbench_log -D "date=$DATE" -D "now=$NOW_MS" -f "$script" "$db" 2>&1 || true)
	s1=$("$PYTHON" "$BENCH_DIR/cpu.py" snap "postgres=$(pg_postmaster)" "bench=$$")
	"$PYTHON" "$BENCH_DIR/cpu.py" diff "$s0" "$s1" postgres "bench(pgbench)" >"$W/cpu"
	local tps failed lat
	tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' <<<"$out")
	failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' <<<"$out")
	# log lines: client_id transaction_no time_us script_no time_epoch time_us
	lat=$(cat "$W"/pgbench_log.* 2>/dev/null | awk '{print $3/1000}' | sort -g | awk '{a[NR]=$1} END {if (NR) {i = int(NR*0.99); if (i < 1) i = 1; printf "%.2f %.2f", a[int((NR+1)/2)], a[i]} else print "nan nan"}')
	echo "${tps:-0} $lat ${failed:-0} 0"
}

run_sqlite_base() {
	local c=$1 s0 s1 out
	s0=$("$PYTHON" "$BENCH_DIR/cpu.py" snap "bench=$$")
	out=$("$SQLITE_BASELINE" "$W/base.db" "$c" "$SQLITE_SECS" "$DATE" | grep '^SQLITEJSON')
	s1=$("$PYTHON" "$BENCH_DIR/cpu.py" snap "bench=$$")
	"$PYTHON" "$BENCH_DIR/cpu.py" diff "$s0" "$s1" "bench(sqlite_baseline)" >"$W/cpu"
	if grep -q '"gapless":true' <<<"$out"; then echo PASS >"$W/verify"; else echo "FAIL $out" >"$W/verify"; fi
	echo "$(field ops "$out") nan nan $(field busy_errors "$out") 0"
}

[ -f "$RAW" ] && mv "$RAW" "$RAW.prev"
printf 'rep\tconns\tsystem\tops\tp50_ms\tp99_ms\tnon2xx\tsock_err\tverify\tbatch\tcpu\n' >"$RAW"

for rep in $(seq "$REPS"); do
	for c in $CONNS; do
		for sys in $SYSTEMS; do
			tag="$rep-$c"
			batch="-"
			t_phase=$SECONDS
			case $sys in
			tokenq-pg)
				pg_idle tq_orders
				before=$(pg_max_id tq_orders)
				res=$(run_wrk tokenq-pg "http://127.0.0.1:$TQPG_PORT" tokenq "$c" "pg$tag" "$TQPG_PID")
				pg_idle tq_orders
				verify_tq_pg tq_orders "$W"/*pg*.ids >"$W/verify"
				batch=$(pg_batch_sizes tq_orders "$before")
				;;
			tokenq-sqlite)
				sleep 0.5
				res=$(run_wrk tokenq-sqlite "http://127.0.0.1:$TQSL_PORT" tokenq "$c" "sl$tag" "$TQSL_PID")
				sleep 0.5
				verify_tq_sqlite "$W/tq.db" "$W"/*sl*.ids >"$W/verify"
				;;
			peer)
				pg_idle "$PEER_DB"
				res=$(run_wrk peer "http://127.0.0.1:$PEER_PORT" peer "$c" "pe$tag" "$PEER_PID")
				pg_idle "$PEER_DB"
				verify_peer "$PEER_DB" "$W"/*pe*.ids >"$W/verify"
				;;
			pgbench)
				res=$(run_pgbench pgb "$BENCH_DIR/pgbench_order.sql" "$c")
				verify_pgbench pgb >"$W/verify"
				;;
			pgbench-1rt)
				res=$(run_pgbench pgb1 "$BENCH_DIR/pgbench_order_1rt.sql" "$c")
				verify_pgbench pgb1 >"$W/verify"
				;;
			sqlite-1tx)
				res=$(run_sqlite_base "$c")
				;;
			esac
			read -r ops p50 p99 non2xx sockerr <<<"$res"
			v=$(cat "$W/verify")
			cpu=$(cat "$W/cpu")
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$c" "$sys" "$ops" "$p50" "$p99" \
				"$non2xx" "$sockerr" "$v" "$batch" "$cpu" >>"$RAW"
			printf 'rep %s  c=%-3s %-14s %9s orders/s  p50 %7s ms  p99 %8s ms  non2xx %s  sockerr %s  %s\n' \
				"$rep" "$c" "$sys" "$ops" "$p50" "$p99" "$non2xx" "$sockerr" "${v%% *}"
			printf '        %s%s; phase took %s s\n' "$cpu" "$([ "$batch" != - ] && echo "; $batch")" "$((SECONDS - t_phase))"
			case $v in PASS*) ;; *) echo "        VERIFY: $v" ;; esac
		done
	done
done

echo
"$PYTHON" "$BENCH_DIR/summarize.py" orders "$RAW"
