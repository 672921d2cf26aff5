-- Batches of scheduled content, content versions, cache-invalidation history (postgres).
ALTER TABLE jobs ADD COLUMN batch_id TEXT;
CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (batch_id);

CREATE TABLE IF NOT EXISTS batches (
    id           TEXT    PRIMARY KEY,
    created_ms   BIGINT  NOT NULL,
    period       TEXT    NOT NULL,
    channels     TEXT    NOT NULL,
    dry_run      BIGINT  NOT NULL,
    items        TEXT    NOT NULL,
    scheduled_ms BIGINT
);

CREATE TABLE IF NOT EXISTS content_versions (
    id           TEXT    PRIMARY KEY,
    document_id  TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    channels     TEXT    NOT NULL,
    options      TEXT    NOT NULL,
    job_id       TEXT,
    created_ms   BIGINT  NOT NULL
);
CREATE INDEX IF NOT EXISTS content_versions_created ON content_versions (created_ms);

CREATE TABLE IF NOT EXISTS cache_invalidations (
    seq        BIGSERIAL PRIMARY KEY,
    at_ms      BIGINT  NOT NULL,
    request_id TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    request    TEXT    NOT NULL,
    result     TEXT    NOT NULL
);
