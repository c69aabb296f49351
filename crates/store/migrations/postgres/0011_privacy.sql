-- Data protection: each tenant's privacy settings, deletion requests with
-- their signed certificates, and the retention job's run log.

CREATE TABLE privacy_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    restricted_policy TEXT NOT NULL,
    session_retention_days BIGINT,
    updated_at BIGINT NOT NULL
);
ALTER TABLE privacy_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE privacy_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON privacy_settings
    USING (tenant_id = current_setting('fernhand.tenant', true))
    WITH CHECK (tenant_id = current_setting('fernhand.tenant', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON privacy_settings TO fernhand_app;

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
    requested_at BIGINT NOT NULL,
    hold_until BIGINT,
    state TEXT NOT NULL,
    progress TEXT NOT NULL,
    done_at BIGINT,
    certificate TEXT,
    receipt_hash TEXT NOT NULL
);
CREATE INDEX deletion_requests_by_tenant ON deletion_requests (tenant_id, requested_at);
CREATE INDEX deletion_requests_open ON deletion_requests (state) WHERE state <> 'done';
-- A rule (not an admin's request) asks once per tenant, however many
-- replicas run the job.
CREATE UNIQUE INDEX deletion_requests_once_per_rule ON deletion_requests (tenant_id, rule)
    WHERE rule <> 'request';
GRANT SELECT, INSERT, UPDATE ON deletion_requests TO fernhand_app;

CREATE TABLE retention_runs (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    detail TEXT NOT NULL
);
CREATE INDEX retention_runs_at ON retention_runs (started_at);
GRANT SELECT, INSERT, UPDATE ON retention_runs TO fernhand_app;

-- The tables the application may only append to (logs, history, keys) and
-- the tenant row itself are erased by this function alone, owned by the
-- owning role, and only for a tenant whose recorded deletion request is
-- running. It runs in the tenant's transaction, so row-level security
-- (forced on the owner too) still limits it to that tenant's rows.
CREATE FUNCTION erase_tenant_protected(tenant TEXT) RETURNS BIGINT
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    n BIGINT := 0;
    c BIGINT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM deletion_requests
                   WHERE tenant_id = tenant AND scope = 'tenant' AND state = 'running') THEN
        RAISE EXCEPTION 'no running deletion request for this tenant';
    END IF;
    DELETE FROM desk_state_log WHERE tenant_id = tenant; GET DIAGNOSTICS c = ROW_COUNT; n := n + c;
    DELETE FROM desk_history WHERE tenant_id = tenant; GET DIAGNOSTICS c = ROW_COUNT; n := n + c;
    DELETE FROM audit_log WHERE tenant_id = tenant; GET DIAGNOSTICS c = ROW_COUNT; n := n + c;
    DELETE FROM security_log WHERE tenant_id = tenant; GET DIAGNOSTICS c = ROW_COUNT; n := n + c;
    DELETE FROM tenant_keys WHERE tenant_id = tenant; GET DIAGNOSTICS c = ROW_COUNT; n := n + c;
    DELETE FROM tenants WHERE id = tenant; GET DIAGNOSTICS c = ROW_COUNT; n := n + c;
    RETURN n;
END $$;
REVOKE ALL ON FUNCTION erase_tenant_protected(TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION erase_tenant_protected(TEXT) TO fernhand_app;
