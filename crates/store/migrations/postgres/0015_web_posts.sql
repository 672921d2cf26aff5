-- Web posts published (postgres): one row per post address (its slug), for the feeds. A post
-- published again keeps its first publication time and takes the new title, summary and tags.
CREATE TABLE IF NOT EXISTS web_posts (
    slug          TEXT     PRIMARY KEY,
    title         TEXT     NOT NULL,
    url           TEXT     NOT NULL,
    summary       TEXT     NOT NULL,
    -- JSON array of tags.
    tags          TEXT     NOT NULL,
    job_id        TEXT     NOT NULL,
    -- 1 when it was published in dry run (to the mock Platform).
    dry_run       BIGINT     NOT NULL,
    published_ms  BIGINT     NOT NULL,
    updated_ms    BIGINT     NOT NULL
);
CREATE INDEX IF NOT EXISTS web_posts_newest ON web_posts (dry_run, updated_ms);
