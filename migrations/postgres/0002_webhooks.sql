-- tokenq schema, version 2 (PostgreSQL): webhooks. Times are milliseconds since
-- the Unix epoch (UTC).

-- Where events are POSTed. events is a bit set of the event kinds wanted
-- (1 token, 2 recall, 4 transfer); the secret is the signing key as given
-- to receivers ("whsec_" + base64). failing_since is set when a delivery
-- was given up after the retry period and cleared by the next success.
CREATE TABLE webhook_endpoints (
    id            BIGSERIAL PRIMARY KEY,
    venue         TEXT    NOT NULL DEFAULT 'main',
    url           TEXT    NOT NULL,
    secret        TEXT    NOT NULL,
    events        INTEGER NOT NULL CHECK (events BETWEEN 1 AND 7),
    allow_private INTEGER NOT NULL DEFAULT 0 CHECK (allow_private IN (0, 1)),
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    failing_since BIGINT
);

-- The outbox: one row per (endpoint, event), written in the transaction
-- that writes the event. state: 0 pending, 1 delivered, 2 given up.
-- lease_until hides a claimed delivery from other dispatchers while it is
-- being sent.
CREATE TABLE webhook_deliveries (
    id           BIGSERIAL PRIMARY KEY,
    endpoint_id  BIGINT NOT NULL REFERENCES webhook_endpoints (id),
    event_id     BIGINT NOT NULL REFERENCES events (id),
    state        INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      BIGINT NOT NULL,
    first_try_at BIGINT,
    lease_until  BIGINT NOT NULL DEFAULT 0,
    done_at      BIGINT,
    UNIQUE (endpoint_id, event_id)
);
-- The head of each endpoint's line: its oldest pending delivery.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, id) WHERE state = 0;

CREATE TABLE webhook_attempts (
    delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries (id),
    attempt     INTEGER NOT NULL,
    started_at  BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    status      INTEGER,
    error       TEXT,
    response    TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
