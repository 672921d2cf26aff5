-- The message page and body search of the mock CRM's console (src/console/message.rs,
-- src/search.rs).
--
-- The exact bytes of each message captured over SMTP (its DATA), so `GET /messages/{id}.eml`
-- answers what a recipient would get. HTTP-API captures have none: their message is built
-- from the captured request when asked for.
CREATE TABLE IF NOT EXISTS raw_messages (
    seq  INTEGER PRIMARY KEY,
    data BLOB    NOT NULL
);

CREATE TRIGGER IF NOT EXISTS raw_messages_delete AFTER DELETE ON records
WHEN OLD.kind = 'email'
BEGIN
    DELETE FROM raw_messages WHERE seq = OLD.seq;
END;

-- Full-text index of captured emails, one row per capture (rowid = records.seq): the subject,
-- the text part and the visible text of the HTML part. Contentless (the text is in the
-- records already); rows are written by the store's one write path (Store::commit), which
-- extracts the HTML's text, and deleted by this trigger when a capture is pruned, deleted or
-- reset. Emails captured before this migration are indexed when the store next opens
-- (Store::index_existing), once.
CREATE VIRTUAL TABLE IF NOT EXISTS message_search USING fts5(
    subject, text, html,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER IF NOT EXISTS message_search_delete AFTER DELETE ON records
WHEN OLD.kind = 'email'
BEGIN
    DELETE FROM message_search WHERE rowid = OLD.seq;
END;
