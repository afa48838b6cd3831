#!/usr/bin/env bash
# First order of a fresh day from 64 clients at once (bench/burst.py), ROUNDS
# rounds, for tokenq on PostgreSQL and on SQLite (a brand-new database and a
# freshly started server each round) and for the seed peer (its tables
# truncated each round, as its own bench does: a new day on a warm server).
# Counts failures; after each round the day's numbers must be exactly 1..N
# with every 201 in the database.
#   bench/burst.sh          Env: ROUNDS=5 BURST_N=64 SYSTEMS="tokenq-pg tokenq-sqlite peer"
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$BENCH_DIR/verify.sh"

ROUNDS=${ROUNDS:-5}
BURST_N=${BURST_N:-64}
SYSTEMS=${SYSTEMS:-tokenq-pg tokenq-sqlite peer}
W=$BENCH_WORK/burst
rm -rf "$W"
mkdir -p "$W"
RAW=$RESULTS/burst-raw.tsv
has() { [[ " $SYSTEMS " == *" $1 "* ]]; }

pg_up
echo "# $(machine_line)"
if has peer; then
	peer_up || die "the seed peer did not start (see $BENCH_WORK/peer-setup.log)"
	# one unrecorded burst first, so its connection pool is warm as in its own bench
	"$PYTHON" "$BENCH_DIR/burst.py" --port "$PEER_PORT" --mode peer --n "$BURST_N" >/dev/null
	sleep 1
fi
printf 'round\tsystem\tsent\tok\tfailed\tverify\tp50_ms\tmax_ms\terrors\n' >"$RAW"

burst() { # PORT MODE -> BURSTJSON line; ids to $W/ids
	local out
	out=$("$PYTHON" "$BENCH_DIR/burst.py" --port "$1" --mode "$2" --n "$BURST_N" | grep '^BURSTJSON ')
	"$PYTHON" -c 'import json,sys; print("\n".join(str(i) for i in json.loads(sys.argv[1][10:])["ids"]))' "$out" >"$W/ids"
	echo "$out"
}

record() { # ROUND SYSTEM JSON VERIFY
	"$PYTHON" - "$@" >>"$RAW" <<'PY'
import json, sys
r, s, j, v = sys.argv[1], sys.argv[2], json.loads(sys.argv[3][10:]), sys.argv[4]
print('\t'.join(str(x) for x in [r, s, j['sent'], j['ok'], j['sent'] - j['ok'], v.split()[0],
      j['p50_ms'], j['max_ms'], json.dumps(j['errors'])]))
PY
	tail -1 "$RAW" | awk -F'\t' '{printf "round %s  %-14s sent %s  ok %s  failed %s  %s  p50 %s ms  max %s ms  %s\n", $1, $2, $3, $4, $5, $6, $7, $8, ($9 == "{}" ? "" : $9)}'
}

for r in $(seq "$ROUNDS"); do
	if has tokenq-pg; then
		pg_fresh_db tq_burst
		tq_start tokenq-burst-pg "$(pg_url tq_burst)"
		out=$(burst "$TQ_PORT" tokenq)
		stop_pid "$TQ_PID"
		record "$r" tokenq-pg "$out" "$(verify_tq_pg tq_burst "$W/ids")"
	fi
	if has tokenq-sqlite; then
		rm -f "$W"/tq.db*
		tq_start tokenq-burst-sqlite "sqlite:$W/tq.db"
		out=$(burst "$TQ_PORT" tokenq)
		stop_pid "$TQ_PID"
		record "$r" tokenq-sqlite "$out" "$(verify_tq_sqlite "$W/tq.db" "$W/ids")"
	fi
	if has peer; then
		peer_reset
		out=$(burst "$PEER_PORT" peer)
		record "$r" peer "$out" "$(verify_peer "$PEER_DB" "$W/ids")"
	fi
done

echo
"$PYTHON" - "$RAW" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
print(f'first-of-day burst, {rows[0]["sent"]} clients at once, {len({r["round"] for r in rows})} rounds:')
print('| system | failed per round | median failed | total failed / sent | checks |')
print('|---|---|---|---|---|')
for s in dict.fromkeys(r['system'] for r in rows):
    rs = [r for r in rows if r['system'] == s]
    f = [int(r['failed']) for r in rs]
    print(f'| {s} | {" ".join(map(str, f))} | {statistics.median(f):g} | {sum(f)} / {sum(int(r["sent"]) for r in rs)} | '
          f'{"PASS" if all(r["verify"] == "PASS" for r in rs) else "FAIL"} |')
tq = [int(r['failed']) for r in rows if r['system'].startswith('tokenq')]
if tq:
    print(f'- target: tokenq first-of-day burst, zero failures: {sum(tq)} failed -> {"met" if sum(tq) == 0 else "NOT met"}')
PY
