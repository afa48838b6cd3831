-- pgbench: the best single-order transaction on tokenq's real schema, one
-- order per transaction (what a server without group commit must do).
--   pgbench -n -M prepared -c C -j 2 -T 10 -D date=YYYY-MM-DD -D now=MS -f bench/pgbench_order.sql
\set q random(1, 5)
BEGIN;
INSERT INTO counters (queue, business_date, last) VALUES ('A', :date, 1)
  ON CONFLICT (queue, business_date) DO UPDATE SET last = counters.last + 1 RETURNING last AS seq \gset
INSERT INTO orders (queue, business_date, sequence, status, items, total, note, created_at, updated_at)
  VALUES ('A', :date, :seq, 'PENDING', '[{"name":"Masala tea","quantity":' || :q || ',"unit_price":150},{"name":"Plain dosa","quantity":1,"unit_price":650}]', 150 * :q + 650, NULL, :now, :now)
  RETURNING id AS order_id \gset
UPDATE event_counter SET last = last + 1 WHERE one = 1 RETURNING last AS ev \gset
INSERT INTO events (id, order_id, kind, status, previous_status, at)
  VALUES (:ev, :order_id, 'token', 'PENDING', NULL, :now);
COMMIT;
