-- Personalised segments, A/B subject tests and email campaign analytics (postgres).
ALTER TABLE segments ADD COLUMN intro TEXT;
ALTER TABLE segments ADD COLUMN cta_text TEXT;
ALTER TABLE segments ADD COLUMN cta_url TEXT;

CREATE TABLE IF NOT EXISTS ab_tests (
    id               TEXT    PRIMARY KEY,
    job_id           TEXT    NOT NULL,
    remainder_job_id TEXT,
    segment_id       TEXT,
    subjects         TEXT    NOT NULL,
    test_fraction    DOUBLE PRECISION  NOT NULL,
    decide_after_ms  BIGINT  NOT NULL,
    status           TEXT    NOT NULL,
    assignment       TEXT,
    winner           BIGINT,
    results          TEXT    NOT NULL,
    reason           TEXT,
    created_ms       BIGINT  NOT NULL,
    updated_ms       BIGINT  NOT NULL,
    decided_ms       BIGINT
);
CREATE INDEX IF NOT EXISTS ab_tests_job ON ab_tests (job_id);

CREATE TABLE IF NOT EXISTS email_campaigns (
    campaign_id  TEXT    PRIMARY KEY,
    job_id       TEXT    NOT NULL,
    ab_test_id   TEXT,
    variant      TEXT,
    subject      TEXT    NOT NULL,
    segment_id   TEXT,
    recipients   BIGINT  NOT NULL,
    sent         BIGINT,
    delivered    BIGINT,
    opened       BIGINT,
    clicked      BIGINT,
    unsubscribed BIGINT,
    bounced      BIGINT,
    fetched_ms   BIGINT,
    created_ms   BIGINT  NOT NULL
);
CREATE INDEX IF NOT EXISTS email_campaigns_created ON email_campaigns (created_ms);
