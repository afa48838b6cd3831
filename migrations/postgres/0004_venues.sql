-- tokenq schema, version 4 (PostgreSQL): venues. One install holds many
-- venues; everything that belongs to one carries its venue_id, and every
-- table that grows with use carries it first in its primary key, so that
-- the install can be distributed by venue (docs/scaling.md). An existing
-- database becomes the venue main (id 1) with nothing lost.

-- A venue and its settings. queues and counters are the specs of
-- TOKENQ_QUEUES and TOKENQ_COUNTERS; timezone '' is the system's zone;
-- day_start is minutes after local midnight.
CREATE TABLE venues (
    id         INTEGER  PRIMARY KEY CHECK (id BETWEEN 1 AND 65535),
    slug       TEXT     NOT NULL UNIQUE,
    name       TEXT     NOT NULL,
    timezone   TEXT     NOT NULL DEFAULT '',
    day_start  INTEGER  NOT NULL DEFAULT 0 CHECK (day_start BETWEEN 0 AND 1439),
    queues     TEXT     NOT NULL DEFAULT 'A=Orders',
    digits     INTEGER  NOT NULL DEFAULT 3 CHECK (digits BETWEEN 1 AND 9),
    counters   TEXT     NOT NULL DEFAULT '',
    language   TEXT,
    currency   TEXT     NOT NULL DEFAULT 'USD',
    accent     TEXT,
    logo       TEXT,  -- base64
    logo_type  TEXT,
    created_at BIGINT   NOT NULL,
    updated_at BIGINT   NOT NULL
);
INSERT INTO venues (id, slug, name, created_at, updated_at)
VALUES (1, 'main', 'Main', (extract(epoch FROM now()) * 1000)::bigint,
        (extract(epoch FROM now()) * 1000)::bigint);

-- Bumped by every change of a venue's settings (servers also hear NOTIFY
-- tokenq_settings), so that a running server reloads what it caches.
CREATE TABLE settings_version (
    one     INTEGER PRIMARY KEY CHECK (one = 1),
    version BIGINT  NOT NULL
);
INSERT INTO settings_version (one, version) VALUES (1, 1);

-- The references to orders and events are rebuilt over (venue_id, id).
ALTER TABLE events DROP CONSTRAINT events_order_id_fkey;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_order_id_fkey;
ALTER TABLE print_jobs DROP CONSTRAINT print_jobs_order_id_fkey;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_event_id_fkey;
ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_delivery_id_fkey;

ALTER TABLE orders ADD COLUMN venue_id INTEGER NOT NULL DEFAULT 1 REFERENCES venues (id);
ALTER TABLE orders ALTER COLUMN venue_id DROP DEFAULT;
ALTER TABLE orders DROP CONSTRAINT orders_pkey;
ALTER TABLE orders ADD PRIMARY KEY (venue_id, id);
ALTER TABLE orders DROP CONSTRAINT orders_queue_business_date_sequence_key;
ALTER TABLE orders ADD UNIQUE (venue_id, queue, business_date, sequence);
DROP INDEX orders_day;
CREATE INDEX orders_day ON orders (venue_id, business_date, queue, status);

ALTER TABLE counters ADD COLUMN venue_id INTEGER NOT NULL DEFAULT 1 REFERENCES venues (id);
ALTER TABLE counters ALTER COLUMN venue_id DROP DEFAULT;
ALTER TABLE counters DROP CONSTRAINT counters_pkey;
ALTER TABLE counters ADD PRIMARY KEY (venue_id, queue, business_date);

-- Event ids: each venue has its own counter row (no row shared by two
-- venues on the order path); an event's id is its venue's count times
-- 65536 plus the venue id, so ids are unique across the install and grow
-- in commit order within a venue. The ids made before venues (1, 2, ...)
-- stay as they were: main's count continues from the last of them.
CREATE TABLE event_counters (
    venue_id INTEGER PRIMARY KEY REFERENCES venues (id),
    last     BIGINT  NOT NULL,
    last_id  BIGINT  NOT NULL -- the id of the venue's latest event, 0 for none
);
INSERT INTO event_counters (venue_id, last, last_id) SELECT 1, last, last FROM event_counter;
DROP TABLE event_counter;

ALTER TABLE events ADD COLUMN venue_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE events ALTER COLUMN venue_id DROP DEFAULT;
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD PRIMARY KEY (venue_id, id);
ALTER TABLE events ADD FOREIGN KEY (venue_id, order_id) REFERENCES orders (venue_id, id);
DROP INDEX events_order;
CREATE INDEX events_order ON events (venue_id, order_id, id);

-- Idempotency keys are per venue: a retry goes to the venue it was sent to.
ALTER TABLE idempotency_keys ADD COLUMN venue_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE idempotency_keys ALTER COLUMN venue_id DROP DEFAULT;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (venue_id, key);
ALTER TABLE idempotency_keys ADD FOREIGN KEY (venue_id, order_id) REFERENCES orders (venue_id, id);

ALTER TABLE print_jobs ADD COLUMN venue_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE print_jobs ALTER COLUMN venue_id DROP DEFAULT;
ALTER TABLE print_jobs DROP CONSTRAINT print_jobs_pkey;
ALTER TABLE print_jobs ADD PRIMARY KEY (venue_id, id);
ALTER TABLE print_jobs ADD FOREIGN KEY (venue_id, order_id) REFERENCES orders (venue_id, id);
DROP INDEX print_jobs_order;
CREATE INDEX print_jobs_order ON print_jobs (venue_id, order_id, id);

ALTER TABLE webhook_deliveries ADD COLUMN venue_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE webhook_deliveries ALTER COLUMN venue_id DROP DEFAULT;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey;
ALTER TABLE webhook_deliveries ADD PRIMARY KEY (venue_id, id);
ALTER TABLE webhook_deliveries ADD FOREIGN KEY (venue_id, event_id) REFERENCES events (venue_id, id);
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_endpoint_id_event_id_key;
ALTER TABLE webhook_deliveries ADD UNIQUE (venue_id, endpoint_id, event_id);

ALTER TABLE webhook_attempts ADD COLUMN venue_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE webhook_attempts ALTER COLUMN venue_id DROP DEFAULT;
ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_pkey;
ALTER TABLE webhook_attempts ADD PRIMARY KEY (venue_id, delivery_id, attempt);
ALTER TABLE webhook_attempts ADD FOREIGN KEY (venue_id, delivery_id) REFERENCES webhook_deliveries (venue_id, id);

-- A key of one venue, or (NULL) of every venue, as every key made before.
ALTER TABLE api_keys ADD COLUMN venue_id INTEGER REFERENCES venues (id);
