-- Fernhand store, version 4 (PostgreSQL): the broker's state, shared by every
-- control-plane replica — grants (only the token's hash), where each session
-- runs, and the relays with their last heartbeat.
CREATE TABLE broker_grants (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    member BIGINT NOT NULL,
    role BIGINT NOT NULL,
    region TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX broker_grants_session ON broker_grants (session_id);
CREATE INDEX broker_grants_expiry ON broker_grants (expires_ms);

CREATE TABLE broker_placements (
    session_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    relay_id TEXT NOT NULL,
    placed_ms BIGINT NOT NULL
);

CREATE TABLE broker_relays (
    id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    url TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    sessions BIGINT NOT NULL,
    members BIGINT NOT NULL,
    linked BIGINT NOT NULL,
    link TEXT NOT NULL,
    seen_ms BIGINT NOT NULL
);
-- Platform tables (a member asking for a ticket does not name its tenant);
-- the application may read and change them, they hold no secret.
GRANT SELECT, INSERT, UPDATE, DELETE ON broker_grants, broker_placements, broker_relays TO fernhand_app;
