//! The desk's server-rendered pages and the end users' portal against a
//! real server, on SQLite and (when present) PostgreSQL: markup and script
//! typed into any text field comes back escaped on every page; pages need a
//! sign-in and show nothing of another tenant; a requester raises, follows
//! and closes their own tickets, never sees internal notes or anyone
//! else's tickets, and reaches nothing else of the desk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use reqwest::StatusCode;
use serde_json::json;

const SCRIPT: &str = "<script>window.pwned=1</script>";
const IMG: &str = "\"><img src=x onerror=alert(2)>";

/// The page at `path` as `c` sees it: status, CSP header and body.
async fn page(c: &Client, path: &str) -> (StatusCode, String, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = http.get(format!("{}{path}", c.base));
    if let Some(cookie) = &c.cookie {
        req = req.header("cookie", cookie);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let csp = r
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = r.text().await.unwrap();
    (status, csp, if body.is_empty() { location } else { body })
}

/// No raw markup of ours got through: the script and the image tag appear
/// only escaped.
fn escaped(html: &str, what: &str) {
    assert!(!html.contains(SCRIPT), "{what}: raw script tag in {html}");
    assert!(!html.contains("<img src=x"), "{what}: raw img tag");
    assert!(
        html.contains("&#60;script&#62;window.pwned=1&#60;/script&#62;"),
        "{what}: the script text is shown, escaped: {}",
        html.find("pwned")
            .map_or("", |i| &html[i.saturating_sub(40)..i + 30])
    );
}

#[tokio::test]
async fn desk_pages_escape_what_users_typed_and_show_a_sessions_record() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;

        // Signed out: the page sends to the console's sign-in and back.
        let (status, _, location) = page(&Client::new(&server), "/desk/INC-1?x=1").await;
        assert!(status.is_redirection(), "{status}");
        assert_eq!(location, "/?next=%2Fdesk%2FINC-1%3Fx%3D1");

        let ci = expert
            .post(
                "/api/v1/desk/cis",
                json!({"name": format!("pc-{SCRIPT}"), "ci_type": "device"}),
            )
            .await;
        assert_eq!(ci.status, StatusCode::CREATED, "{}", ci.text);
        let created = expert
            .post(
                "/api/v1/desk/records",
                json!({"kind": "incident", "fields": {
                    "title": format!("Printer {SCRIPT}"),
                    "description": format!("It says {IMG} and {SCRIPT}"),
                    "category": SCRIPT,
                    "impact": "high", "urgency": "high",
                    "requester": t.requester.email,
                    "ci": ci.body["name"],
                }}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.body["id"].as_str().unwrap().to_owned();
        assert_eq!(
            created.body["fields"]["requester"], t.requester.id,
            "a requester given by e-mail is the tenant's user"
        );
        assert_eq!(
            created.body["fields"]["ci"], ci.body["id"],
            "a CI given by name"
        );
        let note = expert
            .post(
                &format!("/api/v1/desk/records/{id}/notes"),
                json!({"body": format!("internal {SCRIPT}")}),
            )
            .await;
        assert_eq!(note.status, StatusCode::CREATED, "{}", note.text);

        // A session from the incident, its record attached.
        let started = expert
            .post(
                &format!("/api/v1/desk/records/{id}/remote-session"),
                json!({}),
            )
            .await;
        assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
        assert_eq!(started.body["desk_reference"], "INC-1");
        assert_eq!(started.body["notify_email"], t.requester.email.as_str());
        let session = started.body["session"]["id"].as_str().unwrap();
        let attached = expert
            .post(
                &format!("/api/v1/sessions/{session}/record"),
                json!({
                    "members": [{"name": "Expert", "role": "expert", "joined_at": 1_000},
                                {"name": format!("Member {SCRIPT}"), "role": "customer", "joined_at": 1_010}],
                    "started_at": 1_000, "ended_at": 1_295,
                    "transcript": [{"at": 1_020, "from": "Expert", "text": format!("try {SCRIPT}")}],
                    "files": [],
                }),
            )
            .await;
        assert_eq!(attached.status, StatusCode::OK, "{}", attached.text);

        let (status, csp, html) = page(&expert, "/desk/INC-1").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        escaped(&html, "record page");
        assert!(html.contains("&#34;&#62;&#60;img src=x onerror=alert(2)&#62;"));
        assert!(html.contains("Duration: 4 min 55 s"), "{html}");
        assert!(html.contains("try &#60;script&#62;"), "the transcript");
        assert!(html.contains("internal note"), "the note");
        assert!(html.contains("data-testid=\"start-remote\""));
        assert!(html.contains(">Assign</button>"), "the next move");
        assert!(html.contains("P1"), "impact and urgency high: P1");

        let (status, _, list) = page(&expert, "/desk?q=printer&kind=incident").await;
        assert_eq!(status, StatusCode::OK);
        escaped(&list, "list page");
        assert!(list.contains("href=\"/desk/INC-1\""));
        let (_, _, none) = page(&expert, "/desk?q=nothingmatches&kind=incident").await;
        assert!(none.contains("No records match."));
        let (_, _, form) = page(&expert, "/desk/new?kind=change").await;
        assert!(
            form.contains("name=\"fields.backout_plan\""),
            "the change's fields"
        );
        let (status, _, bad) = page(&expert, "/desk/new?kind=ticket").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(bad.contains("kind is one of"));

        // The configuration item's pages: escaped, with its open record.
        let ci_id = ci.body["id"].as_str().unwrap();
        let (status, _, cis) = page(&expert, "/desk/cis?type=device").await;
        assert_eq!(status, StatusCode::OK);
        escaped(&cis, "CI list");
        let (status, _, item) = page(&expert, &format!("/desk/cis/{ci_id}")).await;
        assert_eq!(status, StatusCode::OK);
        escaped(&item, "CI page");
        assert!(item.contains(r#"href="/desk/INC-1""#), "its open incident");

        // Another tenant's admin finds nothing of it.
        let other = tenant(&server.state.store).await;
        let other_admin = signed_in(&server, &other, &other.admin).await;
        for path in [
            format!("/desk/{id}"),
            "/desk/INC-1".to_owned(),
            format!("/desk/cis/{ci_id}"),
        ] {
            let (status, _, html) = page(&other_admin, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(!html.contains("Printer"));
        }
        let (_, _, theirs) = page(&other_admin, "/desk").await;
        assert!(!theirs.contains("Printer"), "B's list shows A's record");

        // The auditor reads but gets no forms; the requester gets no desk.
        let auditor = signed_in(&server, &t, &t.auditor).await;
        let (status, _, read) = page(&auditor, "/desk/INC-1").await;
        assert_eq!(status, StatusCode::OK);
        for write in ["/transition\"", "/notes\"", "/attachments\""] {
            assert!(!read.contains(write), "no {write} form for a reader");
        }
        assert!(read.contains("/watch\""), "a reader may watch");
        let requester = signed_in(&server, &t, &t.requester).await;
        let (status, _, _) = page(&requester, "/desk/INC-1").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_requester_raises_follows_and_closes_only_their_own_tickets() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let admin = signed_in(&server, &t, &t.admin).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let requester = signed_in(&server, &t, &t.requester).await;

        // Bad input writes nothing.
        for body in [
            json!({"title": "  "}),
            json!({"title": "x".repeat(201)}),
            json!({"title": "x", "urgency": "yesterday"}),
            json!({"title": "x", "priority": "p1"}),
        ] {
            let r = requester.post("/api/v1/portal/tickets", body).await;
            assert!(r.status.is_client_error(), "{}", r.text);
        }
        let mine = requester.get("/api/v1/portal/tickets").await;
        assert_eq!(mine.body["items"], json!([]));

        let raised = requester
            .post(
                "/api/v1/portal/tickets",
                json!({"title": format!("VPN {SCRIPT}"), "description": IMG, "urgency": "high"}),
            )
            .await;
        assert_eq!(raised.status, StatusCode::CREATED, "{}", raised.text);
        let id = raised.body["id"].as_str().unwrap().to_owned();
        assert_eq!(raised.body["reference"], "INC-1");

        // The desk has it, with the requester set; the requester nothing else.
        let seen = expert.get(&format!("/api/v1/desk/records/{id}")).await;
        assert_eq!(seen.body["fields"]["requester"], t.requester.id);
        for path in [
            "/api/v1/desk/records",
            "/api/v1/desk/cis",
            "/api/v1/sessions",
        ] {
            assert_eq!(
                requester.get(path).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        assert_eq!(
            requester
                .get(&format!("/api/v1/desk/records/{id}"))
                .await
                .status,
            StatusCode::FORBIDDEN
        );

        // An internal note stays inside; a reply reaches the requester.
        expert
            .post(
                &format!("/api/v1/desk/records/{id}/notes"),
                json!({"body": "internal: their manager asked"}),
            )
            .await;
        expert
            .post(
                &format!("/api/v1/desk/records/{id}/notes"),
                json!({"body": format!("Please restart {SCRIPT}"), "public": true}),
            )
            .await;
        let ticket = requester.get(&format!("/api/v1/portal/tickets/{id}")).await;
        assert_eq!(ticket.status, StatusCode::OK, "{}", ticket.text);
        let replies = ticket.body["replies"].as_array().unwrap();
        assert_eq!(replies.len(), 1, "{replies:?}");
        assert_eq!(replies[0]["from"], "the service desk");
        assert!(!ticket.text.contains("internal:"));
        let r = requester
            .post(
                &format!("/api/v1/portal/tickets/{id}/replies"),
                json!({"body": "Restarted, still broken"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

        let (status, _, html) = page(&requester, "/portal/INC-1").await;
        assert_eq!(status, StatusCode::OK);
        escaped(&html, "portal ticket");
        assert!(html.contains("Restarted, still broken"));
        assert!(
            !html.contains("their manager"),
            "internal notes stay inside"
        );
        let (_, _, list) = page(&requester, "/portal").await;
        escaped(&list, "portal list");

        // Another requester of the tenant sees none of it.
        let other = admin
            .post(
                "/api/v1/users",
                json!({"email": format!("other@{}.example", t.slug), "name": "Other", "role": "requester"}),
            )
            .await;
        assert_eq!(other.status, StatusCode::CREATED, "{}", other.text);
        let mut stranger = Client::new(&server);
        let login = stranger
            .login(
                &t.slug,
                &format!("other@{}.example", t.slug),
                other.body["one_time_password"].as_str().unwrap(),
            )
            .await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.text);
        let pw = stranger
            .post(
                "/api/v1/me/password",
                json!({"current": other.body["one_time_password"], "new": "another long passphrase"}),
            )
            .await;
        assert!(pw.status.is_success(), "{}", pw.text);
        for path in [
            format!("/api/v1/portal/tickets/{id}"),
            "/api/v1/portal/tickets/INC-1".into(),
        ] {
            assert_eq!(
                stranger.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        assert_eq!(
            stranger
                .post(
                    &format!("/api/v1/portal/tickets/{id}/replies"),
                    json!({"body": "me too"})
                )
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            stranger.get("/api/v1/portal/tickets").await.body["items"],
            json!([])
        );
        let (status, _, _) = page(&stranger, "/portal/INC-1").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The desk assigns and resolves; the requester may not skip ahead,
        // then closes it.
        let v = |r: &Reply| r.body["version"].as_i64().unwrap();
        let skip = requester
            .post(
                &format!("/api/v1/portal/tickets/{id}/transition"),
                json!({"version": v(&ticket), "to": "closed"}),
            )
            .await;
        assert!(skip.status.is_client_error(), "{}", skip.text);
        let now = expert.get(&format!("/api/v1/desk/records/{id}")).await;
        let assigned = expert
            .post(
                &format!("/api/v1/desk/records/{id}/transition"),
                json!({"version": v(&now), "to": "assigned", "fields": {"assignee": t.expert.email}}),
            )
            .await;
        assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.text);
        let resolved = expert
            .post(
                &format!("/api/v1/desk/records/{id}/transition"),
                json!({"version": v(&assigned), "to": "resolved", "fields": {"resolution": "new VPN profile"}}),
            )
            .await;
        assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
        let ticket = requester.get(&format!("/api/v1/portal/tickets/{id}")).await;
        let moves: Vec<&str> = ticket.body["moves"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["to"].as_str())
            .collect();
        assert_eq!(moves, ["closed", "assigned"], "close or reopen");
        let closed = requester
            .post(
                &format!("/api/v1/portal/tickets/{id}/transition"),
                json!({"version": v(&ticket), "to": "closed"}),
            )
            .await;
        assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
        assert_eq!(closed.body["state_category"], "closed");
        let late = requester
            .post(
                &format!("/api/v1/portal/tickets/{id}/replies"),
                json!({"body": "and"}),
            )
            .await;
        assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);
        let history = expert
            .get(&format!("/api/v1/desk/records/{id}/history"))
            .await;
        assert!(
            history
                .body
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["actor"] == t.requester.id && h["new_value"] == "closed"),
            "the close is in the history under the requester"
        );
        server.shutdown().await;
    }
}
