-- Send rates shared by every process on this database (sqlite): one token bucket per transport
-- (`email`, …), refilled at the configured rate and taken from atomically, so N replicas
-- together send no faster than one would. `last_grant` is what the latest take received.
CREATE TABLE IF NOT EXISTS rate_buckets (
    name        TEXT     PRIMARY KEY,
    tokens      REAL  NOT NULL,
    last_grant  REAL  NOT NULL DEFAULT 0,
    updated_ms  INTEGER  NOT NULL
);
