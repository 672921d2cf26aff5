-- Outbound credentials (CRM and Platform keys, social tokens), sealed with AES-256-GCM by
-- the vault before they reach the database: this table never holds a plaintext value (sqlite).
CREATE TABLE IF NOT EXISTS credentials (
    name       TEXT    PRIMARY KEY,
    sealed     TEXT    NOT NULL,
    key_id     TEXT    NOT NULL,
    meta       TEXT    NOT NULL,
    revision   INTEGER  NOT NULL,
    created_ms INTEGER  NOT NULL,
    updated_ms INTEGER  NOT NULL
);
