-- pgbench: the same single-order transaction as pgbench_order.sql, sent as
-- one statement (one round trip; autocommit), so the counter row is locked
-- only while the server executes and flushes, never while a client thinks.
\set q random(1, 5)
WITH c AS (
  INSERT INTO counters (queue, business_date, last) VALUES ('A', :date, 1)
  ON CONFLICT (queue, business_date) DO UPDATE SET last = counters.last + 1 RETURNING last
), o AS (
  INSERT INTO orders (queue, business_date, sequence, status, items, total, note, created_at, updated_at)
  SELECT 'A', :date, c.last, 'PENDING', '[{"name":"Masala tea","quantity":' || :q || ',"unit_price":150},{"name":"Plain dosa","quantity":1,"unit_price":650}]', 150 * :q + 650, NULL, :now, :now FROM c
  RETURNING id
), e AS (
  UPDATE event_counter SET last = last + 1 WHERE one = 1 RETURNING last
)
INSERT INTO events (id, order_id, kind, status, previous_status, at)
  SELECT e.last, o.id, 'token', 'PENDING', NULL, :now FROM e, o;
