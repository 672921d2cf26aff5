-- Audience segments: a named rule over the subscriber attributes the CRM returns (postgres).
CREATE TABLE IF NOT EXISTS segments (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    rule        TEXT    NOT NULL,
    description TEXT,
    created_by  TEXT    NOT NULL,
    created_ms  BIGINT  NOT NULL,
    updated_ms  BIGINT  NOT NULL
);
