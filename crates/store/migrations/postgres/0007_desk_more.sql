-- Fernhand store, version 7 (PostgreSQL): the desk's attachments (sealed:
-- AES-256-GCM under the server's seal key, bound to tenant, record and
-- attachment), watchers, saved views, outgoing webhooks and their outbox.

CREATE TABLE desk_attachments (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    public BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL,
    sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, record_id) REFERENCES desk_records(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX desk_attachments_by_record ON desk_attachments (tenant_id, record_id, created_at);

CREATE TABLE desk_watchers (
    tenant_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, record_id, user_id),
    FOREIGN KEY (tenant_id, record_id) REFERENCES desk_records(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX desk_watchers_by_user ON desk_watchers (tenant_id, user_id);

CREATE TABLE desk_views (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, user_id, name)
);

CREATE TABLE desk_webhooks (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    url TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE desk_outbox (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_error TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, webhook_id) REFERENCES desk_webhooks(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX desk_outbox_due ON desk_outbox (tenant_id, next_at);

-- Which tenants have deliveries waiting (no content): what the delivery
-- job reads across tenants before it opens each tenant's outbox.
CREATE TABLE desk_outbox_tenants (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    next_at BIGINT NOT NULL
);

DO $$
DECLARE t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['desk_attachments', 'desk_watchers', 'desk_views', 'desk_webhooks', 'desk_outbox'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''fernhand.tenant'', true)) '
            'WITH CHECK (tenant_id = current_setting(''fernhand.tenant'', true))', t);
    END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON desk_attachments, desk_watchers, desk_views, desk_webhooks,
    desk_outbox, desk_outbox_tenants TO fernhand_app;
