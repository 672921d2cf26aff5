-- The delivery ledger (postgres): one row per send and recipient. A message is marked
-- `sending` before the provider is called and `delivered` (with the provider's id) after, so
-- a crash, a retry or another worker never sends a delivered recipient the same message again;
-- a row found still `sending` was in flight when its worker stopped, and is sent again marked
-- `uncertain`. A send is a job (the first of a retry chain) and one of its targets.
CREATE TABLE IF NOT EXISTS deliveries (
    job_id         TEXT     NOT NULL,
    target         TEXT     NOT NULL,
    email          TEXT     NOT NULL,
    subscriber_id  TEXT,
    message_id     TEXT     NOT NULL,
    state          TEXT     NOT NULL,
    attempts       BIGINT   NOT NULL DEFAULT 0,
    uncertain      BIGINT   NOT NULL DEFAULT 0,
    retryable      BIGINT   NOT NULL DEFAULT 0,
    provider_id    TEXT,
    reason         TEXT,
    holder         TEXT,
    created_ms     BIGINT   NOT NULL,
    updated_ms     BIGINT   NOT NULL,
    PRIMARY KEY (job_id, target, email)
);
CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries (job_id, state);
