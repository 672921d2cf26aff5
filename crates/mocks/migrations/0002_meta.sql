-- Small counters that must survive restarts (the run number keeps generated ids unique).
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);
