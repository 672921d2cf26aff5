-- Batches of scheduled content, content versions, cache-invalidation history (sqlite).
ALTER TABLE jobs ADD COLUMN batch_id TEXT;
CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (batch_id);

CREATE TABLE IF NOT EXISTS batches (
    id           TEXT    PRIMARY KEY,
    created_ms   INTEGER  NOT NULL,
    period       TEXT    NOT NULL,
    channels     TEXT    NOT NULL,
    dry_run      INTEGER  NOT NULL,
    items        TEXT    NOT NULL,
    scheduled_ms INTEGER
);

CREATE TABLE IF NOT EXISTS content_versions (
    id           TEXT    PRIMARY KEY,
    document_id  TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    channels     TEXT    NOT NULL,
    options      TEXT    NOT NULL,
    job_id       TEXT,
    created_ms   INTEGER  NOT NULL
);
CREATE INDEX IF NOT EXISTS content_versions_created ON content_versions (created_ms);

CREATE TABLE IF NOT EXISTS cache_invalidations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms      INTEGER  NOT NULL,
    request_id TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    request    TEXT    NOT NULL,
    result     TEXT    NOT NULL
);
