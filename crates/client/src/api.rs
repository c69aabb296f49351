//! The control plane's HTTP API, as endpoints use it: sign-in (for the
//! scripted expert, which then holds a scoped API token), sessions, joins,
//! devices and enrolment. Errors carry the server's problem text.

use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use thiserror::Error;

/// Why an API call failed.
#[derive(Debug, Error)]
pub enum ApiError {
    /// The server could not be reached or answered garbage.
    #[error("control plane unreachable at {base}: {detail}")]
    Unreachable {
        /// Its URL.
        base: String,
        /// What went wrong.
        detail: String,
    },
    /// The server refused, with its reason.
    #[error("{detail} (HTTP {status})")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The problem's detail, or the body.
        detail: String,
    },
    /// The URL would send credentials in clear text over a network.
    #[error("{0}: use https:// (plain http only to loopback)")]
    Insecure(String),
}

/// What a grant-bearing answer gives a member: its id, the leader's, and
/// the grant for the broker.
#[derive(Clone, Debug, Deserialize)]
pub struct MemberGrant {
    /// The session id.
    pub session: String,
    /// This member's id.
    pub member: u32,
    /// The leader's id.
    #[serde(default = "leader_one")]
    pub leader: u32,
    /// The grant to present to the broker.
    pub grant: String,
    /// The tenant's policy for restricted data in chat (`warn`, `mask`,
    /// `block`), applied by this endpoint before it sends.
    #[serde(default)]
    pub restricted_policy: Option<String>,
}

fn leader_one() -> u32 {
    1
}

/// A client of one control plane, with an optional bearer credential.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    bearer: Option<String>,
    cookie: Option<(String, String)>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Whether `url` may carry credentials: https anywhere, http only to loopback.
pub fn check_base(url: &str) -> Result<(), ApiError> {
    if url.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(ApiError::Insecure(url.to_owned()));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // `http://127.0.0.1:1@evil.example/` goes to evil.example: no user info.
    if authority.contains('@') {
        return Err(ApiError::Insecure(url.to_owned()));
    }
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(ApiError::Insecure(url.to_owned()))
    }
}

impl Api {
    /// A client for the control plane at `base` (`https://…`, or
    /// `http://127.0.0.1:…` on loopback), with `tls` for https.
    pub fn new(base: &str, tls: Option<rustls::ClientConfig>) -> Result<Api, ApiError> {
        check_base(base)?;
        fernhand_pki::install_default_provider();
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(20));
        if let Some(tls) = tls {
            builder = builder.tls_backend_preconfigured(tls);
        }
        Ok(Api {
            http: builder.build().map_err(|e| ApiError::Unreachable {
                base: base.to_owned(),
                detail: e.to_string(),
            })?,
            base: base.trim_end_matches('/').to_owned(),
            bearer: None,
            cookie: None,
        })
    }

    /// The same client, authenticating with `token`.
    pub fn with_bearer(mut self, token: &str) -> Api {
        self.bearer = Some(token.to_owned());
        self
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Make a request; JSON in, JSON out (`Value::Null` for no content).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ApiError> {
        self.request(method, path, body)
            .await
            .map(|(value, _)| value)
    }

    /// A request, with the session cookie the answer set (if any).
    async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(Value, Option<String>), ApiError> {
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| ApiError::Refused {
                status: 0,
                detail: format!("bad method {method}"),
            })?;
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.bearer {
            request = request.bearer_auth(token);
        }
        if let Some((cookie, csrf)) = &self.cookie {
            request = request
                .header(reqwest::header::COOKIE, cookie)
                .header("x-csrf-token", csrf);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let unreachable = |e: reqwest::Error| ApiError::Unreachable {
            base: self.base.clone(),
            detail: e.to_string(),
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let cookie = response
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        let text = response.text().await.map_err(unreachable)?;
        let value: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if !status.is_success() {
            let detail = value
                .get("detail")
                .and_then(Value::as_str)
                .map_or_else(|| value.to_string(), str::to_owned);
            return Err(ApiError::Refused {
                status: status.as_u16(),
                detail,
            });
        }
        Ok((value, cookie))
    }

    /// Sign in with a password and return what the server said
    /// (`mfa_required`, `password_change_required`, …). The browser-style
    /// session is held by this client for the next calls.
    pub async fn sign_in(
        &mut self,
        tenant: &str,
        email: &str,
        password: &str,
    ) -> Result<Value, ApiError> {
        let (body, cookie) = self
            .request(
                "POST",
                "/api/v1/auth/login",
                Some(json!({"tenant": tenant, "email": email, "password": password})),
            )
            .await?;
        // The browser-style session lives only in this client, for the
        // sign-in exchange; it is never written anywhere.
        let csrf = body.get("csrf_token").and_then(Value::as_str);
        match (cookie, csrf) {
            (Some(cookie), Some(csrf)) => {
                self.cookie = Some((cookie.to_owned(), csrf.to_owned()));
                Ok(body)
            }
            _ => Err(ApiError::Refused {
                status: 200,
                detail: "the sign-in answer had no session".into(),
            }),
        }
    }

    /// Open an attended session as its leader.
    pub async fn new_session(&self) -> Result<(Value, MemberGrant), ApiError> {
        let answer = self
            .call("POST", "/api/v1/sessions", Some(json!({})))
            .await?;
        let grant = leader_grant(&answer)?;
        Ok((answer["session"].clone(), grant))
    }

    /// A customer finds a session by locator.
    pub async fn join(&self, locator: &str) -> Result<MemberGrant, ApiError> {
        let answer = self
            .call("POST", "/api/v1/join", Some(json!({"locator": locator})))
            .await?;
        parse(answer)
    }

    /// The caller's devices.
    pub async fn devices(&self) -> Result<Value, ApiError> {
        self.call("GET", "/api/v1/devices", None).await
    }

    /// Open a session with an online device, as its leader; returns the
    /// leader's grant and the device's member id.
    pub async fn connect_device(&self, device: &str) -> Result<(MemberGrant, u32), ApiError> {
        let answer = self
            .call(
                "POST",
                &format!("/api/v1/devices/{device}/connect"),
                Some(json!({})),
            )
            .await?;
        let device_member = answer["device_member"]
            .as_u64()
            .and_then(|m| u32::try_from(m).ok())
            .ok_or_else(|| unexpected("no device_member"))?;
        Ok((leader_grant(&answer)?, device_member))
    }

    /// End a session on the record.
    pub async fn end_session(&self, session: &str, outcome: &str) -> Result<(), ApiError> {
        self.call(
            "POST",
            &format!("/api/v1/sessions/{session}/end"),
            Some(json!({"outcome": outcome})),
        )
        .await
        .map(|_| ())
    }

    /// Enrol this machine with a token; returns the device record and its
    /// credential.
    pub async fn enrol(
        &self,
        token: &str,
        name: &str,
        os: &str,
        policy: &str,
    ) -> Result<(Value, String), ApiError> {
        let answer = self
            .call(
                "POST",
                "/api/v1/enrol",
                Some(json!({"token": token, "name": name, "os": os, "policy": policy})),
            )
            .await?;
        let credential = answer["credential"]
            .as_str()
            .filter(|c| {
                !c.is_empty()
                    && answer["device"]["id"]
                        .as_str()
                        .is_some_and(|i| !i.is_empty())
            })
            .ok_or_else(|| unexpected("no device id or credential"))?
            .to_owned();
        Ok((answer["device"].clone(), credential))
    }
}

fn unexpected(what: &str) -> ApiError {
    ApiError::Refused {
        status: 200,
        detail: format!("unexpected answer from the control plane: {what}"),
    }
}

/// The leader's grant in an answer that opened a session (member 1).
fn leader_grant(answer: &Value) -> Result<MemberGrant, ApiError> {
    let field = |v: &Value, name: &str| {
        v.as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| unexpected(&format!("no {name}")))
    };
    Ok(MemberGrant {
        session: field(&answer["session"]["id"], "session id")?,
        member: 1,
        leader: 1,
        grant: field(&answer["grant"], "grant")?,
        restricted_policy: answer["restricted_policy"].as_str().map(str::to_owned),
    })
}

fn parse(answer: Value) -> Result<MemberGrant, ApiError> {
    serde_json::from_value(answer).map_err(|e| ApiError::Refused {
        status: 200,
        detail: format!("unexpected answer: {e}"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_answer_without_its_grant_is_an_error_not_an_empty_session() {
        let good = json!({"session": {"id": "abc"}, "grant": "g"});
        assert_eq!(leader_grant(&good).unwrap().session, "abc");
        for bad in [
            json!({"grant": "g"}),
            json!({"session": {"id": "abc"}}),
            json!({"session": {"id": ""}, "grant": "g"}),
        ] {
            assert!(leader_grant(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_travel_in_clear_only_to_loopback() {
        for ok in [
            "https://support.example",
            "http://127.0.0.1:8080",
            "http://[::1]:80/x",
            "http://localhost",
        ] {
            assert!(check_base(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://support.example",
            "http://127.0.0.1:1@evil.example/",
            "http://localhost@evil.example",
            "ftp://127.0.0.1",
            "http://127.0.0.1.evil.example",
        ] {
            assert!(check_base(bad).is_err(), "{bad}");
        }
    }
}
