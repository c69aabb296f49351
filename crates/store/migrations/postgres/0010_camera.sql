-- Fernhand store, version 10 (PostgreSQL): camera share. Sessions have a
-- kind (`remote` or `camera`). Each tenant has data keys (random, stored
-- only wrapped under the server's seal key, one row per version; the
-- newest seals, older ones still open what they sealed). Camera-share
-- items (snapshots, the session's record) are stored sealed under a
-- tenant data key and go 72 hours after their session ends.

ALTER TABLE support_sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'remote';

CREATE TABLE tenant_keys (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    version BIGINT NOT NULL,
    wrapped TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE camera_items (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    item TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    key_version BIGINT NOT NULL,
    sealed TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, session_id) REFERENCES support_sessions(tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, key_version) REFERENCES tenant_keys(tenant_id, version)
);
CREATE INDEX camera_items_by_session ON camera_items (tenant_id, session_id, created_at);
CREATE INDEX support_sessions_camera_ended ON support_sessions (kind, ended_at) WHERE kind = 'camera';

DO $$
DECLARE t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenant_keys', 'camera_items'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''fernhand.tenant'', true)) '
            'WITH CHECK (tenant_id = current_setting(''fernhand.tenant'', true))', t);
    END LOOP;
END $$;

-- Keys are added, never changed or removed by the application.
GRANT SELECT, INSERT ON tenant_keys TO fernhand_app;
GRANT SELECT, INSERT, DELETE ON camera_items TO fernhand_app;
