-- tokenq schema, version 3 (PostgreSQL): print jobs. Times are milliseconds
-- since the Unix epoch (UTC).

-- A ticket to print on the printer: written in the order's own transaction
-- when the order asks to be printed, or by POST /api/orders/{id}/print.
-- state: 0 queued, 1 printed. lease_until hides a job from other servers'
-- print workers while one is sending it; next_at is when it may be tried
-- (again, after the printer was away: last_error says why).
CREATE TABLE print_jobs (
    id          BIGSERIAL PRIMARY KEY,
    order_id    BIGINT   NOT NULL REFERENCES orders (id),
    state       SMALLINT NOT NULL DEFAULT 0 CHECK (state IN (0, 1)),
    attempts    INTEGER  NOT NULL DEFAULT 0,
    last_error  TEXT,
    next_at     BIGINT   NOT NULL,
    lease_until BIGINT   NOT NULL DEFAULT 0,
    queued_at   BIGINT   NOT NULL,
    printed_at  BIGINT
);
-- The queue's head: jobs not yet printed, by when they may go.
CREATE INDEX print_jobs_queued ON print_jobs (next_at, id) WHERE state = 0;
-- An order's jobs, its latest last.
CREATE INDEX print_jobs_order ON print_jobs (order_id, id);
