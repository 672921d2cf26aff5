-- A key's own request budgets; NULL uses the service's (RATE_LIMIT_*), 0 turns one off.
ALTER TABLE api_keys
    ADD COLUMN IF NOT EXISTS reads_per_second BIGINT,
    ADD COLUMN IF NOT EXISTS read_burst BIGINT,
    ADD COLUMN IF NOT EXISTS writes_per_minute BIGINT;
