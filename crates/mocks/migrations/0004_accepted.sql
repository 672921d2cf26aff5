-- Everything a mock ever accepted, per kind, kept in meta as 'accepted:<kind>' so the stats
-- report all sends even after old captures are pruned. Seeded from what is retained today.
INSERT OR IGNORE INTO meta (key, value)
SELECT 'accepted:' || kind, COUNT(*) FROM records GROUP BY kind;
