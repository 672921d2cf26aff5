-- Audiences you bring (postgres): named lists of people imported from CSV, beside the CRM's own
-- subscriber list. One row per audience and address; the address is kept trimmed and
-- lower-cased, so importing the same person again updates their row. `tags` is a JSON array,
-- `attributes` a JSON object of the file's other columns. Addresses sort bytewise ("C"), as
-- on SQLite, so paging in address order is the same on both backends.
CREATE TABLE IF NOT EXISTS audiences (
    id          TEXT     PRIMARY KEY,
    name        TEXT     NOT NULL UNIQUE,
    created_ms  BIGINT   NOT NULL
);
CREATE TABLE IF NOT EXISTS audience_members (
    audience_id  TEXT     NOT NULL REFERENCES audiences (id),
    email        TEXT     COLLATE "C" NOT NULL,
    name         TEXT,
    first_name   TEXT,
    last_name    TEXT,
    tags         TEXT     NOT NULL DEFAULT '[]',
    status       TEXT     NOT NULL DEFAULT 'active',
    attributes   TEXT     NOT NULL DEFAULT '{}',
    created_ms   BIGINT   NOT NULL,
    updated_ms   BIGINT   NOT NULL,
    PRIMARY KEY (audience_id, email)
);
