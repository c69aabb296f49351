//! The service desk over HTTP against a real server, on SQLite and (when
//! present) PostgreSQL: an incident's whole life with refused moves, stale
//! edits and bad input that write nothing; change approval by the board;
//! the configuration graph's impact view; least privilege.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn records(c: &Client, query: &str) -> Vec<Value> {
    let r = c.get(&format!("/api/v1/desk/records?{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"].as_array().unwrap().clone()
}

async fn patch(c: &Client, path: &str, body: Value) -> Reply {
    c.send(Method::PATCH, path, Some(body)).await
}

#[tokio::test]
async fn an_incident_lives_its_lifecycle_and_refused_moves_write_nothing() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;

        // Bad input first: nothing is written, no number is used up.
        for (body, needle) in [
            (
                json!({"kind": "ticket", "fields": {"title": "x"}}),
                "kind is one of",
            ),
            (json!({"kind": "incident", "fields": {}}), "needs a title"),
            (
                json!({"kind": "incident", "fields": {"title": "x", "shoe_size": "44"}}),
                "no field \\\"shoe_size",
            ),
            (
                json!({"kind": "incident", "fields": {"title": "x", "impact": "apocalyptic"}}),
                "impact is one of",
            ),
            (
                json!({"kind": "incident", "fields": {"title": "x".repeat(201)}}),
                "longer than 200",
            ),
            (
                json!({"kind": "incident", "fields": {"title": "x", "assignee": "nobody"}}),
                "not a user",
            ),
            (
                json!({"kind": "incident", "fields": {"title": "x", "urgency": 3}}),
                "string or null",
            ),
        ] {
            let r = expert.post("/api/v1/desk/records", body).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
            assert!(r.text.contains(needle), "{needle}: {}", r.text);
            assert_eq!(r.content_type, "application/problem+json");
        }
        assert!(records(&expert, "").await.is_empty());

        // Raise: priority from impact × urgency, text kept verbatim.
        let title = "Printer <script>alert(1)</script> jams & smokes";
        let r = expert
            .post("/api/v1/desk/records", json!({"kind": "incident", "fields": {
                "title": title, "description": "Floor 3, since this morning", "impact": "low", "urgency": "high",
                "category": "hardware", "requester": "maria@customer.example"}}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let inc = r.body.clone();
        let id = inc["id"].as_str().unwrap().to_owned();
        assert_eq!(inc["reference"], "INC-1");
        assert_eq!(inc["priority"], "p3");
        assert_eq!(inc["state"], "new");
        assert_eq!(inc["fields"]["title"], title);
        assert_eq!(inc["sla"]["own"]["level"], "ok");
        let moves: Vec<&str> = inc["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["to"].as_str().unwrap())
            .collect();
        assert_eq!(moves, ["assigned"]);
        assert_eq!(inc["transitions"][0]["ready"], false, "no assignee yet");

        // Skipping is refused, and so is a move without its fields.
        let skip = expert
            .post(
                &format!("/api/v1/desk/records/{id}/transition"),
                json!({"version": 1, "to": "resolved"}),
            )
            .await;
        assert_eq!(
            skip.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            skip.text
        );
        assert!(skip.text.contains("can go to: assigned"), "{}", skip.text);
        let bare = expert
            .post(
                &format!("/api/v1/desk/records/{id}/transition"),
                json!({"version": 1, "to": "assigned"}),
            )
            .await;
        assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bare.text.contains("assignee"), "{}", bare.text);

        // Assign (setting the field with the move), by reference.
        let r = expert
            .post(
                "/api/v1/desk/records/INC-1/transition",
                json!({"version": 1, "to": "assigned", "fields": {"assignee": t.expert.id}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            (r.body["state"].as_str(), r.body["version"].as_i64()),
            (Some("assigned"), Some(2))
        );
        assert_eq!(r.body["sla"]["own"]["running"], false);

        // A stale edit is refused; a fresh one recomputes priority.
        let stale = patch(
            &expert,
            &format!("/api/v1/desk/records/{id}"),
            json!({"version": 1, "fields": {"urgency": "low"}}),
        )
        .await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
        let r = patch(
            &expert,
            &format!("/api/v1/desk/records/{id}"),
            json!({"version": 2, "fields": {"impact": "high"}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["priority"], "p1");

        // Pending pauses the clock; resume; resolve needs a resolution.
        let r = expert.post(&format!("/api/v1/desk/records/{id}/transition"), json!({"version": 3, "to": "pending", "fields": {"pending_reason": "waiting for toner"}})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["sla"]["resolve"]["paused"], true);
        let r = expert
            .post(
                &format!("/api/v1/desk/records/{id}/transition"),
                json!({"version": 4, "to": "assigned"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);

        // Notes: internal and public; both searchable.
        let n = expert
            .post(
                &format!("/api/v1/desk/records/{id}/notes"),
                json!({"body": "Fuser unit overheats; ordered a spare", "public": false}),
            )
            .await;
        assert_eq!(n.status, StatusCode::CREATED, "{}", n.text);
        let found = records(&expert, "q=fuser%20spare").await;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["reference"], "INC-1");
        assert!(records(&expert, "q=toner%20cartridge").await.is_empty());
        assert_eq!(records(&expert, "priority=p1&kind=incident").await.len(), 1);
        assert!(records(&expert, "priority=p5").await.is_empty());

        let r = expert.post(&format!("/api/v1/desk/records/{id}/transition"), json!({"version": 5, "to": "resolved", "fields": {"resolution": "Replaced the fuser"}})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let r = expert
            .post(
                &format!("/api/v1/desk/records/{id}/transition"),
                json!({"version": 6, "to": "closed"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(r.body["transitions"].as_array().unwrap().is_empty());

        // Closed is final.
        let late = patch(
            &expert,
            &format!("/api/v1/desk/records/{id}"),
            json!({"version": 7, "fields": {"category": "software"}}),
        )
        .await;
        assert_eq!(late.status, StatusCode::CONFLICT);
        let late = expert
            .post(
                &format!("/api/v1/desk/records/{id}/notes"),
                json!({"body": "one more thing"}),
            )
            .await;
        assert_eq!(late.status, StatusCode::CONFLICT);

        // The history tells the whole story in order.
        let h = expert
            .get(&format!("/api/v1/desk/records/{id}/history"))
            .await
            .body;
        let states: Vec<&str> = h
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["field"] == "state")
            .map(|c| c["new_value"].as_str().unwrap())
            .collect();
        assert_eq!(
            states,
            ["assigned", "pending", "assigned", "resolved", "closed"]
        );
        assert!(
            h.as_array()
                .unwrap()
                .iter()
                .any(|c| c["field"] == "priority"
                    && c["old_value"] == "p3"
                    && c["new_value"] == "p1")
        );
        assert!(h.as_array().unwrap().iter().any(|c| c["field"] == "note"));
        assert!(
            h.as_array()
                .unwrap()
                .iter()
                .all(|c| c["actor"] == t.expert.id.as_str())
        );

        // The next record gets number 2: the refused creates used none.
        let r = expert
            .post(
                "/api/v1/desk/records",
                json!({"kind": "incident", "fields": {"title": "Second"}}),
            )
            .await;
        assert_eq!(r.body["reference"], "INC-2");

        // Least privilege: auditors read, do not write; experts do not
        // change the desk's settings.
        let auditor = signed_in(&server, &t, &t.auditor).await;
        assert_eq!(records(&auditor, "").await.len(), 2);
        let r = auditor
            .post(
                "/api/v1/desk/records",
                json!({"kind": "incident", "fields": {"title": "x"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = expert
            .send(
                Method::PUT,
                "/api/v1/desk/settings",
                Some(json!({"sla": {"targets": {}, "warn_percent": 75}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // An edited lifecycle that would strand the closed incident is
        // refused; one that keeps every state in use is taken.
        let admin = signed_in(&server, &t, &t.admin).await;
        let mut lifecycle = admin.get("/api/v1/desk/settings").await.body["lifecycles"][0].clone();
        assert_eq!(lifecycle["kind"], "incident");
        let mut stranding = lifecycle.clone();
        stranding["states"]
            .as_array_mut()
            .unwrap()
            .retain(|st| st["id"] != "closed");
        stranding["states"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "done", "label": "Done", "category": "closed"}));
        for tr in stranding["transitions"].as_array_mut().unwrap() {
            if tr["to"] == "closed" {
                tr["to"] = json!("done");
            }
        }
        let r = admin
            .send(
                Method::PUT,
                "/api/v1/desk/settings",
                Some(json!({"lifecycle.incident": stranding})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        assert!(r.text.contains("closed"), "{}", r.text);
        lifecycle["states"][1]["label"] = json!("With an engineer");
        let r = admin
            .send(
                Method::PUT,
                "/api/v1/desk/settings",
                Some(json!({"lifecycle.incident": lifecycle})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            expert.get("/api/v1/desk/records/INC-2").await.body["state_label"],
            "New"
        );
        assert_eq!(
            r.body["lifecycles"][0]["states"][1]["label"],
            "With an engineer"
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_change_needs_the_boards_quorum_and_standard_changes_skip_it() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let admin = signed_in(&server, &t, &t.admin).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        // Board: admin and expert, quorum 1; a broken board is refused.
        let r = admin
            .send(
                Method::PUT,
                "/api/v1/desk/settings",
                Some(json!({"cab": {"members": [t.admin.id], "quorum": 2}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        let r = admin
            .send(
                Method::PUT,
                "/api/v1/desk/settings",
                Some(json!({"cab": {"members": ["ghost"], "quorum": 1}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        let r = admin
            .send(
                Method::PUT,
                "/api/v1/desk/settings",
                Some(json!({"cab": {"members": [t.admin.id, t.expert.id], "quorum": 1}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);

        let assessed = json!({"change_type": "normal", "risk": "medium", "plan": "Upgrade firmware", "backout_plan": "Flash the old image"});
        let r = expert
            .post(
                "/api/v1/desk/records",
                json!({"kind": "change", "fields": {"title": "Core switch firmware"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(r.body["reference"], "CHG-1");
        let path = format!("/api/v1/desk/records/{id}/transition");
        let go = |v: i64, to: &str, fields: Value| {
            expert.post(&path, json!({"version": v, "to": to, "fields": fields}))
        };
        assert_eq!(
            go(1, "assessed", assessed.clone()).await.status,
            StatusCode::OK
        );
        // A normal change cannot be scheduled without the board.
        let r = go(
            2,
            "scheduled",
            json!({"planned_start": "2026-12-01T20:00:00Z", "planned_end": "2026-12-01T22:00:00Z"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert!(r.text.contains("pre-approved"), "{}", r.text);
        assert_eq!(
            go(2, "awaiting_approval", json!({})).await.status,
            StatusCode::OK
        );
        let r = go(3, "approved", json!({})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text.contains("quorum"), "{}", r.text);
        // The requester may not vote on it; another member's vote decides.
        let r = expert
            .post(
                &format!("/api/v1/desk/records/{id}/votes"),
                json!({"vote": "approve"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        let r = admin
            .post(
                &format!("/api/v1/desk/records/{id}/votes"),
                json!({"vote": "maybe"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = admin
            .post(
                &format!("/api/v1/desk/records/{id}/votes"),
                json!({"vote": "approve", "comment": "firmware tested in lab"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["decision"]["decision"], "approved");
        let r = admin
            .post(
                &format!("/api/v1/desk/records/{id}/votes"),
                json!({"vote": "reject"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "a second vote: {}", r.text);
        assert_eq!(go(3, "approved", json!({})).await.status, StatusCode::OK);
        // End before start is refused.
        let r = go(
            4,
            "scheduled",
            json!({"planned_start": "2026-12-01T20:00:00Z", "planned_end": "2026-12-01T19:00:00Z"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        let r = go(
            4,
            "scheduled",
            json!({"planned_start": "2026-12-01T20:00:00Z", "planned_end": "2026-12-01T22:00:00Z"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let view = expert.get(&format!("/api/v1/desk/records/{id}")).await.body;
        assert_eq!(
            view["approval"]["votes"][0]["comment"],
            "firmware tested in lab"
        );

        // A standard change goes from assessed straight to scheduled.
        let r = expert
            .post(
                "/api/v1/desk/records",
                json!({"kind": "change", "fields": {"title": "Add a printer queue"}}),
            )
            .await;
        let std_id = r.body["id"].as_str().unwrap().to_owned();
        let r = expert.post(&format!("/api/v1/desk/records/{std_id}/transition"), json!({"version": 1, "to": "assessed", "fields": {"change_type": "standard", "risk": "low", "plan": "p", "backout_plan": "b"}})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let r = expert.post(&format!("/api/v1/desk/records/{std_id}/transition"), json!({"version": 2, "to": "scheduled", "fields": {"planned_start": "2026-12-01T21:00:00Z", "planned_end": "2026-12-01T21:30:00Z"}})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        server.shutdown().await;
    }
}

#[tokio::test]
async fn the_impact_view_follows_relations_and_open_records() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let mut ids = std::collections::HashMap::new();
        for (name, ci_type) in [
            ("srv-01", "server"),
            ("crm", "application"),
            ("sales", "service"),
            ("laptop-7", "device"),
        ] {
            let r = expert
                .post(
                    "/api/v1/desk/cis",
                    json!({"name": name, "ci_type": ci_type}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            ids.insert(name, r.body["id"].as_str().unwrap().to_owned());
        }
        let r = expert
            .post(
                "/api/v1/desk/cis",
                json!({"name": "srv-01", "ci_type": "server"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        let r = expert
            .post(
                "/api/v1/desk/cis",
                json!({"name": "x", "ci_type": "toaster"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        for (from, rel, to) in [("crm", "runs-on", "srv-01"), ("sales", "depends-on", "crm")] {
            let r = expert
                .post(
                    &format!("/api/v1/desk/cis/{}/relations", ids[from]),
                    json!({"relation": rel, "to": ids[to]}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
        let r = expert
            .post(
                &format!("/api/v1/desk/cis/{}/relations", ids["crm"]),
                json!({"relation": "likes", "to": ids["sales"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = expert
            .post(
                "/api/v1/desk/records",
                json!({"kind": "incident", "fields": {"title": "CRM slow", "ci": ids["crm"]}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let view = expert
            .get(&format!("/api/v1/desk/cis/{}", ids["srv-01"]))
            .await
            .body;
        let hit: Vec<(&str, i64)> = view["impact"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["name"].as_str().unwrap(), a["depth"].as_i64().unwrap()))
            .collect();
        assert_eq!(hit, [("crm", 1), ("sales", 2)]);
        let crm = expert
            .get(&format!("/api/v1/desk/cis/{}", ids["crm"]))
            .await
            .body;
        assert_eq!(crm["open_records"][0]["title"], "CRM slow");
        assert!(
            expert
                .get(&format!("/api/v1/desk/cis/{}", ids["laptop-7"]))
                .await
                .body["impact"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            records(&expert, &format!("ci={}", ids["crm"])).await.len(),
            1
        );
        server.shutdown().await;
    }
}

/// SLA clocks escalate once per level, on an injected clock: the warning at
/// 75 % of time-to-own, the breach at 100 %; a pending incident's resolve
/// clock does not move.
#[tokio::test]
async fn sla_clocks_escalate_once_per_level() {
    use fernhand_desk::sla::Level;
    use fernhand_server::app::desk::escalation::pass;
    for server in servers().await {
        // Round the clock, P3 owned within 60 minutes, resolved within 600.
        let hours: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .map(|d| json!({"day": d, "from": "00:00", "to": "24:00"}))
            .to_vec();
        let settings = json!({
            "calendar": {"time_zone": "UTC", "hours": hours},
            "sla": {"targets": {"p3": {"own_minutes": 60, "resolve_minutes": 600}}, "warn_percent": 75},
        });
        let raise = |who: &'static str| {
            let settings = settings.clone();
            let server = &server;
            async move {
                let t = tenant(&server.state.store).await;
                let admin = signed_in(server, &t, &t.admin).await;
                let r = admin
                    .send(Method::PUT, "/api/v1/desk/settings", Some(settings))
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.text);
                let r = admin
                    .post(
                        "/api/v1/desk/records",
                        json!({"kind": "incident", "fields": {"title": "Cannot print"}}),
                    )
                    .await;
                let (id, created) = (
                    r.body["id"].as_str().unwrap().to_owned(),
                    r.body["created_at"].as_i64().unwrap(),
                );
                (t, admin, id, created)
            }
        };
        // A tenant whose settings no longer read fails its own pass and
        // nobody else's, whichever order the tenants come in.
        let (broken, _, _, _) = raise("broken").await;
        let (t, admin, id, created) = raise("ours").await;
        let store = &server.state.store;
        let mut tx = store.tenant(&broken.id).await.unwrap();
        fernhand_store::desk::settings::put(&mut tx, "sla", "{not json", created)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mine = |e: &Vec<fernhand_server::app::desk::escalation::Escalated>| {
            e.iter()
                .filter(|x| x.tenant == t.id)
                .map(|x| x.level)
                .collect::<Vec<_>>()
        };
        assert!(mine(&pass(store, created + 44 * 60).await.unwrap()).is_empty());
        assert_eq!(
            mine(&pass(store, created + 46 * 60).await.unwrap()),
            [Level::Warning]
        );
        assert!(
            mine(&pass(store, created + 47 * 60).await.unwrap()).is_empty(),
            "once per level"
        );
        assert_eq!(
            mine(&pass(store, created + 61 * 60).await.unwrap()),
            [Level::Breached]
        );
        assert!(mine(&pass(store, created + 600 * 60).await.unwrap()).is_empty());
        let h = admin
            .get(&format!("/api/v1/desk/records/{id}/history"))
            .await
            .body;
        let sla: Vec<&str> = h
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["field"] == "sla")
            .map(|c| c["new_value"].as_str().unwrap())
            .collect();
        assert_eq!(sla, ["warning", "breached"]);
        assert!(
            h.as_array()
                .unwrap()
                .iter()
                .any(|c| c["actor"] == "system:sla")
        );
        server.shutdown().await;
    }
}

/// "Start remote session" on an incident opens a session linked to it; the
/// record the expert's endpoint sends at the end lands on the incident with
/// members, duration and transcript, searchable; once only.
#[tokio::test]
async fn a_remote_session_started_from_an_incident_is_recorded_on_it() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let pc = expert
            .post(
                "/api/v1/desk/cis",
                json!({"name": "maria-pc", "ci_type": "device", "attributes": {"owner": "Maria"}}),
            )
            .await;
        let pc = pc.body["id"].as_str().unwrap().to_owned();
        let r = expert
            .post(
                "/api/v1/desk/records",
                json!({"kind": "incident", "fields": {"title": "Outlook will not start", "ci": pc}}),
            )
            .await;
        let id = r.body["id"].as_str().unwrap().to_owned();
        let started = expert
            .post("/api/v1/desk/records/INC-1/remote-session", json!({}))
            .await;
        assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
        let session = started.body["session"]["id"].as_str().unwrap().to_owned();
        assert_eq!(started.body["desk_record"], id.as_str());
        assert!(started.body["grant"].is_string() || started.body["grant"].is_object());
        let view = expert.get(&format!("/api/v1/desk/records/{id}")).await.body;
        assert_eq!(view["sessions"][0]["session_id"], session.as_str());
        assert!(view["sessions"][0]["summary"].is_null());

        // A session not started from the desk has nothing to attach to.
        let plain = expert.post("/api/v1/sessions", json!({})).await.body["session"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let summary = json!({
            "members": [{"name": "Ana Expert", "role": "expert", "joined_at": 1000}, {"name": "Maria", "role": "customer", "joined_at": 1010}, {"name": "maria-pc", "role": "agent", "joined_at": 1030}],
            "started_at": 1000, "ended_at": 1754,
            "transcript": [{"at": 1012, "from": "Maria", "text": "Outlook crashes at the splash screen"}, {"at": 1100, "from": "Ana Expert", "text": "Starting it in safe mode now"}],
            "files": [{"name": "outlook.log", "size": 5120, "sha256": "ab".repeat(32), "direction": "from_customer"}],
            "diagnostics": {"os": "Debian 13", "memory_total": 16_000_000_000u64},
        });
        let r = expert
            .post(&format!("/api/v1/sessions/{plain}/record"), summary.clone())
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        // Bad records are refused whole.
        let mut bad = summary.clone();
        bad["ended_at"] = json!(10);
        assert_eq!(
            expert
                .post(&format!("/api/v1/sessions/{session}/record"), bad)
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        let mut bad = summary.clone();
        bad["files"][0]["sha256"] = json!("not hex");
        assert_eq!(
            expert
                .post(&format!("/api/v1/sessions/{session}/record"), bad)
                .await
                .status,
            StatusCode::BAD_REQUEST
        );

        let r = expert
            .post(
                &format!("/api/v1/sessions/{session}/record"),
                summary.clone(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["attached_to"][0], id.as_str());
        let again = expert
            .post(&format!("/api/v1/sessions/{session}/record"), summary)
            .await;
        assert_eq!(
            again.status,
            StatusCode::CONFLICT,
            "once only: {}",
            again.text
        );

        let view = expert.get(&format!("/api/v1/desk/records/{id}")).await.body;
        let s = &view["sessions"][0]["summary"];
        assert_eq!(s["duration_seconds"], 754);
        assert_eq!(s["members"].as_array().unwrap().len(), 3);
        assert_eq!(s["transcript"][1]["text"], "Starting it in safe mode now");
        assert_eq!(s["files"][0]["name"], "outlook.log");
        assert_eq!(s["diagnostics"]["os"], "Debian 13");
        // The diagnostics refreshed the incident's device item, keeping
        // what the desk had added.
        let item = expert.get(&format!("/api/v1/desk/cis/{pc}")).await.body;
        assert_eq!(item["ci"]["attributes"]["os"], "Debian 13");
        assert_eq!(
            item["ci"]["attributes"]["diagnostics"]["memory_total"],
            16_000_000_000u64
        );
        assert_eq!(item["ci"]["attributes"]["owner"], "Maria");
        let found = records(&expert, "q=splash%20screen").await;
        assert_eq!(found.len(), 1, "the transcript is searchable");
        let h = expert
            .get(&format!("/api/v1/desk/records/{id}/history"))
            .await
            .body;
        let fields: Vec<&str> = h
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.contains(&"session") && fields.contains(&"session_record"),
            "{fields:?}"
        );
        server.shutdown().await;
    }
}
