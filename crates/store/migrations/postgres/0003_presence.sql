-- Fernhand store, version 3 (PostgreSQL): which control-plane replica holds
-- a device's control connection, and when each replica was last alive
-- (a platform table: replicas are not tenant data).
ALTER TABLE devices ADD COLUMN online_replica TEXT;
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);
GRANT SELECT, INSERT, UPDATE, DELETE ON replicas TO fernhand_app;
