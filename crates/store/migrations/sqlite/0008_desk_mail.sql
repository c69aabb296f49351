-- Fernhand store, version 8 (SQLite): messages the desk's e-mail intake
-- has read, by Message-ID, so reading a mailbox again changes nothing.

CREATE TABLE desk_mail_seen (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    message_id TEXT NOT NULL,
    record_id TEXT,
    outcome TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, message_id)
);
