-- Posts sent to each social network, so the hourly and daily quotas hold across every process
-- sharing the database and across restarts (sqlite). `mode` keeps dry-run rehearsals apart
-- from live posts. Rows older than a week are dropped as new ones arrive.
CREATE TABLE IF NOT EXISTS social_posts (
    network  TEXT     NOT NULL,
    mode     TEXT     NOT NULL,
    post_id  TEXT     NOT NULL,
    sent_ms  INTEGER  NOT NULL
);
CREATE INDEX IF NOT EXISTS social_posts_window ON social_posts (network, mode, sent_ms);
