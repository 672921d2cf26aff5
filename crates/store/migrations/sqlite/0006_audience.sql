-- Personalised segments, A/B subject tests and email campaign analytics (sqlite).
ALTER TABLE segments ADD COLUMN intro TEXT;
ALTER TABLE segments ADD COLUMN cta_text TEXT;
ALTER TABLE segments ADD COLUMN cta_url TEXT;

CREATE TABLE IF NOT EXISTS ab_tests (
    id               TEXT    PRIMARY KEY,
    job_id           TEXT    NOT NULL,
    remainder_job_id TEXT,
    segment_id       TEXT,
    subjects         TEXT    NOT NULL,
    test_fraction    REAL  NOT NULL,
    decide_after_ms  INTEGER  NOT NULL,
    status           TEXT    NOT NULL,
    assignment       TEXT,
    winner           INTEGER,
    results          TEXT    NOT NULL,
    reason           TEXT,
    created_ms       INTEGER  NOT NULL,
    updated_ms       INTEGER  NOT NULL,
    decided_ms       INTEGER
);
CREATE INDEX IF NOT EXISTS ab_tests_job ON ab_tests (job_id);

CREATE TABLE IF NOT EXISTS email_campaigns (
    campaign_id  TEXT    PRIMARY KEY,
    job_id       TEXT    NOT NULL,
    ab_test_id   TEXT,
    variant      TEXT,
    subject      TEXT    NOT NULL,
    segment_id   TEXT,
    recipients   INTEGER  NOT NULL,
    sent         INTEGER,
    delivered    INTEGER,
    opened       INTEGER,
    clicked      INTEGER,
    unsubscribed INTEGER,
    bounced      INTEGER,
    fetched_ms   INTEGER,
    created_ms   INTEGER  NOT NULL
);
CREATE INDEX IF NOT EXISTS email_campaigns_created ON email_campaigns (created_ms);
