-- tokenq schema, version 3 (SQLite): print jobs. Times are milliseconds
-- since the Unix epoch (UTC).

-- A ticket to print on the printer: written in the order's own transaction
-- when the order asks to be printed, or by POST /api/orders/{id}/print.
-- state: 0 queued, 1 printed. lease_until hides a job from other servers'
-- print workers while one is sending it; next_at is when it may be tried
-- (again, after the printer was away: last_error says why).
CREATE TABLE print_jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    state       INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1)),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    next_at     INTEGER NOT NULL,
    lease_until INTEGER NOT NULL DEFAULT 0,
    queued_at   INTEGER NOT NULL,
    printed_at  INTEGER
);
-- The queue's head: jobs not yet printed, by when they may go.
CREATE INDEX print_jobs_queued ON print_jobs (next_at, id) WHERE state = 0;
-- An order's jobs, its latest last.
CREATE INDEX print_jobs_order ON print_jobs (order_id, id);
