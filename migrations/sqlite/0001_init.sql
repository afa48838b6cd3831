-- tokenq schema, version 1 (SQLite). Times are milliseconds since the Unix
-- epoch (UTC); business dates are 'YYYY-MM-DD' in the venue's zone.

CREATE TABLE orders (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
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
    UNIQUE (queue, business_date, sequence)
);
CREATE INDEX orders_day ON orders (business_date, queue, status);

-- The last number issued per queue and business day. The key is built in
-- one place (store.c), so a venue column can join it later.
CREATE TABLE counters (
    queue         TEXT    NOT NULL,
    business_date TEXT    NOT NULL,
    last          INTEGER NOT NULL CHECK (last >= 1),
    PRIMARY KEY (queue, business_date)
);

-- One row: the last event id handed out. Taking ids from this row inside
-- the writing transaction makes event ids follow commit order.
CREATE TABLE event_counter (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    last INTEGER NOT NULL
);
INSERT INTO event_counter (one, last) VALUES (1, 0);

CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES orders (id),
    kind            TEXT    NOT NULL CHECK (kind IN ('token','recall')),
    status          TEXT    NOT NULL,
    previous_status TEXT,
    at              INTEGER NOT NULL
);
CREATE INDEX events_order ON events (order_id, id);

CREATE TABLE idempotency_keys (
    key          TEXT    PRIMARY KEY,
    request_hash TEXT    NOT NULL,
    order_id     INTEGER REFERENCES orders (id),
    created_at   INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    role         TEXT    NOT NULL CHECK (role IN ('pos','staff','admin')),
    label        TEXT,
    hash         TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
