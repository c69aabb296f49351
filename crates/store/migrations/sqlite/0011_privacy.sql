-- Data protection: each tenant's privacy settings, deletion requests with
-- their signed certificates, and the retention job's run log.

CREATE TABLE privacy_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    restricted_policy TEXT NOT NULL,
    session_retention_days INTEGER,
    updated_at INTEGER NOT NULL
);

-- Platform table: a request outlives the tenant it erases (its
-- certificate is the proof). Holds no personal data: opaque ids, counts,
-- record numbers, times.
CREATE TABLE deletion_requests (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    targets TEXT NOT NULL,
    rule TEXT NOT NULL,
    requested_by TEXT,
    requested_at INTEGER NOT NULL,
    hold_until INTEGER,
    state TEXT NOT NULL,
    progress TEXT NOT NULL,
    done_at INTEGER,
    certificate TEXT,
    receipt_hash TEXT NOT NULL
);
CREATE INDEX deletion_requests_by_tenant ON deletion_requests (tenant_id, requested_at);
CREATE INDEX deletion_requests_open ON deletion_requests (state) WHERE state <> 'done';
-- A rule (not an admin's request) asks once per tenant, however many
-- replicas run the job.
CREATE UNIQUE INDEX deletion_requests_once_per_rule ON deletion_requests (tenant_id, rule)
    WHERE rule <> 'request';

-- Platform table: one line per retention run (counts only).
CREATE TABLE retention_runs (
    id TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    detail TEXT NOT NULL
);
CREATE INDEX retention_runs_at ON retention_runs (started_at);

-- The audit log stays append-only, except while its tenant is being
-- erased by a recorded deletion request.
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN NOT EXISTS (
    SELECT 1 FROM deletion_requests
    WHERE tenant_id = OLD.tenant_id AND scope = 'tenant' AND state = 'running'
)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
