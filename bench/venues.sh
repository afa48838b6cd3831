#!/usr/bin/env bash
# Venues do not slow each other down: POST /api/orders on one install,
# 1 venue x 64 connections against 8 venues x 8 connections (each of the
# client's 8 threads orders at its own venue, under /v/vN), in interleaved
# rounds on the same server and database, so the shared machine's load
# falls on both.
# Every round checks that each venue's numbers are gapless and unique, and
# that every acknowledged order is stored.
#
#   bench/venues.sh                 REPS=3 DURATION=10 BACKENDS="pg sqlite"
#
# Output: per-round lines, then medians of total orders/s per shape and the
# ratio 8x8 / 1x64 (the aim: within 15 %); raw rows in bench/results/venues-raw.tsv.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$BENCH_DIR/verify.sh"

REPS=${REPS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
BACKENDS=${BACKENDS:-pg sqlite}
VENUES=8
RAW=$RESULTS/venues-raw.tsv
W=$BENCH_WORK/venues
rm -rf "$W"
mkdir -p "$W"

command -v wrk >/dev/null || die "wrk is missing: scripts/deps.sh bench"
field() { sed -E "s/.*\"$1\":([-0-9.]+).*/\1/" <<<"$2"; }

# load URL TAG [PREFIXES]: one wrk client, 8 threads of 8 connections (64 in all); with
# PREFIXES (/v/v1,/v/v2,...) thread i orders at venue i. The client is the same in both
# shapes, so only where the orders go differs. Prints orders/s and p99 (ms).
load() {
	local url=$1 tag=$2 prefixes=${3:-} out
	TQ_PREFIXES=$prefixes wrk -t8 -c64 -d"${WARMUP}s" --timeout 10s -s "$BENCH_DIR/orders.lua" "$url" -- tokenq "w$tag" "$W" >/dev/null
	out=$(TQ_PREFIXES=$prefixes wrk -t8 -c64 -d"${DURATION}s" --timeout 10s --latency -s "$BENCH_DIR/orders.lua" "$url" -- tokenq "m$tag" "$W" | grep '^WRKJSON')
	echo "$(field ok_rps "$out") $(field p99_ms "$out")"
}

pg_up
echo "# $(machine_line)"
echo "# tokenq: $("$TQ" version)"
printf 'rep\tbackend\tshape\tops\tp99_ms\tverify\n' >"$RAW"

for backend in $BACKENDS; do
	if [ "$backend" = pg ]; then
		pg_fresh_db tq_venues
		url=$(pg_url tq_venues)
	else
		rm -f "$W"/tq.db*
		url="sqlite:$W/tq.db"
	fi
	"$TQ" migrate --database "$url" >/dev/null 2>&1
	prefixes=""
	for i in $(seq 1 $VENUES); do
		"$TQ" venues create "v$i" --name "Venue $i" --database "$url" >/dev/null 2>&1
		prefixes="$prefixes${prefixes:+,}/v/v$i"
	done
	tq_start "venues-$backend" "$url"
	for rep in $(seq 1 "$REPS"); do
		for shape in 1x64 8x8; do
			rm -f "$W"/*.ids
			if [ "$shape" = 1x64 ]; then
				res=$(load "http://127.0.0.1:$TQ_PORT" "$rep-$shape")
			else
				res=$(load "http://127.0.0.1:$TQ_PORT" "$rep-$shape" "$prefixes")
			fi
			sleep 1
			if [ "$backend" = pg ]; then
				v=$(verify_tq_pg tq_venues "$W"/*.ids)
			else
				v=$(verify_tq_sqlite "$W/tq.db" "$W"/*.ids)
			fi
			read -r ops p99 <<<"$res"
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$backend" "$shape" "$ops" "$p99" "${v%% *}" >>"$RAW"
			log "round $rep $backend $shape: $ops orders/s, p99 $p99 ms, ${v%% *}"
			[ "${v%% *}" = PASS ] || log "  $v"
		done
	done
	stop_pid "$TQ_PID"
done

echo
"$PYTHON" - "$RAW" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
print("| backend | 1 venue x 64 conns, orders/s | 8 venues x 8 conns, orders/s | ratio of medians | median of per-round ratios | p99 ms (1x64 / 8x8) | gapless |")
print("|---|---|---|---|---|---|---|")
for b in sorted({r["backend"] for r in rows}):
    pick = lambda shape, k: statistics.median(float(r[k]) for r in rows if r["backend"] == b and r["shape"] == shape)
    one, eight = pick("1x64", "ops"), pick("8x8", "ops")
    # each round's two shapes ran back to back: their ratio is what the shared machine's load spares
    per = {}
    for r in rows:
        if r["backend"] == b:
            per.setdefault(r["rep"], {})[r["shape"]] = float(r["ops"])
    paired = statistics.median(v["8x8"] / v["1x64"] for v in per.values() if len(v) == 2)
    ok = "PASS" if all(r["verify"] == "PASS" for r in rows if r["backend"] == b) else "FAIL"
    print(f"| {b} | {one:,.0f} | {eight:,.0f} | {eight / one:.2f} | {paired:.2f} | {pick('1x64', 'p99_ms'):.1f} / {pick('8x8', 'p99_ms'):.1f} | {ok} |")
PY
