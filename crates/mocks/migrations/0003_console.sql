-- Indexes and a search table for the web console (src/console).
--
-- The web console searches captured emails by recipient address. Reading every payload for
-- that is slow (a batch holds up to 1000 recipients), so each email's addresses are kept
-- here, lower-cased and one per line, by triggers: the write path is unchanged.
CREATE TABLE IF NOT EXISTS console_recipients (
    seq       INTEGER PRIMARY KEY,
    addresses TEXT    NOT NULL
);

-- Batch recipients are objects with an `email`; single sends and SMTP captures keep strings.
CREATE TRIGGER IF NOT EXISTS console_recipients_insert AFTER INSERT ON records
WHEN NEW.kind = 'email' AND json_valid(NEW.request)
BEGIN
    INSERT OR REPLACE INTO console_recipients (seq, addresses)
    SELECT NEW.seq, COALESCE(group_concat(lower(CASE r.type
                WHEN 'object' THEN json_extract(r.value, '$.email')
                WHEN 'text' THEN r.value
            END), char(10)), '')
    FROM json_each(NEW.request, '$.recipients') AS r;
END;

CREATE TRIGGER IF NOT EXISTS console_recipients_delete AFTER DELETE ON records
WHEN OLD.kind = 'email'
BEGIN
    DELETE FROM console_recipients WHERE seq = OLD.seq;
END;

-- Emails captured before this migration.
INSERT OR REPLACE INTO console_recipients (seq, addresses)
SELECT records.seq, COALESCE((
    SELECT group_concat(lower(CASE r.type
            WHEN 'object' THEN json_extract(r.value, '$.email')
            WHEN 'text' THEN r.value
        END), char(10))
    FROM json_each(records.request, '$.recipients') AS r), '')
FROM records
WHERE records.kind = 'email' AND json_valid(records.request);

-- The console's lists count, page, search (subject, campaign) and group captures of one kind
-- from these indexes, without reading the rows.
CREATE INDEX IF NOT EXISTS records_console ON records (kind, captured, seq, subject, campaign);
CREATE INDEX IF NOT EXISTS records_kind_captured_campaign ON records (kind, captured, campaign, seq);
