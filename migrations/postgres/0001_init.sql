-- tokenq schema, version 1 (PostgreSQL). Times are milliseconds since the
-- Unix epoch (UTC); business dates are 'YYYY-MM-DD' in the venue's zone.

CREATE TABLE orders (
    id            BIGSERIAL PRIMARY KEY,
    queue         TEXT   NOT NULL,
    business_date TEXT   NOT NULL,
    sequence      BIGINT NOT NULL CHECK (sequence >= 1),
    status        TEXT   NOT NULL CHECK (status IN ('PENDING','PREPARING','READY','COMPLETED','CANCELLED')),
    items         TEXT   NOT NULL,
    total         BIGINT NOT NULL CHECK (total >= 0),
    note          TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    ready_at      BIGINT,
    UNIQUE (queue, business_date, sequence)
);
CREATE INDEX orders_day ON orders (business_date, queue, status);

-- The last number issued per queue and business day. The key is built in
-- one place (store.c), so a venue column can join it later.
CREATE TABLE counters (
    queue         TEXT   NOT NULL,
    business_date TEXT   NOT NULL,
    last          BIGINT NOT NULL CHECK (last >= 1),
    PRIMARY KEY (queue, business_date)
);

-- One row: the last event id handed out. Its row lock, taken inside the
-- writing transaction and held to commit, makes event ids follow commit
-- order across every server on this database.
CREATE TABLE event_counter (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    last BIGINT  NOT NULL
);
INSERT INTO event_counter (one, last) VALUES (1, 0);

CREATE TABLE events (
    id              BIGINT PRIMARY KEY,
    order_id        BIGINT NOT NULL REFERENCES orders (id),
    kind            TEXT   NOT NULL CHECK (kind IN ('token','recall')),
    status          TEXT   NOT NULL,
    previous_status TEXT,
    at              BIGINT NOT NULL
);
CREATE INDEX events_order ON events (order_id, id);

CREATE TABLE idempotency_keys (
    key          TEXT   PRIMARY KEY,
    request_hash TEXT   NOT NULL,
    order_id     BIGINT REFERENCES orders (id),
    created_at   BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id           BIGSERIAL PRIMARY KEY,
    role         TEXT   NOT NULL CHECK (role IN ('pos','staff','admin')),
    label        TEXT,
    hash         TEXT   NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
