//! The control plane's HTTP API against a real server on loopback, on SQLite
//! and (when present) a real PostgreSQL: sign-in and lockout, CSRF, MFA,
//! API tokens, least privilege, bad input, attended sessions, and tenant
//! isolation checked over every route of the route table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use fernhand_server::app::{Access, routes};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn is_problem(r: &Reply) -> bool {
    r.content_type.starts_with("application/problem+json")
        && r.body["status"].as_u64() == Some(u64::from(r.status.as_u16()))
}

async fn security_kinds(admin: &Client) -> Vec<String> {
    let r = admin.get("/api/v1/security-events").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_and_are_security_events() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let mut c = Client::new(&server);
        for _ in 0..5 {
            let r = c.login(&t.slug, &t.expert.email, "wrong password").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            assert!(is_problem(&r), "{}", r.text);
        }
        // Now even the right password is refused while the lock lasts.
        let r = c.login(&t.slug, &t.expert.email, PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
        assert_eq!(
            r.body["type"],
            "https://fernhand.dev/problems/account_locked"
        );
        // Unknown user and unknown tenant look exactly like a wrong password.
        let unknown = c.login(&t.slug, "nobody@example.com", PASSWORD).await;
        assert_eq!(
            (unknown.status, unknown.body["detail"].clone()),
            (
                StatusCode::UNAUTHORIZED,
                json!("wrong tenant, e-mail or password")
            )
        );
        let admin = signed_in(&server, &t, &t.admin).await;
        let kinds = security_kinds(&admin).await;
        assert_eq!(
            kinds.iter().filter(|k| *k == "login_failed").count(),
            6,
            "{kinds:?}"
        );
        assert!(kinds.iter().any(|k| k == "account_locked"), "{kinds:?}");
        assert!(kinds.iter().any(|k| k == "login_while_locked"), "{kinds:?}");
        // More attempts from one address than the limit allows are refused early.
        let mut limited = false;
        for _ in 0..12 {
            let r = c.login(&t.slug, &t.auditor.email, "wrong").await;
            if r.status == StatusCode::TOO_MANY_REQUESTS
                && r.body["type"] == "https://fernhand.dev/problems/rate_limited"
            {
                limited = true;
                break;
            }
        }
        assert!(
            limited,
            "{:?}: the per-address sign-in limit never applied",
            backend(&server)
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn browser_writes_need_the_csrf_token_and_cookies_are_locked_down() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let mut c = signed_in(&server, &t, &t.expert).await;
        let csrf = c.csrf.take();
        let body = json!({"name": "ci", "scopes": ["sessions"]});
        let missing = c.post("/api/v1/tokens", body.clone()).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN, "{}", missing.text);
        c.csrf = Some("forged".into());
        let forged = c.post("/api/v1/tokens", body.clone()).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        c.csrf = csrf;
        assert_eq!(
            c.get("/api/v1/tokens").await.body,
            json!([]),
            "refused writes stored nothing"
        );
        let ok = c.post("/api/v1/tokens", body).await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
        // Reads need no CSRF token; a logged-out cookie is worthless.
        let saved = c.clone_session();
        let out = c.post("/api/v1/auth/logout", json!({})).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        assert_eq!(
            saved.get("/api/v1/me").await.status,
            StatusCode::UNAUTHORIZED
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_tenant_can_require_mfa_and_recovery_codes_work_once() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let admin = signed_in(&server, &t, &t.admin).await;
        let r = admin
            .send(
                Method::PUT,
                "/api/v1/tenant/mfa",
                Some(json!({"required": true})),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

        let mut expert = Client::new(&server);
        let r = expert.login(&t.slug, &t.expert.email, PASSWORD).await;
        assert_eq!(r.body["mfa_setup_required"], true);
        let blocked = expert.get("/api/v1/sessions").await;
        assert_eq!(blocked.status, StatusCode::FORBIDDEN);
        assert_eq!(
            blocked.body["type"],
            "https://fernhand.dev/problems/mfa_required"
        );

        let setup = expert.post("/api/v1/auth/mfa/setup", json!({})).await;
        assert_eq!(setup.status, StatusCode::OK, "{}", setup.text);
        let secret = setup.body["secret"].as_str().unwrap().to_owned();
        assert!(
            setup.body["otpauth_url"]
                .as_str()
                .unwrap()
                .starts_with("otpauth://totp/")
        );
        let wrong = expert
            .post(
                "/api/v1/auth/mfa/confirm",
                json!({"setup_token": setup.body["setup_token"], "code": "000000"}),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        let done = expert
            .post(
                "/api/v1/auth/mfa/confirm",
                json!({"setup_token": setup.body["setup_token"], "code": totp_now(&secret)}),
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
        let codes: Vec<String> =
            serde_json::from_value(done.body["recovery_codes"].clone()).unwrap();
        assert_eq!(codes.len(), 10);
        assert_eq!(expert.get("/api/v1/sessions").await.status, StatusCode::OK);

        // A new sign-in owes the second factor again; a TOTP code pays it.
        let mut again = Client::new(&server);
        assert_eq!(
            again.login(&t.slug, &t.expert.email, PASSWORD).await.body["mfa_required"],
            true
        );
        assert_eq!(
            again.get("/api/v1/sessions").await.status,
            StatusCode::FORBIDDEN
        );
        let bad = again
            .post("/api/v1/auth/mfa/verify", json!({"code": "123456x"}))
            .await;
        assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
        let ok = again
            .post(
                "/api/v1/auth/mfa/verify",
                json!({"code": totp_now(&secret)}),
            )
            .await;
        assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text);
        assert_eq!(again.get("/api/v1/sessions").await.status, StatusCode::OK);

        // A recovery code works once.
        let mut third = Client::new(&server);
        third.login(&t.slug, &t.expert.email, PASSWORD).await;
        let used = third
            .post(
                "/api/v1/auth/mfa/verify",
                json!({"recovery_code": codes[0]}),
            )
            .await;
        assert_eq!(used.status, StatusCode::NO_CONTENT, "{}", used.text);
        let mut fourth = Client::new(&server);
        fourth.login(&t.slug, &t.expert.email, PASSWORD).await;
        let reused = fourth
            .post(
                "/api/v1/auth/mfa/verify",
                json!({"recovery_code": codes[0]}),
            )
            .await;
        assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
        assert!(
            security_kinds(&admin)
                .await
                .iter()
                .any(|k| k == "mfa_failed")
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn api_tokens_are_scoped_revocable_and_unforgeable() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let other = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let r = expert
            .post(
                "/api/v1/tokens",
                json!({"name": "script", "scopes": ["sessions:read"]}),
            )
            .await;
        let token = r.body["token"].as_str().unwrap().to_owned();
        let id = r.body["record"]["id"].as_str().unwrap().to_owned();
        assert!(
            !expert.get("/api/v1/tokens").await.text.contains(&token),
            "the token is shown once only"
        );

        let script = Client::with_token(&server, &token);
        assert_eq!(script.get("/api/v1/sessions").await.status, StatusCode::OK);
        assert_eq!(
            script.post("/api/v1/sessions", json!({})).await.status,
            StatusCode::FORBIDDEN,
            "outside its scope"
        );
        assert_eq!(
            script.get("/api/v1/users").await.status,
            StatusCode::FORBIDDEN,
            "outside the role"
        );

        let change = script
            .post(
                "/api/v1/me/password",
                json!({"current": PASSWORD, "new": "a token cannot do this"}),
            )
            .await;
        assert_eq!(
            change.status,
            StatusCode::FORBIDDEN,
            "a token never changes its owner's password"
        );
        let secret = token.rsplit('_').next().unwrap();
        let moved = Client::with_token(&server, &format!("fh_{}_{secret}", other.id));
        assert_eq!(
            moved.get("/api/v1/sessions").await.status,
            StatusCode::UNAUTHORIZED,
            "another tenant's prefix"
        );
        for forged in [
            "fh_",
            "fh_x_y",
            "nonsense",
            &format!("fh_{}_{}", t.id, "A".repeat(43)),
        ] {
            let c = Client::with_token(&server, forged);
            let r = c.get("/api/v1/sessions").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{forged}");
            assert!(is_problem(&r));
        }
        let revoked = expert
            .send(Method::DELETE, &format!("/api/v1/tokens/{id}"), None)
            .await;
        assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
        assert_eq!(
            script.get("/api/v1/sessions").await.status,
            StatusCode::UNAUTHORIZED
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn roles_get_least_privilege_and_one_time_passwords_must_be_changed() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let auditor = signed_in(&server, &t, &t.auditor).await;
        assert_eq!(
            auditor.post("/api/v1/sessions", json!({})).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            auditor.get("/api/v1/users").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(auditor.get("/api/v1/audit").await.status, StatusCode::OK);
        let expert = signed_in(&server, &t, &t.expert).await;
        assert_eq!(
            expert.get("/api/v1/audit").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            expert.get("/api/v1/security-events").await.status,
            StatusCode::FORBIDDEN
        );

        let admin = signed_in(&server, &t, &t.admin).await;
        let made = admin
            .post(
                "/api/v1/users",
                json!({"email": "New@Example.com", "name": "New", "role": "expert"}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        let otp = made.body["one_time_password"].as_str().unwrap().to_owned();
        let dup = admin
            .post(
                "/api/v1/users",
                json!({"email": "new@example.com", "name": "Again", "role": "expert"}),
            )
            .await;
        assert_eq!(dup.status, StatusCode::CONFLICT);

        let mut newbie = Client::new(&server);
        let r = newbie.login(&t.slug, "new@example.com", &otp).await;
        assert_eq!(r.body["password_change_required"], true);
        let gated = newbie.get("/api/v1/sessions").await;
        assert_eq!(
            gated.body["type"],
            "https://fernhand.dev/problems/password_change_required"
        );
        let weak = newbie
            .post(
                "/api/v1/me/password",
                json!({"current": otp, "new": "short"}),
            )
            .await;
        assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
        let ok = newbie
            .post(
                "/api/v1/me/password",
                json!({"current": otp, "new": "a much longer passphrase"}),
            )
            .await;
        assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text);
        assert_eq!(newbie.get("/api/v1/sessions").await.status, StatusCode::OK);
        server.shutdown().await;
    }
}

#[tokio::test]
async fn bad_input_gets_a_problem_and_stores_nothing() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let admin = signed_in(&server, &t, &t.admin).await;
        let before = admin
            .get("/api/v1/users")
            .await
            .body
            .as_array()
            .unwrap()
            .len();
        let cases: Vec<(&str, Vec<u8>, StatusCode)> = vec![
            (
                "application/json",
                b"{\"email\": ".to_vec(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "application/json",
                b"{\"email\":\"a@b\",\"name\":\"n\",\"role\":\"expert\",\"extra\":1}".to_vec(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "application/json",
                b"{\"email\":\"a@b\",\"name\":\"n\",\"role\":\"root\"}".to_vec(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "application/json",
                b"{\"email\":\"not-an-address\",\"name\":\"n\",\"role\":\"expert\"}".to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "text/plain",
                b"{}".to_vec(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "application/json",
                vec![b' '; 70 * 1024],
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                "application/json",
                [0xff, 0xfe, 0x00].to_vec(),
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (ct, body, want) in cases {
            let r = admin.post_raw("/api/v1/users", ct, body).await;
            assert_eq!(r.status, want, "{:?}: {}", backend(&server), r.text);
            assert!(is_problem(&r), "{}", r.text);
        }
        let after = admin
            .get("/api/v1/users")
            .await
            .body
            .as_array()
            .unwrap()
            .len();
        assert_eq!(before, after, "no half-made user");
        let r = Client::new(&server)
            .post_raw(
                "/api/v1/join",
                "application/json",
                b"{\"locator\":\"\"}".to_vec(),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = Client::new(&server).get("/api/v1/no-such-route").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        server.shutdown().await;
    }
}

#[tokio::test]
async fn an_attended_session_is_created_joined_placed_on_the_relay_and_recorded() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let made = expert.post("/api/v1/sessions", json!({})).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        let session = made.body["session"]["id"].as_str().unwrap().to_owned();
        let code = made.body["session"]["code_locator"]
            .as_str()
            .unwrap()
            .to_owned();
        let link = made.body["session"]["link_locator"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(link.len(), 22);

        // The leader's grant buys a ticket for the in-process relay.
        let grant = made.body["grant"].as_str().unwrap();
        let ticket = Client::with_token(&server, grant)
            .post("/broker/v1/tickets", json!({}))
            .await;
        assert_eq!(ticket.status, StatusCode::OK, "{}", ticket.text);
        assert_eq!(ticket.body["url"].as_str(), server.relay_url.as_deref());

        // Customers find it by either locator, anonymously.
        let customer = Client::new(&server);
        let joined = customer
            .post("/api/v1/join", json!({"locator": code}))
            .await;
        assert_eq!(joined.status, StatusCode::OK, "{}", joined.text);
        assert_eq!(
            (
                joined.body["session"].as_str(),
                joined.body["member"].as_u64()
            ),
            (Some(session.as_str()), Some(2))
        );
        let second = customer
            .post("/api/v1/join", json!({"locator": link}))
            .await;
        assert_eq!(second.body["member"], 3);
        let g = joined.body["grant"].as_str().unwrap();
        let t2 = Client::with_token(&server, g)
            .post("/broker/v1/tickets", json!({}))
            .await;
        assert_eq!(t2.status, StatusCode::OK, "{}", t2.text);
        assert_eq!(
            customer
                .post("/api/v1/join", json!({"locator": "000000x"}))
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        let ended = expert
            .post(
                &format!("/api/v1/sessions/{session}/end"),
                json!({"outcome": "solved"}),
            )
            .await;
        assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.text);
        assert_eq!(
            expert
                .post(
                    &format!("/api/v1/sessions/{session}/end"),
                    json!({"outcome": "again"})
                )
                .await
                .status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            customer
                .post("/api/v1/join", json!({"locator": code}))
                .await
                .status,
            StatusCode::NOT_FOUND,
            "ended sessions cannot be joined"
        );
        let record = expert.get(&format!("/api/v1/sessions/{session}")).await;
        assert_eq!(record.body["state"], "ended");
        assert_eq!(record.body["outcome"], "solved");
        let members: serde_json::Value =
            serde_json::from_str(record.body["members"].as_str().unwrap()).unwrap();
        assert_eq!(members.as_array().unwrap().len(), 2);
        assert!(
            record.body["ended_at"].as_i64().unwrap()
                >= record.body["created_at"].as_i64().unwrap()
        );

        let admin = signed_in(&server, &t, &t.admin).await;
        let audit = admin.get("/api/v1/audit").await.text;
        for action in ["session.start", "session.join", "session.end"] {
            assert!(audit.contains(action), "{action} audited");
        }
        server.shutdown().await;
    }
}

/// Every route that names an object is tried by tenant B with tenant A's
/// object ids; every list route is read by B. Nothing of A may show. The
/// routes come from the route table, so a new route is covered the day it
/// is added.
#[tokio::test]
async fn no_route_lets_one_tenant_reach_another_tenants_objects() {
    for server in servers().await {
        let a = tenant(&server.state.store).await;
        let b = tenant(&server.state.store).await;
        let a_admin = signed_in(&server, &a, &a.admin).await;
        let session = a_admin.post("/api/v1/sessions", json!({})).await.body["session"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let token = a_admin
            .post("/api/v1/tokens", json!({"name": "a", "scopes": ["audit"]}))
            .await
            .body["record"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let group = a_admin
            .post("/api/v1/device-groups", json!({"name": "A's group"}))
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let enrol_token = a_admin
            .post("/api/v1/enrolment-tokens", json!({"group_id": group}))
            .await
            .body["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let enrolled = Client::new(&server)
            .post("/api/v1/enrol", json!({"token": enrol_token, "name": "a-host", "os": "linux", "policy": "unattended"}))
            .await;
        assert_eq!(enrolled.status, StatusCode::CREATED, "{}", enrolled.text);
        let device = enrolled.body["device"]["id"].as_str().unwrap().to_owned();
        let ci = a_admin
            .post(
                "/api/v1/desk/cis",
                json!({"name": "a-server", "ci_type": "server"}),
            )
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let incident = a_admin
            .post(
                "/api/v1/desk/records",
                json!({"kind": "incident", "fields": {"title": "A's incident", "ci": ci}}),
            )
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let attachment = a_admin
            .post_raw(
                &format!("/api/v1/desk/records/{incident}/attachments?name=a.txt"),
                "application/octet-stream",
                b"A's file".to_vec(),
            )
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let view = a_admin
            .post(
                "/api/v1/desk/views",
                json!({"name": "A's view", "query": "kind=incident"}),
            )
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let camera = a_admin.post("/api/v1/camera-shares", json!({})).await.body["session"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // A PNG signature is all a snapshot's check reads.
        let snapshot = a_admin
            .post_raw(
                &format!("/api/v1/sessions/{camera}/camera/snapshots"),
                "image/png",
                b"\x89PNG\r\n\x1a\nA's snapshot".to_vec(),
            )
            .await;
        assert_eq!(snapshot.status, StatusCode::CREATED, "{}", snapshot.text);
        let snapshot = snapshot.body["id"].as_str().unwrap().to_owned();
        let a_ids = [
            camera.clone(),
            snapshot.clone(),
            attachment.clone(),
            view.clone(),
            a.id.clone(),
            a.admin.id.clone(),
            a.expert.id.clone(),
            session.clone(),
            token.clone(),
            group.clone(),
            device.clone(),
            ci.clone(),
            incident.clone(),
        ];
        let b_admin = signed_in(&server, &b, &b.admin).await;

        let mut checked = 0;
        for (spec, _) in routes() {
            let body = (!spec.example.is_empty())
                .then(|| serde_json::from_str::<serde_json::Value>(spec.example).unwrap());
            if spec.access == Access::Operator {
                // Platform routes: no tenant credential reaches them.
                let path = spec.path.replace("{id}", &a.id);
                let r = b_admin.send(spec.method.clone(), &path, body.clone()).await;
                assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {}", r.text);
                checked += 1;
                continue;
            }
            if !matches!(spec.access, Access::Needs(_) | Access::Pending) {
                continue;
            }
            if spec.path.contains("{id}") {
                for id in &a_ids {
                    let path = spec.path.replace("{id}", id);
                    let r = b_admin.send(spec.method.clone(), &path, body.clone()).await;
                    assert_eq!(
                        r.status,
                        StatusCode::NOT_FOUND,
                        "{:?} {} {path}: {}",
                        backend(&server),
                        spec.method,
                        r.text
                    );
                    checked += 1;
                }
            } else if spec.method == Method::GET {
                let r = b_admin.get(spec.path).await;
                assert!(r.status.is_success(), "{} {}", spec.path, r.text);
                for id in &a_ids {
                    assert!(
                        !r.text.contains(id.as_str()),
                        "{} shows tenant A's {id}",
                        spec.path
                    );
                }
                checked += 1;
            }
        }
        assert!(
            checked >= 50,
            "the route table was walked ({checked} checks)"
        );
        assert_eq!(
            a_admin.get(&format!("/api/v1/devices/{device}")).await.body["name"],
            "a-host"
        );
        // A's objects are all still there and intact.
        let kept = a_admin
            .get(&format!("/api/v1/desk/records/{incident}"))
            .await;
        assert_eq!(
            (kept.body["version"].as_i64(), kept.body["state"].as_str()),
            (Some(1), Some("new"))
        );
        assert_eq!(
            a_admin
                .get(&format!("/api/v1/sessions/{session}"))
                .await
                .body["state"],
            "open"
        );
        assert_eq!(
            a_admin.get("/api/v1/tokens").await.body[0]["revoked_at"],
            serde_json::Value::Null
        );
        server.shutdown().await;
    }
}

/// An agent's control connection, as `fernhand agent run` will hold it.
async fn control(server: &fernhand_server::serve::Running, credential: &str) -> Result<Agent, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!(
        "{}/api/v1/agent/control",
        server.url.replacen("http", "ws", 1)
    );
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {credential}").parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(Agent(ws)),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

struct Agent(
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
);

impl Agent {
    async fn send(&mut self, v: serde_json::Value) {
        use futures_util::SinkExt;
        self.0
            .send(tokio_tungstenite::tungstenite::Message::Text(
                v.to_string().into(),
            ))
            .await
            .unwrap();
    }

    async fn next(&mut self) -> serde_json::Value {
        use futures_util::StreamExt;
        let m = tokio::time::timeout(std::time::Duration::from_secs(10), self.0.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        serde_json::from_str(m.to_text().unwrap()).unwrap()
    }
}

#[tokio::test]
async fn devices_enrol_once_stay_online_and_hear_an_experts_connect_request() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let admin = signed_in(&server, &t, &t.admin).await;
        let expert = signed_in(&server, &t, &t.expert).await;
        let group = admin
            .post("/api/v1/device-groups", json!({"name": "Shop floor"}))
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let token = admin
            .post(
                "/api/v1/enrolment-tokens",
                json!({"group_id": group, "ttl_seconds": 600}),
            )
            .await;
        assert_eq!(token.status, StatusCode::CREATED, "{}", token.text);
        let token = token.body["token"].as_str().unwrap().to_owned();
        let anon = Client::new(&server);
        let enrol =
            json!({"token": token, "name": "till-3", "os": "Debian 12", "policy": "unattended"});
        let first = anon.post("/api/v1/enrol", enrol.clone()).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        let again = anon.post("/api/v1/enrol", enrol).await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED, "single use");
        // The machine is now a configuration item of the desk, linked to it.
        let cis = admin.get("/api/v1/desk/cis?ci_type=device").await.body;
        assert_eq!(cis[0]["name"], "till-3");
        assert_eq!(cis[0]["attributes"]["os"], "Debian 12");
        assert_eq!(cis[0]["device_id"], first.body["device"]["id"]);
        let forged = anon
            .post("/api/v1/enrol", json!({"token": format!("fhe_{}_{}", t.id, "B".repeat(43)), "name": "x", "os": "y"}))
            .await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
        // An expired token is refused too.
        let old = fernhand_store::new_id().unwrap();
        {
            let mut tx = server.state.store.tenant(&t.id).await.unwrap();
            fernhand_store::devices::create_enrolment_token(
                &mut tx,
                &fernhand_server::app::crypto::token_hash(&old),
                None,
                &t.admin.id,
                1,
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
        let expired = anon
            .post(
                "/api/v1/enrol",
                json!({"token": format!("fhe_{}_{old}", t.id), "name": "x", "os": "y"}),
            )
            .await;
        assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
        assert!(
            security_kinds(&admin)
                .await
                .iter()
                .filter(|k| *k == "enrolment_refused")
                .count()
                >= 3
        );

        let device = first.body["device"]["id"].as_str().unwrap().to_owned();
        let credential = first.body["credential"].as_str().unwrap().to_owned();
        assert_eq!(
            control(&server, &format!("fhd_{}_{}", t.id, "C".repeat(43)))
                .await
                .err(),
            Some(401)
        );
        let mut agent = control(&server, &credential).await.unwrap();
        assert_eq!(agent.next().await["type"], "hello");
        // Its inventory refreshes its configuration item; a second one
        // within the minute is ignored.
        for host in ["till-3.shop", "ignored.shop"] {
            agent
                .send(json!({"type": "inventory", "report": {
                    "os": {"name": "Debian GNU/Linux", "version": "13", "hostname": host},
                    "hardware": {"cpu": "AMD EPYC", "memory_total_bytes": 8_589_934_592_u64},
                }}))
                .await;
        }
        let mut refreshed = serde_json::Value::Null;
        for _ in 0..100 {
            refreshed =
                admin.get("/api/v1/desk/cis?ci_type=device").await.body[0]["attributes"].clone();
            if refreshed["hostname"] == "till-3.shop" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(refreshed["os"], "Debian GNU/Linux 13", "{refreshed}");
        assert_eq!(refreshed["hostname"], "till-3.shop");
        assert_eq!(refreshed["cpu"], "AMD EPYC");
        assert_eq!(refreshed["memory_bytes"], 8_589_934_592_u64);

        // The expert is not in the group yet: the device does not exist for them.
        assert_eq!(expert.get("/api/v1/devices").await.body, json!([]));
        assert_eq!(
            expert
                .post(&format!("/api/v1/devices/{device}/connect"), json!({}))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let grant = admin
            .send(
                Method::PUT,
                &format!("/api/v1/device-groups/{group}/experts"),
                Some(json!({"experts": [t.expert.id]})),
            )
            .await;
        assert_eq!(grant.status, StatusCode::NO_CONTENT, "{}", grant.text);
        let seen = expert.get("/api/v1/devices").await;
        assert_eq!(
            (
                seen.body[0]["id"].as_str(),
                seen.body[0]["online"].as_bool()
            ),
            (Some(device.as_str()), Some(true))
        );

        let asked = expert
            .post(&format!("/api/v1/devices/{device}/connect"), json!({}))
            .await;
        assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.text);
        let notice = agent.next().await;
        assert_eq!(notice["type"], "connect");
        assert_eq!(notice["session"], asked.body["session"]["id"]);
        assert_eq!(notice["expert"]["id"], t.expert.id.as_str());
        let ticket = Client::with_token(&server, notice["grant"].as_str().unwrap())
            .post("/broker/v1/tickets", json!({}))
            .await;
        assert_eq!(
            ticket.status,
            StatusCode::OK,
            "the device's grant buys a ticket: {}",
            ticket.text
        );
        let audit = admin.get("/api/v1/audit").await.text;
        assert!(
            audit.contains("device.access")
                && audit.contains("permission.grant")
                && audit.contains("device.enrol")
        );

        // Offline devices cannot be asked; removed devices cannot come back.
        drop(agent);
        assert!(goes_offline(&expert, &device).await);
        assert_eq!(
            expert
                .post(&format!("/api/v1/devices/{device}/connect"), json!({}))
                .await
                .status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            admin
                .send(Method::DELETE, &format!("/api/v1/devices/{device}"), None)
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(control(&server, &credential).await.err(), Some(401));
        // Its configuration item stays, no longer linked to a device.
        let cis = admin.get("/api/v1/desk/cis?ci_type=device").await.body;
        assert_eq!(
            (cis[0]["name"].as_str(), &cis[0]["device_id"]),
            (Some("till-3"), &serde_json::Value::Null)
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn metrics_count_requests_and_security_events_for_loopback_callers() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let mut c = Client::new(&server);
        assert_eq!(
            c.login(&t.slug, &t.expert.email, "wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
        signed_in(&server, &t, &t.expert).await;
        let m = c.get("/metrics").await;
        assert_eq!(m.status, StatusCode::OK);
        assert!(
            m.text.contains(r#"fernhand_server_http_requests_total{route="/api/v1/auth/login",method="POST",status="4xx"} 1"#),
            "{}",
            m.text
        );
        assert!(
            m.text
                .contains(r#"route="/api/v1/auth/login",method="POST",status="2xx"} 1"#)
        );
        assert!(
            m.text
                .contains(r#"fernhand_server_security_events_total{kind="login_failed"} 1"#)
        );
        // At least the in-process relay (on a shared PostgreSQL, other
        // tests' relays count too: the registry is deployment-wide).
        let healthy: u64 = m
            .text
            .lines()
            .find_map(|l| l.strip_prefix("fernhand_server_relays_healthy "))
            .unwrap()
            .parse()
            .unwrap();
        assert!(healthy >= 1, "the in-process relay is placed on");
        assert!(
            !m.text.contains(&t.id) && !m.text.contains(&t.expert.email),
            "no tenant or user in metrics"
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn security_events_reach_the_webhook_signed_and_retried() {
    use axum::http::HeaderMap;
    use std::sync::{Arc, Mutex};
    // A receiver that refuses the first two deliveries with 503.
    let got: Arc<Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
    let refusals = Arc::new(std::sync::atomic::AtomicU32::new(2));
    let (seen, left) = (got.clone(), refusals.clone());
    let app = axum::Router::new().route(
        "/hook",
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
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let secret = b"a webhook secret of some length".to_vec();
    let server =
        start_with(|o| o.webhook = Some((hook, zeroize::Zeroizing::new(secret.clone())))).await;
    let t = tenant(&server.state.store).await;
    let mut c = Client::new(&server);
    c.login(&t.slug, &t.expert.email, "wrong").await;

    let mut delivered = None;
    for _ in 0..100 {
        if let Some(d) = got.lock().unwrap().first().cloned() {
            delivered = Some(d);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (headers, body) = delivered.expect("the event arrived after the refusals");
    assert_eq!(
        refusals.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "it was retried"
    );
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["kind"], "login_failed");
    assert_eq!(event["tenant"], t.id.as_str());
    assert!(!body.contains("wrong"), "no password in the event");
    let timestamp: u64 = headers["x-fernhand-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // Check the signature independently: HMAC-SHA-256 over "<timestamp>.<body>".
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(headers["x-fernhand-signature"].to_str().unwrap(), want);
    server.shutdown().await;
}

#[tokio::test]
async fn parallel_wrong_passwords_are_all_counted() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let attempts = (0..6).map(|_| {
            let mut c = Client::new(&server);
            let (slug, email) = (t.slug.clone(), t.auditor.email.clone());
            async move { c.login(&slug, &email, "wrong").await.status }
        });
        let statuses = futures_util::future::join_all(attempts).await;
        assert!(
            statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
            "{statuses:?}"
        );
        let r = Client::new(&server)
            .login(&t.slug, &t.auditor.email, PASSWORD)
            .await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{:?}: every failure counted",
            backend(&server)
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_given_certificate_serves_the_api_over_tls_with_hsts_and_secure_cookies() {
    fernhand_pki::install_default_provider();
    let ca = fernhand_pki::Ca::create("Test CA").unwrap();
    let cert = ca
        .issue("api", &["127.0.0.1".into()], fernhand_pki::Usage::Server)
        .unwrap();
    let tls = (
        cert.chain_pem.clone(),
        zeroize::Zeroizing::new(cert.key_pem.clone()),
    );
    let server = start_with(|o| o.tls = Some(tls)).await;
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let t = tenant(&server.state.store).await;
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    let health = http
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(
        health.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    let login = http
        .post(format!("{}/api/v1/auth/login", server.url))
        .json(&json!({"tenant": t.slug, "email": t.expert.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    assert!(
        login.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
    // Plain HTTP to the TLS port gets nothing useful.
    let plain = reqwest::Client::new()
        .get(server.url.replacen("https", "http", 1) + "/healthz")
        .send()
        .await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
    server.shutdown().await;
}

#[tokio::test]
async fn on_postgresql_a_replica_reaches_an_agent_held_by_another() {
    let Some((app, owner)) = test_pg() else {
        return;
    };
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let (app, owner) = (app.clone(), owner.clone());
        replicas.push(
            start_with(|o| {
                o.database = Some(app);
                o.database_owner = Some(owner);
            })
            .await,
        );
    }
    let (a, b) = (&replicas[0], &replicas[1]);
    let t = tenant(&a.state.store).await;
    let admin_a = signed_in(a, &t, &t.admin).await;
    let token = admin_a
        .post("/api/v1/enrolment-tokens", json!({}))
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let enrolled = Client::new(a)
        .post(
            "/api/v1/enrol",
            json!({"token": token, "name": "kiosk", "os": "linux", "policy": "unattended"}),
        )
        .await;
    let device = enrolled.body["device"]["id"].as_str().unwrap().to_owned();
    let mut agent = control(a, enrolled.body["credential"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(agent.next().await["type"], "hello");

    // Replica B sees it online and can ask it to connect.
    let admin_b = signed_in(b, &t, &t.admin).await;
    assert_eq!(
        admin_b.get(&format!("/api/v1/devices/{device}")).await.body["online"],
        true
    );
    let asked = admin_b
        .post(&format!("/api/v1/devices/{device}/connect"), json!({}))
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.text);
    let notice = agent.next().await;
    assert_eq!(notice["type"], "connect");
    assert_eq!(notice["session"], asked.body["session"]["id"]);

    // Once the agent leaves replica A, replica B sees it offline.
    drop(agent);
    assert!(goes_offline(&admin_b, &device).await);
    assert_eq!(
        admin_b
            .post(&format!("/api/v1/devices/{device}/connect"), json!({}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    for r in replicas {
        r.shutdown().await;
    }
}

#[tokio::test]
async fn the_platform_operator_manages_tenants_and_reaches_no_tenant_content() {
    for server in servers().await {
        let store = &server.state.store;
        let t = tenant(store).await;
        let secret = fernhand_server::admin::operator_token(store, "ops on call")
            .await
            .unwrap();
        let operator = Client::with_token(&server, &secret);

        // Tenants and their subscriptions.
        let listed = operator.get("/api/v1/platform/tenants").await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
        assert!(
            listed
                .body
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["slug"] == t.slug.as_str())
        );
        let slug = format!("op-{}", &fernhand_store::new_id().unwrap()[..8]).to_lowercase();
        let made = operator
            .post(
                "/api/v1/platform/tenants",
                json!({"slug": slug, "name": "Made by the operator", "admin_email": "First@Example.com"}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        let again = operator
            .post(
                "/api/v1/platform/tenants",
                json!({"slug": slug, "name": "Again", "admin_email": "x@example.com"}),
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
        let mut first = Client::new(&server);
        let signed = first
            .login(
                &slug,
                "first@example.com",
                made.body["admin"]["one_time_password"].as_str().unwrap(),
            )
            .await;
        assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);

        let path = format!("/api/v1/platform/tenants/{}/subscription", t.id);
        let set = operator
            .send(Method::PUT, &path, Some(json!({"ends_at": 1_893_456_000})))
            .await;
        assert_eq!(set.status, StatusCode::NO_CONTENT, "{}", set.text);
        let one = operator
            .get(&format!("/api/v1/platform/tenants/{}", t.id))
            .await;
        assert_eq!(one.body["subscription_ends_at"], 1_893_456_000);
        let missing = operator
            .send(
                Method::PUT,
                "/api/v1/platform/tenants/nope/subscription",
                Some(json!({"ends_at": null})),
            )
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let admin = signed_in(&server, &t, &t.admin).await;
        let audit = admin.get("/api/v1/audit").await.text;
        assert!(
            audit.contains("subscription.set") && audit.contains("operator:ops on call"),
            "{audit}"
        );

        // The operator reaches no tenant route; tenant credentials reach no
        // platform route.
        for path in [
            "/api/v1/users",
            "/api/v1/sessions",
            "/api/v1/audit",
            "/api/v1/devices",
        ] {
            assert_eq!(
                operator.get(path).await.status,
                StatusCode::UNAUTHORIZED,
                "{path}"
            );
        }
        let token = admin
            .post(
                "/api/v1/tokens",
                json!({"name": "all", "scopes": ["users", "tenant"]}),
            )
            .await
            .body["token"]
            .as_str()
            .unwrap()
            .to_owned();
        for caller in [&admin, &Client::with_token(&server, &token)] {
            assert_eq!(
                caller.get("/api/v1/platform/tenants").await.status,
                StatusCode::UNAUTHORIZED
            );
        }

        // Revoked, the token is refused, and a wrong one is a security event.
        let id = fernhand_server::admin::operator_tokens(store)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.name == "ops on call" && o.revoked_at.is_none())
            .unwrap()
            .id;
        fernhand_server::admin::revoke_operator_token(store, &id)
            .await
            .unwrap();
        assert_eq!(
            operator.get("/api/v1/platform/tenants").await.status,
            StatusCode::UNAUTHORIZED
        );
        let mut p = store.platform().await.unwrap();
        assert!(
            fernhand_store::security::count(&mut p, "bad_operator_token", 0)
                .await
                .unwrap()
                >= 1
        );
        drop(p);
        server.shutdown().await;
    }
}

#[tokio::test]
async fn refused_grants_and_relay_tickets_are_security_events() {
    use futures_util::SinkExt;
    for server in servers().await {
        let since = fernhand_store::now();
        let count = |kind: &'static str| {
            let store = server.state.store.clone();
            async move {
                let mut p = store.platform().await.unwrap();
                fernhand_store::security::count(&mut p, kind, since)
                    .await
                    .unwrap()
            }
        };
        let stranger = Client::with_token(&server, "not-a-grant");
        // A malformed body is a clear problem, before the grant is looked at.
        let malformed = stranger
            .post_raw("/broker/v1/tickets", "application/json", b"{nope".to_vec())
            .await;
        assert_eq!(
            malformed.status,
            StatusCode::BAD_REQUEST,
            "{}",
            malformed.text
        );
        assert_eq!(malformed.content_type, "application/problem+json");
        let before = count("bad_grant").await;
        let refused = stranger.post("/broker/v1/tickets", json!({})).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(refused.content_type, "application/problem+json");
        assert!(count("bad_grant").await > before);

        // A forged admission at the relay reaches the control plane's
        // security log over the relay's link.
        let relay = server.relay_url.clone().unwrap();
        let (mut ws, _) = tokio_tungstenite::connect_async(relay.as_str())
            .await
            .unwrap();
        ws.send(tokio_tungstenite::tungstenite::Message::Binary(
            b"forged admission".to_vec().into(),
        ))
        .await
        .unwrap();
        let mut forwarded = false;
        for _ in 0..100 {
            if count("relay_refused").await > 0 {
                forwarded = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(forwarded, "the relay's refusal was not forwarded");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn on_postgresql_any_replica_answers_any_member() {
    let Some((app, owner)) = test_pg() else {
        return;
    };
    // Two replicas of one deployment: one database, the same keys and
    // region, each with its own in-process relay.
    let base = std::env::temp_dir().join(format!(
        "fernhand-replicas-{}",
        fernhand_store::new_id().unwrap()
    ));
    let (dir_a, dir_b) = (base.join("a"), base.join("b"));
    let region = format!("test-{}", fernhand_store::new_id().unwrap());
    let replica = |data: std::path::PathBuf| {
        let (app, owner, region) = (app.clone(), owner.clone(), region.clone());
        start_with(move |o| {
            o.data = data;
            o.database = Some(app);
            o.database_owner = Some(owner);
            o.region = region;
        })
    };
    let a = replica(dir_a.clone()).await;
    std::fs::create_dir_all(dir_b.join("keys")).unwrap();
    for key in ["seal.key", "tickets.key"] {
        std::fs::copy(dir_a.join("keys").join(key), dir_b.join("keys").join(key)).unwrap();
    }
    let b = replica(dir_b).await;
    let t = tenant(&a.state.store).await;

    // The expert starts a session on A; the customer joins through B.
    let expert = signed_in(&a, &t, &t.expert).await;
    let made = expert.post("/api/v1/sessions", json!({})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let code = made.body["session"]["code_locator"].as_str().unwrap();
    let joined = Client::new(&b)
        .post("/api/v1/join", json!({"locator": code}))
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.text);

    // Each grant buys tickets from either replica, for the same relay.
    let leader = made.body["grant"].as_str().unwrap();
    let customer = joined.body["grant"].as_str().unwrap();
    let mut relays = Vec::new();
    for (grant, from) in [(leader, &b), (customer, &a), (customer, &b)] {
        let got = Client::with_token(from, grant)
            .post("/broker/v1/tickets", json!({}))
            .await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.text);
        let relay: fernhand_protocol::RelayId =
            got.body["relay"].as_str().unwrap().parse().unwrap();
        let bytes = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            got.body["ticket"].as_str().unwrap(),
        )
        .unwrap();
        // Signed with the deployment's key, so whichever relay it names
        // admits it.
        let now = fernhand_store::now().unsigned_abs();
        for key in [a.state.broker.ticket_key(), b.state.broker.ticket_key()] {
            fernhand_protocol::ticket::Ticket::verify(&bytes, &key, relay, now).unwrap();
        }
        relays.push(relay);
    }
    assert!(relays.windows(2).all(|w| w[0] == w[1]), "{relays:?}");
    assert_eq!(
        a.state
            .broker
            .relays()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.healthy && r.region == region)
            .count(),
        2
    );

    // Ending the session on B revokes A's grants.
    let session = made.body["session"]["id"].as_str().unwrap();
    let expert_b = signed_in(&b, &t, &t.expert).await;
    let ended = expert_b
        .post(
            &format!("/api/v1/sessions/{session}/end"),
            json!({"outcome": "solved"}),
        )
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.text);
    let refused = Client::with_token(&a, leader)
        .post("/broker/v1/tickets", json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn housekeeping_deletes_expired_browser_sessions_only() {
    for server in servers().await {
        let t = tenant(&server.state.store).await;
        let live = signed_in(&server, &t, &t.expert).await;
        let expired = fernhand_store::new_id().unwrap();
        {
            let mut tx = server.state.store.tenant(&t.id).await.unwrap();
            fernhand_store::sessions::create(
                &mut tx,
                &fernhand_store::sessions::AuthSession {
                    id: expired.clone(),
                    user_id: t.expert.id.clone(),
                    csrf_hash: String::new(),
                    mfa_done: true,
                    expires_at: 1,
                },
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
        fernhand_server::serve::housekeeping::sweep(&server.state)
            .await
            .unwrap();
        // Gone (by this sweep, or another test server's on the shared
        // PostgreSQL, as another replica's would).
        let mut tx = server.state.store.tenant(&t.id).await.unwrap();
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM auth_sessions WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&t.id)
        .bind(&expired)
        .fetch_one(tx.conn())
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(left, 0, "{:?}", backend(&server));
        assert_eq!(
            live.get("/api/v1/me").await.status,
            StatusCode::OK,
            "the live session stays"
        );
        server.shutdown().await;
    }
}
