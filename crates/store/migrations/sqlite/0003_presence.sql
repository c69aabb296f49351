-- Fernhand store, version 3 (SQLite): which control-plane replica holds a
-- device's control connection, and when each replica was last alive.
ALTER TABLE devices ADD COLUMN online_replica TEXT;
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    seen_at INTEGER NOT NULL
);
