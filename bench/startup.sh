#!/usr/bin/env bash
# Idle memory and start-up time of tokenq on SQLite (bench/startup.py):
# VmRSS after start and before any request, and the time from spawn to the
# first answered GET /healthz (polled every 1 ms), median of RUNS=10, on an
# existing database and on a brand-new one.
#   bench/startup.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-10}
W=$BENCH_WORK/startup
rm -rf "$W"
echo "# $(machine_line)"
s0=$("$PYTHON" "$BENCH_DIR/cpu.py" snap "bench=$$")
out=$("$PYTHON" "$BENCH_DIR/startup.py" "$TQ" "$W" "$(free_port)" "$RUNS" | grep '^STARTUPJSON')
s1=$("$PYTHON" "$BENCH_DIR/cpu.py" snap "bench=$$")
echo "${out#STARTUPJSON }" >"$RESULTS/startup.json"
"$PYTHON" - "$out" "$("$PYTHON" "$BENCH_DIR/cpu.py" diff "$s0" "$s1" "bench(tokenq+poller)")" <<'PY'
import json, sys
j = json.loads(sys.argv[1].split(' ', 1)[1])
print(f'start-up, median of {j["runs"]} ({sys.argv[2]}):')
print('| measure | value | target |')
print('|---|---|---|')
rss = j['idle_rss_kb'] / 1024
print(f'| idle RSS (SQLite, after start, before any request) | {rss:.1f} MiB ({j["idle_threads"]:g} threads) | < 10 MB: {"met" if j["idle_rss_kb"] * 1024 < 10e6 else "NOT met"} |')
print(f'| RSS after the first answer | {j["rss_after_first_answer_kb"] / 1024:.1f} MiB | |')
fa = j['first_answer_ms_existing_db']
print(f'| spawn to first answered /healthz, existing database | {fa:.1f} ms (all: {" ".join(str(x) for x in j["first_answer_ms_existing_all"])}) | < 100 ms: {"met" if fa < 100 else "NOT met"} |')
print(f'| spawn to first answered /healthz, brand-new database (migrates) | {j["first_answer_ms_new_db"]:.1f} ms | |')
PY
