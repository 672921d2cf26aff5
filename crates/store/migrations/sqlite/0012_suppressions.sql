-- The suppression list (sqlite): addresses no send may reach again, with why (a hard bounce, a
-- complaint, a one-click unsubscribe, an operator) and where that came from. A send checks it
-- when it begins each recipient, so a suppressed address is skipped and counted, never sent.
CREATE TABLE IF NOT EXISTS suppressions (
    email       TEXT     PRIMARY KEY,
    reason      TEXT     NOT NULL,
    source      TEXT,
    detail      TEXT,
    created_ms  INTEGER  NOT NULL
);
CREATE INDEX IF NOT EXISTS suppressions_by_reason ON suppressions (reason, email);
-- Provider events taken in (bounces, complaints, unsubscribes): one row per event id, so a
-- provider that delivers an event twice changes nothing the second time.
CREATE TABLE IF NOT EXISTS email_events (
    id           TEXT     PRIMARY KEY,
    kind         TEXT     NOT NULL,
    email        TEXT     NOT NULL,
    message_id   TEXT,
    detail       TEXT,
    received_ms  INTEGER  NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_by_message ON deliveries (message_id);
