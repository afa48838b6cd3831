#!/usr/bin/env bash
# Event fan-out: 1,000 clients on GET /api/events, then CHANGES status
# changes (PATCH /api/orders/{id}), and the time until the last client has
# each; the server's VmRSS and thread count with the clients connected.
# tokenq on SQLite and on PostgreSQL (LISTEN/NOTIFY path), REPS runs each.
#   bench/fanout.sh         Env: CLIENTS=1000 CHANGES=10 REPS=3 BACKENDS="sqlite pg"
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CLIENTS=${CLIENTS:-1000}
CHANGES=${CHANGES:-10}
BACKENDS=${BACKENDS:-sqlite pg}
W=$BENCH_WORK/fanout
rm -rf "$W"
mkdir -p "$W"
RAW=$RESULTS/fanout-raw.tsv

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((CLIENTS + 64)) ] || die "open-file limit $(ulimit -n) is too low for $CLIENTS clients"
FANOUT=$BENCH_WORK/fanout_client
cc -O2 -o "$FANOUT" "$BENCH_DIR/fanout_client.c"

echo "# $(machine_line); open-file limit $(ulimit -n)"
[[ " $BACKENDS " == *" pg "* ]] && pg_up
printf 'rep\tbackend\tclients\tstreams_ok\tlast_p50_ms\tlast_p99_ms\tall_p50_ms\tall_p99_ms\tmissed\trss_idle_kb\trss_kb\tthreads\tcpu\n' >"$RAW"

for rep in $(seq "$REPS"); do
	for be in $BACKENDS; do
		if [ "$be" = pg ]; then
			pg_fresh_db tq_fanout
			url=$(pg_url tq_fanout)
		else
			rm -f "$W"/tq.db*
			url=sqlite:$W/tq.db
		fi
		tq_start "tokenq-fanout-$be" "$url"
		ids=()
		for i in $(seq "$CHANGES"); do
			ids+=("$(curl -fsS -H 'Content-Type: application/json' \
				-d "{\"queue\":\"A\",\"items\":[{\"name\":\"Masala tea\",\"quantity\":$i,\"unit_price\":150}]}" \
				"http://127.0.0.1:$TQ_PORT/api/orders" | sed -E 's/^\{"id":([0-9]+).*/\1/')")
		done
		s0=$("$PYTHON" "$BENCH_DIR/cpu.py" snap "tokenq=$TQ_PID" "postgres=$(pg_postmaster 2>/dev/null || true)" "bench=$$")
		out=$("$FANOUT" "$TQ_PORT" "$TQ_PID" "$CLIENTS" "${ids[@]}" 2>"$W/client-$be-$rep.log" | grep '^FANOUTJSON')
		s1=$("$PYTHON" "$BENCH_DIR/cpu.py" snap "tokenq=$TQ_PID" "postgres=$(pg_postmaster 2>/dev/null || true)" "bench=$$")
		cpu=$("$PYTHON" "$BENCH_DIR/cpu.py" diff "$s0" "$s1" tokenq postgres "bench(client)")
		stop_pid "$TQ_PID"
		"$PYTHON" - "$rep" "$be" "$out" "$cpu" >>"$RAW" <<'PY'
import json, sys
rep, be, j, cpu = sys.argv[1], sys.argv[2], json.loads(sys.argv[3].split(' ', 1)[1]), sys.argv[4]
print('\t'.join(str(x) for x in [rep, be, j['clients'], j['streams_ok'], j['last_p50_ms'], j['last_p99_ms'],
      j['all_p50_ms'], j['all_p99_ms'], j['missed'], j['rss_idle_kb'], j['rss_kb'], j['threads'], cpu]))
PY
		tail -1 "$RAW" | awk -F'\t' '{printf "rep %s %-6s %s clients (%s streams 200): last client p50 %s ms p99 %s ms; all deliveries p50 %s p99 %s ms; missed %s; RSS %s -> %s KiB; threads %s\n        %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13}'
	done
done

echo
"$PYTHON" - "$RAW" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
med = lambda k, rs: statistics.median(float(r[k]) for r in rs)
print(f'fan-out, median of {len({r["rep"] for r in rows})} runs ({rows[0]["clients"]} clients; "last" = time until the last client has a change, over the changes of a run):')
print('| backend | last p50 ms | last p99 ms | all p99 ms | missed | RSS with clients | threads |')
print('|---|---|---|---|---|---|---|')
for be in dict.fromkeys(r['backend'] for r in rows):
    rs = [r for r in rows if r['backend'] == be]
    print(f'| {be} | {med("last_p50_ms", rs):.1f} | {med("last_p99_ms", rs):.1f} | {med("all_p99_ms", rs):.1f} | '
          f'{sum(int(r["missed"]) for r in rs)} | {med("rss_kb", rs) / 1024:.1f} MiB (idle {med("rss_idle_kb", rs) / 1024:.1f}) | '
          f'{med("threads", rs):g} |')
for be in dict.fromkeys(r['backend'] for r in rows):
    rs = [r for r in rows if r['backend'] == be]
    p99, rss, thr, miss = med('last_p99_ms', rs), med('rss_kb', rs) / 1024, med('threads', rs), sum(int(r['missed']) for r in rs)
    print(f'- {be}: p99 delivery < 200 ms: {p99:.1f} ms -> {"met" if p99 < 200 and miss == 0 else "NOT met"}; '
          f'RSS < 64 MB: {rss:.1f} MiB -> {"met" if rss < 64 else "NOT met"}; '
          f'threads a small multiple of 2 cores: {thr:g} -> {"met" if thr <= 16 else "NOT met"}')
PY
