-- Fernhand store, version 6 (PostgreSQL): the service desk. Records of every
-- kind share one table (kind-specific fields as JSON); their history, state
-- log (for SLA clocks), notes, links, configuration items and relations,
-- change-board votes and per-tenant settings have their own. Full-text
-- search is a tsvector over record text and notes, with a GIN index.

CREATE TABLE desk_counters (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    next BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);

CREATE TABLE desk_cis (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    ci_type TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    device_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);
-- device_id names an enrolled device while it exists; removing the device
-- clears it (a composite key cannot SET NULL one column on both backends).
CREATE INDEX desk_cis_by_device ON desk_cis (tenant_id, device_id);

CREATE TABLE desk_ci_relations (
    tenant_id TEXT NOT NULL,
    from_ci TEXT NOT NULL,
    relation TEXT NOT NULL,
    to_ci TEXT NOT NULL,
    PRIMARY KEY (tenant_id, from_ci, relation, to_ci),
    FOREIGN KEY (tenant_id, from_ci) REFERENCES desk_cis(tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, to_ci) REFERENCES desk_cis(tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE desk_records (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    state TEXT NOT NULL,
    state_category TEXT NOT NULL,
    priority TEXT,
    assignee_group TEXT,
    assignee TEXT,
    requester TEXT,
    ci_id TEXT,
    fields TEXT NOT NULL DEFAULT '{}',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    sla_level TEXT NOT NULL DEFAULT 'ok',
    sla_due_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, kind, number),
    -- An item with records is retired, not deleted.
    FOREIGN KEY (tenant_id, ci_id) REFERENCES desk_cis(tenant_id, id)
);
-- Lists run newest change first; open records (new, active, pending) are
-- what desk queues show, so they get partial indexes of their own (a
-- query names the categories as literals so the planner can use them).
CREATE INDEX desk_records_by_kind ON desk_records (tenant_id, kind, updated_at DESC, id DESC);
CREATE INDEX desk_records_by_assignee ON desk_records (tenant_id, assignee, updated_at DESC, id DESC);
CREATE INDEX desk_records_open_by_kind ON desk_records (tenant_id, kind, priority, updated_at DESC, id DESC)
    WHERE state_category IN ('new', 'active', 'pending');
CREATE INDEX desk_records_open_by_assignee ON desk_records (tenant_id, assignee, updated_at DESC, id DESC)
    WHERE state_category IN ('new', 'active', 'pending');
CREATE INDEX desk_records_by_ci ON desk_records (tenant_id, ci_id);
CREATE INDEX desk_records_by_due ON desk_records (tenant_id, sla_due_at) WHERE sla_due_at IS NOT NULL;

CREATE TABLE desk_history (
    tenant_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    PRIMARY KEY (tenant_id, record_id, seq),
    FOREIGN KEY (tenant_id, record_id) REFERENCES desk_records(tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE desk_state_log (
    tenant_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    state TEXT NOT NULL,
    category TEXT NOT NULL,
    PRIMARY KEY (tenant_id, record_id, seq),
    FOREIGN KEY (tenant_id, record_id) REFERENCES desk_records(tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE desk_notes (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    author TEXT NOT NULL,
    public BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, record_id) REFERENCES desk_records(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX desk_notes_by_record ON desk_notes (tenant_id, record_id, created_at);

CREATE TABLE desk_links (
    tenant_id TEXT NOT NULL,
    from_id TEXT NOT NULL,
    relation TEXT NOT NULL,
    to_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, from_id, relation, to_id),
    FOREIGN KEY (tenant_id, from_id) REFERENCES desk_records(tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, to_id) REFERENCES desk_records(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX desk_links_to ON desk_links (tenant_id, to_id);

CREATE TABLE desk_votes (
    tenant_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    member TEXT NOT NULL,
    vote TEXT NOT NULL,
    comment TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, record_id, member),
    FOREIGN KEY (tenant_id, record_id) REFERENCES desk_records(tenant_id, id) ON DELETE CASCADE
);

-- Remote support sessions started from a record, and the session record
-- (members, times, transcript, files, diagnostics) the expert's endpoint
-- attaches when it ends: the server never sees session content otherwise.
CREATE TABLE desk_record_sessions (
    tenant_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    started_by TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    summary TEXT,
    attached_at BIGINT,
    PRIMARY KEY (tenant_id, record_id, session_id),
    FOREIGN KEY (tenant_id, record_id) REFERENCES desk_records(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX desk_record_sessions_by_session ON desk_record_sessions (tenant_id, session_id);

CREATE TABLE desk_settings (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- Text of records and their notes, for search: one row per source (the
-- record itself, or one note). Kept by the repository, in the same
-- transaction as the source.
CREATE TABLE desk_text (
    id BIGINT GENERATED ALWAYS AS IDENTITY,
    tenant_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    source_id TEXT NOT NULL,
    body TEXT NOT NULL,
    doc tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,
    PRIMARY KEY (tenant_id, source_id),
    FOREIGN KEY (tenant_id, record_id) REFERENCES desk_records(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX desk_text_doc ON desk_text USING GIN (doc);
CREATE INDEX desk_text_by_record ON desk_text (tenant_id, record_id);
CREATE INDEX desk_text_newest ON desk_text (tenant_id, id DESC);

DO $$
DECLARE t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['desk_counters', 'desk_cis', 'desk_ci_relations', 'desk_records', 'desk_history',
                             'desk_state_log', 'desk_notes', 'desk_links', 'desk_votes', 'desk_settings', 'desk_text', 'desk_record_sessions'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''fernhand.tenant'', true)) '
            'WITH CHECK (tenant_id = current_setting(''fernhand.tenant'', true))', t);
    END LOOP;
END $$;

-- History and the state log are append-only for the application.
GRANT SELECT, INSERT, UPDATE, DELETE ON desk_counters, desk_cis, desk_ci_relations, desk_records, desk_notes,
    desk_links, desk_votes, desk_settings, desk_text, desk_record_sessions TO fernhand_app;
GRANT SELECT, INSERT ON desk_history, desk_state_log TO fernhand_app;
