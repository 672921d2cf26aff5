-- Everything a mock accepted: captures (emails, web content, social posts) and the
-- supporting records (contacts, campaigns), with the payload exactly as received.
CREATE TABLE IF NOT EXISTS records (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    captured        INTEGER NOT NULL,
    subject         TEXT,
    campaign        TEXT,
    channel         TEXT,
    status          TEXT,
    idempotency_key TEXT,
    correlation_id  TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT,
    request         TEXT    NOT NULL,
    response        TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS records_kind_seq ON records (kind, seq);
CREATE INDEX IF NOT EXISTS records_captured_seq ON records (captured, seq);
CREATE INDEX IF NOT EXISTS records_campaign ON records (campaign);
CREATE INDEX IF NOT EXISTS records_created_at ON records (created_at);

-- Idempotency-Key → the first response given for it.
CREATE TABLE IF NOT EXISTS idempotency (
    key        TEXT    PRIMARY KEY,
    route      TEXT    NOT NULL,
    status     INTEGER NOT NULL,
    response   TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
