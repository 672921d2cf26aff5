-- Outbound credentials (CRM and Platform keys, social tokens), sealed with AES-256-GCM by
-- the vault before they reach the database: this table never holds a plaintext value (postgres).
CREATE TABLE IF NOT EXISTS credentials (
    name       TEXT    PRIMARY KEY,
    sealed     TEXT    NOT NULL,
    key_id     TEXT    NOT NULL,
    meta       TEXT    NOT NULL,
    revision   BIGINT  NOT NULL,
    created_ms BIGINT  NOT NULL,
    updated_ms BIGINT  NOT NULL
);
