-- Fernhand store, version 4 (SQLite): the broker's state, shared by every
-- control-plane replica — grants (only the token's hash), where each session
-- runs, and the relays with their last heartbeat.
CREATE TABLE broker_grants (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    member INTEGER NOT NULL,
    role INTEGER NOT NULL,
    region TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX broker_grants_session ON broker_grants (session_id);
CREATE INDEX broker_grants_expiry ON broker_grants (expires_ms);

CREATE TABLE broker_placements (
    session_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    relay_id TEXT NOT NULL,
    placed_ms INTEGER NOT NULL
);

CREATE TABLE broker_relays (
    id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    url TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    sessions INTEGER NOT NULL,
    members INTEGER NOT NULL,
    linked INTEGER NOT NULL,
    link TEXT NOT NULL,
    seen_ms INTEGER NOT NULL
);
