-- Fernhand store, version 6 (SQLite): the service desk. Records of every
-- kind share one table (kind-specific fields as JSON); their history, state
-- log (for SLA clocks), notes, links, configuration items and relations,
-- change-board votes and per-tenant settings have their own. Full-text
-- search is an FTS5 table over record text and notes.

CREATE TABLE desk_counters (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    next INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);

CREATE TABLE desk_cis (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    ci_type TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    device_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
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
    number INTEGER NOT NULL,
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
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    sla_level TEXT NOT NULL DEFAULT 'ok',
    sla_due_at INTEGER,
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
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
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
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
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
    public INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, record_id) REFERENCES desk_records(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX desk_notes_by_record ON desk_notes (tenant_id, record_id, created_at);

CREATE TABLE desk_links (
    tenant_id TEXT NOT NULL,
    from_id TEXT NOT NULL,
    relation TEXT NOT NULL,
    to_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
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
    at INTEGER NOT NULL,
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
    started_at INTEGER NOT NULL,
    summary TEXT,
    attached_at INTEGER,
    PRIMARY KEY (tenant_id, record_id, session_id),
    FOREIGN KEY (tenant_id, record_id) REFERENCES desk_records(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX desk_record_sessions_by_session ON desk_record_sessions (tenant_id, session_id);

CREATE TABLE desk_settings (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- Text of records and their notes, for search: one row per source (the
-- record itself, or one note), kept by the repository in the same
-- transaction as the source. An FTS5 index over it (external content,
-- kept in step by triggers) answers the searches; the plain table lets a
-- source be replaced through its unique key instead of a scan.
CREATE TABLE desk_text (
    id INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    source_id TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (tenant_id, source_id),
    FOREIGN KEY (tenant_id, record_id) REFERENCES desk_records(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX desk_text_by_record ON desk_text (tenant_id, record_id);
CREATE VIRTUAL TABLE desk_text_fts USING fts5(
    body,
    content = 'desk_text',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    -- Every search word is a prefix: index 2- to 4-letter prefixes.
    prefix = '2 3 4'
);
CREATE TRIGGER desk_text_added AFTER INSERT ON desk_text BEGIN
    INSERT INTO desk_text_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER desk_text_removed AFTER DELETE ON desk_text BEGIN
    INSERT INTO desk_text_fts (desk_text_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER desk_text_changed AFTER UPDATE ON desk_text BEGIN
    INSERT INTO desk_text_fts (desk_text_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO desk_text_fts (rowid, body) VALUES (new.id, new.body);
END;
