#!/usr/bin/env bash
# Every benchmark, in one run (what `make bench` runs after building):
#   orders.sh   POST /api/orders at 1/8/64 connections: tokenq on PostgreSQL and
#               SQLite, the seed peer, pgbench and SQLite one-order-per-transaction limits
#   burst.sh    first order of a fresh day from 64 clients at once
#   fanout.sh   1,000 event-stream clients, delivery time, RSS and threads
#   startup.sh  idle RSS and time to the first answer
# then plot.gp -> bench/orders.png. One PostgreSQL (tests/pg.sh, fsync on) is
# started for the run and stopped at the end. The output is also written to
# bench/results/run-<UTC time>.txt.
#   bench/run.sh                     Env: REPS=3 (and each script's own settings)
#   ONLY="orders burst" bench/run.sh  a subset
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ONLY=${ONLY:-orders burst fanout startup}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$RESULTS/run-$STAMP.txt
exec > >(tee "$OUT") 2>&1
T0=$SECONDS

for tool in wrk pgbench psql node npm cc gnuplot curl; do
	command -v "$tool" >/dev/null || log "warning: $tool is missing (scripts/deps.sh bench installs the Debian packages)"
done
[ -x "$ROOT/build/tokenq" ] || die "build/tokenq is missing: run make"

# The binary under test is frozen for the run (a rebuild meanwhile does not
# change what is measured).
cp "$ROOT/build/tokenq" "$BENCH_WORK/tokenq.bench.new" && mv -f "$BENCH_WORK/tokenq.bench.new" "$BENCH_WORK/tokenq.bench"
export TQ=$BENCH_WORK/tokenq.bench
cc -O2 -pthread -o "$BENCH_WORK/sqlite_baseline" "$BENCH_DIR/sqlite_baseline.c" -lsqlite3
cc -O2 -o "$BENCH_WORK/fanout_client" "$BENCH_DIR/fanout_client.c"
export SQLITE_BASELINE=$BENCH_WORK/sqlite_baseline

pg_up
export BENCH_PG_PORT=$PGPORT BENCH_PG_DIR=$PGDIR

echo "### tokenq benchmarks  $(date -u +%FT%TZ)"
echo "# $(machine_line)"
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); disk: $(df -hT "$BENCH_WORK" | awk 'NR==2 {print $2, $1, $3}')"
echo "# $("$TQ" version); PostgreSQL $(psql_db postgres -Atc 'show server_version'); $(wrk -v 2>&1 | head -1 | cut -c1-40); node $(node -v 2>/dev/null || echo -)"
echo "# busiest other processes at start:"
ps -eo pcpu,args --sort=-pcpu | grep -v -e ' ps -eo' | sed -n '2,6p' | cut -c1-110 | sed 's/^/#   /'
echo

for b in $ONLY; do
	echo "=================== $b"
	"$BENCH_DIR/$b.sh" || echo "!!! $b.sh failed (exit $?)"
	echo
done

CONTENTION=""
if [ -f "$RESULTS/orders-raw.tsv" ]; then
	CONTENTION=$(awk -F'\t' 'NR > 1 {if (match($11, /others [0-9.]+/)) {v = substr($11, RSTART + 7, RLENGTH - 7); s += v; n++; if (v > mx) mx = v; if (n == 1 || v < mn) mn = v}} END {if (n) printf "mean %.2f, min %.2f, max %.2f cores over %d phases", s / n, mn, mx, n}' "$RESULTS/orders-raw.tsv")
fi
echo "# contention: load at end $(cut -d' ' -f1-3 /proc/loadavg); CPU used by other jobs during the orders phases (of $(nproc) cores): $CONTENTION"
if [ -f "$RESULTS/orders.dat" ] && command -v gnuplot >/dev/null; then
	gnuplot -e "datafile='$RESULTS/orders.dat'; outfile='$BENCH_DIR/orders.png'; subtitle='$(date -u +%F), tokenq $(cat "$ROOT/VERSION" 2>/dev/null), $(nproc) cores shared with other jobs: they used ${CONTENTION%% over*}'" \
		"$BENCH_DIR/plot.gp" 2>/dev/null && echo "plot: bench/orders.png"
fi
echo "### done in $((SECONDS - T0)) s; output in ${OUT#$ROOT/}"
