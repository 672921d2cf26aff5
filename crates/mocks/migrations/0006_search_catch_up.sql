-- The write path of a capture no longer feeds the body search or the recipient list through
-- triggers (src/store.rs):
--
-- * `console_recipients` rows are written by the store's writer with the record, from the
--   addresses it already holds, instead of a trigger that parsed the whole request as JSON.
-- * `message_search` is filled after the fact: the writer indexes the captures above the
--   meta key 'search:upto' before any search reads the index, and in the background once
--   writes have been quiet for a moment. A send of a million messages into a store that keeps
--   the newest few thousand then indexes only what is kept, and pruning the rest leaves no
--   FTS5 tombstones behind.
DROP TRIGGER IF EXISTS console_recipients_insert;

-- Everything a store had indexed before this migration (every captured email, once
-- 'search:indexed' was set) counts as indexed.
INSERT OR IGNORE INTO meta (key, value)
SELECT 'search:upto', CASE
    WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'search:indexed')
        THEN COALESCE((SELECT MAX(seq) FROM records), 0)
    ELSE 0
END;
DELETE FROM meta WHERE key = 'search:indexed';

-- Only an indexed capture has a row to delete from the index.
DROP TRIGGER IF EXISTS message_search_delete;
CREATE TRIGGER message_search_delete AFTER DELETE ON records
WHEN OLD.kind = 'email'
    AND OLD.seq <= COALESCE((SELECT value FROM meta WHERE key = 'search:upto'), 0)
BEGIN
    DELETE FROM message_search WHERE rowid = OLD.seq;
END;
