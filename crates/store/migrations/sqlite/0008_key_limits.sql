-- A key's own request budgets; NULL uses the service's (RATE_LIMIT_*), 0 turns one off.
ALTER TABLE api_keys ADD COLUMN reads_per_second INTEGER;
ALTER TABLE api_keys ADD COLUMN read_burst INTEGER;
ALTER TABLE api_keys ADD COLUMN writes_per_minute INTEGER;
