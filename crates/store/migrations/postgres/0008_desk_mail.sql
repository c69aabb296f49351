-- Fernhand store, version 8 (PostgreSQL): messages the desk's e-mail intake
-- has read, by Message-ID, so reading a mailbox again changes nothing.

CREATE TABLE desk_mail_seen (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    message_id TEXT NOT NULL,
    record_id TEXT,
    outcome TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, message_id)
);

ALTER TABLE desk_mail_seen ENABLE ROW LEVEL SECURITY;
ALTER TABLE desk_mail_seen FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON desk_mail_seen USING (tenant_id = current_setting('fernhand.tenant', true))
    WITH CHECK (tenant_id = current_setting('fernhand.tenant', true));
GRANT SELECT, INSERT, DELETE ON desk_mail_seen TO fernhand_app;
