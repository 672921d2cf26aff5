-- Review state of content versions, and schedules with their runs (sqlite).
ALTER TABLE content_versions ADD COLUMN review_state TEXT NOT NULL DEFAULT 'scheduled';
ALTER TABLE content_versions ADD COLUMN review_level TEXT;
ALTER TABLE content_versions ADD COLUMN review TEXT NOT NULL DEFAULT '{}';
ALTER TABLE content_versions ADD COLUMN updated_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE content_versions ADD COLUMN schedule_id TEXT;
CREATE INDEX IF NOT EXISTS content_versions_review ON content_versions (review_state);

CREATE TABLE IF NOT EXISTS schedules (
    id               TEXT    PRIMARY KEY,
    name             TEXT    NOT NULL,
    cron             TEXT,
    timezone         TEXT    NOT NULL,
    scheduled_for_ms INTEGER,
    document_id      TEXT,
    channels         TEXT    NOT NULL,
    options          TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    next_run_ms      INTEGER,
    last_run_ms      INTEGER,
    last_result      TEXT,
    created_by       TEXT    NOT NULL,
    created_ms       INTEGER  NOT NULL,
    updated_ms       INTEGER  NOT NULL
);
CREATE INDEX IF NOT EXISTS schedules_due ON schedules (status, next_run_ms);

CREATE TABLE IF NOT EXISTS schedule_runs (
    id          TEXT    PRIMARY KEY,
    schedule_id TEXT    NOT NULL,
    due_ms      INTEGER  NOT NULL,
    started_ms  INTEGER  NOT NULL,
    finished_ms INTEGER,
    status      TEXT    NOT NULL,
    version_id  TEXT,
    job_id      TEXT,
    detail      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS schedule_runs_schedule ON schedule_runs (schedule_id, started_ms);
