-- Send rates shared by every process on this database (postgres): one token bucket per transport
-- (`email`, …), refilled at the configured rate and taken from atomically, so N replicas
-- together send no faster than one would. `last_grant` is what the latest take received.
CREATE TABLE IF NOT EXISTS rate_buckets (
    name        TEXT     PRIMARY KEY,
    tokens      DOUBLE PRECISION  NOT NULL,
    last_grant  DOUBLE PRECISION  NOT NULL DEFAULT 0,
    updated_ms  BIGINT  NOT NULL
);
