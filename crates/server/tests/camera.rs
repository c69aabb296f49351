//! Camera share, the server's side, on SQLite and (when present)
//! PostgreSQL: a share's link opens once, for one phone; snapshots are
//! checked, sealed under the tenant's data key (a rotation leaves old ones
//! readable) and come back whole; TURN credentials are the session's own;
//! and 72 hours after the share ends (an injected clock) its items are gone
//! with an audit entry saying so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use fernhand_server::app::camera::{self, KEEP_SECONDS};
use fernhand_server::app::tenant_keys;
use reqwest::StatusCode;
use serde_json::json;

/// A PNG signature and some bytes: all a snapshot's check reads.
fn picture(tag: &str) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend(format!("a picture of the router's back panel, {tag}").bytes());
    b
}

#[tokio::test]
async fn a_camera_share_link_opens_once_for_one_phone() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let made = expert.post("/api/v1/camera-shares", json!({})).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        assert_eq!(made.body["session"]["kind"], "camera");
        let session = made.body["session"]["id"].as_str().unwrap().to_owned();
        let link = made.body["session"]["link_locator"]
            .as_str()
            .unwrap()
            .to_owned();
        let code = made.body["session"]["code_locator"]
            .as_str()
            .unwrap()
            .to_owned();
        // The expert's ICE servers carry a TURN credential for this session.
        let turn = made.body["ice_servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["urls"][0].as_str().unwrap_or("").starts_with("turn:"))
            .cloned()
            .expect("the embedded TURN service is offered");
        assert!(
            turn["username"]
                .as_str()
                .unwrap()
                .ends_with(&format!(":{session}"))
        );

        let phone = Client::new(&server);
        let joined = phone.post("/api/v1/join", json!({"locator": link})).await;
        assert_eq!(joined.status, StatusCode::OK, "{}", joined.text);
        assert_eq!(joined.body["kind"], "camera");
        assert!(!joined.body["ice_servers"].as_array().unwrap().is_empty());
        // Neither the link nor the code opens it again.
        for locator in [&link, &code] {
            let again = Client::new(&server)
                .post("/api/v1/join", json!({"locator": locator}))
                .await;
            assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text);
        }
        // An expired link says nothing either.
        let late = expert.post("/api/v1/camera-shares", json!({})).await;
        let late_link = late.body["session"]["link_locator"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut p = server.state.store.platform().await.unwrap();
        sqlx::query("UPDATE join_locators SET expires_at = 1 WHERE locator = $1")
            .bind(&late_link)
            .execute(p.conn())
            .await
            .unwrap();
        p.commit().await.unwrap();
        let r = Client::new(&server)
            .post("/api/v1/join", json!({"locator": late_link}))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
        // A remote support session's code still admits several members.
        let remote = expert.post("/api/v1/sessions", json!({})).await;
        assert_eq!(
            remote.body["ice_servers"],
            json!([]),
            "no TURN credential for a remote session"
        );
        let remote_code = remote.body["session"]["code_locator"].as_str().unwrap();
        for _ in 0..2 {
            let r = Client::new(&server)
                .post("/api/v1/join", json!({"locator": remote_code}))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            assert_eq!(r.body["kind"], "remote");
            assert_eq!(r.body["ice_servers"], json!([]));
        }
        // Camera routes take camera shares only.
        let remote_id = remote.body["session"]["id"].as_str().unwrap();
        let r = expert
            .post_raw(
                &format!("/api/v1/sessions/{remote_id}/camera/snapshots"),
                "image/png",
                picture("x"),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        server.shutdown().await;
    }
}

#[tokio::test]
async fn snapshots_are_checked_sealed_and_outlive_a_key_rotation() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let made = expert.post("/api/v1/camera-shares", json!({})).await;
        let session = made.body["session"]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/sessions/{session}/camera/snapshots");

        // Bad input: not an image, too large — refused, nothing stored.
        let r = expert
            .post_raw(&path, "image/png", b"<svg onload=alert(1)>".to_vec())
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        let mut big = picture("big");
        big.resize(camera::MAX_SNAPSHOT + 1, 0);
        let r = expert.post_raw(&path, "image/png", big).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
        let items = expert
            .get(&format!("/api/v1/sessions/{session}/camera/items"))
            .await;
        assert_eq!(items.body, json!([]));

        let first = picture("first");
        let r = expert.post_raw(&path, "image/png", first.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let first_id = r.body["id"].as_str().unwrap().to_owned();

        // At rest: sealed, neither the bytes nor a recognisable part.
        let mut tx = server.state.store.tenant(&t.id).await.unwrap();
        let (sealed, version): (String, i64) =
            sqlx::query_as("SELECT sealed, key_version FROM camera_items WHERE id = $1")
                .bind(&first_id)
                .fetch_one(tx.conn())
                .await
                .unwrap();
        assert!(!sealed.contains("router"));
        assert_eq!(version, 1);
        // The tenant key itself is stored wrapped only.
        let wrapped: String =
            sqlx::query_scalar("SELECT wrapped FROM tenant_keys WHERE version = 1")
                .fetch_one(tx.conn())
                .await
                .unwrap();
        assert!(wrapped.len() > 40);
        let new_version = tenant_keys::rotate(&mut tx, &server.state.sealer)
            .await
            .unwrap();
        assert_eq!(new_version, 2);
        tx.commit().await.unwrap();

        let second = picture("second");
        let r = expert.post_raw(&path, "image/png", second.clone()).await;
        let second_id = r.body["id"].as_str().unwrap().to_owned();
        let mut tx = server.state.store.tenant(&t.id).await.unwrap();
        for (id, bytes, key) in [(&first_id, &first, 1), (&second_id, &second, 2)] {
            let (item, opened) = camera::open(&mut tx, &server.state.sealer, id)
                .await
                .unwrap();
            assert_eq!(opened.as_slice(), bytes.as_slice());
            assert_eq!(item.key_version, key);
        }
        // A sealed item moved to another row does not open (on
        // PostgreSQL the application may not even change a stored item).
        let moved = sqlx::query("UPDATE camera_items SET sealed = (SELECT sealed FROM camera_items WHERE id = $1) WHERE id = $2")
            .bind(&first_id)
            .bind(&second_id)
            .execute(tx.conn())
            .await;
        match backend(&server) {
            fernhand_store::Backend::Postgres => assert!(moved.is_err(), "items are not writable"),
            fernhand_store::Backend::Sqlite => {
                moved.unwrap();
                assert!(
                    camera::open(&mut tx, &server.state.sealer, &second_id)
                        .await
                        .is_err()
                );
            }
        }
        drop(tx);

        let got = expert
            .get(&format!("/api/v1/camera/items/{first_id}"))
            .await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.content_type, "image/png");
        // Another tenant's expert sees none of it.
        let other = tenant(&server.state.store).await;
        let stranger = signed_in(&server, &other, &other.expert).await;
        let r = stranger
            .get(&format!("/api/v1/camera/items/{first_id}"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        server.shutdown().await;
    }
}

#[tokio::test]
async fn camera_share_items_go_72_hours_after_the_share_ends() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let made = expert.post("/api/v1/camera-shares", json!({})).await;
        let session = made.body["session"]["id"].as_str().unwrap().to_owned();
        let r = expert
            .post_raw(
                &format!("/api/v1/sessions/{session}/camera/snapshots"),
                "image/png",
                picture("kept for a while"),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let r = expert
            .post(
                &format!("/api/v1/sessions/{session}/camera/record"),
                json!({"ended_at": 5, "chat": [{"at": 1, "from": "Ana", "text": "Hold it closer"}],
                       "annotations": [{"at": 2, "shape": "circle", "points": [0.1, 0.1, 0.4, 0.5]}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        // Malformed records are refused whole.
        let r = expert
            .post(
                &format!("/api/v1/sessions/{session}/camera/record"),
                json!({"ended_at": 5, "annotations": [{"at": 2, "shape": "star", "points": [0.1, 0.1, 0.4, 9.0]}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);

        let store = &server.state.store;
        let mine = |d: &Vec<camera::Deleted>| d.iter().filter(|x| x.tenant == t.id).count();
        let now = fernhand_store::now();
        // Open: kept, however long ago it started (up to the unended limit).
        assert_eq!(
            mine(&camera::retention_pass(store, now + 3600).await.unwrap()),
            0
        );
        let r = expert
            .post(
                &format!("/api/v1/sessions/{session}/end"),
                json!({"outcome": "seen"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        let ended = now;
        assert_eq!(
            mine(
                &camera::retention_pass(store, ended + KEEP_SECONDS - 60)
                    .await
                    .unwrap()
            ),
            0,
            "kept for 72 hours"
        );
        let gone = camera::retention_pass(store, ended + KEEP_SECONDS + 60)
            .await
            .unwrap();
        let gone: Vec<_> = gone.into_iter().filter(|d| d.tenant == t.id).collect();
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].items, 2);
        let items = expert
            .get(&format!("/api/v1/sessions/{session}/camera/items"))
            .await;
        assert_eq!(items.body, json!([]), "gone from the store");
        let mut tx = store.tenant(&t.id).await.unwrap();
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM camera_items")
            .fetch_one(tx.conn())
            .await
            .unwrap();
        assert_eq!(left, 0);
        let audit = fernhand_store::audit::list(&mut tx, 0, 200).await.unwrap();
        let entry = audit
            .iter()
            .find(|a| a.action == "camera.deleted" && a.target == session)
            .expect("the deletion is in the audit log");
        assert_eq!(entry.actor, "system:retention");
        drop(tx);
        // Idempotent: nothing more to do.
        assert_eq!(
            mine(
                &camera::retention_pass(store, ended + KEEP_SECONDS + 120)
                    .await
                    .unwrap()
            ),
            0
        );
        server.shutdown().await;
    }
}

/// A share started from an incident is linked to it: the incident's page
/// names it a camera share and links its snapshots.
#[tokio::test]
async fn a_camera_share_from_an_incident_shows_on_its_page() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let r = expert
            .post(
                "/api/v1/desk/records",
                json!({"kind": "incident", "fields": {"title": "Router shows a red light"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let made = expert
            .post("/api/v1/desk/records/INC-1/camera-share", json!({}))
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        assert_eq!(made.body["session"]["kind"], "camera");
        assert_eq!(made.body["desk_reference"], "INC-1");
        let session = made.body["session"]["id"].as_str().unwrap().to_owned();
        let shot = expert
            .post_raw(
                &format!("/api/v1/sessions/{session}/camera/snapshots"),
                "image/png",
                picture("from the incident"),
            )
            .await;
        let item = shot.body["id"].as_str().unwrap().to_owned();
        // Its chat stays with the share (and goes with it), never on the ticket.
        let r = expert
            .post(
                &format!("/api/v1/sessions/{session}/record"),
                json!({"members": [], "started_at": 1, "ended_at": 2,
                       "transcript": [{"at": 1, "from": "Maria", "text": "my address is 5 Elm St"}], "files": []}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        let page = expert.get("/desk/INC-1").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("Camera share started"), "{}", page.text);
        assert!(
            page.text
                .contains(&format!("href=\"/api/v1/camera/items/{item}\"")),
            "the snapshot is linked from the incident"
        );
        assert!(!page.text.contains("Elm St"));
        server.shutdown().await;
    }
}
