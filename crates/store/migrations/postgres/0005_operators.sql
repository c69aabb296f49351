-- Fernhand store, version 5 (PostgreSQL): API tokens of the platform operator
-- (who runs the service, not a tenant's user): only their SHA-256 is kept.
CREATE TABLE operator_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
-- Tokens are created and revoked, never deleted by the application.
GRANT SELECT, INSERT, UPDATE ON operator_tokens TO fernhand_app;
