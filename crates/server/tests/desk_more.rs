//! Attachments, watchers, saved views and outgoing webhooks of the desk,
//! against a real server on SQLite and (when present) PostgreSQL: files
//! are stored sealed and come back byte for byte as downloads, oversized or
//! badly named ones are refused with nothing stored; the requester sees
//! only public files of their own tickets; every change reaches the
//! tenant's webhook signed, with its watchers, retried after a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use axum::http::HeaderMap;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

async fn incident(c: &Client, fields: Value) -> String {
    let r = c
        .post(
            "/api/v1/desk/records",
            json!({"kind": "incident", "fields": fields}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn attachments_are_sealed_size_limited_and_shown_only_to_who_may_see_them() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let requester = signed_in(&server, &t, &t.requester).await;
        let id = incident(
            &expert,
            json!({"title": "Scanner", "requester": t.requester.id}),
        )
        .await;
        let secret = b"<html><script>alert(1)</script> the root password is hunter2".to_vec();
        let up = expert
            .post_raw(
                &format!("/api/v1/desk/records/{id}/attachments?name=notes%20%3Cb%3E.html"),
                "application/octet-stream",
                secret.clone(),
            )
            .await;
        assert_eq!(up.status, StatusCode::CREATED, "{}", up.text);
        assert_eq!(up.body["size"], secret.len());
        let file = up.body["id"].as_str().unwrap().to_owned();

        // At rest: sealed, not the bytes (nor their base64).
        let mut tx = server.state.store.tenant(&t.id).await.unwrap();
        let sealed: String =
            sqlx::query_scalar("SELECT sealed FROM desk_attachments WHERE id = $1")
                .bind(&file)
                .fetch_one(tx.conn())
                .await
                .unwrap();
        drop(tx);
        assert!(!sealed.contains("hunter2"));
        use base64::Engine;
        for engine in [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            let plain = engine.encode(&secret);
            assert!(!sealed.contains(&plain[..40]), "the base64 of the file");
        }

        // Back as a download, byte for byte, never as a page.
        let got = reqwest::Client::new()
            .get(format!("{}/api/v1/desk/attachments/{file}", server.url))
            .header("cookie", expert.cookie.clone().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), StatusCode::OK);
        assert_eq!(got.headers()["content-type"], "application/octet-stream");
        let disposition = got.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(
            disposition.contains("notes%20%3Cb%3E.html"),
            "{disposition}"
        );
        assert_eq!(got.bytes().await.unwrap().as_ref(), secret.as_slice());

        // Refused: too big, empty, badly named — and nothing stored.
        for (query, body, status) in [
            (
                "name=big.bin",
                vec![0u8; 10 * 1024 * 1024 + 1],
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            ("name=empty.txt", Vec::new(), StatusCode::BAD_REQUEST),
            (
                "name=..%2Fetc%2Fpasswd",
                b"x".to_vec(),
                StatusCode::BAD_REQUEST,
            ),
            ("name=a%0Ab", b"x".to_vec(), StatusCode::BAD_REQUEST),
        ] {
            let r = expert
                .post_raw(
                    &format!("/api/v1/desk/records/{id}/attachments?{query}"),
                    "application/octet-stream",
                    body,
                )
                .await;
            assert_eq!(r.status, status, "{query}: {}", r.text);
        }
        let listed = expert
            .get(&format!("/api/v1/desk/records/{id}/attachments"))
            .await;
        assert_eq!(listed.body.as_array().unwrap().len(), 1, "{}", listed.text);

        // The requester: not the desk's private file; their own public one.
        assert_eq!(
            requester
                .get(&format!("/api/v1/portal/attachments/{file}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let theirs = requester
            .post_raw(
                &format!("/api/v1/portal/tickets/{id}/attachments?name=screen.png"),
                "application/octet-stream",
                b"\x89PNG fake".to_vec(),
            )
            .await;
        assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text);
        assert_eq!(theirs.body["public"], true);
        let theirs_id = theirs.body["id"].as_str().unwrap();
        let back = requester
            .get(&format!("/api/v1/portal/attachments/{theirs_id}"))
            .await;
        assert_eq!(back.status, StatusCode::OK);
        assert_eq!(back.text, "\u{fffd}PNG fake");
        // Another tenant finds neither.
        let other = tenant(&server.state.store).await;
        let other_admin = signed_in(&server, &other, &other.admin).await;
        for f in [&file, &theirs_id.to_owned()] {
            assert_eq!(
                other_admin
                    .get(&format!("/api/v1/desk/attachments/{f}"))
                    .await
                    .status,
                StatusCode::NOT_FOUND
            );
        }
        server.shutdown().await;
    }
}

#[tokio::test]
async fn saved_views_belong_to_their_user() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let admin = signed_in(&server, &t, &t.admin).await;
        let view = json!({"name": "Open P1s", "query": "priority=p1&category=new"});
        let saved = expert.post("/api/v1/desk/views", view.clone()).await;
        assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text);
        assert_eq!(
            expert.post("/api/v1/desk/views", view).await.status,
            StatusCode::CONFLICT
        );
        for bad in [
            json!({"name": "", "query": "a=b"}),
            json!({"name": "x", "query": "a b"}),
            json!({"name": "x", "query": "q=".to_owned() + &"x".repeat(2001)}),
        ] {
            assert_eq!(
                expert.post("/api/v1/desk/views", bad).await.status,
                StatusCode::BAD_REQUEST
            );
        }
        assert_eq!(admin.get("/api/v1/desk/views").await.body, json!([]));
        let id = saved.body["id"].as_str().unwrap();
        assert_eq!(
            admin
                .send(
                    reqwest::Method::DELETE,
                    &format!("/api/v1/desk/views/{id}"),
                    None
                )
                .await
                .status,
            StatusCode::NOT_FOUND,
            "another user's view"
        );
        let page = reqwest::Client::new()
            .get(format!("{}/desk", server.url))
            .header("cookie", expert.cookie.clone().unwrap())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("href=\"/desk?priority=p1&#38;category=new\"")
                || page.contains("href=\"/desk?priority=p1&amp;category=new\""),
            "{page}"
        );
        assert_eq!(
            expert
                .send(
                    reqwest::Method::DELETE,
                    &format!("/api/v1/desk/views/{id}"),
                    None
                )
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn desk_events_reach_the_tenants_webhook_signed_with_watchers_and_retried() {
    // A receiver that refuses its first delivery with 503.
    let got: Arc<Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
    let refusals = Arc::new(std::sync::atomic::AtomicU32::new(1));
    let (seen, left) = (got.clone(), refusals.clone());
    let app = axum::Router::new().route(
        "/desk",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (seen, left) = (seen.clone(), left.clone());
            async move {
                if left
                    .fetch_update(
                        std::sync::atomic::Ordering::SeqCst,
                        std::sync::atomic::Ordering::SeqCst,
                        |n| n.checked_sub(1),
                    )
                    .is_ok()
                {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                seen.lock().unwrap().push((headers, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/desk", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    for server in servers_with(|o| o.desk_webhooks_to_loopback = true).await {
        got.lock().unwrap().clear();
        refusals.store(1, std::sync::atomic::Ordering::SeqCst);
        let t = tenant(&server.state.store).await;
        let admin = signed_in(&server, &t, &t.admin).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let requester = signed_in(&server, &t, &t.requester).await;
        let secret = "a long shared secret for desk events";
        let added = admin
            .post(
                "/api/v1/desk/webhooks",
                json!({"url": hook, "secret": secret}),
            )
            .await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
        assert!(
            !added.text.contains(secret),
            "the secret is not shown again"
        );
        assert_eq!(
            expert
                .post(
                    "/api/v1/desk/webhooks",
                    json!({"url": hook, "secret": secret})
                )
                .await
                .status,
            StatusCode::FORBIDDEN
        );

        let raised = requester
            .post(
                "/api/v1/portal/tickets",
                json!({"title": "Laptop fan loud"}),
            )
            .await;
        let id = raised.body["id"].as_str().unwrap().to_owned();
        let w = expert
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/desk/records/{id}/watch"),
                None,
            )
            .await;
        assert_eq!(w.body["watchers"], json!([t.expert.id]));
        let assigned = expert
            .post(
                &format!("/api/v1/desk/records/{id}/transition"),
                json!({"version": 1, "to": "assigned", "fields": {"assignee": t.expert.id}}),
            )
            .await;
        assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.text);
        expert
            .post(
                &format!("/api/v1/desk/records/{id}/notes"),
                json!({"body": "On my way", "public": true}),
            )
            .await;

        // Deliver now (the first attempt meets a 503), then once the retry
        // is due.
        let client = reqwest::Client::new();
        let now = fernhand_store::now();
        let first = fernhand_server::app::desk::delivery::pass(
            &server.state.store,
            &server.state.sealer,
            &client,
            now,
        )
        .await
        .unwrap();
        // Passes once retries are due, until the three events are in (on
        // the shared test PostgreSQL another server's job may hold one in
        // flight for a moment, as another replica's would).
        let mut later = fernhand_server::app::desk::delivery::Pass::default();
        for round in 1..=50 {
            later = fernhand_server::app::desk::delivery::pass(
                &server.state.store,
                &server.state.sealer,
                &client,
                now + 3600 * round,
            )
            .await
            .unwrap();
            let mut seen: Vec<String> = got
                .lock()
                .unwrap()
                .iter()
                .filter_map(|(h, _)| h.get("x-fernhand-event")?.to_str().ok().map(str::to_owned))
                .collect();
            seen.sort_unstable();
            seen.dedup();
            if seen.len() >= 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // The 503 was met and the event still arrived (below). Which server
        // met it is not asserted: on the shared test PostgreSQL another
        // server's delivery job may take a turn, as another replica's would.
        assert_eq!(
            refusals.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "the receiver refused once: {first:?} {later:?}"
        );
        let events: Vec<(HeaderMap, Value)> = got
            .lock()
            .unwrap()
            .iter()
            .map(|(h, b)| (h.clone(), serde_json::from_str(b).unwrap()))
            .collect();
        let mut ids: Vec<&str> = events
            .iter()
            .map(|(h, _)| h["x-fernhand-event"].to_str().unwrap())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            3,
            "created, state_changed, reply_added: {events:?}"
        );
        let kinds: Vec<&str> = events
            .iter()
            .filter_map(|(_, e)| e["event"].as_str())
            .collect();
        for k in ["created", "state_changed", "reply_added"] {
            assert!(kinds.contains(&k), "{k} in {kinds:?}");
        }
        let (headers, moved) = events
            .iter()
            .find(|(_, e)| e["event"] == "state_changed")
            .unwrap();
        assert_eq!(moved["detail"]["to"], "assigned");
        assert_eq!(moved["record"]["reference"], "INC-1");
        let emails: Vec<&str> = moved["people"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["email"].as_str())
            .collect();
        assert!(emails.contains(&t.requester.email.as_str()), "{emails:?}");
        assert!(
            emails.contains(&t.expert.email.as_str()),
            "the watcher and assignee"
        );
        // The signature, checked independently.
        let body = got
            .lock()
            .unwrap()
            .iter()
            .find(|(h, _)| h["x-fernhand-event"] == headers["x-fernhand-event"])
            .unwrap()
            .1
            .clone();
        let timestamp = headers["x-fernhand-timestamp"].to_str().unwrap();
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.{body}").as_bytes());
        let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(headers["x-fernhand-signature"].to_str().unwrap(), want);

        // Nothing waits any more; a removed webhook gets nothing.
        let again = fernhand_server::app::desk::delivery::pass(
            &server.state.store,
            &server.state.sealer,
            &client,
            now + 7200,
        )
        .await
        .unwrap();
        assert_eq!(again.sent + again.retried, 0, "{again:?}");
        let hook_id = added.body["id"].as_str().unwrap();
        assert_eq!(
            admin
                .send(
                    reqwest::Method::DELETE,
                    &format!("/api/v1/desk/webhooks/{hook_id}"),
                    None
                )
                .await
                .status,
            StatusCode::NO_CONTENT
        );

        // A webhook whose sealed secret no longer opens: its event is given
        // up into the audit log, and the pass goes on.
        let broken = admin
            .post(
                "/api/v1/desk/webhooks",
                json!({"url": hook, "secret": secret}),
            )
            .await;
        let broken_id = broken.body["id"].as_str().unwrap().to_owned();
        let mut tx = server.state.store.tenant(&t.id).await.unwrap();
        sqlx::query("UPDATE desk_webhooks SET secret_sealed = 'AAAA' WHERE id = $1")
            .bind(&broken_id)
            .execute(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        expert
            .post(
                &format!("/api/v1/desk/records/{id}/notes"),
                json!({"body": "inside"}),
            )
            .await;
        let gave_up = fernhand_server::app::desk::delivery::pass(
            &server.state.store,
            &server.state.sealer,
            &client,
            now + 9000,
        )
        .await
        .unwrap();
        // (The server's own delivery job may have got there first.)
        assert!(gave_up.dropped <= 1 && gave_up.sent == 0, "{gave_up:?}");
        let audit = admin.get("/api/v1/audit?since=0").await;
        assert!(
            audit.text.contains("desk.webhook_gave_up") && audit.text.contains("does not open"),
            "{}",
            audit.text
        );
        server.shutdown().await;
    }
}
