-- The checks of each captured email (src/checks): HTML support across clients, links, images,
-- size and spam score, as the JSON `GET /api/v1/messages/{id}/checks` serves, with the worst
-- finding beside it for the inbox list. Written after the capture (by the background checker,
-- or when first asked for), never on the capture's own write path; deleted with the capture.
CREATE TABLE IF NOT EXISTS message_checks (
    seq           INTEGER PRIMARY KEY,
    worst         TEXT    NOT NULL,
    worst_check   TEXT    NOT NULL,
    worst_message TEXT    NOT NULL,
    errors        INTEGER NOT NULL,
    warnings      INTEGER NOT NULL,
    report        TEXT    NOT NULL,
    checked_at    TEXT    NOT NULL
);

CREATE TRIGGER IF NOT EXISTS message_checks_delete AFTER DELETE ON records
WHEN OLD.kind = 'email'
BEGIN
    DELETE FROM message_checks WHERE seq = OLD.seq;
END;
