-- Fernhand store, version 5 (SQLite): API tokens of the platform operator
-- (who runs the service, not a tenant's user): only their SHA-256 is kept.
CREATE TABLE operator_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
