#!/usr/bin/env bash
# Two tokenq binaries side by side: orders/s and p99 at 64 connections on
# PostgreSQL and SQLite, in interleaved rounds (A, B, A, B, ...) so the shared
# machine's load falls on both alike. For checking that a change did not
# make the write path slower.
#
#   bench/ab.sh OLD_BINARY [NEW_BINARY]     NEW defaults to build/tokenq
#
# Env: REPS=3 DURATION=10 CONNS=64 SYSTEMS="tokenq-pg tokenq-sqlite"
# Output: per-round lines from bench/orders.sh, then medians and the ratio
# NEW/OLD; raw rows in bench/results/ab-raw.tsv.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OLD=${1:?usage: bench/ab.sh OLD_BINARY [NEW_BINARY]}
NEW=${2:-$ROOT/build/tokenq}
REPS=${REPS:-3}
export DURATION=${DURATION:-10} CONNS=${CONNS:-64} SYSTEMS=${SYSTEMS:-tokenq-pg tokenq-sqlite}
OUT=$RESULTS/ab-raw.tsv
# One PostgreSQL server for every round (fresh databases each time).
pg_up
export BENCH_PG_PORT=$PGPORT BENCH_PG_DIR=$PGDIR
printf 'rep\tbinary\tsystem\tconns\tops\tp50_ms\tp99_ms\tnon2xx\tverify\n' >"$OUT"

for rep in $(seq 1 "$REPS"); do
	for side in old new; do
		bin=$OLD
		[ "$side" = new ] && bin=$NEW
		log "round $rep: $side ($bin)"
		TQ=$bin REPS=1 "$BENCH_DIR/orders.sh" >"$BENCH_WORK/ab-$side.log" 2>&1 ||
			die "bench/orders.sh failed for $bin; see $BENCH_WORK/ab-$side.log"
		grep '^rep ' "$BENCH_WORK/ab-$side.log" | sed "s/^/  $side: /"
		tail -n +2 "$RESULTS/orders-raw.tsv" | awk -F'\t' -v r="$rep" -v s="$side" \
			'{v = ($9 ~ /^PASS/) ? "PASS" : "FAIL"; printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r, s, $3, $2, $4, $5, $6, $7, v}' >>"$OUT"
	done
done

echo
"$PYTHON" - "$OUT" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
systems = sorted({r["system"] for r in rows})
print("| system | conns | old orders/s | new orders/s | new/old | old p99 ms | new p99 ms | errors | verify |")
print("|---|---|---|---|---|---|---|---|---|")
for s in systems:
    for c in sorted({r["conns"] for r in rows if r["system"] == s}, key=int):
        pick = lambda side, k: [float(r[k]) for r in rows if r["system"] == s and r["conns"] == c and r["binary"] == side]
        o, n = statistics.median(pick("old", "ops")), statistics.median(pick("new", "ops"))
        op, np_ = statistics.median(pick("old", "p99_ms")), statistics.median(pick("new", "p99_ms"))
        errs = sum(int(float(r["non2xx"])) for r in rows if r["system"] == s and r["conns"] == c)
        ver = "PASS" if all(r["verify"] == "PASS" for r in rows if r["system"] == s) else "FAIL"
        print(f"| {s} | {c} | {o:,.0f} | {n:,.0f} | {n / o:.2f} | {op:.1f} | {np_:.1f} | {errs} | {ver} |")
PY
