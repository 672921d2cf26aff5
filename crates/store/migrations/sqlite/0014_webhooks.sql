-- Outbound webhooks (sqlite): the endpoints a team registers (Standard Webhooks), and one row per
-- message and endpoint, kept until it is delivered or given up, so deliveries survive restarts
-- and any replica can send them.
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id                 TEXT     PRIMARY KEY,
    url                TEXT     NOT NULL,
    -- JSON array of event types.
    events             TEXT     NOT NULL,
    description        TEXT,
    -- The signing secret, sealed with API_KEY_ENCRYPTION_KEY when one is configured.
    secret             TEXT     NOT NULL,
    -- After a rotation the old secret also signs until previous_until_ms.
    previous_secret    TEXT,
    previous_until_ms  INTEGER,
    failing            INTEGER     NOT NULL DEFAULT 0,
    last_error         TEXT,
    created_ms         INTEGER     NOT NULL,
    updated_ms         INTEGER     NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id      TEXT     NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- The webhook-id header: the same for every endpoint a message goes to.
    message_id       TEXT     NOT NULL,
    event            TEXT     NOT NULL,
    -- The exact body sent (and signed).
    payload          TEXT     NOT NULL,
    -- pending, delivered or failed.
    state            TEXT     NOT NULL,
    attempts         INTEGER     NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER     NOT NULL,
    lease_until_ms   INTEGER,
    last_status      INTEGER,
    last_error       TEXT,
    -- JSON array of attempts: {at_ms, status, error, ms}.
    attempt_log      TEXT     NOT NULL DEFAULT '[]',
    created_ms       INTEGER     NOT NULL,
    updated_ms       INTEGER     NOT NULL,
    UNIQUE (endpoint_id, message_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (state, next_attempt_ms);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, seq);
