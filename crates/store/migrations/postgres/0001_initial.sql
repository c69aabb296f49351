-- Fernhand store, version 1 (PostgreSQL). Same tables as SQLite, plus
-- row-level security: every tenant-owned table is ENABLEd and FORCEd, with
-- a policy matching the tenant set per transaction
-- (set_config('fernhand.tenant', …, true)). The application role
-- fernhand_app owns nothing and gets only the privileges below.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    require_mfa BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    subscription_ends_at BIGINT
);

CREATE TABLE users (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    mfa_secret TEXT,
    recovery_codes TEXT NOT NULL DEFAULT '[]',
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email)
);

CREATE TABLE auth_sessions (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    csrf_hash TEXT NOT NULL,
    mfa_done BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
);

CREATE TABLE api_tokens (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
);

CREATE TABLE support_sessions (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    expert_id TEXT NOT NULL,
    code_locator TEXT NOT NULL,
    link_locator TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    ended_at BIGINT,
    outcome TEXT,
    features TEXT NOT NULL DEFAULT '[]',
    members TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, expert_id) REFERENCES users(tenant_id, id)
);

CREATE TABLE join_locators (
    locator TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE audit_log (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_at ON audit_log (tenant_id, at);

CREATE TABLE security_log (
    id TEXT PRIMARY KEY,
    tenant_id TEXT,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    peer TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX security_log_at ON security_log (at);

DO $$
DECLARE t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'auth_sessions', 'api_tokens', 'support_sessions', 'audit_log'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''fernhand.tenant'', true)) '
            'WITH CHECK (tenant_id = current_setting(''fernhand.tenant'', true))', t);
    END LOOP;
END $$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fernhand_app') THEN
        CREATE ROLE fernhand_app NOLOGIN;
    END IF;
END $$;
GRANT USAGE ON SCHEMA public TO fernhand_app;
GRANT SELECT, INSERT, UPDATE ON tenants, join_locators TO fernhand_app;
GRANT DELETE ON join_locators TO fernhand_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, auth_sessions, api_tokens, support_sessions TO fernhand_app;
-- Append-only: the application may add to the logs, never change them.
GRANT SELECT, INSERT ON audit_log, security_log TO fernhand_app;
