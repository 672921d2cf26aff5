-- Halcytone core state (SQLite). Times are Unix milliseconds; JSON is stored as text.
CREATE TABLE IF NOT EXISTS documents (
    id         TEXT    PRIMARY KEY,
    hash       TEXT    NOT NULL UNIQUE,
    source     TEXT    NOT NULL,
    format     TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS jobs (
    id             TEXT    PRIMARY KEY,
    document_id    TEXT    NOT NULL,
    channels       TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    max_attempts   INTEGER NOT NULL,
    run_at_ms      INTEGER NOT NULL,
    lease_until_ms INTEGER,
    worker         TEXT,
    created_ms     INTEGER NOT NULL,
    started_ms     INTEGER,
    completed_ms   INTEGER,
    scheduled_ms   INTEGER,
    payload        TEXT    NOT NULL,
    results        TEXT    NOT NULL DEFAULT '{}',
    errors         TEXT    NOT NULL DEFAULT '[]',
    last_error     TEXT,
    correlation_id TEXT    NOT NULL,
    retry_of       TEXT
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (status, run_at_ms);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_ms);

CREATE TABLE IF NOT EXISTS api_keys (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    prefix     TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    scopes     TEXT    NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER
);

CREATE TABLE IF NOT EXISTS audit_log (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms  INTEGER NOT NULL,
    actor  TEXT    NOT NULL,
    action TEXT    NOT NULL,
    target TEXT    NOT NULL,
    detail TEXT    NOT NULL
);
