//! Data protection on a real control plane, SQLite and (when present)
//! PostgreSQL: deleting a tenant leaves no row of it in any table (found
//! by scanning the database's own catalogue) and, on SQLite, not a byte of
//! its text in the database files; the signed certificate checks out with
//! the published key and is fetched with the receipt after the tenant is
//! gone. Chosen records go after a hold; a non-administrator's request is
//! refused and logged. Retention at 90 days after a subscription and a
//! tenant's own session retention run on an injected clock, and an
//! erasure killed half-way finishes on the next pass with exact counts.
//! The tenant's restricted-data policy applies to desk text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use base64::Engine;
use ed25519_dalek::VerifyingKey;
use fernhand_server::app::privacy::{certificate, retention};
use fernhand_store::deletion_requests::{self as requests, DeletionRequest, Progress};
use fernhand_store::{Backend, Store, new_id, now};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

/// (table, column) of every text column of every table, from the
/// database's own catalogue.
async fn text_columns(store: &Store, tenant: &str) -> Vec<(String, String)> {
    let mut tx = store.tenant(tenant).await.unwrap();
    let sql = match store.backend() {
        Backend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND (upper(p.type) = 'TEXT' OR p.type = '') \
             AND m.name NOT LIKE 'desk_text_fts_%' AND m.name NOT LIKE '\\_%' ESCAPE '\\' \
             AND m.name <> 'sqlite_sequence' ORDER BY 1, 2"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type IN ('text', 'character varying') \
             AND table_name::text NOT LIKE '\\_%' ORDER BY 1, 2"
        }
    };
    let rows = sqlx::query(sql).fetch_all(tx.conn()).await.unwrap();
    tx.commit().await.unwrap();
    rows.iter()
        .map(|r| (r.try_get("t").unwrap(), r.try_get("c").unwrap()))
        .collect()
}

/// Every (table, column) where a value holds one of `needles`, read in a
/// transaction of `tenant` (so on PostgreSQL row-level security shows
/// exactly that tenant's rows, and every platform row).
async fn rows_holding(store: &Store, tenant: &str, needles: &[&str]) -> Vec<String> {
    let columns = text_columns(store, tenant).await;
    assert!(
        columns.len() > 60,
        "the catalogue scan found too few columns"
    );
    let mut hits = Vec::new();
    let mut tx = store.tenant(tenant).await.unwrap();
    for (table, column) in columns {
        for needle in needles {
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} LIKE $1");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(format!("%{needle}%"))
                .fetch_one(tx.conn())
                .await
                .unwrap();
            if n > 0 {
                hits.push(format!("{table}.{column} ({n})"));
            }
        }
    }
    tx.commit().await.unwrap();
    hits
}

/// What names an erased tenant's id afterwards: its deletion request and
/// the certificate in it (ids, counts and times, no content).
fn only_the_request() -> Vec<String> {
    vec![
        "deletion_requests.certificate (1)".to_owned(),
        "deletion_requests.tenant_id (1)".to_owned(),
    ]
}

/// The SQLite files of a data folder, as bytes.
fn database_bytes(data: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(data).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".db") || name.ends_with(".db-wal") || name.ends_with(".db-shm") {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(!all.is_empty(), "no database file in {}", data.display());
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

async fn published_key(c: &Client) -> VerifyingKey {
    let key = c.get("/api/v1/deletion-certificates/key").await;
    assert_eq!(key.status, StatusCode::OK);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key.body["public_key"].as_str().unwrap())
        .unwrap();
    VerifyingKey::from_bytes(&bytes.try_into().unwrap()).unwrap()
}

/// Content of every kind for tenant `t`, each carrying `marker`.
async fn fill(server: &fernhand_server::serve::Running, t: &Tenant, marker: &str) -> String {
    let admin = signed_in(server, t, &t.admin).await;
    let expert = signed_in(server, t, &t.expert).await;
    let made = expert
        .post(
            "/api/v1/desk/records",
            json!({"kind": "incident", "fields": {"title": format!("Printer jam {marker}"),
                   "description": format!("the tray {marker} is stuck")}}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let record = made.body["id"].as_str().unwrap().to_owned();
    let note = expert
        .post(
            &format!("/api/v1/desk/records/{record}/notes"),
            json!({"body": format!("called back about {marker}"), "public": true}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.text);
    let file = expert
        .post_raw(
            &format!("/api/v1/desk/records/{record}/attachments?name=log-{marker}.txt"),
            "application/octet-stream",
            format!("log {marker}").into_bytes(),
        )
        .await;
    assert_eq!(file.status, StatusCode::CREATED, "{}", file.text);
    let session = expert.post("/api/v1/sessions", json!({})).await;
    assert_eq!(session.status, StatusCode::CREATED, "{}", session.text);
    let camera = expert.post("/api/v1/camera-shares", json!({})).await;
    let camera_id = camera.body["session"]["id"].as_str().unwrap().to_owned();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(marker.bytes());
    let snap = expert
        .post_raw(
            &format!("/api/v1/sessions/{camera_id}/camera/snapshots"),
            "image/png",
            png,
        )
        .await;
    assert_eq!(snap.status, StatusCode::CREATED, "{}", snap.text);
    let settings = admin
        .send(
            reqwest::Method::PUT,
            "/api/v1/privacy/settings",
            Some(json!({"restricted_policy": "warn", "session_retention_days": 400})),
        )
        .await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.text);
    // A failed sign-in: a security-log row of the tenant.
    let mut stranger = Client::new(server);
    let bad = stranger.login(&t.slug, &t.expert.email, "wrong").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    session.body["session"]["id"].as_str().unwrap().to_owned()
}

/// One retention pass of `server`'s job at `at`.
async fn pass_at(server: &fernhand_server::serve::Running, at: i64) -> retention::Report {
    retention::pass(
        &server.state.store,
        &server.state.certificates,
        &server.state.exports,
        at,
    )
    .await
    .unwrap()
}

/// Whether tenant `id` is there.
async fn tenant_exists(store: &Store, id: &str) -> bool {
    let mut p = store.platform().await.unwrap();
    let found = fernhand_store::tenants::get(&mut p, id).await.unwrap();
    p.commit().await.unwrap();
    found.is_some()
}

/// Deletion request `id` as stored.
async fn request_of(store: &Store, id: &str) -> DeletionRequest {
    let mut p = store.platform().await.unwrap();
    let (r, _) = requests::get(p.conn(), id).await.unwrap().unwrap();
    p.commit().await.unwrap();
    r
}

async fn wait_done(store: &Store, id: &str) -> DeletionRequest {
    for _ in 0..200 {
        let r = request_of(store, id).await;
        if r.state == "done" {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("request {id} did not finish");
}

#[tokio::test]
async fn deleting_a_tenant_leaves_no_row_and_no_byte_and_a_signed_certificate() {
    let mut sqlite_data = None;
    let mut servers = vec![start_with(|o| sqlite_data = Some(o.data.clone())).await];
    if let Some((app, owner)) = test_pg() {
        servers.push(
            start_with(|o| {
                o.database = Some(app);
                o.database_owner = Some(owner);
            })
            .await,
        );
    }
    for server in servers {
        let store = server.state.store.clone();
        let t = tenant(&store).await;
        let marker = format!("zebrafish{}", new_id().unwrap());
        fill(&server, &t, &marker).await;
        let needles = [t.id.as_str(), marker.as_str(), t.slug.as_str()];
        let before = rows_holding(&store, &t.id, &needles).await;
        for table in [
            "users",
            "desk_records",
            "desk_notes",
            "audit_log",
            "security_log",
            "camera_items",
            "tenants",
        ] {
            assert!(
                before.iter().any(|h| h.starts_with(&format!("{table}."))),
                "{table} not filled: {before:?}"
            );
        }
        let sqlite = backend(&server) == Backend::Sqlite;
        if sqlite {
            store.scrub().await.unwrap();
            let bytes = database_bytes(sqlite_data.as_ref().unwrap());
            assert!(
                contains(&bytes, &marker),
                "the marker is not in the file to begin with"
            );
        }

        let admin = signed_in(&server, &t, &t.admin).await;
        let asked = admin
            .post(
                "/api/v1/privacy/deletion-requests",
                json!({"scope": "tenant"}),
            )
            .await;
        assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.text);
        let id = asked.body["id"].as_str().unwrap().to_owned();
        let receipt = asked.body["receipt"].as_str().unwrap().to_owned();
        // The job wakes for it; a pass of our own is harmless alongside.
        pass_at(&server, now()).await;
        let done = wait_done(&store, &id).await;
        assert_eq!(done.progress.deleted.get("tenants"), Some(&1));
        assert_eq!(done.progress.deleted.get("users"), Some(&4));

        // No row of the tenant anywhere but its deletion request, which
        // holds no content.
        let content = rows_holding(&store, &t.id, &[marker.as_str(), t.slug.as_str()]).await;
        assert!(content.is_empty(), "left behind: {content:?}");
        assert_eq!(
            rows_holding(&store, &t.id, &[t.id.as_str()]).await,
            only_the_request()
        );
        if sqlite {
            let bytes = database_bytes(sqlite_data.as_ref().unwrap());
            assert!(
                !contains(&bytes, &marker),
                "the marker is still in the database files"
            );
            assert!(
                !contains(&bytes, &t.slug),
                "the slug is still in the database files"
            );
        }

        // Signed in no more; the certificate comes with the receipt only.
        assert_eq!(
            admin.get("/api/v1/privacy/settings").await.status,
            StatusCode::UNAUTHORIZED
        );
        let anyone = Client::new(&server);
        let path = format!("/api/v1/deletion-certificates/{id}");
        assert_eq!(anyone.get(&path).await.status, StatusCode::NOT_FOUND);
        let fetched = reqwest::Client::new()
            .get(format!("{}{path}", anyone.base))
            .header("x-fernhand-receipt", &receipt)
            .send()
            .await
            .unwrap();
        assert_eq!(fetched.status(), StatusCode::OK);
        let signed = fetched.text().await.unwrap();
        let wrong = reqwest::Client::new()
            .get(format!("{}{path}", anyone.base))
            .header("x-fernhand-receipt", "not-the-receipt")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
        assert!(!signed.contains(&marker) && !signed.contains(&t.slug));
        let cert = certificate::verify(&signed, &published_key(&anyone).await).unwrap();
        assert_eq!(cert["scope"], "tenant");
        assert_eq!(cert["rule"], "request");
        assert_eq!(cert["tenant"], t.id.as_str());
        assert_eq!(cert["deleted"]["desk_records"], 1);
        assert!(cert["deleted"]["audit_log"].as_u64().unwrap() > 0);
        assert!(cert["completed_at"].as_i64().unwrap() >= cert["requested_at"].as_i64().unwrap());
        server.shutdown().await;
    }
}

#[tokio::test]
async fn chosen_records_go_after_their_hold_and_only_an_admin_may_ask() {
    for server in servers().await {
        let store = server.state.store.clone();
        let t = tenant(&store).await;
        let marker = format!("heron{}", new_id().unwrap());
        let session = fill(&server, &t, &marker).await;

        let expert = signed_in(&server, &t, &t.expert).await;
        let refused = expert
            .post(
                "/api/v1/privacy/deletion-requests",
                json!({"scope": "tenant"}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let admin = signed_in(&server, &t, &t.admin).await;
        let audit = admin.get("/api/v1/audit?since=0").await;
        assert!(
            audit.text.contains("privacy.deletion_refused"),
            "{}",
            audit.text
        );
        let log = admin.get("/api/v1/security-events?since=0").await;
        assert!(log.text.contains("deletion_refused"), "{}", log.text);

        let bad = admin
            .post(
                "/api/v1/privacy/deletion-requests",
                json!({"scope": "records", "records": ["DROP TABLE"]}),
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let hold = now() + 3600;
        let asked = admin
            .post(
                "/api/v1/privacy/deletion-requests",
                json!({"scope": "records", "records": ["INC-1", format!("session:{session}"), "INC-99"], "hold_until": hold}),
            )
            .await;
        assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.text);
        let id = asked.body["id"].as_str().unwrap().to_owned();
        pass_at(&server, now()).await;
        assert_eq!(
            admin.get("/api/v1/desk/records/INC-1").await.status,
            StatusCode::OK,
            "held"
        );
        pass_at(&server, hold + 1).await;
        wait_done(&store, &id).await;
        assert_eq!(
            admin.get("/api/v1/desk/records/INC-1").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            admin
                .get(&format!("/api/v1/sessions/{session}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // The ticket's notes, attachments and search text went with it.
        let left = rows_holding(&store, &t.id, &[marker.as_str()]).await;
        assert!(left.is_empty(), "left behind: {left:?}");

        let signed = admin
            .get(&format!(
                "/api/v1/privacy/deletion-requests/{id}/certificate"
            ))
            .await;
        assert_eq!(signed.status, StatusCode::OK);
        let cert = certificate::verify(&signed.text, &published_key(&admin).await).unwrap();
        assert_eq!(cert["deleted"]["desk_records"], 1);
        assert_eq!(cert["deleted"]["support_sessions"], 1);
        assert_eq!(cert["not_found"], json!(["INC-99"]));
        assert_eq!(cert["hold_until"], hold);
        server.shutdown().await;
    }
}

#[tokio::test]
async fn retention_runs_on_an_injected_clock() {
    for server in servers().await {
        let store = server.state.store.clone();
        // 90 days after the subscription ends, and not a day before.
        let t = tenant(&store).await;
        let ends = now() - 10 * 86_400;
        let mut p = store.platform().await.unwrap();
        fernhand_store::tenants::set_subscription_end(&mut p, &t.id, Some(ends))
            .await
            .unwrap();
        p.commit().await.unwrap();
        let early = pass_at(&server, ends + 89 * 86_400).await;
        assert_eq!(early.subscription_requests, 0);
        assert!(tenant_exists(&store, &t.id).await);
        let late = pass_at(&server, ends + 91 * 86_400).await;
        assert_eq!(late.subscription_requests, 1);
        assert!(!tenant_exists(&store, &t.id).await);
        let mut p = store.platform().await.unwrap();
        let asked = requests::for_tenant(p.conn(), &t.id).await.unwrap();
        p.commit().await.unwrap();
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].rule, "subscription_end");
        assert_eq!(asked[0].state, "done");
        let again = pass_at(&server, ends + 92 * 86_400).await;
        assert_eq!(again.subscription_requests, 0, "asked once only");

        // A tenant's own session retention: 30 days.
        let t = tenant(&store).await;
        let admin = signed_in(&server, &t, &t.admin).await;
        let set = admin
            .send(
                reqwest::Method::PUT,
                "/api/v1/privacy/settings",
                Some(json!({"restricted_policy": "warn", "session_retention_days": 30})),
            )
            .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.text);
        let expert = signed_in(&server, &t, &t.expert).await;
        let mut ids = Vec::new();
        for _ in 0..2 {
            let s = expert.post("/api/v1/sessions", json!({})).await;
            let id = s.body["session"]["id"].as_str().unwrap().to_owned();
            let end = expert
                .post(
                    &format!("/api/v1/sessions/{id}/end"),
                    json!({"outcome": "resolved"}),
                )
                .await;
            assert_eq!(end.status, StatusCode::NO_CONTENT, "{}", end.text);
            ids.push(id);
        }
        let mut tx = store.tenant(&t.id).await.unwrap();
        sqlx::query("UPDATE support_sessions SET ended_at = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(now() - 31 * 86_400)
            .bind(&t.id)
            .bind(&ids[0])
            .execute(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // (On the shared test PostgreSQL another server's job may get
        // there first, as another replica's would: the outcome is checked,
        // not who did it.)
        pass_at(&server, now()).await;
        assert_eq!(
            expert
                .get(&format!("/api/v1/sessions/{}", ids[0]))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            expert
                .get(&format!("/api/v1/sessions/{}", ids[1]))
                .await
                .status,
            StatusCode::OK
        );
        let audit = admin.get("/api/v1/audit?since=0").await;
        let entry = audit
            .body
            .as_array()
            .and_then(|a| a.iter().find(|e| e["action"] == "privacy.retention"))
            .cloned()
            .unwrap_or_else(|| panic!("no retention entry: {}", audit.text));
        let detail: Value = serde_json::from_str(entry["detail"].as_str().unwrap()).unwrap();
        assert_eq!(detail["sessions"], 1, "{detail}");
        assert_eq!(detail["days"], 30);
        let mut p = store.platform().await.unwrap();
        let runs = requests::runs(&mut p, 5).await.unwrap();
        p.commit().await.unwrap();
        assert!(runs.iter().all(|(_, finished, _)| finished.is_some()));
        server.shutdown().await;
    }
}

#[tokio::test]
async fn an_erasure_killed_half_way_finishes_on_the_next_pass_with_exact_counts() {
    for server in servers().await {
        let store = server.state.store.clone();
        let t = tenant(&store).await;
        // Enough rows for many batches.
        const GROUPS: u64 = 4 * fernhand_store::erasure::BATCH as u64 + 17;
        let mut tx = store.tenant(&t.id).await.unwrap();
        for i in 0..GROUPS {
            sqlx::query("INSERT INTO device_groups (tenant_id, id, name, created_at) VALUES ($1, $2, $3, 0)")
                .bind(&t.id)
                .bind(format!("g{i}"))
                .bind(format!("group {i}"))
                .execute(tx.conn())
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        // Recorded directly (the API would wake the server's own job).
        let request = DeletionRequest {
            id: new_id().unwrap(),
            tenant_id: t.id.clone(),
            scope: "tenant".into(),
            targets: vec![],
            rule: "request".into(),
            requested_by: Some(t.admin.id.clone()),
            requested_at: now(),
            hold_until: None,
            state: "pending".into(),
            progress: Progress::default(),
            done_at: None,
            certificate: None,
        };
        let mut p = store.platform().await.unwrap();
        requests::insert(p.conn(), &request, "x").await.unwrap();
        p.commit().await.unwrap();

        let job = tokio::spawn({
            let (store, key, request) = (
                store.clone(),
                server.state.certificates.clone(),
                request.clone(),
            );
            async move { retention::carry_out(&store, &key, request, now()).await }
        });
        // Kill it once some batches of the big table are in.
        let mut killed_at = 0;
        for _ in 0..2000 {
            let r = request_of(&store, &request.id).await;
            killed_at = r
                .progress
                .deleted
                .get("device_groups")
                .copied()
                .unwrap_or(0);
            if killed_at >= 500 {
                break;
            }
            tokio::task::yield_now().await;
        }
        job.abort();
        let _ = job.await;
        let mid = request_of(&store, &request.id).await;
        assert!(killed_at >= 500, "the job never got going");
        if mid.state == "done" {
            // Too quick to catch on this machine; the resume path below
            // still runs (and must change nothing).
            eprintln!("the erasure finished before it could be killed");
        } else {
            assert_eq!(mid.state, "running");
            assert!(mid.progress.deleted["device_groups"] < GROUPS);
        }
        pass_at(&server, now()).await;
        let end = request_of(&store, &request.id).await;
        assert_eq!(end.state, "done");
        assert_eq!(
            end.progress.deleted["device_groups"], GROUPS,
            "exact count across the kill"
        );
        assert_eq!(end.progress.deleted["users"], 4);
        let cert: Value = serde_json::from_str(end.certificate.as_deref().unwrap()).unwrap();
        let body: Value = serde_json::from_str(cert["certificate"].as_str().unwrap()).unwrap();
        assert_eq!(body["deleted"]["device_groups"], GROUPS);
        assert_eq!(
            rows_holding(&store, &t.id, &[t.id.as_str()]).await,
            only_the_request()
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn the_restricted_data_policy_applies_to_desk_text() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let admin = signed_in(&server, &t, &t.admin).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let card = "4111 1111 1111 1111";
        for (policy, status, stored) in [
            ("warn", StatusCode::CREATED, Some(card)),
            ("mask", StatusCode::CREATED, Some("**** **** **** 1111")),
            ("block", StatusCode::UNPROCESSABLE_ENTITY, None),
        ] {
            let set = admin
                .send(
                    reqwest::Method::PUT,
                    "/api/v1/privacy/settings",
                    Some(json!({"restricted_policy": policy, "session_retention_days": null})),
                )
                .await;
            assert_eq!(set.status, StatusCode::OK, "{}", set.text);
            let made = expert
                .post(
                    "/api/v1/desk/records",
                    json!({"kind": "incident", "fields": {"title": format!("{policy}: card {card} declined")}}),
                )
                .await;
            assert_eq!(made.status, status, "{policy}: {}", made.text);
            match stored {
                Some(text) => {
                    assert_eq!(
                        made.body["fields"]["title"],
                        format!("{policy}: card {text} declined")
                    );
                    assert_eq!(made.body["restricted_data"], json!(["payment_card"]));
                    let id = made.body["id"].as_str().unwrap();
                    let note = expert
                        .post(
                            &format!("/api/v1/desk/records/{id}/notes"),
                            json!({"body": "IBAN GB82 WEST 1234 5698 7654 32 for the refund", "public": false}),
                        )
                        .await;
                    assert_eq!(note.status, StatusCode::CREATED, "{}", note.text);
                    assert_eq!(note.body["restricted_data"], json!(["iban"]));
                    let kept = note.body["body"].as_str().unwrap();
                    if policy == "mask" {
                        assert_eq!(kept, "IBAN **** **** **** **** **54 32 for the refund");
                    } else {
                        assert!(kept.contains("GB82 WEST"));
                    }
                }
                None => assert_eq!(
                    made.body["type"]
                        .as_str()
                        .map(|s| s.ends_with("restricted_data")),
                    Some(true),
                    "{}",
                    made.text
                ),
            }
        }
        let bad = admin
            .send(
                reqwest::Method::PUT,
                "/api/v1/privacy/settings",
                Some(json!({"restricted_policy": "ignore", "session_retention_days": null})),
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        server.shutdown().await;
    }
}

/// Every exported table's rows of `tenant`, as the export reads them.
async fn all_rows(
    store: &Store,
    tenant: &str,
) -> Vec<(String, Vec<serde_json::Map<String, Value>>)> {
    let mut tx = store.tenant(tenant).await.unwrap();
    let mut out = Vec::new();
    for t in fernhand_store::export::TABLES {
        let mut rows = Vec::new();
        fernhand_store::export::each_row(&mut tx, t, |r| {
            rows.push(r);
            Ok(())
        })
        .await
        .unwrap();
        out.push((t.name.to_owned(), rows));
    }
    tx.commit().await.unwrap();
    out
}

#[tokio::test]
async fn an_export_imports_into_an_empty_instance_as_the_same_tenant_and_a_tampered_one_is_refused()
{
    use fernhand_server::admin::{AdminError, export_tenant, import_tenant, reset_password};
    use fernhand_server::app::export::archive::ArchiveError;
    use fernhand_server::app::export::tenant::ExportError;

    let mut data_a = None;
    let a = start_with(|o| data_a = Some(o.data.clone())).await;
    let data_a = data_a.unwrap();
    let t = tenant(&a.state.store).await;
    let marker = format!("kingfisher{}", new_id().unwrap());
    fill(&a, &t, &marker).await;
    let dir = std::env::temp_dir().join(format!("fernhand-export-{}", new_id().unwrap()));
    std::fs::create_dir_all(&dir).unwrap();
    let archive = dir.join("tenant.tar");
    let mut tables_seen = Vec::new();
    let exported = export_tenant(&a.state.store, &data_a, &t.slug, &archive, |table, _| {
        tables_seen.push(table.to_owned())
    })
    .await
    .unwrap();
    assert_eq!(
        tables_seen.len(),
        fernhand_store::export::TABLES.len(),
        "progress per table"
    );
    assert_eq!(exported.files, 2, "one attachment and one snapshot");
    assert!(!dir.join("tenant.part").exists(), "no part file left");
    // Never over an existing file.
    let again = export_tenant(&a.state.store, &data_a, &t.slug, &archive, |_, _| {}).await;
    assert!(again.is_err());
    let before = all_rows(&a.state.store, &t.id).await;

    // A tampered copy: one byte of the tickets' rows changed.
    let mut bytes = std::fs::read(&archive).unwrap();
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .unwrap();
    bytes[at] ^= 0x20;
    let tampered = dir.join("tampered.tar");
    std::fs::write(&tampered, &bytes).unwrap();

    // Instances of their own: each with a seal key of its own.
    let own_key = |data: &std::path::Path| {
        std::fs::create_dir_all(data.join("keys")).unwrap();
        let random = new_id().unwrap() + &new_id().unwrap();
        std::fs::write(data.join("keys/seal.key"), &random.as_bytes()[..32]).unwrap();
    };
    let mut targets = vec![];
    let mut data_b = None;
    targets.push((
        start_with(|o| {
            own_key(&o.data);
            data_b = Some(o.data.clone());
        })
        .await,
        data_b.unwrap(),
    ));
    if let Some((app, owner)) = test_pg() {
        let mut data_pg = None;
        let pg = start_with(|o| {
            own_key(&o.data);
            data_pg = Some(o.data.clone());
            o.database = Some(app);
            o.database_owner = Some(owner);
        })
        .await;
        targets.push((pg, data_pg.unwrap()));
    }
    for (b, data) in targets {
        let store = b.state.store.clone();
        match import_tenant(&store, &data, &tampered).await {
            Err(AdminError::Export(ExportError::Archive(ArchiveError::Tampered(path)))) => {
                assert!(path.starts_with("tables/"), "{path}")
            }
            other => panic!("a tampered archive was not refused: {other:?}"),
        }
        assert!(!tenant_exists(&store, &t.id).await, "nothing written");

        let (imported, summary) = import_tenant(&store, &data, &archive).await.unwrap();
        assert_eq!(imported.slug, t.slug);
        assert_eq!(summary.rows, exported.rows);
        assert_eq!(summary.files, 2);
        let mut after = all_rows(&store, &t.id).await;
        // Users come in needing a new password; everything else is as it was.
        let mut expected = before.clone();
        for (name, rows) in expected.iter_mut().chain(after.iter_mut()) {
            if name == "users" {
                for r in rows.iter_mut() {
                    r.insert("must_change_password".into(), json!(1));
                }
            }
            if name == "audit_log" {
                rows.retain(|r| r["action"] != "tenant.imported");
            }
        }
        assert_eq!(after, expected, "the tenant as it was");
        // Twice: refused, nothing changes.
        assert!(matches!(
            import_tenant(&store, &data, &archive).await,
            Err(AdminError::Export(ExportError::Exists(_)))
        ));

        // Its administrator gets a password, signs in and reads the files,
        // sealed now under this instance's keys.
        let one_time = reset_password(&store, &t.slug, &t.admin.email)
            .await
            .unwrap();
        let mut admin = Client::new(&b);
        let login = admin.login(&t.slug, &t.admin.email, &one_time).await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.text);
        let changed = admin
            .post(
                "/api/v1/me/password",
                json!({"current": one_time.as_str(), "new": "a fresh passphrase for the import"}),
            )
            .await;
        assert!(changed.status.is_success(), "{}", changed.text);
        let records = admin.get("/api/v1/desk/records?q=jam").await;
        assert!(records.text.contains(&marker), "{}", records.text);
        let att_id = before
            .iter()
            .find(|(n, _)| n == "desk_attachments")
            .unwrap()
            .1[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let file = admin
            .get(&format!("/api/v1/desk/attachments/{att_id}"))
            .await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(file.text, format!("log {marker}"));
        let cam_id = before.iter().find(|(n, _)| n == "camera_items").unwrap().1[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let snap = admin.get(&format!("/api/v1/camera/items/{cam_id}")).await;
        assert_eq!(snap.status, StatusCode::OK);
        assert!(snap.text.ends_with(&marker));
        b.shutdown().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    a.shutdown().await;
}

#[tokio::test]
async fn an_admin_exports_through_the_api_resumes_the_download_and_the_archive_goes_with_the_tenant()
 {
    let mut data = None;
    let server = start_with(|o| data = Some(o.data.clone())).await;
    let data = data.unwrap();
    let store = server.state.store.clone();
    let t = tenant(&store).await;
    let marker = format!("osprey{}", new_id().unwrap());
    fill(&server, &t, &marker).await;
    let expert = signed_in(&server, &t, &t.expert).await;
    assert_eq!(
        expert
            .post("/api/v1/privacy/exports", json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let admin = signed_in(&server, &t, &t.admin).await;
    let started = admin.post("/api/v1/privacy/exports", json!({})).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let id = started.body["id"].as_str().unwrap().to_owned();
    let mut status = Value::Null;
    for _ in 0..200 {
        status = admin
            .get(&format!("/api/v1/privacy/exports/{id}"))
            .await
            .body;
        if status["state"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status["state"], "done", "{status}");
    assert_eq!(status["rows"]["desk_records"], 1);
    let size = status["size"].as_u64().unwrap();

    // A download cut after 1000 bytes, resumed from there.
    let url = format!("{}/api/v1/privacy/exports/{id}/archive", admin.base);
    let get = |range: Option<&str>| {
        let mut req = reqwest::Client::new()
            .get(&url)
            .header("cookie", admin.cookie.clone().unwrap());
        if let Some(r) = range {
            req = req.header("range", r);
        }
        req.send()
    };
    let first = get(Some("bytes=0-999")).await.unwrap();
    assert_eq!(first.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        first.headers()["content-range"].to_str().unwrap(),
        format!("bytes 0-999/{size}")
    );
    let mut resumed = first.bytes().await.unwrap().to_vec();
    assert_eq!(resumed.len(), 1000);
    let rest = get(Some("bytes=1000-")).await.unwrap();
    assert_eq!(rest.status(), StatusCode::PARTIAL_CONTENT);
    resumed.extend_from_slice(&rest.bytes().await.unwrap());
    let whole = get(None).await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(resumed, whole.bytes().await.unwrap().to_vec());
    assert_eq!(
        get(Some(&format!("bytes={size}-"))).await.unwrap().status(),
        StatusCode::RANGE_NOT_SATISFIABLE
    );
    // The resumed archive checks out against its manifest.
    let dir = std::env::temp_dir().join(format!("fernhand-resumed-{}", new_id().unwrap()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.tar"), &resumed).unwrap();
    let manifest =
        fernhand_server::app::export::archive::unpack(&dir.join("a.tar"), &dir.join("out"))
            .unwrap();
    assert_eq!(manifest["tenant"]["slug"], t.slug.as_str());
    let _ = std::fs::remove_dir_all(&dir);
    let audit = admin.get("/api/v1/audit?since=0").await;
    assert!(audit.text.contains("privacy.export_downloaded"));

    // The archive goes with the tenant.
    let exports = data.join("exports").join(&t.id);
    assert!(exports.join(format!("{id}.tar")).exists());
    let asked = admin
        .post(
            "/api/v1/privacy/deletion-requests",
            json!({"scope": "tenant"}),
        )
        .await;
    let request = asked.body["id"].as_str().unwrap().to_owned();
    pass_at(&server, now()).await;
    wait_done(&store, &request).await;
    pass_at(&server, now()).await;
    assert!(!exports.exists(), "the tenant's export folder is gone");
    server.shutdown().await;
}
