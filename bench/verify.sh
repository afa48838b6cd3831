# Correctness checks run after every benchmark phase (sourced by the scripts).
# Each prints one line: "PASS ..." or "FAIL ..." with the counts it compared.
#
# tokenq: for every (queue, business_date): count = count(distinct sequence)
# = max(sequence) and min = 1 (numbers exactly 1..N, no duplicate, no gap);
# every order id the client got a 201 for is in the database, none twice;
# every order has its creation event. Rows beyond the acknowledged ones are
# requests still in flight when wrk stopped (at most one per connection).

# verify_tq_pg DB IDSFILE...   (IDSFILEs: one order id per line)
verify_tq_pg() {
	local db=$1
	shift
	local ids=$BENCH_WORK/verify.ids bad
	cat "$@" 2>/dev/null >"$ids.all" || true
	bad=$(grep -cvE '^[0-9]+$' "$ids.all" || true)
	grep -E '^[0-9]+$' "$ids.all" >"$ids" || true
	# A database of a release before venues has no venue_id: it is all one venue.
	local v="venue_id" same="e.venue_id = o.venue_id AND"
	if [ "$(psql_db "$db" -Atc "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'orders' AND column_name = 'venue_id'")" = 0 ]; then
		v="1" same=""
	fi
	psql_db "$db" -At -F ' ' <<SQL
CREATE TEMP TABLE seen (id bigint);
\copy seen FROM '$ids'
WITH d AS (
  SELECT $v AS venue_id, queue, business_date, count(*) AS n, count(DISTINCT sequence) AS nd,
         min(sequence) AS lo, max(sequence) AS hi
  FROM orders GROUP BY 1, 2, 3
), r AS (
  SELECT
    (SELECT count(*) FROM d WHERE NOT (n = nd AND n = hi AND lo = 1)) AS bad_days,
    (SELECT coalesce(sum(n - nd), 0) FROM d) AS dup,
    (SELECT coalesce(sum(hi - nd), 0) FROM d) AS gaps,
    (SELECT count(*) FROM seen s WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = s.id)) AS missing,
    (SELECT count(*) - count(DISTINCT id) FROM seen) AS twice,
    (SELECT count(*) FROM orders o WHERE NOT EXISTS
       (SELECT 1 FROM events e WHERE $same e.order_id = o.id AND e.previous_status IS NULL)) AS no_event,
    (SELECT count(*) FROM orders) AS nrows,
    (SELECT count(*) FROM seen) AS acked,
    (SELECT string_agg(venue_id || '/' || queue || '/' || business_date || ':' || lo || '..' || hi, ',') FROM d) AS days
)
SELECT CASE WHEN bad_days = 0 AND missing = 0 AND twice = 0 AND no_event = 0 AND $bad = 0
            THEN 'PASS' ELSE 'FAIL' END,
       'rows=' || nrows, 'acked_201=' || acked, 'missing=' || missing, 'acked_twice=' || twice,
       'dup=' || dup, 'gaps=' || gaps, 'no_event=' || no_event, 'unparsed=' || $bad, 'days=' || days
FROM r;
SQL
}

# verify_tq_sqlite PATH IDSFILE...
verify_tq_sqlite() {
	local path=$1
	shift
	cat "$@" 2>/dev/null | "$PYTHON" -c '
import sqlite3, sys
ids = [l.strip() for l in sys.stdin if l.strip()]
bad = sum(1 for i in ids if not i.isdigit())
ids = [int(i) for i in ids if i.isdigit()]
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=30)
venues = any(c[1] == "venue_id" for c in db.execute("PRAGMA table_info(orders)"))  # a release before venues: one venue
v, same = ("venue_id", "e.venue_id = o.venue_id AND") if venues else ("1", "")
days = db.execute(f"SELECT {v}, business_date, count(*), count(DISTINCT sequence), min(sequence), max(sequence) FROM orders GROUP BY {v}, queue, business_date").fetchall()
bad_days = sum(1 for q, d, n, nd, lo, hi in days if not (n == nd == hi and lo == 1))
dup = sum(n - nd for q, d, n, nd, lo, hi in days)
gaps = sum(hi - nd for q, d, n, nd, lo, hi in days)
have = set(r[0] for r in db.execute("SELECT id FROM orders"))
no_event = db.execute(f"SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM events e WHERE {same} e.order_id = o.id AND e.previous_status IS NULL)").fetchone()[0]
missing = sum(1 for i in ids if i not in have)
twice = len(ids) - len(set(ids))
ok = bad_days == 0 and missing == 0 and twice == 0 and no_event == 0 and bad == 0
print("PASS" if ok else "FAIL", f"rows={len(have)} acked_201={len(ids)} missing={missing} acked_twice={twice} dup={dup} gaps={gaps} no_event={no_event} unparsed={bad} days=" + ",".join(f"{q}/{d}:{lo}..{hi}" for q, d, n, nd, lo, hi in days))
' "$path"
}

# verify_peer DB IDSFILE...   (the seed peer's tables: orders, tokens "A-NNN", per UTC day)
verify_peer() {
	local db=$1
	shift
	local ids=$BENCH_WORK/verify.ids bad
	cat "$@" 2>/dev/null >"$ids.all" || true
	bad=$(grep -cvE '^[0-9]+$' "$ids.all" || true)
	grep -E '^[0-9]+$' "$ids.all" >"$ids" || true
	# A database of a release before venues has no venue_id: it is all one venue.
	local v="venue_id" same="e.venue_id = o.venue_id AND"
	if [ "$(psql_db "$db" -Atc "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'orders' AND column_name = 'venue_id'")" = 0 ]; then
		v="1" same=""
	fi
	psql_db "$db" -At -F ' ' <<SQL
CREATE TEMP TABLE seen (id bigint);
\copy seen FROM '$ids'
WITH t AS (
  SELECT to_char(o."createdAt", 'YYYY-MM-DD') AS day, regexp_replace(tk.number, '^A-', '')::int AS seq
  FROM tokens tk JOIN orders o ON o.id = tk."orderId"
), d AS (
  SELECT day, count(*) AS n, count(DISTINCT seq) AS nd, min(seq) AS lo, max(seq) AS hi FROM t GROUP BY 1
), r AS (
  SELECT
    (SELECT count(*) FROM d WHERE NOT (n = nd AND n = hi AND lo = 1)) AS bad_days,
    (SELECT coalesce(sum(n - nd), 0) FROM d) AS dup,
    (SELECT coalesce(sum(hi - nd), 0) FROM d) AS gaps,
    (SELECT count(*) FROM seen s WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = s.id)) AS missing,
    (SELECT count(*) FROM orders) AS nrows,
    (SELECT count(*) FROM seen) AS acked,
    (SELECT string_agg(day || ':' || lo || '..' || hi, ',') FROM d) AS days
)
SELECT CASE WHEN bad_days = 0 AND missing = 0 AND $bad = 0 THEN 'PASS' ELSE 'FAIL' END,
       'rows=' || nrows, 'acked_201=' || acked, 'missing=' || missing, 'dup=' || dup, 'gaps=' || gaps,
       'unparsed=' || $bad, 'days=' || days
FROM r;
SQL
}

# verify_pgbench DB: the numbers pgbench issued are 1..N too.
verify_pgbench() {
	psql_db "$1" -At -F ' ' -c "
SELECT CASE WHEN count(*) = count(DISTINCT sequence) AND count(*) = max(sequence) AND min(sequence) = 1
            THEN 'PASS' ELSE 'FAIL' END,
       'rows=' || count(*), 'dup=' || (count(*) - count(DISTINCT sequence)),
       'gaps=' || (max(sequence) - count(DISTINCT sequence))
FROM orders"
}

# Orders per transaction on PostgreSQL (rows of one transaction share xmin),
# for orders with id > $2: "txns=N orders_per_txn=avg max=M".
pg_batch_sizes() {
	psql_db "$1" -At -c "
SELECT 'txns=' || count(*) || ' orders_per_txn=' || coalesce(round(avg(n), 1), 0) || ' max=' || coalesce(max(n), 0)
FROM (SELECT xmin, count(*) AS n FROM orders WHERE id > $2 GROUP BY xmin) b"
}
