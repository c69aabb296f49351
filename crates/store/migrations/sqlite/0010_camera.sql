-- Fernhand store, version 10 (SQLite): camera share. Sessions have a kind
-- (`remote` or `camera`). Each tenant has data keys (random, stored only
-- wrapped under the server's seal key, one row per version; the newest
-- seals, older ones still open what they sealed). Camera-share items
-- (snapshots, the session's record) are stored sealed under a tenant data
-- key and go 72 hours after their session ends.

ALTER TABLE support_sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'remote';

CREATE TABLE tenant_keys (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    version INTEGER NOT NULL,
    wrapped TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE camera_items (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    item TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    key_version INTEGER NOT NULL,
    sealed TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, session_id) REFERENCES support_sessions(tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, key_version) REFERENCES tenant_keys(tenant_id, version)
);
CREATE INDEX camera_items_by_session ON camera_items (tenant_id, session_id, created_at);
CREATE INDEX support_sessions_camera_ended ON support_sessions (kind, ended_at) WHERE kind = 'camera';
