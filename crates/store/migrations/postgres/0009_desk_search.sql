-- Fernhand store, version 9 (PostgreSQL): full-text search that can use its
-- GIN index. Under row-level security the planner may not evaluate `@@`
-- (not leakproof) before the policy, so every search scanned the tenant's
-- text. The search now runs in one narrowly scoped function, as the
-- owner, which reads desk_text through a policy of its own and applies the
-- same tenant condition the policy applies, itself: it takes a query and a
-- cap, and returns only the current tenant's matching record ids.

CREATE POLICY owner_search ON desk_text TO CURRENT_USER USING (true);

CREATE FUNCTION desk_text_match(q tsquery, cap integer)
RETURNS TABLE (record_id text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant text := current_setting('fernhand.tenant', true);
BEGIN
    IF tenant IS NULL OR tenant = '' THEN
        RETURN;
    END IF;
    -- A plan for these values each time (a common word and a rare one
    -- want different plans).
    RETURN QUERY EXECUTE
        'SELECT t.record_id FROM public.desk_text t WHERE t.tenant_id = $1 AND t.doc @@ $2 '
        'ORDER BY t.id DESC LIMIT $3'
        USING tenant, q, cap;
END
$$;

REVOKE ALL ON FUNCTION desk_text_match(tsquery, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION desk_text_match(tsquery, integer) TO fernhand_app;
