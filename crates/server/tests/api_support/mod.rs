//! A real control plane for API tests: `serve::start` on loopback ports with
//! SQLite in a temporary folder, and again on PostgreSQL when the test
//! database is there (`FERNHAND_TEST_PG_APP` / `FERNHAND_TEST_PG_OWNER`;
//! with `FERNHAND_REQUIRE_PG=1` its absence fails the test). A small HTTP
//! client keeps the browser session cookie and CSRF token itself.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

use fernhand_server::app::crypto;
use fernhand_server::serve::{Running, ServeOptions, start};
use fernhand_store::{Backend, Store, new_id, tenants, users};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;

/// One embedded server on loopback ports with a fresh data folder, after
/// `configure` has changed its options.
pub async fn start_with(configure: impl FnOnce(&mut ServeOptions)) -> Running {
    fernhand_pki::install_default_provider();
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let data = std::env::temp_dir().join(format!("fernhand-api-{}", new_id().unwrap()));
    let mut opts = ServeOptions::embedded(data, loopback);
    opts.relay_link_listen = loopback;
    // Tests share one PostgreSQL, and with it the broker's relay registry:
    // a region of its own keeps each server's sessions on its own relay
    // (servers of one deployment share keys; these do not).
    opts.region = format!("test-{}", new_id().unwrap());
    configure(&mut opts);
    // Servers on the shared test PostgreSQL run each other's background
    // jobs (retention, webhook delivery) on one database, as replicas of one
    // deployment do; like those replicas they share the seal key and the
    // key that signs certificates (a test wanting its own writes it first).
    let keys = opts.data.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    for (name, byte) in [("seal.key", 0x3c_u8), ("certificates.key", 0x5a_u8)] {
        let path = keys.join(name);
        if !path.exists() {
            std::fs::write(&path, [byte; 32]).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            }
        }
    }
    start(opts).await.unwrap()
}

/// The test PostgreSQL's (application, owner) URLs, if there is one; fails
/// the test when `FERNHAND_REQUIRE_PG` is set and there is none.
pub fn test_pg() -> Option<(String, String)> {
    match (
        std::env::var("FERNHAND_TEST_PG_APP"),
        std::env::var("FERNHAND_TEST_PG_OWNER"),
    ) {
        (Ok(app), Ok(owner)) => Some((app, owner)),
        _ => {
            assert!(
                std::env::var("FERNHAND_REQUIRE_PG").is_err(),
                "FERNHAND_REQUIRE_PG is set but no test PostgreSQL is configured"
            );
            None
        }
    }
}

/// Servers to run a test against: SQLite always, PostgreSQL when present.
pub async fn servers() -> Vec<Running> {
    servers_with(|_| {}).await
}

/// The same, each after `configure` has changed its options.
pub async fn servers_with(configure: impl Fn(&mut ServeOptions)) -> Vec<Running> {
    let mut out = vec![start_with(&configure).await];
    if let Some((app, owner)) = test_pg() {
        out.push(
            start_with(|o| {
                o.database = Some(app);
                o.database_owner = Some(owner);
                configure(o);
            })
            .await,
        );
    }
    out
}

pub fn backend(r: &Running) -> Backend {
    r.state.store.backend()
}

/// A tenant of its own with one user per role, passwords known.
pub struct Tenant {
    pub id: String,
    pub slug: String,
    pub admin: Account,
    pub expert: Account,
    pub auditor: Account,
    pub requester: Account,
}

#[derive(Clone)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub password: String,
}

pub const PASSWORD: &str = "correct horse battery staple";

pub async fn tenant(store: &Store) -> Tenant {
    let slug = format!("t-{}", new_id().unwrap());
    let mut p = store.platform().await.unwrap();
    let t = tenants::create(&mut p, &slug, "Test tenant").await.unwrap();
    p.commit().await.unwrap();
    let hash = crypto::hash_password(PASSWORD).unwrap();
    let mut tx = store.tenant(&t.id).await.unwrap();
    let mut make = async |role: &str| {
        let email = format!("{role}@{slug}.example");
        let u = users::create(&mut tx, &email, role, role, &hash, false)
            .await
            .unwrap();
        Account {
            id: u.id,
            email,
            password: PASSWORD.into(),
        }
    };
    let admin = make("tenant_admin").await;
    let expert = make("expert").await;
    let auditor = make("auditor").await;
    let requester = make("requester").await;
    tx.commit().await.unwrap();
    Tenant {
        id: t.id,
        slug,
        admin,
        expert,
        auditor,
        requester,
    }
}

/// An HTTP client for one caller.
pub struct Client {
    pub base: String,
    http: reqwest::Client,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub text: String,
}

impl Client {
    pub fn new(r: &Running) -> Client {
        Client {
            base: r.url.clone(),
            http: reqwest::Client::new(),
            cookie: None,
            csrf: None,
            bearer: None,
        }
    }

    pub fn with_token(r: &Running, token: &str) -> Client {
        let mut c = Client::new(r);
        c.bearer = Some(token.to_owned());
        c
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        if let Some(c) = &self.csrf {
            req = req.header("x-csrf-token", c);
        }
        if let Some(t) = &self.bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        reply(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }

    /// Raw body with a chosen content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        if let Some(c) = &self.csrf {
            req = req.header("x-csrf-token", c);
        }
        if let Some(t) = &self.bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        reply(req.send().await.unwrap()).await
    }

    /// Sign in; keeps the cookie and CSRF token on success.
    pub async fn login(&mut self, tenant: &str, email: &str, password: &str) -> Reply {
        let res = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({"tenant": tenant, "email": email, "password": password}))
            .send()
            .await
            .unwrap();
        let cookie = res
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_owned());
        let r = reply(res).await;
        if r.status == StatusCode::OK {
            let cookie = cookie.expect("a session cookie");
            assert!(
                cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
                "{cookie}"
            );
            self.cookie = Some(cookie.split(';').next().unwrap().to_owned());
            self.csrf = Some(r.body["csrf_token"].as_str().unwrap().to_owned());
        }
        r
    }
}

async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        body,
        text,
    }
}

/// Signed in as `account` of `t`.
pub async fn signed_in(r: &Running, t: &Tenant, account: &Account) -> Client {
    let mut c = Client::new(r);
    let res = c.login(&t.slug, &account.email, &account.password).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    c
}

/// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) written from the RFC, to check the
/// server's codes independently of the library it uses.
pub fn totp_now(base32_secret: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let key = base32_decode(base32_secret);
    let step = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[19] & 0x0f);
    let bin =
        u32::from_be_bytes([h[offset], h[offset + 1], h[offset + 2], h[offset + 3]]) & 0x7fff_ffff;
    format!("{:06}", bin % 1_000_000)
}

fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut n = 0u32;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c).unwrap() as u64;
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push(((bits >> n) & 0xff) as u8);
        }
    }
    out
}

impl Client {
    /// Another client holding the same browser session.
    pub fn clone_session(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: reqwest::Client::new(),
            cookie: self.cookie.clone(),
            csrf: self.csrf.clone(),
            bearer: self.bearer.clone(),
        }
    }
}

/// Whether `device` shows offline to `c` within five seconds.
pub async fn goes_offline(c: &Client, device: &str) -> bool {
    for _ in 0..100 {
        if c.get(&format!("/api/v1/devices/{device}")).await.body["online"] == false {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}
