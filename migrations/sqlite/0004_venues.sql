-- tokenq schema, version 4 (SQLite): venues. One install holds many venues;
-- everything that belongs to one carries its venue_id. An existing database
-- becomes the venue main (id 1) with nothing lost. Tables whose keys change
-- are rebuilt (SQLite cannot alter a constraint); the migration runs with
-- foreign keys off and checks them all before it commits.

-- A venue and its settings. queues and counters are the specs of
-- TOKENQ_QUEUES and TOKENQ_COUNTERS; timezone '' is the system's zone;
-- day_start is minutes after local midnight.
CREATE TABLE venues (
    id         INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 65535),
    slug       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    timezone   TEXT    NOT NULL DEFAULT '',
    day_start  INTEGER NOT NULL DEFAULT 0 CHECK (day_start BETWEEN 0 AND 1439),
    queues     TEXT    NOT NULL DEFAULT 'A=Orders',
    digits     INTEGER NOT NULL DEFAULT 3 CHECK (digits BETWEEN 1 AND 9),
    counters   TEXT    NOT NULL DEFAULT '',
    language   TEXT,
    currency   TEXT    NOT NULL DEFAULT 'USD',
    accent     TEXT,
    logo       TEXT,  -- base64
    logo_type  TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO venues (id, slug, name, created_at, updated_at)
VALUES (1, 'main', 'Main', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
        CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));

-- Bumped by every change of a venue's settings: a running server reads it
-- and reloads what it caches when it moved.
CREATE TABLE settings_version (
    one     INTEGER PRIMARY KEY CHECK (one = 1),
    version INTEGER NOT NULL
);
INSERT INTO settings_version (one, version) VALUES (1, 1);

CREATE TABLE orders_v4 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    venue_id      INTEGER NOT NULL REFERENCES venues (id),
    queue         TEXT    NOT NULL,
    business_date TEXT    NOT NULL,
    sequence      INTEGER NOT NULL CHECK (sequence >= 1),
    status        TEXT    NOT NULL CHECK (status IN ('PENDING','PREPARING','READY','COMPLETED','CANCELLED')),
    items         TEXT    NOT NULL,
    total         INTEGER NOT NULL CHECK (total >= 0),
    note          TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    ready_at      INTEGER,
    UNIQUE (venue_id, queue, business_date, sequence)
);
INSERT INTO orders_v4 (id, venue_id, queue, business_date, sequence, status, items, total, note,
                       created_at, updated_at, ready_at)
SELECT id, 1, queue, business_date, sequence, status, items, total, note, created_at,
       updated_at, ready_at FROM orders;
DROP INDEX orders_day;
DROP TABLE orders;
ALTER TABLE orders_v4 RENAME TO orders;
CREATE INDEX orders_day ON orders (venue_id, business_date, queue, status);

CREATE TABLE counters_v4 (
    venue_id      INTEGER NOT NULL REFERENCES venues (id),
    queue         TEXT    NOT NULL,
    business_date TEXT    NOT NULL,
    last          INTEGER NOT NULL CHECK (last >= 1),
    PRIMARY KEY (venue_id, queue, business_date)
);
INSERT INTO counters_v4 (venue_id, queue, business_date, last)
SELECT 1, queue, business_date, last FROM counters;
DROP TABLE counters;
ALTER TABLE counters_v4 RENAME TO counters;

-- Event ids: each venue has its own counter row; an event's id is its
-- venue's count times 65536 plus the venue id, so ids are unique across the
-- install and grow in commit order within a venue. The ids made before
-- venues stay as they were: main's count continues from the last of them.
CREATE TABLE event_counters (
    venue_id INTEGER PRIMARY KEY REFERENCES venues (id),
    last     INTEGER NOT NULL,
    last_id  INTEGER NOT NULL -- the id of the venue's latest event, 0 for none
);
INSERT INTO event_counters (venue_id, last, last_id) SELECT 1, last, last FROM event_counter;
DROP TABLE event_counter;

ALTER TABLE events ADD COLUMN venue_id INTEGER NOT NULL DEFAULT 1;
DROP INDEX events_order;
CREATE INDEX events_order ON events (venue_id, order_id, id);

-- Idempotency keys are per venue: a retry goes to the venue it was sent to.
CREATE TABLE idempotency_keys_v4 (
    venue_id     INTEGER NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    order_id     INTEGER REFERENCES orders (id),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (venue_id, key)
);
INSERT INTO idempotency_keys_v4 (venue_id, key, request_hash, order_id, created_at)
SELECT 1, key, request_hash, order_id, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_v4 RENAME TO idempotency_keys;

ALTER TABLE print_jobs ADD COLUMN venue_id INTEGER NOT NULL DEFAULT 1;
DROP INDEX print_jobs_order;
CREATE INDEX print_jobs_order ON print_jobs (venue_id, order_id, id);
ALTER TABLE webhook_deliveries ADD COLUMN venue_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE webhook_attempts ADD COLUMN venue_id INTEGER NOT NULL DEFAULT 1;

-- A key of one venue, or (NULL) of every venue, as every key made before.
ALTER TABLE api_keys ADD COLUMN venue_id INTEGER REFERENCES venues (id);
